package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsd-dev/ecsd/internal/poll"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// gatedStore holds the first BeginTx until release is closed, and counts
// the transactions begun.
type gatedStore struct {
	Store
	release chan struct{}
	begun   atomic.Int64
}

func (g *gatedStore) BeginTx(ctx context.Context) (*sql.Tx, error) {
	if g.begun.Add(1) == 1 {
		<-g.release
	}
	return g.Store.BeginTx(ctx)
}

// put is a request's work: it writes the setting key, then fails with
// fail (nil: succeeds).
func put(key string, fail error) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, 'x')`, key); err != nil {
			return err
		}
		return fail
	}
}

func settingExists(t *testing.T, db interface {
	Setting(context.Context, string) (string, error)
}, key string) bool {
	t.Helper()
	v, err := db.Setting(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return v != ""
}

// waitQueued waits until n requests wait for the group's next transaction.
func waitQueued(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	poll.For(t, 10*time.Second, fmt.Sprintf("%d queued requests", n), func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.waiting) == n
	})
}

// waitLeading waits until the first request leads and waits for its
// transaction (held by gs).
func waitLeading(t *testing.T, gs *gatedStore) {
	t.Helper()
	poll.For(t, 10*time.Second, "the first transaction", func() bool { return gs.begun.Load() > 0 })
}

// TestGroupCommit: requests that arrive while a transaction runs share the
// next one; each one's work is kept or undone on its own.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	gs := &gatedStore{Store: db, release: make(chan struct{})}
	s := &Service{Store: gs}
	ctx := t.Context()

	errRefused := errors.New("refused")
	cancelled, cancel := context.WithCancel(ctx)
	type req struct {
		key  string
		ctx  context.Context
		fail error
		want error
	}
	reqs := []req{
		{key: "first", ctx: ctx}, // leads, alone
		{key: "a", ctx: ctx},     // shares the second transaction
		{key: "b", ctx: ctx, fail: errRefused, want: errRefused}, // undone alone
		{key: "c", ctx: ctx}, // kept
		{key: "d", ctx: cancelled, want: context.Canceled}, // its client left: not run
		{key: "e", ctx: ctx, fail: errRefused, want: errRefused},
		{key: "f", ctx: ctx},
	}
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { errs[i] = s.inTx(r.ctx, put(r.key, r.fail)) })
		if i == 0 {
			// The first request leads and waits for its transaction;
			// the others queue behind it, in order.
			waitLeading(t, gs)
		} else {
			waitQueued(t, s.group, i)
		}
	}
	cancel()
	close(gs.release)
	wg.Wait()

	if n := gs.begun.Load(); n != 2 {
		t.Errorf("%d transactions for %d requests, want 2 (the first alone, then the rest together)", n, len(reqs))
	}
	for i, r := range reqs {
		if !errors.Is(errs[i], r.want) || (r.want == nil && errs[i] != nil) {
			t.Errorf("request %s: err %v, want %v", r.key, errs[i], r.want)
		}
		if got, want := settingExists(t, db, r.key), r.want == nil; got != want {
			t.Errorf("request %s: written %v, want %v", r.key, got, want)
		}
	}
}

// TestGroupCommitBrokenTransaction: when a request's work breaks the
// shared transaction (here it ends it), nothing of the batch commits and
// every request of the batch gets an error.
func TestGroupCommitBrokenTransaction(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	gs := &gatedStore{Store: db, release: make(chan struct{})}
	s := &Service{Store: gs}
	ctx := t.Context()

	errs := make([]error, 4)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = s.inTx(ctx, put("leader", nil)) })
	waitLeading(t, gs)
	wg.Go(func() { errs[1] = s.inTx(ctx, put("before", nil)) })
	waitQueued(t, s.group, 1)
	wg.Go(func() {
		errs[2] = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return errors.New("broke it")
		})
	})
	waitQueued(t, s.group, 2)
	wg.Go(func() { errs[3] = s.inTx(ctx, put("after", nil)) })
	waitQueued(t, s.group, 3)
	close(gs.release)
	wg.Wait()

	if errs[0] != nil || !settingExists(t, db, "leader") {
		t.Errorf("the first transaction: err %v", errs[0])
	}
	for i, key := range []string{"", "before", "", "after"} {
		if i == 0 {
			continue
		}
		if errs[i] == nil {
			t.Errorf("request %d of the broken batch: no error", i)
		}
		if key != "" && settingExists(t, db, key) {
			t.Errorf("request %s of the broken batch was committed", key)
		}
	}
	// The group goes on.
	if err := s.inTx(ctx, put("later", nil)); err != nil || !settingExists(t, db, "later") {
		t.Errorf("a request after the broken batch: %v", err)
	}
}

// TestGroupCommitConcurrent: many writers at once, some refused; exactly
// the work of those that succeeded is there, and each request's work was
// all-or-nothing (its two rows together or neither).
func TestGroupCommitConcurrent(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	s := &Service{Store: db}
	ctx := t.Context()
	const writers, each = 16, 25
	var ok sync.Map
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				fail := rand.IntN(3) == 0
				err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
					if err := put(key, nil)(ctx, tx); err != nil {
						return err
					}
					if err := put(key+"-2", nil)(ctx, tx); err != nil {
						return err
					}
					if fail {
						return errors.New("refused")
					}
					return nil
				})
				if (err == nil) == fail {
					t.Errorf("%s: err %v, want failure %v", key, err, fail)
				}
				if err == nil {
					ok.Store(key, true)
				}
			}
		})
	}
	wg.Wait()
	for w := range writers {
		for i := range each {
			key := fmt.Sprintf("w%d-%d", w, i)
			_, want := ok.Load(key)
			if a, b := settingExists(t, db, key), settingExists(t, db, key+"-2"); a != want || b != want {
				t.Errorf("%s: rows %v %v, want %v", key, a, b, want)
			}
		}
	}
}

// TestGroupCommitPanic: work that panics fails its own request only; the
// others of its transaction commit and the group goes on.
func TestGroupCommitPanic(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	gs := &gatedStore{Store: db, release: make(chan struct{})}
	s := &Service{Store: gs}
	ctx := t.Context()

	errs := make([]error, 3)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = s.inTx(ctx, put("p-leader", nil)) })
	waitLeading(t, gs)
	wg.Go(func() {
		errs[1] = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if err := put("p-panics", nil)(ctx, tx); err != nil {
				return err
			}
			panic("boom")
		})
	})
	waitQueued(t, s.group, 1)
	wg.Go(func() { errs[2] = s.inTx(ctx, put("p-after", nil)) })
	waitQueued(t, s.group, 2)
	close(gs.release)
	wg.Wait()

	if errs[0] != nil || errs[2] != nil {
		t.Errorf("the other requests: %v, %v; want nil", errs[0], errs[2])
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "boom") {
		t.Errorf("the panicking request: %v, want its panic as an error", errs[1])
	}
	for key, want := range map[string]bool{"p-leader": true, "p-panics": false, "p-after": true} {
		if got := settingExists(t, db, key); got != want {
			t.Errorf("%s written %v, want %v", key, got, want)
		}
	}
	if err := s.inTx(ctx, put("p-later", nil)); err != nil {
		t.Errorf("a request after the panic: %v", err)
	}
}
