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
	jobID, err := b.svc.BatchResizeServers(t.Context(), req)
	if err != nil {
		t.Fatalf("BatchResizeServers: %v", err)
	}
	job := b.job(t, jobID)
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
	type fixture struct {
		p   string
		ids []string
	}
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
		{"yearly/monthly", []func(*testBundle, string) string{with(func(s *ecs.Server) { s.ChargingMode = ecs.ChargingPrePaid })}, nil, ecs.CodeChargingNotAllowed},
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
