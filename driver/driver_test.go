package driver_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/sim"
)

func simFactory() (driver.Driver, error) { return sim.New(sim.Options{}), nil }

func TestRegistryZeroValue(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	if got := r.Names(); len(got) != 0 {
		t.Errorf("Names() of an empty registry = %v, want none", got)
	}
	if d, err := r.Open("sim"); err == nil || d != nil {
		t.Errorf("Open on an empty registry = %v, %v; want nil, an error", d, err)
	}
}

func TestRegistryOpen(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	r.Register(sim.Name, simFactory)

	d, err := r.Open(sim.Name)
	if err != nil {
		t.Fatalf("Open(%q): %v", sim.Name, err)
	}
	if d.Name() != sim.Name {
		t.Errorf("Open(%q).Name() = %q", sim.Name, d.Name())
	}

	// Each Open builds a new driver.
	d2, err := r.Open(sim.Name)
	if err != nil {
		t.Fatalf("second Open(%q): %v", sim.Name, err)
	}
	if d == d2 {
		t.Error("two Opens returned the same driver")
	}
}

func TestRegistryNames(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	for _, name := range []string{"sim", "qemu", "fake"} {
		r.Register(name, simFactory)
	}
	r.Register("sim", simFactory) // a second registration replaces, not duplicates
	if got, want := r.Names(), []string{"fake", "qemu", "sim"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestRegistryRegisterReplaces(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	errOld, errNew := errors.New("old"), errors.New("new")
	r.Register("x", func() (driver.Driver, error) { return nil, errOld })
	r.Register("x", func() (driver.Driver, error) { return nil, errNew })
	if _, err := r.Open("x"); !errors.Is(err, errNew) {
		t.Fatalf("Open(x) = %v, want the replacing factory's %v", err, errNew)
	}
}

func TestRegistryFactoryError(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	errNoKVM := errors.New("no /dev/kvm")
	r.Register("qemu", func() (driver.Driver, error) { return nil, errNoKVM })
	if d, err := r.Open("qemu"); !errors.Is(err, errNoKVM) || d != nil {
		t.Fatalf("Open(qemu) = %v, %v; want nil, %v", d, err, errNoKVM)
	}
}

func TestRegistryUnknownName(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	r.Register("sim", simFactory)
	r.Register("qemu", simFactory)

	d, err := r.Open("vmware")
	if err == nil || d != nil {
		t.Fatalf("Open(vmware) = %v, %v; want nil, an error", d, err)
	}
	// The message is for an operator who mistyped the driver flag: it names
	// the unknown driver and the known ones.
	for _, want := range []string{`"vmware"`, "qemu", "sim"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(vmware) error %q does not mention %s", err, want)
		}
	}
}

func TestRegistryConcurrent(t *testing.T) {
	t.Parallel()
	var r driver.Registry
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			r.Register("sim", simFactory)
			if _, err := r.Open("sim"); err != nil {
				t.Errorf("Open(sim): %v", err)
			}
			_ = r.Names()
		})
	}
	wg.Wait()
	if got := r.Names(); !slices.Equal(got, []string{"sim"}) {
		t.Errorf("Names() = %v, want [sim]", got)
	}
}
