package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"sort"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// PostgresOptions tune OpenPostgres's pool. Zero values take the defaults.
type PostgresOptions struct {
	// MaxOpenConns bounds the pool (default 20, at least 2: migrations hold
	// one connection for their lock while River's migrator uses another).
	MaxOpenConns int
	// MaxIdleConns is how many idle connections the pool keeps (default
	// MaxOpenConns).
	MaxIdleConns int
	// ConnMaxLifetime closes connections older than this (default 30m),
	// so that the pool follows a failover or a restarted server.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes connections idle for longer (default 5m).
	ConnMaxIdleTime time.Duration
	// ConnectTimeout bounds one attempt to connect (default 5s) unless the
	// URL sets connect_timeout.
	ConnectTimeout time.Duration
}

// Defaults of PostgresOptions.
const (
	DefaultPostgresMaxOpenConns   = 20
	DefaultPostgresConnectTimeout = 5 * time.Second
)

// migrationLockKey is the key of the session-level advisory lock that
// serializes the migrations of nodes starting at once ("ecsdmigr").
const migrationLockKey int64 = 0x656373646d696772

// OpenPostgres connects to the PostgreSQL database at url (a postgres:// URL
// or a key=value DSN, as pgx reads them) and applies ecsd's and River's
// migrations. Several nodes may open the same database at once: the
// migrations run under a session-level advisory lock, one node after the
// other, and a node that finds them applied changes nothing. Unlike
// OpenSQLite, it takes no lock of the database: any number of nodes share
// it.
func OpenPostgres(ctx context.Context, url string, opts PostgresOptions) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: postgres url: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = opts.ConnectTimeout
		if cfg.ConnectTimeout <= 0 {
			cfg.ConnectTimeout = DefaultPostgresConnectTimeout
		}
	}
	maxOpen := opts.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = DefaultPostgresMaxOpenConns
	}
	maxOpen = max(maxOpen, 2)
	maxIdle := opts.MaxIdleConns
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	lifetime, idle := opts.ConnMaxLifetime, opts.ConnMaxIdleTime
	if lifetime <= 0 {
		lifetime = 30 * time.Minute
	}
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(lifetime)
	db.SetConnMaxIdleTime(idle)
	d := &DB{db: db, dialect: postgresDialect, reader: db}
	if err := d.migratePostgres(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// migratePostgres runs the migrations holding the migration lock on one
// dedicated connection, so that nodes starting at once migrate one after
// the other.
func (d *DB) migratePostgres(ctx context.Context) (err error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	locked := false
	defer func() {
		if locked {
			// A fresh context: the lock must go even when ctx is done.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, uerr := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey)
			cancel()
			if uerr != nil {
				// The session, and with it the lock, must not go back
				// to the pool: discard the connection.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		// A cancelled wait leaves the session in doubt: discard it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return fmt.Errorf("store: migration lock: %w", err)
	}
	locked = true
	return d.migrate(ctx, conn)
}

// PostgreSQL error codes (SQLSTATE) the classifiers look at.
const (
	pgAdminShutdown    = "57P01"
	pgCrashShutdown    = "57P02"
	pgCannotConnectNow = "57P03"
	pgConnectionClass  = "08"
)

// RedactURL returns a database URL fit for messages and logs: its password,
// if any, replaced by "xxxxx"; "(not a URL)" for a string that does not
// parse.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

// IsUnavailable reports whether err means that the database cannot be
// reached or is going away: the connection was refused, reset or closed,
// the server is shutting down or starting up, a connection-class error
// (SQLSTATE class 08), or a connection attempt that timed out. The request
// that met it may be answered with a 503-class error and tried again
// later; the pool reconnects by itself once the database is back. It is
// false for nil and for errors of the request itself.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgAdminShutdown, pgCrashShutdown, pgCannotConnectNow:
			return true
		}
		return len(pe.Code) == 5 && pe.Code[:2] == pgConnectionClass
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// Refused, unreachable, timed out (context or connect_timeout)
		// or turned away during the handshake.
		return true
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The request's own context, not the database.
		return false
	}
	if pgconn.SafeToRetry(err) {
		// pgx's errors for a connection that was closed or broken before
		// the statement was sent.
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne *net.OpError
	return errors.As(err, &ne)
}

// PostgresSchemaDigest returns a digest of the schema that OpenPostgres
// migrates a database to: ecsd's migrations and River's. Databases migrated
// by builds with the same digest have the same schema; test helpers name
// their template databases by it.
func PostgresSchemaDigest() (string, error) {
	h := sha256.New()
	files, err := fs.Glob(migrations, "migration/"+EnginePostgres+"/*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		body, err := migrations.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(body))
		h.Write(body)
	}
	migrator, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return "", fmt.Errorf("store: river migrator: %w", err)
	}
	for _, m := range migrator.AllVersions() {
		fmt.Fprintf(h, "river\x00%d\x00%d\x00", m.Version, len(m.SQLUp))
		h.Write([]byte(m.SQLUp))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
