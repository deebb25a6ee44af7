package httpapi

import (
	"fmt"
	"strconv"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// Wire types of the volumes (EVS v2), ports (VPC v1), v3 security groups
// and the server edits (ECS metadata, name, tags, AZs).

// volumeDetail is SDK evs/v2 VolumeDetail (model_volume_detail.go): size an
// integer, bootable, shareable and the replication fields strings,
// metadata and volume_image_metadata objects.
type volumeDetail struct {
	ID                  string             `json:"id"`
	Links               []volumeLink       `json:"links"`
	Name                string             `json:"name"`
	Status              string             `json:"status"`
	Attachments         []volumeAttachment `json:"attachments"`
	AvailabilityZone    string             `json:"availability_zone"`
	Host                string             `json:"os-vol-host-attr:host"`
	SnapshotID          string             `json:"snapshot_id"`
	Description         string             `json:"description"`
	CreatedAt           string             `json:"created_at"`
	TenantID            string             `json:"os-vol-tenant-attr:tenant_id"`
	VolumeImageMetadata map[string]any     `json:"volume_image_metadata"`
	VolumeType          string             `json:"volume_type"`
	Size                int                `json:"size"`
	Bootable            string             `json:"bootable"`
	Metadata            map[string]any     `json:"metadata"`
	UpdatedAt           string             `json:"updated_at"`
	Encrypted           bool               `json:"encrypted"`
	ReplicationStatus   string             `json:"replication_status"`
	ReplicationExtended string             `json:"os-volume-replication:extended_status"`
	MigStat             string             `json:"os-vol-mig-status-attr:migstat"`
	MigNameID           string             `json:"os-vol-mig-status-attr:name_id"`
	Shareable           string             `json:"shareable"`
	UserID              string             `json:"user_id"`
	ServiceType         string             `json:"service_type"`
	Multiattach         bool               `json:"multiattach"`
	Tags                map[string]string  `json:"tags"`
	EnterpriseProjectID string             `json:"enterprise_project_id"`
	IOPS                *volumeIOPS        `json:"iops,omitempty"`
	Throughput          *volumeIOPS        `json:"throughput,omitempty"`
}

// volumeLink is SDK evs/v2 Link.
type volumeLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// volumeAttachment is SDK evs/v2 Attachment (all strings).
type volumeAttachment struct {
	AttachedAt   string `json:"attached_at"`
	AttachmentID string `json:"attachment_id"`
	Device       string `json:"device"`
	HostName     string `json:"host_name"`
	ID           string `json:"id"`
	ServerID     string `json:"server_id"`
	VolumeID     string `json:"volume_id"`
}

// volumeIOPS is SDK evs/v2 Iops and Throughput.
type volumeIOPS struct {
	Frozened bool   `json:"frozened"`
	ID       string `json:"id"`
	TotalVal int    `json:"total_val"`
}

// timeFormatVolume is the EVS time format (created_at, updated_at).
const timeFormatVolume = "2006-01-02T15:04:05.000000"

// volumePerformance returns the IOPS and throughput of a volume type, for
// the types that have provisioned performance (GPSSD2, ESSD2).
func volumePerformance(v *ecs.Volume) (*volumeIOPS, *volumeIOPS) {
	switch v.VolumeType {
	case "GPSSD2":
		return &volumeIOPS{ID: derivedUUID("iops", v.ID), TotalVal: 3000},
			&volumeIOPS{ID: derivedUUID("throughput", v.ID), TotalVal: 125}
	case "ESSD2":
		return &volumeIOPS{ID: derivedUUID("iops", v.ID), TotalVal: min(1800+50*v.SizeGB, 128000)}, nil
	}
	return nil, nil
}

func newVolumeDetail(v *ecs.Volume, img *ecs.Image) volumeDetail {
	d := volumeDetail{
		ID:                  v.ID,
		Links:               []volumeLink{},
		Name:                v.Name,
		Status:              v.Status,
		Attachments:         []volumeAttachment{},
		AvailabilityZone:    v.AvailabilityZone,
		Host:                "",
		CreatedAt:           formatTime(v.Created, timeFormatVolume),
		TenantID:            v.ProjectID,
		VolumeImageMetadata: map[string]any{},
		VolumeType:          v.VolumeType,
		Size:                v.SizeGB,
		Bootable:            strconv.FormatBool(v.Bootable),
		Metadata:            map[string]any{},
		UpdatedAt:           formatTime(v.Updated, timeFormatVolume),
		Shareable:           "false",
		ReplicationStatus:   "disabled",
		UserID:              userID(v.ProjectID),
		ServiceType:         "EVS",
		Tags:                map[string]string{},
		EnterpriseProjectID: enterpriseProject,
	}
	if v.ServerID != "" {
		d.Attachments = append(d.Attachments, volumeAttachment{
			AttachedAt: formatTime(v.Created, timeFormatVolume), AttachmentID: derivedUUID("attachment", v.ID),
			Device: v.Device, ID: v.ID, ServerID: v.ServerID, VolumeID: v.ID,
		})
	}
	if v.Bootable && img != nil {
		d.VolumeImageMetadata = map[string]any{
			"image_id": img.ID, "image_name": img.Name, "__os_type": img.OSType, "__platform": img.Platform,
			"__os_version": img.OSVersion, "min_disk": strconv.Itoa(img.MinDiskGB),
		}
	}
	d.IOPS, d.Throughput = volumePerformance(v)
	return d
}

// showVolumeBody is SDK ShowVolumeResponse.
type showVolumeBody struct {
	Volume volumeDetail `json:"volume"`
}

// serverBlockDevice is SDK ecs/v2 ServerBlockDevice: bootIndex and size
// integers.
type serverBlockDevice struct {
	ServerID   string `json:"serverId"`
	ID         string `json:"id"`
	VolumeID   string `json:"volumeId"`
	Device     string `json:"device"`
	BootIndex  int    `json:"bootIndex"`
	Size       int    `json:"size"`
	PCIAddress string `json:"pciAddress"`
	Bus        string `json:"bus"`
}

// showBlockDeviceBody is SDK ShowServerBlockDeviceResponse.
type showBlockDeviceBody struct {
	VolumeAttachment serverBlockDevice `json:"volumeAttachment"`
}

func newServerBlockDevice(v *ecs.Volume, index int) serverBlockDevice {
	b := serverBlockDevice{
		ServerID: v.ServerID, ID: v.ID, VolumeID: v.ID, Device: v.Device, BootIndex: -1, Size: v.SizeGB,
		PCIAddress: fmt.Sprintf("0000:02:%02x.0", index+1), Bus: "virtio",
	}
	if v.Bootable {
		b.BootIndex = 0
	}
	return b
}

// port is SDK vpc/v2 Port (model_port.go).
type port struct {
	ID                  string             `json:"id"`
	Name                string             `json:"name"`
	NetworkID           string             `json:"network_id"`
	AdminStateUp        bool               `json:"admin_state_up"`
	MACAddress          string             `json:"mac_address"`
	FixedIPs            []portFixedIP      `json:"fixed_ips"`
	DeviceID            string             `json:"device_id"`
	DeviceOwner         string             `json:"device_owner"`
	TenantID            string             `json:"tenant_id"`
	Status              string             `json:"status"`
	SecurityGroups      []string           `json:"security_groups"`
	AllowedAddressPairs []portAddressPair  `json:"allowed_address_pairs"`
	ExtraDHCPOpts       []extraDHCPOption  `json:"extra_dhcp_opts"`
	VNICType            string             `json:"binding:vnic_type"`
	DNSAssignment       []portDNSAssigment `json:"dns_assignment"`
	DNSName             string             `json:"dns_name"`
	VIFDetails          portVIFDetails     `json:"binding:vif_details"`
	Profile             map[string]any     `json:"binding:profile"`
	InstanceID          string             `json:"instance_id"`
	InstanceType        string             `json:"instance_type"`
	PortSecurityEnabled bool               `json:"port_security_enabled"`
	ZoneID              string             `json:"zone_id"`
	EnableEFI           bool               `json:"enable_efi"`
}

// portFixedIP is SDK FixedIp.
type portFixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// portAddressPair is SDK AllowedAddressPair; ecsd's ports have none
// (source/destination check on).
type portAddressPair struct {
	IPAddress string `json:"ip_address"`
}

// portDNSAssigment is SDK DnsAssignMent.
type portDNSAssigment struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ip_address"`
	FQDN      string `json:"fqdn"`
}

// portVIFDetails is SDK BindingVifDetails.
type portVIFDetails struct {
	PrimaryInterface bool `json:"primary_interface"`
}

func newPort(p *ecs.Port) port {
	host := "host-" + strings.ReplaceAll(p.IPAddress, ".", "-")
	return port{
		ID: p.ID, Name: "", NetworkID: p.NetworkID, AdminStateUp: true, MACAddress: p.MACAddress,
		FixedIPs: []portFixedIP{{SubnetID: p.SubnetID, IPAddress: p.IPAddress}},
		DeviceID: p.DeviceID, DeviceOwner: p.DeviceOwner, TenantID: p.ProjectID, Status: p.Status,
		SecurityGroups: nonNil(p.SecurityGroups), AllowedAddressPairs: []portAddressPair{},
		ExtraDHCPOpts: []extraDHCPOption{}, VNICType: "normal",
		DNSAssignment: []portDNSAssigment{{Hostname: host, IPAddress: p.IPAddress, FQDN: host + "."}},
		VIFDetails:    portVIFDetails{PrimaryInterface: true}, Profile: map[string]any{},
		InstanceID: p.DeviceID, InstanceType: "", PortSecurityEnabled: true, ZoneID: p.AvailabilityZone,
	}
}

// showPortBody and listPortsBody are SDK ShowPortResponse and
// ListPortsResponse.
type showPortBody struct {
	Port port `json:"port"`
}

type listPortsBody struct {
	Ports []port `json:"ports"`
}

// showSubnetBody is SDK ShowSubnetResponse.
type showSubnetBody struct {
	Subnet subnet `json:"subnet"`
}

// securityGroupV3 is SDK vpc/v3 SecurityGroup / SecurityGroupInfo (the list
// item has no rules; SecurityGroupRules is nil there and omitted).
type securityGroupV3 struct {
	ID                  string               `json:"id"`
	Name                string               `json:"name"`
	Description         string               `json:"description"`
	ProjectID           string               `json:"project_id"`
	CreatedAt           string               `json:"created_at"`
	UpdatedAt           string               `json:"updated_at"`
	EnterpriseProjectID string               `json:"enterprise_project_id"`
	Tags                []resourceTag        `json:"tags"`
	SecurityGroupRules  *[]securityGroupRule `json:"security_group_rules,omitempty"`
}

func newSecurityGroupV3(g *ecs.SecurityGroup, withRules bool) securityGroupV3 {
	out := securityGroupV3{
		ID: g.ID, Name: g.Name, Description: g.Description, ProjectID: g.ProjectID,
		CreatedAt: formatTime(g.Created, timeFormatServer), UpdatedAt: formatTime(g.Created, timeFormatServer),
		EnterpriseProjectID: enterpriseProject, Tags: []resourceTag{},
	}
	if withRules {
		out.SecurityGroupRules = &[]securityGroupRule{}
	}
	return out
}

// listSecurityGroupsV3Body and showSecurityGroupV3Body are SDK vpc/v3
// ListSecurityGroupsResponse and ShowSecurityGroupResponse.
type listSecurityGroupsV3Body struct {
	RequestID      string            `json:"request_id"`
	SecurityGroups []securityGroupV3 `json:"security_groups"`
	PageInfo       pageInfoV3        `json:"page_info"`
}

type pageInfoV3 struct {
	PreviousMarker string `json:"previous_marker"`
	CurrentCount   int    `json:"current_count"`
	NextMarker     string `json:"next_marker,omitempty"`
}

type showSecurityGroupV3Body struct {
	RequestID     string          `json:"request_id"`
	SecurityGroup securityGroupV3 `json:"security_group"`
}

// metadataBody is SDK UpdateServerMetadataRequestBody and
// UpdateServerMetadataResponse.
type metadataBody struct {
	Metadata map[string]string `json:"metadata"`
}

// updateServerBody is SDK UpdateServerRequestBody.
type updateServerBody struct {
	Server *struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Hostname    *string `json:"hostname"`
		UserData    *string `json:"user_data"`
	} `json:"server"`
}

// updateServerResult is SDK UpdateServerResult.
type updateServerResult struct {
	TenantID    string                           `json:"tenant_id"`
	Image       string                           `json:"image"`
	Metadata    map[string]string                `json:"metadata"`
	Addresses   map[string][]updateServerAddress `json:"addresses"`
	Created     string                           `json:"created"`
	HostID      string                           `json:"hostId"`
	Flavor      simpleFlavor                     `json:"flavor"`
	DiskConfig  string                           `json:"OS-DCF:diskConfig"`
	UserID      string                           `json:"user_id"`
	Name        string                           `json:"name"`
	Progress    int                              `json:"progress"`
	Links       []serverLink                     `json:"links"`
	ID          string                           `json:"id"`
	Updated     string                           `json:"updated"`
	Locked      bool                             `json:"locked"`
	Description string                           `json:"description"`
	Tags        []string                         `json:"tags"`
	Status      string                           `json:"status"`
	Hostname    string                           `json:"OS-EXT-SRV-ATTR:hostname"`
	AccessIPv4  string                           `json:"accessIPv4"`
	AccessIPv6  string                           `json:"accessIPv6"`
}

// updateServerAddress is SDK UpdateServerAddress: version an integer.
type updateServerAddress struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
}

// simpleFlavor is SDK SimpleFlavor.
type simpleFlavor struct {
	ID    string       `json:"id"`
	Links []serverLink `json:"links"`
}

// serverLink is SDK Link.
type serverLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

type updateServerResponse struct {
	Server updateServerResult `json:"server"`
}

func newUpdateServerResult(v serverView) updateServerResult {
	s := v.Server
	r := updateServerResult{
		TenantID: s.ProjectID, Image: s.ImageID, Metadata: serverMetadata(v),
		Addresses: map[string][]updateServerAddress{}, Created: formatTime(s.Created, timeFormatServer),
		HostID: novaHostID(s.ProjectID, s.HostID), Flavor: simpleFlavor{ID: s.FlavorID, Links: []serverLink{}},
		DiskConfig: "MANUAL", UserID: v.UserID, Name: s.Name, Links: []serverLink{}, ID: s.ID,
		Updated: formatTime(s.Updated, timeFormatServer), Locked: s.Locked, Description: s.Description,
		Tags: nonNil(s.Tags), Status: s.Status(), Hostname: hostname(s.Name),
	}
	if s.IPAddress != "" {
		r.Addresses[s.VPCID] = []updateServerAddress{{Version: 4, Addr: s.IPAddress}}
	}
	if s.VMState != ecs.VMBuilding && s.TaskState == ecs.TaskNone {
		r.Progress = 100
	}
	return r
}

// serverTagsActionBody is SDK BatchCreateServerTagsRequestBody and
// BatchDeleteServerTagsRequestBody.
type serverTagsActionBody struct {
	Action *string `json:"action"`
	Tags   []struct {
		Key   *string `json:"key"`
		Value *string `json:"value"`
	} `json:"tags"`
}

// serverTag is SDK ServerTag.
type serverTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// serverTagsBody is SDK ShowServerTagsResponse.
type serverTagsBody struct {
	Tags []serverTag `json:"tags"`
}

func newServerTags(tags []string) serverTagsBody {
	out := serverTagsBody{Tags: []serverTag{}}
	for _, t := range tags {
		k, v, _ := strings.Cut(t, "=")
		out.Tags = append(out.Tags, serverTag{Key: k, Value: v})
	}
	return out
}

// novaAvailabilityZone is SDK NovaAvailabilityZone.
type novaAvailabilityZone struct {
	ZoneName  string        `json:"zoneName"`
	ZoneState novaZoneState `json:"zoneState"`
	Hosts     []string      `json:"hosts"`
}

type novaZoneState struct {
	Available bool `json:"available"`
}

type novaAvailabilityZonesBody struct {
	AvailabilityZoneInfo []novaAvailabilityZone `json:"availabilityZoneInfo"`
}
