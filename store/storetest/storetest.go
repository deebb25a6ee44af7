// Package sqlitetest gives tests real, private SQLite databases quickly: it
// migrates one template database per test process and copies it for each
// test, since migrating from scratch costs a third of a second under -race
// and a copy a few milliseconds.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ecsd-dev/ecsd/store"
)

// template is the migrated database's file contents, made once.
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

// NewDB opens a private on-disk database for one test, closed at cleanup.
func NewDB(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.OpenSQLite(tb.Context(), DataDir(tb))
	if err != nil {
		tb.Fatalf("store.OpenSQLite: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
