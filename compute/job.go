package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// ResizeParams are the parameters of a resizeServer job, fixed when the
// resize is accepted.
type ResizeParams struct {
	FlavorID    string `json:"flavor_id"`
	OldFlavorID string `json:"old_flavor_id"`
	HostID      string `json:"host_id"`
	OldHostID   string `json:"old_host_id"`
	// WasRunning: the server was ACTIVE and is stopped first
	// (mode=withStopServer), then started again at the end.
	WasRunning    bool `json:"was_running"`
	CPUThreads    int  `json:"cpu_threads,omitempty"`
	OldCPUThreads int  `json:"old_cpu_threads,omitempty"`
}

// ActionParams are the parameters of a start, stop or reboot sub-job.
type ActionParams struct {
	Hard bool `json:"hard,omitempty"`
	// Noop: the server is already in the state asked for; the sub-job
	// succeeds without touching it.
	Noop bool `json:"noop,omitempty"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("compute: marshal %T: %v", v, err))
	}
	return string(b)
}

// newJob returns a job in INIT.
func newJob(projectID, parentID, typ, serverID string, params any, now time.Time) *ecs.Job {
	p := "{}"
	if params != nil {
		p = mustJSON(params)
	}
	return &ecs.Job{
		ID:        NewJobID(),
		ProjectID: projectID,
		ParentID:  parentID,
		Type:      typ,
		Status:    ecs.JobInit,
		ServerID:  serverID,
		Params:    p,
		BeginTime: now,
	}
}

// insertBatch stores a parent job and one sub-job per server and enqueues
// the sub-jobs.
func (s *Service) insertBatch(ctx context.Context, tx *sql.Tx, projectID, typ, subType string, servers []string, params []any) (*ecs.Job, error) {
	now := s.now()
	parent := newJob(projectID, "", typ, "", nil, now)
	if err := s.Store.InsertJob(ctx, tx, parent); err != nil {
		return nil, err
	}
	subs := make([]*ecs.Job, len(servers))
	for i, id := range servers {
		var p any
		if params != nil {
			p = params[i]
		}
		subs[i] = newJob(projectID, parent.ID, subType, id, p, now)
		if err := s.Store.InsertJob(ctx, tx, subs[i]); err != nil {
			return nil, err
		}
	}
	for _, sub := range subs {
		if err := s.recordAction(ctx, tx, sub); err != nil {
			return nil, err
		}
	}
	if err := s.Queue.Enqueue(ctx, tx, subs...); err != nil {
		return nil, fmt.Errorf("enqueue %s: %w", typ, err)
	}
	parent.SubJobs = subs
	return parent, nil
}

// actionNames names the actions of the history by job type.
var actionNames = map[string]string{
	ecs.JobCreateSingleServer: "create",
	ecs.JobDeleteSingleServer: "delete",
	ecs.JobStartServer:        "start",
	ecs.JobStopServer:         "stop",
	ecs.JobRebootServer:       "reboot",
	ecs.JobResizeServer:       "resize",
	ecs.JobNovaResize:         "resize",
	ecs.JobConfirmResize:      "confirmResize",
	ecs.JobRevertResize:       "revertResize",
}

// recordAction adds the history entry of a single-server job, with the ID of
// the request that caused it.
func (s *Service) recordAction(ctx context.Context, tx *sql.Tx, j *ecs.Job) error {
	return s.Store.InsertAction(ctx, tx, &ecs.Action{
		ProjectID: j.ProjectID, ServerID: j.ServerID, Action: actionNames[j.Type],
		RequestID: ecs.RequestID(ctx), JobID: j.ID, StartTime: j.BeginTime,
	})
}

// ServerActions returns the history of a server of the project (also after
// it was deleted), oldest first.
func (s *Service) ServerActions(ctx context.Context, projectID, serverID string) ([]*ecs.Action, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) ([]*ecs.Action, error) {
		return s.Store.Actions(ctx, tx, projectID, serverID)
	})
}

// JobPhases returns a job and the phases it (or each of its sub-jobs) went
// through, keyed by job ID.
func (s *Service) JobPhases(ctx context.Context, projectID, jobID string) (*ecs.Job, map[string][]*ecs.PhaseEvent, error) {
	var job *ecs.Job
	phases := map[string][]*ecs.PhaseEvent{}
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		if job, err = s.Store.JobByID(ctx, tx, projectID, jobID); err != nil {
			return err
		}
		for _, j := range append([]*ecs.Job{job}, job.SubJobs...) {
			ps, err := s.Store.Phases(ctx, tx, j.ID)
			if err != nil {
				return err
			}
			if len(ps) > 0 {
				phases[j.ID] = ps
			}
		}
		return nil
	})
	return job, phases, err
}
