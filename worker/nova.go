package worker

import (
	"context"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// novaResizePlan is a Nova resize: the steps of resizePlan up to
// resize_finish, which starts a server that was running on its new shape
// (as Nova's finish_resize does), and no auto-confirm. The job ends with the
// server in VERIFY_RESIZE (vm_state resized, no task): the new flavor and
// host are the server's, the old ones stay reserved in ResizeFlavorID and
// ResizeHostID for a revert, and power_state tells whether it runs. A
// failure rolls back as resizePlan does.
func (r *Runner) novaResizePlan(p compute.ResizeParams) (*plan, error) {
	base, err := r.resizePlan(p)
	if err != nil {
		return nil, err
	}
	var steps []step
	for _, st := range base.steps {
		if st.task == ecs.TaskPoweringOn {
			continue // the start happens in resize_finish
		}
		if st.task == ecs.TaskResizeFinish {
			st.act = func(ctx context.Context, srv *ecs.Server) error {
				if !p.WasRunning {
					return nil
				}
				return r.Driver.Start(ctx, srv.ID)
			}
			st.after = func(srv *ecs.Server) {
				srv.FlavorID, srv.HostID, srv.CPUThreads = p.FlavorID, p.HostID, p.CPUThreads
				srv.ResizeFlavorID, srv.ResizeHostID = p.OldFlavorID, p.OldHostID
				srv.VMState, srv.PowerState = ecs.VMResized, ecs.PowerShutdown
				if p.WasRunning {
					srv.PowerState = ecs.PowerRunning
				}
			}
		}
		steps = append(steps, st)
	}
	base.steps = steps
	base.finish = nil // the server is written as the last step left it
	return base, nil
}

// confirmResizePlan commits a Nova resize: one resize_confirming step (the
// status stays VERIFY_RESIZE), then the old flavor and host are released
// and the server returns to the stable state its power state tells. An
// injected failure leaves the server in VERIFY_RESIZE.
func (r *Runner) confirmResizePlan() *plan {
	return &plan{
		defaultCode: ecs.CodeResizeFailed,
		steps:       []step{{task: ecs.TaskResizeConfirming}},
		finish: func(srv *ecs.Server) {
			srv.ResizeFlavorID, srv.ResizeHostID = "", ""
			srv.VMState = ecs.VMStopped
			if srv.PowerState == ecs.PowerRunning {
				srv.VMState = ecs.VMActive
			}
		},
	}
}

// revertResizePlan undoes a Nova resize: in resize_reverting
// (REVERT_RESIZE) the machine is stopped, given its old shape and started
// again when it ran before; the old flavor and host come back and the new
// ones are released. A failure puts the server back in VERIFY_RESIZE (on
// its new shape when the driver allows it), so that the user may retry.
// Every driver call is idempotent, so a revert resumed after a crash does
// the whole step again.
func (r *Runner) revertResizePlan(p compute.RevertParams) (*plan, error) {
	old, err := r.shape(p.FlavorID)
	if err != nil {
		return nil, err
	}
	next, err := r.shape(p.NewFlavorID)
	if err != nil {
		return nil, err
	}
	return &plan{
		defaultCode: ecs.CodeResizeFailed,
		steps: []step{{
			task: ecs.TaskResizeReverting,
			act: func(ctx context.Context, srv *ecs.Server) error {
				if err := r.Driver.Stop(ctx, srv.ID, false); err != nil {
					return err
				}
				if err := r.Driver.Resize(ctx, srv.ID, old); err != nil {
					return err
				}
				if p.WasRunning {
					return r.Driver.Start(ctx, srv.ID)
				}
				return nil
			},
			after: func(srv *ecs.Server) {
				srv.FlavorID, srv.HostID, srv.CPUThreads = p.FlavorID, p.HostID, p.CPUThreads
				srv.ResizeFlavorID, srv.ResizeHostID = "", ""
			},
		}},
		finish: func(srv *ecs.Server) {
			if p.WasRunning {
				running(srv)
			} else {
				stopped(srv)
			}
		},
		rollback: func(ctx context.Context, srv *ecs.Server) {
			if err := r.Driver.Resize(ctx, srv.ID, next); err != nil {
				r.Logger.Warn("revert rollback: restore shape", "server_id", srv.ID, "err", err)
			}
			if p.WasRunning {
				if err := r.Driver.Start(ctx, srv.ID); err != nil {
					r.Logger.Warn("revert rollback: restart", "server_id", srv.ID, "err", err)
				}
			}
			srv.FlavorID, srv.HostID = p.NewFlavorID, p.NewHostID
			srv.ResizeFlavorID, srv.ResizeHostID = p.FlavorID, p.HostID
			r.settle(ctx, srv)
			srv.VMState = ecs.VMResized
		},
	}, nil
}

// novaPlan returns the plan of a Nova resize, confirm or revert job.
func (r *Runner) novaPlan(job *ecs.Job) (*plan, error) {
	switch job.Type {
	case ecs.JobNovaResize:
		var p compute.ResizeParams
		if err := decodeParams(job, &p); err != nil {
			return nil, err
		}
		return r.novaResizePlan(p)
	case ecs.JobConfirmResize:
		return r.confirmResizePlan(), nil
	default:
		var p compute.RevertParams
		if err := decodeParams(job, &p); err != nil {
			return nil, err
		}
		return r.revertResizePlan(p)
	}
}
