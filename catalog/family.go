package catalog

import "github.com/ecsd-dev/ecsd"

// CPU architectures, in the vocabulary of hosts and flavors. A flavor is Arm
// when its ecs:instance_architecture extra spec is "arm64"; without that key
// it is x86.
const (
	ArchX86   = "x86_64"
	ArchArm64 = "arm64"
)

// Virtualization types, as in the ecs:virtualization_env_types extra spec.
const (
	VirtKVM = "CloudCompute"  // KVM
	VirtXen = "FusionCompute" // Xen
)

// Family categories. The resize rules speak of them.
const (
	CategoryGeneral     = "general"
	CategoryCompute     = "compute"
	CategoryMemory      = "memory"
	CategoryLargeMemory = "large-memory"
	CategoryGPU         = "gpu"
	CategoryLocalDisk   = "local-disk"
	CategoryArm         = "arm"
)

// Family describes one flavor family of the catalogue, as the resize rules
// see it.
type Family struct {
	Name           string // e.g. "s6"; equal to the flavors' ecs:generation
	Description    string // e.g. "General computing S6"
	Category       string // one of the Category constants
	Arch           string // ArchX86 or ArchArm64
	Virtualization string // VirtKVM or VirtXen
	// ResizeGroup names the set of families whose flavors may change into
	// each other. GPU and local-disk families are groups of their own.
	ResizeGroup string
}

// familySpec is a family plus the extra specs its flavors share.
type familySpec struct {
	Family
	perfType     string // ecs:performancetype
	resourceType string // resource_type
	cpuName      string // info:cpu:name
	dedicated    bool   // hw:cpu_policy=dedicated
	threads      string // hw:cpu_threads: "2" when hyper-threaded, "" when unset
	liveResize   string // cond:compute:live_resizable, "" when unset
	spot         string // cond:spot:operation:status, "" when unset (= abandon)
	charge       string // cond:operation:charge, "" when unset (= both)

	gpu      *ecs.GPU // model of the family's GPU (Count unused), nil if none
	gpuAlias string   // pci_passthrough:alias device name, e.g. "nvidia-v100"

	diskKey  string // "quota:local_disk" or "quota:nvme_ssd", "" if none
	diskType string // first field of the disk spec, e.g. "SATA"
	diskGB   int    // size of one local disk
}

// Resize groups.
const (
	groupX86 = "x86-general" // general, compute and memory families on x86, KVM and Xen
	groupArm = "kunpeng"     // Kunpeng general and memory families
	groupE3  = "large-memory"
	groupP2s = "gpu-p2s"
	groupPi2 = "gpu-pi2"
	groupD6  = "local-disk-d6"
	groupI3  = "local-disk-i3"
)

// Extra-spec keys and values the family table uses.
const (
	keyLocal  = "quota:local_disk"
	keyNVMe   = "quota:nvme_ssd"
	htEnabled = "2"
)

// families is the default family table. It is never modified: New copies what
// it needs.
var families = []familySpec{
	{
		Family:       Family{"s6", "General computing S6", CategoryGeneral, ArchX86, VirtKVM, groupX86},
		perfType:     "normal",
		resourceType: "IOoptimizedS6",
		cpuName:      "Intel Xeon Cascade Lake 2.6GHz",
		threads:      htEnabled,
		liveResize:   "false",
		spot:         ecs.SaleNormal,
	},
	{
		Family:       Family{"s7", "General computing S7", CategoryGeneral, ArchX86, VirtKVM, groupX86},
		perfType:     "normal",
		resourceType: "IOoptimizedS7",
		cpuName:      "Intel Xeon Ice Lake 2.6GHz",
		threads:      htEnabled,
		liveResize:   "true",
	},
	{
		Family:       Family{"c6", "General computing-plus C6", CategoryCompute, ArchX86, VirtKVM, groupX86},
		perfType:     "computingv3",
		resourceType: "IOoptimizedC6",
		cpuName:      "Intel Xeon Cascade Lake 3.0GHz",
		dedicated:    true,
		threads:      htEnabled,
		liveResize:   "false",
		spot:         ecs.SaleNormal,
	},
	{
		Family:       Family{"c7", "General computing-plus C7", CategoryCompute, ArchX86, VirtKVM, groupX86},
		perfType:     "computingv3",
		resourceType: "IOoptimizedC7",
		cpuName:      "Intel Xeon Ice Lake 3.0GHz",
		dedicated:    true,
		threads:      htEnabled,
		liveResize:   "true",
		spot:         ecs.SaleNormal,
	},
	{
		Family:       Family{"m6", "Memory-optimized M6", CategoryMemory, ArchX86, VirtKVM, groupX86},
		perfType:     "highmem",
		resourceType: "IOoptimizedM6",
		cpuName:      "Intel Xeon Cascade Lake 3.0GHz",
		dedicated:    true,
		threads:      htEnabled,
		liveResize:   "false",
	},
	{
		Family:       Family{"m7", "Memory-optimized M7", CategoryMemory, ArchX86, VirtKVM, groupX86},
		perfType:     "highmem",
		resourceType: "IOoptimizedM7",
		cpuName:      "Intel Xeon Ice Lake 3.0GHz",
		dedicated:    true,
		threads:      htEnabled,
		liveResize:   "true",
	},
	{
		Family:       Family{"kc1", "Kunpeng general computing-plus KC1", CategoryArm, ArchArm64, VirtKVM, groupArm},
		perfType:     "kunpeng_computing",
		resourceType: "IOoptimizedKC1",
		cpuName:      "Huawei Kunpeng 920 2.6GHz",
		dedicated:    true,
		spot:         ecs.SaleNormal,
	},
	{
		Family:       Family{"km1", "Kunpeng memory-optimized KM1", CategoryArm, ArchArm64, VirtKVM, groupArm},
		perfType:     "kunpeng_highmem",
		resourceType: "IOoptimizedKM1",
		cpuName:      "Huawei Kunpeng 920 2.6GHz",
		dedicated:    true,
	},
	{
		Family:       Family{"s1", "General-purpose S1 (Xen)", CategoryGeneral, ArchX86, VirtXen, groupX86},
		perfType:     "normal",
		resourceType: "general",
		cpuName:      "Intel Xeon Haswell 2.6GHz",
	},
	{
		Family:       Family{"e3", "Large-memory E3", CategoryLargeMemory, ArchX86, VirtKVM, groupE3},
		perfType:     "saphana",
		resourceType: "IOoptimizedE3",
		cpuName:      "Intel Xeon Skylake 2.5GHz",
		dedicated:    true,
		threads:      htEnabled,
		charge:       "period",
	},
	{
		Family:       Family{"d6", "Disk-intensive D6", CategoryLocalDisk, ArchX86, VirtKVM, groupD6},
		perfType:     "diskintensive",
		resourceType: "IOoptimizedD6",
		cpuName:      "Intel Xeon Cascade Lake 2.6GHz",
		dedicated:    true,
		threads:      htEnabled,
		diskKey:      keyLocal,
		diskType:     "SATA",
		diskGB:       1800,
	},
	{
		Family:       Family{"i3", "Ultra-high I/O I3", CategoryLocalDisk, ArchX86, VirtKVM, groupI3},
		perfType:     "highio",
		resourceType: "IOoptimizedI3",
		cpuName:      "Intel Xeon Skylake 3.0GHz",
		dedicated:    true,
		threads:      htEnabled,
		diskKey:      keyNVMe,
		diskType:     "NVMe",
		diskGB:       1600,
	},
	{
		Family:       Family{"p2s", "GPU-accelerated P2s (NVIDIA V100)", CategoryGPU, ArchX86, VirtKVM, groupP2s},
		perfType:     "gpu",
		resourceType: "IOoptimizedP2s",
		cpuName:      "Intel Xeon Skylake 2.6GHz",
		dedicated:    true,
		threads:      htEnabled,
		gpu:          &ecs.GPU{Name: "NVIDIA V100", MemoryMB: 32 * 1024},
		gpuAlias:     "nvidia-v100",
	},
	{
		Family:       Family{"pi2", "GPU inference Pi2 (NVIDIA T4)", CategoryGPU, ArchX86, VirtKVM, groupPi2},
		perfType:     "gpu",
		resourceType: "IOoptimizedPI2",
		cpuName:      "Intel Xeon Cascade Lake 2.6GHz",
		dedicated:    true,
		threads:      htEnabled,
		gpu:          &ecs.GPU{Name: "NVIDIA T4", MemoryMB: 16 * 1024},
		gpuAlias:     "nvidia-t4",
	},
}
