package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// projectName reads the tenant's project name in tx.
func projectName(tb testing.TB, db *store.DB, tx *sql.Tx, projectID string) string {
	tb.Helper()
	ten, _, err := db.TenantByProject(tb.Context(), tx, projectID)
	if err != nil {
		tb.Fatalf("TenantByProject: %v", err)
	}
	return ten.ProjectName
}

func TestBeginReadTx(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// A deadlock between a reader and a writer fails the test rather
		// than hanging it.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		quota := ecs.Quota{Instances: 10, Cores: 20, RAMMB: 40960}
		tenant := ecs.DevTenant
		tenant.ProjectName = "before"
		inTx(t, db, func(tx *sql.Tx) error { return db.UpsertTenant(ctx, tx, &tenant, quota, testTime) })

		beginRead := func() *sql.Tx {
			t.Helper()
			tx, err := db.BeginReadTx(ctx)
			if err != nil {
				t.Fatalf("BeginReadTx: %v", err)
			}
			t.Cleanup(func() { tx.Rollback() })
			return tx
		}

		// A reader sees what committed before it began.
		r1 := beginRead()
		if got := projectName(t, db, r1, tenant.ProjectID); got != "before" {
			t.Fatalf("reader sees project name %q, want the committed %q", got, "before")
		}

		// A writer neither waits for the open reader nor shows it
		// anything before it commits; a reader that begins while the
		// writer is open does not wait for it either.
		w, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatalf("BeginTx beside an open reader: %v", err)
		}
		defer w.Rollback()
		changed := tenant
		changed.ProjectName = "after"
		if err := db.UpsertTenant(ctx, w, &changed, quota, testTime); err != nil {
			t.Fatalf("UpsertTenant beside an open reader: %v", err)
		}
		r2 := beginRead()
		if got := projectName(t, db, r2, tenant.ProjectID); got != "before" {
			t.Errorf("reader beside an open writer sees %q, want the committed %q", got, "before")
		}
		if err := w.Commit(); err != nil {
			t.Fatalf("Commit beside open readers: %v", err)
		}

		// Readers keep the snapshot of their first read; a new one sees
		// the commit.
		for name, r := range map[string]*sql.Tx{"first": r1, "second": r2} {
			if got := projectName(t, db, r, tenant.ProjectID); got != "before" {
				t.Errorf("%s reader after the commit sees %q, want its snapshot's %q", name, got, "before")
			}
			if err := r.Commit(); err != nil {
				t.Errorf("%s reader: Commit: %v", name, err)
			}
		}
		r3 := beginRead()
		if got := projectName(t, db, r3, tenant.ProjectID); got != "after" {
			t.Errorf("reader begun after the commit sees %q, want %q", got, "after")
		}
		r3.Rollback()

		// A read transaction cannot write.
		r4 := beginRead()
		bad := tenant
		bad.ProjectName = "written by a reader"
		if err := db.UpsertTenant(ctx, r4, &bad, quota, testTime); err == nil {
			t.Error("UpsertTenant in a read transaction succeeded")
		}
		r4.Rollback()
		inTx(t, db, func(tx *sql.Tx) error {
			if got := projectName(t, db, tx, tenant.ProjectID); got != "after" {
				t.Errorf("after a reader's write attempt the project name is %q, want %q", got, "after")
			}
			return nil
		})
	})
}

// TestBeginReadTxEphemeral: an ephemeral SQLite store has one connection,
// which its read transactions share with the writers.
func TestBeginReadTxEphemeral(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := store.OpenSQLite(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tenant := ecs.DevTenant
	inTx(t, db, func(tx *sql.Tx) error { return db.UpsertTenant(ctx, tx, &tenant, ecs.Quota{}, testTime) })
	r, err := db.BeginReadTx(ctx)
	if err != nil {
		t.Fatalf("BeginReadTx: %v", err)
	}
	defer r.Rollback()
	if got := projectName(t, db, r, tenant.ProjectID); got != tenant.ProjectName {
		t.Errorf("reader sees project name %q, want %q", got, tenant.ProjectName)
	}
}
