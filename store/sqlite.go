package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the database file's name inside the data directory.
const FileName = "ecsd.db"

// ErrLocked is returned by OpenSQLite when another process uses the data directory.
var ErrLocked = errors.New("store: data directory is in use by another ecsd process")

// OpenSQLite opens (creating if needed) the database in dataDir, takes the data
// directory's lock and applies ecsd's and River's migrations. An empty
// dataDir opens an ephemeral in-memory database that disappears on Close.
func OpenSQLite(ctx context.Context, dataDir string) (*DB, error) {
	d := &DB{dialect: sqliteDialect}
	var dsn string
	if dataDir == "" {
		dsn = "file::memory:?_pragma=foreign_keys(1)&_txlock=immediate"
	} else {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
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
	d.stmts = &stmtCounters{}
	d.tenants = &tenantCache{}
	db, err := d.openSQLitePool(dsn, d.tenants)
	if err != nil {
		d.unlock()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// One connection: SQLite has one writer, River's driver wants a pool of
	// one, and an in-memory database lives only as long as its connection.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	d.db = db
	if err := d.migrate(ctx, db); err != nil {
		d.Close()
		return nil, err
	}
	if d.path != "" {
		// The read pool (BeginReadTx): connections that cannot write
		// (query_only), reading beside the writer thanks to WAL.
		reader, err := d.openSQLitePool("file:"+d.path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=query_only(1)", nil)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("store: open sqlite reader: %w", err)
		}
		reader.SetMaxOpenConns(ReadConns)
		reader.SetMaxIdleConns(ReadConns)
		reader.SetConnMaxLifetime(0)
		reader.SetConnMaxIdleTime(0)
		d.reader = reader
	}
	return d, nil
}

// openSQLitePool opens a pool on dsn whose connections keep their
// prepared statements (see stmtCacheConnector) and report their writes of
// tenants rows to tenants, if it is not nil.
func (d *DB) openSQLitePool(dsn string, tenants *tenantCache) (*sql.DB, error) {
	connector, err := newStmtCacheConnector(dsn, stmtCacheSize, d.stmts, tenants)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

// ReadConns is the size of an on-disk SQLite store's pool of read-only
// connections (BeginReadTx).
const ReadConns = 4

// RescueInterruptedJobs makes River jobs that were running when the previous
// process died available again. It is safe only because the data directory's
// lock guarantees that no other process works them; call it before starting
// the River client. On PostgreSQL, where other nodes may be working those
// jobs, it refuses with an error: use RescueJobsOfDeadNodes there.
func (d *DB) RescueInterruptedJobs(ctx context.Context) (int64, error) {
	if d.dialect.name != EngineSQLite {
		return 0, fmt.Errorf("rescue interrupted jobs: %w", errNotSQLite)
	}
	res, err := d.db.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec'), attempted_by = NULL WHERE state IN ('running', 'retryable')`)
	if err != nil {
		return 0, fmt.Errorf("store: rescue interrupted jobs: %w", err)
	}
	return res.RowsAffected()
}
