package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"
)

// Prepared statements.
//
// modernc.org/sqlite parses a query each time it is run through
// database/sql (conn.QueryContext and conn.ExecContext prepare, step and
// finalize), and parsing was the largest part of a request's CPU (43% of
// the read path's handler time). A SQLite store therefore opens its pools
// through stmtCacheConnector: each connection keeps its prepared statements
// by query text (an LRU of stmtCacheSize) and runs a query it has seen
// before on its statement, reset after use, rather than parsing it again.
// It applies to every query on the pools, the store's and River's alike.
//
// It is per connection and inside the driver rather than a cache of
// *sql.Stmt: a *sql.Stmt is prepared on the pool first (DB.PrepareContext),
// which on the writer pool of one connection would wait forever for the
// connection that the caller's transaction holds; and tx.StmtContext would
// need one *sql.Stmt per pool (a statement of one pool cannot run in a
// transaction of the other). A driver connection is used by one goroutine
// at a time (database/sql holds its lock around every call, Rows.Next and
// Rows.Close included), so the cache needs no lock of its own.
//
// Transactions go through the cache too (stmtCacheConn.BeginTx): modernc
// runs BEGIN, COMMIT and ROLLBACK as statements it prepares and finalizes
// each time, which cost a quarter of a short read request's CPU (two read
// transactions per request). See stmtCacheTx for how its semantics are
// kept.
//
// PostgreSQL needs none of this: pgx's database/sql driver already prepares
// each query once per connection and reuses it (its default
// QueryExecModeCacheStatement, an LRU of 512 statements per connection),
// in read-write and read-only transactions alike.

// stmtCacheSize bounds the statements each SQLite connection keeps
// prepared; the least recently used one is closed to make room. ecsd's and
// River's queries number about 150; queries with variable text (IN lists)
// take the rest in turn.
const stmtCacheSize = 256

// stmtCacheMaxQuery is the longest query text that is cached: longer ones
// (migration scripts, multi-row inserts) are parsed each time, as before.
const stmtCacheMaxQuery = 8 << 10

// StmtCacheStats counts the statements of a store's SQLite connections.
type StmtCacheStats struct {
	Hits     int64 // queries run on a statement the connection had prepared
	Prepared int64 // statements prepared and kept
	Evicted  int64 // statements closed to make room
	Uncached int64 // queries run without the cache: too long, or their statement was busy
}

// stmtCounters are the shared counters of a connector's connections.
type stmtCounters struct {
	hits, prepared, evicted, uncached atomic.Int64

	// trace, when set (by tests only), is called with each query the
	// store or River runs on the pools, before it runs; BEGIN, COMMIT and
	// ROLLBACK are not traced. It must not use the connection.
	trace atomic.Pointer[func(query string, args []driver.NamedValue)]
}

func (c *stmtCounters) stats() StmtCacheStats {
	return StmtCacheStats{Hits: c.hits.Load(), Prepared: c.prepared.Load(),
		Evicted: c.evicted.Load(), Uncached: c.uncached.Load()}
}

// StmtCacheStats returns the counters of the prepared-statement cache of
// both SQLite pools; zero on PostgreSQL, whose driver caches statements by
// itself.
func (d *DB) StmtCacheStats() StmtCacheStats {
	if d.stmts == nil {
		return StmtCacheStats{}
	}
	return d.stmts.stats()
}

// sqliteConn is what modernc.org/sqlite's connections implement and
// database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedStmt is what a connection's statements implement.
type cachedStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// stmtCacheConnector opens connections that keep their prepared
// statements.
type stmtCacheConnector struct {
	driver.Connector
	size     int
	counters *stmtCounters
	// beginRW is the BEGIN of a read-write transaction, as modernc words it
	// from the DSN's _txlock; "" when the DSN was not understood, and the
	// connections then leave transactions to modernc.
	beginRW string
	// tenants, when set (the writer pool), is the tenant cache that the
	// connections report their writes of tenants rows to.
	tenants *tenantCache
}

// newStmtCacheConnector returns a connector on modernc.org/sqlite's for dsn
// whose connections keep up to size statements each, counted in counters,
// and report their writes of tenants rows to tenants if it is not nil.
func newStmtCacheConnector(dsn string, size int, counters *stmtCounters, tenants *tenantCache) (*stmtCacheConnector, error) {
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	c := &stmtCacheConnector{Connector: connector, size: size, counters: counters, tenants: tenants}
	if mode, ok := dsnTxLock(dsn); ok {
		c.beginRW = "begin"
		if mode != "" {
			c.beginRW = "begin " + mode
		}
	}
	return c, nil
}

// dsnTxLock returns the _txlock parameter of dsn as modernc.org/sqlite
// reads it (newConn, applyQueryParams), and false if it reads it some other
// way or rejects it.
func dsnTxLock(dsn string) (string, bool) {
	var query string
	if pos := strings.IndexRune(dsn, '?'); pos >= 1 {
		query = dsn[pos+1:]
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", false
	}
	v := q.Get("_txlock")
	switch strings.ToLower(v) {
	case "", "deferred", "immediate", "exclusive":
		return v, true
	}
	return "", false
}

// Connect opens a connection of the wrapped connector with its cache.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: statement cache: %T lacks a driver interface", conn)
	}
	cc := &stmtCacheConn{sqliteConn: sc, size: c.size, counters: c.counters,
		byQuery: make(map[string]*list.Element), lru: list.New()}
	h, hooks := conn.(sqlite.HookRegisterer)
	if c.tenants != nil {
		cc.watch = &tenantWatch{cache: c.tenants}
		if !hooks {
			// Without the hooks the cache cannot be exact: a write that
			// never settles keeps it out of use.
			cc.watch.changed("tenants")
		}
	}
	if hooks {
		// The hooks run inside the statement that changes a row or ends a
		// transaction, on the goroutine that holds the connection. The
		// connection's Close unregisters them.
		cc.beginRW = c.beginRW
		h.RegisterRollbackHook(func() {
			cc.rollbacks++
			if cc.watch != nil {
				cc.watch.ended = true
			}
		})
		if cc.watch != nil {
			h.RegisterPreUpdateHook(func(d sqlite.SQLitePreUpdateData) { cc.watch.changed(d.TableName) })
			h.RegisterCommitHook(func() int32 { cc.watch.ended = true; return 0 })
		}
	}
	return cc, nil
}

// stmtCacheConn is a connection with its statements, most recently used
// first in lru.
type stmtCacheConn struct {
	sqliteConn
	size     int
	counters *stmtCounters
	byQuery  map[string]*list.Element // of *stmtEntry
	lru      *list.List

	// beginRW is the connector's; "" leaves transactions to modernc
	// (BeginTx).
	beginRW string
	// rollbacks counts the transactions SQLite rolled back on the
	// connection, explicitly or on an error (its rollback hook).
	rollbacks uint64
	// watch, on the writer pool's connections, reports writes of tenants
	// rows to the tenant cache (tenantcache.go); every statement settles
	// it as it returns.
	watch *tenantWatch
}

// settle tells the tenant cache, after a statement, whether it ended a
// transaction that wrote tenants.
func (c *stmtCacheConn) settle() {
	if c.watch != nil {
		c.watch.settle()
	}
}

type stmtEntry struct {
	query string
	stmt  cachedStmt
	// busy: rows of the statement are open. A statement steps one result
	// at a time, so the same query run again before they close (a query
	// nested in its own loop) runs uncached.
	busy bool
}

// statement returns the connection's statement for query, preparing it if
// needed, or nil when query must run uncached.
func (c *stmtCacheConn) statement(ctx context.Context, query string) (*stmtEntry, error) {
	if e, ok := c.byQuery[query]; ok {
		se := e.Value.(*stmtEntry)
		if se.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		c.counters.hits.Add(1)
		return se, nil
	}
	if len(query) > stmtCacheMaxQuery {
		return nil, nil
	}
	if c.lru.Len() >= c.size && !c.evict() {
		return nil, nil
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(cachedStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	se := &stmtEntry{query: query, stmt: st}
	c.byQuery[query] = c.lru.PushFront(se)
	c.counters.prepared.Add(1)
	return se, nil
}

// evict closes the least recently used statement that is not busy, and
// reports whether there was one.
func (c *stmtCacheConn) evict() bool {
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		se := e.Value.(*stmtEntry)
		if se.busy {
			continue
		}
		c.lru.Remove(e)
		delete(c.byQuery, se.query)
		se.stmt.Close()
		c.counters.evicted.Add(1)
		return true
	}
	return false
}

// ExecContext runs query on the connection's statement for it.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if trace := c.counters.trace.Load(); trace != nil {
		(*trace)(query, args)
	}
	return c.exec(ctx, query, args)
}

func (c *stmtCacheConn) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	defer c.settle()
	se, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if se == nil {
		c.counters.uncached.Add(1)
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return se.stmt.ExecContext(ctx, args)
}

// QueryContext runs query on the connection's statement for it; the
// statement is busy until the rows close.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if trace := c.counters.trace.Load(); trace != nil {
		(*trace)(query, args)
	}
	se, err := c.statement(ctx, query)
	if err != nil {
		c.settle()
		return nil, err
	}
	var rows driver.Rows
	if se == nil {
		c.counters.uncached.Add(1)
		rows, err = c.sqliteConn.QueryContext(ctx, query, args)
	} else {
		rows, err = se.stmt.QueryContext(ctx, args)
	}
	if err != nil {
		c.settle()
		return nil, err
	}
	if se != nil {
		se.busy = true
	}
	return &stmtRows{Rows: rows, entry: se, conn: c}, nil
}

// BeginTx starts a transaction as modernc.org/sqlite's conn.BeginTx does
// (newTx): a deferred BEGIN if opts.ReadOnly, else the BEGIN of the DSN's
// _txlock; opts.Isolation is ignored, as modernc ignores it. BEGIN, COMMIT
// and ROLLBACK run on the connection's statements.
//
// A BEGIN whose context ends as it runs fails with the context's error,
// and whatever it began is rolled back. (modernc reports such a BEGIN as a
// success if it took effect, and database/sql then rolls the transaction
// back at once as its context is done; either way the caller's
// transaction ends unused.)
func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.beginRW == "" {
		return c.sqliteConn.BeginTx(ctx, opts)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	begin := c.beginRW
	if opts.ReadOnly {
		begin = "begin"
	}
	if _, err := c.exec(ctx, begin, nil); err != nil {
		if isContextErr(ctx, err) {
			c.exec(context.Background(), "rollback", nil)
		}
		return nil, err
	}
	return &stmtCacheTx{c: c, ctx: ctx}, nil
}

// stmtCacheTx is a transaction of a stmtCacheConn. It keeps the semantics
// of modernc.org/sqlite's tx (tx.go), whose statements are prepared each
// time:
//
//   - Commit runs COMMIT under the context given to BeginTx, so a wait for a
//     lock (busy_timeout) ends once it is done, with its error.
//   - A COMMIT that fails and leaves the transaction open (SQLITE_BUSY, a
//     deferred foreign key, the context done before it ran) is rolled
//     back, and Commit returns the COMMIT's error: database/sql does not
//     call Rollback after a failed Commit and expects the connection out of
//     the transaction.
//   - A COMMIT that took effect succeeds even if the context ended as it
//     ran. modernc reports its statement's own result there; the cached
//     statement reports the context's error instead (stmt.exec), so Commit
//     tells the cases apart: the transaction neither open any more nor
//     rolled back by SQLite (its rollback hook) has committed.
//   - Rollback runs ROLLBACK without a context: database/sql rolls back
//     when the context is done, and it must run then.
//
// modernc's conn keeps no state of its own about transactions (its tx holds
// only the conn and the context), so starting them here leaves nothing
// behind in it.
type stmtCacheTx struct {
	c   *stmtCacheConn
	ctx context.Context
}

func (t *stmtCacheTx) Commit() error {
	c := t.c
	rollbacks := c.rollbacks
	_, err := c.exec(t.ctx, "commit", nil)
	if err == nil {
		return nil
	}
	if c.rollbacks != rollbacks {
		return err // SQLite rolled the transaction back (an I/O error, say)
	}
	_, rerr := c.exec(context.Background(), "rollback", nil)
	if rerr == nil {
		return err // it was still open
	}
	if isNoTransaction(rerr) && isContextErr(t.ctx, err) {
		// COMMIT ended the transaction and SQLite did not roll it back:
		// it committed, and the context ended as it ran.
		return nil
	}
	return err
}

func (t *stmtCacheTx) Rollback() error {
	_, err := t.c.exec(context.Background(), "rollback", nil)
	return err
}

// isContextErr reports whether err is the error of ctx, which is done.
func isContextErr(ctx context.Context, err error) bool {
	cerr := ctx.Err()
	return cerr != nil && errors.Is(err, cerr)
}

// isNoTransaction reports whether err is ROLLBACK's "cannot rollback - no
// transaction is active" (SQLITE_ERROR).
func isNoTransaction(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == 1
}

// Close closes the connection's statements, then the connection.
func (c *stmtCacheConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*stmtEntry).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
	err := c.sqliteConn.Close()
	if c.watch != nil {
		// Closing ends (rolls back) any transaction left open.
		c.watch.ended = true
		c.watch.settle()
	}
	return err
}

// stmtRows are the rows of a query on the connection: closing them (which
// resets a cached statement) makes its statement free again (entry, nil
// when the query ran uncached) and settles the connection's tenant watch.
// They pass on the column type information of the driver's rows.
type stmtRows struct {
	driver.Rows
	entry *stmtEntry
	conn  *stmtCacheConn
}

func (r *stmtRows) Close() error {
	err := r.Rows.Close()
	if r.entry != nil {
		r.entry.busy = false
		r.entry = nil
	}
	r.conn.settle()
	return err
}

func (r *stmtRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *stmtRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *stmtRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *stmtRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *stmtRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
