package compute_test

import (
	"encoding/json"
	"fmt"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

func batchRequest(p string, ids ...string) *ecs.BatchResizeRequest {
	return &ecs.BatchResizeRequest{ProjectID: p, ServerIDs: ids, FlavorID: "s6.large.2"}
}

func TestBatchResizeServers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	a := b.mustInsertServer(t, p, nil)
	c := b.mustInsertServer(t, p, nil)
	running := b.mustInsertServer(t, p, func(s *ecs.Server) { s.VMState, s.PowerState = ecs.VMActive, ecs.PowerRunning })
	req := batchRequest(p, a.ID, c.ID, running.ID)
	req.WithStop = true
	res, err := b.svc.BatchResizeServers(t.Context(), req)
	if err != nil {
		t.Fatalf("BatchResizeServers: %v", err)
	}
	if res.OrderID != "" {
		t.Errorf("order %s for pay-per-use servers, want none", res.OrderID)
	}
	job := b.job(t, res.JobID)
	if job.Type != ecs.JobBatchResize || job.Status != ecs.JobInit || len(job.SubJobs) != 3 {
		t.Fatalf("job = %s %s with %d sub-jobs, want batchResizeServers INIT with 3", job.Type, job.Status, len(job.SubJobs))
	}
	for i, sub := range job.SubJobs {
		if sub.Type != ecs.JobResizeServer || sub.ServerID != req.ServerIDs[i] {
			t.Errorf("sub-job %d = %s for %s, want resizeServer for %s", i, sub.Type, sub.ServerID, req.ServerIDs[i])
		}
		var params compute.ResizeParams
		if err := json.Unmarshal([]byte(sub.Params), &params); err != nil || params.FlavorID != "s6.large.2" || params.OldFlavorID != "s6.small.1" {
			t.Errorf("sub-job %d params = %s (%v)", i, sub.Params, err)
		}
		if params.WasRunning != (sub.ServerID == running.ID) {
			t.Errorf("sub-job %d was_running = %v", i, params.WasRunning)
		}
		srv := b.server(t, sub.ServerID)
		want := ecs.TaskResizePrep
		if srv.ID == running.ID {
			want = ecs.TaskPoweringOff
		}
		if srv.TaskState != want || srv.ResizeFlavorID != "s6.large.2" || srv.ResizeHostID != params.HostID {
			t.Errorf("server %d: task %q, reservation %s on %s; want %s, s6.large.2 on %s", i, srv.TaskState, srv.ResizeFlavorID, srv.ResizeHostID, want, params.HostID)
		}
	}
	if n := len(b.queue.Jobs(p)); n != 3 {
		t.Errorf("enqueued %d jobs, want the 3 sub-jobs", n)
	}
}

func TestBatchResizeServersRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	plain := func(b *testBundle, p string) string { return b.mustInsertServer(t, p, nil).ID }
	with := func(mut func(*ecs.Server)) func(b *testBundle, p string) string {
		return func(b *testBundle, p string) string { return b.mustInsertServer(t, p, mut).ID }
	}
	for _, tc := range []struct {
		name    string
		members []func(*testBundle, string) string
		mutate  func(*ecs.BatchResizeRequest)
		code    string
	}{
		{"no servers", nil, nil, ecs.CodeBadRequest},
		{"duplicate", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) { r.ServerIDs = append(r.ServerIDs, r.ServerIDs[0]) }, ecs.CodeBadRequest},
		{"more than 50", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) {
			for i := range 50 {
				r.ServerIDs = append(r.ServerIDs, fmt.Sprintf("id-%d", i))
			}
		}, ecs.CodeBadRequest},
		{"no flavor", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) { r.FlavorID = "" }, ecs.CodeBadRequest},
		{"unknown server", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) { r.ServerIDs = append(r.ServerIDs, compute.NewUUID()) }, ecs.CodeServerNotFound},
		{"spot member", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.ChargingMode = ecs.ChargingSpot })}, nil, ecs.CodeChargingNotAllowed},
		{"mixed billing", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.ChargingMode = ecs.ChargingPrePaid })}, nil, ecs.CodeBadRequest},
		{"mixed AZ", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.AvailabilityZone, s.HostID = "cn-north-4b", "cn-north-4b-x86-01" })}, nil, ecs.CodeBadRequest},
		{"mixed flavor", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.FlavorID = "s6.medium.2" })}, nil, ecs.CodeBadRequest},
		{"same flavor", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) { r.FlavorID = "s6.small.1" }, ecs.CodeSameFlavor},
		{"unknown flavor", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) { r.FlavorID = "nope.large.2" }, ecs.CodeFlavorNotFound},
		{"busy member", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.TaskState = ecs.TaskPoweringOn })}, nil, ecs.CodeBusy},
		{"locked member", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.Locked = true })}, nil, ecs.CodeLocked},
		{"running without withStopServer", []func(*testBundle, string) string{plain, with(func(s *ecs.Server) { s.VMState, s.PowerState = ecs.VMActive, ecs.PowerRunning })}, nil, ecs.CodeStateConflict},
		{"cpu_options", []func(*testBundle, string) string{plain}, func(r *ecs.BatchResizeRequest) { r.CPUThreads = 1 }, ecs.CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.newProject(t, ecs.DefaultQuota)
			req := batchRequest(p)
			for _, m := range tc.members {
				req.ServerIDs = append(req.ServerIDs, m(b, p))
			}
			if tc.mutate != nil {
				tc.mutate(req)
			}
			before := b.snapshot(t, p)
			_, err := b.svc.BatchResizeServers(t.Context(), req)
			requireCode(t, err, tc.code)
			b.requireUnchanged(t, p, before)
		})
	}
}

func TestBatchResizePrePaid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, _ := setupBilling(t)
	pair := func(t *testing.T, p, flavor string) []string {
		return []string{b.prePaidServer(t, p, flavor).ID, b.prePaidServer(t, p, flavor).ID}
	}
	held := func(t *testing.T, p string, ids []string) *ecs.ResizeResult {
		t.Helper()
		res, err := b.svc.BatchResizeServers(ctx, &ecs.BatchResizeRequest{ProjectID: p, ServerIDs: ids, FlavorID: "s6.xlarge.2"})
		if err != nil {
			t.Fatalf("BatchResizeServers: %v", err)
		}
		if res.JobID == "" || res.OrderID == "" {
			t.Fatalf("result %+v, want a job and an order", res)
		}
		return res
	}

	t.Run("upgrade waits for payment", func(t *testing.T) {
		p := b.newProject(t, ecs.DefaultQuota)
		ids := pair(t, p, "s6.small.1")
		res := held(t, p, ids)
		o, err := b.svc.FindOrder(ctx, p, res.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		// Two servers × (262.08 − 50.40) × 15/30 days: one order for both.
		if o.Status != ecs.OrderPendingPayment || o.Type != ecs.OrderTypeChange || o.Amount != 211.68 ||
			o.JobID != res.JobID || len(o.ServerIDs) != 2 || o.FlavorID != "s6.xlarge.2" {
			t.Errorf("order %+v, want one pending change of 211.68 for both servers and job %s", o, res.JobID)
		}
		job := b.job(t, res.JobID)
		if job.Type != ecs.JobBatchResize || job.Status != ecs.JobPendingPayment || len(job.SubJobs) != 2 {
			t.Fatalf("job %s %s with %d sub-jobs, want batchResizeServers PENDING_PAYMENT with 2", job.Type, job.Status, len(job.SubJobs))
		}
		for _, sub := range job.SubJobs {
			var params compute.ResizeParams
			if err := json.Unmarshal([]byte(sub.Params), &params); err != nil || params.FlavorID != "s6.xlarge.2" || sub.Status != ecs.JobInit {
				t.Errorf("sub-job %s %s params %s", sub.ID, sub.Status, sub.Params)
			}
		}
		if n := len(b.queue.Jobs(p)); n != 0 {
			t.Errorf("%d jobs enqueued before payment, want 0", n)
		}
		for _, id := range ids {
			if s := b.server(t, id); !s.Busy() || s.ResizeFlavorID != "s6.xlarge.2" {
				t.Errorf("server %s task %q reserving %q, want busy reserving s6.xlarge.2", id, s.TaskState, s.ResizeFlavorID)
			}
		}
		// A member with an order pending cannot be resized again.
		_, err = b.svc.ResizeServerOrder(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: ids[1], FlavorID: "s6.large.2", APIVersion: "v1.1"})
		requireCode(t, err, ecs.CodeBusy)

		if err := b.svc.PayOrder(ctx, p, res.OrderID); err != nil {
			t.Fatalf("PayOrder: %v", err)
		}
		if j := b.job(t, res.JobID); j.Status != ecs.JobRunning {
			t.Errorf("job after payment %s, want RUNNING", j.Status)
		}
		queued := b.queue.Jobs(p)
		if len(queued) != 2 || !containsJob(queued, job.SubJobs[0].ID) || !containsJob(queued, job.SubJobs[1].ID) {
			t.Errorf("enqueued %v after payment, want the 2 sub-jobs", jobIDs(queued))
		}
	})

	t.Run("cancel releases every member", func(t *testing.T) {
		p := b.newProject(t, ecs.DefaultQuota)
		ids := pair(t, p, "s6.small.1")
		res := held(t, p, ids)
		if err := b.svc.CancelOrder(ctx, p, res.OrderID); err != nil {
			t.Fatalf("CancelOrder: %v", err)
		}
		job := b.job(t, res.JobID)
		if job.Status != ecs.JobFail || job.ErrorCode != ecs.CodeOrderCancelled {
			t.Errorf("job %s %s, want FAIL %s", job.Status, job.ErrorCode, ecs.CodeOrderCancelled)
		}
		for _, sub := range job.SubJobs {
			if sub.Status != ecs.JobFail || sub.ErrorCode != ecs.CodeOrderCancelled {
				t.Errorf("sub-job %s %s %s, want FAIL %s", sub.ID, sub.Status, sub.ErrorCode, ecs.CodeOrderCancelled)
			}
		}
		for _, id := range ids {
			if s := b.server(t, id); s.Busy() || s.ResizeFlavorID != "" || s.ResizeHostID != "" || s.FlavorID != "s6.small.1" {
				t.Errorf("server %s: task %q, reservation %q on %q, flavor %s; want idle on s6.small.1", id, s.TaskState, s.ResizeFlavorID, s.ResizeHostID, s.FlavorID)
			}
		}
		if n := len(b.queue.Jobs(p)); n != 0 {
			t.Errorf("%d jobs enqueued, want 0", n)
		}
		// The members are free again: a new batch is accepted.
		held(t, p, ids)
	})

	t.Run("downgrade is a refund, completed at once", func(t *testing.T) {
		p := b.newProject(t, ecs.DefaultQuota)
		ids := pair(t, p, "s6.xlarge.2")
		res, err := b.svc.BatchResizeServers(ctx, &ecs.BatchResizeRequest{ProjectID: p, ServerIDs: ids, FlavorID: "s6.small.1"})
		if err != nil {
			t.Fatalf("BatchResizeServers: %v", err)
		}
		o, err := b.svc.FindOrder(ctx, p, res.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != ecs.OrderCompleted || o.Amount != -211.68 || o.JobID != res.JobID {
			t.Errorf("order %+v, want a completed refund of -211.68", o)
		}
		if j := b.job(t, res.JobID); j.Status != ecs.JobInit {
			t.Errorf("job %s, want INIT", j.Status)
		}
		if n := len(b.queue.Jobs(p)); n != 2 {
			t.Errorf("%d jobs enqueued, want the 2 sub-jobs", n)
		}
		requireCode(t, b.svc.PayOrder(ctx, p, res.OrderID), compute.CodeOrderNotPayable)
	})

	t.Run("refused, nothing changes", func(t *testing.T) {
		p := b.newProject(t, ecs.DefaultQuota)
		ids := pair(t, p, "s6.small.1")
		// A member with a pending order of its own.
		if _, err := b.svc.ResizeServerOrder(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: ids[0], FlavorID: "s6.large.2",
			APIVersion: "v1.1", WithStop: true}); err != nil {
			t.Fatal(err)
		}
		other := b.prePaidServer(t, p, "s6.small.1").ID
		before := b.snapshot(t, p)
		_, err := b.svc.BatchResizeServers(ctx, &ecs.BatchResizeRequest{ProjectID: p, ServerIDs: []string{other, ids[0]}, FlavorID: "s6.xlarge.2"})
		requireCode(t, err, ecs.CodeBusy)
		b.requireUnchanged(t, p, before)
		// Mixed billing modes.
		plain := b.mustInsertServer(t, p, nil).ID
		before = b.snapshot(t, p)
		_, err = b.svc.BatchResizeServers(ctx, &ecs.BatchResizeRequest{ProjectID: p, ServerIDs: []string{other, plain}, FlavorID: "s6.xlarge.2"})
		requireCode(t, err, ecs.CodeBadRequest)
		b.requireUnchanged(t, p, before)
	})
}

func TestBatchResizeServersQuota(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// s6.small.1 → s6.large.2 adds 1 vCPU and 3 GiB per server.
	p := b.newProject(t, ecs.Quota{Instances: -1, Cores: 5, RAMMB: -1})
	ids := []string{b.mustInsertServer(t, p, nil).ID, b.mustInsertServer(t, p, nil).ID, b.mustInsertServer(t, p, nil).ID}
	before := b.snapshot(t, p)
	_, err := b.svc.BatchResizeServers(t.Context(), batchRequest(p, ids...)) // 3 used + 3 > 5
	requireCode(t, err, ecs.CodeQuota)
	b.requireUnchanged(t, p, before)
	if _, err := b.svc.BatchResizeServers(t.Context(), batchRequest(p, ids[:2]...)); err != nil { // 3 + 2 = 5
		t.Fatalf("BatchResizeServers(2 servers, within quota): %v", err)
	}
}

func TestBatchResizeServersCapacity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		spareVCPUs int // of the second host
		wantHosts  []string
	}{
		// a-1 (4 vCPUs) holds three 1-vCPU servers: the first grows in
		// place, the others must move to a-2, each reserving its room.
		{"two move", 4, []string{"a-1", "a-2", "a-2"}},
		{"room for one move only", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.setHosts(t,
				ecs.Host{ID: "a-1", AZ: "cn-north-4a", VCPUs: 4, RAMMB: 65536, Arch: "x86_64"},
				ecs.Host{ID: "a-2", AZ: "cn-north-4a", VCPUs: tc.spareVCPUs, RAMMB: 65536, Arch: "x86_64"},
			)
			p := b.newProject(t, ecs.DefaultQuota)
			var ids []string
			for range 3 {
				ids = append(ids, b.mustInsertServer(t, p, func(s *ecs.Server) { s.HostID = "a-1" }).ID)
			}
			before := b.snapshot(t, p)
			_, err := b.svc.BatchResizeServers(t.Context(), batchRequest(p, ids...))
			if tc.wantHosts == nil {
				requireCode(t, err, ecs.CodeInsufficientCap)
				b.requireUnchanged(t, p, before)
				return
			}
			if err != nil {
				t.Fatalf("BatchResizeServers: %v", err)
			}
			for i, id := range ids {
				if h := b.server(t, id).ResizeHostID; h != tc.wantHosts[i] {
					t.Errorf("server %d reserved on %s, want %s", i, h, tc.wantHosts[i])
				}
			}
		})
	}
}
