package ecs

import (
	"context"
	"strings"
)

// Sale statuses of a flavor, as in the cond:operation:status and
// cond:operation:az extra specs.
const (
	SaleNormal    = "normal"
	SaleAbandon   = "abandon"
	SaleSellout   = "sellout"
	SaleObt       = "obt"
	SalePromotion = "promotion"
)

// Flavor is one entry of the flavor catalogue: a server shape with its extra
// specs. Flavor IDs and names are equal, as on Huawei Cloud.
type Flavor struct {
	ID     string
	Name   string
	VCPUs  int
	RAMMB  int
	Family string // catalogue family the resize rules speak of, e.g. "s6", "kc1"
	// ExtraSpecs are the os_extra_specs/extra_specs keys exactly as the API
	// returns them (ecs:performancetype, cond:operation:status, ...).
	ExtraSpecs map[string]string
	// GPUs lists the flavor's GPUs (empty for most flavors).
	GPUs []GPU
}

// GPU describes the accelerators of a GPU flavor.
type GPU struct {
	Name     string
	Count    int
	MemoryMB int
}

// SaleStatus returns the flavor's sale status in availability zone az: the
// per-AZ override of cond:operation:az when it names az, else
// cond:operation:status, else normal.
func (f *Flavor) SaleStatus(az string) string {
	return saleStatus(f.ExtraSpecs["cond:operation:az"], f.ExtraSpecs["cond:operation:status"], SaleNormal, az)
}

// SpotSaleStatus returns the flavor's sale status for spot servers in az:
// cond:spot:operation:az for az, else cond:spot:operation:status, else
// abandon (a flavor without spot keys is not sold as spot).
func (f *Flavor) SpotSaleStatus(az string) string {
	return saleStatus(f.ExtraSpecs["cond:spot:operation:az"], f.ExtraSpecs["cond:spot:operation:status"], SaleAbandon, az)
}

// OnSpotSale reports whether spot servers of the flavor can be created in az.
func (f *Flavor) OnSpotSale(az string) bool { return onSale(f.SpotSaleStatus(az)) }

func saleStatus(azs, region, absent, az string) string {
	if azs != "" && az != "" {
		for _, part := range strings.Split(azs, ",") {
			part = strings.TrimSpace(part)
			open := strings.IndexByte(part, '(')
			if open <= 0 || !strings.HasSuffix(part, ")") {
				continue
			}
			if part[:open] == az {
				return part[open+1 : len(part)-1]
			}
		}
	}
	if region != "" {
		return region
	}
	return absent
}

// OnSale reports whether the flavor can be chosen for a new server or as a
// resize target in az.
func (f *Flavor) OnSale(az string) bool { return onSale(f.SaleStatus(az)) }

func onSale(status string) bool {
	switch status {
	case SaleNormal, SaleObt, SalePromotion:
		return true
	}
	return false
}

// SoldFor reports whether the flavor can be bought with a billing mode
// (ChargingPostPaid, ChargingPrePaid or ChargingSpot), from
// cond:operation:charge: "period" sells only yearly/monthly, "demand" only
// pay-per-use (and spot), absent sells both.
func (f *Flavor) SoldFor(chargingMode string) bool {
	switch f.ExtraSpecs["cond:operation:charge"] {
	case "period":
		return chargingMode == ChargingPrePaid
	case "demand":
		return chargingMode != ChargingPrePaid
	}
	return true
}

// CPUThreads returns the flavor's hw:cpu_threads (1 or 2), or 0 if unset.
func (f *Flavor) CPUThreads() int {
	switch f.ExtraSpecs["hw:cpu_threads"] {
	case "1":
		return 1
	case "2":
		return 2
	}
	return 0
}

// FlavorFilter selects flavors. Nil fields do not filter.
type FlavorFilter struct {
	ID               *string
	AvailabilityZone *string // only flavors on sale there
	Marker           *string
	Limit            int
}

// FlavorService reads the flavor catalogue.
type FlavorService interface {
	// FindFlavors returns the flavors that match filter, ordered by ID.
	FindFlavors(ctx context.Context, filter FlavorFilter) ([]*Flavor, error)
	// FindFlavorByID returns the flavor or an ENOTFOUND-class *Error.
	FindFlavorByID(ctx context.Context, id string) (*Flavor, error)
}
