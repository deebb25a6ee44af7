package main

import (
	"context"
	"fmt"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

func jobStatus(j *model.ShowJobResponse) string {
	if j.Status == nil {
		return ""
	}
	return j.Status.Value()
}

func jobEnded(j *model.ShowJobResponse) bool {
	s := jobStatus(j)
	return s == "SUCCESS" || s == "FAIL"
}

// jobServer is the one server a job acts on, or "" for none or several.
func jobServer(j *model.ShowJobResponse) string {
	if j.Entities == nil {
		return ""
	}
	if id := deref(j.Entities.ServerId); id != "" {
		return id
	}
	if j.Entities.SubJobs != nil && len(*j.Entities.SubJobs) == 1 {
		if e := (*j.Entities.SubJobs)[0].Entities; e != nil {
			return deref(e.ServerId)
		}
	}
	return ""
}

// jobPhase describes where a job is: its status, the server's task state
// for a single-server job, or how many sub-jobs ended.
func jobPhase(j *model.ShowJobResponse, task string) string {
	phase := jobStatus(j)
	if task != "" {
		return phase + " " + task
	}
	if j.Entities != nil && j.Entities.SubJobs != nil && len(*j.Entities.SubJobs) > 1 {
		done := 0
		for _, s := range *j.Entities.SubJobs {
			if s.Status != nil && (s.Status.Value() == "SUCCESS" || s.Status.Value() == "FAIL") {
				done++
			}
		}
		phase += fmt.Sprintf(" %d/%d sub-jobs ended", done, len(*j.Entities.SubJobs))
	}
	return phase
}

// waitJob polls a job until it ends, showing its progress. serverID names
// the job's single server ("" to take it from the job).
func (a *app) waitJob(ctx context.Context, jobID, serverID string) (*model.ShowJobResponse, error) {
	start := time.Now()
	g := newProgress(a.out.progressWriter(), a.out.terminal, start)
	defer g.Done()
	redraw := a.cfg.Poll
	if a.out.terminal {
		redraw = min(redraw, 100*time.Millisecond)
	}
	for {
		job, err := call(ctx, func() (*model.ShowJobResponse, error) {
			return a.ecs.ShowJob(&model.ShowJobRequest{JobId: jobID})
		})
		if err != nil {
			return nil, err
		}
		if jobEnded(job) {
			return job, nil
		}
		task := ""
		id := serverID
		if id == "" {
			id = jobServer(job)
		}
		if id != "" {
			if s, err := call(ctx, func() (*model.ShowServerResponse, error) {
				return a.ecs.ShowServer(&model.ShowServerRequest{ServerId: id})
			}); err == nil && s.Server != nil {
				task = s.Server.OSEXTSTStaskState
			}
		}
		phase := jobPhase(job, task)
		next := time.Now().Add(a.cfg.Poll)
		for {
			g.Update(phase, time.Now())
			wait := min(redraw, time.Until(next))
			if wait <= 0 {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, &exitError{code: exitConnection, err: fmt.Errorf("gave up waiting for job %s (%s): %w", jobID, phase, ctx.Err())}
			case <-t.C:
			}
		}
	}
}

// finishJob prints an ended job and returns an exit code 3 error if it
// failed.
func (a *app) finishJob(job *model.ShowJobResponse) error {
	if a.out.json() {
		if err := a.out.JSON(job); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.out.w, "job %s %s (%s)\n", deref(job.JobId), jobStatus(job), deref(job.JobType))
	}
	return jobError(job)
}

func jobError(job *model.ShowJobResponse) error {
	if jobStatus(job) != "FAIL" {
		return nil
	}
	return &exitError{code: exitJobFailed, err: fmt.Errorf("job %s failed: %s: %s",
		deref(job.JobId), orDash(deref(job.ErrorCode)), orDash(deref(job.FailReason)))}
}

// afterJob waits for a job if --wait was given, else prints its ID.
func (a *app) afterJob(ctx context.Context, jobID, serverID string, accepted any) error {
	if !a.cfg.Wait {
		if a.out.json() {
			return a.out.JSON(accepted)
		}
		_, err := fmt.Fprintf(a.out.w, "job %s accepted\n", jobID)
		return err
	}
	job, err := a.waitJob(ctx, jobID, serverID)
	if err != nil {
		return err
	}
	return a.finishJob(job)
}

func (a *app) jobsShow(ctx context.Context) error {
	id := a.cfg.Args[0]
	job, err := call(ctx, func() (*model.ShowJobResponse, error) {
		return a.ecs.ShowJob(&model.ShowJobRequest{JobId: id})
	})
	if err != nil {
		return err
	}
	if a.cfg.Wait && !jobEnded(job) {
		if job, err = a.waitJob(ctx, id, ""); err != nil {
			return err
		}
	}
	if a.out.json() {
		if err := a.out.JSON(job); err != nil {
			return err
		}
	} else if err := a.printJob(job); err != nil {
		return err
	}
	return jobError(job)
}

// printJob writes a job and its sub-jobs as a table.
func (a *app) printJob(j *model.ShowJobResponse) error {
	if err := a.out.Fields([][2]string{
		{"job_id", deref(j.JobId)},
		{"type", deref(j.JobType)},
		{"status", jobStatus(j)},
		{"server", orDash(jobServer(j))},
		{"begin_time", orDash(deref(j.BeginTime))},
		{"end_time", orDash(deref(j.EndTime))},
		{"error_code", orDash(deref(j.ErrorCode))},
		{"fail_reason", orDash(deref(j.FailReason))},
	}); err != nil {
		return err
	}
	if j.Entities == nil || j.Entities.SubJobs == nil || len(*j.Entities.SubJobs) == 0 {
		return nil
	}
	fmt.Fprintln(a.out.w)
	var rows [][]string
	for _, s := range *j.Entities.SubJobs {
		st, server := "", ""
		if s.Status != nil {
			st = s.Status.Value()
		}
		if s.Entities != nil {
			server = deref(s.Entities.ServerId)
		}
		rows = append(rows, []string{deref(s.JobId), deref(s.JobType), st, orDash(server), orDash(deref(s.ErrorCode)), orDash(deref(s.FailReason))})
	}
	return a.out.Table([]string{"SUB-JOB", "TYPE", "STATUS", "SERVER", "ERROR", "REASON"}, rows)
}
