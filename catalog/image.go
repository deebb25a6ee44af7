package catalog

import (
	"time"

	"github.com/ecsd-dev/ecsd"
)

// Image architectures, the values of ecs.Image.Architecture.
const (
	ImageArchX86     = "x86_64"
	ImageArchAarch64 = "aarch64"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// images is the default public image list. IDs are fixed so that
// configurations and tests can name them.
var images = []ecs.Image{
	{
		ID: "abe65701-8a26-40ec-b381-c10498ca3745", Name: "Ubuntu 22.04 server 64bit(40GB)",
		OSType: "Linux", OSVersion: "Ubuntu 22.04 server 64bit", Platform: "Ubuntu", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 2_471_493_632, Created: day(2022, time.June, 8), SupportsKVM: true,
	},
	{
		ID: "abc18505-fd91-4a98-9950-6114f4c4006a", Name: "Ubuntu 20.04 server 64bit(40GB)",
		OSType: "Linux", OSVersion: "Ubuntu 20.04 server 64bit", Platform: "Ubuntu", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 2_254_438_400, Created: day(2020, time.May, 20), SupportsKVM: true, SupportsXen: true,
	},
	{
		ID: "cbdc5264-239f-4068-be79-a7d5ac927551", Name: "CentOS 7.9 64bit(40GB)",
		OSType: "Linux", OSVersion: "CentOS 7.9 64bit", Platform: "CentOS", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 1_718_091_776, Created: day(2020, time.December, 15), SupportsKVM: true, SupportsXen: true,
	},
	{
		// A Xen-era image without the KVM drivers: its servers stay on Xen
		// flavors (resize rule 8, Ecs.0811).
		ID: "5b3f2e0c-6a1d-4c8e-9f27-3d0b1a6c8e45", Name: "CentOS 6.10 64bit(40GB)",
		OSType: "Linux", OSVersion: "CentOS 6.10 64bit", Platform: "CentOS", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 1_503_238_553, Created: day(2018, time.July, 3), SupportsXen: true,
	},
	{
		ID: "4149f66a-8547-46a0-8caf-ec44d591b3b8", Name: "EulerOS 2.9 64bit(40GB)",
		OSType: "Linux", OSVersion: "EulerOS 2.9 64bit", Platform: "EulerOS", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 1_932_787_712, Created: day(2021, time.March, 30), SupportsKVM: true,
	},
	{
		ID: "2c5489ae-5a0f-46ef-a923-fad3cd40cb8a", Name: "Huawei Cloud EulerOS 2.0 Standard 64 bit(40GB)",
		OSType: "Linux", OSVersion: "Huawei Cloud EulerOS 2.0 64bit", Platform: "Huawei Cloud EulerOS", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 2_040_109_056, Created: day(2023, time.February, 22), SupportsKVM: true,
	},
	{
		ID: "8b8c726b-89e1-4b0f-926e-d2847064d935", Name: "Debian 11.1.0 64bit(40GB)",
		OSType: "Linux", OSVersion: "Debian GNU/Linux 11.1.0 64bit", Platform: "Debian", Architecture: ImageArchX86,
		MinDiskGB: 40, SizeBytes: 1_395_654_656, Created: day(2021, time.November, 10), SupportsKVM: true,
	},
	{
		ID: "65029537-55c8-422e-b822-1cf110213b16", Name: "Windows Server 2019 Datacenter 64bit English(40GB)",
		OSType: "Windows", OSVersion: "Windows Server 2019 Datacenter 64bit English", Platform: "Windows", Architecture: ImageArchX86,
		MinDiskGB: 40, MinRAMMB: 2048, SizeBytes: 11_811_160_064, Created: day(2019, time.December, 3), SupportsKVM: true, SupportsXen: true,
	},
	{
		ID: "764cb9f7-bcfd-460e-951c-077b29c321ed", Name: "Ubuntu 22.04 server 64bit with ARM(40GB)",
		OSType: "Linux", OSVersion: "Ubuntu 22.04 server 64bit with ARM", Platform: "Ubuntu", Architecture: ImageArchAarch64,
		MinDiskGB: 40, SizeBytes: 2_362_232_832, Created: day(2022, time.July, 14), SupportsKVM: true,
	},
	{
		ID: "0161b7eb-b316-4e29-ae6d-a7f324db216e", Name: "Huawei Cloud EulerOS 2.0 Standard 64 bit ARM(40GB)",
		OSType: "Linux", OSVersion: "Huawei Cloud EulerOS 2.0 64bit with ARM", Platform: "Huawei Cloud EulerOS", Architecture: ImageArchAarch64,
		MinDiskGB: 40, SizeBytes: 1_975_517_184, Created: day(2023, time.February, 22), SupportsKVM: true,
	},
}

// ImageFits returns nil when img can boot a server of flavor f, else an
// *ecs.Error with code ecs.CodeImageInvalid: the image's architecture
// (x86_64 or aarch64) must match the flavor's, the flavor must have at least
// the image's minimum memory, and the image must support the flavor's
// virtualization (Xen or KVM). It does not look at disk sizes.
func (c *Catalog) ImageFits(img *ecs.Image, f *ecs.Flavor) error {
	flavorArch := FlavorArch(f)
	wantImage := ImageArchX86
	if flavorArch == ArchArm64 {
		wantImage = ImageArchAarch64
	}
	if img.Architecture != wantImage {
		return ecs.Errorf(ecs.CodeImageInvalid,
			"image %s (%s) is built for %s and cannot boot flavor %s, which is %s",
			img.ID, img.Name, img.Architecture, f.ID, flavorArch)
	}
	if f.RAMMB < img.MinRAMMB {
		return ecs.Errorf(ecs.CodeImageInvalid,
			"image %s (%s) needs at least %d MB of memory; flavor %s has %d MB",
			img.ID, img.Name, img.MinRAMMB, f.ID, f.RAMMB)
	}
	switch f.ExtraSpecs["ecs:virtualization_env_types"] {
	case VirtXen:
		if !img.SupportsXen {
			return ecs.Errorf(ecs.CodeImageInvalid,
				"image %s (%s) does not support Xen, which flavor %s uses", img.ID, img.Name, f.ID)
		}
	default:
		if !img.SupportsKVM {
			return ecs.Errorf(ecs.CodeImageInvalid,
				"image %s (%s) does not support KVM, which flavor %s uses", img.ID, img.Name, f.ID)
		}
	}
	return nil
}
