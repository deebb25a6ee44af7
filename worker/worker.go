// Package worker runs ecsd's asynchronous jobs on River: JobArgs names an
// API job, Worker hands it to the Runner, and Queue enqueues jobs inside the
// transaction of the state change they carry.
package worker

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	ecs "github.com/ecsd-dev/ecsd"
)

// MaxAttempts is how often River runs a job whose store writes fail before
// the runner gives up, fails the job and rolls it back.
const MaxAttempts = 10

// JobArgs is the River job that carries one API job (or sub-job).
type JobArgs struct {
	JobID string `json:"job_id"`
	Type  string `json:"type"`
}

// Kind implements river.JobArgs.
func (JobArgs) Kind() string { return "ecsd_job" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (JobArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// Worker works JobArgs with a Runner. TDriver is the River driver, needed to
// complete the River job in the runner's last transaction.
type Worker[TDriver riverdriver.Driver[*sql.Tx]] struct {
	river.WorkerDefaults[JobArgs]
	Runner *Runner
}

// Work implements river.Worker.
func (w *Worker[TDriver]) Work(ctx context.Context, job *river.Job[JobArgs]) error {
	giveUp := job.Attempt >= job.MaxAttempts
	return w.Runner.Run(ctx, job.Args.JobID, giveUp, func(ctx context.Context, tx *sql.Tx) error {
		_, err := river.JobCompleteTx[TDriver](ctx, tx, job)
		return err
	})
}

// Timeout implements river.Worker: jobs follow ecsd's clock, which a test
// may pause, so River never times them out.
func (w *Worker[TDriver]) Timeout(*river.Job[JobArgs]) time.Duration { return -1 }

// Queue enqueues API jobs on River. It implements compute.Queue.
type Queue struct {
	Client *river.Client[*sql.Tx]
}

// Enqueue inserts one River job per API job, in tx.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, jobs ...*ecs.Job) error {
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: JobArgs{JobID: j.ID, Type: j.Type}}
	}
	if _, err := q.Client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// RetryPolicy retries failed River jobs soon: a job's failures are store
// errors (a busy or briefly unreachable database), not bad input.
type RetryPolicy struct{}

// NextRetry implements river.ClientRetryPolicy: attempt n waits n×200 ms, at
// most 5 s.
func (RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := min(time.Duration(job.Attempt)*200*time.Millisecond, 5*time.Second)
	return time.Now().Add(d)
}
