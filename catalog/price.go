package catalog

import "math"

// The illustrative price list (docs/compatibility.md, "Billing"). Huawei
// publishes prices per region and flavor; ecsd derives a plausible one from
// the flavor's size instead, so that order amounts are deterministic:
//
//	hourly  = (vCPUs × 0.07 + RAM GiB × 0.03) × category factor + GPUs × 6.00  CNY
//	monthly = hourly × 720 × 0.70                                              CNY
//
// both rounded to the cent. The category factors are in categoryFactor.
const (
	pricePerVCPUHour  = 0.07
	pricePerGiBHour   = 0.03
	pricePerGPUHour   = 6.00
	hoursPerMonth     = 720
	monthlyDiscount   = 0.70
	defaultCategoryPx = 1.0
)

// categoryFactor scales the base price of a family's flavors.
var categoryFactor = map[string]float64{
	CategoryGeneral:     1.00,
	CategoryCompute:     1.10,
	CategoryMemory:      1.20,
	CategoryLargeMemory: 1.35,
	CategoryGPU:         1.10,
	CategoryLocalDisk:   1.25,
	CategoryArm:         0.85,
}

// Price returns the illustrative pay-per-use price per hour and the
// yearly/monthly price per month of a flavor, in CNY, and false when the
// flavor is not in the catalogue.
func (c *Catalog) Price(flavorID string) (hourly, monthly float64, ok bool) {
	f, ok := c.byID[flavorID]
	if !ok {
		return 0, 0, false
	}
	factor := defaultCategoryPx
	if fam, ok := c.families[f.Family]; ok {
		if x, ok := categoryFactor[fam.Category]; ok {
			factor = x
		}
	}
	gpus := 0
	for _, g := range f.GPUs {
		gpus += g.Count
	}
	raw := (float64(f.VCPUs)*pricePerVCPUHour+float64(f.RAMMB)/1024*pricePerGiBHour)*factor + float64(gpus)*pricePerGPUHour
	return cents(raw), cents(raw * hoursPerMonth * monthlyDiscount), true
}

// Price returns the current catalogue's Price.
func (l *Live) Price(flavorID string) (hourly, monthly float64, ok bool) {
	return l.Load().Price(flavorID)
}

// cents rounds an amount to the cent.
func cents(x float64) float64 { return math.Round(x*100) / 100 }
