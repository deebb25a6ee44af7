package httpapi

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Query strings of the list APIs, parsed into domain filters. A parameter
// with an empty value counts as absent (the SDK sends "?key" for an empty
// string); a scalar parameter given twice, a value out of range or outside
// its enum is an Ecs.0005 *ecs.Error. Unknown parameters are ignored.

// Page sizes (reference §F.4, §F.5, §C, §G.1; OAS).
const (
	v1ListDefaultLimit     = 25
	v1ListMaxLimit         = 1000
	v11ListDefaultLimit    = 10
	v11ListMaxLimit        = 100
	flavorListDefaultLimit = 1000
)

// serverStatusesV1 are the status filter values of ListServersDetails
// (SDK comment; the reference adds REBUILD). DELETED is documented as
// admin-only; ecsd accepts it and simply finds nothing.
var serverStatusesV1 = []string{
	"ACTIVE", "BUILD", "DELETED", "ERROR", "HARD_REBOOT", "MIGRATING", "REBOOT", "REBUILD", "RESIZE",
	"REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED", "SHUTOFF", "UNKNOWN", "VERIFY_RESIZE",
}

// serverStatusesV11 are the status filter values of ListCloudServers.
var serverStatusesV11 = []string{
	"ACTIVE", "BUILD", "ERROR", "HARD_REBOOT", "MIGRATING", "REBOOT", "REBUILD", "RESIZE",
	"REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED", "SHUTOFF", "UNKNOWN", "VERIFY_RESIZE",
}

// expectFields are the values of ListCloudServers' expect-fields (SDK
// comment on ListCloudServersRequest.ExpectFields).
var expectFields = []string{
	"launched_at", "key_name", "locked", "root_device_name", "tenancy", "dedicated_host_id",
	"enterprise_project_id", "tags", "metadata", "addresses", "security_groups", "volumes_attached",
	"image", "power_state", "cpu_options", "market_info",
}

// resizeSortKeys are ListResizeFlavors' sort_key values; "sort_key" is a
// stray value of the SDK/OAS enum that means the default.
var resizeSortKeys = []string{"flavorid", "sort_key", "name", "memory_mb", "vcpus", "root_gb"}

// parseServerFilterV1 parses the query of GET /v1/{project_id}/cloudservers/detail
// (ListServersDetails). offset is a page number (default 1, 0 means 1) and
// is turned into Offset = (page-1)*limit; limit defaults to 25, 1–1000.
// server_id is a comma-separated list of exact IDs; when it is present the
// other filters are cleared, as documented, so the store can always AND the
// filter's fields. enterprise_project_id and reservation_id are accepted and
// ignored.
func parseServerFilterV1(q url.Values, projectID string) (ecs.ServerFilter, error) {
	f := ecs.ServerFilter{ProjectID: projectID}
	limit, err := queryInt(q, "limit", 1, v1ListMaxLimit, v1ListDefaultLimit)
	if err != nil {
		return ecs.ServerFilter{}, err
	}
	page, err := queryInt(q, "offset", 0, math.MaxInt32, 1)
	if err != nil {
		return ecs.ServerFilter{}, err
	}
	if page == 0 {
		page = 1
	}
	f.Limit = limit
	f.Offset = (page - 1) * limit
	for _, p := range []struct {
		key string
		dst **string
	}{
		{"marker", &f.Marker},
		{"flavor", &f.FlavorID},
		{"name", &f.Name},
		{"ip", &f.IP},
		{"ip_eq", &f.IPEq},
	} {
		if *p.dst, err = queryOptional(q, p.key); err != nil {
			return ecs.ServerFilter{}, err
		}
	}
	if f.Status, err = queryStatus(q, serverStatusesV1); err != nil {
		return ecs.ServerFilter{}, err
	}
	if f.Tags, err = queryList(q, "tags"); err != nil {
		return ecs.ServerFilter{}, err
	}
	if f.NotTags, err = queryList(q, "not-tags"); err != nil {
		return ecs.ServerFilter{}, err
	}
	for _, key := range []string{"enterprise_project_id", "reservation_id"} {
		if _, err := queryOptional(q, key); err != nil {
			return ecs.ServerFilter{}, err
		}
	}
	ids, err := queryOptional(q, "server_id")
	if err != nil {
		return ecs.ServerFilter{}, err
	}
	if ids != nil {
		for _, id := range strings.Split(*ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				f.IDs = append(f.IDs, id)
			}
		}
		if len(f.IDs) == 0 {
			return ecs.ServerFilter{}, invalidField("server_id", "must be a comma-separated list of server IDs")
		}
		// "When server_id is given the other filters are ignored."
		f = ecs.ServerFilter{ProjectID: projectID, IDs: f.IDs, Marker: f.Marker, Offset: f.Offset, Limit: f.Limit}
	}
	return f, nil
}

// parseServerFilterV11 parses the query of GET /v1.1/{project_id}/cloudservers/detail
// (ListCloudServers) and returns the filter and the requested expect-fields
// (repeatable, or comma-separated, each one of expectFields). limit
// defaults to 10, 0–100 where 0 means the default. availability_zone is a
// fuzzy match, availability_zone_eq exact; charging_mode is "0"/"1"/"2" or
// "postPaid"/"prePaid"/"spot". metadata, metadata-key, in_recycle_bin,
// spod_id and enterprise_project_id are validated and ignored (no domain
// field carries them).
func parseServerFilterV11(q url.Values, projectID string) (ecs.ServerFilter, []string, error) {
	f := ecs.ServerFilter{ProjectID: projectID}
	limit, err := queryInt(q, "limit", 0, v11ListMaxLimit, v11ListDefaultLimit)
	if err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if limit == 0 {
		limit = v11ListDefaultLimit
	}
	f.Limit = limit
	for _, p := range []struct {
		key string
		dst **string
	}{
		{"marker", &f.Marker},
		{"name", &f.Name},
		{"flavor_name", &f.FlavorID}, // flavor names equal flavor IDs
		{"image_id", &f.ImageID},
		{"availability_zone", &f.AZContains},
		{"availability_zone_eq", &f.AvailabilityZone},
		{"key_name", &f.KeyName},
	} {
		if *p.dst, err = queryOptional(q, p.key); err != nil {
			return ecs.ServerFilter{}, nil, err
		}
	}
	id, err := queryOptional(q, "id")
	if err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if id != nil {
		f.IDs = []string{*id}
	}
	if f.Status, err = queryStatus(q, serverStatusesV11); err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if f.Tags, err = queryList(q, "tags"); err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if f.NotTags, err = queryList(q, "not-tags"); err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	mode, err := queryOptional(q, "charging_mode")
	if err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if mode != nil {
		var m string
		switch *mode {
		case ecs.ChargingPostPaid, "postPaid":
			m = ecs.ChargingPostPaid
		case ecs.ChargingPrePaid, "prePaid":
			m = ecs.ChargingPrePaid
		case ecs.ChargingSpot, "spot":
			m = ecs.ChargingSpot
		default:
			return ecs.ServerFilter{}, nil, invalidField("charging_mode", fmt.Sprintf(`must be "0" (postPaid), "1" (prePaid) or "2" (spot), got %q`, *mode))
		}
		f.ChargingMode = &m
	}
	since, err := queryOptional(q, "launched_since")
	if err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if since != nil {
		t, ok := parseISOTime(*since)
		if !ok {
			return ecs.ServerFilter{}, nil, invalidField("launched_since", fmt.Sprintf("must be an ISO 8601 time such as 2013-06-09T06:42:18Z, got %q", *since))
		}
		f.LaunchedSince = &t
	}
	inRecycleBin, err := queryOptional(q, "in_recycle_bin")
	if err != nil {
		return ecs.ServerFilter{}, nil, err
	}
	if inRecycleBin != nil {
		if _, err := strconv.ParseBool(*inRecycleBin); err != nil {
			return ecs.ServerFilter{}, nil, invalidField("in_recycle_bin", fmt.Sprintf(`must be "true" or "false", got %q`, *inRecycleBin))
		}
	}
	for _, key := range []string{"metadata", "metadata-key", "spod_id", "enterprise_project_id"} {
		if _, err := queryOptional(q, key); err != nil {
			return ecs.ServerFilter{}, nil, err
		}
	}
	var expect []string
	seen := make(map[string]bool)
	for _, v := range q["expect-fields"] {
		for _, field := range strings.Split(v, ",") {
			field = strings.TrimSpace(field)
			if field == "" || seen[field] {
				continue
			}
			if !slices.Contains(expectFields, field) {
				return ecs.ServerFilter{}, nil, invalidField("expect-fields", fmt.Sprintf("%q is not one of %s", field, strings.Join(expectFields, ", ")))
			}
			seen[field] = true
			expect = append(expect, field)
		}
	}
	return f, expect, nil
}

// parseResizeFlavorsQuery parses the query of
// GET /v1/{project_id}/cloudservers/resize_flavors (ListResizeFlavors). At
// least one of instance_uuid, source_flavor_id and source_flavor_name is
// required. sort_key defaults to flavorid (the stray enum value "sort_key"
// means the default), sort_dir to asc, limit to 1000.
func parseResizeFlavorsQuery(q url.Values, projectID string) (*ecs.ResizeFlavorsRequest, error) {
	req := &ecs.ResizeFlavorsRequest{ProjectID: projectID, SortKey: "flavorid", SortDir: "asc"}
	for _, p := range []struct {
		key string
		dst *string
	}{
		{"instance_uuid", &req.InstanceID},
		{"source_flavor_id", &req.SourceFlavorID},
		{"source_flavor_name", &req.SourceFlavorName},
		{"marker", &req.Marker},
	} {
		v, err := queryOptional(q, p.key)
		if err != nil {
			return nil, err
		}
		if v != nil {
			*p.dst = *v
		}
	}
	if req.InstanceID == "" && req.SourceFlavorID == "" && req.SourceFlavorName == "" {
		return nil, badRequest("Missing query parameter: one of instance_uuid, source_flavor_id and source_flavor_name is required")
	}
	key, err := queryOptional(q, "sort_key")
	if err != nil {
		return nil, err
	}
	if key != nil {
		if !slices.Contains(resizeSortKeys, *key) {
			return nil, invalidField("sort_key", fmt.Sprintf("must be one of flavorid, name, memory_mb, vcpus, root_gb, got %q", *key))
		}
		if *key != "sort_key" {
			req.SortKey = *key
		}
	}
	dir, err := queryOptional(q, "sort_dir")
	if err != nil {
		return nil, err
	}
	if dir != nil {
		if *dir != "asc" && *dir != "desc" {
			return nil, invalidField("sort_dir", fmt.Sprintf(`must be "asc" or "desc", got %q`, *dir))
		}
		req.SortDir = *dir
	}
	if req.Limit, err = queryInt(q, "limit", 1, math.MaxInt32, flavorListDefaultLimit); err != nil {
		return nil, err
	}
	return req, nil
}

// parseFlavorFilter parses the query of GET /v1/{project_id}/cloudservers/flavors
// (ListFlavors): availability_zone, flavor_id, marker and limit (default
// 1000).
func parseFlavorFilter(q url.Values) (ecs.FlavorFilter, error) {
	var f ecs.FlavorFilter
	var err error
	for _, p := range []struct {
		key string
		dst **string
	}{
		{"availability_zone", &f.AvailabilityZone},
		{"flavor_id", &f.ID},
		{"marker", &f.Marker},
	} {
		if *p.dst, err = queryOptional(q, p.key); err != nil {
			return ecs.FlavorFilter{}, err
		}
	}
	if f.Limit, err = queryInt(q, "limit", 1, math.MaxInt32, flavorListDefaultLimit); err != nil {
		return ecs.FlavorFilter{}, err
	}
	return f, nil
}

// --- helpers -----------------------------------------------------------------

// queryOptional returns the single value of key, nil when it is absent or
// empty; a repeated key is an error.
func queryOptional(q url.Values, key string) (*string, error) {
	vs := q[key]
	if len(vs) > 1 {
		return nil, invalidField(key, "must be given at most once")
	}
	if len(vs) == 0 || vs[0] == "" {
		return nil, nil
	}
	v := vs[0]
	if hasControl(v) {
		return nil, invalidField(key, "must not contain control characters")
	}
	return &v, nil
}

// queryInt returns the integer value of key in [lo, hi], def when absent.
func queryInt(q url.Values, key string, lo, hi, def int) (int, error) {
	v, err := queryOptional(q, key)
	if err != nil || v == nil {
		return def, err
	}
	n, err := strconv.ParseInt(*v, 10, 64)
	if err != nil {
		return 0, invalidField(key, fmt.Sprintf("must be an integer, got %q", *v))
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, invalidField(key, fmt.Sprintf("must be between %d and %d, got %d", lo, hi, n))
	}
	return int(n), nil
}

// queryList returns every non-empty value of a repeatable key.
func queryList(q url.Values, key string) ([]string, error) {
	var out []string
	for _, v := range q[key] {
		if v == "" {
			continue
		}
		if hasControl(v) {
			return nil, invalidField(key, "must not contain control characters")
		}
		out = append(out, v)
	}
	return out, nil
}

// queryStatus reads the status filter; values match case-insensitively and
// are returned in upper case.
func queryStatus(q url.Values, allowed []string) (*string, error) {
	v, err := queryOptional(q, "status")
	if err != nil || v == nil {
		return nil, err
	}
	s := strings.ToUpper(*v)
	if !slices.Contains(allowed, s) {
		return nil, invalidField("status", fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), *v))
	}
	return &s, nil
}

// parseISOTime parses the ISO 8601 forms clients send; a time without a
// zone is UTC.
func parseISOTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
