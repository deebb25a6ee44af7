package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

func TestNodeRegistry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if err := db.Heartbeat(ctx, "node-a"); !errors.Is(err, store.ErrNodeNotRegistered) {
			t.Errorf("Heartbeat before RegisterNode = %v, want ErrNodeNotRegistered", err)
		}
		if err := db.RegisterNode(ctx, ""); err == nil {
			t.Error("RegisterNode with an empty ID succeeded")
		}
		for _, id := range []string{"node-b", "node-a"} {
			if err := db.RegisterNode(ctx, id); err != nil {
				t.Fatalf("RegisterNode(%s): %v", id, err)
			}
		}
		nodes := mustNodes(t, db)
		if ids := nodeIDs(nodes); !slices.Equal(ids, []string{"node-a", "node-b"}) {
			t.Fatalf("Nodes = %v, want node-a, node-b", ids)
		}
		// Times are the database's clock; this process runs beside it.
		for _, n := range nodes {
			if d := time.Since(n.HeartbeatAt); d < -time.Minute || d > time.Minute {
				t.Errorf("%s: heartbeat %v is %v from now", n.ID, n.HeartbeatAt, d)
			}
			if n.StartedAt.After(n.HeartbeatAt) {
				t.Errorf("%s: started %v after its heartbeat %v", n.ID, n.StartedAt, n.HeartbeatAt)
			}
		}
		// A heartbeat moves heartbeat_at forward, never back.
		ageNode(t, db, "node-a", time.Hour)
		before := mustNodes(t, db)[0].HeartbeatAt
		if err := db.Heartbeat(ctx, "node-a"); err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		if after := mustNodes(t, db)[0].HeartbeatAt; !after.After(before) {
			t.Errorf("heartbeat_at %v after a heartbeat, was %v", after, before)
		}
		// Registering again is a restart.
		if err := db.RegisterNode(ctx, "node-a"); err != nil {
			t.Fatal(err)
		}
		if err := db.UnregisterNode(ctx, "node-b"); err != nil {
			t.Fatal(err)
		}
		if ids := nodeIDs(mustNodes(t, db)); !slices.Equal(ids, []string{"node-a"}) {
			t.Errorf("Nodes after UnregisterNode = %v, want node-a", ids)
		}
		if err := db.Heartbeat(ctx, "node-b"); !errors.Is(err, store.ErrNodeNotRegistered) {
			t.Errorf("Heartbeat after UnregisterNode = %v, want ErrNodeNotRegistered", err)
		}
	})
}

// rescueArgs is the River job kind of the rescue tests.
type rescueArgs struct{ N int }

func (rescueArgs) Kind() string { return "rescue_test" }

type rescueWorker struct {
	river.WorkerDefaults[rescueArgs]
}

func (rescueWorker) Work(context.Context, *river.Job[rescueArgs]) error { return nil }

// A node dies holding jobs; another node rescues them and finishes them.
func TestRescueJobsOfDeadNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		for _, id := range []string{"alive", "dead"} {
			if err := db.RegisterNode(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		ageNode(t, db, "dead", time.Hour)

		// River rows as the nodes' River clients leave them.
		jobs := []struct {
			state       rivertype.JobState
			attemptedBy []string
			rescued     bool
		}{
			{rivertype.JobStateRunning, []string{"dead"}, true},
			{rivertype.JobStateRunning, []string{"ghost"}, true}, // never registered
			{rivertype.JobStateRunning, []string{"alive", "dead"}, true},
			{rivertype.JobStateRunning, []string{"dead", "alive"}, false}, // alive took it over
			{rivertype.JobStateRunning, []string{"alive"}, false},
			{rivertype.JobStateCompleted, []string{"dead"}, false},
			{rivertype.JobStateRetryable, []string{"dead"}, false}, // River schedules it itself
			{rivertype.JobStateAvailable, nil, false},
		}
		ids := make([]int64, len(jobs))
		for i, j := range jobs {
			ids[i] = insertRiverJob(t, db, i, j.state, j.attemptedBy)
		}

		// A live node's heartbeat is fresh: a minute's staleness kills
		// only "dead". Two nodes rescuing at once rescue each job once.
		var wg sync.WaitGroup
		counts := make([]int64, 2)
		for i := range counts {
			wg.Go(func() {
				n, err := db.RescueJobsOfDeadNodes(ctx, time.Minute)
				if err != nil {
					t.Errorf("RescueJobsOfDeadNodes: %v", err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if sum := counts[0] + counts[1]; sum != 3 {
			t.Errorf("rescued %v jobs, %d in all; want 3", counts, sum)
		}
		if ids := nodeIDs(mustNodes(t, db)); !slices.Equal(ids, []string{"alive"}) {
			t.Errorf("nodes after the rescue = %v, want only alive", ids)
		}
		if err := db.Heartbeat(ctx, "dead"); !errors.Is(err, store.ErrNodeNotRegistered) {
			t.Errorf("the dead node's Heartbeat = %v, want ErrNodeNotRegistered", err)
		}
		if n, err := db.RescueJobsOfDeadNodes(ctx, time.Minute); err != nil || n != 0 {
			t.Errorf("second rescue = %d, %v; want 0, nil", n, err)
		}
		if _, err := db.RescueJobsOfDeadNodes(ctx, 0); err == nil {
			t.Error("RescueJobsOfDeadNodes(0) succeeded")
		}

		// The live node's River client, under its node ID, finishes the
		// rescued jobs (and the one that was available).
		workers := river.NewWorkers()
		river.AddWorker(workers, rescueWorker{})
		client, err := river.NewClient(db.RiverDriver(), &river.Config{
			ID:                "alive",
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
			Workers:           workers,
			PollOnly:          true,
			FetchCooldown:     5 * time.Millisecond,
			FetchPollInterval: 10 * time.Millisecond,
			TestOnly:          true,
		})
		if err != nil {
			t.Fatal(err)
		}
		events, cancel := client.Subscribe(river.EventKindJobCompleted)
		defer cancel()
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := client.Stop(stopCtx); err != nil {
				t.Errorf("river Stop: %v", err)
			}
		}()
		want := map[int64]bool{}
		for i, j := range jobs {
			if j.rescued || j.state == rivertype.JobStateAvailable {
				want[ids[i]] = true
			}
		}
		timeout := time.After(30 * time.Second)
		for len(want) > 0 {
			select {
			case ev := <-events:
				delete(want, ev.Job.ID)
			case <-timeout:
				t.Fatalf("jobs %v not completed after the rescue", want)
			}
		}
		for i, j := range jobs {
			row, err := client.JobGet(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case j.rescued:
				if row.State != rivertype.JobStateCompleted || row.Attempt != 2 || row.AttemptedBy[len(row.AttemptedBy)-1] != "alive" {
					t.Errorf("rescued job %d: state %s, attempt %d, attempted by %v; want completed at attempt 2 by alive",
						i, row.State, row.Attempt, row.AttemptedBy)
				}
			case j.state == rivertype.JobStateAvailable, j.state == rivertype.JobStateRetryable:
				// River's own: it runs them when they are due.
			default:
				if row.State != j.state {
					t.Errorf("job %d: state %s, want %s (not rescued)", i, row.State, j.state)
				}
			}
		}
	})
}

// insertRiverJob inserts a River job row directly, as a node's River
// client leaves it in state.
func insertRiverJob(tb testing.TB, db *store.DB, n int, state rivertype.JobState, attemptedBy []string) int64 {
	tb.Helper()
	args, _ := json.Marshal(rescueArgs{N: n})
	by, _ := json.Marshal(attemptedBy)
	attempt, finalized := 0, "NULL"
	if len(attemptedBy) > 0 {
		attempt = 1
	}
	var q string
	if db.Engine() == store.EnginePostgres {
		if state == rivertype.JobStateCompleted {
			finalized = "now()"
		}
		q = `INSERT INTO river_job (args, kind, max_attempts, state, attempt, attempted_at, attempted_by, finalized_at)
			VALUES (CAST(? AS jsonb), 'rescue_test', 5, CAST(? AS river_job_state), ?, now(),
			ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))), ` + finalized + `) RETURNING id`
	} else {
		if state == rivertype.JobStateCompleted {
			finalized = "datetime('now', 'subsec')"
		}
		q = `INSERT INTO river_job (args, kind, max_attempts, state, attempt, attempted_at, attempted_by, finalized_at)
			VALUES (jsonb(?), 'rescue_test', 5, ?, ?, datetime('now', 'subsec'), jsonb(?), ` + finalized + `) RETURNING id`
	}
	if attemptedBy == nil {
		by = []byte("[]")
	}
	var id int64
	if err := db.SQL().QueryRowContext(tb.Context(), db.Rebind(q), string(args), string(state), attempt, string(by)).Scan(&id); err != nil {
		tb.Fatalf("insert River job: %v", err)
	}
	return id
}

// ageNode moves a node's heartbeat d into the past, by the database's
// clock.
func ageNode(tb testing.TB, db *store.DB, id string, d time.Duration) {
	tb.Helper()
	var q string
	var arg any
	if db.Engine() == store.EnginePostgres {
		q, arg = `UPDATE nodes SET heartbeat_at = now() - make_interval(secs => ?) WHERE id = ?`, d.Seconds()
	} else {
		q, arg = `UPDATE nodes SET heartbeat_at = datetime('now', 'subsec', ?) WHERE id = ?`, fmt.Sprintf("-%.3f seconds", d.Seconds())
	}
	if _, err := db.SQL().ExecContext(tb.Context(), db.Rebind(q), arg, id); err != nil {
		tb.Fatalf("age node %s: %v", id, err)
	}
}

func mustNodes(tb testing.TB, db *store.DB) []store.Node {
	tb.Helper()
	nodes, err := db.Nodes(tb.Context())
	if err != nil {
		tb.Fatalf("Nodes: %v", err)
	}
	return nodes
}

func nodeIDs(nodes []store.Node) []string {
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

// A node's River jobs that River still has running after their attempt
// ended unseen (the database was unreachable) are found and requeued; jobs
// of other nodes, and jobs in other states, are left alone.
func TestRequeueJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mine := insertRiverJob(t, db, 0, rivertype.JobStateRunning, []string{"other", "me"})
		other := insertRiverJob(t, db, 1, rivertype.JobStateRunning, []string{"me", "other"})
		done := insertRiverJob(t, db, 2, rivertype.JobStateCompleted, []string{"me"})
		setArgs := `UPDATE river_job SET args = jsonb(?) WHERE id = ?`
		if db.Engine() == store.EnginePostgres {
			setArgs = `UPDATE river_job SET args = CAST(? AS jsonb) WHERE id = ?`
		}
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(setArgs), `{"job_id":"job-0","type":"resize"}`, mine); err != nil {
			t.Fatal(err)
		}

		running, err := db.RunningJobsOf(ctx, "me")
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.RunningJob{{ID: mine, JobID: "job-0"}}; !slices.Equal(running, want) {
			t.Errorf("RunningJobsOf(me) = %v, want %v", running, want)
		}
		if n, err := db.RequeueJobs(ctx, "me", []int64{mine, other, done}); err != nil || n != 1 {
			t.Errorf("RequeueJobs = %d, %v; want 1 (only my running job)", n, err)
		}
		if n, err := db.RequeueJobs(ctx, "me", nil); err != nil || n != 0 {
			t.Errorf("RequeueJobs(none) = %d, %v; want 0, nil", n, err)
		}
		for id, want := range map[int64]string{mine: "available", other: "running", done: "completed"} {
			var state string
			if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT CAST(state AS TEXT) FROM river_job WHERE id = ?`), id).Scan(&state); err != nil {
				t.Fatal(err)
			}
			if state != want {
				t.Errorf("River job %d: state %s, want %s", id, state, want)
			}
		}
	})
}
