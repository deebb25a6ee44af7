package ecs

import (
	"context"
	"time"
)

// Job statuses, as GET /v1/{project_id}/jobs/{job_id} reports them.
const (
	JobInit    = "INIT"
	JobRunning = "RUNNING"
	JobSuccess = "SUCCESS"
	JobFail    = "FAIL"
)

// Job types. Only createServer and createSingleServer are documented; the
// others are ecsd's choice (docs/compatibility.md).
const (
	JobCreateServer       = "createServer"
	JobCreateSingleServer = "createSingleServer"
	JobDeleteServer       = "deleteServer"
	JobDeleteSingleServer = "deleteSingleServer"
	JobBatchStart         = "batchStartServers"
	JobStartServer        = "startServer"
	JobBatchStop          = "batchStopServers"
	JobStopServer         = "stopServer"
	JobBatchReboot        = "batchRebootServers"
	JobRebootServer       = "rebootServer"
	JobResizeServer       = "resizeServer"
	// Nova-style resize (POST /v2.1/{project_id}/servers/{id}/action).
	JobNovaResize    = "novaResizeServer"
	JobConfirmResize = "confirmResize"
	JobRevertResize  = "revertResize"
)

// Job is an API-visible asynchronous job. A batch job has sub-jobs, one per
// server; a single-server job has a ServerID and no sub-jobs.
type Job struct {
	ID        string
	ProjectID string
	ParentID  string // empty for a top-level job
	Type      string
	Status    string
	ServerID  string
	// Phase is the step the job has reached (a task state or an internal
	// marker); workers resume from it after a restart.
	Phase string
	// Params holds the job's parameters as JSON (e.g. the target flavor).
	Params     string
	ErrorCode  string
	FailReason string
	BeginTime  time.Time
	EndTime    time.Time // zero while running

	SubJobs []*Job
}

// Done reports whether the job has ended.
func (j *Job) Done() bool { return j.Status == JobSuccess || j.Status == JobFail }

// JobService reads jobs.
type JobService interface {
	// FindJobByID returns a job of the project with its sub-jobs.
	FindJobByID(ctx context.Context, projectID, id string) (*Job, error)
}
