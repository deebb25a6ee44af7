package httpapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// --- batch resize ------------------------------------------------------------

// batchResizeBody is SDK BatchResizeServersReq.
type batchResizeBody struct {
	Resize *batchResizeOption `json:"resize"`
}

// batchResizeOption is SDK BatchResizeServersOption.
type batchResizeOption struct {
	FlavorRef  *string         `json:"flavorRef"`
	Servers    []serverIDWire  `json:"servers"`
	Mode       *string         `json:"mode"`
	CPUOptions *cpuOptionsWire `json:"cpu_options"`
	Promotion  *promotionWire  `json:"promotion"`
}

// promotionWire is SDK Promotion: type and id, both required strings. ecsd
// validates and ignores it (no discounts).
type promotionWire struct {
	Type *string `json:"type"`
	ID   *string `json:"id"`
}

// decodeBatchResize decodes and validates the body of
// POST /v1/{project_id}/cloudservers/batch-resize: flavorRef required,
// servers 1 to ecs.MaxBatchResize unique IDs, mode withStopServer,
// cpu_options as for a single resize, promotion with both fields. All
// problems are Ecs.0005 *ecs.Error values.
func decodeBatchResize(body []byte, projectID string) (*ecs.BatchResizeRequest, error) {
	var b batchResizeBody
	if err := decodeBody(body, &b); err != nil {
		return nil, err
	}
	opt := b.Resize
	if opt == nil {
		return nil, missingField("resize")
	}
	if opt.FlavorRef == nil {
		return nil, missingField("resize.flavorRef")
	}
	flavor, err := requireID("resize.flavorRef", *opt.FlavorRef)
	if err != nil {
		return nil, err
	}
	ids, err := serverIDList("resize.servers", opt.Servers)
	if err != nil {
		return nil, err
	}
	if len(ids) > ecs.MaxBatchResize {
		return nil, invalidField("resize.servers", fmt.Sprintf("must contain at most %d servers, got %d", ecs.MaxBatchResize, len(ids)))
	}
	req := &ecs.BatchResizeRequest{ProjectID: projectID, FlavorID: flavor, ServerIDs: ids}
	if opt.Mode != nil {
		if *opt.Mode != resizeModeWithStop {
			return nil, invalidField("resize.mode", fmt.Sprintf("must be %q, got %q", resizeModeWithStop, *opt.Mode))
		}
		req.WithStop = true
	}
	if req.CPUThreads, err = opt.CPUOptions.threads("resize.cpu_options"); err != nil {
		return nil, err
	}
	if p := opt.Promotion; p != nil {
		if p.Type == nil {
			return nil, missingField("resize.promotion.type")
		}
		if p.ID == nil {
			return nil, missingField("resize.promotion.id")
		}
	}
	return req, nil
}

// --- sell policies -----------------------------------------------------------

// sellModes are the sell_mode values of the SDK enum; only spot is sold.
var sellModes = []string{"postPaid", "prePaid", "spot", "ri"}

// parseSellPolicyFilter reads the query of ListFlavorSellPolicies.
func parseSellPolicyFilter(q url.Values) (ecs.SellPolicyFilter, error) {
	var f ecs.SellPolicyFilter
	var err error
	if f.FlavorID, err = queryOptional(q, "flavor_id"); err != nil {
		return f, err
	}
	if f.AvailabilityZone, err = queryOptional(q, "availability_zone_id"); err != nil {
		return f, err
	}
	enums := []struct {
		key     string
		allowed []string
		dst     **string
	}{
		{"sell_status", []string{ecs.SellAvailable, ecs.SellSellout}, &f.SellStatus},
		{"sell_mode", sellModes, &f.SellMode},
		{"interruption_policy", []string{"immediate", "delay"}, &f.InterruptionPolicy},
	}
	for _, e := range enums {
		v, err := queryOptional(q, e.key)
		if err != nil {
			return f, err
		}
		if v != nil && !slices.Contains(e.allowed, *v) {
			return f, invalidField(e.key, fmt.Sprintf("must be one of %s, got %q", strings.Join(e.allowed, ", "), *v))
		}
		*e.dst = v
	}
	ints := []struct {
		key string
		dst **int
	}{
		{"longest_spot_duration_hours", &f.LongestSpotDurationHours},
		{"longest_spot_duration_hours_gt", &f.LongestSpotDurationHoursGt},
		{"largest_spot_duration_count", &f.LargestSpotDurationCount},
		{"largest_spot_duration_count_gt", &f.LargestSpotDurationCountGt},
	}
	for _, e := range ints {
		if q.Get(e.key) == "" {
			continue
		}
		n, err := queryInt(q, e.key, 0, 1<<31-1, 0)
		if err != nil {
			return f, err
		}
		*e.dst = &n
	}
	if f.Limit, err = queryInt(q, "limit", 1, 1000, 1000); err != nil {
		return f, err
	}
	m, err := queryOptional(q, "marker")
	if err != nil {
		return f, err
	}
	if m != nil {
		n, err := strconv.Atoi(*m)
		if err != nil || n < 0 {
			return f, invalidField("marker", fmt.Sprintf("must be the id of a sell policy, got %q", *m))
		}
		f.Marker = &n
	}
	return f, nil
}

// listSellPoliciesBody is SDK ListFlavorSellPoliciesResponse.
type listSellPoliciesBody struct {
	Count        int32              `json:"count"`
	SellPolicies []sellPolicyResult `json:"sell_policies"`
}

// sellPolicyResult is SDK ListFlavorSellPoliciesResult.
type sellPolicyResult struct {
	ID                 int32            `json:"id"`
	FlavorID           string           `json:"flavor_id"`
	SellStatus         string           `json:"sell_status"`
	AvailabilityZoneID string           `json:"availability_zone_id"`
	SellMode           string           `json:"sell_mode"`
	SpotOptions        *spotOptionsWire `json:"spot_options,omitempty"`
}

// spotOptionsWire is SDK FlavorSpotOptions.
type spotOptionsWire struct {
	LongestSpotDurationHours int32  `json:"longest_spot_duration_hours"`
	LargestSpotDurationCount int32  `json:"largest_spot_duration_count"`
	InterruptionPolicy       string `json:"interruption_policy"`
}

func newListSellPolicies(ps []*ecs.SellPolicy) listSellPoliciesBody {
	out := listSellPoliciesBody{Count: clamp32(len(ps)), SellPolicies: make([]sellPolicyResult, len(ps))}
	for i, p := range ps {
		out.SellPolicies[i] = sellPolicyResult{
			ID: clamp32(p.ID), FlavorID: p.FlavorID, SellStatus: p.SellStatus,
			AvailabilityZoneID: p.AvailabilityZone, SellMode: p.SellMode,
			SpotOptions: &spotOptionsWire{
				LongestSpotDurationHours: clamp32(p.LongestSpotDurationHours),
				LargestSpotDurationCount: clamp32(p.LargestSpotDurationCount),
				InterruptionPolicy:       p.InterruptionPolicy,
			},
		}
	}
	return out
}

// --- flavor capacity ---------------------------------------------------------

// parseFlavorCapacityCount reads the count query of ShowFlavorCapacity (a
// string in the SDK): 1 to 1000, default 1.
func parseFlavorCapacityCount(q url.Values) (int, error) {
	return queryInt(q, "count", 1, 1000, 1)
}

// showFlavorCapacityBody is SDK ShowFlavorCapacityResponse.
type showFlavorCapacityBody struct {
	Resources []flavorCapacityAZ `json:"resources"`
}

// flavorCapacityAZ is SDK QueryFlavorCapacityAzInfo.
type flavorCapacityAZ struct {
	RegionID         string `json:"region_id"`
	AvailabilityZone string `json:"availability_zone"`
	Prefer           bool   `json:"prefer"`
}

func newShowFlavorCapacity(cs []ecs.AZCapacity) showFlavorCapacityBody {
	out := showFlavorCapacityBody{Resources: make([]flavorCapacityAZ, len(cs))}
	for i, c := range cs {
		out.Resources[i] = flavorCapacityAZ{RegionID: c.Region, AvailabilityZone: c.AvailabilityZone, Prefer: c.Prefer}
	}
	return out
}
