package httpapi

import (
	"math"
	"net/netip"
	"strconv"

	ecs "github.com/ecsd-dev/ecsd"
)

// The VPC and IMS slices clients call around a server: items of
// GET /v1/{project_id}/vpcs, /v1/{project_id}/subnets and
// /v1/{project_id}/security-groups (SDK services/vpc/v2 Vpc, Subnet,
// SecurityGroup) and of GET /v2/cloudimages (SDK services/ims/v2 ImageInfo).
// The VPC and security group objects also carry the fields of the v3 VPC
// API (project_id, tags, ...), which v2 clients ignore.

// Default DNS servers of a Huawei subnet (cn-north-4).
const (
	primaryDNS   = "100.125.1.250"
	secondaryDNS = "100.125.129.250"
)

// vpc is SDK vpc/v2 Vpc (model_vpc.go), plus the v3 fields.
type vpc struct {
	ID                               string          `json:"id"`
	Name                             string          `json:"name"`
	CIDR                             string          `json:"cidr"`
	Description                      string          `json:"description"`
	Routes                           []vpcRoute      `json:"routes"`
	Status                           string          `json:"status"`
	EnterpriseProjectID              string          `json:"enterprise_project_id"`
	TenantID                         string          `json:"tenant_id"`
	CreatedAt                        string          `json:"created_at"`
	UpdatedAt                        string          `json:"updated_at"`
	BlockServiceEndpointStates       string          `json:"block_service_endpoint_states"`
	EnableNetworkAddressUsageMetrics bool            `json:"enable_network_address_usage_metrics"`
	ProjectID                        string          `json:"project_id"`
	ExtendCIDRs                      []string        `json:"extend_cidrs"`
	CloudResources                   []cloudResource `json:"cloud_resources"`
	Tags                             []resourceTag   `json:"tags"`
}

// vpcRoute is SDK Route.
type vpcRoute struct {
	Destination string `json:"destination"`
	Nexthop     string `json:"nexthop"`
}

// cloudResource is the v3 CloudResource.
type cloudResource struct {
	ResourceType  string `json:"resource_type"`
	ResourceCount int    `json:"resource_count"`
}

// resourceTag is the v3 Tag / ResourceTag.
type resourceTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// newVPC returns the ListVpcs item of v: status OK, no routes.
func newVPC(v *ecs.VPC) vpc {
	return vpc{
		ID:                         v.ID,
		Name:                       v.Name,
		CIDR:                       v.CIDR,
		Description:                "",
		Routes:                     []vpcRoute{},
		Status:                     "OK",
		EnterpriseProjectID:        enterpriseProject,
		TenantID:                   v.ProjectID,
		CreatedAt:                  formatTime(v.Created, timeFormatServer),
		UpdatedAt:                  formatTime(v.Created, timeFormatServer),
		BlockServiceEndpointStates: "off",
		ProjectID:                  v.ProjectID,
		ExtendCIDRs:                []string{},
		CloudResources:             []cloudResource{},
		Tags:                       []resourceTag{},
	}
}

// subnet is SDK vpc/v2 Subnet (model_subnet.go). As on Huawei Cloud, the
// subnet ID is also its neutron_network_id.
type subnet struct {
	ID                               string            `json:"id"`
	Name                             string            `json:"name"`
	Description                      string            `json:"description"`
	CIDR                             string            `json:"cidr"`
	GatewayIP                        string            `json:"gateway_ip"`
	IPv6Enable                       bool              `json:"ipv6_enable"`
	CIDRv6                           string            `json:"cidr_v6"`
	GatewayIPv6                      string            `json:"gateway_ip_v6"`
	DHCPEnable                       bool              `json:"dhcp_enable"`
	PrimaryDNS                       string            `json:"primary_dns"`
	SecondaryDNS                     string            `json:"secondary_dns"`
	DNSList                          []string          `json:"dnsList"`
	AvailabilityZone                 string            `json:"availability_zone"`
	VPCID                            string            `json:"vpc_id"`
	Status                           string            `json:"status"`
	NeutronNetworkID                 string            `json:"neutron_network_id"`
	NeutronSubnetID                  string            `json:"neutron_subnet_id"`
	NeutronSubnetIDv6                string            `json:"neutron_subnet_id_v6"`
	ExtraDHCPOpts                    []extraDHCPOption `json:"extra_dhcp_opts"`
	Scope                            string            `json:"scope"`
	TenantID                         string            `json:"tenant_id"`
	CreatedAt                        string            `json:"created_at"`
	UpdatedAt                        string            `json:"updated_at"`
	EnableNetworkAddressUsageMetrics bool              `json:"enable_network_address_usage_metrics"`
	AvailableIPAddressCount          int               `json:"available_ip_address_count"`
}

// extraDHCPOption is SDK ExtraDhcpOption.
type extraDHCPOption struct {
	OptName  string `json:"opt_name"`
	OptValue string `json:"opt_value"`
}

// newSubnet returns the ListSubnets item of s: status ACTIVE, DHCP on,
// Huawei's default DNS servers.
func newSubnet(s *ecs.Subnet) subnet {
	return subnet{
		ID:                      s.ID,
		Name:                    s.Name,
		Description:             "",
		CIDR:                    s.CIDR,
		GatewayIP:               s.GatewayIP,
		DHCPEnable:              true,
		PrimaryDNS:              primaryDNS,
		SecondaryDNS:            secondaryDNS,
		DNSList:                 []string{primaryDNS, secondaryDNS},
		AvailabilityZone:        s.AZ,
		VPCID:                   s.VPCID,
		Status:                  "ACTIVE",
		NeutronNetworkID:        s.ID,
		NeutronSubnetID:         derivedUUID("neutron-subnet", s.ID),
		ExtraDHCPOpts:           []extraDHCPOption{},
		Scope:                   "center",
		TenantID:                s.ProjectID,
		CreatedAt:               formatTime(s.Created, timeFormatServer),
		UpdatedAt:               formatTime(s.Created, timeFormatServer),
		AvailableIPAddressCount: availableIPs(s.CIDR),
	}
}

// availableIPs is the usable address count of an IPv4 CIDR: Huawei keeps
// the network, gateway, DHCP/DNS, broadcast and one more address.
func availableIPs(cidr string) int {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return 0
	}
	hostBits := 32 - p.Bits()
	if hostBits >= 31 {
		return math.MaxInt32
	}
	n := 1<<hostBits - 5
	if n < 0 {
		return 0
	}
	return n
}

// securityGroup is SDK vpc/v2 SecurityGroup (model_security_group.go),
// plus the v3 fields.
type securityGroup struct {
	ID                  string              `json:"id"`
	Name                string              `json:"name"`
	Description         string              `json:"description"`
	VPCID               string              `json:"vpc_id"`
	EnterpriseProjectID string              `json:"enterprise_project_id"`
	SecurityGroupRules  []securityGroupRule `json:"security_group_rules"`
	ProjectID           string              `json:"project_id"`
	CreatedAt           string              `json:"created_at"`
	UpdatedAt           string              `json:"updated_at"`
	Tags                []resourceTag       `json:"tags"`
}

// securityGroupRule is SDK SecurityGroupRule; ecsd lists no rules.
type securityGroupRule struct{}

// newSecurityGroup returns the ListSecurityGroups item of g.
func newSecurityGroup(g *ecs.SecurityGroup) securityGroup {
	return securityGroup{
		ID:                  g.ID,
		Name:                g.Name,
		Description:         g.Description,
		VPCID:               g.VPCID,
		EnterpriseProjectID: enterpriseProject,
		SecurityGroupRules:  []securityGroupRule{},
		ProjectID:           g.ProjectID,
		CreatedAt:           formatTime(g.Created, timeFormatServer),
		UpdatedAt:           formatTime(g.Created, timeFormatServer),
		Tags:                []resourceTag{},
	}
}

// image is SDK ims/v2 ImageInfo (model_image_info.go): the "__" fields are
// strings (several of them enums), min_disk, min_ram and size integers.
type image struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Status              string   `json:"status"`
	Visibility          string   `json:"visibility"`
	Protected           bool     `json:"protected"`
	Owner               string   `json:"owner"`
	Tags                []string `json:"tags"`
	ContainerFormat     string   `json:"container_format"`
	DiskFormat          string   `json:"disk_format"`
	MinDisk             int      `json:"min_disk"`
	MinRAM              int      `json:"min_ram"`
	Size                *int64   `json:"size,omitempty"`
	VirtualEnvType      string   `json:"virtual_env_type"`
	CreatedAt           string   `json:"created_at"`
	UpdatedAt           string   `json:"updated_at"`
	ActiveAt            string   `json:"active_at"`
	Self                string   `json:"self"`
	File                string   `json:"file"`
	Schema              string   `json:"schema"`
	HwFirmwareType      string   `json:"hw_firmware_type"`
	EnterpriseProject   string   `json:"enterprise_project_id"`
	ImageSize           string   `json:"__image_size"`
	ImageSourceType     string   `json:"__image_source_type"`
	ImageType           string   `json:"__imagetype"`
	IsRegistered        string   `json:"__isregistered"`
	OSType              string   `json:"__os_type"`
	OSBit               string   `json:"__os_bit"`
	OSVersion           string   `json:"__os_version"`
	Platform            string   `json:"__platform"`
	Description         string   `json:"__description"`
	OriginalImageName   string   `json:"__originalimagename"`
	SupportKVM          string   `json:"__support_kvm,omitempty"`
	SupportXen          string   `json:"__support_xen,omitempty"`
	SupportArm          string   `json:"__support_arm"`
	SupportAgentList    string   `json:"__support_agent_list"`
	SystemSupportMarket bool     `json:"__system_support_market"`
}

// imageOwner is the owner of the public images (a fixed project ID).
const imageOwner = "00000000000000000000000000000ec5"

// newImage returns the ListImages item of img: a public gold image,
// status active, disk_format zvhd2. size is sent only when it fits the
// SDK's int32 (__image_size always carries the size as a string).
func newImage(img *ecs.Image) image {
	created := formatTime(img.Created, timeFormatServer)
	out := image{
		ID:                img.ID,
		Name:              img.Name,
		Status:            "active",
		Visibility:        "public",
		Protected:         true,
		Owner:             imageOwner,
		Tags:              []string{},
		ContainerFormat:   "bare",
		DiskFormat:        "zvhd2",
		MinDisk:           img.MinDiskGB,
		MinRAM:            img.MinRAMMB,
		VirtualEnvType:    "FusionCompute",
		CreatedAt:         created,
		UpdatedAt:         created,
		ActiveAt:          created,
		Self:              "/v2/images/" + img.ID,
		File:              "/v2/images/" + img.ID + "/file",
		Schema:            "/v2/schemas/image",
		HwFirmwareType:    "bios",
		EnterpriseProject: enterpriseProject,
		ImageSize:         strconv.FormatInt(img.SizeBytes, 10),
		ImageSourceType:   "uds",
		ImageType:         "gold",
		IsRegistered:      "true",
		OSType:            img.OSType,
		OSBit:             "64",
		OSVersion:         img.OSVersion,
		Platform:          img.Platform,
		OriginalImageName: img.ID,
		SupportArm:        "false",
		SupportAgentList:  "hss,ces",
	}
	if out.OSType == "" {
		out.OSType = "Linux"
	}
	if out.Platform == "" {
		out.Platform = "Other"
	}
	if img.SizeBytes >= 0 && img.SizeBytes <= math.MaxInt32 {
		out.Size = ptr(img.SizeBytes)
	}
	if img.SupportsKVM {
		out.SupportKVM = "true"
	}
	if img.SupportsXen {
		out.SupportXen = "true"
	}
	if img.Architecture == "aarch64" || img.Architecture == "arm64" {
		out.SupportArm = "true"
	}
	return out
}
