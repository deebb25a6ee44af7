package compute

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"sync"
)

// Group commit.
//
// ecsd's read-write transactions run one at a time (SQLite's single
// writer; the writer lock on PostgreSQL), and a transaction's fixed costs
// (BEGIN, the locks, COMMIT writing its pages) are most of what a small
// request's write costs. So concurrent requests share transactions: the
// first caller that finds no transaction running leads; it takes every
// request waiting (its own first), runs them one after another in one
// transaction, each within a savepoint, and commits once. A request whose
// work fails is rolled back to its savepoint and gets its error; the
// others are not affected. Every request's work is therefore still
// all-or-nothing and runs alone (one at a time, seeing all the work
// before it); only the commit is shared, and a caller returns only after
// the commit of its work, with the commit's error if it failed. When the
// batch is done, the leader hands the lead to the first request that
// arrived meanwhile, so that no caller leads for longer than its own
// batch.
//
// A request's work runs with its context's values but without its
// cancellation (context.WithoutCancel): a client that goes away while its
// work runs must not interrupt the statements of a transaction that others
// share. A request whose context is done before its work starts is not
// run.

// maxGroup bounds the requests of one transaction.
const maxGroup = 64

// groupsMu guards the making of Services' groups.
var groupsMu sync.Mutex

// groupOf returns the group of s, made on first use.
func (s *Service) groupOf() *groupCommit {
	groupsMu.Lock()
	defer groupsMu.Unlock()
	if s.group == nil {
		s.group = new(groupCommit)
	}
	return s.group
}

// groupCommit is the queue of requests waiting for a transaction. The zero
// value is ready.
type groupCommit struct {
	mu      sync.Mutex
	waiting []*groupRequest
	leading bool // a caller is running a batch
}

type groupRequest struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *sql.Tx) error
	// out receives the lead (err nil, lead true) or the request's outcome.
	out chan groupOutcome
}

type groupOutcome struct {
	err  error
	lead bool
}

// do runs fn as one request of a shared transaction of s and returns when
// its work has been committed or rolled back.
func (g *groupCommit) do(ctx context.Context, s *Service, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &groupRequest{ctx: ctx, fn: fn, out: make(chan groupOutcome, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, r)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	for !lead {
		o := <-r.out
		if !o.lead {
			return o.err
		}
		lead = true
	}
	g.mu.Lock()
	n := min(len(g.waiting), maxGroup)
	batch := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	g.mu.Unlock()

	g.run(s, batch)

	g.mu.Lock()
	if len(g.waiting) > 0 {
		g.waiting[0].out <- groupOutcome{lead: true}
	} else {
		g.leading = false
		g.waiting = nil
	}
	g.mu.Unlock()
	o := <-r.out
	return o.err
}

// run runs a batch in one transaction and tells each request its outcome.
func (g *groupCommit) run(s *Service, batch []*groupRequest) {
	if len(batch) == 1 {
		r := batch[0]
		r.out <- groupOutcome{err: s.inOwnTx(context.WithoutCancel(r.ctx), r.safeFn(s))}
		return
	}
	errs := make([]error, len(batch))
	done := func(err error) {
		for i, r := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
			r.out <- groupOutcome{err: errs[i]}
		}
	}
	ctx := context.WithoutCancel(batch[0].ctx)
	tx, err := s.Store.BeginTx(ctx)
	if err != nil {
		done(fmt.Errorf("begin: %w", err))
		return
	}
	defer tx.Rollback()
	obs, _ := s.Queue.(TxObserver)
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		rctx := context.WithoutCancel(r.ctx)
		if err := s.Store.Savepoint(rctx, tx); err != nil {
			g.abort(obs, tx, done, err)
			return
		}
		if errs[i] = r.safeFn(s)(rctx, tx); errs[i] == nil {
			err = s.Store.ReleaseSavepoint(rctx, tx)
		} else {
			err = s.Store.RollbackToSavepoint(rctx, tx)
		}
		if err != nil {
			// The transaction is broken: nothing of the batch commits.
			g.abort(obs, tx, done, err)
			return
		}
	}
	err = tx.Commit()
	if obs != nil {
		obs.TxDone(tx, err == nil)
	}
	if err != nil {
		err = fmt.Errorf("commit: %w", err)
	}
	done(err)
}

// safeFn is the request's work with a panic turned into its error (and
// logged with its stack): the work may run on another caller's goroutine,
// whose group must go on.
func (r *groupRequest) safeFn(s *Service) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if s.Logger != nil {
					s.Logger.Error("panic in a transaction's work", "panic", p, "stack", string(debug.Stack()))
				}
				err = fmt.Errorf("compute: panic in a transaction's work: %v", p)
			}
		}()
		return r.fn(ctx, tx)
	}
}

// abort ends a batch whose transaction cannot go on: every request that
// has no error of its own gets err.
func (g *groupCommit) abort(obs TxObserver, tx *sql.Tx, done func(error), err error) {
	_ = tx.Rollback()
	if obs != nil {
		obs.TxDone(tx, false)
	}
	done(fmt.Errorf("shared transaction: %w", err))
}
