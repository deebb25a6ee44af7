// Package store is ecsd's store: the tables behind servers, jobs,
// tenants and networks on modernc.org/sqlite (pure Go), in one database file
// that River's job tables share, so that a state change and the job that
// carries it commit in one transaction.
//
// SQLite allows one writer at a time; the pool holds a single connection, as
// River's SQLite driver recommends, so that no operation ever sees
// SQLITE_BUSY. Every method that takes a *sql.Tx runs inside the caller's
// transaction; the caller commits once.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migration/*.sql
var migrations embed.FS

// FileName is the database file's name inside the data directory.
const FileName = "ecsd.db"

// ErrLocked is returned by OpenSQLite when another process uses the data directory.
var ErrLocked = errors.New("sqlite: data directory is in use by another ecsd process")

// DB is an open ecsd database.
type DB struct {
	db   *sql.DB
	path string // "" when ephemeral
	lock *os.File
}

// OpenSQLite opens (creating if needed) the database in dataDir, takes the data
// directory's lock and applies ecsd's and River's migrations. An empty
// dataDir opens an ephemeral in-memory database that disappears on Close.
func OpenSQLite(ctx context.Context, dataDir string) (*DB, error) {
	d := &DB{}
	var dsn string
	if dataDir == "" {
		dsn = "file::memory:?_pragma=foreign_keys(1)&_txlock=immediate"
	} else {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create data directory: %w", err)
		}
		lock, err := lockDir(dataDir)
		if err != nil {
			return nil, err
		}
		d.lock = lock
		d.path = filepath.Join(dataDir, FileName)
		dsn = "file:" + d.path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
			"&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		d.unlock()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// One connection: SQLite has one writer, River's driver wants a pool of
	// one, and an in-memory database lives only as long as its connection.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	d.db = db
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// SQL returns the underlying pool, for River.
func (d *DB) SQL() *sql.DB { return d.db }

// Path returns the database file, or "" for an ephemeral database.
func (d *DB) Path() string { return d.path }

// Close closes the database and releases the data directory.
func (d *DB) Close() error {
	var err error
	if d.db != nil {
		err = d.db.Close()
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

// BeginTx starts a read-write transaction.
func (d *DB) BeginTx(ctx context.Context) (*sql.Tx, error) {
	return d.db.BeginTx(ctx, nil)
}

func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ecsd_migrations (
		name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := d.applyMigration(ctx, name); err != nil {
			return err
		}
	}
	migrator, err := rivermigrate.New(riversqlite.New(d.db), nil)
	if err != nil {
		return fmt.Errorf("sqlite: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("sqlite: river migrations: %w", err)
	}
	return nil
}

func (d *DB) applyMigration(ctx context.Context, name string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM ecsd_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	for _, stmt := range splitStatements(string(body)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ecsd_migrations (name) VALUES (?)`, name); err != nil {
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
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, cur.String())
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// RescueInterruptedJobs makes River jobs that were running when the previous
// process died available again. It is safe only because the data directory's
// lock guarantees that no other process works them; call it before starting
// the River client.
func (d *DB) RescueInterruptedJobs(ctx context.Context) (int64, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec'), attempted_by = NULL WHERE state IN ('running', 'retryable')`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: rescue interrupted jobs: %w", err)
	}
	return res.RowsAffected()
}
