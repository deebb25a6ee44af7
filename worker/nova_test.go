package worker_test

import (
	"errors"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/sim"
)

// novaResize starts a Nova resize of id through compute.
func (b *testBundle) novaResize(t *testing.T, id, flavorID string) string {
	t.Helper()
	jobID, err := b.svc.NovaResizeServer(t.Context(), &ecs.ResizeRequest{
		ProjectID: ecs.DevTenant.ProjectID, ServerID: id, FlavorID: flavorID, APIVersion: "v2.1",
	})
	if err != nil {
		t.Fatalf("NovaResizeServer: %v", err)
	}
	return jobID
}

func (b *testBundle) confirm(t *testing.T, id string) string {
	t.Helper()
	jobID, err := b.svc.ConfirmResize(t.Context(), ecs.DevTenant.ProjectID, id)
	if err != nil {
		t.Fatalf("ConfirmResize: %v", err)
	}
	return jobID
}

func (b *testBundle) revert(t *testing.T, id string) string {
	t.Helper()
	jobID, err := b.svc.RevertResize(t.Context(), ecs.DevTenant.ProjectID, id)
	if err != nil {
		t.Fatalf("RevertResize: %v", err)
	}
	return jobID
}

// requireVerifyResize checks a server waiting for confirm or revert: the
// new flavor, the old one reserved, and the power state it had before.
func requireVerifyResize(t *testing.T, s *ecs.Server, power int, flavorID, oldFlavorID, oldHost string) {
	t.Helper()
	if s.Status() != ecs.StatusVerifyResize || s.VMState != ecs.VMResized || s.TaskState != ecs.TaskNone ||
		s.PowerState != power || s.FlavorID != flavorID || s.ResizeFlavorID != oldFlavorID || s.ResizeHostID != oldHost {
		t.Errorf("server %s: %s (%s/%q) power %d flavor %s reserved %s@%s; want VERIFY_RESIZE (resized/none) power %d flavor %s reserved %s@%s",
			s.ID, s.Status(), s.VMState, s.TaskState, s.PowerState, s.FlavorID, s.ResizeFlavorID, s.ResizeHostID,
			power, flavorID, oldFlavorID, oldHost)
	}
}

func TestNovaResize(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name      string
		running   bool
		confirm   bool
		wantPower int
		wantDrv   string
	}{
		{"stopped, confirmed", false, true, ecs.PowerShutdown, driver.PowerStopped},
		{"stopped, reverted", false, false, ecs.PowerShutdown, driver.PowerStopped},
		{"running, confirmed", true, true, ecs.PowerRunning, driver.PowerRunning},
		{"running, reverted", true, false, ecs.PowerRunning, driver.PowerRunning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			from, to := "s6.small.1", "s6.large.4"
			var id string
			if tc.running {
				id = b.createServer(t, from)
			} else {
				id = b.stoppedServer(t, from)
			}
			host := b.server(t, id).HostID
			job := b.runJob(t, b.novaResize(t, id, to))
			requireEnded(t, job, ecs.JobSuccess, "")
			if job.Type != ecs.JobNovaResize || job.Phase != ecs.TaskResizeFinish {
				t.Errorf("job %s ended in phase %s, want %s in %s", job.Type, job.Phase, ecs.JobNovaResize, ecs.TaskResizeFinish)
			}
			s := b.server(t, id)
			requireVerifyResize(t, s, tc.wantPower, to, from, host)
			if st := b.inspect(t, id); st != (driver.State{Power: tc.wantDrv, Shape: shapeOf(t, to)}) {
				t.Errorf("driver state in VERIFY_RESIZE %+v, want %s %s", st, tc.wantDrv, to)
			}

			// Reservation: the larger flavor counts while both are held.
			l, err := b.svc.Limits(t.Context(), ecs.DevTenant.ProjectID)
			if err != nil {
				t.Fatal(err)
			}
			if l.CoresUsed <= 0 {
				t.Errorf("Limits in VERIFY_RESIZE: %+v", l)
			}

			wantStatus := ecs.StatusShutoff
			if tc.running {
				wantStatus = ecs.StatusActive
			}
			if tc.confirm {
				job := b.runJob(t, b.confirm(t, id))
				requireEnded(t, job, ecs.JobSuccess, "")
				if job.Type != ecs.JobConfirmResize || job.Phase != ecs.TaskResizeConfirming {
					t.Errorf("confirm job %s phase %s", job.Type, job.Phase)
				}
				requireServerState(t, b.server(t, id), wantStatus, tc.wantPower, to)
				if st := b.inspect(t, id); st != (driver.State{Power: tc.wantDrv, Shape: shapeOf(t, to)}) {
					t.Errorf("driver state after confirm %+v", st)
				}
				return
			}
			job = b.runJob(t, b.revert(t, id))
			requireEnded(t, job, ecs.JobSuccess, "")
			if job.Type != ecs.JobRevertResize || job.Phase != ecs.TaskResizeReverting {
				t.Errorf("revert job %s phase %s", job.Type, job.Phase)
			}
			s = b.server(t, id)
			requireServerState(t, s, wantStatus, tc.wantPower, from)
			if s.HostID != host {
				t.Errorf("host after revert %s, want the old %s", s.HostID, host)
			}
			if st := b.inspect(t, id); st != (driver.State{Power: tc.wantDrv, Shape: shapeOf(t, from)}) {
				t.Errorf("driver state after revert %+v", st)
			}
		})
	}
}

func TestNovaConfirmRevertPreconditions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := ecs.DevTenant.ProjectID
	id := b.stoppedServer(t, "s6.small.1")

	requireConflict := func(t *testing.T, err error, code string) {
		t.Helper()
		var e *ecs.Error
		if !errors.As(err, &e) || e.Code != code {
			t.Fatalf("err = %v, want %s", err, code)
		}
	}
	// Not resized: both refused with a 409.
	_, err := b.svc.ConfirmResize(t.Context(), p, id)
	requireConflict(t, err, ecs.CodeStateConflict)
	var e *ecs.Error
	if errors.As(err, &e) && e.Status != 409 {
		t.Errorf("confirm of a SHUTOFF server: status %d, want 409", e.Status)
	}
	_, err = b.svc.RevertResize(t.Context(), p, id)
	requireConflict(t, err, ecs.CodeStateConflict)
	_, err = b.svc.ConfirmResize(t.Context(), p, "00000000-0000-4000-8000-000000000000")
	requireConflict(t, err, ecs.CodeServerNotFound)

	// While the resize runs: busy.
	jobID := b.novaResize(t, id, "s6.large.4")
	_, err = b.svc.ConfirmResize(t.Context(), p, id)
	requireConflict(t, err, ecs.CodeBusy)
	b.runJob(t, jobID)

	// In VERIFY_RESIZE: a second resize, start and stop are refused.
	if _, err := b.svc.NovaResizeServer(t.Context(), &ecs.ResizeRequest{ProjectID: p, ServerID: id, FlavorID: "s6.xlarge.4"}); ecs.ErrorCode(err) != ecs.CodeStateConflict {
		t.Errorf("resize in VERIFY_RESIZE: %v", err)
	}
	if _, err := b.svc.ActOnServers(t.Context(), &ecs.ServerActionRequest{ProjectID: p, Action: ecs.ActionStart, ServerIDs: []string{id}}); ecs.ErrorCode(err) != ecs.CodeStateConflict {
		t.Errorf("start in VERIFY_RESIZE: %v", err)
	}

	// A confirm in progress: status VERIFY_RESIZE, busy; a revert is refused.
	confirmID := b.confirm(t, id)
	if s := b.server(t, id); s.Status() != ecs.StatusVerifyResize || s.TaskState != ecs.TaskResizeConfirming {
		t.Errorf("confirming server: %s/%s", s.Status(), s.TaskState)
	}
	_, err = b.svc.RevertResize(t.Context(), p, id)
	requireConflict(t, err, ecs.CodeBusy)
	requireEnded(t, b.runJob(t, confirmID), ecs.JobSuccess, "")

	// Confirmed: neither again.
	_, err = b.svc.ConfirmResize(t.Context(), p, id)
	requireConflict(t, err, ecs.CodeStateConflict)
}

func TestNovaRevertResume(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)

	t.Run("crash inside resize_reverting", func(t *testing.T) {
		t.Parallel()
		id := b.createServer(t, "s6.small.1")
		host := b.server(t, id).HostID
		b.runJob(t, b.novaResize(t, id, "s6.large.4"))
		jobID := b.revert(t, id)
		// The dead process had stopped the machine and given it its old
		// shape, then died before starting it again.
		if err := b.drv.Stop(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if err := b.drv.Resize(ctx, id, shapeOf(t, "s6.small.1")); err != nil {
			t.Fatal(err)
		}
		b.setPhase(t, jobID, ecs.TaskResizeReverting, nil)
		if s := b.server(t, id); s.Status() != ecs.StatusRevertResize {
			t.Fatalf("status in resize_reverting = %s, want REVERT_RESIZE", s.Status())
		}
		job := b.runJob(t, jobID)
		requireEnded(t, job, ecs.JobSuccess, "")
		s := b.server(t, id)
		requireServerState(t, s, ecs.StatusActive, ecs.PowerRunning, "s6.small.1")
		if s.HostID != host {
			t.Errorf("host %s, want %s", s.HostID, host)
		}
		if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerRunning, Shape: shapeOf(t, "s6.small.1")}) {
			t.Errorf("driver state %+v", st)
		}
	})

	t.Run("a failed revert leaves VERIFY_RESIZE", func(t *testing.T) {
		t.Parallel()
		id := b.stoppedServer(t, "s6.small.1")
		host := b.server(t, id).HostID
		b.runJob(t, b.novaResize(t, id, "s6.large.4"))
		b.drv.InjectFault(sim.Fault{Op: sim.OpResize, InstanceID: id, Err: errors.New("no room")})
		job := b.runJob(t, b.revert(t, id))
		requireEnded(t, job, ecs.JobFail, ecs.CodeResizeFailed)
		requireVerifyResize(t, b.server(t, id), ecs.PowerShutdown, "s6.large.4", "s6.small.1", host)
		// The user may revert again.
		job = b.runJob(t, b.revert(t, id))
		requireEnded(t, job, ecs.JobSuccess, "")
		requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.small.1")
	})

	t.Run("crash in resize_finish of a Nova resize", func(t *testing.T) {
		t.Parallel()
		id := b.createServer(t, "s6.small.1")
		host := b.server(t, id).HostID
		jobID := b.novaResize(t, id, "s6.large.4")
		if err := b.drv.Stop(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if err := b.drv.Resize(ctx, id, shapeOf(t, "s6.large.4")); err != nil {
			t.Fatal(err)
		}
		b.setPhase(t, jobID, ecs.TaskResizeFinish, func(s *ecs.Server) {
			s.VMState, s.PowerState = ecs.VMStopped, ecs.PowerShutdown
		})
		job := b.runJob(t, jobID)
		requireEnded(t, job, ecs.JobSuccess, "")
		requireVerifyResize(t, b.server(t, id), ecs.PowerRunning, "s6.large.4", "s6.small.1", host)
		if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerRunning, Shape: shapeOf(t, "s6.large.4")}) {
			t.Errorf("driver state %+v", st)
		}
	})
}
