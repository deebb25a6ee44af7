package store

import (
	"database/sql"
	"fmt"
	"time"
)

// dialect holds the few pieces of SQL in which SQLite and PostgreSQL
// differ. Everything else is written once.
type dialect struct {
	name string
	// dollarParams: placeholders are $1, $2, … (see Rebind).
	dollarParams bool
	// txOptions are BeginTx's options; readTxOptions those of a
	// consistent read-only snapshot.
	txOptions, readTxOptions *sql.TxOptions
	// writerLock, when set, is the statement (one placeholder: the key)
	// that BeginTx runs first to take the writer lock.
	writerLock string
	// migrationsTable creates ecsd_migrations if needed.
	migrationsTable string
	// rowid orders rows by insertion in tables without a seq column of
	// their own on SQLite (PostgreSQL's schema gives them one).
	rowid string
	// noLimit is the LIMIT that puts no limit, for an OFFSET without one.
	noLimit string
	// like is the case-insensitive LIKE: SQLite's LIKE ignores ASCII case.
	like string
	// jsonText extracts a top-level string field of a JSON column.
	jsonText func(col, key string) string
	// jsonArrayHas is a condition, with one placeholder, that a column
	// holding a JSON array of strings (as text) contains the argument.
	jsonArrayHas func(col string) string
	// jsonElements is a subquery of the strings of a column holding a JSON
	// array of strings (as text).
	jsonElements func(col string) string
	// jsonRows is an aggregate, as text, of the rows of a query: a JSON
	// array of one array per row, of the columns cols (text and integers),
	// in the order of orderBy; "[]" when there are no rows.
	jsonRows func(cols, orderBy string) string
	// tableColumns lists a table's columns, in order; one placeholder.
	tableColumns string
	// now is the database's clock, as the engine stores times in River's
	// and the nodes table.
	now string
	// before is a condition, with one placeholder given by its second
	// result, that the time column col is older than d before now.
	before func(col string, d time.Duration) (string, any)
	// epochMillis turns a time column of the nodes table into Unix
	// milliseconds.
	epochMillis func(col string) string
	// lastAttempt is the last entry of River's attempted_by column (the
	// ID of the client that last fetched the job), or NULL.
	lastAttempt string
}

var sqliteDialect = &dialect{
	name: EngineSQLite,
	// The DSN's _txlock=immediate makes every transaction take the write
	// lock at BEGIN: one writer, no upgrade deadlocks.
	txOptions:     nil,
	readTxOptions: nil,
	migrationsTable: `CREATE TABLE IF NOT EXISTS ecsd_migrations (
		name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	rowid:   "rowid",
	noLimit: "-1",
	like:    "LIKE",
	jsonText: func(col, key string) string {
		return fmt.Sprintf("json_extract(%s, '$.%s')", col, key)
	},
	jsonArrayHas: func(col string) string {
		return fmt.Sprintf("EXISTS (SELECT 1 FROM json_each(%s) WHERE value = ?)", col)
	},
	jsonElements: func(col string) string {
		return fmt.Sprintf("SELECT value FROM json_each(%s)", col)
	},
	jsonRows: func(cols, orderBy string) string {
		return fmt.Sprintf("json_group_array(json_array(%s) ORDER BY %s)", cols, orderBy)
	},
	tableColumns: `SELECT name FROM pragma_table_info(?)`,
	now:          `datetime('now', 'subsec')`,
	before: func(col string, d time.Duration) (string, any) {
		return col + ` < datetime('now', 'subsec', ?)`, fmt.Sprintf("-%.3f seconds", d.Seconds())
	},
	epochMillis: func(col string) string {
		return fmt.Sprintf("CAST(unixepoch(%s, 'subsec') * 1000 AS INTEGER)", col)
	},
	lastAttempt: `json_extract(attempted_by, '$[#-1]')`,
}

var postgresDialect = &dialect{
	name:          EnginePostgres,
	dollarParams:  true,
	txOptions:     nil, // READ COMMITTED: each statement sees what committed before it
	writerLock:    `SELECT pg_advisory_xact_lock($1)`,
	readTxOptions: &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	migrationsTable: `CREATE TABLE IF NOT EXISTS ecsd_migrations (
		name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	rowid:   "seq",
	noLimit: "ALL",
	like:    "ILIKE",
	jsonText: func(col, key string) string {
		return fmt.Sprintf("(%s ->> '%s')", col, key)
	},
	jsonArrayHas: func(col string) string {
		return fmt.Sprintf("EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(%s AS jsonb)) AS e (value) WHERE e.value = ?)", col)
	},
	jsonElements: func(col string) string {
		return fmt.Sprintf("SELECT jsonb_array_elements_text(CAST(%s AS jsonb))", col)
	},
	jsonRows: func(cols, orderBy string) string {
		return fmt.Sprintf("CAST(COALESCE(json_agg(json_build_array(%s) ORDER BY %s), '[]') AS text)", cols, orderBy)
	},
	tableColumns: `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
	now: `now()`,
	before: func(col string, d time.Duration) (string, any) {
		return col + ` < now() - make_interval(secs => ?)`, d.Seconds()
	},
	epochMillis: func(col string) string {
		return fmt.Sprintf("CAST(extract(epoch FROM %s) * 1000 AS BIGINT)", col)
	},
	lastAttempt: `attempted_by[array_upper(attempted_by, 1)]`,
}
