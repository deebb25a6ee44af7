package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"

	ecs "github.com/ecsd-dev/ecsd"
)

// This file holds the store's white-box tests: the query plans of the hot
// queries, which need the statement cache's trace, and the transaction
// cases of stmtcache.go that need modernc's commit hook on a connection.

// tracedQuery is a query the store ran, with its arguments.
type tracedQuery struct {
	query string
	args  []any
}

// traceQueries runs fn and returns the queries it ran on d's pools.
func traceQueries(t *testing.T, d *DB, fn func(tx *sql.Tx) error) []tracedQuery {
	t.Helper()
	var (
		mu  sync.Mutex
		out []tracedQuery
	)
	trace := func(query string, args []driver.NamedValue) {
		q := tracedQuery{query: query}
		for _, a := range args {
			q.args = append(q.args, a.Value)
		}
		mu.Lock()
		out = append(out, q)
		mu.Unlock()
	}
	tx, err := d.BeginReadTx(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	d.stmts.trace.Store(&trace)
	err = fn(tx)
	d.stmts.trace.Store(nil)
	var ecsErr *ecs.Error
	if err != nil && !errors.As(err, &ecsErr) && !errors.Is(err, sql.ErrNoRows) { // not found is fine: the query ran
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return out
}

// bareScan matches a plan step that reads a whole table, not through an
// index: "SCAN servers", but not "SCAN servers USING COVERING INDEX …".
var bareScan = regexp.MustCompile(`^SCAN (\w+)$`)

// TestQueryPlans runs EXPLAIN QUERY PLAN on the queries that the hot paths
// (show and list servers and jobs, quota and capacity, authentication,
// start-up) run,
// taken from the store's own methods, and fails if one reads the whole of
// a table that has indexes.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, err := OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	const project, server = "0123456789abcdef0123456789abcdef", "6d1ec7a4-8d3b-4a0c-9d0e-3c1c2b0a9f01"
	status, flavor, name := ecs.StatusActive, "s6.large.2", "web"
	page := func(f ecs.ServerFilter) ecs.ServerFilter {
		f.ProjectID, f.Limit, f.Offset = project, 25, 0
		return f
	}
	cases := []struct {
		name string
		fn   func(tx *sql.Tx) error
	}{
		{"ServerByID", func(tx *sql.Tx) error { _, err := d.ServerByID(ctx, tx, project, server); return err }},
		{"ServerByID any project", func(tx *sql.Tx) error { _, err := d.ServerByID(ctx, tx, "", server); return err }},
		{"FindServers", func(tx *sql.Tx) error { _, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{})); return err }},
		{"FindServers status", func(tx *sql.Tx) error {
			_, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{Status: &status}))
			return err
		}},
		{"FindServers flavor", func(tx *sql.Tx) error {
			_, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{FlavorID: &flavor}))
			return err
		}},
		{"FindServers status and flavor", func(tx *sql.Tx) error {
			_, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{Status: &status, FlavorID: &flavor}))
			return err
		}},
		{"FindServers name", func(tx *sql.Tx) error {
			_, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{Name: &name}))
			return err
		}},
		{"FindServers IDs", func(tx *sql.Tx) error {
			_, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{IDs: []string{server, "other"}}))
			return err
		}},
		{"FindServers marker", func(tx *sql.Tx) error {
			marker := server
			_, _, err := d.FindServers(ctx, tx, page(ecs.ServerFilter{Marker: &marker}))
			return err
		}},
		{"ProjectUsage", func(tx *sql.Tx) error { _, err := d.ProjectUsage(ctx, tx, project); return err }},
		{"HostUsage", func(tx *sql.Tx) error { _, err := d.HostUsage(ctx, tx, "cn-north-4a"); return err }},
		{"JobByID", func(tx *sql.Tx) error { _, err := d.JobByID(ctx, tx, project, "job-1"); return err }},
		{"JobByID any project", func(tx *sql.Tx) error { _, err := d.JobByID(ctx, tx, "", "job-1"); return err }},
		{"SubJobs", func(tx *sql.Tx) error { _, err := d.SubJobs(ctx, tx, "job-1"); return err }},
		{"ServerVolumes", func(tx *sql.Tx) error { _, err := d.ServerVolumes(ctx, tx, server); return err }},
		{"VolumesOfServers", func(tx *sql.Tx) error {
			_, err := d.VolumesOfServers(ctx, tx, project, []string{server, "other"})
			return err
		}},
		{"TenantByAccessKey", func(tx *sql.Tx) error { _, _, err := d.TenantByAccessKey(ctx, tx, "AK"); return err }},
		{"TenantByProject", func(tx *sql.Tx) error { _, _, err := d.TenantByProject(ctx, tx, project); return err }},
		{"ServerView (one statement)", func(tx *sql.Tx) error { _, _, _, err := d.serverViewOneStatement(ctx, project, server); return err }},
		// Start-up (compute.Service.Reconcile): read on every start, on
		// stores of any size.
		{"BusyServers", func(tx *sql.Tx) error { _, err := d.BusyServers(ctx, tx); return err }},
		{"UnfinishedJobs", func(tx *sql.Tx) error { _, err := d.UnfinishedJobs(ctx, tx); return err }},
	}

	// indexed reports whether table has an index (its primary key's or
	// unique constraint's included).
	indexed := func(table string) bool {
		var n int
		if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	// The check itself: this SQLite words a full scan as bareScan expects.
	plan, err := explain(ctx, d.db, tracedQuery{query: `SELECT id FROM servers WHERE name = ?`, args: []any{"x"}})
	if err != nil || len(plan) != 1 || !bareScan.MatchString(plan[0]) {
		t.Fatalf("plan of a full scan: %q, %v; want one step matching %s", plan, err, bareScan)
	}

	for _, c := range cases {
		queries := traceQueries(t, d, c.fn)
		if len(queries) == 0 {
			t.Errorf("%s ran no query", c.name)
		}
		for _, q := range queries {
			plan, err := explain(ctx, d.db, q)
			if err != nil {
				t.Errorf("%s: EXPLAIN QUERY PLAN %s: %v", c.name, q.query, err)
				continue
			}
			t.Logf("%s: %s\n\t%s", c.name, oneLine(q.query), strings.Join(plan, "\n\t"))
			for _, step := range plan {
				if m := bareScan.FindStringSubmatch(step); m != nil && indexed(m[1]) {
					t.Errorf("%s reads the whole of %s, which has indexes:\n%s\nplan:\n\t%s",
						c.name, m[1], oneLine(q.query), strings.Join(plan, "\n\t"))
				}
			}
		}
	}
}

// explain returns the steps of the plan of q, one per line.
func explain(ctx context.Context, db *sql.DB, q tracedQuery) ([]string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.query, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }

// commitHookConnector is a stmtCacheConnector whose connections call
// onCommit from their commit hook (modernc's, under the statement cache).
type commitHookConnector struct {
	*stmtCacheConnector
	onCommit atomic.Pointer[func() int32]
}

func (c *commitHookConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.stmtCacheConnector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc := conn.(*stmtCacheConn)
	h, ok := sc.sqliteConn.(interface{ RegisterCommitHook(sqlite.CommitHookFn) })
	if !ok || sc.beginRW != "begin immediate" {
		conn.Close()
		return nil, fmt.Errorf("%T: no commit hook, or transactions left to modernc", sc.sqliteConn)
	}
	h.RegisterCommitHook(func() int32 {
		if f := c.onCommit.Load(); f != nil {
			return (*f)()
		}
		return 0
	})
	return conn, nil
}

// commitHookDB opens a database like the writer of an on-disk store, on
// one connection, and returns it with a function that sets what its
// connections' commit hook does: nil lets every commit through.
func commitHookDB(t *testing.T) (*sql.DB, func(func() int32)) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "hook.db") +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate"
	sc, err := newStmtCacheConnector(dsn, stmtCacheSize, &stmtCounters{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	connector := &commitHookConnector{stmtCacheConnector: sc}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE t (v INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db, func(f func() int32) {
		if f == nil {
			connector.onCommit.Store(nil)
		} else {
			connector.onCommit.Store(&f)
		}
	}
}

// yieldToWatcher gives modernc's goroutine that watches a statement's
// context, now done, a chance to see it before the statement returns.
func yieldToWatcher() {
	for range 200 {
		runtime.Gosched()
	}
}

// A COMMIT that took effect succeeds even when its context ends as it
// runs (modernc reports the statement's own result); one that SQLite rolled
// back fails, context or not.
func TestStmtCacheTxCommitAsContextEnds(t *testing.T) {
	t.Parallel()
	db, setHook := commitHookDB(t)
	ctx := t.Context()
	count := func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// commit inserts v in a transaction and commits it while the commit
	// hook runs hook with the transaction's cancel function.
	commit := func(v int, hook func(cancel context.CancelFunc) int32) error {
		t.Helper()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		setHook(func() int32 { return hook(cancel) })
		defer setHook(nil)
		tx, err := db.BeginTx(cctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO t (v) VALUES (?)`, v); err != nil {
			t.Fatal(err)
		}
		return tx.Commit()
	}
	for i := range 20 { // each time the watcher may or may not see the context end in time
		want := count() + 1
		err := commit(i, func(cancel context.CancelFunc) int32 { cancel(); yieldToWatcher(); return 0 })
		if err != nil {
			t.Fatalf("round %d: Commit that took effect as its context ended: %v", i, err)
		}
		if n := count(); n != want {
			t.Fatalf("round %d: %d rows after Commit, want %d", i, n, want)
		}

		err = commit(100+i, func(cancel context.CancelFunc) int32 { cancel(); yieldToWatcher(); return 1 })
		if err == nil {
			t.Fatalf("round %d: Commit that SQLite rolled back (its commit hook refused) succeeded", i)
		}
		err = commit(200+i, func(context.CancelFunc) int32 { return 1 })
		var se *sqlite.Error
		if !errors.As(err, &se) {
			t.Fatalf("round %d: Commit refused by the commit hook: %v, want a SQLite error", i, err)
		}
		if n := count(); n != want {
			t.Fatalf("round %d: %d rows after refused Commits, want %d", i, n, want)
		}
	}
	// The connection is out of any transaction.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (1000)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
