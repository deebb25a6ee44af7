// Package storetest gives tests real, private ecsd databases quickly, on
// both engines, and runs a test against each engine.
//
// SQLite: it migrates one template database per test process and copies
// its file for each test, since migrating from scratch costs a third of a
// second under -race and a copy a few milliseconds.
//
// PostgreSQL: used only when TEST_DATABASE_URL is set (a role that may
// create databases, on loopback; .ci/postgres starts such a server and
// prints the URL); otherwise PostgreSQL tests skip. A template database,
// named after the schema's digest (store.PostgresSchemaDigest), is migrated
// once and kept for later runs; each test gets a fresh database created
// from it (CREATE DATABASE … TEMPLATE), dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/ecsd-dev/ecsd/store"
)

// template is the migrated SQLite database's file contents, made once.
var template = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "ecsd-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		return nil, fmt.Errorf("template database: %w", err)
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, store.FileName))
})

// DataDir returns a new data directory (under tb.TempDir) holding a copy of
// the migrated template database.
func DataDir(tb testing.TB) string {
	tb.Helper()
	b, err := template()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// NewDB opens a private on-disk SQLite database for one test, closed at
// cleanup.
func NewDB(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.OpenSQLite(tb.Context(), DataDir(tb))
	if err != nil {
		tb.Fatalf("store.OpenSQLite: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Engine is one database engine under test.
type Engine struct {
	// Name is store.EngineSQLite or store.EnginePostgres.
	Name string
	// NewDB opens a private, migrated database for one test, closed (and
	// dropped) at cleanup. On PostgreSQL it skips the test when
	// TEST_DATABASE_URL is unset.
	NewDB func(tb testing.TB) *store.DB
}

// Engines returns the engines to run store tests on: SQLite, then
// PostgreSQL.
func Engines() []Engine {
	return []Engine{{Name: store.EngineSQLite, NewDB: NewDB}, {Name: store.EnginePostgres, NewDB: NewPostgresDB}}
}

// EachEngine runs fn as a parallel subtest of t, named after the engine,
// for every engine.
func EachEngine(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
	}
}

// Each runs fn as a parallel subtest of t for every engine, with a
// private database of that engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachEngine(t, func(t *testing.T, e Engine) { fn(t, e.NewDB(t)) })
}

// EnvDatabaseURL names the environment variable that enables the
// PostgreSQL tests.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// SkipMessage is why PostgreSQL tests skip.
const SkipMessage = "PostgreSQL tests need TEST_DATABASE_URL (e.g. from .ci/postgres)"

// PostgresOptions are the pool options of NewPostgresDB: small pools,
// since many tests run at once against one server.
var PostgresOptions = store.PostgresOptions{MaxOpenConns: 8}

// NewPostgresDB opens a fresh, migrated PostgreSQL database for one test,
// closed and dropped at cleanup. It skips the test when TEST_DATABASE_URL
// is unset.
func NewPostgresDB(tb testing.TB) *store.DB {
	tb.Helper()
	u := PostgresURL(tb)
	db, err := store.OpenPostgres(tb.Context(), u, PostgresOptions)
	if err != nil {
		tb.Fatalf("store.OpenPostgres: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL returns the URL of a fresh PostgreSQL database, migrated to
// ecsd's schema, dropped at cleanup (connections still open then are
// terminated). It skips the test when TEST_DATABASE_URL is unset.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	s := server(tb)
	tpl, err := s.template()
	if err != nil {
		tb.Fatalf("PostgreSQL template database: %v", err)
	}
	return s.create(tb, tpl)
}

// EmptyPostgresURL returns the URL of a fresh, empty PostgreSQL database
// (no schema), dropped at cleanup. It skips the test when
// TEST_DATABASE_URL is unset.
func EmptyPostgresURL(tb testing.TB) string {
	tb.Helper()
	return server(tb).create(tb, "")
}

// pgServer is the PostgreSQL server of TEST_DATABASE_URL.
type pgServer struct {
	url      *url.URL
	admin    *sql.DB // the URL's own database, for CREATE and DROP DATABASE
	template func() (string, error)
}

var (
	pgOnce    sync.Once
	pg        *pgServer
	pgErr     error
	dbCounter atomic.Int64
)

func server(tb testing.TB) *pgServer {
	tb.Helper()
	raw := os.Getenv(EnvDatabaseURL)
	if raw == "" {
		tb.Skip(SkipMessage)
	}
	pgOnce.Do(func() { pg, pgErr = openServer(raw) })
	if pgErr != nil {
		tb.Fatalf("%s: %v", EnvDatabaseURL, pgErr)
	}
	return pg
}

func openServer(raw string) (*pgServer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("not a postgres:// URL")
	}
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, err
	}
	admin.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	s := &pgServer{url: u, admin: admin}
	s.template = sync.OnceValues(s.makeTemplate)
	return s, nil
}

// withDB returns the server's URL with another database.
func (s *pgServer) withDB(name string) string {
	u := *s.url
	u.Path = "/" + name
	return u.String()
}

// templateLockKey serializes the test processes that make the template.
const templateLockKey int64 = 0x65637364_74706c00 // "ecsdtpl"

// makeTemplate returns the name of the template database for the current
// schema, migrating it first if no earlier test process did. Test
// processes running at once agree through an advisory lock; a template is
// published (renamed into place) only once fully migrated.
func (s *pgServer) makeTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	digest, err := store.PostgresSchemaDigest()
	if err != nil {
		return "", err
	}
	name := "ecsd_tpl_" + digest[:16]
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, templateLockKey); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, templateLockKey)
	s.sweep(ctx, conn)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	tmp := name + "_tmp_" + randHex(4)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+tmp); err != nil {
		return "", err
	}
	db, err := store.OpenPostgres(ctx, s.withDB(tmp), store.PostgresOptions{MaxOpenConns: 2})
	if err == nil {
		err = db.Close()
	}
	if err == nil {
		_, err = conn.ExecContext(ctx, `ALTER DATABASE `+tmp+` RENAME TO `+name)
	}
	if err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+tmp+` WITH (FORCE)`)
		return "", err
	}
	return name, nil
}

// sweep drops what killed test processes left behind: half-made
// templates (their maker held the lock we hold now) and test databases of
// processes that no longer run.
func (s *pgServer) sweep(ctx context.Context, conn *sql.Conn) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database
		WHERE datname LIKE 'ecsd\_tpl\_%\_tmp\_%' OR datname LIKE 'ecsd\_test\_%'`)
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		if rest, ok := strings.CutPrefix(n, "ecsd_test_"); ok {
			pid, err := strconv.Atoi(strings.SplitN(rest, "_", 2)[0])
			if err != nil || pid == os.Getpid() || !processGone(pid) {
				continue
			}
		}
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+n+` WITH (FORCE)`)
	}
}

// create makes a fresh database, from template unless it is "", dropped
// at cleanup, and returns its URL.
func (s *pgServer) create(tb testing.TB, template string) string {
	tb.Helper()
	name := fmt.Sprintf("ecsd_test_%d_%d_%s", os.Getpid(), dbCounter.Add(1), randHex(3))
	q := `CREATE DATABASE ` + name
	if template != "" {
		q += ` TEMPLATE ` + template
	}
	if _, err := s.admin.ExecContext(tb.Context(), q); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.drop(name); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return s.withDB(name)
}

// drop drops a database, terminating the sessions still connected to it.
// FORCE may not terminate an autovacuum worker (it runs as a superuser);
// a plain DROP then tells the worker to exit and waits for it.
func (s *pgServer) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	for range 5 {
		if _, err = s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err == nil {
			return nil
		}
		if _, err = s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name); err == nil {
			return nil
		}
	}
	return err
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
