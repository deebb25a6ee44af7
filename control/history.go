package control

import (
	"context"
	"net/http"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// History reads what happened to servers and jobs.
type History interface {
	// ServerActions returns a server's actions; projectID "" = any project.
	ServerActions(ctx context.Context, projectID, serverID string) ([]*ecs.Action, error)
	// JobPhases returns a job and the phases of it and its sub-jobs.
	JobPhases(ctx context.Context, projectID, jobID string) (*ecs.Job, map[string][]*ecs.PhaseEvent, error)
}

// Action is one entry of GET /_ecsd/servers/{server_id}/history.
type Action struct {
	Action     string     `json:"action"`
	RequestID  string     `json:"request_id"`
	JobID      string     `json:"job_id"`
	StartTime  time.Time  `json:"start_time"`
	FinishTime *time.Time `json:"finish_time"`
	Result     string     `json:"result"`
	ErrorCode  string     `json:"error_code,omitempty"`
	Message    string     `json:"message,omitempty"`
	Phases     []Phase    `json:"phases"`
}

// Phase is one phase of a job as the history shows it.
type Phase struct {
	Phase     string     `json:"phase"`
	StartTime time.Time  `json:"start_time"`
	EndTime   *time.Time `json:"end_time"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func phaseViews(ps []*ecs.PhaseEvent) []Phase {
	out := make([]Phase, 0, len(ps))
	for _, p := range ps {
		out = append(out, Phase{Phase: p.Phase, StartTime: p.StartTime, EndTime: timePtr(p.EndTime)})
	}
	return out
}

// serverHistory serves GET /_ecsd/servers/{server_id}/history?project_id=:
// every action taken on the server with its request ID, job and phases.
func (s *Server) serverHistory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pid, sid := r.URL.Query().Get("project_id"), r.PathValue("server_id")
	actions, err := s.History.ServerActions(ctx, pid, sid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(actions) == 0 {
		WriteError(w, http.StatusNotFound, "Ecsd.NotFound", "No history for server "+sid+".")
		return
	}
	out := make([]Action, 0, len(actions))
	for _, a := range actions {
		v := Action{Action: a.Action, RequestID: a.RequestID, JobID: a.JobID, StartTime: a.StartTime,
			FinishTime: timePtr(a.FinishTime), Result: a.Result, ErrorCode: a.ErrorCode, Message: a.Message,
			Phases: []Phase{}}
		if _, phases, err := s.History.JobPhases(ctx, a.ProjectID, a.JobID); err == nil {
			v.Phases = phaseViews(phases[a.JobID])
		}
		out = append(out, v)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"server_id": sid, "actions": out})
}

type jobHistoryView struct {
	JobID     string           `json:"job_id"`
	JobType   string           `json:"job_type"`
	Status    string           `json:"status"`
	ServerID  string           `json:"server_id,omitempty"`
	BeginTime time.Time        `json:"begin_time"`
	EndTime   *time.Time       `json:"end_time"`
	ErrorCode string           `json:"error_code,omitempty"`
	Phases    []Phase          `json:"phases"`
	SubJobs   []jobHistoryView `json:"sub_jobs,omitempty"`
}

// jobHistory serves GET /_ecsd/jobs/{job_id}/history?project_id=: each
// phase of the job (and of its sub-jobs) with its start and end.
func (s *Server) jobHistory(w http.ResponseWriter, r *http.Request) {
	job, phases, err := s.History.JobPhases(r.Context(), r.URL.Query().Get("project_id"), r.PathValue("job_id"))
	if ecs.ErrorCode(err) != "" {
		WriteError(w, http.StatusNotFound, "Ecsd.NotFound", ecs.ErrorMessage(err))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	view := func(j *ecs.Job) jobHistoryView {
		return jobHistoryView{JobID: j.ID, JobType: j.Type, Status: j.Status, ServerID: j.ServerID,
			BeginTime: j.BeginTime, EndTime: timePtr(j.EndTime), ErrorCode: j.ErrorCode, Phases: phaseViews(phases[j.ID])}
	}
	out := view(job)
	for _, sub := range job.SubJobs {
		out.SubJobs = append(out.SubJobs, view(sub))
	}
	WriteJSON(w, http.StatusOK, out)
}

// internal logs err and answers 500 without its detail.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Error("control API internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	WriteError(w, http.StatusInternalServerError, "Ecsd.Internal", "Internal error.")
}
