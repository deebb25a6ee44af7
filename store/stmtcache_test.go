package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"

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
func sqliteTable(t *testing.T, n int) *store.DB {
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
