package store_test

import (
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

const (
	project      = "0123456789abcdef0123456789abcdef"
	otherProject = "fedcba9876543210fedcba9876543210"
)

// testTime has nanoseconds, which the store must keep.
var testTime = time.Date(2024, time.March, 4, 5, 6, 7, 123456789, time.UTC)

// fullServer returns a server with every field set to a non-zero value.
func fullServer(id string) *ecs.Server {
	return &ecs.Server{
		ID:               id,
		ProjectID:        project,
		Name:             "web-01 «ünïcode»",
		Description:      `a "quoted" description`,
		FlavorID:         "s6.large.2",
		ImageID:          "abe65701-8a26-40ec-b381-c10498ca3745",
		AvailabilityZone: "cn-north-4a",
		HostID:           "cn-north-4a-x86-01",
		VMState:          ecs.VMStopped,
		TaskState:        ecs.TaskResizeMigrating,
		PowerState:       ecs.PowerShutdown,
		ChargingMode:     ecs.ChargingPrePaid,
		OrderID:          "CS2403040506ABCDEF",
		VPCID:            "vpc-1",
		SubnetID:         "subnet-1",
		PortID:           "port-1",
		IPAddress:        "192.168.0.10",
		MACAddress:       "fa:16:3e:01:02:03",
		SecurityGroups:   []string{"sg-1", "sg-2"},
		KeyName:          "kp-1",
		UserData:         "#!/bin/sh\necho 'hi'\n",
		Metadata:         map[string]string{"owner": "ops", `we"ird`: "va\\lue"},
		Tags:             []string{"env=prod", "team=a"},
		RootVolumeID:     "vol-1",
		RootVolumeType:   "SSD",
		RootVolumeSize:   40,
		ResizeFlavorID:   "s6.xlarge.2",
		ResizeHostID:     "cn-north-4a-x86-02",
		CPUThreads:       2,
		Locked:           true,
		Frozen:           true,
		FaultCode:        500,
		FaultMessage:     "Instance creation failed.",
		Created:          testTime,
		Updated:          testTime.Add(time.Second),
		LaunchedAt:       testTime.Add(time.Minute),
	}
}

// requireAllFieldsSet fails when a field of *v is zero: a round trip of such
// a fixture proves nothing about that field. A field added to ecs.Server
// makes this fail until the fixture, and so the round trip, covers it.
func requireAllFieldsSet(tb testing.TB, v any) {
	tb.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			tb.Errorf("fixture %T leaves %s zero", v, rv.Type().Field(i).Name)
		}
	}
}

func requireServer(tb testing.TB, got, want *ecs.Server) {
	tb.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("server mismatch (-want +got):\n%s", diff)
	}
}

func mustServerByID(tb testing.TB, db *store.DB, projectID, id string) *ecs.Server {
	tb.Helper()
	var s *ecs.Server
	inTx(tb, db, func(tx *sql.Tx) error {
		var err error
		s, err = db.ServerByID(tb.Context(), tx, projectID, id)
		return err
	})
	return s
}

func TestServerRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)

		want := fullServer("11111111-0000-0000-0000-000000000001")
		requireAllFieldsSet(t, want)
		inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, want) })
		requireServer(t, mustServerByID(t, db, project, want.ID), want)

		// Every column changes on update, including the project.
		upd := &ecs.Server{
			ID:               want.ID,
			ProjectID:        otherProject,
			Name:             "web-02",
			Description:      "second",
			FlavorID:         "c6.large.2",
			ImageID:          "cbdc5264-239f-4068-be79-a7d5ac927551",
			AvailabilityZone: "cn-north-4b",
			HostID:           "cn-north-4b-x86-01",
			VMState:          ecs.VMActive,
			TaskState:        ecs.TaskRebootingHard,
			PowerState:       ecs.PowerRunning,
			ChargingMode:     ecs.ChargingSpot,
			OrderID:          "CS9",
			VPCID:            "vpc-2",
			SubnetID:         "subnet-2",
			PortID:           "port-2",
			IPAddress:        "192.168.0.11",
			MACAddress:       "fa:16:3e:0a:0b:0c",
			SecurityGroups:   []string{"sg-3"},
			KeyName:          "kp-2",
			UserData:         "ud",
			Metadata:         map[string]string{"k": "v"},
			Tags:             []string{"a=b"},
			RootVolumeID:     "vol-2",
			RootVolumeType:   "SAS",
			RootVolumeSize:   80,
			ResizeFlavorID:   "c6.xlarge.2",
			ResizeHostID:     "cn-north-4b-x86-02",
			CPUThreads:       1,
			Locked:           true,
			Frozen:           true,
			FaultCode:        1,
			FaultMessage:     "other",
			Created:          testTime.Add(time.Hour),
			Updated:          testTime.Add(2 * time.Hour),
			LaunchedAt:       testTime.Add(3 * time.Hour),
		}
		requireAllFieldsSet(t, upd)
		inTx(t, db, func(tx *sql.Tx) error { return db.UpdateServer(ctx, tx, upd) })
		requireServer(t, mustServerByID(t, db, otherProject, want.ID), upd)

		// Booleans and times go back to their zero values.
		cleared := &ecs.Server{ID: want.ID, ProjectID: project, VMState: ecs.VMStopped}
		inTx(t, db, func(tx *sql.Tx) error { return db.UpdateServer(ctx, tx, cleared) })
		got := mustServerByID(t, db, project, want.ID)
		if diff := cmp.Diff(cleared, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("cleared server mismatch (-want +got):\n%s", diff)
		}
		// Nil collections come back empty, never nil, so that the API sends []
		// and {} rather than null.
		if got.SecurityGroups == nil || got.Tags == nil || got.Metadata == nil {
			t.Errorf("nil collections read back as nil: sgs %#v, tags %#v, metadata %#v", got.SecurityGroups, got.Tags, got.Metadata)
		}
	})
}

func TestServerStatusColumn(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		s := fullServer("11111111-0000-0000-0000-000000000001")
		s.VMState, s.TaskState = ecs.VMStopped, ecs.TaskResizePrep
		inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, s) })
		if got := scalar[string](t, db, `SELECT status FROM servers WHERE id = ?`, s.ID); got != ecs.StatusResize {
			t.Errorf("status after insert = %q, want %q", got, ecs.StatusResize)
		}
		s.VMState, s.TaskState = ecs.VMActive, ecs.TaskNone
		inTx(t, db, func(tx *sql.Tx) error { return db.UpdateServer(ctx, tx, s) })
		if got := scalar[string](t, db, `SELECT status FROM servers WHERE id = ?`, s.ID); got != ecs.StatusActive {
			t.Errorf("status after update = %q, want %q", got, ecs.StatusActive)
		}
	})
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		s := fullServer("11111111-0000-0000-0000-000000000001")
		inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, s) })

		if err := failInTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, s) }); err == nil {
			t.Error("InsertServer of an existing ID succeeded")
		}

		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := db.UpdateServer(ctx, tx, fullServer("no-such-server")); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("UpdateServer of an unknown server = %v, want sql.ErrNoRows", err)
		}
		for _, tc := range []struct{ projectID, id string }{
			{project, "no-such-server"},
			{otherProject, s.ID}, // another project's server does not exist
		} {
			_, err := db.ServerByID(ctx, tx, tc.projectID, tc.id)
			if code := ecs.ErrorCode(err); code != ecs.CodeServerNotFound {
				t.Errorf("ServerByID(%q, %q) = %v, want code %s", tc.projectID, tc.id, err, ecs.CodeServerNotFound)
			}
		}
		// An empty project matches any.
		if _, err := db.ServerByID(ctx, tx, "", s.ID); err != nil {
			t.Errorf("ServerByID with no project: %v", err)
		}
	})
}

func TestMarkServerDeleted(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		keep, gone := fullServer("11111111-0000-0000-0000-000000000001"), fullServer("11111111-0000-0000-0000-000000000002")
		keep.TaskState, gone.TaskState = ecs.TaskDeleting, ecs.TaskDeleting
		inTx(t, db, func(tx *sql.Tx) error {
			if err := db.InsertServer(ctx, tx, keep); err != nil {
				return err
			}
			if err := db.InsertServer(ctx, tx, gone); err != nil {
				return err
			}
			return db.MarkServerDeleted(ctx, tx, gone.ID, testTime)
		})
		inTx(t, db, func(tx *sql.Tx) error {
			if _, err := db.ServerByID(ctx, tx, "", gone.ID); ecs.ErrorCode(err) != ecs.CodeServerNotFound {
				t.Errorf("ServerByID of a deleted server = %v, want %s", err, ecs.CodeServerNotFound)
			}
			if err := db.UpdateServer(ctx, tx, gone); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("UpdateServer of a deleted server = %v, want sql.ErrNoRows", err)
			}
			for name, list := range map[string]func() ([]*ecs.Server, error){
				"ServersInProject": func() ([]*ecs.Server, error) { return db.ServersInProject(ctx, tx, project) },
				"ServersInAZ":      func() ([]*ecs.Server, error) { return db.ServersInAZ(ctx, tx, "cn-north-4a") },
				"BusyServers":      func() ([]*ecs.Server, error) { return db.BusyServers(ctx, tx) },
				"AllServers":       func() ([]*ecs.Server, error) { return db.AllServers(ctx, tx) },
				"FindServers": func() ([]*ecs.Server, error) {
					s, _, err := db.FindServers(ctx, tx, ecs.ServerFilter{ProjectID: project})
					return s, err
				},
			} {
				got, err := list()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if ids := serverIDs(got); !cmp.Equal(ids, []string{keep.ID}) {
					t.Errorf("%s = %v, want only %s", name, ids, keep.ID)
				}
			}
			return nil
		})
		// The row stays, for history, as DELETED.
		if got := scalar[string](t, db, `SELECT status || '/' || vm_state || '/' || task_state FROM servers WHERE id = ?`, gone.ID); got != "DELETED/deleted/" {
			t.Errorf("deleted row = %q, want DELETED/deleted/", got)
		}
	})
}

func TestServerLists(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		mk := func(id, projectID, az, task string) *ecs.Server {
			s := fullServer(id)
			s.ProjectID, s.AvailabilityZone, s.TaskState = projectID, az, task
			return s
		}
		servers := []*ecs.Server{
			mk("s1", project, "cn-north-4a", ecs.TaskNone),
			mk("s2", otherProject, "cn-north-4a", ecs.TaskPoweringOn),
			mk("s3", project, "cn-north-4b", ecs.TaskResizePrep),
			mk("s4", project, "cn-north-4a", ecs.TaskNone),
		}
		inTx(t, db, func(tx *sql.Tx) error {
			for _, s := range servers {
				if err := db.InsertServer(ctx, tx, s); err != nil {
					return err
				}
			}
			return nil
		})
		inTx(t, db, func(tx *sql.Tx) error {
			for _, tc := range []struct {
				name string
				list func() ([]*ecs.Server, error)
				want []string
			}{
				{"ServersInProject", func() ([]*ecs.Server, error) { return db.ServersInProject(ctx, tx, project) }, []string{"s1", "s3", "s4"}},
				{"ServersInAZ", func() ([]*ecs.Server, error) { return db.ServersInAZ(ctx, tx, "cn-north-4a") }, []string{"s1", "s2", "s4"}},
				{"BusyServers", func() ([]*ecs.Server, error) { return db.BusyServers(ctx, tx) }, []string{"s2", "s3"}},
				{"AllServers", func() ([]*ecs.Server, error) { return db.AllServers(ctx, tx) }, []string{"s1", "s2", "s3", "s4"}},
			} {
				got, err := tc.list()
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if diff := cmp.Diff(tc.want, serverIDs(got)); diff != "" {
					t.Errorf("%s (-want +got, oldest first):\n%s", tc.name, diff)
				}
			}
			return nil
		})
	})
}

func serverIDs(servers []*ecs.Server) []string {
	ids := make([]string, 0, len(servers))
	for _, s := range servers {
		ids = append(ids, s.ID)
	}
	return ids
}

func serverNames(servers []*ecs.Server) []string {
	names := make([]string, 0, len(servers))
	for _, s := range servers {
		names = append(names, s.Name)
	}
	return names
}

func ptr[T any](v T) *T { return &v }

func TestFindServers(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)

		launched := testTime.Add(time.Hour)
		type row struct {
			name, flavor, az, ip, vm, task, charging, key, image string
			tags                                                 []string
			launched                                             time.Time
		}
		// Inserted oldest first; FindServers lists newest first.
		rows := []row{
			{"web-01", "s6.small.1", "cn-north-4a", "192.168.0.10", ecs.VMActive, "", "0", "kp1", "img-a", []string{"env=prod", "team=a"}, launched},
			{"web-02", "s6.large.2", "cn-north-4b", "192.168.0.11", ecs.VMStopped, "", "0", "kp2", "img-a", []string{"env=production"}, time.Time{}},
			{"db-01", "s6.small.1", "cn-north-4a", "192.168.0.100", ecs.VMActive, "", "2", "", "img-b", []string{"env=prod"}, testTime},
			{"web_x", "c6.large.2", "cn-north-4c", "10.0.0.1", ecs.VMBuilding, ecs.TaskScheduling, "1", "kp1", "img-b", nil, time.Time{}},
			{"a%b", "s6.small.1", "cn-north-4b", "192.168.1.10", ecs.VMError, "", "0", "", "img-a", []string{"team=a"}, launched.Add(time.Hour)},
		}
		ids := map[string]string{}
		inTx(t, db, func(tx *sql.Tx) error {
			for i, r := range rows {
				s := &ecs.Server{
					ID: "srv-" + r.name, ProjectID: project, Name: r.name, FlavorID: r.flavor, AvailabilityZone: r.az,
					IPAddress: r.ip, VMState: r.vm, TaskState: r.task, ChargingMode: r.charging, KeyName: r.key,
					ImageID: r.image, Tags: r.tags, LaunchedAt: r.launched, Created: testTime.Add(time.Duration(i) * time.Second),
				}
				ids[r.name] = s.ID
				if err := db.InsertServer(ctx, tx, s); err != nil {
					return err
				}
			}
			// Another project's server and a deleted one never show.
			other := &ecs.Server{ID: "srv-other", ProjectID: otherProject, Name: "web-other", FlavorID: "s6.small.1",
				AvailabilityZone: "cn-north-4a", VMState: ecs.VMActive, IPAddress: "192.168.0.12", Tags: []string{"env=prod"}}
			if err := db.InsertServer(ctx, tx, other); err != nil {
				return err
			}
			deleted := &ecs.Server{ID: "srv-deleted", ProjectID: project, Name: "web-deleted", FlavorID: "s6.small.1",
				AvailabilityZone: "cn-north-4a", VMState: ecs.VMActive, IPAddress: "192.168.0.13", Tags: []string{"env=prod"}}
			if err := db.InsertServer(ctx, tx, deleted); err != nil {
				return err
			}
			return db.MarkServerDeleted(ctx, tx, deleted.ID, testTime)
		})

		all := []string{"a%b", "web_x", "db-01", "web-02", "web-01"}
		tests := []struct {
			name      string
			filter    ecs.ServerFilter
			want      []string
			wantTotal int // 0: len(want)
			wantCode  string
		}{
			{name: "no filter, newest first", want: all},
			{name: "name substring", filter: ecs.ServerFilter{Name: ptr("web")}, want: []string{"web_x", "web-02", "web-01"}},
			{name: "name dot matches any one char", filter: ecs.ServerFilter{Name: ptr("web-0.")}, want: []string{"web-02", "web-01"}},
			{name: "name dot matches underscore and dash", filter: ecs.ServerFilter{Name: ptr("web.")}, want: []string{"web_x", "web-02", "web-01"}},
			{name: "name underscore is literal", filter: ecs.ServerFilter{Name: ptr("web_")}, want: []string{"web_x"}},
			{name: "name percent is literal", filter: ecs.ServerFilter{Name: ptr("%")}, want: []string{"a%b"}},
			{name: "name backslash is literal", filter: ecs.ServerFilter{Name: ptr(`\`)}, want: []string{}},
			{name: "name no match", filter: ecs.ServerFilter{Name: ptr("nothing")}, want: []string{}},
			{name: "status ACTIVE", filter: ecs.ServerFilter{Status: ptr(ecs.StatusActive)}, want: []string{"db-01", "web-01"}},
			{name: "status SHUTOFF", filter: ecs.ServerFilter{Status: ptr(ecs.StatusShutoff)}, want: []string{"web-02"}},
			{name: "status BUILD", filter: ecs.ServerFilter{Status: ptr(ecs.StatusBuild)}, want: []string{"web_x"}},
			{name: "status ERROR", filter: ecs.ServerFilter{Status: ptr(ecs.StatusError)}, want: []string{"a%b"}},
			{name: "status DELETED shows nothing", filter: ecs.ServerFilter{Status: ptr(ecs.StatusDeleted)}, want: []string{}},
			{name: "flavor", filter: ecs.ServerFilter{FlavorID: ptr("s6.small.1")}, want: []string{"a%b", "db-01", "web-01"}},
			{name: "image", filter: ecs.ServerFilter{ImageID: ptr("img-b")}, want: []string{"web_x", "db-01"}},
			{name: "az exact", filter: ecs.ServerFilter{AvailabilityZone: ptr("cn-north-4a")}, want: []string{"db-01", "web-01"}},
			{name: "az exact needs the whole name", filter: ecs.ServerFilter{AvailabilityZone: ptr("4a")}, want: []string{}},
			{name: "az fuzzy", filter: ecs.ServerFilter{AZContains: ptr("4b")}, want: []string{"a%b", "web-02"}},
			{name: "az fuzzy common part", filter: ecs.ServerFilter{AZContains: ptr("north")}, want: all},
			{name: "az fuzzy underscore is literal", filter: ecs.ServerFilter{AZContains: ptr("_")}, want: []string{}},
			{name: "ip fuzzy", filter: ecs.ServerFilter{IP: ptr("192.168.0.1")}, want: []string{"db-01", "web-02", "web-01"}},
			{name: "ip fuzzy dot is literal", filter: ecs.ServerFilter{IP: ptr("192.168.0.1.")}, want: []string{}},
			{name: "ip_eq", filter: ecs.ServerFilter{IPEq: ptr("192.168.0.10")}, want: []string{"web-01"}},
			{name: "ip_eq is exact", filter: ecs.ServerFilter{IPEq: ptr("192.168.0.1")}, want: []string{}},
			{name: "tag", filter: ecs.ServerFilter{Tags: []string{"env=prod"}}, want: []string{"db-01", "web-01"}},
			{name: "tags all must match", filter: ecs.ServerFilter{Tags: []string{"env=prod", "team=a"}}, want: []string{"web-01"}},
			{name: "not-tags", filter: ecs.ServerFilter{NotTags: []string{"env=prod"}}, want: []string{"a%b", "web_x", "web-02"}},
			{name: "tags and not-tags", filter: ecs.ServerFilter{Tags: []string{"team=a"}, NotTags: []string{"env=prod"}}, want: []string{"a%b"}},
			{name: "tag with wildcard is literal", filter: ecs.ServerFilter{Tags: []string{"env=prod%"}}, want: []string{}},
			{name: "charging mode spot", filter: ecs.ServerFilter{ChargingMode: ptr(ecs.ChargingSpot)}, want: []string{"db-01"}},
			{name: "charging mode pay-per-use", filter: ecs.ServerFilter{ChargingMode: ptr(ecs.ChargingPostPaid)}, want: []string{"a%b", "web-02", "web-01"}},
			{name: "key name", filter: ecs.ServerFilter{KeyName: ptr("kp1")}, want: []string{"web_x", "web-01"}},
			{name: "launched since", filter: ecs.ServerFilter{LaunchedSince: ptr(launched)}, want: []string{"a%b", "web-01"}},
			{
				name:   "IDs: unknown, deleted and other-project IDs are ignored",
				filter: ecs.ServerFilter{IDs: []string{ids["web-01"], ids["db-01"], "srv-nope", "srv-deleted", "srv-other"}},
				want:   []string{"db-01", "web-01"},
			},
			{
				name:   "filters combine",
				filter: ecs.ServerFilter{Status: ptr(ecs.StatusActive), FlavorID: ptr("s6.small.1"), AvailabilityZone: ptr("cn-north-4a"), Name: ptr("web")},
				want:   []string{"web-01"},
			},
			// Paging: the total ignores marker, offset and limit.
			{name: "limit", filter: ecs.ServerFilter{Limit: 2}, want: []string{"a%b", "web_x"}, wantTotal: 5},
			{name: "limit and offset", filter: ecs.ServerFilter{Limit: 2, Offset: 2}, want: []string{"db-01", "web-02"}, wantTotal: 5},
			{name: "last partial page", filter: ecs.ServerFilter{Limit: 2, Offset: 4}, want: []string{"web-01"}, wantTotal: 5},
			{name: "offset past the end", filter: ecs.ServerFilter{Limit: 2, Offset: 10}, want: []string{}, wantTotal: 5},
			{name: "offset without limit", filter: ecs.ServerFilter{Offset: 3}, want: []string{"web-02", "web-01"}, wantTotal: 5},
			{name: "marker", filter: ecs.ServerFilter{Marker: ptr(ids["web_x"])}, want: []string{"db-01", "web-02", "web-01"}, wantTotal: 5},
			{name: "marker and limit", filter: ecs.ServerFilter{Marker: ptr(ids["web_x"]), Limit: 1}, want: []string{"db-01"}, wantTotal: 5},
			{name: "marker, offset and limit", filter: ecs.ServerFilter{Marker: ptr(ids["web_x"]), Offset: 1, Limit: 1}, want: []string{"web-02"}, wantTotal: 5},
			{name: "marker of the oldest", filter: ecs.ServerFilter{Marker: ptr(ids["web-01"])}, want: []string{}, wantTotal: 5},
			{name: "marker of a server deleted since", filter: ecs.ServerFilter{Marker: ptr("srv-deleted")}, want: all, wantTotal: 5},
			{name: "marker with a filter", filter: ecs.ServerFilter{Marker: ptr(ids["web_x"]), Status: ptr(ecs.StatusActive)}, want: []string{"db-01", "web-01"}, wantTotal: 2},
			{name: "status with limit", filter: ecs.ServerFilter{Status: ptr(ecs.StatusActive), Limit: 1}, want: []string{"db-01"}, wantTotal: 2},
			{name: "unknown marker", filter: ecs.ServerFilter{Marker: ptr("srv-nope")}, wantCode: ecs.CodeBadRequest},
			{name: "marker of another project", filter: ecs.ServerFilter{Marker: ptr("srv-other")}, wantCode: ecs.CodeBadRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.filter.ProjectID = project
				var got []*ecs.Server
				var total int
				var err error
				inTx(t, db, func(tx *sql.Tx) error {
					got, total, err = db.FindServers(ctx, tx, tc.filter)
					return nil
				})
				if tc.wantCode != "" {
					if code := ecs.ErrorCode(err); code != tc.wantCode {
						t.Fatalf("FindServers = %v, want code %s", err, tc.wantCode)
					}
					return
				}
				if err != nil {
					t.Fatalf("FindServers: %v", err)
				}
				if diff := cmp.Diff(tc.want, serverNames(got)); diff != "" {
					t.Errorf("servers (-want +got):\n%s", diff)
				}
				wantTotal := tc.wantTotal
				if wantTotal == 0 {
					wantTotal = len(tc.want)
				}
				if total != wantTotal {
					t.Errorf("total = %d, want %d", total, wantTotal)
				}
			})
		}
	})
}
