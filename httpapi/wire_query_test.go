package httpapi

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return q
}

func TestParseServerFilterV1(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	base := ecs.ServerFilter{ProjectID: testProjectID, Limit: 25}
	for _, tc := range []struct {
		name, query string
		want        ecs.ServerFilter
	}{
		{"defaults", "", base},
		{"page 0 is page 1", "offset=0&limit=10", ecs.ServerFilter{ProjectID: testProjectID, Limit: 10}},
		{"page 3", "offset=3&limit=10", ecs.ServerFilter{ProjectID: testProjectID, Limit: 10, Offset: 20}},
		{"page 2 default limit", "offset=2", ecs.ServerFilter{ProjectID: testProjectID, Limit: 25, Offset: 25}},
		{"max limit", "limit=1000", ecs.ServerFilter{ProjectID: testProjectID, Limit: 1000}},
		{"filters", "flavor=s6.large.2&name=web.&status=active&tags=env%3Ddev&not-tags=tier&ip=192.168&ip_eq=192.168.0.1&marker=m",
			ecs.ServerFilter{ProjectID: testProjectID, Limit: 25, FlavorID: s("s6.large.2"), Name: s("web."), Status: s("ACTIVE"),
				Tags: []string{"env=dev"}, NotTags: []string{"tier"}, IP: s("192.168"), IPEq: s("192.168.0.1"), Marker: s("m")}},
		{"DELETED is a v1 status", "status=DELETED", ecs.ServerFilter{ProjectID: testProjectID, Limit: 25, Status: s("DELETED")}},
		{"ignored params", "enterprise_project_id=all_granted_eps&reservation_id=r-1&unknown=1", base},
		{"empty values are absent (SDK sends ?key)", "name&flavor=&limit=", base},
		{"server_id clears other filters", "server_id=a,%20b,,c&name=x&status=ACTIVE&limit=5&offset=2",
			ecs.ServerFilter{ProjectID: testProjectID, IDs: []string{"a", "b", "c"}, Limit: 5, Offset: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseServerFilterV1(mustQuery(t, tc.query), testProjectID)
			if err != nil {
				t.Fatalf("parseServerFilterV1: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, query, want string }{
		{"limit 0", "limit=0", "Invalid value for limit: must be between 1 and 1000, got 0"},
		{"limit 1001", "limit=1001", "must be between 1 and 1000, got 1001"},
		{"limit text", "limit=ten", `Invalid value for limit: must be an integer, got "ten"`},
		{"negative page", "offset=-1", "Invalid value for offset: must be between 0 and 2147483647, got -1"},
		{"huge page", "offset=99999999999", "Invalid value for offset"},
		{"bad status", "status=RUNNING", `Invalid value for status: must be one of ACTIVE,`},
		{"repeated limit", "limit=1&limit=2", "Invalid value for limit: must be given at most once"},
		{"empty server_id list", "server_id=,,", "Invalid value for server_id"},
		{"control character", "name=a%00b", "Invalid value for name: must not contain control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseServerFilterV1(mustQuery(t, tc.query), testProjectID)
			wantBadRequest(t, err, tc.want)
		})
	}
}

func TestParseServerFilterV11(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	since := time.Date(2013, time.June, 9, 6, 42, 18, 0, time.UTC)
	base := ecs.ServerFilter{ProjectID: testProjectID, Limit: 10}
	for _, tc := range []struct {
		name, query string
		want        ecs.ServerFilter
		expect      []string
	}{
		{"defaults", "", base, nil},
		{"limit 0 is default", "limit=0", base, nil},
		{"max limit", "limit=100&marker=m", ecs.ServerFilter{ProjectID: testProjectID, Limit: 100, Marker: s("m")}, nil},
		{"filters", "id=i&name=n&status=SHUTOFF&flavor_name=s6.large.2&image_id=img&availability_zone=4a&availability_zone_eq=cn-north-4a" +
			"&charging_mode=1&key_name=k&launched_since=2013-06-09T06:42:18Z&tags=a&not-tags=b",
			ecs.ServerFilter{ProjectID: testProjectID, Limit: 10, IDs: []string{"i"}, Name: s("n"), Status: s("SHUTOFF"),
				FlavorID: s("s6.large.2"), ImageID: s("img"), AZContains: s("4a"), AvailabilityZone: s("cn-north-4a"),
				ChargingMode: s(ecs.ChargingPrePaid), KeyName: s("k"), LaunchedSince: &since, Tags: []string{"a"}, NotTags: []string{"b"}}, nil},
		{"charging_mode names", "charging_mode=spot", ecs.ServerFilter{ProjectID: testProjectID, Limit: 10, ChargingMode: s(ecs.ChargingSpot)}, nil},
		{"launched_since offset", "launched_since=2013-06-09T14:42:18%2B08:00", ecs.ServerFilter{ProjectID: testProjectID, Limit: 10, LaunchedSince: &since}, nil},
		{"launched_since no zone", "launched_since=2013-06-09T06:42:18", ecs.ServerFilter{ProjectID: testProjectID, Limit: 10, LaunchedSince: &since}, nil},
		{"expect-fields repeated and comma-separated", "expect-fields=market_info&expect-fields=addresses,key_name&expect-fields=market_info",
			base, []string{"market_info", "addresses", "key_name"}},
		{"ignored params", "metadata=k%3Dv&metadata-key=k&spod_id=x&enterprise_project_id=0&in_recycle_bin=false", base, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, expect, err := parseServerFilterV11(mustQuery(t, tc.query), testProjectID)
			if err != nil {
				t.Fatalf("parseServerFilterV11: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if !reflect.DeepEqual(expect, tc.expect) {
				t.Errorf("expect-fields = %q, want %q", expect, tc.expect)
			}
		})
	}
	for _, tc := range []struct{ name, query, want string }{
		{"limit 101", "limit=101", "Invalid value for limit: must be between 0 and 100, got 101"},
		{"limit negative", "limit=-1", "must be between 0 and 100"},
		{"DELETED is not a v1.1 status", "status=DELETED", "Invalid value for status"},
		{"bad charging_mode", "charging_mode=3", `Invalid value for charging_mode: must be "0" (postPaid), "1" (prePaid) or "2" (spot), got "3"`},
		{"bad launched_since", "launched_since=yesterday", `Invalid value for launched_since: must be an ISO 8601 time`},
		{"bad in_recycle_bin", "in_recycle_bin=maybe", `Invalid value for in_recycle_bin: must be "true" or "false"`},
		{"bad expect-fields", "expect-fields=addresses,password", `Invalid value for expect-fields: "password" is not one of`},
		{"repeated id", "id=a&id=b", "Invalid value for id: must be given at most once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := parseServerFilterV11(mustQuery(t, tc.query), testProjectID)
			wantBadRequest(t, err, tc.want)
		})
	}
}

func TestParseResizeFlavorsQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, query string
		want        ecs.ResizeFlavorsRequest
	}{
		{"instance", "instance_uuid=" + testServerID, ecs.ResizeFlavorsRequest{
			ProjectID: testProjectID, InstanceID: testServerID, SortKey: "flavorid", SortDir: "asc", Limit: 1000}},
		{"all params", "source_flavor_id=s6.large.2&source_flavor_name=s6.large.2&sort_key=memory_mb&sort_dir=desc&limit=5&marker=s6.xlarge.2",
			ecs.ResizeFlavorsRequest{ProjectID: testProjectID, SourceFlavorID: "s6.large.2", SourceFlavorName: "s6.large.2",
				SortKey: "memory_mb", SortDir: "desc", Limit: 5, Marker: "s6.xlarge.2"}},
		{"stray sort_key value", "source_flavor_name=x&sort_key=sort_key", ecs.ResizeFlavorsRequest{
			ProjectID: testProjectID, SourceFlavorName: "x", SortKey: "flavorid", SortDir: "asc", Limit: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseResizeFlavorsQuery(mustQuery(t, tc.query), testProjectID)
			if err != nil {
				t.Fatalf("parseResizeFlavorsQuery: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, query, want string }{
		{"no source", "sort_key=name", "one of instance_uuid, source_flavor_id and source_flavor_name is required"},
		{"empty sources", "instance_uuid=&source_flavor_id=", "one of instance_uuid"},
		{"bad sort_key", "instance_uuid=i&sort_key=price", `Invalid value for sort_key: must be one of flavorid, name, memory_mb, vcpus, root_gb, got "price"`},
		{"bad sort_dir", "instance_uuid=i&sort_dir=up", `Invalid value for sort_dir: must be "asc" or "desc", got "up"`},
		{"limit 0", "instance_uuid=i&limit=0", "Invalid value for limit: must be between 1 and"},
		{"limit text", "instance_uuid=i&limit=x", "Invalid value for limit: must be an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseResizeFlavorsQuery(mustQuery(t, tc.query), testProjectID)
			wantBadRequest(t, err, tc.want)
		})
	}
}

func TestParseFlavorFilter(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	got, err := parseFlavorFilter(mustQuery(t, ""))
	if err != nil || !reflect.DeepEqual(got, ecs.FlavorFilter{Limit: 1000}) {
		t.Errorf("defaults: got %+v, %v", got, err)
	}
	got, err = parseFlavorFilter(mustQuery(t, "availability_zone=cn-north-4a&flavor_id=s6.large.2&limit=2&marker=s6.large.1"))
	want := ecs.FlavorFilter{ID: s("s6.large.2"), AvailabilityZone: s("cn-north-4a"), Marker: s("s6.large.1"), Limit: 2}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	for _, tc := range []struct{ query, want string }{
		{"limit=0", "Invalid value for limit: must be between 1 and"},
		{"limit=1.5", "Invalid value for limit: must be an integer"},
		{"flavor_id=a&flavor_id=b", "Invalid value for flavor_id: must be given at most once"},
	} {
		_, err := parseFlavorFilter(mustQuery(t, tc.query))
		wantBadRequest(t, err, tc.want)
	}
}
