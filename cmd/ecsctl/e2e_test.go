package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/fault"
)

// ctl runs ecsctl against env's ecsd as env's tenant.
type ctl struct {
	t   *testing.T
	env *ecsdtest.Env
}

type result struct {
	code           int
	stdout, stderr string
}

func (c ctl) run(args ...string) result {
	c.t.Helper()
	full := append([]string{"--endpoint", c.env.URL, "--ak", c.env.Tenant.AccessKey, "--sk", c.env.Tenant.SecretKey,
		"--project-id", c.env.Tenant.ProjectID, "--poll", "10ms", "--timeout", "1m"}, args...)
	var out, errb bytes.Buffer
	code := run(c.t.Context(), full, &out, &errb, func(string) string { return "" })
	return result{code, out.String(), errb.String()}
}

// must runs ecsctl and fails the test unless it exits 0.
func (c ctl) must(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != exitOK {
		c.t.Fatalf("ecsctl %q exited %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

var serverLine = regexp.MustCompile(`(?m)^server (\S+)$`)

// create creates one server with --wait and returns its ID.
func (c ctl) create(name, flavor string) string {
	c.t.Helper()
	r := c.must("servers", "create", "--name", name, "--flavor", flavor, "--wait")
	if !strings.Contains(r.stdout, " SUCCESS ") {
		c.t.Fatalf("create --wait: no SUCCESS in\n%s", r.stdout)
	}
	m := serverLine.FindStringSubmatch(r.stdout)
	if m == nil {
		c.t.Fatalf("create --wait: no server ID in\n%s", r.stdout)
	}
	return m[1]
}

func (c ctl) server(id string) *model.ServerDetail {
	c.t.Helper()
	resp, err := c.env.ECS.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil {
		c.t.Fatalf("ShowServer %s: %v", id, err)
	}
	return resp.Server
}

func TestCommands(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t)
	c := ctl{t, env}
	var id string

	t.Run("create --wait", func(t *testing.T) {
		c.t = t
		id = c.create("web", "s6.large.2")
		if s := c.server(id); s.Status != "ACTIVE" || s.Flavor.Id != "s6.large.2" {
			t.Fatalf("after create: %s %s", s.Status, s.Flavor.Id)
		}
	})
	t.Run("servers list as a table", func(t *testing.T) {
		c.t = t
		r := c.must("servers", "list")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME STATUS TASK FLAVOR AZ BILLING" {
			t.Fatalf("table:\n%s", r.stdout)
		}
		f := strings.Fields(lines[1])
		if f[0] != id || f[1] != "web" || f[2] != "ACTIVE" || f[3] != "-" || f[4] != "s6.large.2" || f[6] != "postPaid" {
			t.Fatalf("row %q", lines[1])
		}
	})
	t.Run("servers list -o json", func(t *testing.T) {
		c.t = t
		r := c.must("servers", "list", "-o", "json")
		var got []model.ServerDetail
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		if len(got) != 1 || got[0].Id != id || got[0].Flavor.Id != "s6.large.2" {
			t.Fatalf("servers %+v", got)
		}
	})
	t.Run("servers show", func(t *testing.T) {
		c.t = t
		r := c.must("servers", "show", id)
		if !regexp.MustCompile(`(?m)^status:\s+ACTIVE$`).MatchString(r.stdout) || !strings.Contains(r.stdout, id) {
			t.Fatalf("show:\n%s", r.stdout)
		}
	})
	t.Run("show an unknown server is refused", func(t *testing.T) {
		c.t = t
		r := c.run("servers", "show", "00000000-0000-4000-8000-000000000000")
		if r.code != exitRefused || !strings.Contains(r.stderr, "Ecs.") {
			t.Fatalf("exit %d, stderr %q; want 1 and a Huawei code", r.code, r.stderr)
		}
	})
	t.Run("resize a running server without --with-stop is refused", func(t *testing.T) {
		c.t = t
		r := c.run("resize", id, "c7.xlarge.2")
		if r.code != exitRefused || !strings.Contains(r.stderr, "Ecs.0100") {
			t.Fatalf("exit %d, stderr %q; want 1 and Ecs.0100", r.code, r.stderr)
		}
	})
	t.Run("stop --wait", func(t *testing.T) {
		c.t = t
		r := c.must("stop", id, "--wait")
		if !strings.Contains(r.stdout, " SUCCESS ") {
			t.Fatalf("stop:\n%s", r.stdout)
		}
		if s := c.server(id); s.Status != "SHUTOFF" {
			t.Fatalf("after stop: %s", s.Status)
		}
	})
	t.Run("flavors list --resizable-to", func(t *testing.T) {
		c.t = t
		r := c.must("flavors", "list", "--resizable-to", id, "-o", "json")
		var got []model.ListResizeFlavorsResult
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		found := false
		for _, f := range got {
			found = found || f.Id == "c7.xlarge.2"
		}
		if !found {
			t.Fatalf("c7.xlarge.2 not among %d resize flavors", len(got))
		}
		tbl := c.must("flavors", "list", "--resizable-to", id)
		if !strings.HasPrefix(tbl.stdout, "ID ") || !strings.Contains(tbl.stdout, "c7.xlarge.2") {
			t.Fatalf("table:\n%s", tbl.stdout)
		}
	})
	t.Run("flavors list --az", func(t *testing.T) {
		c.t = t
		r := c.must("flavors", "list", "--az", "cn-north-4a")
		if !strings.Contains(r.stdout, "s6.large.2") {
			t.Fatalf("flavors:\n%s", r.stdout)
		}
	})
	t.Run("resize --dry-run changes nothing", func(t *testing.T) {
		c.t = t
		r := c.must("resize", id, "c7.xlarge.2", "--dry-run")
		if !strings.Contains(r.stdout, "dry run") {
			t.Fatalf("dry run:\n%s", r.stdout)
		}
		if s := c.server(id); s.Flavor.Id != "s6.large.2" || s.OSEXTSTStaskState != "" {
			t.Fatalf("after dry run: %s task %q", s.Flavor.Id, s.OSEXTSTStaskState)
		}
	})
	var jobID string
	t.Run("resize --wait", func(t *testing.T) {
		c.t = t
		r := c.must("resize", id, "c7.xlarge.2", "--wait", "-o", "json")
		var job model.ShowJobResponse
		if err := json.Unmarshal([]byte(r.stdout), &job); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		if job.Status.Value() != "SUCCESS" {
			t.Fatalf("job %+v", job)
		}
		jobID = *job.JobId
		if s := c.server(id); s.Flavor.Id != "c7.xlarge.2" {
			t.Fatalf("after resize: %s", s.Flavor.Id)
		}
	})
	t.Run("jobs show", func(t *testing.T) {
		c.t = t
		r := c.must("jobs", "show", jobID)
		if !regexp.MustCompile(`(?m)^status:\s+SUCCESS$`).MatchString(r.stdout) || !strings.Contains(r.stdout, id) {
			t.Fatalf("jobs show:\n%s", r.stdout)
		}
		r = c.must("jobs", "show", jobID, "--wait", "-o", "json")
		var job model.ShowJobResponse
		if err := json.Unmarshal([]byte(r.stdout), &job); err != nil || *job.JobId != jobID {
			t.Fatalf("jobs show -o json: %v\n%s", err, r.stdout)
		}
	})
	t.Run("a failing job exits 3", func(t *testing.T) {
		c.t = t
		if _, err := env.Control.AddFault(fault.Rule{
			Match:  fault.Match{Phase: "resize_migrating", ServerID: id},
			Count:  1,
			Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: "Ecs.0319", FailReason: "Insufficient resources on the target host."},
		}); err != nil {
			t.Fatal(err)
		}
		r := c.run("resize", id, "s6.xlarge.2", "--wait")
		if r.code != exitJobFailed || !strings.Contains(r.stderr, "Ecs.0319") ||
			!strings.Contains(r.stderr, "Insufficient resources on the target host.") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant 3 with Ecs.0319 and the reason", r.code, r.stdout, r.stderr)
		}
		if s := c.server(id); s.Flavor.Id != "c7.xlarge.2" {
			t.Fatalf("after the failed resize: %s", s.Flavor.Id)
		}
	})
	t.Run("start, reboot --hard", func(t *testing.T) {
		c.t = t
		c.must("start", id, "--wait")
		c.must("reboot", id, "--hard", "--wait")
		if s := c.server(id); s.Status != "ACTIVE" {
			t.Fatalf("after start and reboot: %s", s.Status)
		}
	})
	t.Run("delete --wait", func(t *testing.T) {
		c.t = t
		c.must("servers", "delete", id, "--wait")
		r := c.must("servers", "list", "-o", "json")
		if strings.TrimSpace(r.stdout) != "[]" {
			t.Fatalf("after delete: %s", r.stdout)
		}
	})
}

// Without a terminal, --wait prints one line each time the phase changes.
func TestWaitPrintsPhaseLines(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t, ecsdtest.WithTiming("realistic"))
	if err := env.Control.SetSpeed(100); err != nil {
		t.Fatal(err)
	}
	c := ctl{t, env}
	id := c.create("web", "s6.large.2")
	r := c.must("resize", id, "c7.xlarge.2", "--with-stop", "--wait")
	line := regexp.MustCompile(`^\d\d:\d\d:\d\d (INIT|RUNNING)( \S+)?$`)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	seen := map[string]bool{}
	for _, l := range lines[:len(lines)-1] {
		if !line.MatchString(l) {
			t.Fatalf("line %q is not a phase line\n%s", l, r.stdout)
		}
		phase := l[9:]
		if seen[phase] {
			t.Fatalf("phase %q printed twice\n%s", phase, r.stdout)
		}
		seen[phase] = true
	}
	if !strings.Contains(r.stdout, "RUNNING resize_") || strings.Contains(r.stdout, "\r") {
		t.Fatalf("want plain lines with a resize task state:\n%s", r.stdout)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, " SUCCESS ") {
		t.Fatalf("last line %q, want the job's end", last)
	}
}

// With nothing listening, ecsctl exits 4.
func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"--endpoint", "http://127.0.0.1:1", "--timeout", "5s", "servers", "list"}, &out, &errb,
		func(string) string { return "" })
	if code != exitConnection {
		t.Fatalf("exit %d, stderr %q; want 4", code, errb.String())
	}
}
