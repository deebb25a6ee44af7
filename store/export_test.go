package store

import (
	"context"

	ecs "github.com/ecsd-dev/ecsd"
)

// StmtCacheSize is stmtCacheSize, for the tests.
const StmtCacheSize = stmtCacheSize

// TenantCacheHits counts the tenants ReadTenantByAccessKey answered from
// its cache; 0 on PostgreSQL, which has none.
func (d *DB) TenantCacheHits() int64 {
	if d.tenants == nil {
		return 0
	}
	return d.tenants.hits.Load()
}

// ServerViewOneStatement and ServerViewInTx are ServerView's two ways, on
// any engine, for the tests that compare them.
func (d *DB) ServerViewOneStatement(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error) {
	return d.serverViewOneStatement(ctx, projectID, id)
}

func (d *DB) ServerViewInTx(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error) {
	return d.serverViewInTx(ctx, projectID, id)
}

// ParseJSONRows is parseJSONRows, each row as its values: a string or an
// int64.
func ParseJSONRows(data string) ([][]any, error) {
	rows, err := parseJSONRows(data)
	if err != nil {
		return nil, err
	}
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, v := range r {
			if !v.number {
				out[i][j] = v.text
				continue
			}
			n, err := v.int64()
			if err != nil {
				return nil, err
			}
			out[i][j] = n
		}
	}
	return out, nil
}
