package httpapi

import (
	"maps"
	"math"
	"strconv"

	ecs "github.com/ecsd-dev/ecsd"
)

// Flavor and quota objects: flavor is the ListFlavors item (SDK Flavor),
// resizeFlavor the ListResizeFlavors item (SDK ListResizeFlavorsResult) and
// limitsResponse the ShowServerLimits body (SDK ShowServerLimitsResponse).

// flavor is SDK Flavor (model_flavor.go): vcpus and disk are strings, ram an
// integer; the extra specs are under os_extra_specs.
type flavor struct {
	flavorBase
	OSExtraSpecs       map[string]string  `json:"os_extra_specs"`
	AttachableQuantity attachableQuantity `json:"attachableQuantity"`
}

// resizeFlavor is SDK ListResizeFlavorsResult: the same base as flavor, but
// the extra specs are under extra_specs and instance_quota is null.
type resizeFlavor struct {
	flavorBase
	ExtraSpecs    map[string]string `json:"extra_specs"`
	InstanceQuota any               `json:"instance_quota"`
}

// flavorBase holds the fields flavor and resizeFlavor share.
type flavorBase struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	VCPUs      string       `json:"vcpus"`
	RAM        int          `json:"ram"`
	Disk       string       `json:"disk"`
	Swap       string       `json:"swap"`
	Ephemeral  int          `json:"OS-FLV-EXT-DATA:ephemeral"`
	Disabled   bool         `json:"OS-FLV-DISABLED:disabled"`
	RxtxFactor float64      `json:"rxtx_factor"`
	RxtxQuota  *string      `json:"rxtx_quota"`
	RxtxCap    *string      `json:"rxtx_cap"`
	IsPublic   bool         `json:"os-flavor-access:is_public"`
	Links      []flavorLink `json:"links"`
}

// flavorLink is SDK FlavorLink; type is always null, as Huawei sends it.
type flavorLink struct {
	Rel  string  `json:"rel"`
	Href string  `json:"href"`
	Type *string `json:"type"`
}

// attachableQuantity is SDK ServerAttachableQuantity.
type attachableQuantity struct {
	FreeSCSI int `json:"free_scsi"`
	FreeBlk  int `json:"free_blk"`
	FreeDisk int `json:"free_disk"`
	FreeNIC  int `json:"free_nic"`
}

// newFlavor returns the ListFlavors item of f. Links are relative to the
// endpoint ("/v1.0/{project_id}/flavors/{id}" and "/{project_id}/flavors/{id}").
func newFlavor(f *ecs.Flavor, projectID string) flavor {
	return flavor{
		flavorBase:         newFlavorBase(f, projectID),
		OSExtraSpecs:       extraSpecs(f),
		AttachableQuantity: attachableQuantity{FreeSCSI: 60, FreeBlk: 24, FreeDisk: 59, FreeNIC: 12},
	}
}

// newResizeFlavor returns the ListResizeFlavors item of f.
func newResizeFlavor(f *ecs.Flavor, projectID string) resizeFlavor {
	return resizeFlavor{
		flavorBase: newFlavorBase(f, projectID),
		ExtraSpecs: extraSpecs(f),
	}
}

func newFlavorBase(f *ecs.Flavor, projectID string) flavorBase {
	return flavorBase{
		ID:         f.ID,
		Name:       f.Name,
		VCPUs:      strconv.Itoa(f.VCPUs),
		RAM:        f.RAMMB,
		Disk:       "0",
		Swap:       "",
		RxtxFactor: 1,
		IsPublic:   true,
		Links: []flavorLink{
			{Rel: "self", Href: "/v1.0/" + projectID + "/flavors/" + f.ID},
			{Rel: "bookmark", Href: "/" + projectID + "/flavors/" + f.ID},
		},
	}
}

func extraSpecs(f *ecs.Flavor) map[string]string {
	m := make(map[string]string, len(f.ExtraSpecs))
	maps.Copy(m, f.ExtraSpecs)
	return m
}

// limitsResponse is SDK ShowServerLimitsResponse: {"absolute": {...}}.
type limitsResponse struct {
	Absolute serverLimits `json:"absolute"`
}

// serverLimits is SDK ServerLimits (model_server_limits.go); -1 means
// unlimited.
type serverLimits struct {
	MaxImageMeta            int32         `json:"maxImageMeta"`
	MaxPersonality          int32         `json:"maxPersonality"`
	MaxPersonalitySize      int32         `json:"maxPersonalitySize"`
	MaxSecurityGroupRules   int32         `json:"maxSecurityGroupRules"`
	MaxSecurityGroups       int32         `json:"maxSecurityGroups"`
	MaxServerGroupMembers   int32         `json:"maxServerGroupMembers"`
	MaxServerGroups         int32         `json:"maxServerGroups"`
	MaxServerMeta           int32         `json:"maxServerMeta"`
	MaxTotalCores           int32         `json:"maxTotalCores"`
	MaxTotalFloatingIps     int32         `json:"maxTotalFloatingIps"`
	MaxTotalInstances       int32         `json:"maxTotalInstances"`
	MaxTotalKeypairs        int32         `json:"maxTotalKeypairs"`
	MaxTotalRAMSize         int32         `json:"maxTotalRAMSize"`
	TotalCoresUsed          int32         `json:"totalCoresUsed"`
	TotalFloatingIpsUsed    int32         `json:"totalFloatingIpsUsed"`
	TotalInstancesUsed      int32         `json:"totalInstancesUsed"`
	TotalRAMUsed            int64         `json:"totalRAMUsed"`
	TotalSecurityGroupsUsed int32         `json:"totalSecurityGroupsUsed"`
	TotalServerGroupsUsed   int32         `json:"totalServerGroupsUsed"`
	MaxTotalSpotInstances   int32         `json:"maxTotalSpotInstances"`
	MaxTotalSpotCores       int32         `json:"maxTotalSpotCores"`
	MaxTotalSpotRAMSize     int32         `json:"maxTotalSpotRAMSize"`
	TotalSpotInstancesUsed  int32         `json:"totalSpotInstancesUsed"`
	TotalSpotCoresUsed      int32         `json:"totalSpotCoresUsed"`
	TotalSpotRAMUsed        int32         `json:"totalSpotRAMUsed"`
	LimitByFlavor           []flavorLimit `json:"limit_by_flavor"`
}

// flavorLimit is SDK ProjectFlavorLimit, which declares no fields.
type flavorLimit struct{}

// newLimits returns the ShowServerLimits body of l. The spot maxima equal
// the project's instance, core and RAM quota; the limits ecsd does not model
// have Huawei's default values. Values beyond int32 are clamped.
func newLimits(l *ecs.Limits) limitsResponse {
	return limitsResponse{Absolute: serverLimits{
		MaxImageMeta:            50,
		MaxPersonality:          5,
		MaxPersonalitySize:      10240,
		MaxSecurityGroupRules:   5000,
		MaxSecurityGroups:       100,
		MaxServerGroupMembers:   16,
		MaxServerGroups:         10,
		MaxServerMeta:           10,
		MaxTotalCores:           clamp32(l.Cores),
		MaxTotalFloatingIps:     10,
		MaxTotalInstances:       clamp32(l.Instances),
		MaxTotalKeypairs:        -1,
		MaxTotalRAMSize:         clamp32(l.RAMMB),
		TotalCoresUsed:          clamp32(l.CoresUsed),
		TotalFloatingIpsUsed:    0,
		TotalInstancesUsed:      clamp32(l.InstancesUsed),
		TotalRAMUsed:            int64(l.RAMUsedMB),
		TotalSecurityGroupsUsed: clamp32(l.SecurityGroupsUsed),
		TotalServerGroupsUsed:   0,
		MaxTotalSpotInstances:   clamp32(l.Instances),
		MaxTotalSpotCores:       clamp32(l.Cores),
		MaxTotalSpotRAMSize:     clamp32(l.RAMMB),
		TotalSpotInstancesUsed:  clamp32(l.SpotInstancesUsed),
		TotalSpotCoresUsed:      clamp32(l.SpotCoresUsed),
		TotalSpotRAMUsed:        clamp32(l.SpotRAMUsedMB),
		LimitByFlavor:           []flavorLimit{},
	}}
}

func clamp32(n int) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < math.MinInt32:
		return math.MinInt32
	}
	return int32(n)
}
