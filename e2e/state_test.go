package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/internal/poll"
	"github.com/ecsd-dev/ecsd/node"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
)

// The state tests drive run-time tenants, reset, seed and snapshots
// through the control API over HTTP, and the servers through the SDK. Their
// nodes run on the persistent virtual clock (not the gate), so that the
// control API can speed it up and pause it.

// startStateNode starts an ephemeral ecsd on its virtual clock with the
// development tenant; edit may change its configuration.
func startStateNode(t *testing.T, timing string, edit func(cfg *node.Config)) *bundle {
	t.Helper()
	cfg := node.Config{
		Listen: "127.0.0.1:0", Region: region, Driver: "sim", Timing: timing,
		Tenants:   []node.TenantQuota{{Tenant: ecs.DevTenant, Quota: ecs.DefaultQuota}},
		DevTenant: true, Version: "e2e",
	}
	if edit != nil {
		edit(&cfg)
	}
	ecsdtest.UseDatabase(t, &cfg)
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("ECSD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n := node.New(cfg, logger, io.Discard)
	if err := n.Run(context.Background()); err != nil {
		n.Close()
		t.Fatalf("start ecsd: %v", err)
	}
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := n.Close(); err != nil {
			t.Errorf("stop ecsd: %v", err)
		}
	})
	b := &bundle{node: n, url: n.HTTP.URL(), gate: newGate(), transport: tr}
	b.account = b.login(t, ecs.DevTenant)
	return b
}

// ctl sends a request to the control API from loopback; in is sent as
// JSON unless it is a string (sent as it is, with contentType). It returns
// the status and the body.
func (b *bundle) ctl(t *testing.T, method, path, contentType string, in any) (int, []byte) {
	t.Helper()
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	}
	r, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: b.transport, Timeout: waitTimeout}).Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// mustCtl is ctl that wants status and decodes the answer into out.
func (b *bundle) mustCtl(t *testing.T, method, path string, in, out any, status int) []byte {
	t.Helper()
	got, raw := b.ctl(t, method, path, "", in)
	if got != status {
		t.Fatalf("%s %s: HTTP %d %s, want %d", method, path, got, raw, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return raw
}

// newTenant creates a tenant through POST /_ecsd/tenants and logs in.
func (b *bundle) newTenant(t *testing.T) *account {
	t.Helper()
	var tn struct {
		AccessKey   string `json:"access_key"`
		SecretKey   string `json:"secret_key"`
		ProjectID   string `json:"project_id"`
		ProjectName string `json:"project_name"`
		DomainID    string `json:"domain_id"`
	}
	b.mustCtl(t, http.MethodPost, "/_ecsd/tenants", map[string]any{}, &tn, http.StatusCreated)
	return b.login(t, ecs.Tenant{AccessKey: tn.AccessKey, SecretKey: tn.SecretKey, ProjectID: tn.ProjectID,
		ProjectName: tn.ProjectName, DomainID: tn.DomainID})
}

// serverNames lists the account's servers' names, sorted.
func (a *account) serverNames(t *testing.T) []string {
	t.Helper()
	resp, err := a.client.ListServersDetails(&model.ListServersDetailsRequest{})
	if err != nil {
		t.Fatalf("ListServersDetails: %v", err)
	}
	var out []string
	for _, s := range *resp.Servers {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// subJobs returns a batch job's sub-job IDs.
func (a *account) subJobs(t *testing.T, jobID string) []string {
	t.Helper()
	resp, err := a.client.ShowJob(&model.ShowJobRequest{JobId: jobID})
	if err != nil {
		t.Fatalf("ShowJob %s: %v", jobID, err)
	}
	var out []string
	if resp.Entities != nil && resp.Entities.SubJobs != nil {
		for _, s := range *resp.Entities.SubJobs {
			out = append(out, *s.JobId)
		}
	}
	return out
}

// TestStateTenantsIsolated: concurrent test clients, each with its own
// tenant made through the control API, never see each other's servers; a
// deleted tenant's key stops working at once. (The clients are goroutines,
// not parallel subtests: those would wait for a free test slot while the
// node polls its queue, which under -race slows the whole package down.)
func TestStateTenantsIsolated(t *testing.T) {
	t.Parallel()
	b := startStateNode(t, "instant", nil)
	const n = 4
	accounts := make([]*account, n)
	for i := range accounts {
		accounts[i] = b.newTenant(t)
	}
	servers := make([][]string, n)
	errs := make(chan error, n)
	for i, a := range accounts {
		go func() {
			errs <- func() error {
				srv := a.server(fmt.Sprintf("t%d", i), "s6.small.1")
				srv.Count = ptr(int32(2))
				resp, err := a.create(srv)
				if err != nil {
					return fmt.Errorf("tenant %d: create: %w", i, err)
				}
				var job *model.ShowJobResponse
				ended := poll.Until(waitTimeout, func() bool {
					job, err = a.client.ShowJob(&model.ShowJobRequest{JobId: *resp.JobId})
					return err != nil || job.Status.Value() == "SUCCESS" || job.Status.Value() == "FAIL"
				})
				switch {
				case err != nil:
					return fmt.Errorf("tenant %d: ShowJob: %w", i, err)
				case !ended:
					return fmt.Errorf("tenant %d: create job did not end", i)
				case job.Status.Value() == "FAIL":
					return fmt.Errorf("tenant %d: create failed: %s", i, str(job.FailReason))
				}
				list, err := a.client.ListServersDetails(&model.ListServersDetailsRequest{})
				if err != nil {
					return fmt.Errorf("tenant %d: list: %w", i, err)
				}
				var names []string
				for _, s := range *list.Servers {
					names = append(names, s.Name)
				}
				sort.Strings(names)
				if want := []string{fmt.Sprintf("t%d-0001", i), fmt.Sprintf("t%d-0002", i)}; !slices.Equal(names, want) {
					return fmt.Errorf("tenant %d sees %v, want %v", i, names, want)
				}
				servers[i] = *resp.ServerIds
				return nil
			}()
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	for i, a := range accounts {
		for j, ids := range servers {
			if i == j {
				continue
			}
			_, err := a.client.ShowServer(&model.ShowServerRequest{ServerId: ids[0]})
			wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		}
	}
	if got := b.serverNames(t); len(got) != 0 {
		t.Errorf("the development tenant sees %v", got)
	}

	var list struct {
		Tenants []map[string]any `json:"tenants"`
	}
	raw := b.mustCtl(t, http.MethodGet, "/_ecsd/tenants", nil, &list, http.StatusOK)
	if len(list.Tenants) != n+1 || strings.Contains(string(raw), "secret") {
		t.Errorf("GET /_ecsd/tenants: %s", raw)
	}

	gone := accounts[0]
	b.mustCtl(t, http.MethodDelete, "/_ecsd/tenants/"+gone.tenant.ProjectID, nil, nil, http.StatusNoContent)
	_, err := gone.client.ListServersDetails(&model.ListServersDetailsRequest{})
	wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
	for _, id := range servers[0] {
		if _, err := b.node.Driver.Inspect(t.Context(), id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("driver instance of the deleted tenant's server %s: %v", id, err)
		}
	}
	if got := accounts[1].serverNames(t); len(got) != 2 {
		t.Errorf("another tenant lost servers: %v", got)
	}
}

// TestStateResetDuringJobs resets a project while its jobs run (realistic
// timing: every phase lasts seconds): afterwards the project has no server,
// no job and no River job left, no worker touches it again, another
// project's job runs on, and new work in the project runs normally.
func TestStateResetDuringJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := startStateNode(t, "realistic", nil)
	a, other := b.newTenant(t), b.newTenant(t)

	// Seeded servers to act on, in place at once.
	var seeded struct {
		Servers []struct{ ID, Name string }
	}
	b.mustCtl(t, http.MethodPost, "/_ecsd/seed", map[string]any{"servers": []map[string]any{
		{"project_id": a.tenant.ProjectID, "name": "running", "flavor": "s6.large.2", "image": imageUbuntu22},
		{"project_id": a.tenant.ProjectID, "name": "stopped", "flavor": "s6.large.2", "image": imageUbuntu22, "status": "SHUTOFF"},
	}}, &seeded, http.StatusOK)
	if len(seeded.Servers) != 2 {
		t.Fatalf("seeded %+v", seeded)
	}
	running, stopped := seeded.Servers[0].ID, seeded.Servers[1].ID

	// Jobs in every kind of phase: a create, a resize, a stop.
	create, err := a.create(a.server("new", "s6.small.1"))
	if err != nil {
		t.Fatal(err)
	}
	resize, err := a.resizeTo(stopped, "s6.xlarge.2")
	if err != nil {
		t.Fatal(err)
	}
	stop, err := a.stop(false, running)
	if err != nil {
		t.Fatal(err)
	}
	otherCreate, err := other.create(other.server("survivor", "s6.small.1"))
	if err != nil {
		t.Fatal(err)
	}
	jobIDs := []string{*create.JobId, *resize.JobId, *stop.JobId}
	for _, id := range []string{*create.JobId, *stop.JobId} {
		jobIDs = append(jobIDs, a.subJobs(t, id)...)
	}
	serverIDs := append([]string{running, stopped}, *create.ServerIds...)
	// Wait until every job is inside a phase.
	a.waitState(t, (*create.ServerIds)[0], "BUILD", "block_device_mapping")
	a.waitState(t, stopped, "RESIZE", "resize_prep")
	a.waitState(t, running, "ACTIVE", "powering-off")
	other.waitState(t, (*otherCreate.ServerIds)[0], "BUILD", "block_device_mapping")

	// Queries of what the reset must remove, in engine-neutral SQL rebound
	// for the node's engine.
	db := b.node.DB
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.SQL().QueryRowContext(ctx, db.Rebind(q), args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// in returns the placeholders and arguments of "IN (…)" for ids.
	in := func(ids []string) (string, []any) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
	}
	removedJobs := map[string]bool{}
	for _, id := range jobIDs {
		removedJobs[id] = true
	}
	// riverJobs counts the River jobs (of any state) of the removed jobs.
	// River keeps their arguments as binary JSON: SQLite's JSONB, which
	// json() turns into text, or PostgreSQL's jsonb, read as text.
	riverArgs := `SELECT args FROM river_job`
	if db.Engine() == store.EngineSQLite {
		riverArgs = `SELECT json(args) FROM river_job`
	}
	riverJobs := func() int {
		t.Helper()
		rows, err := db.SQL().QueryContext(ctx, riverArgs)
		if err != nil {
			t.Fatalf("River jobs: %v", err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var raw []byte
			var args struct {
				JobID string `json:"job_id"`
			}
			if err := rows.Scan(&raw); err != nil {
				t.Fatalf("River jobs: %v", err)
			}
			if err := json.Unmarshal(raw, &args); err != nil {
				t.Fatalf("River job arguments %s: %v", raw, err)
			}
			if removedJobs[args.JobID] {
				n++
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("River jobs: %v", err)
		}
		return n
	}
	if n := riverJobs(); n == 0 {
		t.Fatal("before the reset the project's jobs have no River jobs")
	}

	var reset struct {
		ServersRemoved int     `json:"servers_removed"`
		Milliseconds   float64 `json:"milliseconds"`
	}
	b.mustCtl(t, http.MethodPost, "/_ecsd/reset", map[string]string{"project_id": a.tenant.ProjectID}, &reset, http.StatusOK)
	if reset.ServersRemoved != 3 {
		t.Errorf("reset removed %d servers, want 3", reset.ServersRemoved)
	}
	t.Logf("project reset with 3 running jobs took %.1f ms", reset.Milliseconds)

	// Nothing of the project is left: rows, River jobs, driver instances.
	for _, q := range []string{`SELECT count(*) FROM servers WHERE project_id = ?`, `SELECT count(*) FROM jobs WHERE project_id = ?`,
		`SELECT count(*) FROM server_actions WHERE project_id = ?`, `SELECT count(*) FROM client_tokens WHERE project_id = ?`} {
		if n := count(q, a.tenant.ProjectID); n != 0 {
			t.Errorf("after the reset: %s: %d", q, n)
		}
	}
	// What the removed jobs and servers left (checked again after later work:
	// no stopped worker may bring any of it back).
	checkGone := func(when string) {
		t.Helper()
		servers, serverArgs := in(serverIDs)
		jobs, jobArgs := in(jobIDs)
		if n := count(`SELECT count(*) FROM servers WHERE id IN `+servers, serverArgs...); n != 0 {
			t.Errorf("%s: %d removed servers are back", when, n)
		}
		if n := count(`SELECT count(*) FROM jobs WHERE id IN `+jobs, jobArgs...); n != 0 {
			t.Errorf("%s: %d removed jobs are back", when, n)
		}
		if n := riverJobs(); n != 0 {
			t.Errorf("%s: %d River jobs of the reset project", when, n)
		}
		if n := count(`SELECT count(*) FROM job_phases WHERE job_id IN `+jobs, jobArgs...); n != 0 {
			t.Errorf("%s: %d phase rows of the reset project's jobs", when, n)
		}
		for _, id := range serverIDs {
			if _, err := b.node.Driver.Inspect(ctx, id); !errors.Is(err, driver.ErrNotFound) {
				t.Errorf("%s: driver instance of removed server %s: %v", when, id, err)
			}
		}
	}
	checkGone("right after the reset")
	if got := a.serverNames(t); len(got) != 0 {
		t.Errorf("servers after the reset: %v", got)
	}
	_, err = a.client.ShowJob(&model.ShowJobRequest{JobId: *resize.JobId})
	if se, ok := asSDKError(err); !ok || se.StatusCode != http.StatusNotFound {
		t.Errorf("ShowJob of a reset job: %v, want HTTP 404", err)
	}
	// The other project's job was not touched.
	if job, err := other.client.ShowJob(&model.ShowJobRequest{JobId: *otherCreate.JobId}); err != nil || job.Status.Value() != "RUNNING" {
		t.Errorf("the other project's job: %v, %v; want RUNNING", job, err)
	}

	// Fast forward: new work in the reset project runs normally, the other
	// project's job ends, and nothing of the reset project comes back.
	b.mustCtl(t, http.MethodPost, "/_ecsd/clock", map[string]any{"speed": 1000}, nil, http.StatusOK)
	id := a.mustCreateOne(t, "after", "s6.small.1", "")
	a.mustStop(t, id)
	a.mustResize(t, id, "s6.medium.2")
	a.wantServer(t, id, "SHUTOFF", 4, "s6.medium.2")
	other.wantJob(t, *otherCreate.JobId, "SUCCESS")
	checkGone("after later work")
	if got := a.serverNames(t); !slices.Equal(got, []string{"after"}) {
		t.Errorf("servers after new work: %v", got)
	}
	waitFor(t, "every River job to end", func() bool {
		return count(`SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`) == 0
	})
	if n := count(`SELECT count(*) FROM river_job WHERE state <> 'completed'`); n != 0 {
		t.Errorf("%d River jobs did not complete", n)
	}
}

// snapshotOf returns GET /_ecsd/snapshot.
func (b *bundle) snapshotOf(t *testing.T) []byte {
	t.Helper()
	status, raw := b.ctl(t, http.MethodGet, "/_ecsd/snapshot", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /_ecsd/snapshot: HTTP %d %s", status, raw)
	}
	return raw
}

// asJSON renders an SDK response for comparison.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStateSnapshot exports a node with servers in several states and
// finished jobs and imports it into a second, fresh node: the servers and
// jobs read back the same through the SDK, the tenants' keys work, and work
// goes on. A job caught in the middle of a phase (the clock paused) is
// exported too and finishes on the importing node.
func TestStateSnapshot(t *testing.T) {
	t.Parallel()
	src := startStateNode(t, "fast", nil)
	dev := src.account
	var jobs []string
	track := func(jobID string) { jobs = append(jobs, jobID); jobs = append(jobs, dev.subJobs(t, jobID)...) }

	active := dev.mustCreateOne(t, "active", "s6.small.1", "")
	stopped := dev.mustCreateStopped(t, "stopped", "s6.small.1", azB)
	resized := dev.mustCreateStopped(t, "resized", "s6.small.1", "")
	track(*dev.mustResize(t, resized, "s6.medium.2").JobId)
	doomed := dev.mustCreateOne(t, "deleted", "s6.small.1", "")
	del, err := dev.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(doomed)}})
	if err != nil {
		t.Fatal(err)
	}
	dev.wantJob(t, *del.JobId, "SUCCESS")
	track(*del.JobId)
	var seeded struct{ Servers []struct{ ID string } }
	src.mustCtl(t, http.MethodPost, "/_ecsd/seed", "servers:\n  - {project_id: "+ecs.DevTenant.ProjectID+
		", name: broken, flavor: s6.small.1, image: "+imageUbuntu22+", status: ERROR}\n", &seeded, http.StatusOK)
	other := src.newTenant(t)
	otherID := other.mustCreateOne(t, "theirs", "s6.large.2", "")
	servers := []string{active, stopped, resized, seeded.Servers[0].ID}

	// Every job of the development tenant, through its server histories.
	for _, id := range append(slices.Clone(servers), doomed) {
		var h struct {
			Actions []struct {
				JobID string `json:"job_id"`
			} `json:"actions"`
		}
		src.mustCtl(t, http.MethodGet, "/_ecsd/servers/"+id+"/history?project_id="+ecs.DevTenant.ProjectID, nil, &h, http.StatusOK)
		for _, a := range h.Actions {
			if a.JobID != "" && !slices.Contains(jobs, a.JobID) {
				jobs = append(jobs, a.JobID)
			}
		}
	}

	exported := src.snapshotOf(t)
	dst := startStateNode(t, "fast", nil)
	var imported struct {
		Servers     int `json:"servers"`
		ResumedJobs int `json:"resumed_jobs"`
	}
	dst.mustCtl(t, http.MethodPost, "/_ecsd/snapshot", string(exported), &imported, http.StatusOK)
	if imported.ResumedJobs != 0 || imported.Servers != 6 {
		t.Errorf("import: %+v, want 6 servers (one deleted) and no job to resume", imported)
	}

	for _, id := range servers {
		want, err := dev.client.ShowServer(&model.ShowServerRequest{ServerId: id})
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.client.ShowServer(&model.ShowServerRequest{ServerId: id})
		if err != nil {
			t.Fatalf("ShowServer %s on the importing node: %v", id, err)
		}
		if w, g := asJSON(t, want), asJSON(t, got); w != g {
			t.Errorf("server %s differs after the import:\nexported: %s\nimported: %s", id, w, g)
		}
	}
	_, err = dst.client.ShowServer(&model.ShowServerRequest{ServerId: doomed})
	wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
	if len(jobs) < 8 {
		t.Fatalf("only %d jobs tracked", len(jobs))
	}
	for _, id := range jobs {
		want, err := dev.client.ShowJob(&model.ShowJobRequest{JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.client.ShowJob(&model.ShowJobRequest{JobId: id})
		if err != nil {
			t.Fatalf("ShowJob %s on the importing node: %v", id, err)
		}
		if w, g := asJSON(t, want), asJSON(t, got); w != g {
			t.Errorf("job %s differs after the import:\nexported: %s\nimported: %s", id, w, g)
		}
	}
	if w, g := dev.serverNames(t), dst.serverNames(t); !slices.Equal(w, g) {
		t.Errorf("server lists differ: %v, %v", w, g)
	}
	// The run-time tenant's keys work on the importing node.
	otherThere := dst.login(t, other.tenant)
	otherThere.wantServer(t, otherID, "ACTIVE", 1, "s6.large.2")
	// Work goes on, on the imported servers and their driver instances.
	dst.mustStop(t, active)
	dst.mustResize(t, active, "s6.medium.2")
	dst.wantServer(t, active, "SHUTOFF", 4, "s6.medium.2")
	id := dst.mustCreateOne(t, "new", "s6.small.1", "")
	if s := dst.show(t, id); s.Addresses == nil {
		t.Errorf("new server without addresses")
	}

	// A job in the middle of a phase: pause the exporter's clock, stop a
	// server, export, import (into the same, not fresh, node) and let the
	// importer's clock run.
	src.mustCtl(t, http.MethodPost, "/_ecsd/clock", map[string]any{"paused": true}, nil, http.StatusOK)
	stop, err := dev.stop(false, active)
	if err != nil {
		t.Fatal(err)
	}
	dev.waitState(t, active, "ACTIVE", "powering-off")
	exported = src.snapshotOf(t)
	dst.mustCtl(t, http.MethodPost, "/_ecsd/snapshot", string(exported), &imported, http.StatusOK)
	if imported.ResumedJobs != 1 {
		t.Errorf("resumed %d jobs, want the stop", imported.ResumedJobs)
	}
	dst.waitState(t, active, "ACTIVE", "powering-off") // the imported clock is paused too
	dst.mustCtl(t, http.MethodPost, "/_ecsd/clock", map[string]any{"paused": false}, nil, http.StatusOK)
	dst.wantJob(t, *stop.JobId, "SUCCESS")
	dst.wantServer(t, active, "SHUTOFF", 4, "s6.small.1")
	if _, err := dst.client.ShowServer(&model.ShowServerRequest{ServerId: id}); err == nil {
		t.Error("a server created after the first import survived the second")
	}
	// The exporter, still paused, still has its job in the phase.
	dev.waitState(t, active, "ACTIVE", "powering-off")
	src.mustCtl(t, http.MethodPost, "/_ecsd/clock", map[string]any{"paused": false}, nil, http.StatusOK)
}

// worldSeed is a start-up seed: a tenant with a quota and servers in each
// stable state, one with a fixed ID.
const worldSeed = `
tenants:
  - access_key: SEEDEDTENANTKEY00001
    secret_key: seededTenantSecret000000000000000000000
    project_id: 5eed0000000000000000000000000001
    quota: {instances: 8}
quotas:
  - project_id: 000000000000000000000000000ec5d1
    cores: 64
servers:
  - project_id: 5eed0000000000000000000000000001
    id: 5eed0000-0000-4000-8000-000000000001
    name: web
    flavor: s6.large.2
    image: Ubuntu 22.04 server 64bit(40GB)
    availability_zone: cn-north-4c
  - project_id: 5eed0000000000000000000000000001
    name: batch
    count: 2
    flavor: c7.large.2
    image: abe65701-8a26-40ec-b381-c10498ca3745
    status: SHUTOFF
  - project_id: 5eed0000000000000000000000000001
    name: broken
    flavor: s6.small.1
    image: abe65701-8a26-40ec-b381-c10498ca3745
    status: ERROR
`

// TestStateSeedAtStartup starts a node with a seed document: its servers
// are there in the requested states, usable at once; a reset brings the
// world back after changes.
func TestStateSeedAtStartup(t *testing.T) {
	t.Parallel()
	doc, err := seed.Parse([]byte(worldSeed), "")
	if err != nil {
		t.Fatal(err)
	}
	b := startStateNode(t, "fast", func(cfg *node.Config) { cfg.Seed = doc })
	a := b.login(t, ecs.Tenant{AccessKey: "SEEDEDTENANTKEY00001", SecretKey: "seededTenantSecret000000000000000000000",
		ProjectID: "5eed0000000000000000000000000001", ProjectName: region})
	want := []string{"batch-0001", "batch-0002", "broken", "web"}
	if got := a.serverNames(t); !slices.Equal(got, want) {
		t.Fatalf("seeded servers %v, want %v", got, want)
	}
	const web = "5eed0000-0000-4000-8000-000000000001"
	s := a.wantServer(t, web, "ACTIVE", 1, "s6.large.2")
	if s.OSEXTAZavailabilityZone != azC || s.Addresses == nil || len(s.Addresses[a.vpcID]) != 1 {
		t.Errorf("web: az %s addresses %v", s.OSEXTAZavailabilityZone, s.Addresses)
	}
	resp, err := a.client.ListServersDetails(&model.ListServersDetailsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range *resp.Servers {
		switch {
		case strings.HasPrefix(s.Name, "batch"):
			a.wantServer(t, s.Id, "SHUTOFF", 4, "c7.large.2")
		case s.Name == "broken":
			if s.Status != "ERROR" || s.OSEXTSTSpowerState != 0 {
				t.Errorf("broken: %s power %d", s.Status, s.OSEXTSTSpowerState)
			}
		}
	}
	limits, err := a.client.ShowServerLimits(&model.ShowServerLimitsRequest{})
	if err != nil || limits.Absolute.MaxTotalInstances != 8 || limits.Absolute.TotalInstancesUsed != 4 {
		t.Errorf("limits of the seeded tenant: %+v, %v", limits, err)
	}
	devLimits, err := b.client.ShowServerLimits(&model.ShowServerLimitsRequest{})
	if err != nil || devLimits.Absolute.MaxTotalCores != 64 {
		t.Errorf("limits of the development tenant: %+v, %v", devLimits, err)
	}
	var history struct {
		Actions []struct{ Action, Result string }
	}
	b.mustCtl(t, http.MethodGet, "/_ecsd/servers/"+web+"/history", nil, &history, http.StatusOK)
	if len(history.Actions) != 1 || history.Actions[0].Action != "seed" {
		t.Errorf("history of a seeded server: %+v", history)
	}

	// Seeded servers work like any other.
	a.mustStop(t, web)
	a.mustResize(t, web, "s6.xlarge.2")
	del, err := a.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(web)}})
	if err != nil {
		t.Fatal(err)
	}
	a.wantJob(t, *del.JobId, "SUCCESS")
	extra := b.mustCreateOne(t, "dev-extra", "s6.small.1", "")

	// A reset of the seeded project brings its world back; the development
	// project keeps its server.
	b.mustCtl(t, http.MethodPost, "/_ecsd/reset", map[string]string{"project_id": a.tenant.ProjectID}, nil, http.StatusOK)
	if got := a.serverNames(t); !slices.Equal(got, want) {
		t.Errorf("after a project reset: %v, want %v", got, want)
	}
	a.wantServer(t, web, "ACTIVE", 1, "s6.large.2")
	b.wantServer(t, extra, "ACTIVE", 1, "s6.small.1")
	// A full reset too, and the development tenant's quota is the seed's.
	b.mustCtl(t, http.MethodPost, "/_ecsd/reset", nil, nil, http.StatusOK)
	if got := b.serverNames(t); len(got) != 0 {
		t.Errorf("development project after a full reset: %v", got)
	}
	if got := a.serverNames(t); !slices.Equal(got, want) {
		t.Errorf("seeded project after a full reset: %v", got)
	}
	devLimits, err = b.client.ShowServerLimits(&model.ShowServerLimitsRequest{})
	if err != nil || devLimits.Absolute.MaxTotalCores != 64 {
		t.Errorf("development tenant's cores after a full reset: %v, %v", devLimits, err)
	}
}
