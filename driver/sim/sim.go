// Package sim is ecsd's default driver: a simulated hypervisor that keeps its
// instances in memory.
//
// The state lives in a map guarded by a mutex and is lost when the process
// exits; that is acceptable because ecsd rebuilds it from its own database
// through Recover at start-up (Capabilities.Persistent is false).
//
// Two knobs make the simulation useful for tests of the layers above:
//   - Options.Latency is added to every state-changing operation, and is spent
//     through Options.Sleep so that ecsd's virtual clock can drive it;
//   - InjectFault scripts failures: the next matching operation returns the
//     fault's error before it changes anything.
package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ecsd-dev/ecsd/driver"
)

// Name is the driver's registry name.
const Name = "sim"

// Operations a Fault can target, as used in Fault.Op.
const (
	OpCreate = "create"
	OpStart  = "start"
	OpStop   = "stop"
	OpReboot = "reboot"
	OpResize = "resize"
	OpDelete = "delete"
)

var ops = []string{OpCreate, OpStart, OpStop, OpReboot, OpResize, OpDelete}

// ErrInjected is the error a Fault returns when its Err is nil.
var ErrInjected = errors.New("sim: injected fault")

// errNotRunning is returned by Reboot of a stopped instance.
var errNotRunning = errors.New("instance is not running")

// errRunning is returned by Resize of a running instance.
var errRunning = errors.New("instance is running; stop it before a resize")

var _ driver.Driver = (*Driver)(nil)

// Options configures a Driver. The zero value is a driver with no latency.
type Options struct {
	// Latency is added to every state-changing operation (create, start,
	// stop, reboot, resize, delete). Inspect and Recover are immediate.
	// Zero, the default, means no delay and Sleep is not called.
	Latency time.Duration
	// Sleep spends the latency. It must return early with ctx.Err() when
	// ctx is done. Nil means a real timer that honours ctx; ecsd passes its
	// virtual clock's sleep instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Fault is a scripted failure. It fires on an operation whose name is Op and,
// if InstanceID is not empty, whose instance is InstanceID.
type Fault struct {
	// Op is the operation to fail: one of OpCreate, OpStart, OpStop,
	// OpReboot, OpResize, OpDelete. A fault with another Op never fires
	// (see Validate).
	Op string
	// InstanceID restricts the fault to one instance; empty means any.
	InstanceID string
	// Err is the error the operation returns, wrapped so that errors.Is
	// finds it. Nil means ErrInjected.
	Err error
	// Times is how many operations the fault fails before it is used up;
	// zero or less means once. Faults returns the remaining count.
	Times int
}

// Validate reports whether f names a known operation.
func (f Fault) Validate() error {
	if !slices.Contains(ops, f.Op) {
		return fmt.Errorf("sim: fault: unknown op %q (known: %v)", f.Op, ops)
	}
	return nil
}

// Driver is the simulated hypervisor. It is safe for concurrent use.
type Driver struct {
	latency time.Duration
	sleep   func(ctx context.Context, d time.Duration) error

	mu        sync.Mutex
	instances map[string]driver.State
	faults    []Fault
}

// New returns a driver with no instances and no faults.
func New(opts Options) *Driver {
	d := &Driver{
		latency:   opts.Latency,
		sleep:     opts.Sleep,
		instances: map[string]driver.State{},
	}
	if d.sleep == nil {
		d.sleep = sleep
	}
	return d
}

// sleep waits for dur on a real timer, or until ctx is done.
func sleep(ctx context.Context, dur time.Duration) error {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Name returns "sim".
func (d *Driver) Name() string { return Name }

// Capabilities reports cold resize and no persistence; operations are
// immediate when there is no latency.
func (d *Driver) Capabilities() driver.Capabilities {
	return driver.Capabilities{ColdResize: true, Persistent: false, Immediate: d.latency == 0}
}

// InjectFault schedules f. Faults fire in the order they were injected: an
// operation fails with the first pending fault that matches it, and that
// fault's remaining count goes down by one.
func (d *Driver) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = append(d.faults, f)
}

// Faults lists the pending faults in firing order, each with the number of
// times it will still fire.
func (d *Driver) Faults() []Fault {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.faults)
}

// ClearFaults drops every pending fault.
func (d *Driver) ClearFaults() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = nil
}

// Create makes the instance, running if inst.Running. Creating an existing
// ID succeeds and leaves that instance as it is. An empty ID or a shape
// without vCPUs or RAM is an error.
func (d *Driver) Create(ctx context.Context, inst driver.Instance) error {
	if inst.ID == "" {
		return errors.New("sim: create: empty instance id")
	}
	if err := validShape(inst.Shape); err != nil {
		return fmt.Errorf("sim: create %s: %w", inst.ID, err)
	}
	return d.do(ctx, OpCreate, inst.ID, func(st driver.State, ok bool) (driver.State, bool, error) {
		if ok {
			return st, true, nil
		}
		return newState(inst), true, nil
	})
}

// Start boots a stopped instance; starting a running one succeeds. It
// returns driver.ErrNotFound for an unknown instance.
func (d *Driver) Start(ctx context.Context, id string) error {
	return d.do(ctx, OpStart, id, func(st driver.State, ok bool) (driver.State, bool, error) {
		if !ok {
			return st, false, driver.ErrNotFound
		}
		st.Power = driver.PowerRunning
		return st, true, nil
	})
}

// Stop powers an instance off; hard and soft stops behave alike. Stopping a
// stopped instance succeeds. It returns driver.ErrNotFound for an unknown
// instance.
func (d *Driver) Stop(ctx context.Context, id string, hard bool) error {
	return d.do(ctx, OpStop, id, func(st driver.State, ok bool) (driver.State, bool, error) {
		if !ok {
			return st, false, driver.ErrNotFound
		}
		st.Power = driver.PowerStopped
		return st, true, nil
	})
}

// Reboot restarts a running instance, which stays running. Rebooting a
// stopped instance is an error; an unknown one is driver.ErrNotFound.
func (d *Driver) Reboot(ctx context.Context, id string, hard bool) error {
	return d.do(ctx, OpReboot, id, func(st driver.State, ok bool) (driver.State, bool, error) {
		if !ok {
			return st, false, driver.ErrNotFound
		}
		if st.Power != driver.PowerRunning {
			return st, true, errNotRunning
		}
		return st, true, nil
	})
}

// Resize gives a stopped instance a new shape. Resizing to the shape the
// instance already has succeeds whatever its power state; any other resize
// of a running instance is an error, as is a shape without vCPUs or RAM. An
// unknown instance is driver.ErrNotFound.
func (d *Driver) Resize(ctx context.Context, id string, shape driver.Shape) error {
	if err := validShape(shape); err != nil {
		return fmt.Errorf("sim: resize %s: %w", id, err)
	}
	return d.do(ctx, OpResize, id, func(st driver.State, ok bool) (driver.State, bool, error) {
		switch {
		case !ok:
			return st, false, driver.ErrNotFound
		case st.Shape == shape:
			return st, true, nil
		case st.Power != driver.PowerStopped:
			return st, true, errRunning
		}
		st.Shape = shape
		return st, true, nil
	})
}

// Delete destroys the instance; deleting an unknown one succeeds.
func (d *Driver) Delete(ctx context.Context, id string) error {
	return d.do(ctx, OpDelete, id, func(st driver.State, ok bool) (driver.State, bool, error) {
		return st, false, nil
	})
}

// Inspect reports the instance's state, or driver.ErrNotFound. It is not
// delayed by Options.Latency and no fault targets it.
func (d *Driver) Inspect(ctx context.Context, id string) (driver.State, error) {
	if err := ctx.Err(); err != nil {
		return driver.State{}, fmt.Errorf("sim: inspect %s: %w", id, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.instances[id]
	if !ok {
		return driver.State{}, fmt.Errorf("sim: inspect %s: %w", id, driver.ErrNotFound)
	}
	return st, nil
}

// Recover records insts, with the power state inst.Running asks for and their
// shape, replacing what the driver knew of the same IDs. It is not delayed by
// Options.Latency. With a done ctx it returns ctx.Err() and records nothing.
func (d *Driver) Recover(ctx context.Context, insts []driver.Instance) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sim: recover: %w", err)
	}
	for _, inst := range insts {
		if inst.ID == "" {
			return errors.New("sim: recover: empty instance id")
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, inst := range insts {
		d.instances[inst.ID] = newState(inst)
	}
	return nil
}

// do runs one state-changing operation: it checks ctx, spends the latency,
// fires a matching fault if there is one, and otherwise applies fn to the
// instance's current state under the lock. fn returns the new state, whether
// the instance exists afterwards, and an error that leaves the state as it
// was.
func (d *Driver) do(ctx context.Context, op, id string, fn func(st driver.State, ok bool) (driver.State, bool, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sim: %s %s: %w", op, id, err)
	}
	if d.latency > 0 {
		if err := d.sleep(ctx, d.latency); err != nil {
			return fmt.Errorf("sim: %s %s: %w", op, id, err)
		}
		// A Sleep that ignores ctx must not let a cancelled call through.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sim: %s %s: %w", op, id, err)
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.fire(op, id); err != nil {
		return fmt.Errorf("sim: %s %s: %w", op, id, err)
	}
	st, ok := d.instances[id]
	st, exists, err := fn(st, ok)
	if err != nil {
		return fmt.Errorf("sim: %s %s: %w", op, id, err)
	}
	if exists {
		d.instances[id] = st
	} else {
		delete(d.instances, id)
	}
	return nil
}

// fire consumes the first pending fault matching op and id and returns its
// error, or returns nil. d.mu must be held.
func (d *Driver) fire(op, id string) error {
	for i, f := range d.faults {
		if f.Op != op || (f.InstanceID != "" && f.InstanceID != id) {
			continue
		}
		if f.Times--; f.Times <= 0 {
			d.faults = slices.Delete(d.faults, i, i+1)
		} else {
			d.faults[i] = f
		}
		if f.Err == nil {
			return ErrInjected
		}
		return f.Err
	}
	return nil
}

func newState(inst driver.Instance) driver.State {
	st := driver.State{Power: driver.PowerStopped, Shape: inst.Shape}
	if inst.Running {
		st.Power = driver.PowerRunning
	}
	return st
}

func validShape(s driver.Shape) error {
	if s.VCPUs <= 0 || s.RAMMB <= 0 {
		return fmt.Errorf("invalid shape %+v: vCPUs and RAM must be positive", s)
	}
	return nil
}
