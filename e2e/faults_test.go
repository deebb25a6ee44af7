package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/node"
)

// --- the control API's fault routes -------------------------------------------

// control sends a JSON request to the node's control API (from loopback,
// no credentials) and decodes a JSON answer into out (if not nil).
func (b *bundle) control(t *testing.T, method, path string, in, out any, wantStatus int) {
	t.Helper()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	r, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: b.transport, Timeout: waitTimeout}).Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: HTTP %d %s, want %d", method, path, resp.StatusCode, raw, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// addFault adds a rule through POST /_ecsd/faults and returns it with its ID.
func (b *bundle) addFault(t *testing.T, r fault.Rule) fault.Rule {
	t.Helper()
	var added fault.Rule
	b.control(t, http.MethodPost, "/_ecsd/faults", r, &added, http.StatusCreated)
	if added.ID == "" {
		t.Fatalf("POST /_ecsd/faults answered a rule without an ID: %+v", added)
	}
	return added
}

// fault returns a rule as GET /_ecsd/faults lists it.
func (b *bundle) fault(t *testing.T, id string) fault.Rule {
	t.Helper()
	var list struct{ Faults []fault.Rule }
	b.control(t, http.MethodGet, "/_ecsd/faults", nil, &list, http.StatusOK)
	for _, r := range list.Faults {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("fault rule %s is not listed (%+v)", id, list.Faults)
	return fault.Rule{}
}

func (b *bundle) deleteFault(t *testing.T, id string) {
	t.Helper()
	b.control(t, http.MethodDelete, "/_ecsd/faults/"+id, nil, nil, http.StatusNoContent)
}

// --- tests ------------------------------------------------------------------------

// TestFaultFailJob fails resizes at resize_migrating with Ecs.0319: the job
// ends FAIL with the rule's code and reason, the server is back on its old
// flavor and power state (SHUTOFF for a stopped server, ACTIVE for a running
// one resized withStopServer), and once the rule's count is spent the same
// resize succeeds.
func TestFaultFailJob(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	const reason = "Insufficient resources on the target host; the resize was rolled back."

	failNext := func(t *testing.T, serverID string) fault.Rule {
		t.Helper()
		return b.addFault(t, fault.Rule{Match: fault.Match{Phase: ecs.TaskResizeMigrating, ServerID: serverID}, Count: 1,
			Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: ecs.CodeInsufficientCap, FailReason: reason}})
	}
	wantFailed := func(t *testing.T, job *model.ShowJobResponse) {
		t.Helper()
		if got := job.Status.Value(); got != "FAIL" || str(job.ErrorCode) != ecs.CodeInsufficientCap || str(job.FailReason) != reason {
			t.Fatalf("job ended %s, error_code %s, fail_reason %q; want FAIL, %s, %q",
				got, str(job.ErrorCode), str(job.FailReason), ecs.CodeInsufficientCap, reason)
		}
	}

	t.Run("stopped server", func(t *testing.T) {
		id := b.mustCreateStopped(t, "fail-stopped", "s6.large.2", "")
		other := b.mustCreateStopped(t, "bystander", "s6.large.2", "")
		rule := failNext(t, id)

		// Another server is not matched.
		b.mustResize(t, other, "s6.xlarge.2")

		resp, err := b.resizeTo(id, "s6.xlarge.2")
		if err != nil {
			t.Fatalf("ResizePostPaidServer: %v", err)
		}
		wantFailed(t, b.waitJob(t, *resp.JobId))
		b.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")
		var history struct{ Phases []struct{ Phase string } }
		b.control(t, http.MethodGet, "/_ecsd/jobs/"+*resp.JobId+"/history", nil, &history, http.StatusOK)
		if n := len(history.Phases); n == 0 || history.Phases[n-1].Phase != ecs.TaskResizeMigrating {
			t.Errorf("job phases %+v, want the job to end in %s", history.Phases, ecs.TaskResizeMigrating)
		}
		if l := b.limits(t); l.TotalCoresUsed != 2+4 || l.TotalRAMUsed != 4096+8192 {
			t.Errorf("after the rollback %d cores and %d MB are counted, want the old flavor's (6, 12288 in all)", l.TotalCoresUsed, l.TotalRAMUsed)
		}
		if got := b.fault(t, rule.ID); got.Fired != 1 {
			t.Errorf("rule fired %d times, want 1", got.Fired)
		}

		// The count is spent: the same resize now succeeds.
		b.mustResize(t, id, "s6.xlarge.2")
		b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
		if got := b.fault(t, rule.ID); got.Fired != 1 {
			t.Errorf("spent rule fired %d times, want still 1", got.Fired)
		}
	})

	t.Run("running server withStopServer", func(t *testing.T) {
		id := b.mustCreateOne(t, "fail-running", "s6.large.2", "")
		failNext(t, id)
		opt := model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withStopServer")}
		resp, err := b.resize(id, opt, false)
		if err != nil {
			t.Fatalf("ResizePostPaidServer withStopServer: %v", err)
		}
		wantFailed(t, b.waitJob(t, *resp.JobId))
		b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")

		resp, err = b.resize(id, opt, false)
		if err != nil {
			t.Fatalf("second ResizePostPaidServer withStopServer: %v", err)
		}
		b.wantJob(t, *resp.JobId, "SUCCESS")
		b.wantServer(t, id, "ACTIVE", 1, "s6.xlarge.2")
	})
}

// TestFaultError answers API calls with injected Huawei errors, through the
// SDK, until the rules' counts are spent.
func TestFaultError(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")

	t.Run("CreatePostPaidServers 400 Ecs.0319", func(t *testing.T) {
		const msg = "Insufficient capacity for flavor s6.large.2; choose another flavor or availability zone."
		rule := b.addFault(t, fault.Rule{Match: fault.Match{Operation: "CreatePostPaidServers", ProjectID: b.tenant.ProjectID}, Count: 1,
			Action: fault.Action{Type: fault.ActionError, HTTPStatus: http.StatusBadRequest, Code: ecs.CodeInsufficientCap, Message: msg}})
		_, err := b.create(b.server("refused", "s6.large.2"))
		if se := wantCode(t, err, ecs.CodeInsufficientCap); se.ErrorMessage != msg {
			t.Errorf("message %q, want %q", se.ErrorMessage, msg)
		}
		// Nothing was created.
		list, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{})
		if err != nil || *list.Count != 0 {
			t.Fatalf("ListServersDetails after a refused create: %v %v", err, list)
		}
		b.mustCreate(t, b.server("accepted", "s6.large.2"))
		if got := b.fault(t, rule.ID); got.Fired != 1 {
			t.Errorf("rule fired %d times, want 1", got.Fired)
		}
	})

	t.Run("ShowServer 503 for one server", func(t *testing.T) {
		sick := b.mustCreateOne(t, "sick", "s6.large.2", "")
		well := b.mustCreateOne(t, "well", "s6.large.2", "")
		b.addFault(t, fault.Rule{Match: fault.Match{Operation: "ShowServer", ServerID: sick}, Count: 2,
			Action: fault.Action{Type: fault.ActionError, HTTPStatus: http.StatusServiceUnavailable, Code: ecs.CodeInternal,
				Message: "The service is temporarily unavailable."}})
		b.show(t, well)
		for range 2 {
			_, err := b.client.ShowServer(&model.ShowServerRequest{ServerId: sick})
			wantSDKError(t, err, http.StatusServiceUnavailable, ecs.CodeInternal)
		}
		b.show(t, sick)
	})
}

// TestFaultLatency delays ShowJob: the calls still succeed, take at least
// the delay, and the rule counts them.
func TestFaultLatency(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	resp, err := b.create(b.server("slow", "s6.large.2"))
	if err != nil {
		t.Fatal(err)
	}
	const delay = 30 * time.Millisecond
	rule := b.addFault(t, fault.Rule{Match: fault.Match{Operation: "ShowJob"},
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(delay)}})
	start := time.Now()
	if _, err := b.client.ShowJob(&model.ShowJobRequest{JobId: *resp.JobId}); err != nil {
		t.Fatalf("delayed ShowJob: %v", err)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("ShowJob took %s, want at least the injected %s", took, delay)
	}
	b.wantJob(t, *resp.JobId, "SUCCESS")
	first := b.fault(t, rule.ID).Fired
	if first < 2 {
		t.Errorf("rule fired %d times, want at least 2", first)
	}
	b.waitJob(t, *resp.JobId)
	if got := b.fault(t, rule.ID).Fired; got <= first {
		t.Errorf("rule fired %d times after another ShowJob, want more than %d", got, first)
	}
	// A deleted rule stops counting.
	b.deleteFault(t, rule.ID)
	if _, err := b.client.ShowJob(&model.ShowJobRequest{JobId: *resp.JobId}); err != nil {
		t.Fatal(err)
	}
}

// TestFaultSoldOut marks a flavor sold out in one zone: ListFlavors for the
// zone and ListResizeFlavors of a server there hide it, a resize to it and a
// create of it there fail with Ecs.0319, other zones still sell it, and
// deleting the rule restores the sale.
func TestFaultSoldOut(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	const target = "s6.xlarge.2"
	id := b.mustCreateStopped(t, "stuck", "s6.large.2", azA)

	flavorsIn := func(t *testing.T, az string) []string {
		t.Helper()
		resp, err := b.client.ListFlavors(&model.ListFlavorsRequest{AvailabilityZone: ptr(az)})
		if err != nil || resp.Flavors == nil {
			t.Fatalf("ListFlavors(%s): %v", az, err)
		}
		var out []string
		for _, f := range *resp.Flavors {
			out = append(out, f.Id)
		}
		return out
	}
	resizeTargets := func(t *testing.T) []string {
		t.Helper()
		resp, err := b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &id})
		if err != nil || resp.Flavors == nil {
			t.Fatalf("ListResizeFlavors: %v", err)
		}
		var out []string
		for _, f := range *resp.Flavors {
			out = append(out, f.Id)
		}
		return out
	}
	if !slices.Contains(flavorsIn(t, azA), target) || !slices.Contains(resizeTargets(t), target) {
		t.Fatalf("%s is not on sale in %s to begin with", target, azA)
	}

	rule := b.addFault(t, fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: target, AZ: azA}})
	if slices.Contains(flavorsIn(t, azA), target) {
		t.Errorf("ListFlavors(%s) lists %s, sold out there", azA, target)
	}
	if !slices.Contains(flavorsIn(t, azB), target) {
		t.Errorf("ListFlavors(%s) hides %s, sold out only in %s", azB, target, azA)
	}
	if slices.Contains(resizeTargets(t), target) {
		t.Errorf("ListResizeFlavors lists %s, sold out in the server's zone", target)
	}
	_, err := b.resizeTo(id, target)
	wantCode(t, err, ecs.CodeInsufficientCap)
	srv := b.server("sold-out", target)
	srv.AvailabilityZone = ptr(azA)
	_, err = b.create(srv)
	wantCode(t, err, ecs.CodeInsufficientCap)
	b.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")

	b.deleteFault(t, rule.ID)
	if !slices.Contains(flavorsIn(t, azA), target) {
		t.Errorf("ListFlavors(%s) still hides %s after the rule was deleted", azA, target)
	}
	b.mustResize(t, id, target)
}

// TestFaultCapacity takes every host of a zone away: a create there fails
// with Ecs.0319 until the rules are deleted.
func TestFaultCapacity(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	var ids []string
	var hosts []catalog.Host
	for _, h := range b.node.Catalog.Hosts() {
		if h.AZ != azC {
			continue
		}
		r := b.addFault(t, fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: h.ID, VCPUs: h.VCPUs, RAMMB: h.RAMMB}})
		ids, hosts = append(ids, r.ID), append(hosts, h)
	}
	if len(ids) < 2 || !slices.ContainsFunc(hosts, func(h catalog.Host) bool { return h.Arch == catalog.ArchArm64 }) {
		t.Fatalf("hosts of %s: %+v, want x86 and Arm ones", azC, hosts)
	}
	srv := b.server("no-room", "s6.large.2")
	srv.AvailabilityZone = ptr(azC)
	_, err := b.create(srv)
	wantCode(t, err, ecs.CodeInsufficientCap)
	// Other zones are not touched.
	b.mustCreateOne(t, "elsewhere", "s6.large.2", azA)

	// Giving back the Arm host is not enough for an x86 flavor; giving
	// back every host is.
	for i, h := range hosts {
		if h.Arch == catalog.ArchArm64 {
			b.deleteFault(t, ids[i])
			ids = slices.Delete(ids, i, i+1)
			break
		}
	}
	_, err = b.create(srv)
	wantCode(t, err, ecs.CodeInsufficientCap)
	for _, id := range ids {
		b.deleteFault(t, id)
	}
	b.mustCreate(t, srv)
}

// TestFaultRulesSurviveRestart adds rules, restarts ecsd on the same data
// directory and finds them in force, with their counts.
func TestFaultRulesSurviveRestart(t *testing.T) {
	t.Parallel()
	// The same store for both nodes: a data directory on SQLite, one
	// database on PostgreSQL.
	shared := node.Config{DataDir: t.TempDir()}
	ecsdtest.UseDatabase(t, &shared)
	start := func(t *testing.T) *bundle {
		t.Helper()
		cfg := node.Config{
			Listen: "127.0.0.1:0", DataDir: shared.DataDir, Database: shared.Database, DatabaseMaxConns: shared.DatabaseMaxConns,
			Region: region, Driver: "sim", Timing: "instant",
			Tenants: []node.TenantQuota{{Tenant: ecs.DevTenant, Quota: ecs.DefaultQuota}}, DevTenant: true, Version: "e2e",
		}
		n := node.New(cfg, slog.New(slog.DiscardHandler), io.Discard)
		if err := n.Run(context.Background()); err != nil {
			n.Close()
			t.Fatalf("start ecsd: %v", err)
		}
		tr := &http.Transport{}
		b := &bundle{node: n, url: n.HTTP.URL(), gate: newGate(), transport: tr}
		t.Cleanup(func() {
			tr.CloseIdleConnections()
			n.Close()
		})
		b.account = b.login(t, ecs.DevTenant)
		return b
	}

	b := start(t)
	counted := b.addFault(t, fault.Rule{Match: fault.Match{Operation: "ShowServerLimits"}, Count: 2,
		Action: fault.Action{Type: fault.ActionError, Code: ecs.CodeInternal}})
	soldOut := b.addFault(t, fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.xlarge.2"}})
	_, err := b.client.ShowServerLimits(&model.ShowServerLimitsRequest{})
	wantSDKError(t, err, http.StatusInternalServerError, ecs.CodeInternal)
	b.transport.CloseIdleConnections()
	if err := b.node.Close(); err != nil {
		t.Fatal(err)
	}

	b = start(t)
	if got := b.fault(t, counted.ID); got.Fired != 1 || got.Count != 2 {
		t.Errorf("after a restart the counted rule has fired %d of %d, want 1 of 2", got.Fired, got.Count)
	}
	b.fault(t, soldOut.ID)
	_, err = b.client.ShowServerLimits(&model.ShowServerLimitsRequest{})
	wantSDKError(t, err, http.StatusInternalServerError, ecs.CodeInternal)
	b.limits(t) // spent
	_, err = b.create(b.server("sold-out", "s6.xlarge.2"))
	wantCode(t, err, ecs.CodeInsufficientCap)
}
