package worker_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/worker"
)

var (
	_ compute.Queue                = (*worker.Queue)(nil)
	_ river.Worker[worker.JobArgs] = (*worker.Worker[*riversqlite.Driver])(nil)
)

// observation is what completionObserver saw once a job's Work returned.
type observation struct {
	apiJobID   string
	workErr    error
	riverState string // river_job.state at that moment
	apiStatus  string // jobs.status at that moment
}

// completionObserver is River worker middleware. Right after Work returns,
// before River's executor hands the result to its own completer, it reads
// the River row and the API job: a River row already "completed" then
// proves that the worker completed it itself, with JobCompleteTx, in the
// transaction that ended the API job.
type completionObserver struct {
	river.MiddlewareDefaults
	db *store.DB

	mu      sync.Mutex
	seen    map[string]observation // by API job ID
	changed chan struct{}          // closed and replaced on every observation
}

func newCompletionObserver(db *store.DB) *completionObserver {
	return &completionObserver{db: db, seen: map[string]observation{}, changed: make(chan struct{})}
}

func (o *completionObserver) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	var args worker.JobArgs
	_ = json.Unmarshal(job.EncodedArgs, &args)
	obs := observation{apiJobID: args.JobID, workErr: err}
	q := o.db.SQL()
	if e := q.QueryRowContext(context.WithoutCancel(ctx), `SELECT state FROM river_job WHERE id = ?`, job.ID).Scan(&obs.riverState); e != nil {
		obs.riverState = "error: " + e.Error()
	}
	if e := q.QueryRowContext(context.WithoutCancel(ctx), `SELECT status FROM jobs WHERE id = ?`, args.JobID).Scan(&obs.apiStatus); e != nil {
		obs.apiStatus = "error: " + e.Error()
	}
	o.mu.Lock()
	o.seen[obs.apiJobID] = obs
	close(o.changed)
	o.changed = make(chan struct{})
	o.mu.Unlock()
	return err
}

// newRiverClient returns a River client over b's database with worker.Worker
// registered, configured as node.Node configures it but polling faster,
// and an observer of completed work.
func newRiverClient(t *testing.T, b *testBundle) (*river.Client[*sql.Tx], *completionObserver) {
	t.Helper()
	obs := newCompletionObserver(b.db)
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker.Worker[*riversqlite.Driver]{Runner: b.runner})
	client, err := river.NewClient(riversqlite.New(b.db.SQL()), &river.Config{
		Logger:               discard,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:              workers,
		FetchCooldown:        2 * time.Millisecond,
		FetchPollInterval:    5 * time.Millisecond,
		JobTimeout:           -1,
		RescueStuckJobsAfter: 24 * time.Hour,
		RetryPolicy:          worker.RetryPolicy{},
		PollOnly:             true,
		TestOnly:             true,
		Middleware:           []rivertype.Middleware{obs},
	})
	if err != nil {
		t.Fatalf("river.NewClient: %v", err)
	}
	return client, obs
}

func startRiver(t *testing.T, client *river.Client[*sql.Tx]) {
	t.Helper()
	if err := client.Start(context.WithoutCancel(t.Context())); err != nil {
		t.Fatalf("river: Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(ctx); err != nil {
			t.Errorf("river: Stop: %v", err)
		}
	})
}

// waitWorked waits until the observer has seen the API job worked.
func (o *completionObserver) waitWorked(t *testing.T, apiJobID string) observation {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		o.mu.Lock()
		obs, ok := o.seen[apiJobID]
		changed := o.changed
		o.mu.Unlock()
		if ok {
			return obs
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("job %s was not worked within 30 s", apiJobID)
		}
	}
}

func requireCompletedInTx(t *testing.T, obs observation) {
	t.Helper()
	if obs.workErr != nil || obs.riverState != string(rivertype.JobStateCompleted) || obs.apiStatus != ecs.JobSuccess {
		t.Errorf("when Work returned for %s: err %v, River row %q, API job %q; want nil, completed, SUCCESS",
			obs.apiJobID, obs.workErr, obs.riverState, obs.apiStatus)
	}
}

// TestRiver runs jobs through a real River client: compute enqueues them with
// worker.Queue in the state change's transaction, River hands them to
// worker.Worker, and the runner completes the River job in the transaction
// that ends the API job.
func TestRiver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	client, obs := newRiverClient(t, b)
	b.svc.Queue = &worker.Queue{Client: client}
	startRiver(t, client)
	res := b.acceptCreate(t, "web", "s6.small.1", 2, "")
	for _, sub := range b.job(t, res.JobID).SubJobs {
		requireCompletedInTx(t, obs.waitWorked(t, sub.ID))
	}
	requireEnded(t, b.job(t, res.JobID), ecs.JobSuccess, "")
	id := res.ServerIDs[0]

	// A resize of the running server with withStopServer.
	jobID := b.resize(t, id, "s6.large.4", true, 0)
	requireCompletedInTx(t, obs.waitWorked(t, jobID))
	requireEnded(t, b.job(t, jobID), ecs.JobSuccess, "")
	requireServerState(t, b.server(t, id), ecs.StatusActive, ecs.PowerRunning, "s6.large.4")
	if st := b.inspect(t, id); st != (driver.State{Power: driver.PowerRunning, Shape: shapeOf(t, "s6.large.4")}) {
		t.Errorf("driver state %+v", st)
	}

	// River's row stays completed, with one attempt.
	rows, err := client.JobList(ctx, river.NewJobListParams().Kinds(worker.JobArgs{}.Kind()).First(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Jobs) != 3 {
		t.Errorf("River has %d jobs, want 3 (two creates, one resize)", len(rows.Jobs))
	}
	for _, row := range rows.Jobs {
		if row.State != rivertype.JobStateCompleted || row.Attempt != 1 || row.MaxAttempts != worker.MaxAttempts {
			t.Errorf("River job %d: %s after %d/%d attempts, want completed after 1/%d", row.ID, row.State, row.Attempt, row.MaxAttempts, worker.MaxAttempts)
		}
	}
}

// TestRiverResumesInterruptedJob is a crash and restart: a resize dies in
// resize_migrated with its River job running; RescueInterruptedJobs makes
// the River job available again, and a new River client finishes the resize
// from where it stood.
func TestRiverResumesInterruptedJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.stoppedServer(t, "s6.small.1") // through the fake queue, by hand

	client, obs := newRiverClient(t, b)
	b.svc.Queue = &worker.Queue{Client: client}
	jobID := b.resize(t, id, "s6.large.4", false, 0)
	var riverID int64
	if err := b.db.SQL().QueryRowContext(t.Context(), `SELECT id FROM river_job`).Scan(&riverID); err != nil {
		t.Fatalf("the resize's River job: %v", err)
	}

	// The first process works the job and dies in resize_migrated.
	ctx, cancel := context.WithCancel(t.Context())
	const marker = 7 * time.Nanosecond
	dying := b.newRunner(b.db, cancelClock{marker: marker, cancel: cancel}, worker.Timing{ecs.TaskResizeMigrated: marker})
	if err := dying.Run(ctx, jobID, false, nil); err == nil {
		t.Fatal("the dying runner finished the job")
	}
	cancel()
	if _, err := b.db.SQL().ExecContext(t.Context(), `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = datetime('now'), attempted_by = json_array('dead-client') WHERE id = ?`, riverID); err != nil {
		t.Fatal(err)
	}
	if job := b.job(t, jobID); job.Status != ecs.JobRunning || job.Phase != ecs.TaskResizeMigrated {
		t.Fatalf("job after the crash: %s in %q", job.Status, job.Phase)
	}

	// The restart.
	n, err := b.db.RescueInterruptedJobs(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("RescueInterruptedJobs = %d, %v; want 1", n, err)
	}
	startRiver(t, client)
	requireCompletedInTx(t, obs.waitWorked(t, jobID))
	job := b.job(t, jobID)
	requireEnded(t, job, ecs.JobSuccess, "")
	requireServerState(t, b.server(t, id), ecs.StatusShutoff, ecs.PowerShutdown, "s6.large.4")
	row, err := client.JobGet(t.Context(), riverID)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != rivertype.JobStateCompleted || row.Attempt != 2 {
		t.Errorf("River job: %s after %d attempts, want completed after 2", row.State, row.Attempt)
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{
		1: 200 * time.Millisecond, 2: 400 * time.Millisecond, 10: 2 * time.Second, 25: 5 * time.Second, 1000: 5 * time.Second,
	} {
		before := time.Now()
		next := worker.RetryPolicy{}.NextRetry(&rivertype.JobRow{Attempt: attempt})
		if d := next.Sub(before); d < want || d > want+time.Second {
			t.Errorf("attempt %d: retry after %s, want %s", attempt, d, want)
		}
	}
	if got := (worker.JobArgs{}).InsertOpts().MaxAttempts; got != worker.MaxAttempts {
		t.Errorf("InsertOpts().MaxAttempts = %d, want %d", got, worker.MaxAttempts)
	}
}

// TestRiverWake: with SQLiteDriver and Queue.Wake, River fetches a job as
// soon as the transaction that enqueued it commits. The poll interval is an
// hour, so only the wake can hand the jobs after the first fetch to River.
func TestRiverWake(t *testing.T) {
	t.Parallel()
	b := setup(t)
	obs := newCompletionObserver(b.db)
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker.Worker[*riversqlite.Driver]{Runner: b.runner})
	river.AddWorker(workers, &worker.WakeWorker{})
	client, err := river.NewClient(b.db.RiverDriver(), &river.Config{
		Logger:               discard,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:              workers,
		FetchCooldown:        time.Millisecond,
		FetchPollInterval:    time.Hour,
		JobTimeout:           -1,
		RescueStuckJobsAfter: 24 * time.Hour,
		RetryPolicy:          worker.RetryPolicy{},
		PollOnly:             true,
		TestOnly:             true,
		Middleware:           []rivertype.Middleware{obs},
	})
	if err != nil {
		t.Fatalf("river.NewClient: %v", err)
	}
	b.svc.Queue = &worker.Queue{Client: client, Wake: true, Logger: discard}
	startRiver(t, client)
	res := b.acceptCreate(t, "web", "s6.small.1", 1, "")
	for _, sub := range b.job(t, res.JobID).SubJobs {
		requireCompletedInTx(t, obs.waitWorked(t, sub.ID))
	}
	for _, flavor := range []string{"s6.large.4", "s6.small.1"} {
		jobID := b.resize(t, res.ServerIDs[0], flavor, true, 0)
		requireCompletedInTx(t, obs.waitWorked(t, jobID))
	}
	// No outbox rows: SQLiteDriver reports no listener.
	var n int
	if err := b.db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM river_notification`).Scan(&n); err != nil || n != 0 {
		t.Errorf("river_notification holds %d rows (%v), want none", n, err)
	}
}
