package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

const (
	azA = catalog.DefaultRegion + "a"
	azB = catalog.DefaultRegion + "b"
	azC = catalog.DefaultRegion + "c"
)

func TestFlavor_SaleStatusOfCatalogueEntries(t *testing.T) {
	t.Parallel()
	c := catalog.Default()
	tests := []struct {
		flavor, az string
		want       string
		onSale     bool
	}{
		{"s6.small.1", azA, ecs.SaleNormal, true},
		{"s6.small.1", "", ecs.SaleNormal, true},
		{"s6.large.2", azA, ecs.SaleNormal, true},
		{"s6.large.2", azB, ecs.SaleSellout, false},
		{"s6.large.2", azC, ecs.SaleNormal, true},
		{"s6.large.2", "", ecs.SaleNormal, true}, // no AZ: region-wide status
		{"s6.large.2", "cn-north-4z", ecs.SaleNormal, true},
		{"c6.4xlarge.4", azC, ecs.SaleSellout, false},
		{"m6.8xlarge.8", azA, ecs.SaleSellout, false},
		{"kc1.2xlarge.4", azA, ecs.SaleSellout, false},
		{"kc1.2xlarge.4", azB, ecs.SaleNormal, true},
		{"s1.medium", azA, ecs.SaleAbandon, false},
		{"s1.large", "", ecs.SaleAbandon, false},
		{"s1.4xlarge", azB, ecs.SaleSellout, false},
		{"c7.16xlarge.2", azB, ecs.SaleObt, true},
		{"m7.4xlarge.8", azC, ecs.SalePromotion, true},
		{"e3.26xlarge.14", azA, ecs.SaleNormal, true},
		{"e3.26xlarge.14", azB, ecs.SaleAbandon, false},
		{"e3.26xlarge.14", azC, ecs.SaleSellout, false},
		{"p2s.2xlarge.8", azC, ecs.SaleSellout, false},
		{"p2s.16xlarge.8", azA, ecs.SaleSellout, false},
		{"p2s.16xlarge.8", "", ecs.SaleSellout, false},
	}
	for _, tt := range tests {
		f := mustFlavor(t, c, tt.flavor)
		if got := f.SaleStatus(tt.az); got != tt.want {
			t.Errorf("%s.SaleStatus(%q) = %q, want %q", tt.flavor, tt.az, got, tt.want)
		}
		if got := f.OnSale(tt.az); got != tt.onSale {
			t.Errorf("%s.OnSale(%q) = %v, want %v", tt.flavor, tt.az, got, tt.onSale)
		}
	}
}

// TestFlavor_AZSpecsParse checks every cond:operation:az of the catalogue
// against an independent reading of the format: every zone of the region
// listed once, in order, and SaleStatus agreeing with the listed status.
func TestFlavor_AZSpecsParse(t *testing.T) {
	t.Parallel()
	for _, region := range []string{catalog.DefaultRegion, "la-south-2"} {
		c := mustNew(t, region, nil)
		zones := catalog.AZNames(region)
		n := 0
		for _, f := range c.Flavors() {
			spec, ok := f.ExtraSpecs["cond:operation:az"]
			if !ok {
				continue
			}
			n++
			parts := strings.Split(spec, ", ")
			if len(parts) != len(zones) {
				t.Errorf("%s: cond:operation:az %q does not list the %d zones", f.ID, spec, len(zones))
				continue
			}
			for i, part := range parts {
				zone, status, _ := strings.Cut(strings.TrimSuffix(part, ")"), "(")
				if zone != zones[i] {
					t.Errorf("%s: entry %d names %q, want %q", f.ID, i, zone, zones[i])
				}
				if !slices.Contains(allowedSale, status) {
					t.Errorf("%s: entry %q has status %q", f.ID, part, status)
				}
				if got := f.SaleStatus(zone); got != status {
					t.Errorf("%s.SaleStatus(%q) = %q, spec says %q", f.ID, zone, got, status)
				}
			}
		}
		if n < 5 {
			t.Errorf("%s: only %d flavors carry cond:operation:az", region, n)
		}
	}
}
