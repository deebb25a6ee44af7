// Package drivertest is the conformance suite that every driver.Driver passes.
//
// An implementation's test calls Run with a constructor:
//
//	func TestDriver(t *testing.T) {
//		t.Parallel()
//		drivertest.Run(t, func(t *testing.T) driver.Driver { return sim.New(sim.Options{}) })
//	}
//
// Each subtest calls newDriver once and runs in parallel with the others, so
// newDriver must return a driver that does not share instances with the
// drivers of other subtests, or tolerates instance IDs that differ per
// subtest (the suite never reuses an ID across subtests). A driver that
// cannot run in the environment (no qemu, no KVM) should t.Skip inside
// newDriver.
//
// Beyond the contract written on driver.Driver, the suite pins these choices:
//   - Reboot of a stopped instance returns a non-nil error (any error but
//     driver.ErrNotFound) and leaves the instance stopped.
//   - Resize of a running instance to a different shape returns a non-nil
//     error and changes nothing; there is no live-resize capability yet.
//   - Resize to the shape the instance already has succeeds in either power
//     state, so that a retried resize step is harmless.
//   - Resize of a stopped instance to a different shape changes the shape
//     Inspect reports if Capabilities().ColdResize, and otherwise returns an
//     error wrapping driver.ErrUnsupported.
//   - Start, Stop, Reboot, Resize and Inspect of an unknown instance return an
//     error wrapping driver.ErrNotFound; Delete of an unknown one succeeds.
//   - Create of an existing ID with the same Instance succeeds and leaves the
//     state as it was.
//   - Every method called with a context that is already cancelled returns an
//     error wrapping context.Canceled and changes nothing.
//   - Recover makes the given instances inspectable with the power state that
//     Instance.Running asks for and their shape, and later calls act on them.
//   - Operations on different instances may run concurrently (run the suite
//     with -race).
package drivertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ecsd-dev/ecsd/driver"
)

// Shapes used by the suite: small is the usual starting shape, large the
// target of resizes.
var (
	small = driver.Shape{FlavorID: "s6.small.1", VCPUs: 1, RAMMB: 1024}
	large = driver.Shape{FlavorID: "s6.large.2", VCPUs: 2, RAMMB: 4096}
)

// Run runs the conformance suite against the drivers newDriver returns.
func Run(t *testing.T, newDriver func(t *testing.T) driver.Driver) {
	t.Helper()

	t.Run("Identity", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		if d.Name() == "" {
			t.Error("Name() is empty")
		}
		_ = d.Capabilities() // must not panic
	})

	t.Run("CreateRunning", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		mustCreate(t, d, instance("dt-create-running", true))
		requireState(t, d, "dt-create-running", driver.PowerRunning, small)
	})

	t.Run("CreateStopped", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		mustCreate(t, d, instance("dt-create-stopped", false))
		requireState(t, d, "dt-create-stopped", driver.PowerStopped, small)
	})

	t.Run("CreateIsIdempotent", func(t *testing.T) {
		t.Parallel()
		for _, running := range []bool{true, false} {
			t.Run(fmt.Sprintf("Running=%v", running), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t)
				inst := instance(fmt.Sprintf("dt-create-twice-%v", running), running)
				mustCreate(t, d, inst)
				want := mustInspect(t, d, inst.ID)
				mustCreate(t, d, inst)
				requireState(t, d, inst.ID, want.Power, want.Shape)
			})
		}
	})

	t.Run("CreateAfterDelete", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		const id = "dt-recreate"
		mustCreate(t, d, instance(id, true))
		mustDelete(t, d, id)
		mustCreate(t, d, instance(id, false))
		requireState(t, d, id, driver.PowerStopped, small)
	})

	t.Run("Start", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		const id = "dt-start"
		mustCreate(t, d, instance(id, false))
		requireNoError(t, d.Start(t.Context(), id), "Start stopped")
		requireState(t, d, id, driver.PowerRunning, small)
	})

	t.Run("StartRunningIsNoop", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		const id = "dt-start-running"
		mustCreate(t, d, instance(id, true))
		requireNoError(t, d.Start(t.Context(), id), "Start running")
		requireState(t, d, id, driver.PowerRunning, small)
	})

	t.Run("Stop", func(t *testing.T) {
		t.Parallel()
		for _, hard := range []bool{false, true} {
			t.Run(fmt.Sprintf("Hard=%v", hard), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t)
				id := fmt.Sprintf("dt-stop-%v", hard)
				mustCreate(t, d, instance(id, true))
				requireNoError(t, d.Stop(t.Context(), id, hard), "Stop running")
				requireState(t, d, id, driver.PowerStopped, small)

				requireNoError(t, d.Stop(t.Context(), id, hard), "Stop stopped")
				requireState(t, d, id, driver.PowerStopped, small)

				requireNoError(t, d.Start(t.Context(), id), "Start after Stop")
				requireState(t, d, id, driver.PowerRunning, small)
			})
		}
	})

	t.Run("Reboot", func(t *testing.T) {
		t.Parallel()
		for _, hard := range []bool{false, true} {
			t.Run(fmt.Sprintf("Hard=%v", hard), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t)
				id := fmt.Sprintf("dt-reboot-%v", hard)
				mustCreate(t, d, instance(id, true))
				requireNoError(t, d.Reboot(t.Context(), id, hard), "Reboot running")
				requireState(t, d, id, driver.PowerRunning, small)
				requireNoError(t, d.Reboot(t.Context(), id, hard), "Reboot running again")
				requireState(t, d, id, driver.PowerRunning, small)
			})
		}
	})

	t.Run("RebootStoppedFails", func(t *testing.T) {
		t.Parallel()
		for _, hard := range []bool{false, true} {
			t.Run(fmt.Sprintf("Hard=%v", hard), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t)
				id := fmt.Sprintf("dt-reboot-stopped-%v", hard)
				mustCreate(t, d, instance(id, false))
				err := d.Reboot(t.Context(), id, hard)
				if err == nil {
					t.Fatal("Reboot of a stopped instance: got nil error, want an error")
				}
				if errors.Is(err, driver.ErrNotFound) {
					t.Fatalf("Reboot of a stopped instance: got %v, want an error other than ErrNotFound", err)
				}
				requireState(t, d, id, driver.PowerStopped, small)
			})
		}
	})

	t.Run("ResizeStopped", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		const id = "dt-resize-stopped"
		mustCreate(t, d, instance(id, false))
		err := d.Resize(t.Context(), id, large)
		if !d.Capabilities().ColdResize {
			if !errors.Is(err, driver.ErrUnsupported) {
				t.Fatalf("Resize without ColdResize: got %v, want ErrUnsupported", err)
			}
			requireState(t, d, id, driver.PowerStopped, small)
			return
		}
		requireNoError(t, err, "Resize stopped")
		requireState(t, d, id, driver.PowerStopped, large)

		// The new shape survives a boot, and the instance can shrink back.
		requireNoError(t, d.Start(t.Context(), id), "Start after Resize")
		requireState(t, d, id, driver.PowerRunning, large)
		requireNoError(t, d.Stop(t.Context(), id, false), "Stop after Start")
		requireNoError(t, d.Resize(t.Context(), id, small), "Resize back")
		requireState(t, d, id, driver.PowerStopped, small)
	})

	t.Run("ResizeToSameShape", func(t *testing.T) {
		t.Parallel()
		for _, running := range []bool{false, true} {
			t.Run(fmt.Sprintf("Running=%v", running), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t)
				id := fmt.Sprintf("dt-resize-same-%v", running)
				inst := instance(id, running)
				mustCreate(t, d, inst)
				requireNoError(t, d.Resize(t.Context(), id, small), "Resize to the same shape")
				requireState(t, d, id, power(running), small)
			})
		}
	})

	t.Run("ResizeRunningFails", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		const id = "dt-resize-running"
		mustCreate(t, d, instance(id, true))
		err := d.Resize(t.Context(), id, large)
		if err == nil {
			t.Fatal("Resize of a running instance: got nil error, want an error")
		}
		if errors.Is(err, driver.ErrNotFound) {
			t.Fatalf("Resize of a running instance: got %v, want an error other than ErrNotFound", err)
		}
		requireState(t, d, id, driver.PowerRunning, small)
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		for _, running := range []bool{false, true} {
			t.Run(fmt.Sprintf("Running=%v", running), func(t *testing.T) {
				t.Parallel()
				d := newDriver(t)
				id := fmt.Sprintf("dt-delete-%v", running)
				mustCreate(t, d, instance(id, running))
				mustDelete(t, d, id)
				_, err := d.Inspect(t.Context(), id)
				requireNotFound(t, err, "Inspect after Delete")
				requireNoError(t, d.Delete(t.Context(), id), "Delete twice")
			})
		}
	})

	t.Run("DeleteUnknown", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		requireNoError(t, d.Delete(t.Context(), "dt-never-created"), "Delete unknown")
	})

	t.Run("UnknownInstance", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		ctx := t.Context()
		const id = "dt-unknown"
		// Another instance exists, so that the driver is not simply empty.
		mustCreate(t, d, instance("dt-known", true))

		_, err := d.Inspect(ctx, id)
		requireNotFound(t, err, "Inspect")
		requireNotFound(t, d.Start(ctx, id), "Start")
		requireNotFound(t, d.Stop(ctx, id, false), "Stop soft")
		requireNotFound(t, d.Stop(ctx, id, true), "Stop hard")
		requireNotFound(t, d.Reboot(ctx, id, false), "Reboot soft")
		requireNotFound(t, d.Reboot(ctx, id, true), "Reboot hard")
		requireNotFound(t, d.Resize(ctx, id, large), "Resize")

		_, err = d.Inspect(ctx, id)
		requireNotFound(t, err, "Inspect after the failed calls")
		requireState(t, d, "dt-known", driver.PowerRunning, small)
	})

	t.Run("Recover", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		ctx := t.Context()
		running := instance("dt-recover-running", true)
		stopped := instance("dt-recover-stopped", false)
		stopped.Shape = large
		requireNoError(t, d.Recover(ctx, []driver.Instance{running, stopped}), "Recover")

		requireState(t, d, running.ID, driver.PowerRunning, small)
		requireState(t, d, stopped.ID, driver.PowerStopped, large)

		// Recovered instances are managed like created ones.
		requireNoError(t, d.Start(ctx, stopped.ID), "Start recovered")
		requireState(t, d, stopped.ID, driver.PowerRunning, large)
		requireNoError(t, d.Stop(ctx, running.ID, true), "Stop recovered")
		requireState(t, d, running.ID, driver.PowerStopped, small)
		mustDelete(t, d, running.ID)
		_, err := d.Inspect(ctx, running.ID)
		requireNotFound(t, err, "Inspect after Delete of a recovered instance")
	})

	t.Run("RecoverNothing", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		requireNoError(t, d.Recover(t.Context(), nil), "Recover(nil)")
		requireNoError(t, d.Recover(t.Context(), []driver.Instance{}), "Recover(empty)")
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		const (
			running = "dt-cancel-running"
			stopped = "dt-cancel-stopped"
			fresh   = "dt-cancel-fresh"
		)
		mustCreate(t, d, instance(running, true))
		mustCreate(t, d, instance(stopped, false))

		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		requireCanceled(t, d.Create(ctx, instance(fresh, true)), "Create")
		requireCanceled(t, d.Recover(ctx, []driver.Instance{instance(fresh, true)}), "Recover")
		_, err := d.Inspect(t.Context(), fresh)
		requireNotFound(t, err, "Inspect after cancelled Create and Recover")

		requireCanceled(t, d.Start(ctx, stopped), "Start")
		requireCanceled(t, d.Resize(ctx, stopped, large), "Resize")
		requireState(t, d, stopped, driver.PowerStopped, small)

		requireCanceled(t, d.Stop(ctx, running, false), "Stop soft")
		requireCanceled(t, d.Stop(ctx, running, true), "Stop hard")
		requireCanceled(t, d.Reboot(ctx, running, false), "Reboot")
		requireCanceled(t, d.Delete(ctx, running), "Delete")
		requireState(t, d, running, driver.PowerRunning, small)

		_, err = d.Inspect(ctx, running)
		requireCanceled(t, err, "Inspect")
	})

	t.Run("ConcurrentInstances", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		ctx := t.Context()
		const n = 16
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				id := fmt.Sprintf("dt-concurrent-%d", i)
				steps := []struct {
					name string
					do   func() error
				}{
					{"Create", func() error { return d.Create(ctx, instance(id, true)) }},
					{"Reboot", func() error { return d.Reboot(ctx, id, i%2 == 0) }},
					{"Stop", func() error { return d.Stop(ctx, id, i%2 == 1) }},
					{"Resize", func() error {
						if !d.Capabilities().ColdResize {
							return nil
						}
						return d.Resize(ctx, id, large)
					}},
					{"Start", func() error { return d.Start(ctx, id) }},
				}
				for _, s := range steps {
					if err := s.do(); err != nil {
						t.Errorf("%s %s: %v", s.name, id, err)
						return
					}
				}
				want := driver.State{Power: driver.PowerRunning, Shape: large}
				if !d.Capabilities().ColdResize {
					want.Shape = small
				}
				st, err := d.Inspect(ctx, id)
				if err != nil || st != want {
					t.Errorf("Inspect %s = %+v, %v; want %+v, nil", id, st, err, want)
				}
				if i%4 == 0 {
					if err := d.Delete(ctx, id); err != nil {
						t.Errorf("Delete %s: %v", id, err)
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			id := fmt.Sprintf("dt-concurrent-%d", i)
			_, err := d.Inspect(ctx, id)
			if i%4 == 0 {
				requireNotFound(t, err, "Inspect "+id)
			} else {
				requireNoError(t, err, "Inspect "+id)
			}
		}
	})
}

// instance returns an instance of the small shape, running or not.
func instance(id string, running bool) driver.Instance {
	return driver.Instance{
		ID:      id,
		Name:    id,
		ImageID: "img-drivertest",
		HostID:  "host-drivertest",
		Shape:   small,
		Running: running,
	}
}

func power(running bool) string {
	if running {
		return driver.PowerRunning
	}
	return driver.PowerStopped
}

func mustCreate(tb testing.TB, d driver.Driver, inst driver.Instance) {
	tb.Helper()
	if err := d.Create(tb.Context(), inst); err != nil {
		tb.Fatalf("Create %s: %v", inst.ID, err)
	}
}

func mustDelete(tb testing.TB, d driver.Driver, id string) {
	tb.Helper()
	if err := d.Delete(tb.Context(), id); err != nil {
		tb.Fatalf("Delete %s: %v", id, err)
	}
}

func mustInspect(tb testing.TB, d driver.Driver, id string) driver.State {
	tb.Helper()
	st, err := d.Inspect(tb.Context(), id)
	if err != nil {
		tb.Fatalf("Inspect %s: %v", id, err)
	}
	return st
}

// requireState fails tb unless Inspect reports the given power and shape.
func requireState(tb testing.TB, d driver.Driver, id, power string, shape driver.Shape) {
	tb.Helper()
	want := driver.State{Power: power, Shape: shape}
	if got := mustInspect(tb, d, id); got != want {
		tb.Fatalf("Inspect %s = %+v, want %+v", id, got, want)
	}
}

func requireNoError(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

func requireNotFound(tb testing.TB, err error, what string) {
	tb.Helper()
	if !errors.Is(err, driver.ErrNotFound) {
		tb.Fatalf("%s: got error %v, want driver.ErrNotFound", what, err)
	}
}

func requireCanceled(tb testing.TB, err error, what string) {
	tb.Helper()
	if !errors.Is(err, context.Canceled) {
		tb.Fatalf("%s with a cancelled context: got error %v, want context.Canceled", what, err)
	}
}
