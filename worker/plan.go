package worker

import (
	"context"
	"fmt"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
)

// plan returns how job runs on srv, or nil when there is nothing to do.
func (r *Runner) plan(job *ecs.Job, srv *ecs.Server) (*plan, error) {
	if job.ServerID == "" || srv == nil {
		return nil, fmt.Errorf("job %s (%s) has no server", job.ID, job.Type)
	}
	switch job.Type {
	case ecs.JobCreateSingleServer:
		return r.createPlan(srv), nil
	case ecs.JobStartServer, ecs.JobStopServer, ecs.JobRebootServer:
		var p compute.ActionParams
		if err := decodeParams(job, &p); err != nil {
			return nil, err
		}
		if p.Noop {
			return nil, nil
		}
		return r.powerPlan(job.Type, p.Hard), nil
	case ecs.JobDeleteSingleServer:
		return r.deletePlan(), nil
	case ecs.JobResizeServer:
		var p compute.ResizeParams
		if err := decodeParams(job, &p); err != nil {
			return nil, err
		}
		return r.resizePlan(p)
	case ecs.JobNovaResize, ecs.JobConfirmResize, ecs.JobRevertResize:
		return r.novaPlan(job)
	}
	return nil, fmt.Errorf("job %s: unknown type %q", job.ID, job.Type)
}

func (r *Runner) shape(flavorID string) (driver.Shape, error) {
	f, ok := r.Flavors.Flavor(flavorID)
	if !ok {
		return driver.Shape{}, fmt.Errorf("flavor %s is not in the catalogue", flavorID)
	}
	return driver.Shape{FlavorID: f.ID, VCPUs: f.VCPUs, RAMMB: f.RAMMB}, nil
}

func running(srv *ecs.Server) { srv.VMState, srv.PowerState = ecs.VMActive, ecs.PowerRunning }
func stopped(srv *ecs.Server) { srv.VMState, srv.PowerState = ecs.VMStopped, ecs.PowerShutdown }

// settle sets a server's power state from what the driver reports, after a
// failure left it uncertain. It changes only the in-memory server; the
// runner writes it when it ends the job.
func (r *Runner) settle(ctx context.Context, srv *ecs.Server) {
	st, err := r.Driver.Inspect(ctx, srv.ID)
	switch {
	case err != nil:
	case st.Power == driver.PowerRunning:
		running(srv)
	default:
		stopped(srv)
	}
}

func (r *Runner) createPlan(srv *ecs.Server) *plan {
	return &plan{
		defaultCode: "Ecs.0204",
		steps: []step{
			{task: ecs.TaskScheduling},
			{task: ecs.TaskBlockDeviceMap},
			{task: ecs.TaskNetworking},
			{task: ecs.TaskSpawning, act: func(ctx context.Context, srv *ecs.Server) error {
				shape, err := r.shape(srv.FlavorID)
				if err != nil {
					return err
				}
				return r.Driver.Create(ctx, driver.Instance{ID: srv.ID, Name: srv.Name, ImageID: srv.ImageID,
					HostID: srv.HostID, Shape: shape, Running: true})
			}},
		},
		finish: func(srv *ecs.Server) {
			running(srv)
			srv.LaunchedAt = r.Clock.Now()
		},
		rollback: func(ctx context.Context, srv *ecs.Server) {
			_ = r.Driver.Delete(ctx, srv.ID)
			srv.VMState, srv.PowerState = ecs.VMError, ecs.PowerNoState
			srv.FaultCode, srv.FaultMessage = 500, "Instance creation failed."
		},
	}
}

func (r *Runner) powerPlan(typ string, hard bool) *plan {
	p := &plan{
		defaultCode: ecs.CodeGeneric,
		rollback:    r.settle,
	}
	switch typ {
	case ecs.JobStartServer:
		p.steps = []step{{task: ecs.TaskPoweringOn, act: func(ctx context.Context, srv *ecs.Server) error {
			return r.Driver.Start(ctx, srv.ID)
		}, after: running}}
	case ecs.JobStopServer:
		p.steps = []step{{task: ecs.TaskPoweringOff, act: func(ctx context.Context, srv *ecs.Server) error {
			return r.Driver.Stop(ctx, srv.ID, hard)
		}, after: stopped}}
	default:
		tasks := []string{ecs.TaskRebooting, ecs.TaskRebootPending, ecs.TaskRebootStarted}
		if hard {
			tasks = []string{ecs.TaskRebootingHard, ecs.TaskRebootPendingHard, ecs.TaskRebootStartedHard}
		}
		for _, t := range tasks {
			p.steps = append(p.steps, step{task: t})
		}
		p.steps[2].act = func(ctx context.Context, srv *ecs.Server) error { return r.Driver.Reboot(ctx, srv.ID, hard) }
		p.steps[2].after = running
	}
	return p
}

func (r *Runner) deletePlan() *plan {
	return &plan{
		defaultCode: ecs.CodeGeneric,
		steps: []step{{task: ecs.TaskDeleting, act: func(ctx context.Context, srv *ecs.Server) error {
			return r.Driver.Delete(ctx, srv.ID)
		}}},
		deletes:  true,
		rollback: r.settle,
	}
}

// resizePlan: [powering-off] → resize_prep → resize_migrating (the driver
// changes the machine) → resize_migrated → resize_finish (the new flavor is
// recorded) → [powering-on]. A failure anywhere puts the old shape back,
// restarts a server that was running, and leaves the old flavor.
func (r *Runner) resizePlan(p compute.ResizeParams) (*plan, error) {
	next, err := r.shape(p.FlavorID)
	if err != nil {
		return nil, err
	}
	old, err := r.shape(p.OldFlavorID)
	if err != nil {
		return nil, err
	}
	var steps []step
	if p.WasRunning {
		steps = append(steps, step{task: ecs.TaskPoweringOff, act: func(ctx context.Context, srv *ecs.Server) error {
			return r.Driver.Stop(ctx, srv.ID, false)
		}, after: stopped})
	}
	steps = append(steps,
		step{task: ecs.TaskResizePrep},
		step{task: ecs.TaskResizeMigrating, act: func(ctx context.Context, srv *ecs.Server) error {
			return r.Driver.Resize(ctx, srv.ID, next)
		}},
		step{task: ecs.TaskResizeMigrated},
		step{task: ecs.TaskResizeFinish, after: func(srv *ecs.Server) {
			srv.FlavorID, srv.HostID = p.FlavorID, p.HostID
			srv.CPUThreads = p.CPUThreads
			srv.ResizeFlavorID, srv.ResizeHostID = "", ""
		}},
	)
	if p.WasRunning {
		steps = append(steps, step{task: ecs.TaskPoweringOn, act: func(ctx context.Context, srv *ecs.Server) error {
			return r.Driver.Start(ctx, srv.ID)
		}, after: running})
	}
	return &plan{
		steps:       steps,
		defaultCode: ecs.CodeResizeFailed,
		finish: func(srv *ecs.Server) {
			srv.ResizeFlavorID, srv.ResizeHostID = "", ""
		},
		rollback: func(ctx context.Context, srv *ecs.Server) {
			if err := r.Driver.Resize(ctx, srv.ID, old); err != nil {
				// The machine may still be running (a failed stop):
				// it then never left its old shape.
				r.Logger.Warn("resize rollback: restore shape", "server_id", srv.ID, "err", err)
			}
			if p.WasRunning {
				if err := r.Driver.Start(ctx, srv.ID); err != nil {
					r.Logger.Warn("resize rollback: restart", "server_id", srv.ID, "err", err)
				}
			}
			srv.FlavorID, srv.HostID, srv.CPUThreads = p.OldFlavorID, p.OldHostID, p.OldCPUThreads
			srv.ResizeFlavorID, srv.ResizeHostID = "", ""
			r.settle(ctx, srv)
		},
	}, nil
}
