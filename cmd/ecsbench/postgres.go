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
// --database-as-is the URL's own database. Create makes further fresh
// databases on the same server (the startup scenario's), also dropped at
// Close.
type pgDatabase struct {
	URL      string // the database the node uses
	Server   string // host:port, for the report
	Settings string // version and durability settings, for the report

	admin  *sql.DB  // on the URL's database, to create and drop the fresh ones
	given  url.URL  // the URL as given, whose path create replaces
	prefix string   // ecsbench_<pid>_<hex>: the fresh database's name, and the start of Create's
	fresh  string   // the fresh database's name; "" when as-is
	made   []string // every database made here, dropped at Close
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
	b := make([]byte, 4)
	rand.Read(b)
	p := &pgDatabase{URL: raw, Server: u.Host, admin: admin, given: *u,
		prefix: fmt.Sprintf("ecsbench_%d_%s", os.Getpid(), hex.EncodeToString(b))}
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
	if p.URL, err = p.create(cctx, p.prefix); err != nil {
		admin.Close()
		return nil, fmt.Errorf("--database: create a fresh database: %w (or use --database-as-is)", err)
	}
	p.fresh = p.prefix
	return p, nil
}

// Create makes another fresh database on the server, named after the
// fresh one with suffix (a lower-case identifier), and returns its URL. It
// needs a role allowed to create databases, even with --database-as-is.
func (p *pgDatabase) Create(ctx context.Context, suffix string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return p.create(cctx, p.prefix+"_"+suffix)
}

// create makes the database name, to be dropped at Close, and returns its
// URL: the given URL on that database.
func (p *pgDatabase) create(ctx context.Context, name string) (string, error) {
	if _, err := p.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("CREATE DATABASE %s: %w", name, err)
	}
	p.made = append(p.made, name)
	u := p.given
	u.Path = "/" + name
	return u.String(), nil
}

// Describe says where the node's database is, for the report.
func (p *pgDatabase) Describe() string {
	where := "the given database"
	if p.fresh != "" {
		where = "a fresh database"
	}
	return fmt.Sprintf("%s at %s (%s)", p.Settings, p.Server, where)
}

// Close drops the databases made here (terminating sessions still on
// them).
func (p *pgDatabase) Close() error {
	var errs []error
	for _, name := range p.made {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := p.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
		cancel()
	}
	p.made, p.fresh = nil, ""
	return errors.Join(append(errs, p.admin.Close())...)
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
