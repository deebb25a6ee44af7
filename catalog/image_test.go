package catalog_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Image IDs the tests use.
const (
	imgUbuntu2204    = "abe65701-8a26-40ec-b381-c10498ca3745"
	imgCentOS79      = "cbdc5264-239f-4068-be79-a7d5ac927551"
	imgWindows2019   = "65029537-55c8-422e-b822-1cf110213b16"
	imgUbuntu2204Arm = "764cb9f7-bcfd-460e-951c-077b29c321ed"
)

func TestCatalog_Images(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	imgs := c.Images()
	if len(imgs) < 8 {
		t.Errorf("%d images, want at least 8", len(imgs))
	}
	seen := map[string]bool{}
	var windows, arm, xen, xenOnly bool
	for _, img := range imgs {
		if !uuidPattern.MatchString(img.ID) || seen[img.ID] {
			t.Errorf("image %q: ID not a unique UUID", img.ID)
		}
		seen[img.ID] = true
		xenOnly = xenOnly || (img.SupportsXen && !img.SupportsKVM)
		if img.MinDiskGB != 40 || !(img.SupportsKVM || img.SupportsXen) || img.Name == "" || img.Platform == "" || img.SizeBytes <= 0 || img.Created.IsZero() {
			t.Errorf("image %s: %+v", img.ID, img)
		}
		if img.OSType != "Linux" && img.OSType != "Windows" {
			t.Errorf("image %s: OSType %q", img.ID, img.OSType)
		}
		if img.Architecture != catalog.ImageArchX86 && img.Architecture != catalog.ImageArchAarch64 {
			t.Errorf("image %s: architecture %q", img.ID, img.Architecture)
		}
		windows = windows || img.OSType == "Windows"
		arm = arm || img.Architecture == catalog.ImageArchAarch64
		xen = xen || img.SupportsXen
		got, ok := c.Image(img.ID)
		if !ok || got.Name != img.Name {
			t.Errorf("Image(%s) = %v, %v", img.ID, got, ok)
		}
	}
	if !windows || !arm || !xen || !xenOnly {
		t.Errorf("windows=%v arm=%v xen=%v xenOnly=%v, want all", windows, arm, xen, xenOnly)
	}
	if _, ok := c.Image("00000000-0000-4000-8000-000000000000"); ok {
		t.Errorf("Image of an unknown ID succeeded")
	}
	for _, id := range []string{imgUbuntu2204, imgCentOS79, imgWindows2019, imgUbuntu2204Arm} {
		if _, ok := c.Image(id); !ok {
			t.Errorf("image %s missing", id)
		}
	}
}

func TestCatalog_ImageFits(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	tests := []struct {
		image, flavor string
		wantCode      string
		wantMsg       string
	}{
		{imgUbuntu2204, "s6.large.2", "", ""},
		{imgUbuntu2204, "s6.small.1", "", ""},
		{imgUbuntu2204Arm, "kc1.large.2", "", ""},
		{imgUbuntu2204Arm, "s6.large.2", ecs.CodeImageInvalid, "built for aarch64"},
		{imgUbuntu2204, "kc1.large.2", ecs.CodeImageInvalid, "built for x86_64"},
		{imgWindows2019, "s6.small.1", ecs.CodeImageInvalid, "needs at least 2048 MB"},
		{imgWindows2019, "s6.medium.2", "", ""},
		{imgUbuntu2204, "s1.xlarge", ecs.CodeImageInvalid, "does not support Xen"},
		{imgCentOS79, "s1.xlarge", "", ""},
		{imgWindows2019, "s1.xlarge", "", ""},
	}
	for _, tt := range tests {
		img, ok := c.Image(tt.image)
		if !ok {
			t.Fatalf("image %s missing", tt.image)
		}
		err := c.ImageFits(img, mustFlavor(t, c, tt.flavor))
		if got := errCode(t, err); got != tt.wantCode {
			t.Errorf("ImageFits(%s, %s) = %v, want code %q", img.Name, tt.flavor, err, tt.wantCode)
			continue
		}
		if err != nil && !strings.Contains(ecs.ErrorMessage(err), tt.wantMsg) {
			t.Errorf("ImageFits(%s, %s) message %q lacks %q", img.Name, tt.flavor, ecs.ErrorMessage(err), tt.wantMsg)
		}
	}
}

// TestCatalog_EveryFlavorHasAnImage checks that each flavor can boot at least
// one public image.
func TestCatalog_EveryFlavorHasAnImage(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	for _, f := range c.Flavors() {
		ok := false
		for _, img := range c.Images() {
			ok = ok || c.ImageFits(img, f) == nil
		}
		if !ok {
			t.Errorf("no image fits %s", f.ID)
		}
	}
}
