package store_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

func asError(err error, target **ecs.Error) bool { return errors.As(err, target) }

func TestTenantUpsert(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)

		tenant := ecs.DevTenant
		quota := ecs.Quota{Instances: 10, Cores: 20, RAMMB: 40960}
		inTx(t, db, func(tx *sql.Tx) error { return db.UpsertTenant(ctx, tx, &tenant, quota, testTime) })

		check := func(wantTenant ecs.Tenant, wantQuota ecs.Quota) {
			t.Helper()
			inTx(t, db, func(tx *sql.Tx) error {
				for name, lookup := range map[string]func() (*ecs.Tenant, ecs.Quota, error){
					"TenantByAccessKey": func() (*ecs.Tenant, ecs.Quota, error) { return db.TenantByAccessKey(ctx, tx, wantTenant.AccessKey) },
					"TenantByProject":   func() (*ecs.Tenant, ecs.Quota, error) { return db.TenantByProject(ctx, tx, wantTenant.ProjectID) },
					// Outside the transaction: on the read pool, which
					// sees only what committed.
					"ReadTenantByAccessKey": func() (*ecs.Tenant, ecs.Quota, error) { return db.ReadTenantByAccessKey(ctx, wantTenant.AccessKey) },
				} {
					got, q, err := lookup()
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if diff := cmp.Diff(&wantTenant, got); diff != "" {
						t.Errorf("%s tenant (-want +got):\n%s", name, diff)
					}
					if q != wantQuota {
						t.Errorf("%s quota = %+v, want %+v", name, q, wantQuota)
					}
				}
				return nil
			})
		}
		check(tenant, quota)

		// Upserting the same access key replaces the secret, names and quota;
		// unlimited (-1) quotas survive.
		changed := tenant
		changed.SecretKey, changed.ProjectName, changed.DomainID = "new-secret", "cn-south-1", "domain-2"
		unlimited := ecs.Quota{Instances: -1, Cores: -1, RAMMB: -1}
		inTx(t, db, func(tx *sql.Tx) error { return db.UpsertTenant(ctx, tx, &changed, unlimited, testTime) })
		check(changed, unlimited)
		if n := scalar[int](t, db, `SELECT count(*) FROM tenants`); n != 1 {
			t.Errorf("tenants = %d, want 1 after an upsert", n)
		}

		// Unknown keys and projects are sql.ErrNoRows.
		inTx(t, db, func(tx *sql.Tx) error {
			if _, _, err := db.TenantByAccessKey(ctx, tx, "NOPE"); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("TenantByAccessKey(unknown) = %v, want sql.ErrNoRows", err)
			}
			if _, _, err := db.ReadTenantByAccessKey(ctx, "NOPE"); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("ReadTenantByAccessKey(unknown) = %v, want sql.ErrNoRows", err)
			}
			if _, _, err := db.TenantByProject(ctx, tx, otherProject); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("TenantByProject(unknown) = %v, want sql.ErrNoRows", err)
			}
			return nil
		})
		// A second access key may not claim the same project.
		thief := ecs.Tenant{ProjectID: tenant.ProjectID, ProjectName: "x", DomainID: "d", AccessKey: "OTHERKEY", SecretKey: "s"}
		if err := failInTx(t, db, func(tx *sql.Tx) error { return db.UpsertTenant(ctx, tx, &thief, quota, testTime) }); err == nil {
			t.Error("UpsertTenant of a second key for the same project succeeded")
		}
	})
}
