package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Hand-written JSON encoders for the server list page and show-server, the
// responses whose encoding the profiles show (reflection over each server's
// fifty fields and two maps, reflective sorting of map keys). Each
// appendJSON writes exactly the bytes encoding/json.Marshal writes for the
// same value: fields in declaration order under their json names, omitempty
// as declared, strings escaped as encoding/json escapes them (HTML-safe),
// map keys sorted byte-wise, nil slices and maps as null. The wire types
// keep their json tags, so encoding/json stays the reference:
// jsonenc_test.go generates values of every field and compares the two
// byte for byte. A field added to a type here must be added to its
// appendJSON too; that test fails until it is.

// jsonAppender is a response body with a hand-written encoder; writeJSON
// uses it instead of encoding/json.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// jsonBufs recycles the buffers writeJSON encodes jsonAppenders into (a
// page of 100 servers is about 300 KB); buffers grown past maxPooledJSON
// are left to the collector.
var jsonBufs = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledJSON = 4 << 20

// writeAppendedJSON writes the encoding of v as the JSON body with status.
func writeAppendedJSON(w http.ResponseWriter, status int, v jsonAppender) {
	bp := jsonBufs.Get().(*[]byte)
	b := v.appendJSON((*bp)[:0])
	writeJSONBody(w, status, b)
	if cap(b) <= maxPooledJSON {
		*bp = b
		jsonBufs.Put(bp)
	}
}

// jsonSafe holds the ASCII bytes encoding/json writes as they are in a
// string (its htmlSafeSet): every byte from 0x20 to 0x7f but ", \, <, >
// and &. Bytes from 0x80 start UTF-8 sequences and are checked as such.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = true
	}
	for _, b := range `"\<>&` {
		t[b] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json writes a string: quoted,
// with \", \\, \b, \f, \n, \r, \t, \u00XX for the other control bytes and
// for <, > and &, \u2028 and \u2029, and \ufffd for each byte of invalid
// UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSONInt(b []byte, n int) []byte {
	return strconv.AppendInt(b, int64(n), 10)
}

func appendJSONBool(b []byte, v bool) []byte {
	return strconv.AppendBool(b, v)
}

// appendJSONStringPtr appends *p, or null for nil.
func appendJSONStringPtr(b []byte, p *string) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *p)
}

// appendJSONStrings appends a []string: null for nil.
func appendJSONStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

// appendJSONArray appends a slice of a type whose pointer has appendJSON:
// null for nil.
func appendJSONArray[T any, P interface {
	*T
	jsonAppender
}](b []byte, s []T) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = P(&s[i]).appendJSON(b)
	}
	return append(b, ']')
}

// sortedKeys returns the keys of m sorted byte-wise (encoding/json's order),
// in buf when they fit.
func sortedKeys[V any](m map[string]V, buf []string) []string {
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONStringMap appends a map[string]string: keys sorted, null for
// nil.
func appendJSONStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var buf [32]string
	b = append(b, '{')
	for i, k := range sortedKeys(m, buf[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONAddresses appends the addresses of a server detail: keys
// sorted, null for nil.
func appendJSONAddresses(b []byte, m map[string][]serverAddress) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var buf [8]string
	b = append(b, '{')
	for i, k := range sortedKeys(m, buf[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONArray(b, m[k])
	}
	return append(b, '}')
}

func (p serverDetailsPage) appendJSON(b []byte) []byte {
	b = append(b, `{"count":`...)
	b = appendJSONInt(b, p.Count)
	b = append(b, `,"servers":[`...)
	for i := range p.Servers {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.Servers[i].appendJSON(b)
	}
	for i := range p.Missing {
		if i > 0 || len(p.Servers) > 0 {
			b = append(b, ',')
		}
		b = p.Missing[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// MarshalJSON returns the encoding of p (what writeJSON writes), so that
// encoding/json gives the same bytes.
func (p serverDetailsPage) MarshalJSON() ([]byte, error) {
	return p.appendJSON(nil), nil
}

func (m *missingServer) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"fault":`...)
	b = m.Fault.appendJSON(b)
	return append(b, '}')
}

func (s showServerBody) appendJSON(b []byte) []byte {
	b = append(b, `{"server":`...)
	b = s.Server.appendJSON(b)
	return append(b, '}')
}

func (d *serverDetail) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, d.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, d.Name)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, d.Status)
	b = append(b, `,"created":`...)
	b = appendJSONString(b, d.Created)
	b = append(b, `,"updated":`...)
	b = appendJSONString(b, d.Updated)
	b = append(b, `,"auto_terminate_time":`...)
	b = appendJSONString(b, d.AutoTerminateTime)
	b = append(b, `,"hostId":`...)
	b = appendJSONString(b, d.HostID)
	b = append(b, `,"OS-EXT-SRV-ATTR:host":`...)
	b = appendJSONString(b, d.Host)
	b = append(b, `,"addresses":`...)
	b = appendJSONAddresses(b, d.Addresses)
	b = append(b, `,"key_name":`...)
	b = appendJSONString(b, d.KeyName)
	b = append(b, `,"image":`...)
	b = d.Image.appendJSON(b)
	b = append(b, `,"OS-EXT-STS:task_state":`...)
	b = appendJSONStringPtr(b, d.TaskState)
	b = append(b, `,"OS-EXT-STS:vm_state":`...)
	b = appendJSONString(b, d.VMState)
	b = append(b, `,"OS-EXT-SRV-ATTR:instance_name":`...)
	b = appendJSONString(b, d.InstanceName)
	b = append(b, `,"OS-EXT-SRV-ATTR:hypervisor_hostname":`...)
	b = appendJSONString(b, d.HypervisorHostname)
	b = append(b, `,"flavor":`...)
	b = d.Flavor.appendJSON(b)
	b = append(b, `,"security_groups":`...)
	b = appendJSONArray(b, d.SecurityGroups)
	b = append(b, `,"OS-EXT-AZ:availability_zone":`...)
	b = appendJSONString(b, d.AvailabilityZone)
	b = append(b, `,"user_id":`...)
	b = appendJSONString(b, d.UserID)
	b = append(b, `,"tenant_id":`...)
	b = appendJSONString(b, d.TenantID)
	b = append(b, `,"OS-DCF:diskConfig":`...)
	b = appendJSONString(b, d.DiskConfig)
	b = append(b, `,"accessIPv4":`...)
	b = appendJSONString(b, d.AccessIPv4)
	b = append(b, `,"accessIPv6":`...)
	b = appendJSONString(b, d.AccessIPv6)
	if d.Fault != nil {
		b = append(b, `,"fault":`...)
		b = d.Fault.appendJSON(b)
	}
	b = append(b, `,"progress":`...)
	b = appendJSONInt(b, d.Progress)
	b = append(b, `,"OS-EXT-STS:power_state":`...)
	b = appendJSONInt(b, d.PowerState)
	b = append(b, `,"config_drive":`...)
	b = appendJSONString(b, d.ConfigDrive)
	b = append(b, `,"metadata":`...)
	b = appendJSONStringMap(b, d.Metadata)
	b = append(b, `,"OS-SRV-USG:launched_at":`...)
	b = appendJSONString(b, d.LaunchedAt)
	b = append(b, `,"OS-SRV-USG:terminated_at":`...)
	b = appendJSONString(b, d.TerminatedAt)
	b = append(b, `,"os-extended-volumes:volumes_attached":`...)
	b = appendJSONArray(b, d.VolumesAttached)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, d.Description)
	b = append(b, `,"host_status":`...)
	b = appendJSONString(b, d.HostStatus)
	b = append(b, `,"OS-EXT-SRV-ATTR:hostname":`...)
	b = appendJSONString(b, d.Hostname)
	b = append(b, `,"OS-EXT-SRV-ATTR:reservation_id":`...)
	b = appendJSONString(b, d.ReservationID)
	b = append(b, `,"OS-EXT-SRV-ATTR:launch_index":`...)
	b = appendJSONInt(b, d.LaunchIndex)
	b = append(b, `,"OS-EXT-SRV-ATTR:kernel_id":`...)
	b = appendJSONString(b, d.KernelID)
	b = append(b, `,"OS-EXT-SRV-ATTR:ramdisk_id":`...)
	b = appendJSONString(b, d.RamdiskID)
	b = append(b, `,"OS-EXT-SRV-ATTR:root_device_name":`...)
	b = appendJSONString(b, d.RootDeviceName)
	b = append(b, `,"OS-EXT-SRV-ATTR:user_data":`...)
	b = appendJSONString(b, d.UserData)
	b = append(b, `,"locked":`...)
	b = appendJSONBool(b, d.Locked)
	b = append(b, `,"tags":`...)
	b = appendJSONStrings(b, d.Tags)
	b = append(b, `,"os:scheduler_hints":`...)
	b = d.SchedulerHints.appendJSON(b)
	b = append(b, `,"enterprise_project_id":`...)
	b = appendJSONString(b, d.EnterpriseProjectID)
	b = append(b, `,"sys_tags":`...)
	b = appendJSONArray(b, d.SysTags)
	b = append(b, `,"cpu_options":`...)
	b = d.CPUOptions.appendJSON(b)
	b = append(b, `,"hypervisor":`...)
	b = d.Hypervisor.appendJSON(b)
	b = append(b, `,"network_interfaces":`...)
	b = appendJSONArray(b, d.NetworkInterfaces)
	b = append(b, `,"capacity_reservation_id":`...)
	b = appendJSONString(b, d.CapacityReservationID)
	b = append(b, `,"capacity_reservation_specification":`...)
	b = d.CapacityReservationSpecification.appendJSON(b)
	b = append(b, `,"spod_id":`...)
	b = appendJSONString(b, d.SpodID)
	b = append(b, `,"enclave_options":`...)
	b = d.EnclaveOptions.appendJSON(b)
	return append(b, '}')
}

func (a *serverAddress) appendJSON(b []byte) []byte {
	b = append(b, `{"version":`...)
	b = appendJSONString(b, a.Version)
	b = append(b, `,"addr":`...)
	b = appendJSONString(b, a.Addr)
	b = append(b, `,"primary":`...)
	b = appendJSONBool(b, a.Primary)
	b = append(b, `,"OS-EXT-IPS:type":`...)
	b = appendJSONString(b, a.Type)
	b = append(b, `,"OS-EXT-IPS-MAC:mac_addr":`...)
	b = appendJSONString(b, a.MACAddr)
	b = append(b, `,"OS-EXT-IPS:port_id":`...)
	b = appendJSONString(b, a.PortID)
	return append(b, '}')
}

func (r *imageRef) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	return append(b, '}')
}

func (f *serverFlavor) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, f.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, f.Name)
	b = append(b, `,"disk":`...)
	b = appendJSONString(b, f.Disk)
	b = append(b, `,"vcpus":`...)
	b = appendJSONString(b, f.VCPUs)
	b = append(b, `,"ram":`...)
	b = appendJSONString(b, f.RAM)
	b = append(b, `,"gpus":`...)
	b = appendJSONArray(b, f.GPUs)
	b = append(b, `,"asic_accelerators":`...)
	b = appendJSONArray(b, f.AsicAccelerators)
	return append(b, '}')
}

func (a *acceleratorInfo) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, a.Name)
	b = append(b, `,"count":`...)
	b = appendJSONInt(b, a.Count)
	b = append(b, `,"memory_mb":`...)
	b = appendJSONInt(b, a.MemoryMB)
	return append(b, '}')
}

func (g *serverSecurityGroup) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, g.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, g.Name)
	return append(b, '}')
}

func (f *serverFault) appendJSON(b []byte) []byte {
	b = append(b, `{"code":`...)
	b = appendJSONInt(b, f.Code)
	b = append(b, `,"created":`...)
	b = appendJSONString(b, f.Created)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, f.Message)
	b = append(b, `,"details":`...)
	b = appendJSONString(b, f.Details)
	return append(b, '}')
}

func (v *serverVolumeAttachment) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, v.ID)
	b = append(b, `,"delete_on_termination":`...)
	b = appendJSONString(b, v.DeleteOnTermination)
	b = append(b, `,"bootIndex":`...)
	b = appendJSONString(b, v.BootIndex)
	b = append(b, `,"device":`...)
	b = appendJSONString(b, v.Device)
	return append(b, '}')
}

// appendJSON writes only the non-empty lists (omitempty).
func (h *schedulerHints) appendJSON(b []byte) []byte {
	b = append(b, '{')
	comma := false
	for _, f := range [...]struct {
		key  string
		list []string
	}{{`"group":`, h.Group}, {`"tenancy":`, h.Tenancy}, {`"dedicated_host_id":`, h.DedicatedHostID}} {
		if len(f.list) == 0 {
			continue
		}
		if comma {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		b = appendJSONStrings(b, f.list)
		comma = true
	}
	return append(b, '}')
}

func (t *serverSystemTag) appendJSON(b []byte) []byte {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, t.Key)
	b = append(b, `,"value":`...)
	b = appendJSONString(b, t.Value)
	return append(b, '}')
}

func (c *cpuOptionsOut) appendJSON(b []byte) []byte {
	b = append(b, `{"hw:cpu_threads":`...)
	if c.CPUThreads == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONInt(b, *c.CPUThreads)
	}
	return append(b, '}')
}

func (h *hypervisor) appendJSON(b []byte) []byte {
	b = append(b, `{"hypervisor_type":`...)
	b = appendJSONString(b, h.HypervisorType)
	b = append(b, `,"csd_hypervisor":`...)
	b = appendJSONStringPtr(b, h.CSDHypervisor)
	return append(b, '}')
}

func (n *networkInterface) appendJSON(b []byte) []byte {
	b = append(b, `{"port_id":`...)
	b = appendJSONString(b, n.PortID)
	b = append(b, `,"primary":`...)
	b = appendJSONBool(b, n.Primary)
	b = append(b, `,"ip_addresses":`...)
	b = appendJSONStrings(b, n.IPAddresses)
	b = append(b, `,"ipv6_addresses":`...)
	b = appendJSONStrings(b, n.IPv6Addresses)
	b = append(b, `,"subnet_id":`...)
	b = appendJSONString(b, n.SubnetID)
	return append(b, '}')
}

func (c *capacityReservationSpec) appendJSON(b []byte) []byte {
	b = append(b, `{"preference":`...)
	b = appendJSONString(b, c.Preference)
	return append(b, '}')
}

func (e *enclaveOptions) appendJSON(b []byte) []byte {
	b = append(b, `{"enabled":`...)
	b = appendJSONBool(b, e.Enabled)
	return append(b, '}')
}
