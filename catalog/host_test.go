package catalog_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

func TestDefaultHosts(t *testing.T) {
	t.Parallel()
	hosts := catalog.DefaultHosts(catalog.DefaultRegion)
	if diff := cmp.Diff(hosts, catalog.Default().Hosts()); diff != "" {
		t.Errorf("Catalog.Hosts differs from DefaultHosts (-want +got):\n%s", diff)
	}
	type count struct{ x86, arm int }
	perAZ := map[string]*count{}
	ids := map[string]bool{}
	small := false
	for _, h := range hosts {
		if ids[h.ID] {
			t.Errorf("duplicate host ID %s", h.ID)
		}
		ids[h.ID] = true
		if h.VCPUs <= 0 || h.RAMMB <= 0 {
			t.Errorf("host %s has no capacity", h.ID)
		}
		if perAZ[h.AZ] == nil {
			perAZ[h.AZ] = &count{}
		}
		switch h.Arch {
		case catalog.ArchX86:
			perAZ[h.AZ].x86++
		case catalog.ArchArm64:
			perAZ[h.AZ].arm++
		default:
			t.Errorf("host %s: arch %q", h.ID, h.Arch)
		}
		small = small || h.VCPUs <= 16
	}
	for _, az := range catalog.AZNames(catalog.DefaultRegion) {
		if c := perAZ[az]; c == nil || c.x86 < 2 || c.arm < 1 {
			t.Errorf("AZ %s: hosts %+v, want at least two x86 and one arm64", az, c)
		}
	}
	if len(perAZ) != 3 {
		t.Errorf("hosts in %d AZs, want 3", len(perAZ))
	}
	if !small {
		t.Errorf("no small host to provoke capacity failures")
	}
}

func TestHost_Fits(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	x86 := catalog.Host{ID: "h1", AZ: azA, VCPUs: 16, RAMMB: 32768, Arch: catalog.ArchX86}
	arm := catalog.Host{ID: "h2", AZ: azA, VCPUs: 16, RAMMB: 32768, Arch: catalog.ArchArm64}
	tests := []struct {
		name     string
		host     catalog.Host
		flavor   string
		usedCPU  int
		usedRAM  int
		wantFits bool
	}{
		{"empty host", x86, "c6.xlarge.2", 0, 0, true},
		{"exactly full", x86, "c6.4xlarge.2", 0, 0, true},
		{"vCPUs short", x86, "c6.xlarge.2", 13, 0, false},
		{"RAM short", x86, "c6.xlarge.2", 0, 28000, false},
		{"Arm flavor on x86", x86, "kc1.large.2", 0, 0, false},
		{"x86 flavor on Arm", arm, "c6.large.2", 0, 0, false},
		{"Arm on Arm", arm, "kc1.xlarge.4", 4, 8192, true},
		{"too big", x86, "m6.4xlarge.8", 0, 0, false},
	}
	for _, tt := range tests {
		if got := tt.host.Fits(mustFlavor(t, c, tt.flavor), tt.usedCPU, tt.usedRAM); got != tt.wantFits {
			t.Errorf("%s: Fits(%s, %d, %d) = %v, want %v", tt.name, tt.flavor, tt.usedCPU, tt.usedRAM, got, tt.wantFits)
		}
	}
}

// TestDefault_OnSaleFlavorsFitAHost checks that every flavor on sale in a
// zone fits at least one empty host of that zone, so a create or resize
// fails for capacity only when hosts fill up.
func TestDefault_OnSaleFlavorsFitAHost(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	for _, az := range c.AZs() {
		for _, f := range c.Flavors() {
			if !f.OnSale(az.Name) {
				continue
			}
			if !fitsSomeHost(c.Hosts(), f, az.Name) {
				t.Errorf("%s is on sale in %s but fits no host there", f.ID, az.Name)
			}
		}
	}
}

func fitsSomeHost(hosts []catalog.Host, f *ecs.Flavor, az string) bool {
	for _, h := range hosts {
		if h.AZ == az && h.Fits(f, 0, 0) {
			return true
		}
	}
	return false
}
