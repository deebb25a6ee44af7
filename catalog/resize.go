package catalog

import (
	"strings"

	"github.com/ecsd-dev/ecsd"
)

// resizeCase is what a resize rule looks at.
type resizeCase struct {
	src, dst        *ecs.Flavor
	srcFam, dstFam  *familySpec
	az              string
	xenDriversReady bool
}

// resizeRule refuses a resize when refuses reports true. Rules are tried in
// order; the first refusal wins.
type resizeRule struct {
	name    string
	code    string
	refuses func(c resizeCase) bool
	// reason completes "flavor <src> cannot be changed to <dst>: ". The
	// placeholders {dst}, {az}, {status}, {srccat}, {dstcat}, {srcfam} and
	// {dstfam} are replaced.
	reason string
}

// resizeRules is the resize compatibility table (docs/compatibility.md,
// "Resize rules").
var resizeRules = []resizeRule{
	{
		name:    "same-flavor",
		code:    ecs.CodeSameFlavor,
		refuses: func(c resizeCase) bool { return c.src.ID == c.dst.ID },
		reason:  "it is the current flavor",
	},
	{
		name:    "architecture",
		code:    ecs.CodeBadRequest,
		refuses: func(c resizeCase) bool { return c.srcFam.Arch != c.dstFam.Arch },
		reason:  "x86 and Arm flavors cannot be exchanged",
	},
	{
		name: "kvm-to-xen",
		code: ecs.CodeBadRequest,
		refuses: func(c resizeCase) bool {
			return c.srcFam.Virtualization == VirtKVM && c.dstFam.Virtualization == VirtXen
		},
		reason: "a KVM server cannot move to a Xen flavor",
	},
	{
		name:    "gpu",
		code:    ecs.CodeBadRequest,
		refuses: func(c resizeCase) bool { return eitherIs(c, CategoryGPU) && c.srcFam.Name != c.dstFam.Name },
		reason:  "GPU flavors can change only within their own family ({srcfam} to {dstfam})",
	},
	{
		name:    "local-disk",
		code:    ecs.CodeBadRequest,
		refuses: func(c resizeCase) bool { return eitherIs(c, CategoryLocalDisk) && c.srcFam.Name != c.dstFam.Name },
		reason:  "flavors with local disks can change only within their own family ({srcfam} to {dstfam})",
	},
	{
		name: "large-memory",
		code: ecs.CodeBadRequest,
		refuses: func(c resizeCase) bool {
			return (c.srcFam.Category == CategoryLargeMemory) != (c.dstFam.Category == CategoryLargeMemory)
		},
		reason: "{srccat} and {dstcat} flavors cannot be exchanged",
	},
	{
		name:    "resize-group",
		code:    ecs.CodeBadRequest,
		refuses: func(c resizeCase) bool { return c.srcFam.ResizeGroup != c.dstFam.ResizeGroup },
		reason:  "families {srcfam} and {dstfam} are not interchangeable",
	},
	{
		name: "xen-to-kvm",
		code: ecs.CodeXenToKVM,
		refuses: func(c resizeCase) bool {
			return c.srcFam.Virtualization == VirtXen && c.dstFam.Virtualization == VirtKVM && !c.xenDriversReady
		},
		reason: "a Xen server needs the KVM drivers installed before it can move to a KVM flavor",
	},
	{
		name:    "abandoned",
		code:    ecs.CodeFlavorAbandoned,
		refuses: func(c resizeCase) bool { return c.dst.SaleStatus(c.az) == ecs.SaleAbandon },
		reason:  "{dst} is abandoned in {az}",
	},
	{
		name:    "off-sale",
		code:    ecs.CodeInsufficientCap,
		refuses: func(c resizeCase) bool { return !c.dst.OnSale(c.az) },
		reason:  "{dst} is not on sale in {az} ({status})",
	},
}

func eitherIs(c resizeCase, category string) bool {
	return c.srcFam.Category == category || c.dstFam.Category == category
}

// CheckResize returns nil when a server of flavor src in availability zone az
// may change to flavor dst, else an *ecs.Error whose code says why (see the
// package documentation for the rules and their codes). An empty az checks
// the region-wide sale status only. xenDriversReady reports whether the
// server's guest has the drivers a Xen-to-KVM change needs; it matters only
// when src is a Xen flavor. dst must be a flavor of the catalogue
// (ecs.CodeFlavorNotFound otherwise); src need not be, but its family must be
// known. The sale status of src is ignored.
func (c *Catalog) CheckResize(src, dst *ecs.Flavor, az string, xenDriversReady bool) error {
	if _, ok := c.byID[dst.ID]; !ok {
		return ecs.Errorf(ecs.CodeFlavorNotFound, "flavor %s not found", dst.ID)
	}
	srcFam, ok := c.families[src.Family]
	if !ok {
		return ecs.Errorf(ecs.CodeFlavorNotFound, "flavor %s belongs to unknown family %q", src.ID, src.Family)
	}
	dstFam, ok := c.families[dst.Family]
	if !ok {
		return ecs.Errorf(ecs.CodeFlavorNotFound, "flavor %s belongs to unknown family %q", dst.ID, dst.Family)
	}
	rc := resizeCase{src: src, dst: dst, srcFam: srcFam, dstFam: dstFam, az: az, xenDriversReady: xenDriversReady}
	for _, r := range resizeRules {
		if r.refuses(rc) {
			return ecs.Errorf(r.code, "flavor %s cannot be changed to %s: %s", src.ID, dst.ID, rc.expand(r.reason))
		}
	}
	return nil
}

func (c resizeCase) expand(reason string) string {
	az := c.az
	if az == "" {
		az = "this region"
	}
	return strings.NewReplacer(
		"{dst}", c.dst.ID,
		"{az}", az,
		"{status}", c.dst.SaleStatus(c.az),
		"{srccat}", c.srcFam.Category,
		"{dstcat}", c.dstFam.Category,
		"{srcfam}", c.srcFam.Name,
		"{dstfam}", c.dstFam.Name,
	).Replace(reason)
}

// ResizeTargets returns copies of the flavors, sorted by ID, that a server of
// flavor src in availability zone az may change to: every f with
// CheckResize(src, f, az, true) == nil. Xen-to-KVM targets are listed, as the
// resize_flavors API does not know whether the guest has the KVM drivers; the
// resize itself refuses them with ecs.CodeXenToKVM when it does not. The list
// never contains src or a flavor that is off sale in az.
func (c *Catalog) ResizeTargets(src *ecs.Flavor, az string) []*ecs.Flavor {
	var out []*ecs.Flavor
	for _, f := range c.flavors {
		if c.CheckResize(src, f, az, true) == nil {
			out = append(out, cloneFlavor(f))
		}
	}
	return out
}
