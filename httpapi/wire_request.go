package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	ecs "github.com/ecsd-dev/ecsd"
)

// Request bodies of the native ECS API, decoded and validated into domain
// requests. Every problem with a body is an *ecs.Error with code Ecs.0005
// whose message names the field and the rule; unknown fields are ignored.
// Field names and JSON types follow the SDK models (huaweicloud-sdk-go-v3
// v0.1.207, services/ecs/v2/model).

// API versions of the native ECS paths.
const (
	apiV1  = "v1"
	apiV11 = "v1.1"
)

// Request limits (reference §E, §F; SDK model comments).
const (
	maxActionServers  = 1000 // batch start/stop/reboot and delete
	maxCreateCount    = 100
	maxNICs           = 12
	maxDataVolumes    = 23
	maxMetadata       = 10
	maxTags           = 10
	maxNameLen        = 64
	maxBatchNameLen   = 59 // names get a "-0000" suffix when count > 1
	maxDescriptionLen = 85
	maxUserDataLen    = 65535 // base64 text
	maxUserDataBytes  = 32 * 1024
	maxIDLen          = 255 // generous bound on IDs and names we only pass on
)

// volumeTypes are the disk types of root_volume.volumetype and
// data_volumes[].volumetype (SDK enums).
var volumeTypes = []string{"SATA", "SAS", "SSD", "GPSSD", "co-p1", "uh-l1", "ESSD", "GPSSD2", "ESSD2"}

// cpuOptionsWire is cpu_options in requests (SDK CpuOptions): hw:cpu_threads
// is a JSON number, 1 or 2.
type cpuOptionsWire struct {
	CPUThreads *int `json:"hw:cpu_threads"`
}

// threads validates cpu_options at path and returns hw:cpu_threads, 0 when
// absent.
func (c *cpuOptionsWire) threads(path string) (int, error) {
	if c == nil || c.CPUThreads == nil {
		return 0, nil
	}
	if n := *c.CPUThreads; n != 1 && n != 2 {
		return 0, invalidField(path+".hw:cpu_threads", fmt.Sprintf("must be 1 or 2, got %d", n))
	}
	return *c.CPUThreads, nil
}

// --- resize ----------------------------------------------------------------

// resizeBodyV1 is the body of POST /v1/{project_id}/cloudservers/{server_id}/resize
// (SDK ResizePostPaidServerRequestBody).
type resizeBodyV1 struct {
	Resize *resizeOptionV1 `json:"resize"`
	DryRun *bool           `json:"dry_run"`
}

// resizeOptionV1 is SDK ResizePostPaidServerOption.
type resizeOptionV1 struct {
	FlavorRef  *string         `json:"flavorRef"`
	Mode       *string         `json:"mode"`
	CPUOptions *cpuOptionsWire `json:"cpu_options"`
}

// resizeBodyV11 is the body of POST /v1.1/{project_id}/cloudservers/{server_id}/resize
// (SDK ResizeServerRequestBody).
type resizeBodyV11 struct {
	Resize *resizeOptionV11 `json:"resize"`
	DryRun *bool            `json:"dry_run"`
}

// resizeOptionV11 is SDK ResizePrePaidServerOption: resizeOptionV1 plus
// dedicated_host_id and extendparam. (Not an embedding of resizeOptionV1:
// encoding/json would put the embedded type's name in error paths.)
type resizeOptionV11 struct {
	FlavorRef       *string               `json:"flavorRef"`
	Mode            *string               `json:"mode"`
	CPUOptions      *cpuOptionsWire       `json:"cpu_options"`
	DedicatedHostID *string               `json:"dedicated_host_id"`
	ExtendParam     *resizeExtendParamV11 `json:"extendparam"`
}

// resizeExtendParamV11 is SDK ResizeServerExtendParam: isAutoPay is a string.
type resizeExtendParamV11 struct {
	IsAutoPay *string `json:"isAutoPay"`
}

// resizeModeWithStop is the only documented resize.mode.
const resizeModeWithStop = "withStopServer"

// decodeResize decodes and validates the body of a resize request.
// apiVersion is "v1" (ResizePostPaidServer) or "v1.1" (ResizeServer); v1
// ignores the v1.1-only fields dedicated_host_id and extendparam. Problems
// with the body are Ecs.0005 *ecs.Error values; an unknown apiVersion is a
// programming error and returns a plain error.
func decodeResize(body []byte, projectID, serverID, apiVersion string) (*ecs.ResizeRequest, error) {
	var opt *resizeOptionV1
	var dryRun *bool
	var ext *resizeOptionV11
	switch apiVersion {
	case apiV1:
		var b resizeBodyV1
		if err := decodeBody(body, &b); err != nil {
			return nil, err
		}
		opt, dryRun = b.Resize, b.DryRun
	case apiV11:
		var b resizeBodyV11
		if err := decodeBody(body, &b); err != nil {
			return nil, err
		}
		if b.Resize != nil {
			ext = b.Resize
			opt = &resizeOptionV1{FlavorRef: ext.FlavorRef, Mode: ext.Mode, CPUOptions: ext.CPUOptions}
		}
		dryRun = b.DryRun
	default:
		return nil, fmt.Errorf("httpapi: decodeResize: unknown API version %q", apiVersion)
	}
	if opt == nil {
		return nil, missingField("resize")
	}
	req := &ecs.ResizeRequest{
		ProjectID:  projectID,
		ServerID:   serverID,
		APIVersion: apiVersion,
		DryRun:     dryRun != nil && *dryRun,
	}
	if opt.FlavorRef == nil {
		return nil, missingField("resize.flavorRef")
	}
	flavor, err := requireID("resize.flavorRef", *opt.FlavorRef)
	if err != nil {
		return nil, err
	}
	req.FlavorID = flavor
	if opt.Mode != nil {
		if *opt.Mode != resizeModeWithStop {
			return nil, invalidField("resize.mode", fmt.Sprintf("must be %q, got %q", resizeModeWithStop, *opt.Mode))
		}
		req.WithStop = true
	}
	if req.CPUThreads, err = opt.CPUOptions.threads("resize.cpu_options"); err != nil {
		return nil, err
	}
	if ext != nil {
		if ext.DedicatedHostID != nil && *ext.DedicatedHostID != "" {
			if req.DedicatedID, err = requireID("resize.dedicated_host_id", *ext.DedicatedHostID); err != nil {
				return nil, err
			}
		}
		if ext.ExtendParam != nil && ext.ExtendParam.IsAutoPay != nil {
			if req.AutoPay, err = parseBoolString("resize.extendparam.isAutoPay", *ext.ExtendParam.IsAutoPay, true); err != nil {
				return nil, err
			}
		}
	}
	return req, nil
}

// --- create ----------------------------------------------------------------

// createServersBody is the body of POST /v1/{project_id}/cloudservers (SDK
// CreatePostPaidServersRequestBody) and POST /v1.1/{project_id}/cloudservers
// (SDK CreateServersRequestBody). Only extendparam differs between the two
// versions, so it is decoded separately.
type createServersBody struct {
	Server *serverCreateWire `json:"server"`
	DryRun *bool             `json:"dry_run"`
}

// serverCreateWire is SDK PostPaidServer / PrePaidServer, less the fields
// ecsd ignores (publicip, os:scheduler_hints, batch_create_in_multi_az,
// auto_terminate_time, security_options, serial_console_options,
// metadata_options, enclave_options).
type serverCreateWire struct {
	Name             *string              `json:"name"`
	ImageRef         *string              `json:"imageRef"`
	FlavorRef        *string              `json:"flavorRef"`
	VPCID            *string              `json:"vpcid"`
	NICs             []nicCreateWire      `json:"nics"`
	RootVolume       *rootVolumeWire      `json:"root_volume"`
	DataVolumes      []dataVolumeWire     `json:"data_volumes"`
	AvailabilityZone *string              `json:"availability_zone"`
	Count            *int                 `json:"count"`
	IsAutoRename     *bool                `json:"isAutoRename"`
	KeyName          *string              `json:"key_name"`
	AdminPass        *string              `json:"adminPass"`
	UserData         *string              `json:"user_data"`
	Metadata         map[string]string    `json:"metadata"`
	Tags             []string             `json:"tags"`
	ServerTags       []serverTagWire      `json:"server_tags"`
	SecurityGroups   []securityGroupIDRef `json:"security_groups"`
	Description      *string              `json:"description"`
	CPUOptions       *cpuOptionsWire      `json:"cpu_options"`
	ExtendParam      json.RawMessage      `json:"extendparam"`
}

// nicCreateWire is SDK PostPaidServerNic / PrePaidServerNic.
type nicCreateWire struct {
	SubnetID  *string `json:"subnet_id"`
	PortID    *string `json:"port_id"`
	IPAddress *string `json:"ip_address"`
}

// rootVolumeWire is SDK PostPaidServerRootVolume / PrePaidServerRootVolume.
type rootVolumeWire struct {
	VolumeType *string `json:"volumetype"`
	Size       *int    `json:"size"`
}

// dataVolumeWire is SDK PostPaidServerDataVolume / PrePaidServerDataVolume.
type dataVolumeWire struct {
	VolumeType *string `json:"volumetype"`
	Size       *int    `json:"size"`
}

// serverTagWire is SDK PostPaidServerTag / PrePaidServerTag.
type serverTagWire struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

// securityGroupIDRef is SDK PostPaidServerSecurityGroup.
type securityGroupIDRef struct {
	ID *string `json:"id"`
}

// extendParamV1 is SDK PostPaidServerExtendParam: chargingMode is an
// integer and only 0 (pay-per-use) is allowed.
type extendParamV1 struct {
	ChargingMode *int    `json:"chargingMode"`
	MarketType   *string `json:"marketType"`
	SpotPrice    *string `json:"spotPrice"`
}

// extendParamV11 is SDK PrePaidServerExtendParam: chargingMode, periodType,
// isAutoRenew and isAutoPay are strings, periodNum an integer.
type extendParamV11 struct {
	ChargingMode *string `json:"chargingMode"`
	PeriodType   *string `json:"periodType"`
	PeriodNum    *int    `json:"periodNum"`
	IsAutoRenew  *string `json:"isAutoRenew"`
	IsAutoPay    *string `json:"isAutoPay"`
	MarketType   *string `json:"marketType"`
	SpotPrice    *string `json:"spotPrice"`
}

var (
	// serverNameRE: Chinese characters, ASCII letters, digits, "_", "-", ".".
	serverNameRE = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_.\-]+$`)
	// metadataKeyRE: letters, digits, "-", "_", ":" and ".".
	metadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9_:.\-]+$`)
	// legacyTagKeyRE / legacyTagValueRE: the "tags" field's key and value.
	legacyTagKeyRE   = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_\-]+$`)
	legacyTagValueRE = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_.\-]*$`)
	// spotPriceRE: a positive decimal price.
	spotPriceRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// decodeCreateServers decodes and validates the body of a create request.
// apiVersion is "v1" (CreatePostPaidServers: extendparam.chargingMode is the
// integer 0, marketType "spot" asks for spot servers) or "v1.1"
// (CreateServers: chargingMode "prePaid" or "postPaid", with periodType,
// periodNum, isAutoRenew and isAutoPay as strings). The caller sets
// ClientToken from the X-Client-Token header. Problems with the body are
// Ecs.0005 *ecs.Error values; an unknown apiVersion is a programming error
// and returns a plain error.
//
// Fields validated but not carried by ecs.CreateServersRequest: nics[].ip_address,
// data_volumes, extendparam periodType/periodNum/isAutoRenew/isAutoPay.
func decodeCreateServers(body []byte, projectID, apiVersion string) (*ecs.CreateServersRequest, error) {
	if apiVersion != apiV1 && apiVersion != apiV11 {
		return nil, fmt.Errorf("httpapi: decodeCreateServers: unknown API version %q", apiVersion)
	}
	var b createServersBody
	if err := decodeBody(body, &b); err != nil {
		return nil, err
	}
	s := b.Server
	if s == nil {
		return nil, missingField("server")
	}
	req := &ecs.CreateServersRequest{
		ProjectID: projectID,
		Count:     1,
		DryRun:    b.DryRun != nil && *b.DryRun,
	}
	var err error

	if s.Count != nil {
		if *s.Count < 1 || *s.Count > maxCreateCount {
			return nil, invalidField("server.count", fmt.Sprintf("must be between 1 and %d, got %d", maxCreateCount, *s.Count))
		}
		req.Count = *s.Count
	}
	if s.Name == nil {
		return nil, missingField("server.name")
	}
	if req.Name, err = validServerName(*s.Name, req.Count); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{
		{"server.imageRef", s.ImageRef, &req.ImageID},
		{"server.flavorRef", s.FlavorRef, &req.FlavorID},
		{"server.vpcid", s.VPCID, &req.VPCID},
	} {
		if f.v == nil {
			return nil, missingField(f.name)
		}
		if *f.dst, err = requireID(f.name, *f.v); err != nil {
			return nil, err
		}
	}
	if req.SubnetIDs, err = validNICs(s.NICs); err != nil {
		return nil, err
	}
	if s.RootVolume == nil {
		return nil, missingField("server.root_volume")
	}
	if req.RootVolumeType, req.RootVolumeSize, err = validRootVolume(s.RootVolume); err != nil {
		return nil, err
	}
	if req.DataVolumes, err = validDataVolumes(s.DataVolumes); err != nil {
		return nil, err
	}
	if s.AvailabilityZone != nil && *s.AvailabilityZone != "" {
		if req.AvailabilityZone, err = requireID("server.availability_zone", *s.AvailabilityZone); err != nil {
			return nil, err
		}
	}
	// isAutoRename defaults to true (SDK comment: "默认为True").
	req.IsAutoRename = s.IsAutoRename == nil || *s.IsAutoRename
	if s.KeyName != nil && *s.KeyName != "" {
		if req.KeyName, err = requireID("server.key_name", *s.KeyName); err != nil {
			return nil, err
		}
	}
	if s.AdminPass != nil && *s.AdminPass != "" {
		if err = validAdminPass(*s.AdminPass); err != nil {
			return nil, err
		}
		req.AdminPass = *s.AdminPass
	}
	if s.UserData != nil {
		if err = validUserData(*s.UserData); err != nil {
			return nil, err
		}
		req.UserData = *s.UserData
	}
	if req.Metadata, err = validMetadata(s.Metadata); err != nil {
		return nil, err
	}
	if req.Tags, err = validTags(s.Tags, s.ServerTags); err != nil {
		return nil, err
	}
	if req.SecurityGroups, err = validSecurityGroupRefs(s.SecurityGroups); err != nil {
		return nil, err
	}
	if s.Description != nil {
		if err = validDescription("server.description", *s.Description); err != nil {
			return nil, err
		}
		req.Description = *s.Description
	}
	if req.CPUThreads, err = s.CPUOptions.threads("server.cpu_options"); err != nil {
		return nil, err
	}
	if apiVersion == apiV1 {
		req.ChargingMode, req.SpotPrice, err = chargingV1(s.ExtendParam)
	} else {
		req.ChargingMode, req.SpotPrice, err = chargingV11(s.ExtendParam, req)
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// validServerName checks server.name: 1–64 characters (1–59 when count > 1)
// of Chinese characters, letters, digits, "_", "-" and ".".
func validServerName(name string, count int) (string, error) {
	limit := maxNameLen
	if count > 1 {
		limit = maxBatchNameLen
	}
	n := utf8.RuneCountInString(name)
	switch {
	case name == "":
		return "", invalidField("server.name", "must be a non-empty string")
	case n > limit && count > 1:
		return "", invalidField("server.name", fmt.Sprintf("must be at most %d characters when count > 1, got %d", limit, n))
	case n > limit:
		return "", invalidField("server.name", fmt.Sprintf("must be at most %d characters, got %d", limit, n))
	case !serverNameRE.MatchString(name):
		return "", invalidField("server.name", `may contain only Chinese characters, letters, digits, "_", "-" and "."`)
	}
	return name, nil
}

// validNICs checks server.nics and returns the subnet IDs in order.
func validNICs(nics []nicCreateWire) ([]string, error) {
	if len(nics) == 0 {
		return nil, invalidField("server.nics", "must contain at least one NIC")
	}
	if len(nics) > maxNICs {
		return nil, invalidField("server.nics", fmt.Sprintf("must contain at most %d NICs, got %d", maxNICs, len(nics)))
	}
	subnets := make([]string, 0, len(nics))
	for i, nic := range nics {
		path := fmt.Sprintf("server.nics[%d]", i)
		if nic.SubnetID == nil || *nic.SubnetID == "" {
			if nic.PortID != nil && *nic.PortID != "" {
				return nil, invalidField(path+".port_id", "is not supported by ecsd; give subnet_id instead")
			}
			return nil, missingField(path + ".subnet_id")
		}
		id, err := requireID(path+".subnet_id", *nic.SubnetID)
		if err != nil {
			return nil, err
		}
		if nic.IPAddress != nil && *nic.IPAddress != "" {
			ip, err := netip.ParseAddr(*nic.IPAddress)
			if err != nil || !ip.Is4() {
				return nil, invalidField(path+".ip_address", fmt.Sprintf("must be an IPv4 address, got %q", *nic.IPAddress))
			}
		}
		subnets = append(subnets, id)
	}
	return subnets, nil
}

// validRootVolume checks server.root_volume; a size of 0 or none means the
// image's minimum.
func validRootVolume(v *rootVolumeWire) (string, int, error) {
	if v.VolumeType == nil {
		return "", 0, missingField("server.root_volume.volumetype")
	}
	if err := validVolumeType("server.root_volume.volumetype", *v.VolumeType); err != nil {
		return "", 0, err
	}
	size := 0
	if v.Size != nil {
		size = *v.Size
		if size < 0 || size > 1024 {
			return "", 0, invalidField("server.root_volume.size", fmt.Sprintf("must be between 1 and 1024 (GB), got %d", size))
		}
	}
	return *v.VolumeType, size, nil
}

// validDataVolumes checks server.data_volumes and returns them in order.
func validDataVolumes(vols []dataVolumeWire) ([]ecs.VolumeSpec, error) {
	if len(vols) > maxDataVolumes {
		return nil, invalidField("server.data_volumes", fmt.Sprintf("must contain at most %d disks, got %d", maxDataVolumes, len(vols)))
	}
	var out []ecs.VolumeSpec
	for i, v := range vols {
		path := fmt.Sprintf("server.data_volumes[%d]", i)
		if v.VolumeType == nil {
			return nil, missingField(path + ".volumetype")
		}
		if err := validVolumeType(path+".volumetype", *v.VolumeType); err != nil {
			return nil, err
		}
		if v.Size == nil {
			return nil, missingField(path + ".size")
		}
		if *v.Size < 10 || *v.Size > 32768 {
			return nil, invalidField(path+".size", fmt.Sprintf("must be between 10 and 32768 (GB), got %d", *v.Size))
		}
		out = append(out, ecs.VolumeSpec{VolumeType: *v.VolumeType, SizeGB: *v.Size})
	}
	return out, nil
}

func validVolumeType(path, t string) error {
	if slices.Contains(volumeTypes, t) {
		return nil
	}
	return invalidField(path, fmt.Sprintf("must be one of %s, got %q", strings.Join(volumeTypes, ", "), t))
}

// validAdminPass checks server.adminPass: 8–26 characters with at least
// three of upper case, lower case, digits and the specials !@$%^-_=+[{}]:,./?
// and nothing else.
func validAdminPass(p string) error {
	const specials = "!@$%^-_=+[{}]:,./?"
	n := utf8.RuneCountInString(p)
	if n < 8 || n > 26 {
		return invalidField("server.adminPass", fmt.Sprintf("must be 8 to 26 characters, got %d", n))
	}
	var upper, lower, digit, special bool
	for _, r := range p {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(specials, r):
			special = true
		default:
			return invalidField("server.adminPass", "may contain only letters, digits and the special characters "+specials)
		}
	}
	kinds := 0
	for _, ok := range []bool{upper, lower, digit, special} {
		if ok {
			kinds++
		}
	}
	if kinds < 3 {
		return invalidField("server.adminPass", "must contain at least three of: upper-case letters, lower-case letters, digits, special characters")
	}
	return nil
}

// validUserData checks server.user_data: empty, or base64 of at most 32 KB.
func validUserData(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxUserDataLen {
		return invalidField("server.user_data", fmt.Sprintf("must be at most %d characters of base64, got %d", maxUserDataLen, len(s)))
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return invalidField("server.user_data", "must be base64-encoded")
		}
	}
	if len(raw) > maxUserDataBytes {
		return invalidField("server.user_data", fmt.Sprintf("must be at most %d bytes before encoding, got %d", maxUserDataBytes, len(raw)))
	}
	return nil
}

// validMetadata checks server.metadata: at most 10 pairs, keys of 1–255
// letters, digits, "-", "_", ":" or ".", values of at most 255 characters.
func validMetadata(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	if len(m) > maxMetadata {
		return nil, invalidField("server.metadata", fmt.Sprintf("must contain at most %d pairs, got %d", maxMetadata, len(m)))
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if len(k) == 0 || len(k) > 255 || !metadataKeyRE.MatchString(k) {
			return nil, invalidField("server.metadata", fmt.Sprintf(`key %q must be 1 to 255 letters, digits, "-", "_", ":" or "."`, k))
		}
		if utf8.RuneCountInString(v) > 255 {
			return nil, invalidField("server.metadata."+k, "must be at most 255 characters")
		}
		out[k] = v
	}
	return out, nil
}

// validTags merges server.tags ("key=value", or the documented legacy
// "key.value") and server.server_tags ([{key, value}]) into "key=value"
// strings: at most 10, keys unique.
func validTags(tags []string, serverTags []serverTagWire) ([]string, error) {
	if len(tags)+len(serverTags) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(tags)+len(serverTags))
	seen := make(map[string]bool)
	add := func(path, k, v string) error {
		if seen[k] {
			return invalidField(path, fmt.Sprintf("duplicate tag key %q", k))
		}
		seen[k] = true
		out = append(out, k+"="+v)
		return nil
	}
	for i, t := range tags {
		path := fmt.Sprintf("server.tags[%d]", i)
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			k, v, _ = strings.Cut(t, ".")
		}
		if k == "" || utf8.RuneCountInString(k) > 36 || !legacyTagKeyRE.MatchString(k) {
			return nil, invalidField(path, fmt.Sprintf(`must be "key=value" with a key of 1 to 36 letters, digits, "_" or "-", got %q`, t))
		}
		if utf8.RuneCountInString(v) > 43 || !legacyTagValueRE.MatchString(v) {
			return nil, invalidField(path, fmt.Sprintf(`tag value must be at most 43 letters, digits, "_", "-" or ".", got %q`, v))
		}
		if err := add(path, k, v); err != nil {
			return nil, err
		}
	}
	for i, t := range serverTags {
		path := fmt.Sprintf("server.server_tags[%d]", i)
		if t.Key == nil {
			return nil, missingField(path + ".key")
		}
		if t.Value == nil {
			return nil, missingField(path + ".value")
		}
		k, v := *t.Key, *t.Value
		if k == "" || utf8.RuneCountInString(k) > 36 || strings.ContainsAny(k, `=*<>\,|/`) || hasControl(k) {
			return nil, invalidField(path+".key", `must be 1 to 36 characters without control characters or any of = * < > \ , | /`)
		}
		if utf8.RuneCountInString(v) > 43 || strings.ContainsAny(v, `=*<>\,|`) || hasControl(v) {
			return nil, invalidField(path+".value", `must be at most 43 characters without control characters or any of = * < > \ , |`)
		}
		if err := add(path+".key", k, v); err != nil {
			return nil, err
		}
	}
	if len(out) > maxTags {
		return nil, invalidField("server.tags", fmt.Sprintf("a server may have at most %d tags (tags and server_tags together), got %d", maxTags, len(out)))
	}
	return out, nil
}

// validSecurityGroupRefs checks server.security_groups and returns the IDs
// in request order.
func validSecurityGroupRefs(refs []securityGroupIDRef) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(refs))
	seen := make(map[string]bool, len(refs))
	for i, r := range refs {
		path := fmt.Sprintf("server.security_groups[%d].id", i)
		if r.ID == nil {
			return nil, missingField(path)
		}
		id, err := requireID(path, *r.ID)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalidField(path, fmt.Sprintf("duplicate security group %q", id))
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, nil
}

// validDescription checks a description: at most 85 characters, no < or >.
func validDescription(path, d string) error {
	if n := utf8.RuneCountInString(d); n > maxDescriptionLen {
		return invalidField(path, fmt.Sprintf("must be at most %d characters, got %d", maxDescriptionLen, n))
	}
	if strings.ContainsAny(d, "<>") {
		return invalidField(path, `must not contain "<" or ">"`)
	}
	return nil
}

// chargingV1 reads the v1 extendparam: chargingMode must be the integer 0;
// marketType "spot" makes a spot server, spotPrice its optional price cap.
func chargingV1(raw json.RawMessage) (mode, spotPrice string, err error) {
	if isJSONNull(raw) {
		return ecs.ChargingPostPaid, "", nil
	}
	var p extendParamV1
	if err := decodeJSONAt(raw, &p, "server.extendparam"); err != nil {
		return "", "", err
	}
	if p.ChargingMode != nil && *p.ChargingMode != 0 {
		return "", "", invalidField("server.extendparam.chargingMode", fmt.Sprintf("must be 0 (pay-per-use) on /v1; use /v1.1 for yearly/monthly servers, got %d", *p.ChargingMode))
	}
	return spotCharging(p.MarketType, p.SpotPrice)
}

// chargingV11 reads the v1.1 extendparam; for prePaid it also records the
// order settings (period, auto-renew, auto-pay) in req.
func chargingV11(raw json.RawMessage, req *ecs.CreateServersRequest) (mode, spotPrice string, err error) {
	if isJSONNull(raw) {
		return ecs.ChargingPostPaid, "", nil
	}
	var p extendParamV11
	if err := decodeJSONAt(raw, &p, "server.extendparam"); err != nil {
		return "", "", err
	}
	charging := "postPaid"
	if p.ChargingMode != nil && *p.ChargingMode != "" {
		charging = *p.ChargingMode
	}
	switch charging {
	case "postPaid":
		// periodType, periodNum, isAutoRenew and isAutoPay only take effect
		// with prePaid; like the platform, ignore them otherwise (clients
		// such as Terraform send them with zero values).
		return spotCharging(p.MarketType, p.SpotPrice)
	case "prePaid":
		if p.MarketType != nil && *p.MarketType != "" {
			return "", "", invalidField("server.extendparam.marketType", `is not allowed with chargingMode "prePaid"`)
		}
		if p.PeriodType == nil {
			return "", "", missingField("server.extendparam.periodType")
		}
		maxPeriod := 0
		switch *p.PeriodType {
		case "month":
			maxPeriod = 9
		case "year":
			maxPeriod = 3
		default:
			return "", "", invalidField("server.extendparam.periodType", fmt.Sprintf(`must be "month" or "year", got %q`, *p.PeriodType))
		}
		if p.PeriodNum == nil {
			return "", "", missingField("server.extendparam.periodNum")
		}
		if *p.PeriodNum < 1 || *p.PeriodNum > maxPeriod {
			return "", "", invalidField("server.extendparam.periodNum", fmt.Sprintf("must be between 1 and %d for periodType %q, got %d", maxPeriod, *p.PeriodType, *p.PeriodNum))
		}
		autoRenew, err := optionalBoolString("server.extendparam.isAutoRenew", p.IsAutoRenew)
		if err != nil {
			return "", "", err
		}
		autoPay, err := optionalBoolString("server.extendparam.isAutoPay", p.IsAutoPay)
		if err != nil {
			return "", "", err
		}
		req.PeriodType, req.PeriodNum = *p.PeriodType, int(*p.PeriodNum)
		req.AutoRenew, req.AutoPay = autoRenew, autoPay
		return ecs.ChargingPrePaid, "", nil
	default:
		return "", "", invalidField("server.extendparam.chargingMode", fmt.Sprintf(`must be "prePaid" or "postPaid", got %q`, charging))
	}
}

// spotCharging applies marketType and spotPrice of a pay-per-use create.
func spotCharging(marketType, spotPrice *string) (mode, price string, err error) {
	if marketType == nil || *marketType == "" {
		return ecs.ChargingPostPaid, "", nil
	}
	if *marketType != "spot" {
		return "", "", invalidField("server.extendparam.marketType", fmt.Sprintf(`must be "spot", got %q`, *marketType))
	}
	if spotPrice != nil && *spotPrice != "" {
		if !spotPriceRE.MatchString(*spotPrice) || strings.Trim(*spotPrice, "0.") == "" {
			return "", "", invalidField("server.extendparam.spotPrice", fmt.Sprintf("must be a positive decimal number, got %q", *spotPrice))
		}
		price = *spotPrice
	}
	return ecs.ChargingSpot, price, nil
}

// --- batch actions -----------------------------------------------------------

// serverActionBody is the body of POST /v1/{project_id}/cloudservers/action:
// exactly one of os-start (SDK BatchStartServersRequestBody), os-stop
// (BatchStopServersRequestBody) and reboot (BatchRebootServersRequestBody).
type serverActionBody struct {
	Servers []serverIDWire `json:"servers"`
	Type    *string        `json:"type"`
}

// serverIDWire is SDK ServerId.
type serverIDWire struct {
	ID *string `json:"id"`
}

// serverActionKeys maps the top-level keys of the action body to actions.
var serverActionKeys = map[string]string{
	"os-start": ecs.ActionStart,
	"os-stop":  ecs.ActionStop,
	"reboot":   ecs.ActionReboot,
}

// decodeServerAction decodes and validates a batch start, stop or reboot.
// The body must have exactly one of the keys "os-start", "os-stop" and
// "reboot"; other top-level keys are ignored. os-stop.type is optional, SOFT
// (default) or HARD; reboot.type is required. All problems are Ecs.0005
// *ecs.Error values.
func decodeServerAction(body []byte, projectID string) (*ecs.ServerActionRequest, error) {
	var top map[string]json.RawMessage
	if err := decodeBody(body, &top); err != nil {
		return nil, err
	}
	var key string
	for k := range top {
		if _, ok := serverActionKeys[k]; !ok {
			continue
		}
		if key != "" {
			return nil, badRequest("Unsupported action: the body must contain exactly one of \"os-start\", \"os-stop\" and \"reboot\"")
		}
		key = k
	}
	if key == "" {
		return nil, badRequest("Unsupported action: the body must contain one of \"os-start\", \"os-stop\" and \"reboot\"")
	}
	if isJSONNull(top[key]) {
		return nil, missingField(key + ".servers")
	}
	var a serverActionBody
	if err := decodeJSONAt(top[key], &a, key); err != nil {
		return nil, err
	}
	req := &ecs.ServerActionRequest{ProjectID: projectID, Action: serverActionKeys[key]}
	switch key {
	case "os-start":
		// os-start has no type; a stray one is ignored like any unknown field.
	case "os-stop":
		if a.Type != nil {
			hard, err := parseRebootType(key+".type", *a.Type)
			if err != nil {
				return nil, err
			}
			req.Hard = hard
		}
	case "reboot":
		if a.Type == nil {
			return nil, missingField("reboot.type")
		}
		hard, err := parseRebootType(key+".type", *a.Type)
		if err != nil {
			return nil, err
		}
		req.Hard = hard
	}
	ids, err := serverIDList(key+".servers", a.Servers)
	if err != nil {
		return nil, err
	}
	req.ServerIDs = ids
	return req, nil
}

func parseRebootType(path, t string) (hard bool, err error) {
	switch t {
	case "SOFT":
		return false, nil
	case "HARD":
		return true, nil
	}
	return false, invalidField(path, fmt.Sprintf(`must be "SOFT" or "HARD", got %q`, t))
}

// serverIDList checks a servers array of {id}: 1 to 1000 entries, IDs
// non-empty and unique.
func serverIDList(path string, servers []serverIDWire) ([]string, error) {
	if servers == nil {
		return nil, missingField(path)
	}
	if len(servers) == 0 {
		return nil, invalidField(path, "must contain at least one server")
	}
	if len(servers) > maxActionServers {
		return nil, invalidField(path, fmt.Sprintf("must contain at most %d servers, got %d", maxActionServers, len(servers)))
	}
	ids := make([]string, 0, len(servers))
	seen := make(map[string]bool, len(servers))
	for i, s := range servers {
		p := fmt.Sprintf("%s[%d].id", path, i)
		if s.ID == nil {
			return nil, missingField(p)
		}
		id, err := requireID(p, *s.ID)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalidField(p, fmt.Sprintf("duplicate server ID %q", id))
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, nil
}

// --- delete ------------------------------------------------------------------

// deleteServersBody is SDK DeleteServersRequestBody.
type deleteServersBody struct {
	Servers        []serverIDWire `json:"servers"`
	DeletePublicIP *bool          `json:"delete_publicip"`
	DeleteVolume   *bool          `json:"delete_volume"`
}

// decodeDeleteServers decodes and validates the body of
// POST /v1/{project_id}/cloudservers/delete: servers is required, 1 to 1000
// unique IDs. All problems are Ecs.0005 *ecs.Error values.
func decodeDeleteServers(body []byte, projectID string) (*ecs.DeleteServersRequest, error) {
	var b deleteServersBody
	if err := decodeBody(body, &b); err != nil {
		return nil, err
	}
	ids, err := serverIDList("servers", b.Servers)
	if err != nil {
		return nil, err
	}
	return &ecs.DeleteServersRequest{
		ProjectID:      projectID,
		ServerIDs:      ids,
		DeletePublicIP: b.DeletePublicIP != nil && *b.DeletePublicIP,
		DeleteVolume:   b.DeleteVolume != nil && *b.DeleteVolume,
	}, nil
}

// --- shared field rules --------------------------------------------------------

// requireID checks a required identifier-like string (flavor, image, VPC,
// subnet, server IDs, AZ and key names): non-empty, at most 255 characters,
// no surrounding spaces or control characters.
func requireID(path, s string) (string, error) {
	switch {
	case s == "":
		return "", invalidField(path, "must be a non-empty string")
	case len(s) > maxIDLen:
		return "", invalidField(path, fmt.Sprintf("must be at most %d characters", maxIDLen))
	case strings.TrimSpace(s) != s || hasControl(s) || !utf8.ValidString(s):
		return "", invalidField(path, "must not contain spaces at either end or control characters")
	}
	return s, nil
}

// parseBoolString reads the Huawei "true"/"false" strings; emptyOK lets ""
// mean false.
func parseBoolString(path, s string, emptyOK bool) (bool, error) {
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "":
		if emptyOK {
			return false, nil
		}
	}
	return false, invalidField(path, fmt.Sprintf(`must be the string "true" or "false", got %q`, s))
}

func optionalBoolString(path string, s *string) (bool, error) {
	if s == nil {
		return false, nil
	}
	return parseBoolString(path, *s, true)
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
