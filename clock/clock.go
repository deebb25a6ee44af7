// Package clock is ecsd's controllable clock: a virtual time that follows
// the wall clock at a speed factor, can be paused, and can be advanced or
// set, so that tests can run a realistic resize in milliseconds or stop time
// in the middle of a job. Everything in ecsd that reads time or waits (job
// phases, begin_time and end_time, server timestamps) goes through it.
package clock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MaxSpeed bounds the speed factor.
const MaxSpeed = 1e6

// State is a clock's persistable state: at wall time Anchor the virtual time
// was Virtual, and it moves at Speed virtual seconds per wall second unless
// Paused.
type State struct {
	Anchor  time.Time `json:"anchor"`
	Virtual time.Time `json:"virtual"`
	Speed   float64   `json:"speed"`
	Paused  bool      `json:"paused"`
}

// Virtual is a controllable clock. It implements ecs.Clock. The zero value
// is not usable; call New. It is safe for concurrent use.
type Virtual struct {
	wall func() time.Time

	mu      sync.Mutex
	st      State
	changed chan struct{} // closed and replaced on every change
	onSet   func(State)   // persistence hook, called under no lock
	waiters int           // goroutines in Sleep
	version uint64        // changes so far
}

// New returns a clock that starts equal to the wall clock at speed 1.
// wall may be nil for time.Now.
func New(wall func() time.Time) *Virtual {
	if wall == nil {
		wall = time.Now
	}
	now := wall().UTC()
	return &Virtual{wall: wall, st: State{Anchor: now, Virtual: now, Speed: 1}, changed: make(chan struct{})}
}

// OnChange registers fn to be called with the new state after every change
// (Set, SetSpeed, Pause, Resume, Advance, Restore), for persistence.
func (c *Virtual) OnChange(fn func(State)) {
	c.mu.Lock()
	c.onSet = fn
	c.mu.Unlock()
}

// Now returns the virtual time.
func (c *Virtual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Virtual) nowLocked() time.Time {
	if c.st.Paused {
		return c.st.Virtual
	}
	elapsed := c.wall().Sub(c.st.Anchor)
	return c.st.Virtual.Add(time.Duration(float64(elapsed) * c.st.Speed)).UTC()
}

// State returns the clock's current state, re-anchored at the present.
func (c *Virtual) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return State{Anchor: c.wall().UTC(), Virtual: c.nowLocked(), Speed: c.st.Speed, Paused: c.st.Paused}
}

// change applies fn to a state re-anchored at the present, wakes sleepers
// and reports the new state.
func (c *Virtual) change(fn func(st *State) error) error {
	c.mu.Lock()
	st := State{Anchor: c.wall().UTC(), Virtual: c.nowLocked(), Speed: c.st.Speed, Paused: c.st.Paused}
	if err := fn(&st); err != nil {
		c.mu.Unlock()
		return err
	}
	c.st = st
	c.version++
	close(c.changed)
	c.changed = make(chan struct{})
	hook := c.onSet
	c.mu.Unlock()
	if hook != nil {
		hook(st)
	}
	return nil
}

// Waiters returns how many goroutines are sleeping on the clock (for
// example jobs waiting out a phase).
func (c *Virtual) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiters
}

// SetSpeed sets the speed factor: 60 makes a minute of virtual time pass in
// a second. It must be positive and at most MaxSpeed.
func (c *Virtual) SetSpeed(f float64) error {
	if !(f > 0 && f <= MaxSpeed) {
		return fmt.Errorf("clock: speed must be greater than 0 and at most %g, got %g", MaxSpeed, f)
	}
	return c.change(func(st *State) error { st.Speed = f; return nil })
}

// Pause stops virtual time; sleepers wait until it resumes or advances.
func (c *Virtual) Pause() { _ = c.change(func(st *State) error { st.Paused = true; return nil }) }

// Resume lets a paused clock run again from where it stopped.
func (c *Virtual) Resume() { _ = c.change(func(st *State) error { st.Paused = false; return nil }) }

// Advance moves virtual time forward by d (not backwards), waking every
// sleeper whose time has come.
func (c *Virtual) Advance(d time.Duration) error {
	if d < 0 {
		return errors.New("clock: cannot advance by a negative duration")
	}
	return c.change(func(st *State) error { st.Virtual = st.Virtual.Add(d); return nil })
}

// Set moves virtual time to t, which may not be before the current virtual
// time: jobs and timestamps never go backwards.
func (c *Virtual) Set(t time.Time) error {
	return c.change(func(st *State) error {
		if t.Before(st.Virtual) {
			return fmt.Errorf("clock: cannot go back from %s to %s", st.Virtual.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
		}
		st.Virtual = t.UTC()
		return nil
	})
}

// Restore replaces the state (after a restart or an import).
func (c *Virtual) Restore(st State) error {
	if !(st.Speed > 0 && st.Speed <= MaxSpeed) || st.Anchor.IsZero() || st.Virtual.IsZero() {
		return fmt.Errorf("clock: invalid state %+v", st)
	}
	return c.change(func(cur *State) error { *cur = st; return nil })
}

// errChanged stops a RestoreAt whose clock changed since its version.
var errChanged = errors.New("clock: changed since")

// Version counts the changes of the clock so far (see RestoreAt).
func (c *Virtual) Version() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// RestoreAt is Restore unless the clock changed since Version returned
// version; it reports whether it restored. A state read from elsewhere
// (another node's, through the store) must not undo a change made here
// after it was read.
func (c *Virtual) RestoreAt(version uint64, st State) (bool, error) {
	if !(st.Speed > 0 && st.Speed <= MaxSpeed) || st.Anchor.IsZero() || st.Virtual.IsZero() {
		return false, fmt.Errorf("clock: invalid state %+v", st)
	}
	err := c.change(func(cur *State) error {
		if c.version != version {
			return errChanged
		}
		*cur = st
		return nil
	})
	if errors.Is(err, errChanged) {
		return false, nil
	}
	return err == nil, err
}

// Sleep waits until d of virtual time has passed, or ctx is done (then it
// returns ctx.Err()). A paused clock never wakes a sleeper until it resumes
// or is advanced.
func (c *Virtual) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	target := c.nowLocked().Add(d)
	c.waiters++
	c.mu.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		c.mu.Lock()
		c.waiters--
		c.mu.Unlock()
	}()
	for {
		c.mu.Lock()
		now, changed, st := c.nowLocked(), c.changed, c.st
		c.mu.Unlock()
		if !now.Before(target) {
			return nil
		}
		var fire <-chan time.Time
		if !st.Paused {
			wait := time.Duration(float64(target.Sub(now)) / st.Speed)
			if wait < time.Microsecond {
				wait = time.Microsecond
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-fire:
		}
	}
}
