// Package poll waits in tests for conditions that only polling can see
// (another process's state, a job run by a worker, a goroutine parked on
// a clock): the one poll loop that ecsd's tests share.
package poll

import (
	"testing"
	"time"
)

// maxInterval bounds the pause between two looks at a condition; the
// pauses start at a millisecond and double up to it.
const maxInterval = 10 * time.Millisecond

// Until calls cond until it reports true, for at most timeout, and
// reports whether it did.
func Until(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	pause := time.Millisecond
	for !cond() {
		next := time.NewTimer(pause)
		select {
		case <-deadline.C:
			next.Stop()
			return cond()
		case <-next.C:
		}
		pause = min(2*pause, maxInterval)
	}
	return true
}

// For is Until that fails tb, naming what it waited for, when timeout
// passes first.
func For(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Until(timeout, cond) {
		tb.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}
