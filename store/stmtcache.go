package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"sync/atomic"
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
	return &stmtCacheConn{sqliteConn: sc, size: c.size, counters: c.counters,
		byQuery: make(map[string]*list.Element), lru: list.New()}, nil
}

// stmtCacheConn is a connection with its statements, most recently used
// first in lru.
type stmtCacheConn struct {
	sqliteConn
	size     int
	counters *stmtCounters
	byQuery  map[string]*list.Element // of *stmtEntry
	lru      *list.List
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
	se, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if se == nil {
		c.counters.uncached.Add(1)
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := se.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	se.busy = true
	return &stmtRows{Rows: rows, entry: se}, nil
}

// Close closes the connection's statements, then the connection.
func (c *stmtCacheConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*stmtEntry).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
	return c.sqliteConn.Close()
}

// stmtRows are the rows of a cached statement: closing them (which resets
// the statement) makes it free again. They pass on the column type
// information of the driver's rows.
type stmtRows struct {
	driver.Rows
	entry *stmtEntry
}

func (r *stmtRows) Close() error {
	err := r.Rows.Close()
	if r.entry != nil {
		r.entry.busy = false
		r.entry = nil
	}
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
