package compute

import (
	"context"
	"database/sql"
	"net/http"

	ecs "github.com/ecsd-dev/ecsd"
)

// RevertParams are the parameters of a revertResize job, fixed when the
// revert is accepted: the flavor and host to go back to, the ones to leave,
// and the power state to restore.
type RevertParams struct {
	FlavorID    string `json:"flavor_id"`     // the old flavor, restored
	HostID      string `json:"host_id"`       // the old host, restored
	NewFlavorID string `json:"new_flavor_id"` // the flavor of the resize, left
	NewHostID   string `json:"new_host_id"`
	WasRunning  bool   `json:"was_running"`
	CPUThreads  int    `json:"cpu_threads,omitempty"`
}

// NovaResizeServer implements ecs.ServerService. It runs the checks of
// ResizeServer (checkResize, quota, capacity) but accepts running servers
// (Nova stops them and starts them again before VERIFY_RESIZE) and refuses
// yearly/monthly and spot servers, which need the v1.1 API's orders. The
// job ends in VERIFY_RESIZE with the new flavor; the old flavor and host
// stay reserved (ResizeFlavorID, ResizeHostID) until a confirm or revert.
func (s *Service) NovaResizeServer(ctx context.Context, req *ecs.ResizeRequest) (string, error) {
	var jobID string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		srv, err := s.Store.ServerByID(ctx, tx, req.ProjectID, req.ServerID)
		if err != nil {
			return err
		}
		switch srv.ChargingMode {
		case ecs.ChargingSpot:
			return ecs.Errorf(ecs.CodeChargingNotAllowed, "Instance[%s] is a spot server; spot servers cannot be resized.", srv.ID)
		case ecs.ChargingPrePaid:
			return ecs.Errorf(ecs.CodeChargingNotAllowed,
				"Instance[%s] is billed yearly/monthly; resize it with POST /v1.1/{project_id}/cloudservers/{server_id}/resize.", srv.ID)
		}
		// Keep the server's cpu_threads when the target flavor allows it.
		threads := srv.CPUThreads
		cur, next, err := s.checkResize(srv, req.FlavorID, true, 0)
		if err != nil {
			return err
		}
		if threads != 0 && checkCPUThreads(next, threads) != nil {
			threads = 0
		}
		limits, err := s.limits(ctx, tx, req.ProjectID)
		if err != nil {
			return err
		}
		if err := checkQuota(limits, false, 0, next.VCPUs-cur.VCPUs, next.RAMMB-cur.RAMMB); err != nil {
			return err
		}
		usage, err := s.usageInAZ(ctx, tx, srv.AvailabilityZone)
		if err != nil {
			return err
		}
		host := placeResize(usage, srv, cur, next)
		if host == "" {
			return ecs.Errorf(ecs.CodeInsufficientCap,
				"Insufficient capacity for flavor %s in availability zone %s; choose another flavor.", next.ID, srv.AvailabilityZone)
		}
		wasRunning := srv.VMState == ecs.VMActive
		params := ResizeParams{
			FlavorID: next.ID, OldFlavorID: cur.ID, HostID: host, OldHostID: srv.HostID,
			WasRunning: wasRunning, CPUThreads: threads, OldCPUThreads: srv.CPUThreads,
		}
		srv.ResizeFlavorID, srv.ResizeHostID = next.ID, host
		srv.TaskState = ecs.TaskResizePrep
		if wasRunning {
			srv.TaskState = ecs.TaskPoweringOff
		}
		job, err := s.startServerJob(ctx, tx, srv, ecs.JobNovaResize, params)
		if err != nil {
			return err
		}
		jobID = job.ID
		return nil
	})
	return jobID, err
}

// ConfirmResize implements ecs.ServerService: it accepts a confirm of a
// server in VERIFY_RESIZE (else a 409 Ecs.0100) and starts the job that
// releases the old flavor and host and puts the server back in its stable
// state (ACTIVE when it runs, SHUTOFF when stopped).
func (s *Service) ConfirmResize(ctx context.Context, projectID, serverID string) (string, error) {
	var jobID string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		srv, err := s.verifyResizeServer(ctx, tx, projectID, serverID, "confirm")
		if err != nil {
			return err
		}
		srv.TaskState = ecs.TaskResizeConfirming
		job, err := s.startServerJob(ctx, tx, srv, ecs.JobConfirmResize, nil)
		if err != nil {
			return err
		}
		jobID = job.ID
		return nil
	})
	return jobID, err
}

// RevertResize implements ecs.ServerService: it accepts a revert of a server
// in VERIFY_RESIZE (else a 409 Ecs.0100) and starts the job that puts the
// old flavor and host back (REVERT_RESIZE while it runs) and restores the
// power state the server had before the resize.
func (s *Service) RevertResize(ctx context.Context, projectID, serverID string) (string, error) {
	var jobID string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		srv, err := s.verifyResizeServer(ctx, tx, projectID, serverID, "revert")
		if err != nil {
			return err
		}
		params := RevertParams{
			FlavorID: srv.ResizeFlavorID, HostID: srv.ResizeHostID,
			NewFlavorID: srv.FlavorID, NewHostID: srv.HostID,
			WasRunning: srv.PowerState == ecs.PowerRunning, CPUThreads: srv.CPUThreads,
		}
		srv.TaskState = ecs.TaskResizeReverting
		job, err := s.startServerJob(ctx, tx, srv, ecs.JobRevertResize, params)
		if err != nil {
			return err
		}
		jobID = job.ID
		return nil
	})
	return jobID, err
}

// verifyResizeServer loads a server that must be in VERIFY_RESIZE with its
// old flavor reserved.
func (s *Service) verifyResizeServer(ctx context.Context, tx *sql.Tx, projectID, serverID, what string) (*ecs.Server, error) {
	srv, err := s.Store.ServerByID(ctx, tx, projectID, serverID)
	if err != nil {
		return nil, err
	}
	switch {
	case srv.Locked:
		return nil, ecs.Errorf(ecs.CodeLocked, "Instance[%s] is locked.", srv.ID)
	case srv.Busy():
		return nil, busyError(srv)
	case srv.Status() != ecs.StatusVerifyResize || srv.ResizeFlavorID == "":
		return nil, &ecs.Error{Code: ecs.CodeStateConflict, Status: http.StatusConflict, Message: "Cannot '" + what +
			"Resize' instance " + srv.ID + " while it is in vm_state " + srv.VMState + " (status " + srv.Status() + ")."}
	}
	return srv, nil
}

// startServerJob writes srv (whose task state the caller has set) and a new
// single-server job of type typ with its history entry, and enqueues it.
func (s *Service) startServerJob(ctx context.Context, tx *sql.Tx, srv *ecs.Server, typ string, params any) (*ecs.Job, error) {
	srv.Updated = s.now()
	if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
		return nil, err
	}
	job := newJob(srv.ProjectID, "", typ, srv.ID, params, s.now())
	if err := s.Store.InsertJob(ctx, tx, job); err != nil {
		return nil, err
	}
	if err := s.recordAction(ctx, tx, job); err != nil {
		return nil, err
	}
	if err := s.Queue.Enqueue(ctx, tx, job); err != nil {
		return nil, err
	}
	return job, nil
}
