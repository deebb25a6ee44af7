package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
	"github.com/ecsd-dev/ecsd/worker"
)

// The store must offer everything compute and worker need.
var (
	_ compute.Store = (*store.DB)(nil)
	_ worker.Store  = (*store.DB)(nil)
)

// newDB returns a real, private, on-disk database for one test: a copy of a
// database migrated once by TestMain, opened with store.OpenSQLite (which then
// finds every migration applied). Migrating from scratch costs a third of a
// second under -race; a copy costs a few milliseconds.
func newDB(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpen(tb, templateCopy(tb))
}

// templateCopy returns a new data directory holding a copy of the template
// database.
func templateCopy(tb testing.TB) string { return storetest.DataDir(tb) }

// mustOpen opens a database in dataDir ("" = ephemeral) and closes it when
// the test ends.
func mustOpen(tb testing.TB, dataDir string) *store.DB {
	tb.Helper()
	db, err := store.OpenSQLite(tb.Context(), dataDir)
	if err != nil {
		tb.Fatalf("Open(%q): %v", dataDir, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// inTx runs fn in a transaction of db and commits it, failing the test on
// any error.
func inTx(tb testing.TB, db *store.DB, fn func(tx *sql.Tx) error) {
	tb.Helper()
	ctx := tb.Context()
	tx, err := db.BeginTx(ctx)
	if err != nil {
		tb.Fatalf("BeginTx: %v", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatalf("Commit: %v", err)
	}
}

// failInTx runs fn in a transaction of db that it rolls back, and returns
// fn's error: for statements expected to fail, since on PostgreSQL a
// failed statement aborts its transaction.
func failInTx(tb testing.TB, db *store.DB, fn func(tx *sql.Tx) error) error {
	tb.Helper()
	tx, err := db.BeginTx(tb.Context())
	if err != nil {
		tb.Fatalf("BeginTx: %v", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// scalar runs a one-value query, written with ? placeholders, outside any
// transaction.
func scalar[T any](tb testing.TB, db *store.DB, query string, args ...any) T {
	tb.Helper()
	var v T
	if err := db.SQL().QueryRowContext(tb.Context(), db.Rebind(query), args...).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return v
}

func TestOpenEphemeral(t *testing.T) {
	t.Parallel()
	a := mustOpen(t, "")
	b := mustOpen(t, "")
	if a.Path() != "" {
		t.Errorf("Path() = %q, want \"\" for an ephemeral database", a.Path())
	}
	if a.SQL() == nil {
		t.Fatal("SQL() = nil")
	}
	// Two ephemeral databases are independent.
	inTx(t, a, func(tx *sql.Tx) error {
		return a.UpsertTenant(t.Context(), tx, &ecs.DevTenant, ecs.DefaultQuota, testTime)
	})
	if n := scalar[int](t, a, `SELECT count(*) FROM tenants`); n != 1 {
		t.Errorf("tenants in a = %d, want 1", n)
	}
	if n := scalar[int](t, b, `SELECT count(*) FROM tenants`); n != 0 {
		t.Errorf("tenants in b = %d, want 0 (ephemeral databases must not share state)", n)
	}
	// Foreign keys are enforced.
	ctx := t.Context()
	tx, err := a.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	err = a.InsertSubnet(ctx, tx, &ecs.Subnet{ID: "s1", ProjectID: "p", VPCID: "no-such-vpc", CIDR: "10.0.0.0/24"})
	if err == nil {
		t.Error("InsertSubnet with an unknown VPC succeeded; foreign keys are not enforced")
	}
}

func TestOpenOnDisk(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "nested", "data")

	db, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if want := filepath.Join(dir, store.FileName); db.Path() != want {
		t.Errorf("Path() = %q, want %q", db.Path(), want)
	}
	if _, err := os.Stat(db.Path()); err != nil {
		t.Errorf("database file: %v", err)
	}
	if mode := scalar[string](t, db, `PRAGMA journal_mode`); mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	migrations := scalar[int](t, db, `SELECT count(*) FROM ecsd_migrations`)
	riverMigrations := scalar[int](t, db, `SELECT count(*) FROM river_migration`)
	if migrations == 0 || riverMigrations == 0 {
		t.Fatalf("migrations applied: ecsd %d, river %d; want both > 0", migrations, riverMigrations)
	}
	srv := fullServer("11111111-0000-0000-0000-000000000001")
	inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, srv) })

	// A second Open of the same directory while the first holds it fails.
	second, err := store.OpenSQLite(ctx, dir)
	if !errors.Is(err, store.ErrLocked) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second Open = %v, want store.ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening applies no migration twice and keeps the data.
	db = mustOpen(t, dir)
	if n := scalar[int](t, db, `SELECT count(*) FROM ecsd_migrations`); n != migrations {
		t.Errorf("ecsd migrations after reopen = %d, want %d", n, migrations)
	}
	if n := scalar[int](t, db, `SELECT count(*) FROM river_migration`); n != riverMigrations {
		t.Errorf("river migrations after reopen = %d, want %d", n, riverMigrations)
	}
	var got *ecs.Server
	inTx(t, db, func(tx *sql.Tx) error {
		var err error
		got, err = db.ServerByID(ctx, tx, "", srv.ID)
		return err
	})
	requireServer(t, got, srv)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	// A data directory that is a file cannot be created.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := store.OpenSQLite(t.Context(), filepath.Join(file, "data")); err == nil {
		db.Close()
		t.Error("Open under a regular file succeeded")
	}
	// A cancelled context fails the migrations and releases the lock.
	dir := templateCopy(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if db, err := store.OpenSQLite(ctx, dir); err == nil {
		db.Close()
		t.Error("Open with a cancelled context succeeded")
	}
	mustOpen(t, dir) // the failed Open left the directory unlocked
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	db, err := store.OpenSQLite(t.Context(), templateCopy(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db.Close() // must not panic or unlock someone else's lock
}

// noopArgs is a River job kind for the rescue test.
type noopArgs struct{ N int }

func (noopArgs) Kind() string { return "noop" }

func TestRescueInterruptedJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := newDB(t)
	client, err := river.NewClient(riversqlite.New(db.SQL()), &river.Config{})
	if err != nil {
		t.Fatalf("river.NewClient: %v", err)
	}
	states := []rivertype.JobState{
		rivertype.JobStateRunning, rivertype.JobStateRunning, rivertype.JobStateRetryable,
		rivertype.JobStateCompleted, rivertype.JobStateAvailable, rivertype.JobStateDiscarded,
	}
	ids := make([]int64, len(states))
	inTx(t, db, func(tx *sql.Tx) error {
		for i := range states {
			res, err := client.InsertTx(ctx, tx, noopArgs{N: i}, nil)
			if err != nil {
				return err
			}
			ids[i] = res.Job.ID
		}
		return nil
	})
	// Put the jobs in the states a killed process leaves behind.
	for i, st := range states {
		q := `UPDATE river_job SET state = ?, attempt = 1, attempted_at = datetime('now'),
			attempted_by = json_array('dead-client') WHERE id = ?`
		if st == rivertype.JobStateCompleted || st == rivertype.JobStateDiscarded {
			q = `UPDATE river_job SET state = ?, attempt = 1, finalized_at = datetime('now') WHERE id = ?`
		}
		if _, err := db.SQL().ExecContext(ctx, q, string(st), ids[i]); err != nil {
			t.Fatalf("set job %d %s: %v", ids[i], st, err)
		}
	}

	n, err := db.RescueInterruptedJobs(ctx)
	if err != nil {
		t.Fatalf("RescueInterruptedJobs: %v", err)
	}
	if n != 3 {
		t.Errorf("RescueInterruptedJobs = %d, want 3 (two running, one retryable)", n)
	}
	want := []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStateAvailable, rivertype.JobStateAvailable,
		rivertype.JobStateCompleted, rivertype.JobStateAvailable, rivertype.JobStateDiscarded,
	}
	for i, id := range ids {
		row, err := client.JobGet(ctx, id)
		if err != nil {
			t.Fatalf("JobGet(%d): %v", id, err)
		}
		if row.State != want[i] {
			t.Errorf("job %d (was %s): state %s, want %s", id, states[i], row.State, want[i])
		}
		if states[i] == rivertype.JobStateRunning && len(row.AttemptedBy) != 0 {
			t.Errorf("job %d: attempted_by %v survives the rescue", id, row.AttemptedBy)
		}
	}

	// A second rescue finds nothing.
	if n, err := db.RescueInterruptedJobs(ctx); err != nil || n != 0 {
		t.Errorf("second RescueInterruptedJobs = %d, %v; want 0, nil", n, err)
	}
}
