package httpapi

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Server objects of the responses: serverDetail is the v1 object of
// ShowServer and ListServersDetails (SDK ServerDetail), cloudServer the
// v1.1 object of ListCloudServers (SDK CloudServer). The two disagree on
// types on purpose (v1 flavor numbers are strings, v1.1 integers; v1
// delete_on_termination is a string, v1.1 a boolean), so each has its own
// types here.

// Time formats of the server objects (reference §0.9).
const (
	timeFormatServer   = "2006-01-02T15:04:05Z"       // created, updated, fault.created
	timeFormatLaunched = "2006-01-02T15:04:05.000000" // OS-SRV-USG:launched_at
	timeFormatJob      = "2006-01-02T15:04:05.000Z"   // job begin_time, end_time
	rootDeviceName     = "/dev/vda"                   // the boot disk's device
	enterpriseProject  = "0"                          // the default enterprise project
	sysTagEnterprise   = "_sys_enterprise_project_id" // sys_tags key
	hostStatusUp       = "UP"                         // host_status of a placed server
)

// serverView is everything a server response shows: the server, its flavor,
// its image (nil when the image is gone), its security groups (looked up by
// the server's SecurityGroups IDs; missing ones are shown with their ID as
// name) and the ID of the user who owns it (user_id; "" when unknown).
type serverView struct {
	Server         *ecs.Server
	Flavor         *ecs.Flavor
	Image          *ecs.Image
	SecurityGroups []*ecs.SecurityGroup
	UserID         string
	// Volumes are the attached volumes, system disk first; nil when the
	// volume records are not available (the system disk is then derived
	// from the server).
	Volumes []*ecs.Volume
}

// viewVolumes returns the volumes attached to the server of v.
func viewVolumes(v serverView) []*ecs.Volume {
	if v.Volumes != nil {
		return v.Volumes
	}
	s := v.Server
	if s.RootVolumeID == "" {
		return nil
	}
	return []*ecs.Volume{{ID: s.RootVolumeID, SizeGB: s.RootVolumeSize, Device: rootDeviceName, DeleteOnTermination: true, Bootable: true}}
}

// serverDetail is SDK ServerDetail (model_server_detail.go). Every field the
// SDK declares without omitempty is always present.
type serverDetail struct {
	ID                               string                     `json:"id"`
	Name                             string                     `json:"name"`
	Status                           string                     `json:"status"`
	Created                          string                     `json:"created"`
	Updated                          string                     `json:"updated"`
	AutoTerminateTime                string                     `json:"auto_terminate_time"`
	HostID                           string                     `json:"hostId"`
	Host                             string                     `json:"OS-EXT-SRV-ATTR:host"`
	Addresses                        map[string][]serverAddress `json:"addresses"`
	KeyName                          string                     `json:"key_name"`
	Image                            imageRef                   `json:"image"`
	TaskState                        *string                    `json:"OS-EXT-STS:task_state"`
	VMState                          string                     `json:"OS-EXT-STS:vm_state"`
	InstanceName                     string                     `json:"OS-EXT-SRV-ATTR:instance_name"`
	HypervisorHostname               string                     `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`
	Flavor                           serverFlavor               `json:"flavor"`
	SecurityGroups                   []serverSecurityGroup      `json:"security_groups"`
	AvailabilityZone                 string                     `json:"OS-EXT-AZ:availability_zone"`
	UserID                           string                     `json:"user_id"`
	TenantID                         string                     `json:"tenant_id"`
	DiskConfig                       string                     `json:"OS-DCF:diskConfig"`
	AccessIPv4                       string                     `json:"accessIPv4"`
	AccessIPv6                       string                     `json:"accessIPv6"`
	Fault                            *serverFault               `json:"fault,omitempty"`
	Progress                         int                        `json:"progress"`
	PowerState                       int                        `json:"OS-EXT-STS:power_state"`
	ConfigDrive                      string                     `json:"config_drive"`
	Metadata                         map[string]string          `json:"metadata"`
	LaunchedAt                       string                     `json:"OS-SRV-USG:launched_at"`
	TerminatedAt                     string                     `json:"OS-SRV-USG:terminated_at"`
	VolumesAttached                  []serverVolumeAttachment   `json:"os-extended-volumes:volumes_attached"`
	Description                      string                     `json:"description"`
	HostStatus                       string                     `json:"host_status"`
	Hostname                         string                     `json:"OS-EXT-SRV-ATTR:hostname"`
	ReservationID                    string                     `json:"OS-EXT-SRV-ATTR:reservation_id"`
	LaunchIndex                      int                        `json:"OS-EXT-SRV-ATTR:launch_index"`
	KernelID                         string                     `json:"OS-EXT-SRV-ATTR:kernel_id"`
	RamdiskID                        string                     `json:"OS-EXT-SRV-ATTR:ramdisk_id"`
	RootDeviceName                   string                     `json:"OS-EXT-SRV-ATTR:root_device_name"`
	UserData                         string                     `json:"OS-EXT-SRV-ATTR:user_data"`
	Locked                           bool                       `json:"locked"`
	Tags                             []string                   `json:"tags"`
	SchedulerHints                   schedulerHints             `json:"os:scheduler_hints"`
	EnterpriseProjectID              string                     `json:"enterprise_project_id"`
	SysTags                          []serverSystemTag          `json:"sys_tags"`
	CPUOptions                       cpuOptionsOut              `json:"cpu_options"`
	Hypervisor                       hypervisor                 `json:"hypervisor"`
	NetworkInterfaces                []networkInterface         `json:"network_interfaces"`
	CapacityReservationID            string                     `json:"capacity_reservation_id"`
	CapacityReservationSpecification capacityReservationSpec    `json:"capacity_reservation_specification"`
	SpodID                           string                     `json:"spod_id"`
	EnclaveOptions                   enclaveOptions             `json:"enclave_options"`
}

// serverAddress is SDK ServerAddress; version is the string "4".
type serverAddress struct {
	Version string `json:"version"`
	Addr    string `json:"addr"`
	Primary bool   `json:"primary"`
	Type    string `json:"OS-EXT-IPS:type"`
	MACAddr string `json:"OS-EXT-IPS-MAC:mac_addr"`
	PortID  string `json:"OS-EXT-IPS:port_id"`
}

// imageRef is SDK ServerImage / Image.
type imageRef struct {
	ID string `json:"id"`
}

// serverFlavor is SDK ServerFlavor: vcpus, ram and disk are strings.
type serverFlavor struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Disk             string            `json:"disk"`
	VCPUs            string            `json:"vcpus"`
	RAM              string            `json:"ram"`
	GPUs             []acceleratorInfo `json:"gpus"`
	AsicAccelerators []acceleratorInfo `json:"asic_accelerators"`
}

// acceleratorInfo is SDK GpuInfo / AsicAcceleratorInfo.
type acceleratorInfo struct {
	Name     string `json:"name"`
	Count    int    `json:"count"`
	MemoryMB int    `json:"memory_mb"`
}

// serverSecurityGroup is SDK ServerSecurityGroup / SecurityGroup.
type serverSecurityGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// serverFault is the fault object of a server in ERROR (SDK ServerDetail.Fault
// is any; CloudServer.Fault is SDK Fault).
type serverFault struct {
	Code    int    `json:"code"`
	Created string `json:"created"`
	Message string `json:"message"`
	Details string `json:"details"`
}

// serverVolumeAttachment is SDK ServerExtendVolumeAttachment: all strings.
type serverVolumeAttachment struct {
	ID                  string `json:"id"`
	DeleteOnTermination string `json:"delete_on_termination"`
	BootIndex           string `json:"bootIndex"`
	Device              string `json:"device"`
}

// schedulerHints is SDK ServerSchedulerHints; ecsd sets no hints.
type schedulerHints struct {
	Group           []string `json:"group,omitempty"`
	Tenancy         []string `json:"tenancy,omitempty"`
	DedicatedHostID []string `json:"dedicated_host_id,omitempty"`
}

// serverSystemTag is SDK ServerSystemTag.
type serverSystemTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// cpuOptionsOut is SDK CpuOptions in responses: hw:cpu_threads is 1, 2 or
// null when the server did not choose.
type cpuOptionsOut struct {
	CPUThreads *int `json:"hw:cpu_threads"`
}

// hypervisor is SDK Hypervisor.
type hypervisor struct {
	HypervisorType string  `json:"hypervisor_type"`
	CSDHypervisor  *string `json:"csd_hypervisor"`
}

// networkInterface is SDK NetworkInterfaces.
type networkInterface struct {
	PortID        string   `json:"port_id"`
	Primary       bool     `json:"primary"`
	IPAddresses   []string `json:"ip_addresses"`
	IPv6Addresses []string `json:"ipv6_addresses"`
	SubnetID      string   `json:"subnet_id"`
}

// capacityReservationSpec is SDK CapacityReservationSpecification.
type capacityReservationSpec struct {
	Preference string `json:"preference"`
}

// enclaveOptions is SDK EnclaveOptions.
type enclaveOptions struct {
	Enabled bool `json:"enabled"`
}

// newServerDetail returns the v1 server object of v. It needs v.Server and
// v.Flavor; v.Image may be nil.
func newServerDetail(v serverView) serverDetail {
	s, f := v.Server, v.Flavor
	d := serverDetail{
		ID:                               s.ID,
		Name:                             s.Name,
		Status:                           s.Status(),
		Created:                          formatTime(s.Created, timeFormatServer),
		Updated:                          formatTime(s.Updated, timeFormatServer),
		AutoTerminateTime:                "",
		HostID:                           novaHostID(s.ProjectID, s.HostID),
		Host:                             s.HostID,
		Addresses:                        map[string][]serverAddress{},
		KeyName:                          s.KeyName,
		Image:                            imageRef{ID: s.ImageID},
		VMState:                          s.VMState,
		InstanceName:                     instanceName(s.ID),
		HypervisorHostname:               s.HostID,
		Flavor:                           newServerFlavor(f),
		SecurityGroups:                   viewSecurityGroups(v),
		AvailabilityZone:                 s.AvailabilityZone,
		UserID:                           v.UserID,
		TenantID:                         s.ProjectID,
		DiskConfig:                       "MANUAL",
		PowerState:                       s.PowerState,
		Metadata:                         serverMetadata(v),
		LaunchedAt:                       formatOptionalTime(s.LaunchedAt.Truncate(time.Second), timeFormatLaunched),
		Description:                      s.Description,
		Hostname:                         hostname(s.Name),
		ReservationID:                    reservationID(s.ID),
		RootDeviceName:                   rootDeviceName,
		UserData:                         s.UserData,
		Locked:                           s.Locked,
		Tags:                             nonNil(s.Tags),
		EnterpriseProjectID:              enterpriseProject,
		SysTags:                          []serverSystemTag{{Key: sysTagEnterprise, Value: enterpriseProject}},
		CPUOptions:                       cpuOptionsOf(s),
		Hypervisor:                       hypervisor{HypervisorType: hypervisorType(f)},
		NetworkInterfaces:                []networkInterface{},
		CapacityReservationSpecification: capacityReservationSpec{Preference: "none"},
	}
	if s.TaskState != ecs.TaskNone {
		ts := s.TaskState
		d.TaskState = &ts
	}
	if s.HostID != "" {
		d.HostStatus = hostStatusUp
	}
	if s.IPAddress != "" {
		d.Addresses[s.VPCID] = []serverAddress{{
			Version: "4",
			Addr:    s.IPAddress,
			Primary: true,
			Type:    "fixed",
			MACAddr: s.MACAddress,
			PortID:  s.PortID,
		}}
		d.NetworkInterfaces = append(d.NetworkInterfaces, networkInterface{
			PortID:        s.PortID,
			Primary:       true,
			IPAddresses:   []string{s.IPAddress},
			IPv6Addresses: []string{},
			SubnetID:      s.SubnetID,
		})
	}
	vols := viewVolumes(v)
	d.VolumesAttached = make([]serverVolumeAttachment, 0, len(vols))
	for _, vol := range vols {
		d.VolumesAttached = append(d.VolumesAttached, serverVolumeAttachment{
			ID:                  vol.ID,
			DeleteOnTermination: strconv.FormatBool(vol.DeleteOnTermination),
			BootIndex:           bootIndex(vol),
			Device:              vol.Device,
		})
	}
	if s.VMState != ecs.VMBuilding && s.TaskState == ecs.TaskNone {
		d.Progress = 100
	}
	d.Fault = faultOf(s)
	return d
}

// bootIndex is a volume's bootIndex as the ECS API writes it: "0" for the
// system disk, "-1" for the others.
func bootIndex(v *ecs.Volume) string {
	if v.Bootable {
		return "0"
	}
	return "-1"
}

// cloudServer is SDK CloudServer (model_cloud_server.go), the item of
// ListCloudServers. The fields the SDK declares without omitempty (id,
// name, status, tenant_id, user_id, availability_zone, vm_state,
// task_state, created, updated, in_recycle_bin, spod_id, flavor, fault) and
// description are always present; the others only when named in
// expect-fields.
type cloudServer struct {
	ID                  string                       `json:"id"`
	Name                string                       `json:"name"`
	Description         string                       `json:"description"`
	Status              string                       `json:"status"`
	TenantID            string                       `json:"tenant_id"`
	UserID              string                       `json:"user_id"`
	AvailabilityZone    string                       `json:"availability_zone"`
	VMState             string                       `json:"vm_state"`
	TaskState           string                       `json:"task_state"`
	Created             string                       `json:"created"`
	Updated             string                       `json:"updated"`
	InRecycleBin        bool                         `json:"in_recycle_bin"`
	SpodID              string                       `json:"spod_id"`
	Flavor              flavorQuasar                 `json:"flavor"`
	Fault               *serverFault                 `json:"fault"`
	PowerState          *int                         `json:"power_state,omitempty"`
	MarketInfo          *marketInfo                  `json:"market_info,omitempty"`
	LaunchedAt          *string                      `json:"launched_at,omitempty"`
	KeyName             *string                      `json:"key_name,omitempty"`
	Locked              *bool                        `json:"locked,omitempty"`
	RootDeviceName      *string                      `json:"root_device_name,omitempty"`
	Tenancy             *string                      `json:"tenancy,omitempty"`
	DedicatedHostID     *string                      `json:"dedicated_host_id,omitempty"`
	EnterpriseProjectID *string                      `json:"enterprise_project_id,omitempty"`
	Metadata            *map[string]string           `json:"metadata,omitempty"`
	Tags                *[]string                    `json:"tags,omitempty"`
	Addresses           *map[string][]networkAddress `json:"addresses,omitempty"`
	SecurityGroups      *[]serverSecurityGroup       `json:"security_groups,omitempty"`
	VolumesAttached     *[]volumeAttach              `json:"volumes_attached,omitempty"`
	Image               *imageRef                    `json:"image,omitempty"`
	CPUOptions          *cpuOptionsOut               `json:"cpu_options,omitempty"`
}

// flavorQuasar is SDK FlavorQuasar: vcpus, ram and disk are integers.
type flavorQuasar struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	VCPUs            int               `json:"vcpus"`
	RAM              int               `json:"ram"`
	Disk             int               `json:"disk"`
	GPUs             []acceleratorInfo `json:"gpus"`
	AsicAccelerators []acceleratorInfo `json:"asic_accelerators"`
}

// marketInfo is SDK MarketModel.
type marketInfo struct {
	ChargeMode string `json:"charge_mode"`
}

// networkAddress is SDK NetworkAddresses: version is the integer 4.
type networkAddress struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Primary bool   `json:"primary"`
	Type    string `json:"OS-EXT-IPS:type"`
	MACAddr string `json:"OS-EXT-IPS-MAC:mac_addr"`
	PortID  string `json:"OS-EXT-IPS:port_id"`
}

// volumeAttach is SDK VolumeAttach: delete_on_termination is a boolean.
type volumeAttach struct {
	ID                  string `json:"id"`
	DeleteOnTermination bool   `json:"delete_on_termination"`
	Device              string `json:"device"`
	BootIndex           string `json:"bootIndex"`
	Size                int    `json:"size,omitempty"`
}

// newCloudServer returns the v1.1 server object of v with the fields named
// in expect (values of parseServerFilterV11; unknown names are ignored).
// task_state is "" when no task runs (the v1 object sends null).
func newCloudServer(v serverView, expect []string) cloudServer {
	s, f := v.Server, v.Flavor
	c := cloudServer{
		ID:               s.ID,
		Name:             s.Name,
		Description:      s.Description,
		Status:           s.Status(),
		TenantID:         s.ProjectID,
		UserID:           v.UserID,
		AvailabilityZone: s.AvailabilityZone,
		VMState:          s.VMState,
		TaskState:        s.TaskState,
		Created:          formatTime(s.Created, timeFormatServer),
		Updated:          formatTime(s.Updated, timeFormatServer),
		Flavor:           newFlavorQuasar(f),
		Fault:            faultOf(s),
	}
	for _, field := range expect {
		switch field {
		case "launched_at":
			c.LaunchedAt = ptr(formatOptionalTime(s.LaunchedAt.Truncate(time.Second), timeFormatLaunched))
		case "key_name":
			c.KeyName = ptr(s.KeyName)
		case "locked":
			c.Locked = ptr(s.Locked)
		case "root_device_name":
			c.RootDeviceName = ptr(rootDeviceName)
		case "tenancy":
			c.Tenancy = ptr("shared")
		case "dedicated_host_id":
			c.DedicatedHostID = ptr("")
		case "enterprise_project_id":
			c.EnterpriseProjectID = ptr(enterpriseProject)
		case "tags":
			c.Tags = ptr(nonNil(s.Tags))
		case "metadata":
			c.Metadata = ptr(serverMetadata(v))
		case "addresses":
			addrs := map[string][]networkAddress{}
			if s.IPAddress != "" {
				addrs[s.VPCID] = []networkAddress{{
					Version: 4, Addr: s.IPAddress, Primary: true, Type: "fixed",
					MACAddr: s.MACAddress, PortID: s.PortID,
				}}
			}
			c.Addresses = &addrs
		case "security_groups":
			c.SecurityGroups = ptr(viewSecurityGroups(v))
		case "volumes_attached":
			vols := []volumeAttach{}
			for _, vol := range viewVolumes(v) {
				vols = append(vols, volumeAttach{
					ID: vol.ID, DeleteOnTermination: vol.DeleteOnTermination, Device: vol.Device,
					BootIndex: bootIndex(vol), Size: vol.SizeGB,
				})
			}
			c.VolumesAttached = &vols
		case "image":
			c.Image = &imageRef{ID: s.ImageID}
		case "power_state":
			c.PowerState = ptr(s.PowerState)
		case "cpu_options":
			c.CPUOptions = ptr(cpuOptionsOf(s))
		case "market_info":
			c.MarketInfo = &marketInfo{ChargeMode: chargeMode(s.ChargingMode)}
		}
	}
	return c
}

// newServerFlavor returns the v1 flavor of a server (strings).
func newServerFlavor(f *ecs.Flavor) serverFlavor {
	return serverFlavor{
		ID:               f.ID,
		Name:             f.Name,
		Disk:             "0",
		VCPUs:            strconv.Itoa(f.VCPUs),
		RAM:              strconv.Itoa(f.RAMMB),
		GPUs:             gpuInfos(f),
		AsicAccelerators: []acceleratorInfo{},
	}
}

// newFlavorQuasar returns the v1.1 flavor of a server (integers).
func newFlavorQuasar(f *ecs.Flavor) flavorQuasar {
	return flavorQuasar{
		ID:               f.ID,
		Name:             f.Name,
		VCPUs:            f.VCPUs,
		RAM:              f.RAMMB,
		Disk:             0,
		GPUs:             gpuInfos(f),
		AsicAccelerators: []acceleratorInfo{},
	}
}

func gpuInfos(f *ecs.Flavor) []acceleratorInfo {
	out := make([]acceleratorInfo, 0, len(f.GPUs))
	for _, g := range f.GPUs {
		out = append(out, acceleratorInfo{Name: g.Name, Count: g.Count, MemoryMB: g.MemoryMB})
	}
	return out
}

// viewSecurityGroups lists the server's security groups in the server's
// order, named from v.SecurityGroups (the ID stands in for a missing name).
func viewSecurityGroups(v serverView) []serverSecurityGroup {
	names := make(map[string]string, len(v.SecurityGroups))
	for _, g := range v.SecurityGroups {
		if g != nil {
			names[g.ID] = g.Name
		}
	}
	out := make([]serverSecurityGroup, 0, len(v.Server.SecurityGroups))
	for _, id := range v.Server.SecurityGroups {
		name, ok := names[id]
		if !ok || name == "" {
			name = id
		}
		out = append(out, serverSecurityGroup{ID: id, Name: name})
	}
	return out
}

// serverMetadata is the user metadata plus the system keys Huawei adds
// (reference §F.3); system keys win over user keys of the same name.
func serverMetadata(v serverView) map[string]string {
	s := v.Server
	m := make(map[string]string, len(s.Metadata)+12)
	maps.Copy(m, s.Metadata)
	mode := s.ChargingMode
	if mode == "" {
		mode = ecs.ChargingPostPaid
	}
	m["charging_mode"] = mode
	m["vpc_id"] = s.VPCID
	m["EcmResStatus"] = "normal"
	if s.Frozen {
		m["EcmResStatus"] = "freeze"
	}
	m["metering.image_id"] = s.ImageID
	m["metering.imagetype"] = "gold"
	m["metering.resourcespeccode"] = s.FlavorID
	m["metering.resourcetype"] = "1"
	m["os_bit"] = "64"
	m["virtual_env_type"] = "FusionCompute"
	if v.Image != nil {
		m["image_name"] = v.Image.Name
		if v.Image.OSType != "" {
			m["os_type"] = v.Image.OSType
		}
	}
	if mode == ecs.ChargingPrePaid && s.OrderID != "" {
		m["metering.order_id"] = s.OrderID
		m["metering.product_id"] = "ecsd-product-" + s.FlavorID
		if s.Locked {
			m["lockSource"] = "ORDER"
			m["lockSourceId"] = s.OrderID
			m["lockScene"] = "TO_PERIOD_LOCK"
			m["lockCheckEndpoint"] = "https://bss.myhuaweicloud.com"
		}
	}
	return m
}

// faultOf returns the fault of a server in ERROR, else nil.
func faultOf(s *ecs.Server) *serverFault {
	if s.Status() != ecs.StatusError {
		return nil
	}
	code := s.FaultCode
	if code == 0 {
		code = 500
	}
	msg := s.FaultMessage
	if msg == "" {
		msg = "The server failed."
	}
	return &serverFault{Code: code, Created: formatTime(s.Updated, timeFormatServer), Message: msg, Details: ""}
}

func cpuOptionsOf(s *ecs.Server) cpuOptionsOut {
	if s.CPUThreads == 0 {
		return cpuOptionsOut{}
	}
	n := s.CPUThreads
	return cpuOptionsOut{CPUThreads: &n}
}

// chargeMode maps metadata.charging_mode to market_info.charge_mode.
func chargeMode(mode string) string {
	switch mode {
	case ecs.ChargingPrePaid:
		return "prepaid"
	case ecs.ChargingSpot:
		return "spot"
	}
	return "postpaid"
}

// hypervisorType is "xen" for FusionCompute (Xen) flavors, else "kvm".
func hypervisorType(f *ecs.Flavor) string {
	if f.ExtraSpecs["ecs:virtualization_env_types"] == "FusionCompute" {
		return "xen"
	}
	return "kvm"
}

// novaHostID is Nova's hostId: hex SHA-224 of project ID and host, "" when
// the server is not placed.
func novaHostID(projectID, host string) string {
	if host == "" {
		return ""
	}
	var in [96]byte
	sum := sha256.Sum224(append(append(in[:0], projectID...), host...))
	var out [2 * sha256.Size224]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// instanceName is the hypervisor-side name, instance-xxxxxxxx: the first 8
// bytes of the ID other than "-".
func instanceName(id string) string {
	var out [len("instance-") + 8]byte
	b := append(out[:0], "instance-"...)
	for i := 0; i < len(id) && len(b) < len(out); i++ {
		if id[i] != '-' {
			b = append(b, id[i])
		}
	}
	return string(b)
}

// reservationID is a stable r-xxxxxxxx derived from the server ID.
func reservationID(id string) string {
	var in [64]byte
	sum := sha1.Sum(append(append(in[:0], "reservation:"...), id...))
	out := [10]byte{'r', '-'}
	hex.Encode(out[2:], sum[:4])
	return string(out[:])
}

// hostname is the guest hostname Huawei derives from the name: lower case,
// "_" and "." become "-", other characters outside [a-z0-9-] are dropped.
func hostname(name string) string {
	lower := strings.ToLower(name)
	if lower != "" && strings.Trim(lower, "abcdefghijklmnopqrstuvwxyz0123456789-") == "" {
		return lower // the common case: nothing to replace or drop
	}
	b := make([]byte, 0, len(lower))
	for _, r := range lower {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b = append(b, byte(r))
		case r == '_' || r == '.':
			b = append(b, '-')
		}
	}
	if len(b) == 0 {
		return "ecs"
	}
	return string(b)
}

// derivedUUID returns a stable UUID-formatted ID derived from parts, for
// fields ecsd does not store (e.g. neutron_subnet_id).
func derivedUUID(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// formatTime formats t in UTC. The layouts of the server objects
// (timeFormatServer, timeFormatLaunched, timeFormatJob) of the years 0 to
// 9999 are written without time.Format's layout parsing (list pages format
// three times per server); the result is the same.
func formatTime(t time.Time, layout string) string {
	var fracDigits int // of the fraction of a second
	var zulu bool      // a trailing Z
	switch layout {
	case timeFormatServer:
		zulu = true
	case timeFormatLaunched:
		fracDigits = 6
	case timeFormatJob:
		fracDigits, zulu = 3, true
	default:
		return t.UTC().Format(layout)
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(layout)
	}
	hour, minute, sec := t.Clock()
	var buf [32]byte
	b := appendDigits(buf[:0], year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), sec, 2)
	if fracDigits > 0 {
		frac := t.Nanosecond()
		for range 9 - fracDigits {
			frac /= 10 // time.Format truncates
		}
		b = appendDigits(append(b, '.'), frac, fracDigits)
	}
	if zulu {
		b = append(b, 'Z')
	}
	return string(b)
}

// appendDigits appends n, 0 <= n < 10^width, in width digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	b = append(b, "000000000"[:width]...)
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// formatOptionalTime is formatTime with "" for the zero time (launched_at
// before the first start, end_time of a running job).
func formatOptionalTime(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t, layout)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func ptr[T any](v T) *T { return &v }
