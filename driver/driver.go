// Package driver is ecsd's hypervisor seam: the interface that a compute
// backend implements so that workers can create, power and resize the machine
// behind a server. Implementations live in sub-packages (sim, later qemu) and
// all pass the conformance suite in drivertest.
package driver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrNotFound is returned for an instance the driver does not know.
var ErrNotFound = errors.New("driver: instance not found")

// ErrUnsupported is returned for an operation the driver cannot perform.
var ErrUnsupported = errors.New("driver: operation not supported")

// Shape is the hardware shape of an instance.
type Shape struct {
	FlavorID string
	VCPUs    int
	RAMMB    int
}

// Instance is what the driver needs to launch the machine behind a server.
type Instance struct {
	ID      string // the server ID
	Name    string
	ImageID string
	HostID  string
	Shape   Shape
	// Running is the power state to reach: true to boot after creation.
	Running bool
}

// Power states an instance can be in.
const (
	PowerRunning = "running"
	PowerStopped = "stopped"
)

// State is what Inspect reports of an instance.
type State struct {
	Power string // PowerRunning or PowerStopped
	Shape Shape
}

// Capabilities tells what a driver can do.
type Capabilities struct {
	// ColdResize: Resize works on a stopped instance.
	ColdResize bool
	// Persistent: instances outlive the ecsd process (Recover re-attaches them).
	Persistent bool
	// Immediate: operations take no time and change nothing outside this
	// process, so the worker may record several phases of a job in one
	// store transaction (a job then resumed after a crash starts over).
	Immediate bool
}

// Driver manages the machines behind servers. Every method takes a context
// and may be called concurrently for different instances; calls for one
// instance are serialised by the caller (one operation at a time per server).
// Methods are idempotent where stated, so that a worker retried after a crash
// can call them again.
type Driver interface {
	// Name returns the driver's registry name, e.g. "sim".
	Name() string
	// Capabilities describes the driver.
	Capabilities() Capabilities
	// Create makes the instance and, if inst.Running, boots it. Creating an
	// instance that already exists with the same ID succeeds (idempotent).
	Create(ctx context.Context, inst Instance) error
	// Start boots a stopped instance; starting a running one succeeds.
	Start(ctx context.Context, id string) error
	// Stop powers an instance off, gracefully unless hard; stopping a stopped
	// one succeeds.
	Stop(ctx context.Context, id string, hard bool) error
	// Reboot restarts a running instance.
	Reboot(ctx context.Context, id string, hard bool) error
	// Resize gives a stopped instance a new shape. Resizing to the shape it
	// already has succeeds.
	Resize(ctx context.Context, id string, shape Shape) error
	// Delete destroys the instance; deleting an unknown one succeeds.
	Delete(ctx context.Context, id string) error
	// Inspect reports the instance's state, or ErrNotFound.
	Inspect(ctx context.Context, id string) (State, error)
	// Recover makes the driver aware of instances that exist in ecsd's store
	// after a restart, so that later calls find them.
	Recover(ctx context.Context, insts []Instance) error
}

// Details is what a driver can tell of a live machine beyond State: its
// hypervisor's own view, shown by the console's server page.
type Details struct {
	// Status is the hypervisor's run state, e.g. QMP's "running" or
	// "shutdown"; "" when the driver has none.
	Status string
	// VCPUs and MemoryMB are the shape the running machine really has, as
	// the hypervisor reports it (0 when it is not running).
	VCPUs    int
	MemoryMB int
	// ConsoleLog is the tail of the machine's serial console, if any.
	ConsoleLog string
	// Extra holds further driver-specific facts (process ID, socket path).
	Extra map[string]string
}

// Describer is implemented by drivers that can report Details of an
// instance. Describe returns ErrNotFound for an unknown instance.
type Describer interface {
	Describe(ctx context.Context, id string) (Details, error)
}

// Factory builds a driver from its settings.
type Factory func() (Driver, error)

// Registry maps driver names to factories. The zero value is ready to use.
type Registry struct {
	mu        sync.Mutex
	factories map[string]Factory
}

// Register adds a factory under name, replacing any previous one.
func (r *Registry) Register(name string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.factories == nil {
		r.factories = map[string]Factory{}
	}
	r.factories[name] = f
}

// Open builds the driver registered under name.
func (r *Registry) Open(name string) (Driver, error) {
	r.mu.Lock()
	f, ok := r.factories[name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("driver: unknown driver %q (known: %v)", name, r.Names())
	}
	return f()
}

// Names lists the registered driver names, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.factories))
	for n := range r.factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
