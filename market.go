package ecs

import "context"

// Sell statuses and modes of a sell policy (ListFlavorSellPolicies).
const (
	SellAvailable = "available"
	SellSellout   = "sellout"
	SellModeSpot  = "spot"
)

// SellPolicy is how a flavor is sold as spot in one availability zone.
type SellPolicy struct {
	ID                       int // 1-based index in the full, ordered list
	FlavorID                 string
	AvailabilityZone         string
	SellStatus               string // SellAvailable or SellSellout
	SellMode                 string // SellModeSpot
	LongestSpotDurationHours int
	LargestSpotDurationCount int
	InterruptionPolicy       string // "immediate"
}

// SellPolicyFilter selects sell policies. Nil fields do not filter.
type SellPolicyFilter struct {
	FlavorID                   *string // prefix (an exact ID is its own prefix)
	SellStatus                 *string
	SellMode                   *string
	AvailabilityZone           *string
	LongestSpotDurationHours   *int
	LongestSpotDurationHoursGt *int
	LargestSpotDurationCount   *int
	LargestSpotDurationCountGt *int
	InterruptionPolicy         *string
	Marker                     *int // ID of the last policy of the previous page
	Limit                      int  // 0: no limit
}

// AZCapacity says whether an availability zone has room for a flavor.
type AZCapacity struct {
	Region           string
	AvailabilityZone string
	// Prefer: the zone sells the flavor and has room for the asked number
	// of servers of it now.
	Prefer bool
}

// MarketService reports how flavors are sold and where they fit.
type MarketService interface {
	// FindSellPolicies returns the spot sell policies that match filter,
	// ordered by flavor then availability zone.
	FindSellPolicies(ctx context.Context, filter SellPolicyFilter) ([]*SellPolicy, error)
	// FlavorCapacity reports, per availability zone, whether count servers
	// of the flavor fit now; an unknown flavor is CodeFlavorNotFound.
	FlavorCapacity(ctx context.Context, flavorID string, count int) ([]AZCapacity, error)
}
