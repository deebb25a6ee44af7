package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

func TestEngine(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		if db.Engine() != e.Name {
			t.Errorf("Engine() = %q, want %q", db.Engine(), e.Name)
		}
		if db.RiverDriver() == nil {
			t.Error("RiverDriver() = nil")
		}
	})
}

// Existing SQLite databases recorded their migrations as "migration/NAME"
// before the files moved into a folder per engine; the recorded names stay.
func TestMigrationNames(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rows, err := db.SQL().QueryContext(t.Context(), `SELECT name FROM ecsd_migrations ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		want := []string{"migration/0001_init.sql", "migration/0002_control.sql", "migration/0003_orders.sql",
			"migration/0004_volumes_ports.sql", "migration/0005_tokens.sql", "migration/0006_nodes.sql", "migration/0007_server_usage.sql",
			"migration/0008_usage_tables.sql", "migration/0009_in_progress.sql"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ecsd_migrations (-want +got):\n%s", diff)
		}
	})
}

// Nodes starting at once against an empty database migrate it once.
func TestOpenPostgresConcurrently(t *testing.T) {
	t.Parallel()
	url := storetest.EmptyPostgresURL(t)
	const nodes = 4
	dbs := make([]*store.DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			dbs[i], errs[i] = store.OpenPostgres(t.Context(), url, store.PostgresOptions{MaxOpenConns: 3})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: OpenPostgres: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	db := dbs[0]
	files, err := os.ReadDir("migration/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if n := scalar[int](t, db, `SELECT count(*) FROM ecsd_migrations`); n != len(files) {
		t.Errorf("ecsd_migrations has %d rows, want %d (each migration once)", n, len(files))
	}
	river := scalar[int](t, db, `SELECT count(*) FROM river_migration`)
	if distinct := scalar[int](t, db, `SELECT count(DISTINCT version) FROM river_migration`); river == 0 || distinct != river {
		t.Errorf("river_migration: %d rows, %d versions; want each version once", river, distinct)
	}
	// Every node works, and sees what another wrote.
	inTx(t, dbs[1], func(tx *sql.Tx) error {
		return dbs[1].UpsertTenant(t.Context(), tx, &ecs.DevTenant, ecs.DefaultQuota, testTime)
	})
	for i, d := range dbs {
		if n := scalar[int](t, d, `SELECT count(*) FROM tenants`); n != 1 {
			t.Errorf("node %d sees %d tenants, want 1", i, n)
		}
	}
	// A later start finds everything applied.
	again, err := store.OpenPostgres(t.Context(), url, store.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := scalar[int](t, again, `SELECT count(*) FROM ecsd_migrations`); n != len(files) {
		t.Errorf("ecsd_migrations after a restart has %d rows, want %d", n, len(files))
	}
}

func TestOpenPostgresErrors(t *testing.T) {
	t.Parallel()
	if _, err := store.OpenPostgres(t.Context(), "postgres://%zz", store.PostgresOptions{}); err == nil {
		t.Error("OpenPostgres with a malformed URL succeeded")
	}
	// Nothing listens on port 1: refused at once, and classified so.
	start := time.Now()
	_, err := store.OpenPostgres(t.Context(), "postgres://ecsd:x@127.0.0.1:1/ecsd?sslmode=disable", store.PostgresOptions{ConnectTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("OpenPostgres of a closed port succeeded")
	}
	if !store.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false, want true", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("OpenPostgres of a closed port took %v", d)
	}
}

func TestRescueInterruptedJobsRefusedOnPostgres(t *testing.T) {
	t.Parallel()
	db := storetest.NewPostgresDB(t)
	if n, err := db.RescueInterruptedJobs(t.Context()); err == nil {
		t.Errorf("RescueInterruptedJobs on PostgreSQL = %d, nil; want an error (other nodes may run those jobs)", n)
	}
}

// Two nodes racing to change one server, each in its transaction: the
// second transaction waits at BeginTx until the first has committed, and
// then sees its change, as on SQLite's single writer; so a check-then-act
// (the server is idle: mark it resizing) cannot be won twice, nor a count
// overrun by write skew.
func TestTransactionsTakeTurns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storetest.NewPostgresDB(t)
	srv := fullServer("33333333-0000-0000-0000-000000000001")
	srv.TaskState = ""
	inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, srv) })

	tx1, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback()
	s1, err := db.ServerByID(ctx, tx1, "", srv.ID)
	if err != nil || s1.TaskState != "" {
		t.Fatalf("first transaction reads %+v, %v; want an idle server", s1, err)
	}

	type begun struct {
		tx  *sql.Tx
		err error
	}
	second := make(chan begun, 1)
	go func() {
		tx, err := db.BeginTx(ctx)
		second <- begun{tx, err}
	}()
	// The second transaction is waiting for the writer lock.
	for scalar[int](t, db, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`) != 1 {
		select {
		case b := <-second:
			t.Fatalf("second BeginTx returned (%v) while the first transaction was open", b.err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	s1.TaskState, s1.ResizeFlavorID = ecs.TaskResizePrep, "s6.xlarge.2"
	if err := db.UpdateServer(ctx, tx1, s1); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Commit(); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	b := <-second
	if b.err != nil {
		t.Fatalf("second BeginTx: %v", b.err)
	}
	defer b.tx.Rollback()
	s2, err := db.ServerByID(ctx, b.tx, "", srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s2.TaskState != ecs.TaskResizePrep || s2.ResizeFlavorID != "s6.xlarge.2" {
		t.Errorf("second transaction reads task %q, resize flavor %q; want the first one's change", s2.TaskState, s2.ResizeFlavorID)
	}
}

// A connection that the server terminates (as on a restart or failover)
// fails with an error IsUnavailable recognises, and the pool recovers by
// itself.
func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storetest.NewPostgresDB(t)
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := db.SQL().QueryRowContext(ctx, `SELECT pg_terminate_backend($1, 10000)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
	}
	_, err = conn.ExecContext(ctx, `SELECT 1`)
	if err == nil {
		t.Fatal("query on a terminated connection succeeded")
	}
	if !store.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false, want true", err)
	}
	conn.Close()
	// The pool recovers by itself.
	inTx(t, db, func(tx *sql.Tx) error {
		return db.UpsertTenant(ctx, tx, &ecs.DevTenant, ecs.DefaultQuota, testTime)
	})
}

func TestErrorClassifiers(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("store: x: %w", &pgconn.PgError{Code: code}) }
	for _, tt := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"nil", nil, false},
		{"no rows", sql.ErrNoRows, false},
		{"not found", ecs.Errorf(ecs.CodeServerNotFound, "gone"), false},
		{"serialization failure", pg("40001"), false},
		{"unique violation", pg("23505"), false},
		{"syntax error", pg("42601"), false},
		{"admin shutdown", pg("57P01"), true},
		{"crash shutdown", pg("57P02"), true},
		{"cannot connect now", pg("57P03"), true},
		{"connection failure", pg("08006"), true},
		{"connection does not exist", pg("08003"), true},
		{"bad connection", fmt.Errorf("store: x: %w", driver.ErrBadConn), true},
		{"request cancelled", context.Canceled, false},
		{"request deadline", fmt.Errorf("store: x: %w", context.DeadlineExceeded), false},
		{"other", errors.New("boom"), false},
	} {
		if got := store.IsUnavailable(tt.err); got != tt.unavailable {
			t.Errorf("%s: IsUnavailable = %v, want %v", tt.name, got, tt.unavailable)
		}
	}
}

// A snapshot exported from one engine imports into the other unchanged.
func TestSnapshotAcrossEngines(t *testing.T) {
	t.Parallel()
	src := storetest.NewDB(t)
	dst := storetest.NewPostgresDB(t)
	populate(t, src)
	first := mustExport(t, src)
	if err := dst.Import(t.Context(), viaJSON(t, first)); err != nil {
		t.Fatalf("Import into PostgreSQL: %v", err)
	}
	second := mustExport(t, dst)
	second.ExportedAt = first.ExportedAt
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("SQLite export → PostgreSQL import → export differs (-sqlite +postgres):\n%s", diff)
	}
	// The imported fault rules keep their seq; new rules come after them.
	if err := dst.InsertFaultRule(t.Context(), faultRule("rule-2")); err != nil {
		t.Fatalf("InsertFaultRule after an import: %v", err)
	}
	back := storetest.NewDB(t)
	if err := back.Import(t.Context(), viaJSON(t, second)); err != nil {
		t.Fatalf("Import back into SQLite: %v", err)
	}
}

func faultRule(id string) fault.Rule {
	return fault.Rule{ID: id, Probability: 1, CreatedAt: testTime,
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(time.Second)}}
}
