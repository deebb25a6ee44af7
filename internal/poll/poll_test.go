package poll_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecsd-dev/ecsd/internal/poll"
)

func TestUntil(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	if !poll.Until(10*time.Second, func() bool { return n.Add(1) >= 5 }) {
		t.Fatal("Until gave up on a condition that came true")
	}
	if n.Load() != 5 {
		t.Errorf("cond called %d times, want 5 (until it held)", n.Load())
	}
	if poll.Until(20*time.Millisecond, func() bool { return false }) {
		t.Error("Until reported a condition that never held")
	}
}
