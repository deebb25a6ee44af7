package worker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/worker"
)

// scriptedFaults fails the phase named failAt with fail, delays every
// phase by delay (or fails to answer with err), and records what it saw.
type scriptedFaults struct {
	mu     sync.Mutex
	events []fault.PhaseEvent
	failAt string
	fail   *ecs.Error
	delay  time.Duration
	err    error
}

func (f *scriptedFaults) Phase(_ context.Context, ev fault.PhaseEvent) (time.Duration, *ecs.Error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	if f.err != nil {
		return 0, nil, f.err
	}
	if ev.Phase == f.failAt {
		return f.delay, f.fail, nil
	}
	return f.delay, nil, nil
}

// sleepRecorder is a clock that records how long each phase sleeps, without
// sleeping.
type sleepRecorder struct {
	ecs.RealClock
	mu    sync.Mutex
	slept []time.Duration
}

func (c *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func TestPhaseFaults(t *testing.T) {
	t.Parallel()

	t.Run("resize fails with the defaults", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.stoppedServer(t, "s6.large.2")
		f := &scriptedFaults{failAt: ecs.TaskResizeMigrating, fail: &ecs.Error{}}
		b.runner.Faults = f
		job := b.runJob(t, b.resize(t, id, "s6.xlarge.2", false, 0))
		requireEnded(t, job, ecs.JobFail, ecs.CodeResizeFailed)
		if job.Phase != ecs.TaskResizeMigrating || !strings.Contains(job.FailReason, ecs.TaskResizeMigrating) {
			t.Errorf("job failed in %s with %q, want in %s with a reason naming it", job.Phase, job.FailReason, ecs.TaskResizeMigrating)
		}
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.2")
		if st := b.inspect(t, id); st.Shape != shapeOf(t, "s6.large.2") {
			t.Errorf("driver shape %+v, want the old flavor's", st.Shape)
		}
		want := fault.PhaseEvent{Phase: ecs.TaskResizePrep, ProjectID: ecs.DevTenant.ProjectID, ServerID: id,
			FlavorID: "s6.large.2", TargetFlavorID: "s6.xlarge.2", AZ: "cn-north-4a"}
		if len(f.events) != 2 || f.events[0] != want || f.events[1].Phase != ecs.TaskResizeMigrating {
			t.Errorf("fault events %+v, want resize_prep (%+v) then resize_migrating", f.events, want)
		}
	})

	t.Run("create fails at spawning with the rule's code and reason", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.runner.Faults = &scriptedFaults{failAt: ecs.TaskSpawning,
			fail: &ecs.Error{Code: ecs.CodeInsufficientCap, Message: "No host could take the server."}}
		id := createFailing(t, b)
		s := b.server(t, id)
		requireServerState(t, s, ecs.StatusError, ecs.PowerNoState, "s6.large.2")
		if _, err := b.drv.Inspect(t.Context(), id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("the driver has the server of a failed create: %v", err)
		}
	})

	t.Run("latency is added to the phase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.stoppedServer(t, "s6.large.2")
		clock := &sleepRecorder{}
		b.runner = b.newRunner(b.db, clock, worker.Timing{ecs.TaskResizeMigrating: time.Second})
		b.runner.Faults = &scriptedFaults{delay: 2 * time.Second}
		requireEnded(t, b.runJob(t, b.resize(t, id, "s6.xlarge.2", false, 0)), ecs.JobSuccess, "")
		want := []time.Duration{2 * time.Second, 3 * time.Second, 2 * time.Second, 2 * time.Second}
		if !slices.Equal(clock.slept, want) {
			t.Errorf("phases slept %v, want %v", clock.slept, want)
		}
	})

	t.Run("a rule lookup failure is retried", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.stoppedServer(t, "s6.large.2")
		b.runner.Faults = &scriptedFaults{err: errors.New("database is locked")}
		jobID := b.resize(t, id, "s6.xlarge.2", false, 0)
		if err := b.runner.Run(t.Context(), jobID, false, nil); err == nil {
			t.Fatal("Run succeeded although the fault rules could not be read")
		}
		if job := b.job(t, jobID); job.Done() {
			t.Errorf("job ended %s; want it left for a retry", job.Status)
		}
		b.runner.Faults = nil
		requireEnded(t, b.runJob(t, jobID), ecs.JobSuccess, "")
	})
}

// createFailing creates a server whose create job b's faults fail, and
// checks the job's code and reason.
func createFailing(t *testing.T, b *testBundle) string {
	t.Helper()
	p := ecs.DevTenant.ProjectID
	res, err := b.svc.CreateServers(t.Context(), &ecs.CreateServersRequest{
		ProjectID: p, Name: "web", ImageID: imageUbuntu22, FlavorID: "s6.large.2", Count: 1,
		VPCID: compute.DerivedUUID(p + "/vpc"), SubnetIDs: []string{compute.DerivedUUID(p + "/subnet")},
		ChargingMode: ecs.ChargingPostPaid,
	})
	if err != nil {
		t.Fatal(err)
	}
	job := b.runJob(t, res.JobID)
	requireEnded(t, job, ecs.JobFail, ecs.CodeInsufficientCap)
	if sub := job.SubJobs[0]; sub.FailReason != "No host could take the server." || sub.Phase != ecs.TaskSpawning {
		t.Errorf("sub-job failed in %s with %q, want in spawning with the rule's reason", sub.Phase, sub.FailReason)
	}
	return res.ServerIDs[0]
}
