package catalog

import "github.com/ecsd-dev/ecsd"

// Host is a simulated physical host of an availability zone. The sim driver
// places servers on hosts and keeps the used capacity itself.
type Host struct {
	ID    string
	AZ    string
	VCPUs int
	RAMMB int
	Arch  string // ArchX86 or ArchArm64
}

// Fits reports whether flavor f fits on h when usedVCPUs and usedRAMMB are
// already taken there: the architectures must match and the free vCPUs and
// memory must be at least the flavor's. GPUs and local disks are not modelled.
func (h Host) Fits(f *ecs.Flavor, usedVCPUs, usedRAMMB int) bool {
	return FlavorArch(f) == h.Arch &&
		h.VCPUs-usedVCPUs >= f.VCPUs &&
		h.RAMMB-usedRAMMB >= f.RAMMB
}

// hostRow is one host of the default layout, by zone index (0 = a).
type hostRow struct {
	zone  int
	name  string
	vcpus int
	ramMB int
	arch  string
}

// hostRows is the default host layout of a region. Zones a and b each have a
// large-memory host for the E3, I3 and largest GPU flavors; zone c has a small
// x86 host that fills up quickly, so capacity failures are easy to provoke.
var hostRows = []hostRow{
	{0, "x86-01", 96, 393216, ArchX86},
	{0, "x86-02", 96, 393216, ArchX86},
	{0, "arm-01", 128, 524288, ArchArm64},
	{0, "hm-01", 224, 3145728, ArchX86},
	{1, "x86-01", 96, 393216, ArchX86},
	{1, "x86-02", 96, 393216, ArchX86},
	{1, "arm-01", 128, 524288, ArchArm64},
	{1, "hm-01", 224, 3145728, ArchX86},
	{2, "x86-01", 96, 393216, ArchX86},
	{2, "x86-small", 16, 32768, ArchX86},
	{2, "arm-01", 128, 524288, ArchArm64},
}

// DefaultHosts returns the default simulated hosts of region, in a fixed
// order. Host IDs are the zone name followed by the host's name, e.g.
// "cn-north-4a-x86-01".
func DefaultHosts(region string) []Host {
	azs := AZNames(region)
	hosts := make([]Host, len(hostRows))
	for i, r := range hostRows {
		az := azs[r.zone]
		hosts[i] = Host{ID: az + "-" + r.name, AZ: az, VCPUs: r.vcpus, RAMMB: r.ramMB, Arch: r.arch}
	}
	return hosts
}
