package compute_test

import (
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
)

func TestFindSellPolicies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.Market = &fakeMarket{soldOut: map[string]bool{"s6.small.1/cn-north-4a": true}}
	all, err := b.svc.FindSellPolicies(t.Context(), ecs.SellPolicyFilter{})
	if err != nil || len(all) == 0 {
		t.Fatalf("FindSellPolicies() = %d policies, %v", len(all), err)
	}
	for i, p := range all {
		if p.ID != i+1 || p.SellMode != ecs.SellModeSpot || p.InterruptionPolicy != "immediate" || p.LongestSpotDurationHours <= 0 {
			t.Errorf("policy %d = %+v", i, p)
		}
		f, _ := b.svc.FindFlavorByID(t.Context(), p.FlavorID)
		if f == nil || f.SpotSaleStatus(p.AvailabilityZone) == ecs.SaleAbandon {
			t.Errorf("policy for %s in %s, which is not sold as spot", p.FlavorID, p.AvailabilityZone)
		}
		sold := p.FlavorID == "s6.small.1" && p.AvailabilityZone == "cn-north-4a"
		if (p.SellStatus == ecs.SellSellout) != sold {
			t.Errorf("%s in %s: sell_status %s", p.FlavorID, p.AvailabilityZone, p.SellStatus)
		}
	}
	prefix, az, st := "s6.small", "cn-north-4a", ecs.SellSellout
	got, err := b.svc.FindSellPolicies(t.Context(), ecs.SellPolicyFilter{FlavorID: &prefix, AvailabilityZone: &az, SellStatus: &st})
	if err != nil || len(got) != 1 || got[0].FlavorID != "s6.small.1" {
		t.Errorf("filtered = %v, %v; want the one sold-out s6.small.1 policy", got, err)
	}
	marker := all[0].ID
	page, err := b.svc.FindSellPolicies(t.Context(), ecs.SellPolicyFilter{Marker: &marker, Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != all[1].ID {
		t.Errorf("page after %d = %v, %v", marker, page, err)
	}
}

func TestFlavorCapacity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setHosts(t,
		ecs.Host{ID: "a-1", AZ: "cn-north-4a", VCPUs: 8, RAMMB: 65536, Arch: "x86_64"},
		ecs.Host{ID: "b-1", AZ: "cn-north-4b", VCPUs: 8, RAMMB: 65536, Arch: "x86_64"},
	)
	b.svc.Market = &fakeMarket{taken: map[string][2]int{"b-1": {8, 0}}}
	caps, err := b.svc.FlavorCapacity(t.Context(), "s6.large.2", 4) // 4 × 2 vCPUs
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"cn-north-4a": true, "cn-north-4b": false}
	for _, c := range caps {
		if w, ok := want[c.AvailabilityZone]; ok && c.Prefer != w {
			t.Errorf("%s prefer = %v, want %v", c.AvailabilityZone, c.Prefer, w)
		}
		if c.Region != "cn-north-4" {
			t.Errorf("%s region = %q", c.AvailabilityZone, c.Region)
		}
	}
	if caps, _ := b.svc.FlavorCapacity(t.Context(), "s6.large.2", 5); caps[0].Prefer {
		t.Errorf("5 servers fit in %s's 8 vCPUs", caps[0].AvailabilityZone)
	}
	_, err = b.svc.FlavorCapacity(t.Context(), "nope.large.2", 1)
	requireCode(t, err, ecs.CodeFlavorNotFound)
}
