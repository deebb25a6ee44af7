package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// pgDatabase is the PostgreSQL database of --database: by default a fresh
// database made on the URL's server and dropped at Close; with
// --database-as-is the URL's own database.
type pgDatabase struct {
	URL      string // the database the node uses
	Server   string // host:port, for the report
	Settings string // version and durability settings, for the report

	admin *sql.DB // on the URL's database, to create and drop the fresh one
	fresh string  // the fresh database's name; "" when as-is
}

// openPostgres connects to raw and, unless asIs, creates a fresh database
// beside the URL's own (the URL's role must be allowed to).
func openPostgres(ctx context.Context, raw string, asIs bool) (*pgDatabase, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("--database: want a postgres:// URL")
	}
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, err
	}
	admin.SetMaxOpenConns(2)
	p := &pgDatabase{URL: raw, Server: u.Host, admin: admin}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var version, fsync, syncCommit string
	err = admin.QueryRowContext(cctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit')`).Scan(&version, &fsync, &syncCommit)
	if err != nil {
		admin.Close()
		return nil, fmt.Errorf("--database %s: %w", u.Redacted(), err)
	}
	p.Settings = fmt.Sprintf("PostgreSQL %s, fsync=%s, synchronous_commit=%s", version, fsync, syncCommit)
	if asIs {
		return p, nil
	}
	b := make([]byte, 4)
	rand.Read(b)
	p.fresh = fmt.Sprintf("ecsbench_%d_%s", os.Getpid(), hex.EncodeToString(b))
	if _, err := admin.ExecContext(cctx, `CREATE DATABASE `+p.fresh); err != nil {
		admin.Close()
		return nil, fmt.Errorf("--database: create a fresh database: %w (or use --database-as-is)", err)
	}
	fu := *u
	fu.Path = "/" + p.fresh
	p.URL = fu.String()
	return p, nil
}

// Describe says where the node's database is, for the report.
func (p *pgDatabase) Describe() string {
	where := "the given database"
	if p.fresh != "" {
		where = "a fresh database"
	}
	return fmt.Sprintf("%s at %s (%s)", p.Settings, p.Server, where)
}

// Close drops the fresh database (terminating sessions still on it).
func (p *pgDatabase) Close() error {
	var err error
	if p.fresh != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = p.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+p.fresh+` WITH (FORCE)`)
		cancel()
		p.fresh = ""
	}
	return errors.Join(err, p.admin.Close())
}

// pgCommitLockKey is the advisory lock of the serialized commit baseline
// (not ecsd's own writer lock, so that it never waits for the node).
const pgCommitLockKey int64 = 0x6563736262656e63 // "ecsbbenc"

// pgCommitBaseline measures the raw commit rate of PostgreSQL through
// pgx's database/sql driver, in the shape of the SQLite baseline: clients
// goroutines, one small INSERT per transaction, on a pool of clients
// connections. With serialized, each transaction first takes an advisory
// transaction lock, as ecsd's read-write transactions do: the commit rate
// of one writer at a time.
func pgCommitBaseline(ctx context.Context, dbURL string, clients int, d time.Duration, serialized bool) (Result, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ecsbench_commit (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		return Result{}, err
	}
	defer db.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS ecsbench_commit`)
	name := "baseline/postgres-commit"
	if serialized {
		name += "-serialized"
	}
	r := drive(ctx, name, clients, d, 0, func(ctx context.Context, id, i int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if serialized {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, pgCommitLockKey); err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ecsbench_commit (v) VALUES ($1)`, "resize s6.small.1 -> s6.medium.2"); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	return r, nil
}
