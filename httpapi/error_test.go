package httpapi

import (
	"testing"
	"time"
)

func TestSamplerLetsOnePerSecond(t *testing.T) {
	var l sampler
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at     time.Duration
		ok     bool
		before int
	}{
		{0, true, 0},
		{100 * time.Millisecond, false, 0},
		{900 * time.Millisecond, false, 0},
		{time.Second, true, 2},
		{1500 * time.Millisecond, false, 0},
		{3 * time.Second, true, 1},
	}
	for _, st := range steps {
		n, ok := l.allow(t0.Add(st.at))
		if ok != st.ok || n != st.before {
			t.Errorf("allow at %v = %d, %v; want %d, %v", st.at, n, ok, st.before, st.ok)
		}
	}
}
