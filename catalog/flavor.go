package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/ecsd-dev/ecsd"
)

// flavorRow is one flavor of the default catalogue. The family adds the
// extra specs its flavors share.
type flavorRow struct {
	id      string
	family  string
	vcpus   int
	ramGiB  int
	maxRate int // quota:max_rate, Mbit/s
	minRate int // quota:min_rate, Mbit/s
	maxPPS  int // quota:max_pps
	nics    int // instance_vnic:max_count
	devices int // local disks or GPUs, 0 for none
	// sale is the region-wide cond:operation:status, "" for none (= normal).
	sale string
	// az holds per-AZ statuses for the region's zones a, b and c; "" leaves
	// a zone at the region-wide status. Any entry set makes the flavor carry
	// cond:operation:az listing all three zones.
	az [3]string
}

// Shorthands for the sale-status table below.
const (
	normal   = ecs.SaleNormal
	sellout  = ecs.SaleSellout
	abandon  = ecs.SaleAbandon
	obt      = ecs.SaleObt
	promoted = ecs.SalePromotion
)

// flavorRows is the default flavor table. vCPU and memory figures are the
// published ones; network figures are close to, not copied from, the
// published ones. Flavors that no default host of a zone can hold are marked
// sold out there.
var flavorRows = []flavorRow{
	// General computing S6: shared vCPUs, hyper-threaded.
	{id: "s6.small.1", family: "s6", vcpus: 1, ramGiB: 1, maxRate: 800, minRate: 100, maxPPS: 100000, nics: 1},
	{id: "s6.medium.2", family: "s6", vcpus: 1, ramGiB: 2, maxRate: 800, minRate: 100, maxPPS: 100000, nics: 1},
	{id: "s6.medium.4", family: "s6", vcpus: 1, ramGiB: 4, maxRate: 800, minRate: 100, maxPPS: 100000, nics: 1},
	{id: "s6.large.2", family: "s6", vcpus: 2, ramGiB: 4, maxRate: 1500, minRate: 200, maxPPS: 150000, nics: 1, az: [3]string{normal, sellout, normal}},
	{id: "s6.large.4", family: "s6", vcpus: 2, ramGiB: 8, maxRate: 1500, minRate: 200, maxPPS: 150000, nics: 1},
	{id: "s6.xlarge.2", family: "s6", vcpus: 4, ramGiB: 8, maxRate: 2000, minRate: 350, maxPPS: 250000, nics: 2},
	{id: "s6.xlarge.4", family: "s6", vcpus: 4, ramGiB: 16, maxRate: 2000, minRate: 350, maxPPS: 250000, nics: 2},
	{id: "s6.2xlarge.2", family: "s6", vcpus: 8, ramGiB: 16, maxRate: 3000, minRate: 750, maxPPS: 500000, nics: 2},
	{id: "s6.2xlarge.4", family: "s6", vcpus: 8, ramGiB: 32, maxRate: 3000, minRate: 750, maxPPS: 500000, nics: 2},

	// General computing S7.
	{id: "s7.small.1", family: "s7", vcpus: 1, ramGiB: 1, maxRate: 800, minRate: 100, maxPPS: 100000, nics: 1},
	{id: "s7.medium.2", family: "s7", vcpus: 1, ramGiB: 2, maxRate: 800, minRate: 100, maxPPS: 100000, nics: 1},
	{id: "s7.large.2", family: "s7", vcpus: 2, ramGiB: 4, maxRate: 1500, minRate: 200, maxPPS: 200000, nics: 1},
	{id: "s7.large.4", family: "s7", vcpus: 2, ramGiB: 8, maxRate: 1500, minRate: 200, maxPPS: 200000, nics: 1},
	{id: "s7.xlarge.2", family: "s7", vcpus: 4, ramGiB: 8, maxRate: 2000, minRate: 350, maxPPS: 300000, nics: 2},
	{id: "s7.xlarge.4", family: "s7", vcpus: 4, ramGiB: 16, maxRate: 2000, minRate: 350, maxPPS: 300000, nics: 2},
	{id: "s7.2xlarge.2", family: "s7", vcpus: 8, ramGiB: 16, maxRate: 3000, minRate: 750, maxPPS: 500000, nics: 2},

	// General computing-plus C6: dedicated vCPUs, hyper-threading can be
	// turned off.
	{id: "c6.large.2", family: "c6", vcpus: 2, ramGiB: 4, maxRate: 4000, minRate: 1200, maxPPS: 400000, nics: 2},
	{id: "c6.large.4", family: "c6", vcpus: 2, ramGiB: 8, maxRate: 4000, minRate: 1200, maxPPS: 400000, nics: 2},
	{id: "c6.xlarge.2", family: "c6", vcpus: 4, ramGiB: 8, maxRate: 8000, minRate: 2400, maxPPS: 800000, nics: 3},
	{id: "c6.xlarge.4", family: "c6", vcpus: 4, ramGiB: 16, maxRate: 8000, minRate: 2400, maxPPS: 800000, nics: 3},
	{id: "c6.2xlarge.2", family: "c6", vcpus: 8, ramGiB: 16, maxRate: 15000, minRate: 4500, maxPPS: 1500000, nics: 4},
	{id: "c6.2xlarge.4", family: "c6", vcpus: 8, ramGiB: 32, maxRate: 15000, minRate: 4500, maxPPS: 1500000, nics: 4},
	{id: "c6.4xlarge.2", family: "c6", vcpus: 16, ramGiB: 32, maxRate: 20000, minRate: 9000, maxPPS: 2800000, nics: 4},
	{id: "c6.4xlarge.4", family: "c6", vcpus: 16, ramGiB: 64, maxRate: 20000, minRate: 9000, maxPPS: 2800000, nics: 4, az: [3]string{normal, normal, sellout}},

	// General computing-plus C7.
	{id: "c7.large.2", family: "c7", vcpus: 2, ramGiB: 4, maxRate: 4000, minRate: 1000, maxPPS: 500000, nics: 2},
	{id: "c7.large.4", family: "c7", vcpus: 2, ramGiB: 8, maxRate: 4000, minRate: 1000, maxPPS: 500000, nics: 2},
	{id: "c7.xlarge.2", family: "c7", vcpus: 4, ramGiB: 8, maxRate: 8000, minRate: 2000, maxPPS: 1000000, nics: 3},
	{id: "c7.xlarge.4", family: "c7", vcpus: 4, ramGiB: 16, maxRate: 8000, minRate: 2000, maxPPS: 1000000, nics: 3},
	{id: "c7.2xlarge.2", family: "c7", vcpus: 8, ramGiB: 16, maxRate: 15000, minRate: 4000, maxPPS: 1500000, nics: 4},
	{id: "c7.2xlarge.4", family: "c7", vcpus: 8, ramGiB: 32, maxRate: 15000, minRate: 4000, maxPPS: 1500000, nics: 4},
	{id: "c7.4xlarge.2", family: "c7", vcpus: 16, ramGiB: 32, maxRate: 25000, minRate: 8000, maxPPS: 3000000, nics: 4},
	{id: "c7.16xlarge.2", family: "c7", vcpus: 64, ramGiB: 128, maxRate: 40000, minRate: 32000, maxPPS: 12000000, nics: 4, sale: obt},

	// Memory-optimized M6 and M7 (1:8).
	{id: "m6.large.8", family: "m6", vcpus: 2, ramGiB: 16, maxRate: 4000, minRate: 1200, maxPPS: 400000, nics: 2},
	{id: "m6.xlarge.8", family: "m6", vcpus: 4, ramGiB: 32, maxRate: 8000, minRate: 2400, maxPPS: 800000, nics: 3},
	{id: "m6.2xlarge.8", family: "m6", vcpus: 8, ramGiB: 64, maxRate: 15000, minRate: 4500, maxPPS: 1500000, nics: 4},
	{id: "m6.4xlarge.8", family: "m6", vcpus: 16, ramGiB: 128, maxRate: 20000, minRate: 9000, maxPPS: 2800000, nics: 4},
	{id: "m6.8xlarge.8", family: "m6", vcpus: 32, ramGiB: 256, maxRate: 30000, minRate: 18000, maxPPS: 5000000, nics: 4, az: [3]string{sellout, normal, normal}},
	{id: "m7.large.8", family: "m7", vcpus: 2, ramGiB: 16, maxRate: 4000, minRate: 1000, maxPPS: 500000, nics: 2},
	{id: "m7.xlarge.8", family: "m7", vcpus: 4, ramGiB: 32, maxRate: 8000, minRate: 2000, maxPPS: 1000000, nics: 3},
	{id: "m7.2xlarge.8", family: "m7", vcpus: 8, ramGiB: 64, maxRate: 15000, minRate: 4000, maxPPS: 1500000, nics: 4},
	{id: "m7.4xlarge.8", family: "m7", vcpus: 16, ramGiB: 128, maxRate: 25000, minRate: 8000, maxPPS: 3000000, nics: 4, sale: promoted},

	// Kunpeng (Arm) KC1 and KM1: one vCPU is one physical core.
	{id: "kc1.small.1", family: "kc1", vcpus: 1, ramGiB: 1, maxRate: 1000, minRate: 200, maxPPS: 150000, nics: 1},
	{id: "kc1.large.2", family: "kc1", vcpus: 2, ramGiB: 4, maxRate: 1500, minRate: 400, maxPPS: 300000, nics: 2},
	{id: "kc1.large.4", family: "kc1", vcpus: 2, ramGiB: 8, maxRate: 1500, minRate: 400, maxPPS: 300000, nics: 2},
	{id: "kc1.xlarge.2", family: "kc1", vcpus: 4, ramGiB: 8, maxRate: 3000, minRate: 800, maxPPS: 500000, nics: 2},
	{id: "kc1.xlarge.4", family: "kc1", vcpus: 4, ramGiB: 16, maxRate: 3000, minRate: 800, maxPPS: 500000, nics: 2},
	{id: "kc1.2xlarge.2", family: "kc1", vcpus: 8, ramGiB: 16, maxRate: 4500, minRate: 1500, maxPPS: 800000, nics: 3},
	{id: "kc1.2xlarge.4", family: "kc1", vcpus: 8, ramGiB: 32, maxRate: 4500, minRate: 1500, maxPPS: 800000, nics: 3, az: [3]string{sellout, normal, normal}},
	{id: "km1.large.8", family: "km1", vcpus: 2, ramGiB: 16, maxRate: 1500, minRate: 400, maxPPS: 300000, nics: 2},
	{id: "km1.xlarge.8", family: "km1", vcpus: 4, ramGiB: 32, maxRate: 3000, minRate: 800, maxPPS: 500000, nics: 2},
	{id: "km1.2xlarge.8", family: "km1", vcpus: 8, ramGiB: 64, maxRate: 4500, minRate: 1500, maxPPS: 800000, nics: 3},
	{id: "km1.4xlarge.8", family: "km1", vcpus: 16, ramGiB: 128, maxRate: 9000, minRate: 3000, maxPPS: 1400000, nics: 4},

	// General-purpose S1 on Xen: the first two sizes are off sale.
	{id: "s1.medium", family: "s1", vcpus: 1, ramGiB: 4, maxRate: 500, minRate: 100, maxPPS: 50000, nics: 1, sale: abandon},
	{id: "s1.large", family: "s1", vcpus: 2, ramGiB: 8, maxRate: 800, minRate: 200, maxPPS: 100000, nics: 1, sale: abandon},
	{id: "s1.xlarge", family: "s1", vcpus: 4, ramGiB: 16, maxRate: 1000, minRate: 400, maxPPS: 150000, nics: 2},
	{id: "s1.2xlarge", family: "s1", vcpus: 8, ramGiB: 32, maxRate: 1500, minRate: 800, maxPPS: 200000, nics: 2},
	{id: "s1.4xlarge", family: "s1", vcpus: 16, ramGiB: 64, maxRate: 2000, minRate: 1200, maxPPS: 300000, nics: 2, az: [3]string{normal, sellout, normal}},

	// Large-memory E3, sold yearly/monthly only. The two largest need the
	// large-memory hosts of zones a and b.
	{id: "e3.7xlarge.12", family: "e3", vcpus: 28, ramGiB: 348, maxRate: 10000, minRate: 5000, maxPPS: 1200000, nics: 4},
	{id: "e3.14xlarge.12", family: "e3", vcpus: 56, ramGiB: 696, maxRate: 17000, minRate: 10000, maxPPS: 2400000, nics: 4, az: [3]string{normal, normal, sellout}},
	{id: "e3.26xlarge.14", family: "e3", vcpus: 104, ramGiB: 1456, maxRate: 25000, minRate: 17000, maxPPS: 4000000, nics: 4, az: [3]string{normal, abandon, sellout}},

	// Disk-intensive D6: local SATA disks of 1800 GB.
	{id: "d6.xlarge.4", family: "d6", vcpus: 4, ramGiB: 16, maxRate: 5000, minRate: 1500, maxPPS: 500000, nics: 2, devices: 2},
	{id: "d6.2xlarge.4", family: "d6", vcpus: 8, ramGiB: 32, maxRate: 10000, minRate: 3000, maxPPS: 1000000, nics: 3, devices: 4},
	{id: "d6.4xlarge.4", family: "d6", vcpus: 16, ramGiB: 64, maxRate: 20000, minRate: 6000, maxPPS: 2000000, nics: 4, devices: 8},
	{id: "d6.8xlarge.4", family: "d6", vcpus: 32, ramGiB: 128, maxRate: 25000, minRate: 12000, maxPPS: 4000000, nics: 4, devices: 16, az: [3]string{normal, sellout, normal}},

	// Ultra-high I/O I3: local NVMe SSDs of 1600 GB.
	{id: "i3.2xlarge.8", family: "i3", vcpus: 8, ramGiB: 64, maxRate: 5000, minRate: 2500, maxPPS: 1000000, nics: 4, devices: 1},
	{id: "i3.4xlarge.8", family: "i3", vcpus: 16, ramGiB: 128, maxRate: 10000, minRate: 5000, maxPPS: 1500000, nics: 4, devices: 2},
	{id: "i3.8xlarge.8", family: "i3", vcpus: 32, ramGiB: 256, maxRate: 15000, minRate: 10000, maxPPS: 3000000, nics: 4, devices: 4},
	{id: "i3.15xlarge.8", family: "i3", vcpus: 60, ramGiB: 512, maxRate: 25000, minRate: 17000, maxPPS: 5000000, nics: 4, devices: 7, az: [3]string{normal, normal, sellout}},

	// GPU-accelerated P2s (V100 32 GB), sold in zones a and b only; the
	// 8-GPU size is sold out everywhere.
	{id: "p2s.2xlarge.8", family: "p2s", vcpus: 8, ramGiB: 64, maxRate: 10000, minRate: 4000, maxPPS: 500000, nics: 4, devices: 1, az: [3]string{normal, normal, sellout}},
	{id: "p2s.4xlarge.8", family: "p2s", vcpus: 16, ramGiB: 128, maxRate: 15000, minRate: 8000, maxPPS: 1000000, nics: 4, devices: 2, az: [3]string{normal, normal, sellout}},
	{id: "p2s.8xlarge.8", family: "p2s", vcpus: 32, ramGiB: 256, maxRate: 25000, minRate: 15000, maxPPS: 2000000, nics: 4, devices: 4, az: [3]string{normal, normal, sellout}},
	{id: "p2s.16xlarge.8", family: "p2s", vcpus: 64, ramGiB: 512, maxRate: 30000, minRate: 30000, maxPPS: 4000000, nics: 4, devices: 8, sale: sellout},

	// GPU inference Pi2 (T4 16 GB).
	{id: "pi2.2xlarge.4", family: "pi2", vcpus: 8, ramGiB: 32, maxRate: 10000, minRate: 4000, maxPPS: 500000, nics: 4, devices: 1},
	{id: "pi2.4xlarge.4", family: "pi2", vcpus: 16, ramGiB: 64, maxRate: 15000, minRate: 8000, maxPPS: 1000000, nics: 4, devices: 2},
	{id: "pi2.8xlarge.4", family: "pi2", vcpus: 32, ramGiB: 128, maxRate: 25000, minRate: 15000, maxPPS: 2000000, nics: 4, devices: 4, az: [3]string{normal, sellout, normal}},
}

// maxVNICBandwidth is the ceiling of instance_vnic:instance_bandwidth
// (Mbit/s) that the API documents.
const maxVNICBandwidth = 10000

// familyExtraSpecs returns the extra specs that every flavor of fam carries.
func familyExtraSpecs(fam *familySpec) map[string]string {
	s := map[string]string{
		"ecs:performancetype":          fam.perfType,
		"ecs:generation":               fam.Name,
		"ecs:virtualization_env_types": fam.Virtualization,
		"resource_type":                fam.resourceType,
		"info:cpu:name":                fam.cpuName,
	}
	if fam.Arch == ArchArm64 {
		s["ecs:instance_architecture"] = ArchArm64
	}
	if fam.dedicated {
		s["hw:cpu_policy"] = "dedicated"
	}
	if fam.threads != "" {
		s["hw:cpu_threads"] = fam.threads
	}
	if fam.Virtualization == VirtKVM {
		s["instance_vnic:type"] = "enhanced"
	}
	setIf(s, "cond:compute:live_resizable", fam.liveResize)
	setIf(s, "cond:spot:operation:status", fam.spot)
	setIf(s, "cond:operation:charge", fam.charge)
	if fam.gpu != nil {
		s["pci_passthrough:enable_gpu"] = "true"
		s["quota:gpu"] = fam.gpuAlias
	}
	if fam.diskKey != "" {
		s["cond:storage"] = "localdisk"
	}
	return s
}

// numaNodes returns hw:numa_nodes for a flavor of vcpus vCPUs: flavors that
// span more than one socket of a 2 x 24-core host get two nodes.
func numaNodes(vcpus int) string {
	if vcpus > 48 {
		return "2"
	}
	return "1"
}

// buildFlavor returns the flavor of row r in a region whose zones are azs.
func buildFlavor(fam *familySpec, r flavorRow, azs []string) *ecs.Flavor {
	s := familyExtraSpecs(fam)
	s["hw:numa_nodes"] = numaNodes(r.vcpus)
	s["quota:max_rate"] = strconv.Itoa(r.maxRate)
	s["quota:min_rate"] = strconv.Itoa(r.minRate)
	s["quota:max_pps"] = strconv.Itoa(r.maxPPS)
	if fam.Virtualization == VirtKVM {
		s["instance_vnic:instance_bandwidth"] = strconv.Itoa(min(r.maxRate, maxVNICBandwidth))
		s["instance_vnic:max_count"] = strconv.Itoa(r.nics)
	}
	setIf(s, "cond:operation:status", r.sale)
	if r.az != [3]string{} {
		parts := make([]string, len(azs))
		for i, az := range azs {
			st := r.az[i]
			if st == "" {
				st = cmp.Or(r.sale, ecs.SaleNormal)
			}
			parts[i] = az + "(" + st + ")"
		}
		s["cond:operation:az"] = strings.Join(parts, ", ")
	}
	switch {
	case fam.diskKey == keyLocal:
		s[keyLocal] = fmt.Sprintf("%s:%d:%d:true", fam.diskType, r.devices, fam.diskGB)
	case fam.diskKey == keyNVMe:
		s[keyNVMe] = fmt.Sprintf("%s:%dG:%d:true", fam.diskType, fam.diskGB, r.devices)
	case fam.gpu != nil:
		s["pci_passthrough:alias"] = fmt.Sprintf("%s:%d", fam.gpuAlias, r.devices)
	}
	f := &ecs.Flavor{
		ID:         r.id,
		Name:       r.id,
		VCPUs:      r.vcpus,
		RAMMB:      r.ramGiB * 1024,
		Family:     fam.Name,
		ExtraSpecs: s,
	}
	fillGPUs(fam, f)
	return f
}

// fillGPUs sets f.GPUs from pci_passthrough:alias for a GPU family, and the
// descriptive GPU keys when they are absent. It does nothing for other
// families. The alias must have been validated (parseGPUAlias).
func fillGPUs(fam *familySpec, f *ecs.Flavor) {
	if fam.gpu == nil {
		f.GPUs = nil
		return
	}
	n, err := parseGPUAlias(fam, f.ExtraSpecs["pci_passthrough:alias"])
	if err != nil {
		return
	}
	f.GPUs = []ecs.GPU{{Name: fam.gpu.Name, Count: n, MemoryMB: fam.gpu.MemoryMB}}
	if f.ExtraSpecs["pci_passthrough:gpu_specs"] == "" {
		f.ExtraSpecs["pci_passthrough:gpu_specs"] = fmt.Sprintf("%s:%d", fam.gpuAlias, n)
	}
	if f.ExtraSpecs["info:gpu:name"] == "" {
		f.ExtraSpecs["info:gpu:name"] = fmt.Sprintf("%d * %s / %d * %dG", n, fam.gpu.Name, n, fam.gpu.MemoryMB/1024)
	}
}

// parseGPUAlias returns the GPU count of a pci_passthrough:alias value
// "<device>:<count>" whose device is the family's.
func parseGPUAlias(fam *familySpec, alias string) (int, error) {
	dev, count, ok := strings.Cut(alias, ":")
	if !ok || dev != fam.gpuAlias {
		return 0, fmt.Errorf("pci_passthrough:alias %q: want %q followed by \":<count>\"", alias, fam.gpuAlias+":")
	}
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("pci_passthrough:alias %q: GPU count must be a positive integer", alias)
	}
	return n, nil
}

// FlavorArch returns the CPU architecture of f: ArchArm64 when its
// ecs:instance_architecture extra spec is "arm64", else ArchX86.
func FlavorArch(f *ecs.Flavor) string {
	if f.ExtraSpecs["ecs:instance_architecture"] == ArchArm64 {
		return ArchArm64
	}
	return ArchX86
}

// cloneFlavor returns a deep copy of f.
func cloneFlavor(f *ecs.Flavor) *ecs.Flavor {
	c := *f
	c.ExtraSpecs = maps.Clone(f.ExtraSpecs)
	if f.GPUs != nil {
		c.GPUs = append([]ecs.GPU(nil), f.GPUs...)
	}
	return &c
}

func setIf(m map[string]string, key, value string) {
	if value != "" {
		m[key] = value
	}
}
