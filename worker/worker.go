// Package worker runs ecsd's asynchronous jobs on River: JobArgs names an
// API job, Worker hands it to the Runner, and Queue enqueues jobs inside the
// transaction of the state change they carry.
package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
//
// With Wake set (a database without LISTEN/NOTIFY, River in poll-only
// mode), River wakes its producer only for jobs inserted outside a
// transaction, while ecsd inserts them inside the state change's: a job
// would wait for the next poll (FetchPollInterval) to start. Queue then
// remembers the transactions it enqueued in, and TxDone, told of their
// commit, wakes the producer: a WakeArgs job inserted outside any
// transaction, unique, so that after the first one each wake is a
// duplicate that River skips but still notifies its producer for. Wakes
// requested while one is in flight coalesce into one.
type Queue struct {
	Client *river.Client[*sql.Tx]
	Wake   bool
	Logger *slog.Logger // nil = slog.Default()

	pending sync.Map // *sql.Tx -> struct{}: transactions with enqueued jobs
	once    sync.Once
	wakeCh  chan struct{}
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
	if q.Wake {
		q.pending.Store(tx, struct{}{})
	}
	return nil
}

// TxDone implements compute.TxObserver: after tx committed with jobs
// enqueued in it, it wakes River's producer (in the background).
func (q *Queue) TxDone(tx *sql.Tx, committed bool) {
	if _, ok := q.pending.LoadAndDelete(tx); !ok || !committed {
		return
	}
	q.once.Do(func() {
		q.wakeCh = make(chan struct{}, 1)
		go q.wakeLoop()
	})
	select {
	case q.wakeCh <- struct{}{}:
	default: // a wake is already due
	}
}

// wakeLoop inserts a WakeArgs job for each wake due. It runs for the
// life of the process; a wake after the client stopped fails quietly.
func (q *Queue) wakeLoop() {
	logger := q.Logger
	if logger == nil {
		logger = slog.Default()
	}
	for range q.wakeCh {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := q.Client.Insert(ctx, WakeArgs{}, nil)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			logger.Debug("wake the job queue", "err", err)
		}
	}
}

// WakeArgs is the River job that Queue inserts, outside any transaction,
// to wake River's producer. It is unique in every state, so only the first
// insert (and the first after the completed one is cleaned up, or after a
// reset) adds a row; WakeWorker does nothing with it.
type WakeArgs struct{}

// Kind implements river.JobArgs.
func (WakeArgs) Kind() string { return "ecsd_wake" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WakeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
		rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// WakeWorker works WakeArgs: there is nothing to do.
type WakeWorker struct {
	river.WorkerDefaults[WakeArgs]
}

// Work implements river.Worker.
func (WakeWorker) Work(context.Context, *river.Job[WakeArgs]) error { return nil }

// RetryPolicy retries failed River jobs soon: a job's failures are store
// errors (a busy or briefly unreachable database), not bad input.
type RetryPolicy struct{}

// NextRetry implements river.ClientRetryPolicy: attempt n waits n×200 ms, at
// most 5 s.
func (RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := min(time.Duration(job.Attempt)*200*time.Millisecond, 5*time.Second)
	return time.Now().Add(d)
}
