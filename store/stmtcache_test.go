package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// TestStatementsAreReused runs one store query in read-write and read-only
// transactions in turn: each sees the current row, and the engine runs it
// on a statement prepared once per connection.
func TestStatementsAreReused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		quota := ecs.Quota{Instances: 10, Cores: 20, RAMMB: 40960}
		tenant := ecs.DevTenant
		before := db.StmtCacheStats()
		for i := range 6 {
			tenant.ProjectName = fmt.Sprintf("name-%d", i)
			inTx(t, db, func(tx *sql.Tx) error { return db.UpsertTenant(ctx, tx, &tenant, quota, testTime) })
			begin := db.BeginTx
			if i%2 == 1 {
				begin = db.BeginReadTx
			}
			tx, err := begin(ctx)
			if err != nil {
				t.Fatalf("begin: %v", err)
			}
			if got := projectName(t, db, tx, tenant.ProjectID); got != tenant.ProjectName {
				t.Fatalf("round %d: project name %q, want %q", i, got, tenant.ProjectName)
			}
			if db.Engine() == store.EnginePostgres {
				// pgx prepared the query on the transaction's connection
				// and keeps it there.
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements
					WHERE statement LIKE 'SELECT access_key, secret_key, project_id, project_name,%FROM tenants WHERE project_id = $1'`).Scan(&n); err != nil {
					t.Fatalf("pg_prepared_statements: %v", err)
				}
				if n != 1 {
					t.Fatalf("round %d: %d prepared statements of the tenant query on the connection, want 1", i, n)
				}
			}
			tx.Rollback()
		}
		if db.Engine() == store.EngineSQLite {
			after := db.StmtCacheStats()
			// The writer's connection and one reader's: from the third
			// round on, every query of the rounds runs on a statement
			// prepared before.
			if hits := after.Hits - before.Hits; hits < 4 {
				t.Fatalf("%d cache hits over 6 rounds (stats %+v), want at least 4", hits, after)
			}
		}
	})
}

// sqliteTable makes a table of n rows (v = 1..n) in a private SQLite store.
func sqliteTable(t testing.TB, n int) *store.DB {
	t.Helper()
	db := storetest.NewDB(t)
	ctx := t.Context()
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE stmt_test (v INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func values(t *testing.T, rows *sql.Rows, err error) []int {
	t.Helper()
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A query run again while its own rows are still open (in the same
// transaction, so on the same connection) gets rows of its own, and the
// outer rows are not disturbed.
func TestStmtCacheNestedQuery(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 3)
	ctx := t.Context()
	const q = `SELECT v FROM stmt_test ORDER BY v`
	want := []int{1, 2, 3}
	for range 2 { // the second time on the cached statement
		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		outer, err := tx.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for outer.Next() {
			var v int
			if err := outer.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
			rows, err := tx.QueryContext(ctx, q)
			if inner := values(t, rows, err); !slices.Equal(inner, want) {
				t.Fatalf("nested query: %v, want %v", inner, want)
			}
		}
		if err := outer.Err(); err != nil {
			t.Fatal(err)
		}
		outer.Close()
		tx.Rollback()
		if !slices.Equal(got, want) {
			t.Fatalf("outer query: %v, want %v", got, want)
		}
	}
	if s := db.StmtCacheStats(); s.Uncached == 0 || s.Hits == 0 {
		t.Fatalf("stats %+v: want the nested queries uncached and the outer one a hit", s)
	}
}

// More distinct queries than a connection keeps: the oldest statements are
// closed, and their queries still run (prepared again).
func TestStmtCacheEviction(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 1)
	ctx := t.Context()
	// Only the writer's pool: one connection.
	query := func(i int) {
		t.Helper()
		var got int
		if err := db.SQL().QueryRowContext(ctx, fmt.Sprintf(`SELECT v + %d FROM stmt_test`, i)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != 1+i {
			t.Fatalf("query %d: %d, want %d", i, got, 1+i)
		}
	}
	before := db.StmtCacheStats()
	for i := range store.StmtCacheSize + 10 {
		query(i)
	}
	query(0)
	after := db.StmtCacheStats()
	if ev := after.Evicted - before.Evicted; ev < 11 {
		t.Fatalf("%d statements evicted, want at least 11 (stats %+v)", ev, after)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close with statements prepared: %v", err)
	}
}

// A cached statement follows the schema (SQLite prepares it again after a
// change), and stays usable after a failed run.
func TestStmtCacheSchemaChangeAndErrors(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 1)
	ctx := t.Context()
	sqlDB := db.SQL()
	columns := func() []string {
		t.Helper()
		rows, err := sqlDB.QueryContext(ctx, `SELECT * FROM stmt_test`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if got := columns(); !slices.Equal(got, []string{"v"}) {
		t.Fatalf("columns %v", got)
	}
	if _, err := sqlDB.ExecContext(ctx, `ALTER TABLE stmt_test ADD COLUMN w TEXT`); err != nil {
		t.Fatal(err)
	}
	if got := columns(); !slices.Equal(got, []string{"v", "w"}) {
		t.Fatalf("columns after ALTER TABLE: %v, want [v w]", got)
	}

	const insert = `INSERT INTO stmt_test (v) VALUES (?)`
	if _, err := sqlDB.ExecContext(ctx, insert, 1); err == nil {
		t.Fatal("duplicate key inserted")
	}
	for _, v := range []int{2, 3} {
		if _, err := sqlDB.ExecContext(ctx, insert, v); err != nil {
			t.Fatalf("insert %d after a failed insert: %v", v, err)
		}
	}
	rows, err := sqlDB.QueryContext(ctx, `SELECT v FROM stmt_test ORDER BY v`)
	if got := values(t, rows, err); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("rows %v, want [1 2 3]", got)
	}

	// A query cancelled before it runs leaves its statement usable.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sqlDB.QueryContext(cctx, `SELECT v FROM stmt_test ORDER BY v`); err == nil {
		t.Fatal("query with a cancelled context ran")
	}
	rows, err = sqlDB.QueryContext(ctx, `SELECT v FROM stmt_test ORDER BY v`)
	if got := values(t, rows, err); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("rows after a cancelled query %v, want [1 2 3]", got)
	}
}

// stmtCount returns the number of rows of stmt_test, read on the pool.
func stmtCount(t *testing.T, db *store.DB) int {
	t.Helper()
	return scalar[int](t, db, `SELECT count(*) FROM stmt_test`)
}

// Transactions commit and roll back on both pools, and their BEGIN and
// COMMIT or ROLLBACK run on statements each connection prepared once.
func TestStmtCacheTx(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 1)
	ctx := t.Context()

	// Writer: a commit keeps the row, a rollback drops it.
	for i, commit := range []bool{true, false, true, false} {
		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (?)`, 10+i); err != nil {
			t.Fatal(err)
		}
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		if err := end(); err != nil {
			t.Fatalf("round %d (commit %v): %v", i, commit, err)
		}
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT v FROM stmt_test ORDER BY v`)
	if got := values(t, rows, err); !slices.Equal(got, []int{1, 10, 12}) {
		t.Fatalf("rows %v, want [1 10 12]", got)
	}

	// Reader: a commit and a rollback both end the read, and the next one
	// sees what the writer committed in between.
	for i, commit := range []bool{true, false, true, false} {
		tx, err := db.BeginReadTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM stmt_test`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3+i {
			t.Fatalf("round %d: reader sees %d rows, want %d", i, n, 3+i)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (100)`); err == nil {
			t.Fatal("insert in a read transaction")
		}
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		if err := end(); err != nil {
			t.Fatalf("round %d (commit %v): %v", i, commit, err)
		}
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (?)`, 20+i); err != nil {
			t.Fatal(err)
		}
	}

	// Empty transactions run nothing but BEGIN and COMMIT: from the
	// second on each connection (the reader pool has ReadConns), both
	// are cache hits.
	const rounds = 20
	for _, begin := range []func(context.Context) (*sql.Tx, error){db.BeginTx, db.BeginReadTx} {
		before := db.StmtCacheStats()
		for range rounds {
			tx, err := begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		after := db.StmtCacheStats()
		if hits, want := after.Hits-before.Hits, int64(2*(rounds-store.ReadConns)); hits < want {
			t.Fatalf("%d cache hits over %d empty transactions (stats %+v), want at least %d", hits, rounds, after, want)
		}
		if after.Uncached != before.Uncached {
			t.Fatalf("BEGIN or COMMIT ran uncached: stats %+v, before %+v", after, before)
		}
	}
}

// An ephemeral store's one connection runs read and write transactions
// alike on its cached statements.
func TestStmtCacheTxEphemeral(t *testing.T) {
	t.Parallel()
	db := mustOpen(t, "")
	ctx := t.Context()
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE stmt_test (v INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	before := db.StmtCacheStats()
	for i := range 10 {
		for j, begin := range []func(context.Context) (*sql.Tx, error){db.BeginTx, db.BeginReadTx} {
			tx, err := begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (?)`, 2*i+j); err != nil {
				t.Fatal(err)
			}
			end := tx.Commit
			if i%2 == 1 {
				end = tx.Rollback
			}
			if err := end(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := stmtCount(t, db); n != 10 {
		t.Fatalf("%d rows, want 10", n)
	}
	if s := db.StmtCacheStats(); s.Hits-before.Hits < 3*20-4 || s.Uncached != before.Uncached {
		t.Fatalf("stats %+v, before %+v: want BEGIN, INSERT and COMMIT or ROLLBACK cached", s, before)
	}
}

// The writer's transactions take the write lock at BEGIN (the DSN's
// _txlock=immediate), the reader's do not (a deferred BEGIN), as modernc
// begins them.
func TestStmtCacheTxBeginMode(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 1)
	ctx := t.Context()
	other, err := sql.Open("sqlite", "file:"+db.Path()+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	// otherWrites reports whether the other connection can take the write
	// lock now.
	otherWrites := func() bool {
		t.Helper()
		if _, err := other.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			return false
		}
		if _, err := other.ExecContext(ctx, `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
		return true
	}
	for range 2 { // the second time on cached statements
		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if otherWrites() {
			t.Fatal("another connection took the write lock inside a BeginTx transaction")
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if !otherWrites() {
			t.Fatal("the write lock is held after Commit")
		}
		rtx, err := db.BeginReadTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !otherWrites() {
			t.Fatal("a BeginReadTx transaction holds the write lock")
		}
		if err := rtx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}

// A transaction whose context ends, between statements or during one, is
// rolled back, and the pool serves the next one.
func TestStmtCacheTxCancelled(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 1)
	ctx := t.Context()
	insertThenCommit := func(t *testing.T, txCtx context.Context, during func(tx *sql.Tx)) {
		t.Helper()
		tx, err := db.BeginTx(txCtx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(txCtx, `INSERT INTO stmt_test (v) VALUES (2)`); err != nil {
			t.Fatal(err)
		}
		during(tx)
		if err := tx.Commit(); !errors.Is(err, txCtx.Err()) && !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("Commit after the context ended: %v, want %v", err, txCtx.Err())
		}
	}
	usable := func(t *testing.T) {
		t.Helper()
		if n := stmtCount(t, db); n != 1 {
			t.Fatalf("%d rows after a cancelled transaction, want 1", n)
		}
		inTx(t, db, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (3)`)
			return err
		})
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM stmt_test WHERE v = 3`); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("between statements", func(t *testing.T) {
		for range 2 {
			cctx, cancel := context.WithCancel(ctx)
			insertThenCommit(t, cctx, func(*sql.Tx) { cancel() })
			usable(t)
		}
	})
	t.Run("during a statement", func(t *testing.T) {
		for range 2 {
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			insertThenCommit(t, cctx, func(tx *sql.Tx) {
				var n int
				err := tx.QueryRowContext(cctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
					SELECT count(*) FROM c`).Scan(&n)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("endless query: %v, want %v", err, context.DeadlineExceeded)
				}
			})
			cancel()
			usable(t)
		}
	})
	// database/sql checks the context before it commits, so only a
	// context that ends just then reaches the driver's Commit done: the
	// driver's transaction, used directly, shows what happens then.
	t.Run("before the driver's commit", func(t *testing.T) {
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for range 2 {
			err = conn.Raw(func(dc any) error {
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				tx, err := dc.(driver.ConnBeginTx).BeginTx(cctx, driver.TxOptions{})
				if err != nil {
					return err
				}
				if _, err := dc.(driver.ExecerContext).ExecContext(cctx, `INSERT INTO stmt_test (v) VALUES (2)`, nil); err != nil {
					return err
				}
				cancel()
				if err := tx.Commit(); !errors.Is(err, context.Canceled) {
					return fmt.Errorf("Commit with its context done: %v, want %v", err, context.Canceled)
				}
				// The transaction was rolled back: another begins.
				tx, err = dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
				if err != nil {
					return fmt.Errorf("BeginTx after the failed Commit: %w", err)
				}
				return tx.Rollback()
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		conn.Close()
		usable(t)
	})
}

// A COMMIT that fails leaves the data as it was and the connection out of
// the transaction: here a foreign key that PRAGMA defer_foreign_keys
// leaves to be checked at COMMIT.
func TestStmtCacheTxFailedCommit(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := t.Context()
	insertSubnet := func(tx *sql.Tx, id, vpcID string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subnets (id, project_id, vpc_id, name, cidr, gateway_ip, az, next_host, created_at)
			VALUES (?, 'p', ?, 'n', '10.0.0.0/24', '10.0.0.1', 'az1', 2, 0)`, id, vpcID)
		return err
	}
	subnets := func() int { return scalar[int](t, db, `SELECT count(*) FROM subnets`) }
	for i := range 2 { // the second time on cached statements
		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			t.Fatal(err)
		}
		if err := insertSubnet(tx, fmt.Sprintf("orphan-%d", i), "no-such-vpc"); err != nil {
			t.Fatalf("insert with the foreign key deferred: %v", err)
		}
		err = tx.Commit()
		var se *sqlite.Error
		if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
			t.Fatalf("Commit of a dangling foreign key: %v, want a constraint error", err)
		}
		if n := subnets(); n != 0 {
			t.Fatalf("%d subnets after a failed commit, want 0", n)
		}
		// The writer's one connection is out of the transaction.
		inTx(t, db, func(tx *sql.Tx) error {
			vpc := fmt.Sprintf("vpc-%d", i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO vpcs (id, project_id, name, cidr, created_at) VALUES (?, 'p', 'v', '10.0.0.0/16', 0)`, vpc); err != nil {
				return err
			}
			return insertSubnet(tx, fmt.Sprintf("subnet-%d", i), vpc)
		})
		if n := subnets(); n != 1 {
			t.Fatalf("%d subnets, want 1", n)
		}
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM subnets`); err != nil {
			t.Fatal(err)
		}
	}
}

// A transaction whose ROLLBACK statement is busy (a query of the same text
// has its rows open, which database/sql never does with a transaction's
// statements) runs it uncached.
func TestStmtCacheTxBusyStatement(t *testing.T) {
	t.Parallel()
	db := sqliteTable(t, 1)
	ctx := t.Context()
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before := db.StmtCacheStats()
	err = conn.Raw(func(dc any) error {
		begin := func() (driver.Tx, error) { return dc.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{}) }
		exec := func(q string) error {
			_, err := dc.(driver.ExecerContext).ExecContext(ctx, q, nil)
			return err
		}
		tx, err := begin()
		if err != nil {
			return err
		}
		if err := tx.Rollback(); err != nil { // caches "rollback"
			return err
		}
		if _, err := begin(); err != nil {
			return err
		}
		// Ends the transaction, and keeps the cached statement busy.
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, "rollback", nil)
		if err != nil {
			return fmt.Errorf("query rollback: %w", err)
		}
		defer rows.Close()
		for _, commit := range []bool{false, true} {
			tx, err := begin()
			if err != nil {
				return fmt.Errorf("begin beside the busy statement: %w", err)
			}
			if err := exec(`INSERT INTO stmt_test (v) VALUES (2)`); err != nil {
				return err
			}
			end := tx.Rollback
			if commit {
				end = tx.Commit
			}
			if err := end(); err != nil {
				return fmt.Errorf("commit %v beside the busy statement: %w", commit, err)
			}
		}
		return rows.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if s := db.StmtCacheStats(); s.Uncached == before.Uncached {
		t.Fatalf("stats %+v: want the busy ROLLBACK uncached", s)
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT v FROM stmt_test ORDER BY v`)
	if got := values(t, rows, err); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("rows %v, want [1 2]", got)
	}
}

// Benchmarks of a transaction's own cost on an on-disk store: BEGIN and
// COMMIT around nothing, one read or one write.

func BenchmarkReadTxEmpty(b *testing.B) {
	db := sqliteTable(b, 10)
	ctx := b.Context()
	for b.Loop() {
		tx, err := db.BeginReadTx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadTxOneRow(b *testing.B) {
	db := sqliteTable(b, 10)
	ctx := b.Context()
	for b.Loop() {
		tx, err := db.BeginReadTx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var v int
		if err := tx.QueryRowContext(ctx, `SELECT v FROM stmt_test WHERE v = ?`, 7).Scan(&v); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTxInsert(b *testing.B) {
	db := sqliteTable(b, 0)
	ctx := b.Context()
	for b.Loop() {
		tx, err := db.BeginTx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stmt_test (v) VALUES (NULL)`); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
