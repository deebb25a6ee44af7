package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Wire types of the Nova-compatible API (/v2.1/{project_id}/servers/...):
// the server actions' bodies and the Nova server object (NovaShowServer.json,
// as gophercloud's servers.Server decodes it), and Nova's error envelope.

// Nova server actions, by the key of the action body.
const (
	novaStart   = "os-start"
	novaStop    = "os-stop"
	novaReboot  = "reboot"
	novaResize  = "resize"
	novaConfirm = "confirmResize"
	novaRevert  = "revertResize"
)

// novaActionOps names the operation (for fault rules) of each action.
var novaActionOps = map[string]string{
	novaStart:   "NovaStartServer",
	novaStop:    "NovaStopServer",
	novaReboot:  "NovaRebootServer",
	novaResize:  "NovaResizeServer",
	novaConfirm: "NovaConfirmResizeServer",
	novaRevert:  "NovaRevertResizeServer",
}

// novaAction is a decoded server action: Name is one of the nova* keys.
type novaAction struct {
	Name     string
	Hard     bool   // os-stop / reboot type HARD
	FlavorID string // resize flavorRef
}

// decodeNovaAction decodes the body of POST .../servers/{id}/action: a JSON
// object with exactly one action key. os-start, confirmResize and
// revertResize take null or {}; os-stop null, {} or {"type":"SOFT"|"HARD"};
// reboot {"type":"SOFT"|"HARD"} (required); resize {"flavorRef": string}
// with an optional "OS-DCF:diskConfig" AUTO or MANUAL. Types are matched
// case-insensitively, as Nova does.
func decodeNovaAction(body []byte) (*novaAction, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("Invalid request body: the body is empty, a JSON object is required")
	}
	var keys map[string]json.RawMessage
	if err := decodeJSONAt(body, &keys, ""); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, badRequest("Invalid request body: a JSON object is required")
	}
	var name string
	for k := range keys {
		if _, ok := novaActionOps[k]; ok {
			if name != "" {
				return nil, badRequest("Invalid request body: more than one action (%s, %s)", name, k)
			}
			name = k
		}
	}
	if name == "" {
		for k := range keys {
			return nil, badRequest("There is no such action: %s", k)
		}
		return nil, badRequest("Invalid request body: no action given")
	}
	raw := keys[name]
	a := &novaAction{Name: name}
	switch name {
	case novaStart, novaConfirm, novaRevert:
		if !isJSONNull(raw) {
			var obj map[string]json.RawMessage
			if err := decodeJSONAt(raw, &obj, name); err != nil || len(obj) > 0 {
				return nil, invalidField(name, "must be null or an empty object")
			}
		}
	case novaStop:
		if isJSONNull(raw) {
			return a, nil
		}
		var in struct {
			Type *string `json:"type"`
		}
		if err := decodeJSONAt(raw, &in, name); err != nil {
			return nil, err
		}
		if in.Type != nil {
			hard, err := novaHard(*in.Type, name+".type")
			if err != nil {
				return nil, err
			}
			a.Hard = hard
		}
	case novaReboot:
		if isJSONNull(raw) {
			return nil, missingField("reboot.type")
		}
		var in struct {
			Type *string `json:"type"`
		}
		if err := decodeJSONAt(raw, &in, name); err != nil {
			return nil, err
		}
		if in.Type == nil {
			return nil, missingField("reboot.type")
		}
		hard, err := novaHard(*in.Type, "reboot.type")
		if err != nil {
			return nil, err
		}
		a.Hard = hard
	case novaResize:
		if isJSONNull(raw) {
			return nil, missingField("resize.flavorRef")
		}
		var in struct {
			FlavorRef  json.RawMessage `json:"flavorRef"`
			DiskConfig *string         `json:"OS-DCF:diskConfig"`
		}
		if err := decodeJSONAt(raw, &in, name); err != nil {
			return nil, err
		}
		if len(in.FlavorRef) == 0 || isJSONNull(in.FlavorRef) {
			return nil, missingField("resize.flavorRef")
		}
		var ref string
		if err := json.Unmarshal(in.FlavorRef, &ref); err != nil {
			// Nova's flavorRef may also be an integer.
			n, nerr := strconv.ParseInt(string(in.FlavorRef), 10, 64)
			if nerr != nil {
				return nil, invalidField("resize.flavorRef", "must be a string or an integer")
			}
			ref = strconv.FormatInt(n, 10)
		}
		if strings.TrimSpace(ref) == "" {
			return nil, invalidField("resize.flavorRef", "must not be empty")
		}
		if in.DiskConfig != nil && *in.DiskConfig != "AUTO" && *in.DiskConfig != "MANUAL" {
			return nil, invalidField("resize.OS-DCF:diskConfig", "must be AUTO or MANUAL")
		}
		a.FlavorID = ref
	}
	return a, nil
}

// novaHard maps a SOFT/HARD type (any case) to hard.
func novaHard(typ, field string) (bool, error) {
	switch strings.ToUpper(typ) {
	case "SOFT":
		return false, nil
	case "HARD":
		return true, nil
	}
	return false, invalidField(field, "must be SOFT or HARD")
}

// novaActionOperation names the operation of a Nova action body; "" when
// the body names none.
func novaActionOperation(body []byte) string {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return ""
	}
	for k := range keys {
		if op, ok := novaActionOps[k]; ok {
			return op
		}
	}
	return ""
}

// novaShowServerBody is NovaShowServerResponseBody.
type novaShowServerBody struct {
	Server novaServer `json:"server"`
}

// novaServer is NovaServer (microversion 2.1: flavor and image are
// references with links).
type novaServer struct {
	ID                 string                   `json:"id"`
	Name               string                   `json:"name"`
	Status             string                   `json:"status"`
	TenantID           string                   `json:"tenant_id"`
	UserID             string                   `json:"user_id"`
	Metadata           map[string]string        `json:"metadata"`
	HostID             string                   `json:"hostId"`
	Image              novaRef                  `json:"image"`
	Flavor             novaRef                  `json:"flavor"`
	Created            string                   `json:"created"`
	Updated            string                   `json:"updated"`
	Addresses          map[string][]novaAddress `json:"addresses"`
	AccessIPv4         string                   `json:"accessIPv4"`
	AccessIPv6         string                   `json:"accessIPv6"`
	Links              []novaLink               `json:"links"`
	DiskConfig         string                   `json:"OS-DCF:diskConfig"`
	Progress           int                      `json:"progress"`
	AvailabilityZone   string                   `json:"OS-EXT-AZ:availability_zone"`
	ConfigDrive        string                   `json:"config_drive"`
	KeyName            string                   `json:"key_name"`
	LaunchedAt         string                   `json:"OS-SRV-USG:launched_at"`
	TerminatedAt       string                   `json:"OS-SRV-USG:terminated_at"`
	Host               string                   `json:"OS-EXT-SRV-ATTR:host"`
	InstanceName       string                   `json:"OS-EXT-SRV-ATTR:instance_name"`
	HypervisorHostname string                   `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`
	TaskState          *string                  `json:"OS-EXT-STS:task_state"`
	VMState            string                   `json:"OS-EXT-STS:vm_state"`
	PowerState         int                      `json:"OS-EXT-STS:power_state"`
	VolumesAttached    []novaVolume             `json:"os-extended-volumes:volumes_attached"`
	SecurityGroups     []novaSecurityGroup      `json:"security_groups"`
	Tags               []string                 `json:"tags"`
	HostStatus         string                   `json:"host_status"`
	Description        string                   `json:"description"`
	Locked             bool                     `json:"locked"`
	Fault              *serverFault             `json:"fault,omitempty"`
}

// novaRef is NovaServerFlavor / NovaServerImage as microversion 2.1 shows
// them: an ID and a bookmark link.
type novaRef struct {
	ID    string     `json:"id"`
	Links []novaLink `json:"links"`
}

// novaLink is NovaLink.
type novaLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// novaAddress is NovaNetwork: version is an integer here.
type novaAddress struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type"`
	MACAddr string `json:"OS-EXT-IPS-MAC:mac_addr"`
}

// novaVolume is NovaServerVolume.
type novaVolume struct {
	ID                  string `json:"id"`
	DeleteOnTermination bool   `json:"delete_on_termination"`
}

// novaSecurityGroup is NovaServerSecurityGroup.
type novaSecurityGroup struct {
	Name string `json:"name"`
}

// newNovaServer returns the Nova server object of v; base is the URL the
// links start with (scheme and host).
func newNovaServer(v serverView, base string) novaServer {
	s := v.Server
	pid := s.ProjectID
	n := novaServer{
		ID:               s.ID,
		Name:             s.Name,
		Status:           s.Status(),
		TenantID:         pid,
		UserID:           v.UserID,
		Metadata:         serverMetadata(v),
		HostID:           novaHostID(pid, s.HostID),
		Image:            novaRef{ID: s.ImageID, Links: []novaLink{{Href: base + "/" + pid + "/images/" + s.ImageID, Rel: "bookmark"}}},
		Flavor:           novaRef{ID: s.FlavorID, Links: []novaLink{{Href: base + "/" + pid + "/flavors/" + s.FlavorID, Rel: "bookmark"}}},
		Created:          formatTime(s.Created, timeFormatServer),
		Updated:          formatTime(s.Updated, timeFormatServer),
		Addresses:        map[string][]novaAddress{},
		Links:            []novaLink{{Href: base + "/v2.1/" + pid + "/servers/" + s.ID, Rel: "self"}, {Href: base + "/" + pid + "/servers/" + s.ID, Rel: "bookmark"}},
		DiskConfig:       "MANUAL",
		AvailabilityZone: s.AvailabilityZone,
		KeyName:          s.KeyName,
		LaunchedAt:       formatOptionalTime(s.LaunchedAt.Truncate(time.Second), timeFormatLaunched),
		Host:             s.HostID,
		InstanceName:     instanceName(s.ID),
		VMState:          s.VMState,
		PowerState:       s.PowerState,
		VolumesAttached:  []novaVolume{},
		SecurityGroups:   []novaSecurityGroup{},
		Tags:             nonNil(s.Tags),
		Description:      s.Description,
		Locked:           s.Locked,
		Fault:            faultOf(s),
	}
	n.HypervisorHostname = s.HostID
	if s.TaskState != ecs.TaskNone {
		ts := s.TaskState
		n.TaskState = &ts
	}
	if s.HostID != "" {
		n.HostStatus = hostStatusUp
	}
	if s.VMState != ecs.VMBuilding && s.TaskState == ecs.TaskNone {
		n.Progress = 100
	}
	if s.IPAddress != "" {
		n.Addresses[s.VPCID] = []novaAddress{{Version: 4, Addr: s.IPAddress, Type: "fixed", MACAddr: s.MACAddress}}
	}
	for _, vol := range viewVolumes(v) {
		n.VolumesAttached = append(n.VolumesAttached, novaVolume{ID: vol.ID, DeleteOnTermination: vol.DeleteOnTermination})
	}
	for _, g := range viewSecurityGroups(v) {
		n.SecurityGroups = append(n.SecurityGroups, novaSecurityGroup{Name: g.Name})
	}
	return n
}

// novaStatusOf returns the HTTP status of an error on the Nova API: Nova
// answers a missing server 404, a server in the wrong state (or busy,
// locked, frozen) 409 and an exhausted quota 403; other client errors are
// 400 and internal ones 500.
func novaStatusOf(err error) int {
	switch ecs.ErrorCode(err) {
	case "":
		return http.StatusInternalServerError
	case ecs.CodeServerNotFound:
		return http.StatusNotFound
	case ecs.CodeStateConflict, ecs.CodeBusy, ecs.CodeLocked, ecs.CodeFrozen:
		return http.StatusConflict
	case ecs.CodeQuota, ecs.CodeForbidden:
		return http.StatusForbidden
	}
	if st := StatusOf(err); st == http.StatusNotFound || st == http.StatusForbidden || st == http.StatusConflict {
		return st
	}
	return http.StatusBadRequest
}

// novaFaultNames are the keys of Nova's error envelope by status.
var novaFaultNames = map[int]string{
	http.StatusBadRequest:          "badRequest",
	http.StatusForbidden:           "forbidden",
	http.StatusNotFound:            "itemNotFound",
	http.StatusConflict:            "conflictingRequest",
	http.StatusInternalServerError: "computeFault",
}

// novaFault is the body of a Nova error: {"<name>":{"message","code"}}.
type novaFault struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}
