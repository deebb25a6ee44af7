package store

import (
	"sync"
	"sync/atomic"

	ecs "github.com/ecsd-dev/ecsd"
)

// The tenant cache.
//
// Every authenticated request reads its tenant by access key
// (ReadTenantByAccessKey): on SQLite a statement on the read pool, with the
// WAL read lock it takes and releases, about a fifth of a show-server's
// handler time. Tenants change rarely, so an SQLite store keeps the
// tenants it has read in memory.
//
// The cache is exact, not eventually consistent: a read that starts after
// a tenant write has committed never sees what the write replaced. That
// holds because on SQLite every write goes through this process's one
// writer connection (the data directory's lock keeps other ecsd processes
// out), and that connection reports each change of a tenants row as SQLite
// makes it (sqlite3_preupdate_hook). Whatever writes the row (the control
// API, Import, a project's removal, a statement of a test), the cache
// learns of it; no write method has to remember to invalidate it.
//
// It works with a generation and a count of pending writes:
//
//   - A change of a tenants row, inside its transaction, makes its
//     connection pending (pending goes up once per transaction) and moves
//     the generation on.
//   - When that transaction ends (committed or rolled back: SQLite's commit
//     and rollback hooks), the statement that ended it moves the generation
//     on again and clears pending, before it returns to its caller.
//   - An entry is used only while nothing is pending and the generation is
//     the one read before the entry's row was: any write that could have
//     changed the row since then has moved it on.
//   - While a tenant write is pending nothing is cached or used: readers go
//     to the database, which shows them the last committed state.
//
// A PostgreSQL store has no cache: other nodes write the same tables, and
// nothing short of asking the database tells this one when they did.
type tenantCache struct {
	gen     atomic.Uint64
	pending atomic.Int64
	hits    atomic.Int64

	entries sync.Map // access key → *tenantEntry
	size    atomic.Int64
}

// tenantCacheMax bounds the entries; the cache starts again empty when it
// is full (tenants are few; access keys that hold no tenant are not kept).
const tenantCacheMax = 4096

type tenantEntry struct {
	tenant ecs.Tenant
	quota  ecs.Quota
	gen    uint64
}

// get returns the cached tenant holding ak, if its entry is still exact.
func (c *tenantCache) get(ak string) (*ecs.Tenant, ecs.Quota, bool) {
	v, ok := c.entries.Load(ak)
	if !ok || c.pending.Load() != 0 {
		return nil, ecs.Quota{}, false
	}
	e := v.(*tenantEntry)
	if e.gen != c.gen.Load() {
		return nil, ecs.Quota{}, false
	}
	c.hits.Add(1)
	t := e.tenant
	return &t, e.quota, true
}

// before returns the generation to cache a row under that is read after
// this call, and false while a tenant write is pending.
func (c *tenantCache) before() (uint64, bool) {
	gen := c.gen.Load()
	return gen, c.pending.Load() == 0
}

// put caches t and q for ak, read after before returned gen.
func (c *tenantCache) put(ak string, gen uint64, t *ecs.Tenant, q ecs.Quota) {
	e := &tenantEntry{tenant: *t, quota: q, gen: gen}
	if _, loaded := c.entries.Swap(ak, e); loaded {
		return
	}
	if c.size.Add(1) > tenantCacheMax {
		c.entries.Clear()
		c.size.Store(0)
	}
}

// tenantWatch is a writer connection's part in the cache: whether a tenant
// write of its current transaction is pending, and whether SQLite has
// ended that transaction. Only the goroutine holding the connection
// touches it (SQLite runs the hooks on it).
type tenantWatch struct {
	cache   *tenantCache
	pending bool
	ended   bool
}

// changed is the connection's pre-update hook for a row of table.
func (w *tenantWatch) changed(table string) {
	if table != "tenants" {
		return
	}
	if !w.pending {
		w.pending = true
		w.cache.pending.Add(1)
	}
	w.cache.gen.Add(1)
}

// settle runs after each statement on the connection returns: if the
// statement ended a transaction that wrote tenants, the cache learns
// that the write is no longer pending.
func (w *tenantWatch) settle() {
	if !w.ended {
		return
	}
	w.ended = false
	if w.pending {
		w.cache.gen.Add(1)
		w.pending = false
		w.cache.pending.Add(-1)
	}
}
