package worker_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
	"github.com/ecsd-dev/ecsd/worker"
)

const imageUbuntu22 = "abe65701-8a26-40ec-b381-c10498ca3745"

// cat is the default catalogue; it is immutable and safe to share.
var cat = catalog.Default()

var discard = slog.New(slog.DiscardHandler)

// newDB returns a real, private, on-disk database for one test.
func newDB(tb testing.TB) *store.DB { return storetest.NewDB(tb) }

// fakeQueue records the jobs compute enqueues; tests run them by hand.
type fakeQueue struct {
	mu   sync.Mutex
	jobs []string
}

func (q *fakeQueue) Enqueue(_ context.Context, tx *sql.Tx, jobs ...*ecs.Job) error {
	if tx == nil {
		return errors.New("fakeQueue: Enqueue without a transaction")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		q.jobs = append(q.jobs, j.ID)
	}
	return nil
}

// testBundle is a compute.Service and a worker.Runner over one database, the
// default catalogue and a sim driver, with instant phases.
type testBundle struct {
	db     *store.DB
	drv    *sim.Driver
	svc    *compute.Service
	runner *worker.Runner
}

func setup(t *testing.T) *testBundle { return setupWith(t, sim.Options{}, nil) }

// setupWith is setup with driver options and hosts (nil = the catalogue's).
func setupWith(t *testing.T, opts sim.Options, hosts []ecs.Host) *testBundle {
	t.Helper()
	db := newDB(t)
	b := &testBundle{db: db, drv: sim.New(opts)}
	b.svc = &compute.Service{Store: db, Queue: &fakeQueue{}, Catalog: cat, Clock: ecs.RealClock{}, Logger: discard}
	b.runner = b.newRunner(db, ecs.RealClock{}, worker.Timing{})
	if err := b.svc.EnsureTenant(t.Context(), ecs.DevTenant, ecs.Quota{Instances: -1, Cores: -1, RAMMB: -1}); err != nil {
		t.Fatal(err)
	}
	if hosts == nil {
		for _, h := range cat.Hosts() {
			hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
		}
	}
	if err := b.svc.SetHosts(t.Context(), hosts); err != nil {
		t.Fatal(err)
	}
	return b
}

// newRunner returns a runner on b's driver with another store, clock or
// timing.
func (b *testBundle) newRunner(store worker.Store, clock ecs.Clock, timing worker.Timing) *worker.Runner {
	return &worker.Runner{Store: store, Driver: b.drv, Flavors: cat, Clock: clock, Timing: timing, Logger: discard}
}

func (b *testBundle) server(t *testing.T, id string) *ecs.Server {
	t.Helper()
	s, err := b.svc.FindServerByID(t.Context(), "", id)
	if err != nil {
		t.Fatalf("FindServerByID(%s): %v", id, err)
	}
	return s
}

func (b *testBundle) job(t *testing.T, id string) *ecs.Job {
	t.Helper()
	j, err := b.svc.FindJobByID(t.Context(), "", id)
	if err != nil {
		t.Fatalf("FindJobByID(%s): %v", id, err)
	}
	return j
}

func (b *testBundle) inspect(t *testing.T, id string) driver.State {
	t.Helper()
	st, err := b.drv.Inspect(t.Context(), id)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", id, err)
	}
	return st
}

// runJob runs a job to its end with b.runner: a batch job's sub-jobs in
// order, else the job itself. It returns the job as stored afterwards.
func (b *testBundle) runJob(t *testing.T, jobID string) *ecs.Job {
	t.Helper()
	job := b.job(t, jobID)
	ids := []string{job.ID}
	if len(job.SubJobs) > 0 {
		ids = nil
		for _, sub := range job.SubJobs {
			ids = append(ids, sub.ID)
		}
	}
	for _, id := range ids {
		if err := b.runner.Run(t.Context(), id, false, nil); err != nil {
			t.Fatalf("Run(%s): %v", id, err)
		}
	}
	return b.job(t, jobID)
}

// createServer creates one server through compute, runs its job, and
// returns the server's ID.
// acceptCreate has count pay-per-use servers of flavorID accepted (in az,
// "" = any) in the development tenant's default network, without running
// the job.
func (b *testBundle) acceptCreate(t *testing.T, name, flavorID string, count int, az string) *ecs.CreateServersResult {
	t.Helper()
	p := ecs.DevTenant.ProjectID
	res, err := b.svc.CreateServers(t.Context(), &ecs.CreateServersRequest{
		ProjectID: p, Name: name, ImageID: imageUbuntu22, FlavorID: flavorID, Count: count,
		VPCID: compute.DerivedUUID(p + "/vpc"), SubnetIDs: []string{compute.DerivedUUID(p + "/subnet")},
		ChargingMode: ecs.ChargingPostPaid, AvailabilityZone: az,
	})
	if err != nil {
		t.Fatalf("CreateServers: %v", err)
	}
	return res
}

func (b *testBundle) createServer(t *testing.T, flavorID string) string {
	t.Helper()
	res := b.acceptCreate(t, "srv", flavorID, 1, "cn-north-4a")
	if job := b.runJob(t, res.JobID); job.Status != ecs.JobSuccess {
		t.Fatalf("create job = %+v, want SUCCESS", job)
	}
	return res.ServerIDs[0]
}

func (b *testBundle) act(t *testing.T, action string, hard bool, ids ...string) string {
	t.Helper()
	jobID, err := b.svc.ActOnServers(t.Context(), &ecs.ServerActionRequest{
		ProjectID: ecs.DevTenant.ProjectID, Action: action, Hard: hard, ServerIDs: ids,
	})
	if err != nil {
		t.Fatalf("ActOnServers(%s): %v", action, err)
	}
	return jobID
}

// stoppedServer creates a server and stops it.
func (b *testBundle) stoppedServer(t *testing.T, flavorID string) string {
	t.Helper()
	id := b.createServer(t, flavorID)
	if job := b.runJob(t, b.act(t, ecs.ActionStop, false, id)); job.Status != ecs.JobSuccess {
		t.Fatalf("stop job = %+v, want SUCCESS", job)
	}
	return id
}

func (b *testBundle) resize(t *testing.T, id, flavorID string, withStop bool, cpuThreads int) string {
	t.Helper()
	jobID, err := b.svc.ResizeServer(t.Context(), &ecs.ResizeRequest{
		ProjectID: ecs.DevTenant.ProjectID, ServerID: id, FlavorID: flavorID, WithStop: withStop,
		CPUThreads: cpuThreads, APIVersion: "v1",
	})
	if err != nil {
		t.Fatalf("ResizeServer: %v", err)
	}
	return jobID
}

func shapeOf(t *testing.T, flavorID string) driver.Shape {
	t.Helper()
	f, ok := cat.Flavor(flavorID)
	if !ok {
		t.Fatalf("flavor %s not in the catalogue", flavorID)
	}
	return driver.Shape{FlavorID: f.ID, VCPUs: f.VCPUs, RAMMB: f.RAMMB}
}

// requireEnded checks that a job ended with status and code, at a time.
func requireEnded(t *testing.T, j *ecs.Job, status, code string) {
	t.Helper()
	if j.Status != status || j.ErrorCode != code || j.EndTime.IsZero() || j.EndTime.Before(j.BeginTime) {
		t.Errorf("job %s: status %s code %q end %v (begin %v); want %s with code %q and an end time",
			j.ID, j.Status, j.ErrorCode, j.EndTime, j.BeginTime, status, code)
	}
	if (status == ecs.JobFail) != (j.FailReason != "") {
		t.Errorf("job %s: status %s with fail reason %q", j.ID, j.Status, j.FailReason)
	}
}

// requireServerState checks a server's API-visible state and that nothing
// is left in progress.
func requireServerState(t *testing.T, s *ecs.Server, status string, power int, flavorID string) {
	t.Helper()
	if s.Status() != status || s.PowerState != power || s.FlavorID != flavorID {
		t.Errorf("server %s: %s power %d flavor %s; want %s power %d flavor %s",
			s.ID, s.Status(), s.PowerState, s.FlavorID, status, power, flavorID)
	}
	if s.TaskState != ecs.TaskNone || s.ResizeFlavorID != "" || s.ResizeHostID != "" {
		t.Errorf("server %s: task %q reservation %q/%q left behind", s.ID, s.TaskState, s.ResizeFlavorID, s.ResizeHostID)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	res := b.acceptCreate(t, "web", "s6.large.2", 2, "")
	parent := b.job(t, res.JobID)

	// The first sub-job makes the parent RUNNING, not done.
	if err := b.runner.Run(ctx, parent.SubJobs[0].ID, false, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	mid := b.job(t, res.JobID)
	if mid.Status != ecs.JobRunning || !mid.EndTime.IsZero() {
		t.Errorf("parent after one of two sub-jobs: %s, end %v; want RUNNING, no end", mid.Status, mid.EndTime)
	}
	requireEnded(t, mid.SubJobs[0], ecs.JobSuccess, "")
	if mid.SubJobs[0].Phase != ecs.TaskSpawning {
		t.Errorf("sub-job phase = %q, want the last phase %q", mid.SubJobs[0].Phase, ecs.TaskSpawning)
	}
	if mid.SubJobs[1].Status != ecs.JobInit {
		t.Errorf("second sub-job = %s, want INIT", mid.SubJobs[1].Status)
	}

	if err := b.runner.Run(ctx, parent.SubJobs[1].ID, false, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	requireEnded(t, b.job(t, res.JobID), ecs.JobSuccess, "")
	for _, id := range res.ServerIDs {
		s := b.server(t, id)
		requireServerState(t, s, ecs.StatusActive, ecs.PowerRunning, "s6.large.2")
		if s.LaunchedAt.IsZero() || s.LaunchedAt.Before(s.Created) {
			t.Errorf("server %s launched at %v (created %v)", id, s.LaunchedAt, s.Created)
		}
		if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerRunning, Shape: shapeOf(t, "s6.large.2")}) {
			t.Errorf("driver state %+v, want running s6.large.2", st)
		}
	}
}

func TestCreateFault(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	res := b.acceptCreate(t, "web", "s6.small.1", 2, "")
	bad := res.ServerIDs[1]
	b.drv.InjectFault(sim.Fault{Op: sim.OpCreate, InstanceID: bad})
	job := b.runJob(t, res.JobID)

	requireEnded(t, job.SubJobs[0], ecs.JobSuccess, "")
	requireEnded(t, job.SubJobs[1], ecs.JobFail, "Ecs.0204")
	requireEnded(t, job, ecs.JobFail, "Ecs.0204")
	if !strings.Contains(job.SubJobs[1].FailReason, ecs.TaskSpawning) {
		t.Errorf("fail reason %q does not name the phase", job.SubJobs[1].FailReason)
	}
	s := b.server(t, bad)
	requireServerState(t, s, ecs.StatusError, ecs.PowerNoState, "s6.small.1")
	if s.FaultCode == 0 || s.FaultMessage == "" {
		t.Errorf("server in ERROR without a fault: %d %q", s.FaultCode, s.FaultMessage)
	}
	if _, err := b.drv.Inspect(ctx, bad); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("driver still has the failed server: %v", err)
	}
	requireServerState(t, b.server(t, res.ServerIDs[0]), ecs.StatusActive, ecs.PowerRunning, "s6.small.1")
}

func TestPowerActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name      string
		stopped   bool // the server is stopped first
		action    string
		hard      bool
		wantPhase string
		want      string
		wantPower int
		wantDrv   string
	}{
		{"stop", false, ecs.ActionStop, false, ecs.TaskPoweringOff, ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped},
		{"hard stop", false, ecs.ActionStop, true, ecs.TaskPoweringOff, ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped},
		{"start", true, ecs.ActionStart, false, ecs.TaskPoweringOn, ecs.StatusActive, ecs.PowerRunning, driver.PowerRunning},
		{"soft reboot", false, ecs.ActionReboot, false, ecs.TaskRebootStarted, ecs.StatusActive, ecs.PowerRunning, driver.PowerRunning},
		{"hard reboot", false, ecs.ActionReboot, true, ecs.TaskRebootStartedHard, ecs.StatusActive, ecs.PowerRunning, driver.PowerRunning},
		{"start of a running server does nothing", false, ecs.ActionStart, false, "", ecs.StatusActive, ecs.PowerRunning, driver.PowerRunning},
		{"stop of a stopped server does nothing", true, ecs.ActionStop, false, "", ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var id string
			if tc.stopped {
				id = b.stoppedServer(t, "s6.small.1")
			} else {
				id = b.createServer(t, "s6.small.1")
			}
			before := b.server(t, id)
			job := b.runJob(t, b.act(t, tc.action, tc.hard, id))
			requireEnded(t, job, ecs.JobSuccess, "")
			requireEnded(t, job.SubJobs[0], ecs.JobSuccess, "")
			if job.SubJobs[0].Phase != tc.wantPhase {
				t.Errorf("sub-job phase = %q, want %q", job.SubJobs[0].Phase, tc.wantPhase)
			}
			s := b.server(t, id)
			requireServerState(t, s, tc.want, tc.wantPower, "s6.small.1")
			if s.FlavorID != before.FlavorID || s.HostID != before.HostID {
				t.Errorf("flavor/host changed: %s/%s → %s/%s", before.FlavorID, before.HostID, s.FlavorID, s.HostID)
			}
			if st := b.inspect(t, id); st.Power != tc.wantDrv {
				t.Errorf("driver power = %s, want %s", st.Power, tc.wantDrv)
			}
		})
	}
}

func TestPowerFaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		stopped  bool
		action   string
		op       string
		err      error
		wantCode string
		want     string
	}{
		{"start fails", true, ecs.ActionStart, sim.OpStart, nil, ecs.CodeGeneric, ecs.StatusShutoff},
		{"stop fails with a code of its own", false, ecs.ActionStop, sim.OpStop, ecs.Errorf("Ecs.0101", "system busy"), "Ecs.0101", ecs.StatusActive},
		{"reboot fails", false, ecs.ActionReboot, sim.OpReboot, errors.New("hypervisor gone"), ecs.CodeGeneric, ecs.StatusActive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var id string
			if tc.stopped {
				id = b.stoppedServer(t, "s6.small.1")
			} else {
				id = b.createServer(t, "s6.small.1")
			}
			b.drv.InjectFault(sim.Fault{Op: tc.op, InstanceID: id, Err: tc.err})
			job := b.runJob(t, b.act(t, tc.action, false, id))
			requireEnded(t, job, ecs.JobFail, tc.wantCode)
			requireEnded(t, job.SubJobs[0], ecs.JobFail, tc.wantCode)
			s := b.server(t, id)
			power := ecs.PowerRunning
			if tc.want == ecs.StatusShutoff {
				power = ecs.PowerShutdown
			}
			requireServerState(t, s, tc.want, power, "s6.small.1")
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	running, stopped, failing := b.createServer(t, "s6.small.1"), b.stoppedServer(t, "s6.small.1"), b.createServer(t, "s6.small.1")
	b.drv.InjectFault(sim.Fault{Op: sim.OpDelete, InstanceID: failing})

	jobID, err := b.svc.DeleteServers(ctx, &ecs.DeleteServersRequest{ProjectID: ecs.DevTenant.ProjectID, ServerIDs: []string{running, stopped, failing}})
	if err != nil {
		t.Fatal(err)
	}
	job := b.runJob(t, jobID)
	requireEnded(t, job.SubJobs[0], ecs.JobSuccess, "")
	requireEnded(t, job.SubJobs[1], ecs.JobSuccess, "")
	requireEnded(t, job.SubJobs[2], ecs.JobFail, ecs.CodeGeneric)
	requireEnded(t, job, ecs.JobFail, ecs.CodeGeneric)
	for _, id := range []string{running, stopped} {
		if _, err := b.svc.FindServerByID(ctx, "", id); ecs.ErrorCode(err) != ecs.CodeServerNotFound {
			t.Errorf("deleted server %s: %v, want %s", id, err, ecs.CodeServerNotFound)
		}
		if _, err := b.drv.Inspect(ctx, id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("driver still has deleted server %s: %v", id, err)
		}
	}
	// The failed delete leaves the server as it was, idle.
	requireServerState(t, b.server(t, failing), ecs.StatusActive, ecs.PowerRunning, "s6.small.1")
}

// TestBatchParent checks how a batch job ends: FAIL with the code of its
// first failed sub-job (in sub-job order, whatever the order they ran in).
func TestBatchParent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	ids := []string{b.createServer(t, "s6.small.1"), b.createServer(t, "s6.small.1"), b.createServer(t, "s6.small.1")}
	b.drv.InjectFault(sim.Fault{Op: sim.OpStop, InstanceID: ids[1], Err: ecs.Errorf("Ecs.0111", "first")})
	b.drv.InjectFault(sim.Fault{Op: sim.OpStop, InstanceID: ids[2], Err: ecs.Errorf("Ecs.0112", "second")})
	parent := b.job(t, b.act(t, ecs.ActionStop, false, ids...))
	for i := len(parent.SubJobs) - 1; i >= 0; i-- {
		if err := b.runner.Run(ctx, parent.SubJobs[i].ID, false, nil); err != nil {
			t.Fatal(err)
		}
		if got := b.job(t, parent.ID); i > 0 && (got.Status != ecs.JobRunning || !got.EndTime.IsZero()) {
			t.Errorf("parent with %d sub-jobs left: %s end %v, want RUNNING", i, got.Status, got.EndTime)
		}
	}
	got := b.job(t, parent.ID)
	requireEnded(t, got, ecs.JobFail, "Ecs.0111")
	if !strings.HasPrefix(got.FailReason, "2 of 3 sub-jobs failed") || !strings.Contains(got.FailReason, "powering-off: first") {
		t.Errorf("parent fail reason = %q, want a count and the first failure", got.FailReason)
	}
	requireServerState(t, b.server(t, ids[0]), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")
}

func TestResize(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name        string
		from, to    string
		running     bool
		threads     int
		wantStatus  string
		wantPower   int
		wantDrv     string
		wantPhase   string
		wantThreads int
	}{
		{"stopped server grows", "s6.small.1", "s6.large.4", false, 0, ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped, ecs.TaskResizeFinish, 0},
		{"stopped server shrinks", "s6.xlarge.4", "s6.medium.2", false, 0, ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped, ecs.TaskResizeFinish, 0},
		{"running server with withStopServer", "s6.small.1", "c7.large.4", true, 0, ecs.StatusActive, ecs.PowerRunning, driver.PowerRunning, ecs.TaskPoweringOn, 0},
		{"hyper-threading turned off", "c6.large.2", "c6.xlarge.4", false, 1, ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped, ecs.TaskResizeFinish, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var id string
			if tc.running {
				id = b.createServer(t, tc.from)
			} else {
				id = b.stoppedServer(t, tc.from)
			}
			host := b.server(t, id).HostID
			job := b.runJob(t, b.resize(t, id, tc.to, tc.running, tc.threads))
			requireEnded(t, job, ecs.JobSuccess, "")
			if job.Phase != tc.wantPhase {
				t.Errorf("job phase = %q, want the last phase %q", job.Phase, tc.wantPhase)
			}
			s := b.server(t, id)
			requireServerState(t, s, tc.wantStatus, tc.wantPower, tc.to)
			if s.HostID != host || s.CPUThreads != tc.wantThreads {
				t.Errorf("host %s threads %d, want %s and %d", s.HostID, s.CPUThreads, host, tc.wantThreads)
			}
			if st := b.inspect(t, id); st != (driver.State{Power: tc.wantDrv, Shape: shapeOf(t, tc.to)}) {
				t.Errorf("driver state %+v, want %s %s", st, tc.wantDrv, tc.to)
			}
			l, err := b.svc.Limits(t.Context(), ecs.DevTenant.ProjectID)
			if err != nil {
				t.Fatal(err)
			}
			if l.CoresUsed <= 0 {
				t.Errorf("Limits after a resize: %+v", l)
			}
		})
	}
}

// TestResizeMigrates runs a resize that must move the server to another host.
func TestResizeMigrates(t *testing.T) {
	t.Parallel()
	b := setupWith(t, sim.Options{}, []ecs.Host{
		{ID: "a-small", AZ: "cn-north-4a", VCPUs: 2, RAMMB: 4096, Arch: "x86_64"},
	})
	id := b.stoppedServer(t, "s6.large.2") // fills a-small
	if err := b.svc.SetHosts(t.Context(), []ecs.Host{
		{ID: "a-small", AZ: "cn-north-4a", VCPUs: 2, RAMMB: 4096, Arch: "x86_64"},
		{ID: "a-big", AZ: "cn-north-4a", VCPUs: 64, RAMMB: 262144, Arch: "x86_64"},
	}); err != nil {
		t.Fatal(err)
	}
	job := b.runJob(t, b.resize(t, id, "s6.xlarge.4", false, 0))
	requireEnded(t, job, ecs.JobSuccess, "")
	s := b.server(t, id)
	requireServerState(t, s, ecs.StatusShutoff, ecs.PowerShutdown, "s6.xlarge.4")
	if s.HostID != "a-big" {
		t.Errorf("host = %s, want a-big", s.HostID)
	}
}

func TestResizeFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		running  bool
		fault    sim.Fault
		wantCode string
		phase    string // named in the fail reason
	}{
		{"driver resize fails", false, sim.Fault{Op: sim.OpResize}, ecs.CodeResizeFailed, ecs.TaskResizeMigrating},
		{"driver resize fails with a plain error", false, sim.Fault{Op: sim.OpResize, Err: errors.New("no such device")}, ecs.CodeResizeFailed, ecs.TaskResizeMigrating},
		{"driver resize fails with a code", false, sim.Fault{Op: sim.OpResize, Err: ecs.Errorf("Ecs.0209", "disk busy")}, "Ecs.0209", ecs.TaskResizeMigrating},
		{"withStopServer: resize fails", true, sim.Fault{Op: sim.OpResize}, ecs.CodeResizeFailed, ecs.TaskResizeMigrating},
		{"withStopServer: stop fails", true, sim.Fault{Op: sim.OpStop}, ecs.CodeResizeFailed, ecs.TaskPoweringOff},
		{"withStopServer: final start fails", true, sim.Fault{Op: sim.OpStart}, ecs.CodeResizeFailed, ecs.TaskPoweringOn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var id string
			if tc.running {
				id = b.createServer(t, "s6.small.1")
			} else {
				id = b.stoppedServer(t, "s6.small.1")
			}
			before := b.server(t, id)
			tc.fault.InstanceID = id
			b.drv.InjectFault(tc.fault)

			job := b.runJob(t, b.resize(t, id, "s6.large.4", tc.running, 0))
			requireEnded(t, job, ecs.JobFail, tc.wantCode)
			if !strings.Contains(job.FailReason, tc.phase) {
				t.Errorf("fail reason %q does not name phase %s", job.FailReason, tc.phase)
			}
			// Back on the old flavor and host, in the old power state.
			s := b.server(t, id)
			status, power, drvPower := ecs.StatusShutoff, ecs.PowerShutdown, driver.PowerStopped
			if tc.running {
				status, power, drvPower = ecs.StatusActive, ecs.PowerRunning, driver.PowerRunning
			}
			requireServerState(t, s, status, power, "s6.small.1")
			if s.HostID != before.HostID || s.CPUThreads != before.CPUThreads {
				t.Errorf("host %s threads %d, want %s and %d", s.HostID, s.CPUThreads, before.HostID, before.CPUThreads)
			}
			if st := b.inspect(t, id); st != (driver.State{Power: drvPower, Shape: shapeOf(t, "s6.small.1")}) {
				t.Errorf("driver state %+v, want %s s6.small.1", st, drvPower)
			}
			if slicesContainsFault(b.drv.Faults(), id) {
				t.Errorf("fault for %s did not fire", id)
			}
			// The server can be resized again.
			if job := b.runJob(t, b.resize(t, id, "s6.large.4", tc.running, 0)); job.Status != ecs.JobSuccess {
				t.Errorf("retry after a failure: %+v", job)
			}
		})
	}
}

func slicesContainsFault(fs []sim.Fault, id string) bool {
	for _, f := range fs {
		if f.InstanceID == id {
			return true
		}
	}
	return false
}

// setPhase rewrites a job and its server as a process that died in phase
// would have left them.
func (b *testBundle) setPhase(t *testing.T, jobID, phase string, mutate func(s *ecs.Server)) {
	t.Helper()
	ctx := t.Context()
	tx, err := b.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	job, err := b.db.JobByID(ctx, tx, "", jobID)
	if err != nil {
		t.Fatal(err)
	}
	job.Status, job.Phase = ecs.JobRunning, phase
	if err := b.db.UpdateJob(ctx, tx, job); err != nil {
		t.Fatal(err)
	}
	srv, err := b.db.ServerByID(ctx, tx, "", job.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	srv.TaskState = phase
	if mutate != nil {
		mutate(srv)
	}
	if err := b.db.UpdateServer(ctx, tx, srv); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestResume(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)

	t.Run("after resize_migrated the driver is not needed again", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		// The dead process had resized the machine and entered
		// resize_migrated.
		if err := b.drv.Resize(ctx, id, shapeOf(t, "s6.large.4")); err != nil {
			t.Fatal(err)
		}
		b.setPhase(t, jobID, ecs.TaskResizeMigrated, nil)
		// Any further resize call would fail.
		b.drv.InjectFault(sim.Fault{Op: sim.OpResize, InstanceID: id, Err: errors.New("resize called again")})
		job := b.runJob(t, jobID)
		requireEnded(t, job, ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
		if !slicesContainsFault(b.drv.Faults(), id) {
			t.Error("the runner called the driver's Resize again after resize_migrated")
		}
		// The fault stays pending: ClearFaults would clear the other
		// subtests' faults of this shared driver too.
	})

	t.Run("in resize_migrating the driver's resize is repeated harmlessly", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		// The dead process had resized the machine but not recorded the
		// next phase.
		if err := b.drv.Resize(ctx, id, shapeOf(t, "s6.large.4")); err != nil {
			t.Fatal(err)
		}
		b.setPhase(t, jobID, ecs.TaskResizeMigrating, nil)
		job := b.runJob(t, jobID)
		requireEnded(t, job, ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
		if st := b.inspect(t, id); st.Shape != shapeOf(t, "s6.large.4") {
			t.Errorf("driver shape %+v", st.Shape)
		}
	})

	t.Run("in powering-on after the flavor was recorded", func(t *testing.T) {
		t.Parallel()
		id := b.createServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", true, 0)
		if err := b.drv.Stop(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if err := b.drv.Resize(ctx, id, shapeOf(t, "s6.large.4")); err != nil {
			t.Fatal(err)
		}
		b.setPhase(t, jobID, ecs.TaskPoweringOn, func(s *ecs.Server) {
			s.VMState, s.PowerState = ecs.VMStopped, ecs.PowerShutdown
			s.FlavorID, s.ResizeFlavorID, s.ResizeHostID = "s6.large.4", "", ""
		})
		job := b.runJob(t, jobID)
		requireEnded(t, job, ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusActive, ecs.PowerRunning, "s6.large.4")
		if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerRunning, Shape: shapeOf(t, "s6.large.4")}) {
			t.Errorf("driver state %+v", st)
		}
	})

	t.Run("an ended job is not run again", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		job := b.runJob(t, jobID)
		srv := b.server(t, id)
		b.drv.InjectFault(sim.Fault{Op: sim.OpResize, InstanceID: id, Err: errors.New("resize called again")})
		if err := b.runner.Run(ctx, jobID, true, nil); err != nil {
			t.Fatalf("Run of an ended job: %v", err)
		}
		if diff := cmp.Diff(job, b.job(t, jobID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ended job changed (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(srv, b.server(t, id), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("server changed (-before +after):\n%s", diff)
		}
		if !slicesContainsFault(b.drv.Faults(), id) {
			t.Error("an ended job called the driver")
		}
	})

	t.Run("an unknown job ends quietly", func(t *testing.T) {
		// Its rows were removed (a reset) after River fetched it.
		t.Parallel()
		if err := b.runner.Run(ctx, "no-such-job", false, nil); err != nil {
			t.Errorf("Run of a job whose rows are gone: %v, want nil", err)
		}
	})
}

// cancelClock is a real clock whose Sleep cancels the job's context when
// asked to wait the marker duration: Timing gives the phase to "crash" in
// that duration.
type cancelClock struct {
	ecs.RealClock
	marker time.Duration
	cancel context.CancelFunc
}

func (c cancelClock) Sleep(ctx context.Context, d time.Duration) error {
	if d == c.marker {
		c.cancel()
	}
	return ctx.Err()
}

// TestCrashInEveryPhase stops a withStopServer resize in each of its phases
// (as a kill would), checks that the job is left resumable, and resumes it
// to the end.
func TestCrashInEveryPhase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	phases := []string{
		ecs.TaskPoweringOff, ecs.TaskResizePrep, ecs.TaskResizeMigrating,
		ecs.TaskResizeMigrated, ecs.TaskResizeFinish, ecs.TaskPoweringOn,
	}
	for _, phase := range phases {
		t.Run(phase, func(t *testing.T) {
			t.Parallel()
			id := b.createServer(t, "s6.small.1")
			jobID := b.resize(t, id, "s6.large.4", true, 0)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			const marker = 7 * time.Nanosecond
			crashing := b.newRunner(b.db, cancelClock{marker: marker, cancel: cancel}, worker.Timing{phase: marker})
			err := crashing.Run(ctx, jobID, false, nil)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run with a cancelled context = %v, want context.Canceled", err)
			}
			job := b.job(t, jobID)
			if job.Status != ecs.JobRunning || job.Phase != phase || !job.EndTime.IsZero() {
				t.Fatalf("job after the crash: %s in %q, end %v; want RUNNING in %s", job.Status, job.Phase, job.EndTime, phase)
			}
			s := b.server(t, id)
			if s.TaskState != phase {
				t.Errorf("server task after the crash = %q, want %q", s.TaskState, phase)
			}
			if phase != ecs.TaskPoweringOn && s.ResizeFlavorID != "s6.large.4" {
				t.Errorf("reservation dropped by the crash: %q", s.ResizeFlavorID)
			}

			job = b.runJob(t, jobID)
			requireEnded(t, job, ecs.JobSuccess, "")
			requireServerState(t, b.server(t, id), ecs.StatusActive, ecs.PowerRunning, "s6.large.4")
			if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerRunning, Shape: shapeOf(t, "s6.large.4")}) {
				t.Errorf("driver state %+v", st)
			}
		})
	}
}

// TestCancelDuringDriverCall cancels the context while the driver works.
func TestCancelDuringDriverCall(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		cancelFn context.CancelFunc
	)
	b := setupWith(t, sim.Options{Latency: time.Nanosecond, Sleep: func(ctx context.Context, _ time.Duration) error {
		mu.Lock()
		f := cancelFn
		mu.Unlock()
		if f != nil {
			f()
		}
		return ctx.Err()
	}}, nil)
	id := b.stoppedServer(t, "s6.small.1")
	jobID := b.resize(t, id, "s6.large.4", false, 0)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	mu.Lock()
	cancelFn = cancel
	mu.Unlock()
	err := b.runner.Run(ctx, jobID, false, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if job := b.job(t, jobID); job.Status != ecs.JobRunning || job.Phase != ecs.TaskResizeMigrating {
		t.Errorf("job after the cancel: %s in %q; want RUNNING in resize_migrating", job.Status, job.Phase)
	}

	mu.Lock()
	cancelFn = nil
	mu.Unlock()
	requireEnded(t, b.runJob(t, jobID), ecs.JobSuccess, "")
	requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
}

// failingStore fails UpdateServer for a server entering one of the listed
// task states.
type failingStore struct {
	worker.Store
	mu     sync.Mutex
	failIn map[string]bool
}

var errStore = errors.New("store: disk I/O error")

func (s *failingStore) UpdateServer(ctx context.Context, tx *sql.Tx, srv *ecs.Server) error {
	s.mu.Lock()
	fail := s.failIn[srv.TaskState]
	s.mu.Unlock()
	if fail {
		return errStore
	}
	return s.Store.UpdateServer(ctx, tx, srv)
}

func (s *failingStore) UpdateServerFrom(ctx context.Context, tx *sql.Tx, old, srv *ecs.Server) error {
	s.mu.Lock()
	fail := s.failIn[srv.TaskState]
	s.mu.Unlock()
	if fail {
		return errStore
	}
	return s.Store.UpdateServerFrom(ctx, tx, old, srv)
}

func TestStoreFailure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)

	t.Run("retried, then given up: the job fails and rolls back", func(t *testing.T) {
		t.Parallel()
		// A driver whose operations take time: each phase is committed
		// before the driver acts.
		b := setupWith(t, sim.Options{Latency: time.Nanosecond}, nil)
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		store := &failingStore{Store: b.db, failIn: map[string]bool{ecs.TaskResizeMigrated: true}}
		r := b.newRunner(store, ecs.RealClock{}, worker.Timing{})

		// An attempt that the queue will retry returns the error and leaves
		// the job where it was.
		if err := r.Run(ctx, jobID, false, nil); !errors.Is(err, errStore) {
			t.Fatalf("Run = %v, want the store's error", err)
		}
		job := b.job(t, jobID)
		if job.Status != ecs.JobRunning || job.Phase != ecs.TaskResizeMigrating {
			t.Errorf("job after a store error: %s in %q; want RUNNING in resize_migrating", job.Status, job.Phase)
		}
		if st := b.inspect(t, id); st.Shape != shapeOf(t, "s6.large.4") {
			t.Errorf("driver shape %+v, want the new one (the driver call was made)", st.Shape)
		}

		// The last attempt fails the job and rolls everything back.
		if err := r.Run(ctx, jobID, true, nil); err != nil {
			t.Fatalf("last Run = %v, want nil (the job ends)", err)
		}
		job = b.job(t, jobID)
		requireEnded(t, job, ecs.JobFail, ecs.CodeInternal)
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")
		if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerStopped, Shape: shapeOf(t, "s6.small.1")}) {
			t.Errorf("driver state %+v, want stopped s6.small.1", st)
		}
		// fail_reason is sent to clients: an internal error's text must not
		// be (DESIGN "Errors leave through one door").
		if strings.Contains(job.FailReason, errStore.Error()) {
			t.Errorf("the client-visible fail_reason carries the internal error's text: %q", job.FailReason)
		}
	})

	t.Run("immediate driver: an attempt that fails to commit is undone as a whole", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		before := b.server(t, id)
		// The server is written once, when the job ends (its phases are
		// never written apart): that write fails.
		store := &failingStore{Store: b.db, failIn: map[string]bool{ecs.TaskNone: true}}
		r := b.newRunner(store, ecs.RealClock{}, worker.Timing{})
		if err := r.Run(ctx, jobID, false, nil); !errors.Is(err, errStore) {
			t.Fatalf("Run = %v, want the store's error", err)
		}
		// The phases of the attempt shared one transaction: none of them
		// was recorded, and the server is as the request left it.
		job := b.job(t, jobID)
		if job.Status != ecs.JobInit || job.Phase != "" {
			t.Errorf("job after a store error: %s in %q; want INIT with no phase", job.Status, job.Phase)
		}
		if s := b.server(t, id); !reflect.DeepEqual(s, before) {
			t.Errorf("server after a store error:\n%+v\nwant it as the request left it:\n%+v", s, before)
		}
		// The retry starts over from the store's machine and succeeds.
		requireEnded(t, b.runJob(t, jobID), ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
		if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerStopped, Shape: shapeOf(t, "s6.large.4")}) {
			t.Errorf("driver state %+v, want stopped s6.large.4", st)
		}
	})

	t.Run("a store error with retries left changes nothing", func(t *testing.T) {
		t.Parallel()
		id := b.createServer(t, "s6.small.1")
		jobID := b.act(t, ecs.ActionStop, false, id)
		sub := b.job(t, jobID).SubJobs[0]
		store := &failingStore{Store: b.db, failIn: map[string]bool{ecs.TaskNone: true}}
		r := b.newRunner(store, ecs.RealClock{}, worker.Timing{})
		if err := r.Run(ctx, sub.ID, false, nil); !errors.Is(err, errStore) {
			t.Fatalf("Run = %v, want the store's error", err)
		}
		if j := b.job(t, sub.ID); j.Done() {
			t.Errorf("sub-job ended (%s) although its last write failed", j.Status)
		}
		// A healthy retry finishes it.
		requireEnded(t, b.runJob(t, jobID), ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")
	})

	t.Run("the rollback cannot be written: the job must not end with the server busy", func(t *testing.T) {
		t.Parallel()
		// A driver whose operations take time, so that each phase
		// writes the server.
		b := setupWith(t, sim.Options{Latency: time.Nanosecond}, nil)
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		// Every write of the server after resize_migrating fails, the
		// rollback's included; the job rows can still be written.
		store := &failingStore{Store: b.db, failIn: map[string]bool{ecs.TaskResizeMigrated: true, ecs.TaskNone: true}}
		r := b.newRunner(store, ecs.RealClock{}, worker.Timing{})
		err := r.Run(ctx, jobID, true, nil)
		job, s := b.job(t, jobID), b.server(t, id)
		if job.Done() && s.Busy() {
			t.Fatalf("job %s %s ended (err %v) although its rollback could not be written: the server is "+
				"left in task %q with reservation %q and no live job (DESIGN rule 2)",
				job.Status, job.ErrorCode, err, s.TaskState, s.ResizeFlavorID)
		}
		if !job.Done() && err == nil {
			t.Errorf("Run = nil with the job still %s", job.Status)
		}
	})
}

// TestUnrunnableJob runs jobs that cannot be planned: they fail with
// Ecs.0615 instead of being retried forever.
func TestUnrunnableJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	id := b.stoppedServer(t, "s6.small.1")
	jobs := map[string]*ecs.Job{
		"unknown type": {ID: compute.NewJobID(), ProjectID: ecs.DevTenant.ProjectID, Type: "rebuildServer", Status: ecs.JobInit, ServerID: id, Params: "{}"},
		"bad params":   {ID: compute.NewJobID(), ProjectID: ecs.DevTenant.ProjectID, Type: ecs.JobResizeServer, Status: ecs.JobInit, ServerID: id, Params: "{"},
		"unknown flavor": {ID: compute.NewJobID(), ProjectID: ecs.DevTenant.ProjectID, Type: ecs.JobResizeServer, Status: ecs.JobInit, ServerID: id,
			Params: `{"flavor_id":"nope","old_flavor_id":"s6.small.1"}`},
	}
	tx, err := b.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := b.db.InsertJob(ctx, tx, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, j := range jobs {
		if err := b.runner.Run(ctx, j.ID, false, nil); err != nil {
			t.Errorf("%s: Run = %v, want the job to fail instead", name, err)
		}
		requireEnded(t, b.job(t, j.ID), ecs.JobFail, ecs.CodeInternal)
	}
	requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")
}

// TestUnrunnableResizeReleasesServer: a resize whose target flavor has left
// the catalogue (an operator's flavor override, applied at a restart) cannot
// run. The job fails; the server must not stay busy with its reservation.
func TestUnrunnableResizeReleasesServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	id := b.stoppedServer(t, "s6.small.1")
	jobID := b.resize(t, id, "s6.large.4", false, 0)
	// The job as a catalogue without s6.large.4 sees it.
	tx, err := b.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	job, err := b.db.JobByID(ctx, tx, "", jobID)
	if err != nil {
		t.Fatal(err)
	}
	job.Params = strings.ReplaceAll(job.Params, "s6.large.4", "s6.retired")
	if err := b.db.UpdateJob(ctx, tx, job); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	if err := b.runner.Run(ctx, jobID, false, nil); err != nil {
		t.Fatalf("Run = %v", err)
	}
	requireEnded(t, b.job(t, jobID), ecs.JobFail, ecs.CodeInternal)
	if s := b.server(t, id); s.Busy() || s.ResizeFlavorID != "" {
		t.Errorf("a job whose plan cannot be built failed without releasing its server: task %q and "+
			"reservation %q stay with no live job", s.TaskState, s.ResizeFlavorID)
	}
}

// Several nodes share a database; the simulated machines live in each
// node's process. A node runs the jobs of machines another node created
// (unknown to its driver) or changed since (stale in its driver): it takes
// the machine as the store has it.
func TestAdoptMachinesOfOtherNodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	unknown := b.createServer(t, "s6.small.1")
	stale := b.createServer(t, "s6.small.1")
	// The other node: a runner with its own driver, which knows neither.
	other := sim.New(sim.Options{})
	otherRunner := &worker.Runner{Store: b.db, Driver: other, Flavors: cat, Clock: ecs.RealClock{}, Timing: worker.Timing{}, Logger: discard}
	run := func(r *worker.Runner, jobID string) *ecs.Job {
		t.Helper()
		ids := []string{jobID}
		if subs := b.job(t, jobID).SubJobs; len(subs) > 0 {
			ids = nil
			for _, sub := range subs {
				ids = append(ids, sub.ID)
			}
		}
		for _, id := range ids {
			if err := r.Run(t.Context(), id, false, nil); err != nil {
				t.Fatalf("Run(%s): %v", id, err)
			}
		}
		return b.job(t, jobID)
	}
	// The other node stops the first server, which its driver never saw.
	requireEnded(t, run(otherRunner, b.act(t, ecs.ActionStop, false, unknown)), ecs.JobSuccess, "")
	if st, err := other.Inspect(t.Context(), unknown); err != nil || st.Power != driver.PowerStopped {
		t.Errorf("other node's machine = %+v, %v; want stopped", st, err)
	}
	// The other node learns of the second server while it runs, then this
	// node stops it: the other node's knowledge is stale when it reboots
	// it after a start (a reboot of a machine it believes stopped fails).
	requireEnded(t, run(otherRunner, b.act(t, ecs.ActionReboot, false, stale)), ecs.JobSuccess, "")
	requireEnded(t, run(b.runner, b.act(t, ecs.ActionStop, false, stale)), ecs.JobSuccess, "")
	requireEnded(t, run(b.runner, b.act(t, ecs.ActionStart, false, stale)), ecs.JobSuccess, "")
	if st, _ := other.Inspect(t.Context(), stale); st.Power != driver.PowerRunning {
		t.Fatalf("test set-up: the other node's machine is %s, want running (its view before the stop)", st.Power)
	}
	requireEnded(t, run(otherRunner, b.act(t, ecs.ActionStop, false, stale)), ecs.JobSuccess, "")
	requireServerState(t, b.server(t, stale), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")

	// A resize that this node began moves, mid-way, to the other node,
	// whose driver last saw the machine running: the machine is stopped,
	// as the store's recorded phases say, and the resize completes there.
	requireEnded(t, run(b.runner, b.act(t, ecs.ActionStart, false, stale)), ecs.JobSuccess, "")
	requireEnded(t, run(otherRunner, b.act(t, ecs.ActionReboot, false, stale)), ecs.JobSuccess, "")
	requireEnded(t, run(b.runner, b.act(t, ecs.ActionStop, false, stale)), ecs.JobSuccess, "")
	resize := b.resize(t, stale, "s6.medium.2", false, 0)
	b.setPhase(t, resize, ecs.TaskResizeMigrating, nil)
	requireEnded(t, run(otherRunner, resize), ecs.JobSuccess, "")
	requireServerState(t, b.server(t, stale), ecs.StatusShutoff, ecs.PowerShutdown, "s6.medium.2")
}

// countingStore counts the transactions the runner begins itself.
type countingStore struct {
	worker.Store
	begun atomic.Int64
}

func (s *countingStore) BeginTx(ctx context.Context) (*sql.Tx, error) {
	s.begun.Add(1)
	return s.Store.BeginTx(ctx)
}

// TestSharedTransaction: with Group set, a job of an immediate driver
// whose phases take no time runs as one request of a shared transaction
// (the runner begins none of its own); a job that needs its own commits
// (a phase that lasts, a failure to write) runs again on its own
// transactions, with their semantics.
func TestSharedTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	runner := func(store worker.Store, timing worker.Timing) *worker.Runner {
		r := b.newRunner(store, ecs.RealClock{}, timing)
		r.Group = b.svc.InTx
		return r
	}

	t.Run("instant: one shared transaction", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		store := &countingStore{Store: b.db}
		if err := runner(store, worker.Timing{}).Run(ctx, jobID, false, nil); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n := store.begun.Load(); n != 0 {
			t.Errorf("the runner began %d transactions of its own, want 0 (the shared one)", n)
		}
		job := b.job(t, jobID)
		requireEnded(t, job, ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
	})

	t.Run("a phase that lasts: own transactions", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		store := &countingStore{Store: b.db}
		timing := worker.Timing{ecs.TaskResizeMigrated: time.Nanosecond}
		if err := runner(store, timing).Run(ctx, jobID, false, nil); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n := store.begun.Load(); n < 2 {
			t.Errorf("the runner began %d transactions, want at least 2 (a commit before the lasting phase)", n)
		}
		requireEnded(t, b.job(t, jobID), ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
	})

	t.Run("a store error: rolled back, run again on its own", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		before := b.server(t, id)
		store := &failingStore{Store: b.db, failIn: map[string]bool{ecs.TaskNone: true}} // the job's end
		if err := runner(store, worker.Timing{}).Run(ctx, jobID, false, nil); !errors.Is(err, errStore) {
			t.Fatalf("Run = %v, want the store's error (from the run on its own transactions)", err)
		}
		if job := b.job(t, jobID); job.Status != ecs.JobInit || job.Phase != "" {
			t.Errorf("job after a store error: %s in %q; want INIT with no phase", job.Status, job.Phase)
		}
		if s := b.server(t, id); !reflect.DeepEqual(s, before) {
			t.Errorf("server after a store error:\n%+v\nwant it as the request left it:\n%+v", s, before)
		}
		// A healthy retry in a shared transaction ends it.
		if err := runner(b.db, worker.Timing{}).Run(ctx, jobID, false, nil); err != nil {
			t.Fatalf("retry: %v", err)
		}
		requireEnded(t, b.job(t, jobID), ecs.JobSuccess, "")
	})

	t.Run("a driver failure: failed and rolled back in the shared transaction", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		jobID := b.resize(t, id, "s6.large.4", false, 0)
		b.drv.InjectFault(sim.Fault{Op: sim.OpResize, InstanceID: id})
		store := &countingStore{Store: b.db}
		if err := runner(store, worker.Timing{}).Run(ctx, jobID, false, nil); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n := store.begun.Load(); n != 0 {
			t.Errorf("the runner began %d transactions of its own, want 0", n)
		}
		requireEnded(t, b.job(t, jobID), ecs.JobFail, ecs.CodeResizeFailed)
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")
	})
}
