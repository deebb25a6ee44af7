package compute_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// resizeCase is one row of the validation-order table. The base server is
// stopped, s6.small.1, pay-per-use, in cn-north-4a on a roomy host; the base
// request changes it to s6.large.4 (2 vCPUs, 8 GB) through v1.
type resizeCase struct {
	name   string
	server func(s *ecs.Server)
	req    func(r *ecs.ResizeRequest)
	// missing: the request names a server that does not exist.
	missing bool
	// noQuota: the project's core and RAM quota are exactly used up by
	// the server, so that any growth exceeds them.
	noQuota bool
	// noRoom: the server sits alone in cn-north-4c on a host exactly its
	// size, among hosts that are all full, so that any growth finds no room.
	noRoom     bool
	wantCode   string // "" = accepted
	wantStatus int
}

// TestResizeServerValidationOrder checks ResizeServer's documented order —
// server → billing mode → lock, freeze, task, status → target flavor
// (exists, differs, catalogue rules, billing, image) → cpu_options → quota
// → capacity — by making each case fail its check AND as many later checks
// as can fail together: the earlier check must answer. Every refusal must
// leave the project untouched.
func TestResizeServerValidationOrder(t *testing.T) {
	t.Parallel()
	busy := func(s *ecs.Server) { running(s); s.TaskState = ecs.TaskRebooting }
	tests := []resizeCase{
		{
			name: "missing server beats everything", missing: true, noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeServerNotFound,
		},
		{
			name:     "another project's server is missing",
			req:      func(r *ecs.ResizeRequest) { r.ProjectID = ecs.DevTenant.ProjectID },
			wantCode: ecs.CodeServerNotFound,
		},
		{
			name: "spot beats lock, freeze, busy and flavor", noQuota: true, noRoom: true,
			server: func(s *ecs.Server) {
				busy(s)
				s.ChargingMode, s.Locked, s.Frozen = ecs.ChargingSpot, true, true
			},
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeChargingNotAllowed,
		},
		{
			name: "yearly/monthly on v1 beats lock, freeze, busy and flavor", noQuota: true, noRoom: true,
			server: func(s *ecs.Server) {
				busy(s)
				s.ChargingMode, s.Locked, s.Frozen = ecs.ChargingPrePaid, true, true
			},
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeChargingNotAllowed,
		},
		{
			name: "locked beats frozen, busy, status and flavor", noQuota: true, noRoom: true,
			server:   func(s *ecs.Server) { busy(s); s.Locked, s.Frozen = true, true },
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeLocked,
		},
		{
			name: "frozen beats busy, status and flavor", noQuota: true, noRoom: true,
			server:   func(s *ecs.Server) { busy(s); s.Frozen = true },
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeFrozen,
		},
		{
			name: "busy beats status and flavor", noQuota: true, noRoom: true,
			server:   busy,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeBusy, wantStatus: 409,
		},
		{
			name:     "busy with a resize",
			server:   func(s *ecs.Server) { s.TaskState, s.ResizeFlavorID = ecs.TaskResizePrep, "s6.large.2" },
			req:      func(r *ecs.ResizeRequest) { r.WithStop = true },
			wantCode: ecs.CodeBusy, wantStatus: 409,
		},
		{
			name: "running without withStopServer beats flavor", noQuota: true, noRoom: true,
			server:   running,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeStateConflict,
		},
		{
			name:     "ERROR server, even with withStopServer",
			server:   func(s *ecs.Server) { s.VMState = ecs.VMError },
			req:      func(r *ecs.ResizeRequest) { r.WithStop = true },
			wantCode: ecs.CodeStateConflict,
		},
		{
			name:     "BUILD server",
			server:   func(s *ecs.Server) { s.VMState = ecs.VMBuilding },
			wantCode: ecs.CodeStateConflict,
		},
		{
			name: "unknown flavor beats quota and capacity", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "nope" },
			wantCode: ecs.CodeFlavorNotFound,
		},
		{
			name: "same flavor beats cpu_options, quota and capacity", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID, r.CPUThreads = "s6.small.1", 3 },
			wantCode: ecs.CodeSameFlavor,
		},
		{
			name: "catalogue: x86 to Arm beats image, cpu_options, quota and capacity", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID, r.CPUThreads = "kc1.large.2", 3 },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name: "catalogue: KVM to Xen", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "s1.2xlarge" },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name: "catalogue: general to large-memory", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "e3.7xlarge.12" },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name: "catalogue: into a GPU family", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "pi2.2xlarge.4" },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name: "catalogue: target sold out in the server's AZ beats quota", noQuota: true,
			server:   func(s *ecs.Server) { s.AvailabilityZone, s.HostID = "cn-north-4b", "b-big" },
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "s6.large.2" }, // sold out in cn-north-4b
			wantCode: ecs.CodeInsufficientCap,
		},
		{
			name: "catalogue: abandoned target beats quota", noQuota: true,
			server: func(s *ecs.Server) {
				s.FlavorID, s.AvailabilityZone, s.HostID = "e3.7xlarge.12", "cn-north-4b", "b-big"
			},
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "e3.26xlarge.14" }, // abandoned in cn-north-4b
			wantCode: ecs.CodeFlavorAbandoned,
		},
		{
			name: "catalogue: Xen to KVM without the drivers beats quota and capacity", noQuota: true, noRoom: true,
			server:   func(s *ecs.Server) { s.FlavorID, s.ImageID = "s1.xlarge", "image-gone" },
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "s6.2xlarge.2" },
			wantCode: ecs.CodeXenToKVM,
		},
		{
			name: "billing: target not sold pay-per-use beats quota", noQuota: true,
			server: func(s *ecs.Server) {
				s.FlavorID, s.AvailabilityZone, s.HostID = "e3.7xlarge.12", "cn-north-4b", "b-big"
			},
			req:      func(r *ecs.ResizeRequest) { r.FlavorID = "e3.14xlarge.12" },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name:     "image does not fit the target beats cpu_options",
			server:   func(s *ecs.Server) { s.FlavorID, s.ImageID = "s6.medium.2", imageWindows },
			req:      func(r *ecs.ResizeRequest) { r.FlavorID, r.CPUThreads = "s6.small.1", 3 }, // 1 GB < 2 GB
			wantCode: ecs.CodeImageInvalid,
		},
		{
			name: "cpu_options on a flavor that cannot turn hyper-threading off beats quota and capacity", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.CPUThreads = 1 },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name: "cpu_options out of range", noQuota: true, noRoom: true,
			req:      func(r *ecs.ResizeRequest) { r.CPUThreads = 3 },
			wantCode: ecs.CodeBadRequest,
		},
		{
			name: "quota beats capacity", noQuota: true, noRoom: true,
			wantCode: ecs.CodeQuota,
		},
		{
			name: "capacity", noRoom: true,
			wantCode: ecs.CodeInsufficientCap,
		},
		{
			name: "accepted: a shrink needs neither quota nor room", noQuota: true, noRoom: true,
			server: func(s *ecs.Server) { s.FlavorID = "s6.large.4" },
			req:    func(r *ecs.ResizeRequest) { r.FlavorID = "s6.small.1" },
		},
		{
			name:   "accepted: running with withStopServer",
			server: running,
			req:    func(r *ecs.ResizeRequest) { r.WithStop = true },
		},
		{
			name:   "accepted: hyper-threading off on a dedicated flavor",
			server: func(s *ecs.Server) { s.FlavorID, s.CPUThreads = "c6.large.2", 2 },
			req:    func(r *ecs.ResizeRequest) { r.FlavorID, r.CPUThreads = "c6.xlarge.4", 1 },
		},
		{
			name:   "accepted: Xen to KVM with the drivers",
			server: func(s *ecs.Server) { s.FlavorID, s.ImageID = "s1.xlarge", imageUbuntu20 },
			req:    func(r *ecs.ResizeRequest) { r.FlavorID = "s6.2xlarge.2" },
		},
		{
			name:   "accepted: leaving an abandoned flavor",
			server: func(s *ecs.Server) { s.FlavorID, s.ImageID = "s1.medium", imageUbuntu20 },
			req:    func(r *ecs.ResizeRequest) { r.FlavorID = "s1.xlarge" },
		},
	}

	b := setup(t)
	// cn-north-4a and 4b have roomy hosts; 4c has one host per noRoom case,
	// each exactly the size of its server, so all of them are full.
	hosts := []ecs.Host{
		{ID: "a-big", AZ: "cn-north-4a", VCPUs: 512, RAMMB: 4 << 20, Arch: "x86_64"},
		{ID: "b-big", AZ: "cn-north-4b", VCPUs: 512, RAMMB: 4 << 20, Arch: "x86_64"},
	}
	type fixture struct {
		project string
		server  *ecs.Server
	}
	fixtures := make([]fixture, len(tests))
	for i, tc := range tests {
		s := &ecs.Server{FlavorID: "s6.small.1", AvailabilityZone: "cn-north-4a", HostID: "a-big"}
		if tc.server != nil {
			tc.server(s)
		}
		if tc.noRoom {
			f, _ := cat.Flavor(s.FlavorID)
			s.AvailabilityZone, s.HostID = "cn-north-4c", fmt.Sprintf("c-full-%02d", i)
			hosts = append(hosts, ecs.Host{ID: s.HostID, AZ: s.AvailabilityZone, VCPUs: f.VCPUs, RAMMB: f.RAMMB, Arch: "x86_64"})
		}
		quota := ecs.DefaultQuota
		if tc.noQuota {
			f, _ := cat.Flavor(s.FlavorID)
			quota = ecs.Quota{Instances: -1, Cores: f.VCPUs, RAMMB: f.RAMMB}
		}
		p := b.newProject(t, quota)
		fixtures[i] = fixture{project: p, server: b.mustInsertServer(t, p, func(srv *ecs.Server) {
			if tc.server != nil {
				tc.server(srv)
			}
			srv.AvailabilityZone, srv.HostID = s.AvailabilityZone, s.HostID
		})}
	}
	b.setHosts(t, hosts...)

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := fixtures[i]
			req := &ecs.ResizeRequest{ProjectID: fx.project, ServerID: fx.server.ID, FlavorID: "s6.large.4", APIVersion: "v1"}
			if tc.missing {
				req.ServerID = compute.NewUUID()
			}
			if tc.req != nil {
				tc.req(req)
			}
			// Refusals are checked on real requests: they must write
			// nothing. Acceptances are checked on dry runs, which must
			// write nothing either.
			req.DryRun = tc.wantCode == ""
			before := b.snapshot(t, fx.project)
			jobID, err := b.svc.ResizeServer(t.Context(), req)
			if tc.wantCode == "" {
				if err != nil || jobID != "" {
					t.Fatalf("dry run = %q, %v; want \"\", nil", jobID, err)
				}
			} else {
				requireCode(t, err, tc.wantCode)
				var e *ecs.Error
				if errors.As(err, &e) && e.Status != tc.wantStatus {
					t.Errorf("status = %d, want %d", e.Status, tc.wantStatus)
				}
			}
			b.requireUnchanged(t, fx.project, before)
		})
	}
}

func resizeParams(t *testing.T, j *ecs.Job) compute.ResizeParams {
	t.Helper()
	var p compute.ResizeParams
	if err := json.Unmarshal([]byte(j.Params), &p); err != nil {
		t.Fatalf("job %s params %q: %v", j.ID, j.Params, err)
	}
	return p
}

func TestResizeServerAccepted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)

	tests := []struct {
		name       string
		server     func(s *ecs.Server)
		req        ecs.ResizeRequest
		wantTask   string
		wantStatus string
		wantParams compute.ResizeParams
		// Limits while the resize runs: the larger of the two flavors.
		wantCores, wantRAM int
	}{
		{
			name:       "stopped server grows",
			req:        ecs.ResizeRequest{FlavorID: "s6.large.4"},
			wantTask:   ecs.TaskResizePrep,
			wantStatus: ecs.StatusResize,
			wantParams: compute.ResizeParams{FlavorID: "s6.large.4", OldFlavorID: "s6.small.1", HostID: "cn-north-4a-x86-01", OldHostID: "cn-north-4a-x86-01"},
			wantCores:  2, wantRAM: 8192,
		},
		{
			name:       "running server with withStopServer, hyper-threading off",
			server:     func(s *ecs.Server) { running(s); s.FlavorID, s.CPUThreads = "c6.large.2", 2 },
			req:        ecs.ResizeRequest{FlavorID: "c6.xlarge.2", WithStop: true, CPUThreads: 1},
			wantTask:   ecs.TaskPoweringOff,
			wantStatus: ecs.StatusActive, // powering-off still shows ACTIVE
			wantParams: compute.ResizeParams{FlavorID: "c6.xlarge.2", OldFlavorID: "c6.large.2", HostID: "cn-north-4a-x86-01",
				OldHostID: "cn-north-4a-x86-01", WasRunning: true, CPUThreads: 1, OldCPUThreads: 2},
			wantCores: 4, wantRAM: 8192,
		},
		{
			name:       "shrink keeps the larger shape reserved",
			server:     func(s *ecs.Server) { s.FlavorID = "s6.xlarge.4" },
			req:        ecs.ResizeRequest{FlavorID: "s6.medium.2"},
			wantTask:   ecs.TaskResizePrep,
			wantStatus: ecs.StatusResize,
			wantParams: compute.ResizeParams{FlavorID: "s6.medium.2", OldFlavorID: "s6.xlarge.4", HostID: "cn-north-4a-x86-01", OldHostID: "cn-north-4a-x86-01"},
			wantCores:  4, wantRAM: 16384,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, ecs.DefaultQuota)
			srv := b.mustInsertServer(t, p, tc.server)
			req := tc.req
			req.ProjectID, req.ServerID, req.APIVersion = p, srv.ID, "v1"
			jobID, err := b.svc.ResizeServer(ctx, &req)
			if err != nil {
				t.Fatalf("ResizeServer: %v", err)
			}

			got := b.server(t, srv.ID)
			if got.TaskState != tc.wantTask || got.Status() != tc.wantStatus {
				t.Errorf("server task %q status %s, want %q %s", got.TaskState, got.Status(), tc.wantTask, tc.wantStatus)
			}
			if got.ResizeFlavorID != tc.wantParams.FlavorID || got.ResizeHostID != tc.wantParams.HostID {
				t.Errorf("reservation %s on %s, want %s on %s", got.ResizeFlavorID, got.ResizeHostID, tc.wantParams.FlavorID, tc.wantParams.HostID)
			}
			if got.FlavorID != srv.FlavorID || got.HostID != srv.HostID || got.CPUThreads != srv.CPUThreads {
				t.Errorf("flavor %s host %s threads %d changed before the job ran", got.FlavorID, got.HostID, got.CPUThreads)
			}

			job := b.job(t, jobID)
			if job.Type != ecs.JobResizeServer || job.Status != ecs.JobInit || job.ServerID != srv.ID ||
				job.ProjectID != p || job.ParentID != "" || len(job.SubJobs) != 0 || job.BeginTime.IsZero() {
				t.Errorf("job = %+v, want an INIT resizeServer job of %s", job, srv.ID)
			}
			if diff := cmp.Diff(tc.wantParams, resizeParams(t, job)); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			if q := b.queue.Jobs(p); len(q) != 1 || q[0].ID != jobID {
				t.Errorf("enqueued %v, want exactly [%s]", jobIDs(q), jobID)
			}

			l, err := b.svc.Limits(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if l.InstancesUsed != 1 || l.CoresUsed != tc.wantCores || l.RAMUsedMB != tc.wantRAM {
				t.Errorf("Limits used %d/%d/%d, want 1/%d/%d", l.InstancesUsed, l.CoresUsed, l.RAMUsedMB, tc.wantCores, tc.wantRAM)
			}

			// One operation at a time.
			req.FlavorID, req.WithStop = "s6.xlarge.2", true
			_, err = b.svc.ResizeServer(ctx, &req)
			requireCode(t, err, ecs.CodeBusy)
		})
	}
}

// TestResizeServerReservations checks that a resize in progress holds its
// target against quota and capacity until its job ends.
func TestResizeServerReservations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	b.setHosts(t,
		ecs.Host{ID: "a-1", AZ: "cn-north-4a", VCPUs: 5, RAMMB: 65536, Arch: "x86_64"},
		ecs.Host{ID: "b-1", AZ: "cn-north-4b", VCPUs: 2, RAMMB: 4096, Arch: "x86_64"},
		ecs.Host{ID: "b-2", AZ: "cn-north-4b", VCPUs: 16, RAMMB: 65536, Arch: "x86_64"},
	)

	t.Run("capacity", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.DefaultQuota)
		onA1 := func(s *ecs.Server) { s.HostID = "a-1" }
		first, second := b.mustInsertServer(t, p, onA1), b.mustInsertServer(t, p, onA1)
		// 2 of a-1's 5 vCPUs are used; growing the first by 3 fills it.
		if _, err := b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: first.ID, FlavorID: "s6.xlarge.2"}); err != nil {
			t.Fatalf("first resize: %v", err)
		}
		// Without the reservation the second would fit (2 + 1 ≤ 5).
		_, err := b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: second.ID, FlavorID: "s6.large.2"})
		requireCode(t, err, ecs.CodeInsufficientCap)
	})

	t.Run("migration to another host", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.DefaultQuota)
		srv := b.mustInsertServer(t, p, func(s *ecs.Server) {
			s.FlavorID, s.AvailabilityZone, s.HostID = "s6.large.2", "cn-north-4b", "b-1" // b-1 is full
		})
		if _, err := b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2"}); err != nil {
			t.Fatalf("ResizeServer: %v", err)
		}
		got := b.server(t, srv.ID)
		if got.HostID != "b-1" || got.ResizeHostID != "b-2" {
			t.Errorf("host %s, reserved host %s; want b-1 and a reservation on b-2", got.HostID, got.ResizeHostID)
		}
		params := resizeParams(t, b.queue.Jobs(p)[0])
		if params.HostID != "b-2" || params.OldHostID != "b-1" {
			t.Errorf("params move %s → %s, want b-1 → b-2", params.OldHostID, params.HostID)
		}
	})

	t.Run("quota", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.Quota{Instances: -1, Cores: 5, RAMMB: -1})
		srv := b.mustInsertServer(t, p, func(s *ecs.Server) { s.AvailabilityZone, s.HostID = "cn-north-4b", "b-2" })
		if _, err := b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2"}); err != nil {
			t.Fatalf("ResizeServer: %v", err)
		}
		// 4 of 5 cores are held by the resize: a 2-core server does not fit.
		_, err := b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) {
			r.FlavorID, r.AvailabilityZone = "s6.large.4", "cn-north-4b"
		}))
		requireCode(t, err, ecs.CodeQuota)
		b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.AvailabilityZone = "cn-north-4b" }))
	})
}

func TestResizeServerDryRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	srv := b.mustInsertServer(t, p, running)
	before := b.snapshot(t, p)
	jobID, err := b.svc.ResizeServer(t.Context(), &ecs.ResizeRequest{
		ProjectID: p, ServerID: srv.ID, FlavorID: "s6.large.4", WithStop: true, DryRun: true, APIVersion: "v1",
	})
	if err != nil || jobID != "" {
		t.Fatalf("dry run = %q, %v; want \"\", nil", jobID, err)
	}
	b.requireUnchanged(t, p, before)
	l, err := b.svc.Limits(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if l.CoresUsed != 1 {
		t.Errorf("cores used after a dry run = %d, want 1 (nothing reserved)", l.CoresUsed)
	}
	// A failing dry run reports the error.
	_, err = b.svc.ResizeServer(t.Context(), &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.large.4", DryRun: true})
	requireCode(t, err, ecs.CodeStateConflict)
}

func TestResizeServerEnqueueFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	srv := b.mustInsertServer(t, p, nil)
	before := b.snapshot(t, p)
	boom := errors.New("queue unavailable")
	b.queue.failFor(p, boom)
	_, err := b.svc.ResizeServer(t.Context(), &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.large.4"})
	if !errors.Is(err, boom) {
		t.Fatalf("ResizeServer = %v, want the queue's error", err)
	}
	b.requireUnchanged(t, p, before)
}

func flavorIDs(fs []*ecs.Flavor) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestResizeFlavors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	inB := b.mustInsertServer(t, p, func(s *ecs.Server) { s.AvailabilityZone, s.HostID = "cn-north-4b", "cn-north-4b-x86-01" })
	windows := b.mustInsertServer(t, p, func(s *ecs.Server) { s.FlavorID, s.ImageID = "s6.medium.2", imageWindows })
	src, _ := cat.Flavor("s6.small.1")
	oracle := func(az string) []string { return flavorIDs(cat.ResizeTargets(src, az)) }

	list := func(t *testing.T, req ecs.ResizeFlavorsRequest) []string {
		t.Helper()
		req.ProjectID = p
		fs, err := b.svc.ResizeFlavors(ctx, &req)
		if err != nil {
			t.Fatalf("ResizeFlavors(%+v): %v", req, err)
		}
		return flavorIDs(fs)
	}

	t.Run("by instance: the AZ's sale status counts", func(t *testing.T) {
		got := list(t, ecs.ResizeFlavorsRequest{InstanceID: inB.ID})
		if diff := cmp.Diff(oracle("cn-north-4b"), got); diff != "" {
			t.Errorf("(-catalogue +ResizeFlavors):\n%s", diff)
		}
		for _, unwanted := range []string{"s6.small.1", "s6.large.2", "kc1.large.2", "s1.xlarge", "e3.7xlarge.12", "p2s.2xlarge.8"} {
			if slices.Contains(got, unwanted) {
				t.Errorf("list holds %s", unwanted)
			}
		}
		if !slices.Contains(got, "s6.large.4") || !slices.Contains(got, "c7.large.2") {
			t.Errorf("list %v lacks s6.large.4 or c7.large.2", got)
		}
		// The instance wins over the source flavor.
		if again := list(t, ecs.ResizeFlavorsRequest{InstanceID: inB.ID, SourceFlavorID: "kc1.large.2"}); !cmp.Equal(again, got) {
			t.Errorf("with a source flavor too: %v, want %v", again, got)
		}
	})
	t.Run("by instance: the image's minimum memory counts", func(t *testing.T) {
		got := list(t, ecs.ResizeFlavorsRequest{InstanceID: windows.ID})
		for _, id := range got {
			if f, _ := cat.Flavor(id); f.RAMMB < 2048 {
				t.Errorf("list holds %s with %d MB, less than the Windows image needs", id, f.RAMMB)
			}
		}
		if slices.Contains(got, "s6.small.1") || !slices.Contains(got, "s6.large.2") {
			t.Errorf("list %v: want s6.large.2 and not s6.small.1", got)
		}
	})
	t.Run("by flavor ID and name: region-wide sale status", func(t *testing.T) {
		byID := list(t, ecs.ResizeFlavorsRequest{SourceFlavorID: "s6.small.1"})
		if diff := cmp.Diff(oracle(""), byID); diff != "" {
			t.Errorf("(-catalogue +ResizeFlavors):\n%s", diff)
		}
		if !slices.Contains(byID, "s6.large.2") {
			t.Error("s6.large.2 is sold out only in cn-north-4b but missing from the region-wide list")
		}
		if byName := list(t, ecs.ResizeFlavorsRequest{SourceFlavorName: "s6.small.1"}); !cmp.Equal(byName, byID) {
			t.Errorf("by name %v, by ID %v", byName, byID)
		}
	})
	t.Run("sorting", func(t *testing.T) {
		for _, tc := range []struct {
			key, dir string
			value    func(f *ecs.Flavor) int
		}{
			{"vcpus", "", func(f *ecs.Flavor) int { return f.VCPUs }},
			{"vcpus", "desc", func(f *ecs.Flavor) int { return f.VCPUs }},
			{"memory_mb", "asc", func(f *ecs.Flavor) int { return f.RAMMB }},
			{"memory_mb", "desc", func(f *ecs.Flavor) int { return f.RAMMB }},
		} {
			fs, err := b.svc.ResizeFlavors(ctx, &ecs.ResizeFlavorsRequest{ProjectID: p, SourceFlavorID: "s6.small.1", SortKey: tc.key, SortDir: tc.dir})
			if err != nil {
				t.Fatal(err)
			}
			sorted := slices.IsSortedFunc(fs, func(a, b *ecs.Flavor) int {
				c := tc.value(a) - tc.value(b)
				if c == 0 {
					c = strings.Compare(a.ID, b.ID) // ties by ID
				}
				if tc.dir == "desc" {
					return -c
				}
				return c
			})
			if !sorted {
				t.Errorf("sort %s %s: %v", tc.key, tc.dir, flavorIDs(fs))
			}
		}
		byName := list(t, ecs.ResizeFlavorsRequest{SourceFlavorID: "s6.small.1", SortKey: "name", SortDir: "desc"})
		if !slices.IsSortedFunc(byName, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("sort name desc: %v", byName)
		}
		if def := list(t, ecs.ResizeFlavorsRequest{SourceFlavorID: "s6.small.1"}); !slices.IsSorted(def) {
			t.Errorf("default sort is not by flavor ID: %v", def)
		}
	})
	t.Run("marker and limit page through the list", func(t *testing.T) {
		all := list(t, ecs.ResizeFlavorsRequest{SourceFlavorID: "s6.small.1", SortKey: "vcpus", SortDir: "desc"})
		var paged []string
		marker := ""
		for range len(all) {
			page := list(t, ecs.ResizeFlavorsRequest{SourceFlavorID: "s6.small.1", SortKey: "vcpus", SortDir: "desc", Marker: marker, Limit: 4})
			if len(page) == 0 {
				break
			}
			if len(page) > 4 {
				t.Fatalf("page of %d, limit 4", len(page))
			}
			paged = append(paged, page...)
			marker = page[len(page)-1]
		}
		if diff := cmp.Diff(all, paged); diff != "" {
			t.Errorf("pages (-whole +paged):\n%s", diff)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			req  ecs.ResizeFlavorsRequest
			want string
		}{
			{ecs.ResizeFlavorsRequest{}, ecs.CodeBadRequest},
			{ecs.ResizeFlavorsRequest{SourceFlavorID: "nope"}, ecs.CodeFlavorNotFound},
			{ecs.ResizeFlavorsRequest{SourceFlavorName: "nope"}, ecs.CodeFlavorNotFound},
			{ecs.ResizeFlavorsRequest{InstanceID: "no-such-server"}, ecs.CodeServerNotFound},
			{ecs.ResizeFlavorsRequest{SourceFlavorID: "s6.small.1", Marker: "kc1.large.2"}, ecs.CodeBadRequest},
		} {
			req := tc.req
			req.ProjectID = p
			_, err := b.svc.ResizeFlavors(ctx, &req)
			requireCode(t, err, tc.want)
		}
		// Another project's server is not found.
		_, err := b.svc.ResizeFlavors(ctx, &ecs.ResizeFlavorsRequest{ProjectID: ecs.DevTenant.ProjectID, InstanceID: inB.ID})
		requireCode(t, err, ecs.CodeServerNotFound)
	})
}
