package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// UpsertTenant inserts a tenant or updates its keys, names and quota.
func (d *DB) UpsertTenant(ctx context.Context, tx *sql.Tx, t *ecs.Tenant, q ecs.Quota, now time.Time) error {
	_, err := d.exec(ctx, tx, `INSERT INTO tenants (access_key, secret_key, project_id, project_name,
		domain_id, quota_instances, quota_cores, quota_ram, created_at) VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT (access_key) DO UPDATE SET secret_key = excluded.secret_key,
		project_id = excluded.project_id, project_name = excluded.project_name,
		domain_id = excluded.domain_id, quota_instances = excluded.quota_instances,
		quota_cores = excluded.quota_cores, quota_ram = excluded.quota_ram`,
		t.AccessKey, t.SecretKey, t.ProjectID, t.ProjectName, t.DomainID, q.Instances, q.Cores, q.RAMMB, now.UnixNano())
	if err != nil {
		return fmt.Errorf("store: upsert tenant %s: %w", t.ProjectID, err)
	}
	return nil
}

// tenantColumns are the columns scanTenant reads.
const tenantColumns = `access_key, secret_key, project_id, project_name, domain_id, quota_instances, quota_cores, quota_ram`

// TenantByAccessKey returns the tenant holding ak and its quota, or
// sql.ErrNoRows wrapped.
func (d *DB) TenantByAccessKey(ctx context.Context, tx *sql.Tx, ak string) (*ecs.Tenant, ecs.Quota, error) {
	return d.tenantByAccessKey(ctx, tx, ak)
}

// ReadTenantByAccessKey is TenantByAccessKey outside any transaction: one
// statement on the read pool (BeginReadTx's), which sees one committed
// state by itself, without the BEGIN and COMMIT of a read transaction.
// Authentication runs it for every request.
//
// On SQLite it answers from the tenant cache when it can (tenantcache.go),
// which is exact: a tenant written and committed is never answered from
// before the write.
func (d *DB) ReadTenantByAccessKey(ctx context.Context, ak string) (*ecs.Tenant, ecs.Quota, error) {
	q := querier(d.db)
	if d.reader != nil {
		q = d.reader
	}
	c := d.tenants
	if c == nil {
		return d.tenantByAccessKey(ctx, q, ak)
	}
	if t, quota, ok := c.get(ak); ok {
		return t, quota, nil
	}
	gen, ok := c.before()
	t, quota, err := d.tenantByAccessKey(ctx, q, ak)
	if err == nil && ok {
		c.put(ak, gen, t, quota)
	}
	return t, quota, err
}

func (d *DB) tenantByAccessKey(ctx context.Context, q querier, ak string) (*ecs.Tenant, ecs.Quota, error) {
	return scanTenant(d.queryRow(ctx, q, `SELECT `+tenantColumns+` FROM tenants WHERE access_key = ?`, ak))
}

// TenantByProject returns the tenant owning projectID and its quota.
func (d *DB) TenantByProject(ctx context.Context, tx *sql.Tx, projectID string) (*ecs.Tenant, ecs.Quota, error) {
	return scanTenant(d.queryRow(ctx, tx, `SELECT `+tenantColumns+` FROM tenants WHERE project_id = ?`, projectID))
}

func scanTenant(row scanner) (*ecs.Tenant, ecs.Quota, error) {
	var t ecs.Tenant
	var q ecs.Quota
	err := row.Scan(&t.AccessKey, &t.SecretKey, &t.ProjectID, &t.ProjectName, &t.DomainID, &q.Instances, &q.Cores, &q.RAMMB)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, q, fmt.Errorf("store: tenant: %w", err)
	}
	if err != nil {
		return nil, q, fmt.Errorf("store: tenant: %w", err)
	}
	return &t, q, nil
}
