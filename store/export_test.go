package store

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
