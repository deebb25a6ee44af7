package clock_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/internal/poll"
)

var _ ecs.Clock = (*clock.Virtual)(nil)

// fakeWall is a wall clock the test moves by hand.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (w *fakeWall) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *fakeWall) add(d time.Duration) {
	w.mu.Lock()
	w.t = w.t.Add(d)
	w.mu.Unlock()
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestNowFollowsSpeedPauseAdvance(t *testing.T) {
	t.Parallel()
	w := &fakeWall{t: t0}
	c := clock.New(w.now)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want %v", got, t0)
	}
	w.add(time.Second)
	if got := c.Now(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("speed 1: Now = %v", got)
	}
	if err := c.SetSpeed(60); err != nil {
		t.Fatal(err)
	}
	w.add(time.Second)
	if got, want := c.Now(), t0.Add(61*time.Second); !got.Equal(want) {
		t.Fatalf("speed 60: Now = %v, want %v", got, want)
	}
	c.Pause()
	w.add(time.Hour)
	if got, want := c.Now(), t0.Add(61*time.Second); !got.Equal(want) {
		t.Fatalf("paused: Now = %v, want %v", got, want)
	}
	if err := c.Advance(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), t0.Add(661*time.Second); !got.Equal(want) {
		t.Fatalf("advanced while paused: Now = %v, want %v", got, want)
	}
	c.Resume()
	w.add(time.Second)
	if got, want := c.Now(), t0.Add(721*time.Second); !got.Equal(want) {
		t.Fatalf("resumed at speed 60: Now = %v, want %v", got, want)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	c := clock.New(nil)
	for _, f := range []float64{0, -1, clock.MaxSpeed * 2} {
		if err := c.SetSpeed(f); err == nil {
			t.Errorf("SetSpeed(%g) succeeded", f)
		}
	}
	if err := c.Advance(-time.Second); err == nil {
		t.Error("Advance(-1s) succeeded")
	}
	if err := c.Set(c.Now().Add(-time.Hour)); err == nil {
		t.Error("Set into the past succeeded")
	}
	if err := c.Restore(clock.State{}); err == nil {
		t.Error("Restore of a zero state succeeded")
	}
}

func TestSleepWakesOnAdvanceWhilePaused(t *testing.T) {
	t.Parallel()
	c := clock.New(nil)
	c.Pause()
	done := make(chan error, 1)
	go func() { done <- c.Sleep(context.Background(), time.Hour) }()
	waitWaiters(t, c, 1)
	// Not woken by a smaller step.
	if err := c.Advance(30 * time.Minute); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("Sleep returned %v after half its time", err)
	default:
	}
	if err := c.Advance(30 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}

func TestSleepAtHighSpeed(t *testing.T) {
	t.Parallel()
	c := clock.New(nil)
	if err := c.SetSpeed(1e5); err != nil {
		t.Fatal(err)
	}
	start := c.Now()
	// An hour of virtual time at x100000 is 36 ms of wall time.
	if err := c.Sleep(context.Background(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(start); got < time.Hour {
		t.Fatalf("woke after %v of virtual time", got)
	}
}

func TestSleepHonoursContext(t *testing.T) {
	t.Parallel()
	c := clock.New(nil)
	c.Pause()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, time.Second) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if err := c.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) on a done context = %v", err)
	}
}

func TestStateRoundTripAndHook(t *testing.T) {
	t.Parallel()
	w := &fakeWall{t: t0}
	c := clock.New(w.now)
	var got []clock.State
	c.OnChange(func(st clock.State) { got = append(got, st) })
	if err := c.SetSpeed(10); err != nil {
		t.Fatal(err)
	}
	w.add(time.Second)
	st := c.State()
	if len(got) != 1 || got[0].Speed != 10 {
		t.Fatalf("hook saw %+v", got)
	}
	d := clock.New(w.now)
	if err := d.Restore(st); err != nil {
		t.Fatal(err)
	}
	w.add(time.Second)
	if !d.Now().Equal(c.Now()) {
		t.Fatalf("restored clock %v, original %v", d.Now(), c.Now())
	}
}

// waitWaiters waits until n goroutines sleep on c.
func waitWaiters(t *testing.T, c *clock.Virtual, n int) {
	t.Helper()
	if !poll.Until(5*time.Second, func() bool { return c.Waiters() == n }) {
		t.Fatalf("%d sleepers, want %d", c.Waiters(), n)
	}
}

// TestRestoreAt: a state read elsewhere is put in force only if the clock
// has not changed since its version was taken.
func TestRestoreAt(t *testing.T) {
	w := &fakeWall{t: t0}
	c := clock.New(w.now)
	other := clock.State{Anchor: t0, Virtual: t0.Add(time.Hour), Speed: 2}

	v := c.Version()
	c.Pause() // a change made here after the read
	if ok, err := c.RestoreAt(v, other); ok || err != nil {
		t.Fatalf("RestoreAt over a later change = %v, %v; want false, nil", ok, err)
	}
	if st := c.State(); !st.Paused || st.Speed != 1 {
		t.Errorf("the later change was undone: %+v", st)
	}

	v = c.Version()
	if ok, err := c.RestoreAt(v, other); !ok || err != nil {
		t.Fatalf("RestoreAt with no change since = %v, %v; want true, nil", ok, err)
	}
	if st := c.State(); st.Paused || st.Speed != 2 || !c.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("state after RestoreAt: %+v, now %v", st, c.Now())
	}
	if _, err := c.RestoreAt(c.Version(), clock.State{}); err == nil {
		t.Error("RestoreAt of an invalid state: no error")
	}
}
