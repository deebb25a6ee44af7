package compute

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

var _ ecs.MarketService = (*Service)(nil)

// Spot options of every sell policy: ecsd's catalogue carries no spot-block
// durations, so these are fixed (docs/compatibility.md). A flavor may
// override them with the extra specs cond:spot_block:operation:longest_hours
// and cond:spot_block:operation:longest_count.
const (
	spotLongestHours      = 6
	spotLargestCount      = 1
	spotInterruptionImmed = "immediate"
)

// FindSellPolicies implements ecs.MarketService. There is one policy per
// flavor and availability zone where the flavor is sold as spot
// (cond:spot:operation:status / cond:spot:operation:az): "available" when on
// sale, "sellout" when sold out there (also by an injected sold-out fault).
// Flavors not sold as spot (abandon, or no spot keys) have none. IDs number
// the whole list, ordered by flavor then zone, from 1.
func (s *Service) FindSellPolicies(_ context.Context, f ecs.SellPolicyFilter) ([]*ecs.SellPolicy, error) {
	var all []*ecs.SellPolicy
	flavors := s.Catalog.Flavors()
	sortFlavors(flavors, "", "")
	for _, fl := range flavors {
		for _, az := range s.Catalog.AZs() {
			st := fl.SpotSaleStatus(az.Name)
			sell := ""
			switch {
			case st == ecs.SaleSellout || (fl.OnSpotSale(az.Name) && s.soldOut(fl.ID, az.Name)):
				sell = ecs.SellSellout
			case fl.OnSpotSale(az.Name):
				sell = ecs.SellAvailable
			default:
				continue
			}
			all = append(all, &ecs.SellPolicy{
				ID: len(all) + 1, FlavorID: fl.ID, AvailabilityZone: az.Name, SellStatus: sell, SellMode: ecs.SellModeSpot,
				LongestSpotDurationHours: specInt(fl, "cond:spot_block:operation:longest_hours", spotLongestHours),
				LargestSpotDurationCount: specInt(fl, "cond:spot_block:operation:longest_count", spotLargestCount),
				InterruptionPolicy:       spotInterruptionImmed,
			})
		}
	}
	var out []*ecs.SellPolicy
	for _, p := range all {
		if sellPolicyMatches(p, f) {
			out = append(out, p)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func sellPolicyMatches(p *ecs.SellPolicy, f ecs.SellPolicyFilter) bool {
	switch {
	case f.Marker != nil && p.ID <= *f.Marker,
		f.FlavorID != nil && !strings.HasPrefix(p.FlavorID, *f.FlavorID),
		f.SellStatus != nil && p.SellStatus != *f.SellStatus,
		f.SellMode != nil && p.SellMode != *f.SellMode,
		f.AvailabilityZone != nil && p.AvailabilityZone != *f.AvailabilityZone,
		f.LongestSpotDurationHours != nil && p.LongestSpotDurationHours != *f.LongestSpotDurationHours,
		f.LongestSpotDurationHoursGt != nil && p.LongestSpotDurationHours <= *f.LongestSpotDurationHoursGt,
		f.LargestSpotDurationCount != nil && p.LargestSpotDurationCount != *f.LargestSpotDurationCount,
		f.LargestSpotDurationCountGt != nil && p.LargestSpotDurationCount <= *f.LargestSpotDurationCountGt,
		f.InterruptionPolicy != nil && p.InterruptionPolicy != *f.InterruptionPolicy:
		return false
	}
	return true
}

func specInt(f *ecs.Flavor, key string, def int) int {
	if n, err := strconv.Atoi(f.ExtraSpecs[key]); err == nil && n > 0 {
		return n
	}
	return def
}

// FlavorCapacity implements ecs.MarketService. A zone is preferred when the
// flavor is on sale there (and not sold out by a fault) and count servers of
// it fit on its hosts now, after the servers placed, the resizes in
// progress and the capacity that faults take away.
func (s *Service) FlavorCapacity(ctx context.Context, flavorID string, count int) ([]ecs.AZCapacity, error) {
	f, ok := s.Catalog.Flavor(flavorID)
	if !ok {
		return nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", flavorID)
	}
	count = max(count, 1)
	region := ""
	if r, ok := s.Catalog.(interface{ Region() string }); ok {
		region = r.Region()
	}
	var out []ecs.AZCapacity
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, az := range s.Catalog.AZs() {
			c := ecs.AZCapacity{Region: region, AvailabilityZone: az.Name}
			if c.Region == "" {
				c.Region = strings.TrimRight(az.Name, "abcdefghijklmnopqrstuvwxyz")
			}
			if az.Available && f.OnSale(az.Name) && !s.soldOut(f.ID, az.Name) {
				usage, err := s.usageInAZ(ctx, tx, az.Name)
				if err != nil {
					return err
				}
				c.Prefer = place(usage, f, count) != nil
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
