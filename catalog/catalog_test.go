package catalog_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

// mustNew returns a catalogue or fails the test.
func mustNew(tb testing.TB, region string, overrides []catalog.FlavorOverride) *catalog.Catalog {
	tb.Helper()
	c, err := catalog.New(region, overrides)
	if err != nil {
		tb.Fatalf("New(%q): %v", region, err)
	}
	return c
}

// mustFlavor returns a flavor of c or fails the test.
func mustFlavor(tb testing.TB, c *catalog.Catalog, id string) *ecs.Flavor {
	tb.Helper()
	f, ok := c.Flavor(id)
	if !ok {
		tb.Fatalf("flavor %s not in catalogue", id)
	}
	return f
}

// errCode returns the *ecs.Error code of err, "" for nil, and fails the test
// for errors of any other type.
func errCode(tb testing.TB, err error) string {
	tb.Helper()
	if err == nil {
		return ""
	}
	var e *ecs.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T) is not an *ecs.Error", err, err)
	}
	return e.Code
}

// Allowed values of the extra specs the tests check, from reference §G.
var (
	allowedPerfTypes = []string{
		"normal", "entry", "cpuv1", "cpuv2", "computingv3", "highmem", "saphana", "diskintensive",
		"highio", "highcpu", "ultracpu", "gpu", "fpga", "ascend", "kunpeng_computing", "kunpeng_highmem",
		"kunpeng_highio", "kunpeng_accelerator", "advanced_smb",
	}
	allowedSale = []string{ecs.SaleNormal, ecs.SaleAbandon, ecs.SaleSellout, ecs.SaleObt, ecs.SalePromotion}
	allowedSpot = []string{"normal", "abandon", "sellout", "obt", "private", "test", "promotion"}
	allowedCats = []string{
		catalog.CategoryGeneral, catalog.CategoryCompute, catalog.CategoryMemory, catalog.CategoryLargeMemory,
		catalog.CategoryGPU, catalog.CategoryLocalDisk, catalog.CategoryArm,
	}
	// requiredSpecs are present on every flavor.
	requiredSpecs = []string{
		"ecs:performancetype", "ecs:generation", "ecs:virtualization_env_types", "resource_type",
		"hw:numa_nodes", "quota:max_rate", "quota:min_rate", "quota:max_pps", "info:cpu:name",
	}
	// requiredKVMSpecs are present on every KVM flavor.
	requiredKVMSpecs = []string{"instance_vnic:type", "instance_vnic:instance_bandwidth", "instance_vnic:max_count"}
)

func positiveInt(t *testing.T, f *ecs.Flavor, key string, hi int) {
	t.Helper()
	v, ok := f.ExtraSpecs[key]
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > hi {
		t.Errorf("%s: %s=%q, want an integer in 1..%d", f.ID, key, v, hi)
	}
}

func TestDefault_FlavorsAreConsistent(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	for _, f := range c.Flavors() {
		t.Run(f.ID, func(t *testing.T) {
			t.Parallel()
			if f.Name != f.ID {
				t.Errorf("Name %q != ID %q", f.Name, f.ID)
			}
			if f.VCPUs <= 0 || f.RAMMB <= 0 {
				t.Errorf("VCPUs=%d RAMMB=%d, want positive", f.VCPUs, f.RAMMB)
			}
			if !strings.HasPrefix(f.ID, f.Family+".") {
				t.Errorf("ID does not start with family %q", f.Family)
			}
			fam, ok := c.Family(f.Family)
			if !ok {
				t.Fatalf("family %q is not in the family table", f.Family)
			}
			s := f.ExtraSpecs
			for _, k := range requiredSpecs {
				if s[k] == "" {
					t.Errorf("missing extra spec %s", k)
				}
			}
			if s["ecs:generation"] != f.Family {
				t.Errorf("ecs:generation=%q, want %q", s["ecs:generation"], f.Family)
			}
			if !slices.Contains(allowedPerfTypes, s["ecs:performancetype"]) {
				t.Errorf("ecs:performancetype=%q not allowed", s["ecs:performancetype"])
			}
			virt := s["ecs:virtualization_env_types"]
			if virt != fam.Virtualization || (virt != catalog.VirtKVM && virt != catalog.VirtXen) {
				t.Errorf("ecs:virtualization_env_types=%q, family says %q", virt, fam.Virtualization)
			}
			if virt == catalog.VirtKVM {
				for _, k := range requiredKVMSpecs {
					if s[k] == "" {
						t.Errorf("KVM flavor lacks %s", k)
					}
				}
			}
			arch, hasArch := s["ecs:instance_architecture"]
			isKunpeng := f.Family == "kc1" || f.Family == "km1"
			if hasArch != isKunpeng || (hasArch && arch != "arm64") {
				t.Errorf("ecs:instance_architecture=%q (present %v), want arm64 exactly on Kunpeng", arch, hasArch)
			}
			if got := catalog.FlavorArch(f); got != fam.Arch {
				t.Errorf("FlavorArch=%s, family arch %s", got, fam.Arch)
			}
			if v, ok := s["hw:cpu_policy"]; ok && v != "dedicated" && v != "shared" {
				t.Errorf("hw:cpu_policy=%q", v)
			}
			if v, ok := s["hw:cpu_threads"]; ok && v != "1" && v != "2" {
				t.Errorf("hw:cpu_threads=%q", v)
			}
			if isKunpeng && f.CPUThreads() != 0 {
				t.Errorf("Kunpeng flavor claims hyper-threading")
			}
			if v, ok := s["instance_vnic:type"]; ok && v != "enhanced" {
				t.Errorf("instance_vnic:type=%q", v)
			}
			positiveInt(t, f, "hw:numa_nodes", 8)
			positiveInt(t, f, "instance_vnic:instance_bandwidth", 10000)
			positiveInt(t, f, "instance_vnic:max_count", 4)
			positiveInt(t, f, "quota:max_rate", 1_000_000)
			positiveInt(t, f, "quota:min_rate", 1_000_000)
			positiveInt(t, f, "quota:max_pps", 1_000_000_000)
			if lo, hi := s["quota:min_rate"], s["quota:max_rate"]; atoi(lo) > atoi(hi) {
				t.Errorf("quota:min_rate %s > quota:max_rate %s", lo, hi)
			}
			if v, ok := s["cond:operation:status"]; ok && !slices.Contains(allowedSale, v) {
				t.Errorf("cond:operation:status=%q", v)
			}
			if v, ok := s["cond:spot:operation:status"]; ok && !slices.Contains(allowedSpot, v) {
				t.Errorf("cond:spot:operation:status=%q", v)
			}
			if v, ok := s["cond:operation:charge"]; ok && v != "period" && v != "demand" {
				t.Errorf("cond:operation:charge=%q", v)
			}
			if v, ok := s["cond:compute:live_resizable"]; ok && v != "true" && v != "false" {
				t.Errorf("cond:compute:live_resizable=%q", v)
			}

			switch fam.Category {
			case catalog.CategoryGPU:
				if s["pci_passthrough:enable_gpu"] != "true" || s["pci_passthrough:gpu_specs"] == "" ||
					s["pci_passthrough:alias"] == "" || s["info:gpu:name"] == "" {
					t.Errorf("GPU flavor lacks pci_passthrough:* or info:gpu:name: %v", s)
				}
				if len(f.GPUs) != 1 || f.GPUs[0].Count <= 0 || f.GPUs[0].MemoryMB <= 0 || f.GPUs[0].Name == "" {
					t.Errorf("GPUs = %+v, want one model with a count", f.GPUs)
				} else if want := ":" + strconv.Itoa(f.GPUs[0].Count); !strings.HasSuffix(s["pci_passthrough:alias"], want) {
					t.Errorf("pci_passthrough:alias=%q disagrees with GPUs %+v", s["pci_passthrough:alias"], f.GPUs)
				}
			default:
				if len(f.GPUs) != 0 || s["pci_passthrough:alias"] != "" {
					t.Errorf("non-GPU flavor has GPUs %+v", f.GPUs)
				}
			}
			_, local := s["quota:local_disk"]
			_, nvme := s["quota:nvme_ssd"]
			switch {
			case strings.HasPrefix(f.Family, "d"):
				if !local || strings.Count(s["quota:local_disk"], ":") != 3 {
					t.Errorf("disk-intensive flavor: quota:local_disk=%q", s["quota:local_disk"])
				}
			case strings.HasPrefix(f.Family, "i"):
				if !nvme || strings.Count(s["quota:nvme_ssd"], ":") != 3 {
					t.Errorf("ultra-high I/O flavor: quota:nvme_ssd=%q", s["quota:nvme_ssd"])
				}
			default:
				if local || nvme {
					t.Errorf("flavor of family %s has local disks", f.Family)
				}
			}
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestDefault_Catalogue(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	flavors := c.Flavors()
	if len(flavors) < 45 {
		t.Errorf("%d flavors, want at least 45", len(flavors))
	}
	ids := make([]string, len(flavors))
	for i, f := range flavors {
		ids[i] = f.ID
	}
	if !slices.IsSorted(ids) {
		t.Errorf("Flavors() not sorted by ID: %v", ids)
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("duplicate flavor IDs")
	}

	perFamily := map[string]int{}
	for _, f := range flavors {
		perFamily[f.Family]++
	}
	for _, fam := range []string{"s6", "s7", "c6", "c7", "m6", "m7", "kc1", "km1", "s1", "e3", "d6", "i3", "p2s", "pi2"} {
		if perFamily[fam] == 0 {
			t.Errorf("no flavor of required family %s", fam)
		}
	}
	for _, id := range []string{"s6.small.1", "s6.medium.2", "s6.large.2", "s6.xlarge.2", "s6.2xlarge.2", "s6.large.4",
		"c6.large.2", "c6.4xlarge.4", "m6.large.8", "kc1.large.2", "kc1.xlarge.4", "km1.large.8"} {
		if _, ok := c.Flavor(id); !ok {
			t.Errorf("flavor %s missing", id)
		}
	}

	// Every family is in the rules table and has flavors; every flavor's
	// family is in the table.
	fams := c.Families()
	for _, fam := range fams {
		if perFamily[fam.Name] == 0 {
			t.Errorf("family %s has no flavors", fam.Name)
		}
		if !slices.Contains(allowedCats, fam.Category) {
			t.Errorf("family %s: category %q", fam.Name, fam.Category)
		}
		if fam.Arch != catalog.ArchX86 && fam.Arch != catalog.ArchArm64 {
			t.Errorf("family %s: arch %q", fam.Name, fam.Arch)
		}
		if (fam.Arch == catalog.ArchArm64) != (fam.Category == catalog.CategoryArm) {
			t.Errorf("family %s: arch %s but category %s", fam.Name, fam.Arch, fam.Category)
		}
		if fam.ResizeGroup == "" || fam.Description == "" {
			t.Errorf("family %s: empty resize group or description", fam.Name)
		}
		delete(perFamily, fam.Name)
	}
	if len(perFamily) != 0 {
		t.Errorf("flavor families missing from the family table: %v", perFamily)
	}

	// Sale-status variety that other packages' tests rely on.
	var abandoned, obt, soldOutInOneAZ, dedicatedHT, xen bool
	for _, f := range flavors {
		abandoned = abandoned || f.ExtraSpecs["cond:operation:status"] == ecs.SaleAbandon
		obt = obt || f.SaleStatus("") == ecs.SaleObt
		soldOutInOneAZ = soldOutInOneAZ || (f.SaleStatus(catalog.DefaultRegion+"b") == ecs.SaleSellout && f.OnSale(catalog.DefaultRegion+"a"))
		dedicatedHT = dedicatedHT || (f.ExtraSpecs["hw:cpu_policy"] == "dedicated" && f.CPUThreads() == 2)
		xen = xen || f.ExtraSpecs["ecs:virtualization_env_types"] == catalog.VirtXen
	}
	if !abandoned || !obt || !soldOutInOneAZ || !dedicatedHT || !xen {
		t.Errorf("abandoned=%v obt=%v soldOutInOneAZ=%v dedicatedHT=%v xen=%v, want all true",
			abandoned, obt, soldOutInOneAZ, dedicatedHT, xen)
	}
}

func TestAZNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region string
		want   []string
	}{
		{"cn-north-4", []string{"cn-north-4a", "cn-north-4b", "cn-north-4c"}},
		{"ap-southeast-1", []string{"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, catalog.AZNames(tt.region)); diff != "" {
			t.Errorf("AZNames(%q) (-want +got):\n%s", tt.region, diff)
		}
		c := mustNew(t, tt.region, nil)
		var got []string
		for _, az := range c.AZs() {
			if !az.Available {
				t.Errorf("AZ %s not available", az.Name)
			}
			got = append(got, az.Name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("AZs() of %q (-want +got):\n%s", tt.region, diff)
		}
		if c.Region() != tt.region {
			t.Errorf("Region() = %q", c.Region())
		}
	}
}

func TestNew_OtherRegionRewritesSaleZones(t *testing.T) {
	t.Parallel()
	c := mustNew(t, "ap-southeast-3", nil)
	f := mustFlavor(t, c, "s6.large.2")
	want := "ap-southeast-3a(normal), ap-southeast-3b(sellout), ap-southeast-3c(normal)"
	if got := f.ExtraSpecs["cond:operation:az"]; got != want {
		t.Errorf("cond:operation:az = %q, want %q", got, want)
	}
	if f.OnSale("ap-southeast-3b") {
		t.Errorf("s6.large.2 on sale in ap-southeast-3b")
	}
	for _, f := range c.Flavors() {
		if strings.Contains(f.ExtraSpecs["cond:operation:az"], "cn-north-4") {
			t.Errorf("%s: cond:operation:az names another region: %q", f.ID, f.ExtraSpecs["cond:operation:az"])
		}
	}
	for _, h := range c.Hosts() {
		if !strings.HasPrefix(h.AZ, "ap-southeast-3") || !strings.HasPrefix(h.ID, h.AZ+"-") {
			t.Errorf("host %+v not in ap-southeast-3", h)
		}
	}
}

func TestNew_InvalidRegion(t *testing.T) {
	t.Parallel()
	for _, region := range []string{"", "cn north 4", "CN-NORTH-4", "cn"} {
		if _, err := catalog.New(region, nil); err == nil {
			t.Errorf("New(%q) succeeded, want error", region)
		}
	}
}

func TestCatalog_ReturnsCopies(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	f := mustFlavor(t, c, "p2s.2xlarge.8")
	f.VCPUs = 999
	f.ExtraSpecs["cond:operation:status"] = ecs.SaleAbandon
	f.GPUs[0].Count = 99
	for _, g := range c.Flavors() {
		g.ExtraSpecs["ecs:generation"] = "x"
	}
	img := c.Images()[0]
	img.Name = "changed"
	hosts := c.Hosts()
	hosts[0].VCPUs = 0

	again := mustFlavor(t, c, "p2s.2xlarge.8")
	if again.VCPUs != 8 || again.SaleStatus(catalog.DefaultRegion+"a") != ecs.SaleNormal || again.GPUs[0].Count != 1 {
		t.Errorf("catalogue changed through a returned copy: %+v", again)
	}
	if c.Flavors()[0].ExtraSpecs["ecs:generation"] == "x" {
		t.Errorf("catalogue changed through Flavors()")
	}
	if c.Images()[0].Name == "changed" || c.Hosts()[0].VCPUs == 0 {
		t.Errorf("catalogue changed through Images() or Hosts()")
	}
}

func TestCatalog_ConcurrentUse(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	src := mustFlavor(t, c, "s6.large.2")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			az := c.AZs()[i%3].Name
			for _, f := range c.ResizeTargets(src, az) {
				f.ExtraSpecs["touched"] = "yes"
			}
			_ = c.Flavors()
			_, _ = c.Flavor("c6.large.2")
			_ = c.Images()
		})
	}
	wg.Wait()
	if _, ok := mustFlavor(t, c, "c6.large.2").ExtraSpecs["touched"]; ok {
		t.Errorf("catalogue changed by concurrent callers")
	}
}
