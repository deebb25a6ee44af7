package httpapi

import (
	ecs "github.com/ecsd-dev/ecsd"
)

// job is the body of GET /v1/{project_id}/jobs/{job_id} (SDK
// ShowJobResponse, reference §D). begin_time and end_time are
// "2006-01-02T15:04:05.000Z"; end_time is "" while the job runs (the SDK
// field is an optional string; OAS requires a string). error_code and
// fail_reason are null unless the job failed.
type job struct {
	Status     string      `json:"status"`
	Entities   jobEntities `json:"entities"`
	JobID      string      `json:"job_id"`
	JobType    string      `json:"job_type"`
	BeginTime  string      `json:"begin_time"`
	EndTime    string      `json:"end_time"`
	ErrorCode  *string     `json:"error_code"`
	FailReason *string     `json:"fail_reason"`
}

// jobEntities is SDK JobEntities: server_id for a single-server job,
// sub_jobs_total and sub_jobs for a batch job.
type jobEntities struct {
	ServerID     string    `json:"server_id,omitempty"`
	SubJobsTotal *int      `json:"sub_jobs_total,omitempty"`
	SubJobs      *[]subJob `json:"sub_jobs,omitempty"`
}

// subJob is SDK SubJob.
type subJob struct {
	Status     string         `json:"status"`
	Entities   subJobEntities `json:"entities"`
	JobID      string         `json:"job_id"`
	JobType    string         `json:"job_type"`
	BeginTime  string         `json:"begin_time"`
	EndTime    string         `json:"end_time"`
	ErrorCode  *string        `json:"error_code"`
	FailReason *string        `json:"fail_reason"`
}

// subJobEntities is SDK SubJobEntities; errorcode_message is set on failed
// sub-jobs.
type subJobEntities struct {
	ServerID         string `json:"server_id,omitempty"`
	ErrorcodeMessage string `json:"errorcode_message,omitempty"`
}

// batchJobTypes are the job types whose entities list sub-jobs even before
// any exists.
var batchJobTypes = map[string]bool{
	ecs.JobCreateServer: true,
	ecs.JobDeleteServer: true,
	ecs.JobBatchStart:   true,
	ecs.JobBatchStop:    true,
	ecs.JobBatchReboot:  true,
}

// newJob returns the ShowJob body of j. A job with sub-jobs, or of a batch
// type, shows {sub_jobs_total, sub_jobs}; any other job shows {server_id}.
func newJob(j *ecs.Job) job {
	out := job{
		Status:    j.Status,
		JobID:     j.ID,
		JobType:   j.Type,
		BeginTime: formatTime(j.BeginTime, timeFormatJob),
		EndTime:   formatOptionalTime(j.EndTime, timeFormatJob),
	}
	out.ErrorCode, out.FailReason = jobFailure(j)
	if len(j.SubJobs) > 0 || batchJobTypes[j.Type] {
		subs := make([]subJob, 0, len(j.SubJobs))
		for _, s := range j.SubJobs {
			sj := subJob{
				Status:    s.Status,
				Entities:  subJobEntities{ServerID: s.ServerID},
				JobID:     s.ID,
				JobType:   s.Type,
				BeginTime: formatTime(s.BeginTime, timeFormatJob),
				EndTime:   formatOptionalTime(s.EndTime, timeFormatJob),
			}
			sj.ErrorCode, sj.FailReason = jobFailure(s)
			if sj.FailReason != nil {
				sj.Entities.ErrorcodeMessage = *sj.FailReason
			}
			subs = append(subs, sj)
		}
		out.Entities = jobEntities{SubJobsTotal: ptr(len(subs)), SubJobs: &subs}
	} else {
		out.Entities = jobEntities{ServerID: j.ServerID}
	}
	return out
}

// jobFailure returns error_code and fail_reason: strings when the job
// failed (never empty), null otherwise.
func jobFailure(j *ecs.Job) (code, reason *string) {
	if j.Status != ecs.JobFail {
		return nil, nil
	}
	c, r := j.ErrorCode, j.FailReason
	if c == "" {
		c = ecs.CodeInternal
	}
	if r == "" {
		r = "The job failed."
	}
	return &c, &r
}
