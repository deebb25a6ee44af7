// Package store is ecsd's store: the tables behind servers, jobs, tenants and
// networks, in one database that River's job tables share, so that a state
// change and the job that carries it commit in one transaction.
//
// Two engines sit behind the same methods:
//
//   - SQLite (OpenSQLite), on modernc.org/sqlite (pure Go), one file in a data
//     directory that one process owns. SQLite allows one writer at a time;
//     the pool holds a single connection, as River's SQLite driver
//     recommends, so that no operation ever sees SQLITE_BUSY. Read-only
//     transactions (BeginReadTx) run on a second pool of read-only
//     connections, which WAL lets read while the writer writes.
//   - PostgreSQL (OpenPostgres), through pgx's database/sql driver, shared by
//     any number of ecsd nodes. Every transaction BeginTx starts takes one
//     advisory lock first, so that ecsd's transactions run one at a time
//     across all nodes, exactly as on SQLite's single writer: every promise
//     SQLite makes holds (two nodes racing to resize one server, a quota
//     check against a concurrent create), and no transaction ever has to be
//     retried. River's own transactions do not take the lock, nor do
//     read-only ones (BeginReadTx), which read a snapshot.
//
// Queries are written once, with ? placeholders, and rebound to $1, $2, …
// for PostgreSQL; the few places where the engines' SQL differs go through
// the dialect. Both engines keep the same column semantics (times in Unix
// nanoseconds, booleans as 0/1, JSON as text), so that scanning is shared.
//
// Every method that takes a *sql.Tx runs inside the caller's transaction;
// the caller commits once. On PostgreSQL a statement that fails aborts the
// whole transaction: after any error, the caller rolls back.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migration/sqlite/*.sql migration/postgres/*.sql
var migrations embed.FS

// Engine names, as (*DB).Engine returns them.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// DB is an open ecsd database on one of the engines. It is safe for
// concurrent use.
type DB struct {
	db      *sql.DB
	dialect *dialect
	// reader is the pool of BeginReadTx: read-only connections beside the
	// writer on an on-disk SQLite store, the same pool on PostgreSQL; nil
	// for an ephemeral SQLite store (one connection for everything).
	reader *sql.DB
	path   string // SQLite file; "" when ephemeral or on PostgreSQL
	lock   *os.File

	// stmts counts the prepared statements of the SQLite pools' connections
	// (stmtcache.go); nil on PostgreSQL.
	stmts *stmtCounters
	// tenants caches ReadTenantByAccessKey on SQLite (tenantcache.go);
	// nil on PostgreSQL.
	tenants *tenantCache

	rebound      sync.Map // query → query with $n placeholders (PostgreSQL)
	reboundCount atomic.Int64
}

// Engine returns the database engine: EngineSQLite or EnginePostgres.
func (d *DB) Engine() string { return d.dialect.name }

// SQL returns the underlying pool, for River and for tests. Queries sent
// through it directly must use the engine's placeholders (see Rebind).
func (d *DB) SQL() *sql.DB { return d.db }

// RiverDriver returns River's database/sql driver for the engine, over the
// same pool: riverdatabasesql on PostgreSQL, riversqlite on SQLite (as a
// pollOnlySQLite). Both work on *sql.Tx, so that River's client type is
// river.Client[*sql.Tx] on either engine, and neither listens: River runs
// poll-only, and wakes its producer after each insert made outside a
// transaction.
func (d *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if d.dialect.name == EnginePostgres {
		return riverdatabasesql.New(d.db)
	}
	return pollOnlySQLite{riversqlite.New(d.db)}
}

// pollOnlySQLite is River's SQLite driver for a client in poll-only mode.
// riversqlite reports a listener (an outbox table that its listener polls
// every 50 ms), so River neither wakes its producer after an insert outside
// a transaction nor skips writing an outbox row into each enqueueing
// transaction, which no one reads in poll-only mode. pollOnlySQLite
// reports no listener: River then wakes the producer after each insert
// outside a transaction (worker.Queue's wake) and writes no outbox rows.
type pollOnlySQLite struct {
	*riversqlite.Driver
}

// SupportsListener implements riverdriver.Driver.
func (pollOnlySQLite) SupportsListener() bool { return false }

// SupportsListenNotify implements riverdriver.Driver.
func (pollOnlySQLite) SupportsListenNotify() bool { return false }

// Path returns the SQLite database file, or "" for an ephemeral database
// and on PostgreSQL.
func (d *DB) Path() string { return d.path }

// Close closes the database and releases the data directory. Closing
// twice is harmless.
func (d *DB) Close() error {
	var err error
	if d.reader != nil && d.reader != d.db {
		err = d.reader.Close()
		d.reader = nil
	}
	if d.db != nil {
		err = errors.Join(d.db.Close(), err)
	}
	d.unlock()
	return err
}

func (d *DB) unlock() {
	if d.lock != nil {
		unlockDir(d.lock)
		d.lock = nil
	}
}

// BeginTx starts a read-write transaction: an immediate (write-locking)
// transaction on SQLite; on PostgreSQL a READ COMMITTED one that first
// waits for the writer lock (writerLockKey), held until it ends. Either
// way ecsd's transactions run one at a time, and each sees everything
// committed before it began.
func (d *DB) BeginTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := d.db.BeginTx(ctx, d.dialect.txOptions)
	if err != nil || d.dialect.writerLock == "" {
		return tx, err
	}
	if _, err := tx.ExecContext(ctx, d.dialect.writerLock, writerLockKey); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// Savepoint marks the point of tx that RollbackToSavepoint returns to, and
// ReleaseSavepoint forgets it, keeping what was done since. There is one
// savepoint at a time (compute's group commit runs each request's work in
// one, within a transaction shared by several requests).
func (d *DB) Savepoint(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SAVEPOINT ecsd_request`)
	return err
}

// ReleaseSavepoint ends the savepoint, keeping its work in tx.
func (d *DB) ReleaseSavepoint(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT ecsd_request`)
	return err
}

// RollbackToSavepoint undoes the work done in tx since the savepoint and
// ends it.
func (d *DB) RollbackToSavepoint(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT ecsd_request`); err != nil {
		return err
	}
	return d.ReleaseSavepoint(ctx, tx)
}

// BeginReadTx starts a read-only transaction for reads that need not take
// turns with the writers: it sees everything committed before it began, and
// one consistent snapshot throughout, and any write in it fails. On an
// on-disk SQLite store it runs on a pool of read-only connections beside
// the writer's (WAL lets them read while the writer writes); on
// PostgreSQL it is REPEATABLE READ READ ONLY and takes no writer lock. An
// ephemeral SQLite store has one connection: its read transactions queue
// with the writers' there, and are not enforced read-only.
//
// A read that must see a write of the same request must begin after that
// write's transaction committed.
func (d *DB) BeginReadTx(ctx context.Context) (*sql.Tx, error) {
	if d.reader == nil {
		return d.db.BeginTx(ctx, d.dialect.readTxOptions)
	}
	return d.reader.BeginTx(ctx, readOnlyTx[d.dialect.name])
}

// readOnlyTx are the options of BeginReadTx's transactions on the reader
// pool: on SQLite a deferred BEGIN (the DSN's _txlock applies only to
// read-write transactions), whose snapshot starts at its first read.
var readOnlyTx = map[string]*sql.TxOptions{
	EngineSQLite:   {ReadOnly: true},
	EnginePostgres: {Isolation: sql.LevelRepeatableRead, ReadOnly: true},
}

// writerLockKey is the key of the PostgreSQL advisory lock that makes
// ecsd's transactions take turns ("ecsdwrit").
const writerLockKey int64 = 0x6563736477726974

// beginRead starts a transaction that reads a consistent snapshot and
// never fails for serialization (Export).
func (d *DB) beginRead(ctx context.Context) (*sql.Tx, error) {
	return d.db.BeginTx(ctx, d.dialect.readTxOptions)
}

// maxRebound bounds the cache of rebound queries: queries built with
// literal limits or IN lists of many lengths are rebound each time once the
// cache is full.
const maxRebound = 4096

// Rebind returns query with its ? placeholders in the engine's form: as is
// on SQLite, $1, $2, … on PostgreSQL. Question marks in string literals,
// quoted identifiers and comments are left alone. Results are cached.
func (d *DB) Rebind(query string) string {
	if !d.dialect.dollarParams {
		return query
	}
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	q := rebindDollar(query)
	if d.reboundCount.Load() < maxRebound {
		if _, loaded := d.rebound.LoadOrStore(query, q); !loaded {
			d.reboundCount.Add(1)
		}
	}
	return q
}

// q is Rebind, for the query methods.
func (d *DB) q(query string) string { return d.Rebind(query) }

// rebindDollar numbers the ? placeholders of query as $1, $2, … outside
// string literals, quoted identifiers and comments.
func rebindDollar(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// Copy the literal; a doubled quote is an escaped one and
			// simply reopens it.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// migrationName is the name recorded in ecsd_migrations for a migration
// file: "migration/" and the file's base name, on both engines. It is the
// name SQLite databases recorded before the migrations moved into one
// folder per engine, so that those databases keep working.
func migrationName(file string) string { return "migration/" + path.Base(file) }

// txBeginner begins the transaction of one migration.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// migrate applies ecsd's migrations for the engine, each in its own
// transaction on db (the pool, or the connection holding the migration
// lock), then River's.
func (d *DB) migrate(ctx context.Context, db txBeginner) error {
	if _, err := db.ExecContext(ctx, d.dialect.migrationsTable); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	files, err := fs.Glob(migrations, "migration/"+d.dialect.name+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, file := range files {
		if err := d.applyMigration(ctx, db, file); err != nil {
			return err
		}
	}
	migrator, err := rivermigrate.New(d.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("store: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	return nil
}

func (d *DB) applyMigration(ctx context.Context, db txBeginner, file string) error {
	name := migrationName(file)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, d.q(`SELECT count(*) FROM ecsd_migrations WHERE name = ?`), name).Scan(&n); err != nil {
		return fmt.Errorf("store: migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(file)
	if err != nil {
		return err
	}
	for _, stmt := range splitStatements(string(body)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: migration %s: %w", file, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO ecsd_migrations (name) VALUES (?)`), name); err != nil {
		return err
	}
	return tx.Commit()
}

// splitStatements splits a migration file on semicolons at line ends,
// dropping comment-only lines.
func splitStatements(body string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		// A statement with a body of statements ends with it: a SQLite
		// trigger at its END;, a PostgreSQL function at its closing $$.
		text := cur.String()
		inBody := strings.Count(text, "$$")%2 == 1 ||
			(strings.HasPrefix(strings.ToUpper(strings.TrimSpace(text)), "CREATE TRIGGER") &&
				strings.Contains(strings.ToUpper(text), "\nBEGIN\n") && !strings.EqualFold(trimmed, "END;"))
		if strings.HasSuffix(trimmed, ";") && !inBody {
			stmts = append(stmts, cur.String())
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// errNotSQLite is returned by operations that only a single-process SQLite
// store may run.
var errNotSQLite = errors.New("store: only a SQLite store, which one process owns, can do this")

// querier is what the query helpers run on: a transaction or the pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec, query and queryRow run a query written with ? placeholders on q.
func (d *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, d.Rebind(query), args...)
}

func (d *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, d.Rebind(query), args...)
}

func (d *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, d.Rebind(query), args...)
}
