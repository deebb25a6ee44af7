package ecsdtest

import (
	"os"
	"testing"

	"github.com/ecsd-dev/ecsd/node"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// EnvEngine names the environment variable that selects the database
// engine of the nodes that tests start (New, and ecsd's own end-to-end
// tests): "sqlite" (the default, also when unset) or "postgres".
const EnvEngine = "ECSD_TEST_ENGINE"

// Engine returns the engine that ECSD_TEST_ENGINE selects,
// store.EngineSQLite or store.EnginePostgres. It fails the test for any
// other value.
func Engine(tb testing.TB) string {
	tb.Helper()
	switch e := os.Getenv(EnvEngine); e {
	case "", store.EngineSQLite:
		return store.EngineSQLite
	case store.EnginePostgres:
		return store.EnginePostgres
	default:
		tb.Fatalf("ecsdtest: %s=%q: want %q or %q", EnvEngine, e, store.EngineSQLite, store.EnginePostgres)
		return ""
	}
}

// UseDatabase points cfg at a store of its own for one node of tb, on the
// engine of ECSD_TEST_ENGINE. On SQLite it leaves cfg as it is (in memory,
// or in cfg.DataDir). On PostgreSQL it sets cfg.Database to a fresh,
// migrated database, dropped when the test ends, and bounds the node's
// pool, since many nodes share one test server; it fails the test (it
// does not fall back to SQLite) when TEST_DATABASE_URL is unset. A
// cfg.Database already set is kept: tests that restart a node, or start
// several on one store, call UseDatabase once and copy the URL.
func UseDatabase(tb testing.TB, cfg *node.Config) {
	tb.Helper()
	if Engine(tb) != store.EnginePostgres || cfg.Database != "" {
		return
	}
	if os.Getenv(storetest.EnvDatabaseURL) == "" {
		tb.Fatalf("ecsdtest: %s=%s needs %s (e.g. export %s=$(.ci/postgres))",
			EnvEngine, store.EnginePostgres, storetest.EnvDatabaseURL, storetest.EnvDatabaseURL)
	}
	cfg.Database = storetest.PostgresURL(tb)
	if cfg.DatabaseMaxConns == 0 {
		cfg.DatabaseMaxConns = storetest.PostgresOptions.MaxOpenConns
	}
}
