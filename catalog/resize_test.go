package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

func TestCatalog_CheckResize(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	tests := []struct {
		name     string
		src, dst string
		az       string
		drivers  bool   // xenDriversReady
		wantCode string // "" = allowed
		wantMsg  string // substring of the message
	}{
		{"same flavor", "s6.large.2", "s6.large.2", azA, false, ecs.CodeSameFlavor, "it is the current flavor"},
		{"within family up", "s6.large.2", "s6.xlarge.2", azA, false, "", ""},
		{"within family down", "s6.2xlarge.4", "s6.small.1", azA, false, "", ""},
		{"s6 to c6", "s6.large.2", "c6.large.2", azA, false, "", ""},
		{"s6 to m6", "s6.large.2", "m6.large.8", azA, false, "", ""},
		{"s6 to s7", "s6.large.2", "s7.large.2", azA, false, "", ""},
		{"c6 to c7", "c6.xlarge.2", "c7.xlarge.4", azA, false, "", ""},
		{"m7 to s6", "m7.xlarge.8", "s6.2xlarge.4", azA, false, "", ""},
		{"c7 to m7", "c7.large.2", "m7.large.8", azA, false, "", ""},
		{"obt target", "c6.large.2", "c7.16xlarge.2", azA, false, "", ""},
		{"promotion target", "m6.large.8", "m7.4xlarge.8", azC, false, "", ""},
		{"abandoned source may leave", "s1.medium", "s1.xlarge", azA, false, "", ""},

		{"x86 to Arm", "s6.large.2", "kc1.large.2", azA, false, ecs.CodeBadRequest,
			"flavor s6.large.2 cannot be changed to kc1.large.2: x86 and Arm flavors cannot be exchanged"},
		{"Arm to x86", "kc1.large.2", "c6.large.2", azA, false, ecs.CodeBadRequest, "x86 and Arm"},
		{"Arm within Kunpeng", "kc1.large.2", "km1.large.8", azA, false, "", ""},
		{"Arm family up", "kc1.small.1", "kc1.xlarge.4", azA, false, "", ""},
		{"Arm sold out in a", "kc1.large.2", "kc1.2xlarge.4", azA, false, ecs.CodeInsufficientCap, "not on sale in cn-north-4a (sellout)"},

		{"general to large-memory", "m6.large.8", "e3.7xlarge.12", azA, false, ecs.CodeBadRequest,
			"memory and large-memory flavors cannot be exchanged"},
		{"large-memory to general", "e3.7xlarge.12", "s6.2xlarge.4", azA, false, ecs.CodeBadRequest,
			"large-memory and general flavors cannot be exchanged"},
		{"large-memory within", "e3.7xlarge.12", "e3.14xlarge.12", azA, false, "", ""},
		{"large-memory sold out", "e3.7xlarge.12", "e3.14xlarge.12", azC, false, ecs.CodeInsufficientCap, ""},
		{"large-memory abandoned in b", "e3.7xlarge.12", "e3.26xlarge.14", azB, false, ecs.CodeFlavorAbandoned,
			"e3.26xlarge.14 is abandoned in cn-north-4b"},

		{"GPU within family", "p2s.2xlarge.8", "p2s.4xlarge.8", azA, false, "", ""},
		{"GPU to other GPU family", "p2s.2xlarge.8", "pi2.2xlarge.4", azA, false, ecs.CodeBadRequest,
			"GPU flavors can change only within their own family (p2s to pi2)"},
		{"general to GPU", "s6.2xlarge.4", "pi2.2xlarge.4", azA, false, ecs.CodeBadRequest, "GPU flavors"},
		{"GPU to general", "pi2.2xlarge.4", "c6.2xlarge.4", azA, false, ecs.CodeBadRequest, "GPU flavors"},
		{"GPU sold out everywhere", "p2s.2xlarge.8", "p2s.16xlarge.8", azA, false, ecs.CodeInsufficientCap, ""},
		{"GPU not sold in c", "p2s.2xlarge.8", "p2s.4xlarge.8", azC, false, ecs.CodeInsufficientCap, ""},

		{"local disk within family", "d6.xlarge.4", "d6.2xlarge.4", azA, false, "", ""},
		{"local disk down within family", "i3.8xlarge.8", "i3.2xlarge.8", azA, false, "", ""},
		{"d6 to i3", "d6.2xlarge.4", "i3.2xlarge.8", azA, false, ecs.CodeBadRequest,
			"flavors with local disks can change only within their own family (d6 to i3)"},
		{"i3 to general", "i3.2xlarge.8", "m6.2xlarge.8", azA, false, ecs.CodeBadRequest, "local disks"},
		{"general to d6", "c6.xlarge.4", "d6.xlarge.4", azA, false, ecs.CodeBadRequest, "local disks"},
		{"local disk sold out in b", "d6.xlarge.4", "d6.8xlarge.4", azB, false, ecs.CodeInsufficientCap, ""},

		{"Xen to KVM without drivers", "s1.xlarge", "s6.xlarge.4", azA, false, ecs.CodeXenToKVM, "KVM drivers"},
		{"Xen to KVM with drivers", "s1.xlarge", "s6.xlarge.4", azA, true, "", ""},
		{"Xen to KVM compute", "s1.2xlarge", "c6.2xlarge.4", azA, true, "", ""},
		{"Xen to KVM with drivers, sold out", "s1.xlarge", "s6.large.2", azB, true, ecs.CodeInsufficientCap, ""},
		{"Xen to Arm is an arch change", "s1.xlarge", "kc1.xlarge.4", azA, false, ecs.CodeBadRequest, "x86 and Arm"},
		{"Xen to Xen", "s1.xlarge", "s1.2xlarge", azA, false, "", ""},
		{"Xen to abandoned Xen", "s1.xlarge", "s1.medium", azA, false, ecs.CodeFlavorAbandoned, "abandoned"},
		{"Xen to sold-out Xen", "s1.xlarge", "s1.4xlarge", azB, false, ecs.CodeInsufficientCap, ""},
		{"KVM to Xen", "s6.xlarge.4", "s1.xlarge", azA, true, ecs.CodeBadRequest, "cannot move to a Xen flavor"},

		{"sold out in b", "s6.xlarge.2", "s6.large.2", azB, false, ecs.CodeInsufficientCap,
			"flavor s6.xlarge.2 cannot be changed to s6.large.2: s6.large.2 is not on sale in cn-north-4b (sellout)"},
		{"same target on sale in a", "s6.xlarge.2", "s6.large.2", azA, false, "", ""},
		{"sold out in c", "c6.large.2", "c6.4xlarge.4", azC, false, ecs.CodeInsufficientCap, ""},
		{"no AZ: region-wide only", "c6.large.2", "c6.4xlarge.4", "", false, "", ""},
		{"no AZ: abandoned", "s1.xlarge", "s1.large", "", false, ecs.CodeFlavorAbandoned, "abandoned in this region"},
		{"compatibility before sale status", "s6.large.2", "kc1.2xlarge.4", azA, false, ecs.CodeBadRequest, "x86 and Arm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, dst := mustFlavor(t, c, tt.src), mustFlavor(t, c, tt.dst)
			err := c.CheckResize(src, dst, tt.az, tt.drivers)
			if got := errCode(t, err); got != tt.wantCode {
				t.Fatalf("CheckResize(%s, %s, %q, %v) = %v, want code %q", tt.src, tt.dst, tt.az, tt.drivers, err, tt.wantCode)
			}
			if err != nil && !strings.Contains(ecs.ErrorMessage(err), tt.wantMsg) {
				t.Errorf("message %q does not contain %q", ecs.ErrorMessage(err), tt.wantMsg)
			}
		})
	}
}

func TestCatalog_CheckResizeUnknownFlavors(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	src := mustFlavor(t, c, "s6.large.2")
	tests := []struct {
		name     string
		src, dst *ecs.Flavor
	}{
		{"target not in catalogue", src, &ecs.Flavor{ID: "s6.huge.2", Name: "s6.huge.2", VCPUs: 2, RAMMB: 4096, Family: "s6"}},
		{"source of unknown family", &ecs.Flavor{ID: "x1.large", Family: "x1"}, mustFlavor(t, c, "s6.xlarge.2")},
	}
	for _, tt := range tests {
		if got := errCode(t, c.CheckResize(tt.src, tt.dst, azA, true)); got != ecs.CodeFlavorNotFound {
			t.Errorf("%s: code %q, want %q", tt.name, got, ecs.CodeFlavorNotFound)
		}
	}
}

// TestCatalog_ResizeTargets checks, for every flavor and zone, that the
// targets are exactly the flavors CheckResize allows, never the source, never
// off sale, of the same architecture, and sorted.
func TestCatalog_ResizeTargets(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	all := c.Flavors()
	for _, az := range append(catalog.AZNames(catalog.DefaultRegion), "") {
		for _, src := range all {
			targets := c.ResizeTargets(src, az)
			ids := make([]string, len(targets))
			for i, f := range targets {
				ids[i] = f.ID
				if f.ID == src.ID {
					t.Errorf("ResizeTargets(%s, %q) contains the source", src.ID, az)
				}
				if !f.OnSale(az) {
					t.Errorf("ResizeTargets(%s, %q) contains %s, which is %s there", src.ID, az, f.ID, f.SaleStatus(az))
				}
				if catalog.FlavorArch(f) != catalog.FlavorArch(src) {
					t.Errorf("ResizeTargets(%s, %q) crosses architectures: %s", src.ID, az, f.ID)
				}
			}
			if !slices.IsSorted(ids) {
				t.Errorf("ResizeTargets(%s, %q) not sorted: %v", src.ID, az, ids)
			}
			for _, f := range all {
				allowed := c.CheckResize(src, f, az, true) == nil
				if allowed != slices.Contains(ids, f.ID) {
					t.Errorf("ResizeTargets(%s, %q): %s listed=%v, CheckResize allows=%v", src.ID, az, f.ID, !allowed, allowed)
				}
			}
		}
	}
}

func TestCatalog_ResizeTargetsExamples(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	tests := []struct {
		src, az  string
		contains []string
		excludes []string
	}{
		{"s6.large.2", azA, []string{"s6.xlarge.2", "c6.large.2", "m7.large.8", "c7.16xlarge.2"},
			[]string{"s6.large.2", "kc1.large.2", "e3.7xlarge.12", "p2s.2xlarge.8", "d6.xlarge.4", "s1.xlarge", "m6.8xlarge.8"}},
		{"s6.xlarge.2", azB, []string{"m6.8xlarge.8"}, []string{"s6.large.2"}},
		{"s1.xlarge", azA, []string{"s1.2xlarge", "s6.large.2", "c6.large.2"}, []string{"s1.medium", "s1.large", "kc1.large.2"}},
		{"kc1.large.2", azA, []string{"kc1.xlarge.4", "km1.4xlarge.8"}, []string{"kc1.2xlarge.4", "s6.large.2"}},
		{"p2s.2xlarge.8", azA, []string{"p2s.4xlarge.8", "p2s.8xlarge.8"}, []string{"p2s.16xlarge.8", "pi2.2xlarge.4"}},
		{"p2s.2xlarge.8", azC, nil, []string{"p2s.4xlarge.8"}},
		{"i3.2xlarge.8", azC, []string{"i3.8xlarge.8"}, []string{"i3.15xlarge.8", "d6.xlarge.4"}},
	}
	for _, tt := range tests {
		var ids []string
		for _, f := range c.ResizeTargets(mustFlavor(t, c, tt.src), tt.az) {
			ids = append(ids, f.ID)
		}
		for _, id := range tt.contains {
			if !slices.Contains(ids, id) {
				t.Errorf("ResizeTargets(%s, %s) lacks %s: %v", tt.src, tt.az, id, ids)
			}
		}
		for _, id := range tt.excludes {
			if slices.Contains(ids, id) {
				t.Errorf("ResizeTargets(%s, %s) contains %s", tt.src, tt.az, id)
			}
		}
	}
}
