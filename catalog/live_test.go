package catalog_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ecsd-dev/ecsd/catalog"
)

func TestWith(t *testing.T) {
	t.Parallel()
	base := mustNew(t, catalog.DefaultRegion, []catalog.FlavorOverride{
		{ID: "s6.huge.2", VCPUs: ptr(64), RAMMB: ptr(131072), Family: ptr("s6")},
		{ID: "s6.large.2", VCPUs: ptr(3)},
	})
	c, err := base.With([]catalog.FlavorOverride{
		{ID: "s6.huge.2", RAMMB: ptr(65536)}, // changes a flavor base's overrides added
		{ID: "s6.large.2", Remove: true},     // removes one they changed
		{ID: "c7.huge.2", VCPUs: ptr(48), RAMMB: ptr(98304), Family: ptr("c7")},
		{ID: "c7.huge.2", VCPUs: ptr(32)}, // a flavor named twice: the later applies on top
	})
	if err != nil {
		t.Fatalf("With: %v", err)
	}
	if f := mustFlavor(t, c, "s6.huge.2"); f.VCPUs != 64 || f.RAMMB != 65536 {
		t.Errorf("s6.huge.2 = %d/%d, want 64/65536", f.VCPUs, f.RAMMB)
	}
	if _, ok := c.Flavor("s6.large.2"); ok {
		t.Error("s6.large.2 not removed")
	}
	if f := mustFlavor(t, c, "c7.huge.2"); f.VCPUs != 32 || f.RAMMB != 98304 {
		t.Errorf("c7.huge.2 = %d/%d, want 32/98304", f.VCPUs, f.RAMMB)
	}
	if n, m := len(c.Flavors()), len(base.Flavors()); n != m {
		t.Errorf("%d flavors, want %d (one removed, one added)", n, m)
	}
	// base is untouched.
	if f := mustFlavor(t, base, "s6.huge.2"); f.RAMMB != 131072 {
		t.Errorf("base changed: s6.huge.2 has %d MB", f.RAMMB)
	}
	mustFlavor(t, base, "s6.large.2")
	if _, ok := base.Flavor("c7.huge.2"); ok {
		t.Error("base gained c7.huge.2")
	}
	if same, err := base.With(nil); err != nil || len(same.Flavors()) != len(base.Flavors()) {
		t.Errorf("With(nil) = %d flavors, %v", len(same.Flavors()), err)
	}
}

func TestWith_Errors(t *testing.T) {
	t.Parallel()
	base := catalog.Default()
	for _, tt := range []struct {
		name    string
		o       []catalog.FlavorOverride
		index   int
		wantErr string
	}{
		{"removed, then changed", []catalog.FlavorOverride{{ID: "s6.large.2", Remove: true}, {ID: "s6.large.2", RAMMB: ptr(2048)}},
			1, "needs vcpus, ram and family"},
		{"inconsistent flavor names the override", []catalog.FlavorOverride{{ID: "c6.large.2", VCPUs: ptr(2)},
			{ID: "s6.large.2", ExtraSpecs: map[string]string{"ecs:instance_architecture": "arm64"}}},
			1, "family s6 is x86_64"},
		{"remove missing", []catalog.FlavorOverride{{ID: "s6.huge.2", Remove: true}}, 0, "no such flavor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := base.With(tt.o)
			var oe *catalog.OverrideError
			if !errors.As(err, &oe) {
				t.Fatalf("With = %v, want an *OverrideError", err)
			}
			if oe.Index != tt.index || oe.ID != tt.o[tt.index].ID || !strings.Contains(oe.Err.Error(), tt.wantErr) {
				t.Errorf("With = %+v, want index %d and an error containing %q", oe, tt.index, tt.wantErr)
			}
		})
	}
}

// TestLive swaps catalogues while readers read; run with -race.
func TestLive(t *testing.T) {
	t.Parallel()
	base := catalog.Default()
	added, err := base.With([]catalog.FlavorOverride{{ID: "s6.huge.2", VCPUs: ptr(64), RAMMB: ptr(131072), Family: ptr("s6")}})
	if err != nil {
		t.Fatal(err)
	}
	l := catalog.NewLive(base)
	if _, ok := l.Flavor("s6.huge.2"); ok {
		t.Fatal("s6.huge.2 before the swap")
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				src, _ := l.Flavor("s6.large.2")
				_ = l.ResizeTargets(src, "cn-north-4a")
				if n := len(l.Flavors()); n != len(base.Flavors()) && n != len(added.Flavors()) {
					t.Errorf("a read saw %d flavors: a mix of two catalogues", n)
					return
				}
			}
		})
	}
	for i := range 50 {
		if i%2 == 0 {
			l.Store(added)
		} else {
			l.Store(base)
		}
	}
	l.Store(added)
	close(stop)
	wg.Wait()
	if f, ok := l.Flavor("s6.huge.2"); !ok || f.VCPUs != 64 {
		t.Errorf("after the swap: s6.huge.2 = %+v, %v", f, ok)
	}
	if l.Load() != added || l.Region() != catalog.DefaultRegion || len(l.AZs()) != 3 || len(l.Hosts()) == 0 {
		t.Error("Live does not read the catalogue in force")
	}
}
