package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// readSecret reads the dev tenant's secret through ReadTenantByAccessKey
// ("" when it holds no tenant) and reports whether the cache answered.
func readSecret(tb testing.TB, db *store.DB) (secret string, cached bool) {
	tb.Helper()
	hits := db.TenantCacheHits()
	t, _, err := db.ReadTenantByAccessKey(tb.Context(), ecs.DevTenant.AccessKey)
	if errors.Is(err, sql.ErrNoRows) {
		return "", db.TenantCacheHits() != hits
	}
	if err != nil {
		tb.Fatalf("ReadTenantByAccessKey: %v", err)
	}
	return t.SecretKey, db.TenantCacheHits() != hits
}

// upsertSecret commits the dev tenant with secret.
func upsertSecret(tb testing.TB, db *store.DB, secret string) {
	tb.Helper()
	tenant := ecs.DevTenant
	tenant.SecretKey = secret
	inTx(tb, db, func(tx *sql.Tx) error {
		return db.UpsertTenant(tb.Context(), tx, &tenant, ecs.DefaultQuota, testTime)
	})
}

// TestTenantCacheFollowsEveryWrite: after each way of writing the tenants
// table — the store's methods, a rolled-back transaction, plain statements
// outside any transaction — the next read answers what was committed, and
// the read after it comes from the cache again.
func TestTenantCacheFollowsEveryWrite(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"file", "ephemeral"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var db *store.DB
			if dir == "file" {
				db = storetest.NewDB(t)
			} else {
				db = mustOpen(t, "")
			}
			upsertSecret(t, db, "s0")
			want := "s0"
			for _, step := range []struct {
				name  string
				write func()
				want  string // the secret after it; "" for no tenant
			}{
				{"upsert", func() { upsertSecret(t, db, "s1") }, "s1"},
				{"rolled back upsert", func() {
					tx, err := db.BeginTx(ctx)
					if err != nil {
						t.Fatal(err)
					}
					tenant := ecs.DevTenant
					tenant.SecretKey = "never"
					if err := db.UpsertTenant(ctx, tx, &tenant, ecs.DefaultQuota, testTime); err != nil {
						t.Fatal(err)
					}
					if err := tx.Rollback(); err != nil {
						t.Fatal(err)
					}
				}, "s1"},
				{"UPDATE outside a transaction", func() {
					if _, err := db.SQL().ExecContext(ctx, `UPDATE tenants SET secret_key = 's2'`); err != nil {
						t.Fatal(err)
					}
				}, "s2"},
				{"UPDATE … RETURNING outside a transaction", func() {
					rows, err := db.SQL().QueryContext(ctx, `UPDATE tenants SET secret_key = 's3' RETURNING access_key`)
					if err != nil {
						t.Fatal(err)
					}
					for rows.Next() {
					}
					if err := errors.Join(rows.Err(), rows.Close()); err != nil {
						t.Fatal(err)
					}
				}, "s3"},
				{"Import", func() {
					snap, err := db.Export(ctx)
					if err != nil {
						t.Fatal(err)
					}
					snap.Tenants[0].SecretKey = "s4"
					if err := db.Import(ctx, snap); err != nil {
						t.Fatal(err)
					}
				}, "s4"},
				{"DeleteProject", func() {
					inTx(t, db, func(tx *sql.Tx) error {
						_, _, err := db.DeleteProject(ctx, tx, ecs.DevTenant.ProjectID, true)
						return err
					})
				}, ""},
				{"re-created", func() { upsertSecret(t, db, "s5") }, "s5"},
				{"DeleteAll (DELETE without WHERE)", func() {
					inTx(t, db, func(tx *sql.Tx) error {
						_, _, err := db.DeleteAll(ctx, tx)
						return err
					})
				}, ""},
			} {
				// Before the write, the tenant is in the cache.
				readSecret(t, db)
				if got, cached := readSecret(t, db); got != want || (want != "" && !cached) {
					t.Fatalf("before %s: secret %q (cached %v), want %q from the cache", step.name, got, cached, want)
				}
				step.write()
				if got, _ := readSecret(t, db); got != step.want {
					t.Fatalf("after %s: secret %q, want %q", step.name, got, step.want)
				}
				want = step.want
			}
		})
	}
}

// TestTenantCacheWhileAWriteIsOpen: a read while a transaction that wrote
// the tenant is still open sees the committed tenant, and once it commits
// the next read sees the new one — the read in between must not have left
// the old one in the cache.
func TestTenantCacheWhileAWriteIsOpen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storetest.NewDB(t) // on disk: reads go to the read pool beside the open writer
	upsertSecret(t, db, "old")
	readSecret(t, db)

	tx, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	tenant := ecs.DevTenant
	tenant.SecretKey = "new"
	if err := db.UpsertTenant(ctx, tx, &tenant, ecs.DefaultQuota, testTime); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, cached := readSecret(t, db); got != "old" || cached {
			t.Fatalf("while the write is open: secret %q (cached %v), want %q from the database", got, cached, "old")
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := readSecret(t, db); got != "new" {
		t.Fatalf("after the commit: secret %q, want %q", got, "new")
	}
	if got, cached := readSecret(t, db); got != "new" || !cached {
		t.Fatalf("read again: secret %q (cached %v), want %q from the cache", got, cached, "new")
	}
}

// TestTenantCacheIsLinearizable: while one goroutine commits secrets 1, 2,
// 3, … and publishes each number once its commit has returned, readers
// never read a secret older than the one published before their read
// began. The readers hit the cache between the writes.
func TestTenantCacheIsLinearizable(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	upsertSecret(t, db, "0")
	const writes, readers = 200, 4
	var published atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			for {
				floor := published.Load()
				secret, _ := readSecret(t, db)
				n, err := strconv.ParseInt(secret, 10, 64)
				if err != nil || n < floor {
					errs <- fmt.Errorf("read secret %q after %d was committed", secret, floor)
					return
				}
				if floor == writes {
					return
				}
			}
		})
	}
	for i := int64(1); i <= writes; i++ {
		// Let the readers use the cache before the next write.
		for h := db.TenantCacheHits(); i > 1 && db.TenantCacheHits() < h+readers && len(errs) == 0; {
			runtime.Gosched()
		}
		upsertSecret(t, db, strconv.FormatInt(i, 10))
		published.Store(i)
	}
	wg.Wait()
	close(errs)
	var msgs []string
	for err := range errs {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) > 0 {
		t.Fatal(strings.Join(msgs, "\n"))
	}
}
