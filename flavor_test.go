package ecs_test

import (
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
)

func TestFlavorSaleStatus(t *testing.T) {
	t.Parallel()
	const az = "cn-north-4a"
	tests := []struct {
		name   string
		specs  map[string]string
		az     string
		want   string
		onSale bool
	}{
		{
			name:   "no specs is normal",
			specs:  nil,
			az:     az,
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "region-wide status only",
			specs:  map[string]string{"cond:operation:status": ecs.SaleSellout},
			az:     az,
			want:   ecs.SaleSellout,
			onSale: false,
		},
		{
			name:   "per-AZ entry wins over the region-wide status",
			specs:  map[string]string{"cond:operation:status": ecs.SaleNormal, "cond:operation:az": "cn-north-4a(sellout), cn-north-4b(normal)"},
			az:     az,
			want:   ecs.SaleSellout,
			onSale: false,
		},
		{
			name:   "per-AZ entry after a comma and a space",
			specs:  map[string]string{"cond:operation:status": ecs.SaleSellout, "cond:operation:az": "cn-north-4a(sellout), cn-north-4b(normal)"},
			az:     "cn-north-4b",
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "entries padded with spaces and tabs",
			specs:  map[string]string{"cond:operation:az": "  cn-north-4b(normal) ,\tcn-north-4a(abandon)  "},
			az:     az,
			want:   ecs.SaleAbandon,
			onSale: false,
		},
		{
			name:   "entries without spaces",
			specs:  map[string]string{"cond:operation:az": "cn-north-4b(normal),cn-north-4a(obt)"},
			az:     az,
			want:   ecs.SaleObt,
			onSale: true,
		},
		{
			name:   "AZ not listed falls back to cond:operation:status",
			specs:  map[string]string{"cond:operation:status": ecs.SalePromotion, "cond:operation:az": "cn-north-4b(sellout)"},
			az:     az,
			want:   ecs.SalePromotion,
			onSale: true,
		},
		{
			name:   "AZ not listed and no status is normal",
			specs:  map[string]string{"cond:operation:az": "cn-north-4b(sellout)"},
			az:     az,
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "unknown AZ falls back",
			specs:  map[string]string{"cond:operation:status": ecs.SaleAbandon, "cond:operation:az": "cn-north-4a(normal)"},
			az:     "xx-nowhere-1a",
			want:   ecs.SaleAbandon,
			onSale: false,
		},
		{
			name:   "empty AZ ignores the per-AZ list",
			specs:  map[string]string{"cond:operation:status": ecs.SaleNormal, "cond:operation:az": "cn-north-4a(sellout)"},
			az:     "",
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "an AZ that only prefixes an entry does not match it",
			specs:  map[string]string{"cond:operation:az": "cn-north-4ab(sellout)"},
			az:     az,
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "an entry that only prefixes the AZ does not match it",
			specs:  map[string]string{"cond:operation:az": "cn-north-4(sellout)"},
			az:     az,
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "first matching entry wins",
			specs:  map[string]string{"cond:operation:az": "cn-north-4a(sellout), cn-north-4a(normal)"},
			az:     az,
			want:   ecs.SaleSellout,
			onSale: false,
		},
		{
			name:   "malformed: no parentheses",
			specs:  map[string]string{"cond:operation:status": ecs.SaleObt, "cond:operation:az": "cn-north-4a sellout"},
			az:     az,
			want:   ecs.SaleObt,
			onSale: true,
		},
		{
			name:   "malformed: missing closing parenthesis",
			specs:  map[string]string{"cond:operation:status": ecs.SaleNormal, "cond:operation:az": "cn-north-4a(sellout"},
			az:     az,
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "malformed: no AZ name before the parenthesis",
			specs:  map[string]string{"cond:operation:status": ecs.SaleNormal, "cond:operation:az": "(sellout)"},
			az:     az,
			want:   ecs.SaleNormal,
			onSale: true,
		},
		{
			name:   "malformed entry does not hide a well-formed one",
			specs:  map[string]string{"cond:operation:az": "garbage, cn-north-4a(sellout), ,,"},
			az:     az,
			want:   ecs.SaleSellout,
			onSale: false,
		},
		{
			name:   "empty list",
			specs:  map[string]string{"cond:operation:status": ecs.SaleSellout, "cond:operation:az": ""},
			az:     az,
			want:   ecs.SaleSellout,
			onSale: false,
		},
		{
			name:   "unknown status is not on sale",
			specs:  map[string]string{"cond:operation:az": "cn-north-4a(private)"},
			az:     az,
			want:   "private",
			onSale: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &ecs.Flavor{ID: "s6.large.2", ExtraSpecs: tc.specs}
			if got := f.SaleStatus(tc.az); got != tc.want {
				t.Errorf("SaleStatus(%q) = %q, want %q (specs %v)", tc.az, got, tc.want, tc.specs)
			}
			if got := f.OnSale(tc.az); got != tc.onSale {
				t.Errorf("OnSale(%q) = %v, want %v (specs %v)", tc.az, got, tc.onSale, tc.specs)
			}
		})
	}
}

func TestFlavorOnSaleByStatus(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]bool{
		ecs.SaleNormal: true, ecs.SaleObt: true, ecs.SalePromotion: true,
		ecs.SaleAbandon: false, ecs.SaleSellout: false, "test": false,
	} {
		f := &ecs.Flavor{ExtraSpecs: map[string]string{"cond:operation:status": status}}
		if got := f.OnSale("cn-north-4a"); got != want {
			t.Errorf("OnSale with status %q = %v, want %v", status, got, want)
		}
	}
}

func TestFlavorCPUThreads(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]int{"": 0, "1": 1, "2": 2, "3": 0, "two": 0} {
		f := &ecs.Flavor{ExtraSpecs: map[string]string{}}
		if value != "" {
			f.ExtraSpecs["hw:cpu_threads"] = value
		}
		if got := f.CPUThreads(); got != want {
			t.Errorf("CPUThreads() with hw:cpu_threads %q = %d, want %d", value, got, want)
		}
	}
}

func TestFlavorSoldFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		charge                  string
		postPaid, prePaid, spot bool
	}{
		{charge: "", postPaid: true, prePaid: true, spot: true},
		{charge: "period", postPaid: false, prePaid: true, spot: false},
		{charge: "demand", postPaid: true, prePaid: false, spot: true},
	}
	for _, tc := range tests {
		f := &ecs.Flavor{ExtraSpecs: map[string]string{}}
		if tc.charge != "" {
			f.ExtraSpecs["cond:operation:charge"] = tc.charge
		}
		for mode, want := range map[string]bool{
			ecs.ChargingPostPaid: tc.postPaid, ecs.ChargingPrePaid: tc.prePaid, ecs.ChargingSpot: tc.spot,
		} {
			if got := f.SoldFor(mode); got != want {
				t.Errorf("SoldFor(%q) with cond:operation:charge %q = %v, want %v", mode, tc.charge, got, want)
			}
		}
	}
}
