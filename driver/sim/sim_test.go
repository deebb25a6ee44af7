package sim_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/drivertest"
	"github.com/ecsd-dev/ecsd/driver/sim"
)

var _ driver.Driver = (*sim.Driver)(nil)

var (
	small = driver.Shape{FlavorID: "s6.small.1", VCPUs: 1, RAMMB: 1024}
	large = driver.Shape{FlavorID: "s6.large.2", VCPUs: 2, RAMMB: 4096}
)

func TestDriver(t *testing.T) {
	t.Parallel()
	drivertest.Run(t, func(t *testing.T) driver.Driver { return sim.New(sim.Options{}) })
}

// TestDriverWithLatency runs the suite with a latency spent by a Sleep that
// returns at once, so that the latency path (including its ctx checks) is
// covered without real waiting.
func TestDriverWithLatency(t *testing.T) {
	t.Parallel()
	drivertest.Run(t, func(t *testing.T) driver.Driver {
		return sim.New(sim.Options{Latency: time.Minute, Sleep: func(ctx context.Context, _ time.Duration) error {
			return ctx.Err()
		}})
	})
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Options{})
	if got := d.Name(); got != "sim" {
		t.Errorf("Name() = %q, want %q", got, "sim")
	}
	want := driver.Capabilities{ColdResize: true, Persistent: false, Immediate: true}
	if got := d.Capabilities(); got != want {
		t.Errorf("Capabilities() = %+v, want %+v", got, want)
	}
	slow := sim.New(sim.Options{Latency: time.Millisecond})
	want.Immediate = false
	if got := slow.Capabilities(); got != want {
		t.Errorf("with latency: Capabilities() = %+v, want %+v", got, want)
	}
}

// testBundle is a sim driver with two instances: "i-run" (running) and
// "i-stop" (stopped), both of the small shape.
type testBundle struct {
	d *sim.Driver
}

func setup(t *testing.T, opts sim.Options) *testBundle {
	t.Helper()
	d := sim.New(opts)
	mustCreate(t, d, "i-run", true)
	mustCreate(t, d, "i-stop", false)
	return &testBundle{d: d}
}

func mustCreate(tb testing.TB, d *sim.Driver, id string, running bool) {
	tb.Helper()
	if err := d.Create(tb.Context(), driver.Instance{ID: id, Shape: small, Running: running}); err != nil {
		tb.Fatalf("Create %s: %v", id, err)
	}
}

func requireState(tb testing.TB, d *sim.Driver, id string, want driver.State) {
	tb.Helper()
	got, err := d.Inspect(tb.Context(), id)
	if err != nil {
		tb.Fatalf("Inspect %s: %v", id, err)
	}
	if got != want {
		tb.Fatalf("Inspect %s = %+v, want %+v", id, got, want)
	}
}

func requireFaults(tb testing.TB, d *sim.Driver, want ...sim.Fault) {
	tb.Helper()
	got := d.Faults()
	if !slices.EqualFunc(got, want, func(a, b sim.Fault) bool {
		return a.Op == b.Op && a.InstanceID == b.InstanceID && a.Times == b.Times && errors.Is(a.Err, b.Err)
	}) {
		tb.Fatalf("Faults() = %+v, want %+v", got, want)
	}
}

var (
	running = driver.State{Power: driver.PowerRunning, Shape: small}
	stopped = driver.State{Power: driver.PowerStopped, Shape: small}
)

// TestFaultLeavesStateUntouched injects a fault for each operation and checks
// that the operation fails with it, changes nothing, and succeeds once the
// fault is used up.
func TestFaultLeavesStateUntouched(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op     string
		id     string
		call   func(ctx context.Context, d *sim.Driver, id string) error
		before driver.State // state of id before and after the failed call; zero = absent
		after  driver.State // state of id after the successful retry; zero = absent
	}{
		{
			op: sim.OpCreate, id: "i-new",
			call: func(ctx context.Context, d *sim.Driver, id string) error {
				return d.Create(ctx, driver.Instance{ID: id, Shape: small, Running: true})
			},
			after: running,
		},
		{
			op: sim.OpStart, id: "i-stop",
			call:   func(ctx context.Context, d *sim.Driver, id string) error { return d.Start(ctx, id) },
			before: stopped, after: running,
		},
		{
			op: sim.OpStop, id: "i-run",
			call:   func(ctx context.Context, d *sim.Driver, id string) error { return d.Stop(ctx, id, true) },
			before: running, after: stopped,
		},
		{
			op: sim.OpReboot, id: "i-run",
			call:   func(ctx context.Context, d *sim.Driver, id string) error { return d.Reboot(ctx, id, false) },
			before: running, after: running,
		},
		{
			op: sim.OpResize, id: "i-stop",
			call:   func(ctx context.Context, d *sim.Driver, id string) error { return d.Resize(ctx, id, large) },
			before: stopped, after: driver.State{Power: driver.PowerStopped, Shape: large},
		},
		{
			op: sim.OpDelete, id: "i-run",
			call:   func(ctx context.Context, d *sim.Driver, id string) error { return d.Delete(ctx, id) },
			before: running,
		},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sim.Options{})
			ctx := t.Context()
			errBoom := errors.New("boom")
			b.d.InjectFault(sim.Fault{Op: tt.op, Err: errBoom})
			requireFaults(t, b.d, sim.Fault{Op: tt.op, Err: errBoom, Times: 1})

			if err := tt.call(ctx, b.d, tt.id); !errors.Is(err, errBoom) {
				t.Fatalf("%s with a fault: got %v, want %v", tt.op, err, errBoom)
			}
			requireFaults(t, b.d)
			requireStateOrAbsent(t, b.d, tt.id, tt.before)
			// The other instances are untouched too.
			if tt.id != "i-run" {
				requireState(t, b.d, "i-run", running)
			}
			if tt.id != "i-stop" {
				requireState(t, b.d, "i-stop", stopped)
			}

			if err := tt.call(ctx, b.d, tt.id); err != nil {
				t.Fatalf("%s after the fault fired: %v", tt.op, err)
			}
			requireStateOrAbsent(t, b.d, tt.id, tt.after)
		})
	}
}

func requireStateOrAbsent(tb testing.TB, d *sim.Driver, id string, want driver.State) {
	tb.Helper()
	if want != (driver.State{}) {
		requireState(tb, d, id, want)
		return
	}
	if _, err := d.Inspect(tb.Context(), id); !errors.Is(err, driver.ErrNotFound) {
		tb.Fatalf("Inspect %s: got %v, want ErrNotFound", id, err)
	}
}

func TestFaultFiresOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	ctx := t.Context()
	b.d.InjectFault(sim.Fault{Op: sim.OpReboot})

	if err := b.d.Reboot(ctx, "i-run", false); !errors.Is(err, sim.ErrInjected) {
		t.Fatalf("first Reboot: got %v, want sim.ErrInjected", err)
	}
	for i := range 3 {
		if err := b.d.Reboot(ctx, "i-run", false); err != nil {
			t.Fatalf("Reboot %d after the fault fired: %v", i+2, err)
		}
	}
	requireFaults(t, b.d)
}

func TestFaultTimes(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	ctx := t.Context()
	errBoom := errors.New("boom")
	b.d.InjectFault(sim.Fault{Op: sim.OpStart, Err: errBoom, Times: 3})

	for i := range 3 {
		requireFaults(t, b.d, sim.Fault{Op: sim.OpStart, Err: errBoom, Times: 3 - i})
		if err := b.d.Start(ctx, "i-stop"); !errors.Is(err, errBoom) {
			t.Fatalf("Start %d: got %v, want %v", i+1, err, errBoom)
		}
		requireState(t, b.d, "i-stop", stopped)
	}
	requireFaults(t, b.d)
	if err := b.d.Start(ctx, "i-stop"); err != nil {
		t.Fatalf("Start after the fault was used up: %v", err)
	}
	requireState(t, b.d, "i-stop", running)
}

func TestFaultForOneInstance(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	ctx := t.Context()
	mustCreate(t, b.d, "i-other", true)
	b.d.InjectFault(sim.Fault{Op: sim.OpStop, InstanceID: "i-run"})

	// Other instances and other operations on the target pass through.
	if err := b.d.Stop(ctx, "i-other", false); err != nil {
		t.Fatalf("Stop of another instance: %v", err)
	}
	if err := b.d.Reboot(ctx, "i-run", false); err != nil {
		t.Fatalf("Reboot of the targeted instance: %v", err)
	}
	requireFaults(t, b.d, sim.Fault{Op: sim.OpStop, InstanceID: "i-run", Times: 1, Err: nil})

	if err := b.d.Stop(ctx, "i-run", false); !errors.Is(err, sim.ErrInjected) {
		t.Fatalf("Stop of the targeted instance: got %v, want sim.ErrInjected", err)
	}
	requireState(t, b.d, "i-run", running)
	requireFaults(t, b.d)
}

// TestFaultOnUnknownInstance checks that a fault fires before the driver
// looks the instance up, so that a create can fail for a chosen ID.
func TestFaultOnUnknownInstance(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Options{})
	ctx := t.Context()
	d.InjectFault(sim.Fault{Op: sim.OpCreate, InstanceID: "i-doomed"})
	d.InjectFault(sim.Fault{Op: sim.OpDelete, InstanceID: "i-ghost"})

	mustCreate(t, d, "i-fine", false)
	if err := d.Create(ctx, driver.Instance{ID: "i-doomed", Shape: small}); !errors.Is(err, sim.ErrInjected) {
		t.Fatalf("Create i-doomed: got %v, want sim.ErrInjected", err)
	}
	if err := d.Delete(ctx, "i-ghost"); !errors.Is(err, sim.ErrInjected) {
		t.Fatalf("Delete i-ghost: got %v, want sim.ErrInjected", err)
	}
	if _, err := d.Inspect(ctx, "i-doomed"); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Inspect i-doomed: got %v, want ErrNotFound", err)
	}
}

func TestFaultOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	ctx := t.Context()
	errFirst, errSecond := errors.New("first"), errors.New("second")
	b.d.InjectFault(sim.Fault{Op: sim.OpResize, Err: errFirst})
	b.d.InjectFault(sim.Fault{Op: sim.OpResize, InstanceID: "i-stop", Err: errSecond})

	if err := b.d.Resize(ctx, "i-stop", large); !errors.Is(err, errFirst) {
		t.Fatalf("first Resize: got %v, want %v", err, errFirst)
	}
	if err := b.d.Resize(ctx, "i-stop", large); !errors.Is(err, errSecond) {
		t.Fatalf("second Resize: got %v, want %v", err, errSecond)
	}
	if err := b.d.Resize(ctx, "i-stop", large); err != nil {
		t.Fatalf("third Resize: %v", err)
	}
}

func TestClearFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	b.d.InjectFault(sim.Fault{Op: sim.OpStart})
	b.d.InjectFault(sim.Fault{Op: sim.OpStop, Times: 5})
	b.d.ClearFaults()
	requireFaults(t, b.d)
	if err := b.d.Start(t.Context(), "i-stop"); err != nil {
		t.Fatalf("Start after ClearFaults: %v", err)
	}
}

func TestFaultsReturnsACopy(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Options{})
	d.InjectFault(sim.Fault{Op: sim.OpStart, Times: 2})
	d.Faults()[0].Times = 99
	requireFaults(t, d, sim.Fault{Op: sim.OpStart, Times: 2})
}

func TestFaultValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op      string
		wantErr bool
	}{
		{sim.OpCreate, false},
		{sim.OpStart, false},
		{sim.OpStop, false},
		{sim.OpReboot, false},
		{sim.OpResize, false},
		{sim.OpDelete, false},
		{"", true},
		{"inspect", true},
		{"Resize", true},
	}
	for _, tt := range tests {
		err := sim.Fault{Op: tt.op}.Validate()
		if (err != nil) != tt.wantErr {
			t.Errorf("Fault{Op: %q}.Validate() = %v, want error: %v", tt.op, err, tt.wantErr)
		}
	}
}

// sleepRecorder is an Options.Sleep that records its calls and returns err.
type sleepRecorder struct {
	mu    sync.Mutex
	calls []time.Duration
	err   error
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, d)
	if r.err != nil {
		return r.err
	}
	return ctx.Err()
}

func (r *sleepRecorder) Calls() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const latency = 1500 * time.Millisecond
	rec := &sleepRecorder{}
	d := sim.New(sim.Options{Latency: latency, Sleep: rec.sleep})
	ctx := t.Context()

	ops := []struct {
		name string
		call func() error
	}{
		{"create", func() error { return d.Create(ctx, driver.Instance{ID: "i-1", Shape: small}) }},
		{"start", func() error { return d.Start(ctx, "i-1") }},
		{"reboot", func() error { return d.Reboot(ctx, "i-1", true) }},
		{"stop", func() error { return d.Stop(ctx, "i-1", false) }},
		{"resize", func() error { return d.Resize(ctx, "i-1", large) }},
		{"delete", func() error { return d.Delete(ctx, "i-1") }},
	}
	for i, op := range ops {
		if err := op.call(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if got, want := rec.Calls(), slices.Repeat([]time.Duration{latency}, i+1); !slices.Equal(got, want) {
			t.Fatalf("after %s: Sleep calls = %v, want %v", op.name, got, want)
		}
	}

	// Inspect and Recover are immediate.
	if err := d.Recover(ctx, []driver.Instance{{ID: "i-2", Shape: small}}); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if _, err := d.Inspect(ctx, "i-2"); err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if got := len(rec.Calls()); got != len(ops) {
		t.Fatalf("Sleep called %d times after Inspect and Recover, want %d", got, len(ops))
	}
}

func TestNoLatencyDoesNotSleep(t *testing.T) {
	t.Parallel()
	rec := &sleepRecorder{}
	d := sim.New(sim.Options{Sleep: rec.sleep})
	mustCreate(t, d, "i-1", true)
	if err := d.Stop(t.Context(), "i-1", true); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := rec.Calls(); len(got) != 0 {
		t.Fatalf("Sleep calls with zero latency = %v, want none", got)
	}
}

// TestLatencyInterrupted checks that an operation whose latency is cut short
// returns the Sleep's error, changes nothing and consumes no fault.
func TestLatencyInterrupted(t *testing.T) {
	t.Parallel()
	errClock := errors.New("clock stopped")
	rec := &sleepRecorder{err: errClock}
	d := sim.New(sim.Options{Latency: time.Second, Sleep: rec.sleep})
	if err := d.Recover(t.Context(), []driver.Instance{{ID: "i-run", Shape: small, Running: true}}); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	d.InjectFault(sim.Fault{Op: sim.OpStop})

	if err := d.Stop(t.Context(), "i-run", false); !errors.Is(err, errClock) {
		t.Fatalf("Stop: got %v, want %v", err, errClock)
	}
	requireState(t, d, "i-run", running)
	requireFaults(t, d, sim.Fault{Op: sim.OpStop, Times: 1})
}

// TestDefaultSleepHonoursContext uses the default, real-timer Sleep with a
// latency far longer than the test: the call must return as soon as its
// context is cancelled.
func TestDefaultSleepHonoursContext(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Options{Latency: time.Hour})
	if err := d.Recover(t.Context(), []driver.Instance{{ID: "i-1", Shape: small, Running: true}}); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Stop(ctx, "i-1", true) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop: got %v, want context.Canceled", err)
	}
	requireState(t, d, "i-1", running)
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	ctx := t.Context()
	if err := b.d.Create(ctx, driver.Instance{Shape: small}); err == nil {
		t.Error("Create with an empty ID: got nil error")
	}
	if err := b.d.Create(ctx, driver.Instance{ID: "i-zero"}); err == nil {
		t.Error("Create with a zero shape: got nil error")
	}
	if _, err := b.d.Inspect(ctx, "i-zero"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Inspect i-zero: got %v, want ErrNotFound", err)
	}
	if err := b.d.Resize(ctx, "i-stop", driver.Shape{FlavorID: "x", VCPUs: 0, RAMMB: 512}); err == nil {
		t.Error("Resize to zero vCPUs: got nil error")
	}
	requireState(t, b.d, "i-stop", stopped)
	if err := b.d.Recover(ctx, []driver.Instance{{ID: "i-ok", Shape: small}, {Shape: small}}); err == nil {
		t.Error("Recover with an empty ID: got nil error")
	}
	if _, err := b.d.Inspect(ctx, "i-ok"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Inspect i-ok after a rejected Recover: got %v, want ErrNotFound", err)
	}
}

func TestRecoverReplacesKnownState(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	if err := b.d.Recover(t.Context(), []driver.Instance{{ID: "i-run", Shape: large, Running: false}}); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	requireState(t, b.d, "i-run", driver.State{Power: driver.PowerStopped, Shape: large})
	requireState(t, b.d, "i-stop", stopped)
}

func TestConcurrentFaults(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Options{})
	ctx := t.Context()
	const n = 32
	d.InjectFault(sim.Fault{Op: sim.OpCreate, Times: n / 2})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for i := range n {
		wg.Go(func() {
			err := d.Create(ctx, driver.Instance{ID: fmt.Sprintf("i-%d", i), Shape: small})
			if errors.Is(err, sim.ErrInjected) {
				mu.Lock()
				failed++
				mu.Unlock()
			} else if err != nil {
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	if failed != n/2 {
		t.Fatalf("%d creates failed, want %d", failed, n/2)
	}
	requireFaults(t, d)
}

func TestCreateExistingLeavesItAlone(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Options{})
	if err := b.d.Create(t.Context(), driver.Instance{ID: "i-stop", Shape: large, Running: true}); err != nil {
		t.Fatalf("Create of an existing ID: %v", err)
	}
	requireState(t, b.d, "i-stop", stopped)
}
