package store_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// volume returns an in-use volume of server srv in project, at device
// dev; boot index 0 makes it the system disk.
func volume(id, projectID, srv, dev string, bootIndex int) *ecs.Volume {
	return &ecs.Volume{
		ID: id, ProjectID: projectID, Name: id + "-name", AvailabilityZone: "cn-north-4a", VolumeType: "SSD",
		SizeGB: 40, Bootable: bootIndex == 0, ImageID: "img-1", Status: ecs.VolumeInUse, ServerID: srv,
		Device: dev, BootIndex: bootIndex, DeleteOnTermination: bootIndex == 0,
		Created: testTime, Updated: testTime.Add(time.Second),
	}
}

func port(id, projectID, device, network string) *ecs.Port {
	return &ecs.Port{
		ID: id, ProjectID: projectID, NetworkID: network, SubnetID: network, IPAddress: "192.168.0.10",
		MACAddress: "fa:16:3e:00:00:01", DeviceID: device, DeviceOwner: "compute:cn-north-4a", Status: "ACTIVE",
		SecurityGroups: []string{"sg-1", "sg-2"}, AvailabilityZone: "cn-north-4a", Created: testTime,
	}
}

func mustInsertVolumes(tb testing.TB, db *store.DB, vols ...*ecs.Volume) {
	tb.Helper()
	inTx(tb, db, func(tx *sql.Tx) error {
		for _, v := range vols {
			if err := db.InsertVolume(tb.Context(), tx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustInsertPorts(tb testing.TB, db *store.DB, ports ...*ecs.Port) {
	tb.Helper()
	inTx(tb, db, func(tx *sql.Tx) error {
		for _, p := range ports {
			if err := db.InsertPort(tb.Context(), tx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func volumeIDs(vols []*ecs.Volume) []string {
	out := []string{}
	for _, v := range vols {
		out = append(out, v.ID)
	}
	return out
}

func portIDs(ports []*ecs.Port) []string {
	out := []string{}
	for _, p := range ports {
		out = append(out, p.ID)
	}
	return out
}

func TestVolumeByID(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		v := volume("vol-a", project, "srv-1", "/dev/vdb", -1)
		v.ImageID, v.DeleteOnTermination = "img-data", true
		mustInsertVolumes(t, db, v)

		cases := []struct {
			name, project, id string
			want              *ecs.Volume
			code              string
		}{
			{"own project", project, v.ID, v, ""},
			{"other project", otherProject, v.ID, nil, ecs.CodeVolumeNotFound},
			{"empty project", "", v.ID, nil, ecs.CodeVolumeNotFound},
			{"unknown id", project, "vol-x", nil, ecs.CodeVolumeNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				inTx(t, db, func(tx *sql.Tx) error {
					got, err := db.VolumeByID(t.Context(), tx, tc.project, tc.id)
					if code := ecs.ErrorCode(err); code != tc.code {
						t.Fatalf("VolumeByID error %v (code %q), want code %q", err, code, tc.code)
					}
					if tc.code != "" {
						var e *ecs.Error
						if !asError(err, &e) || e.Status != 404 {
							t.Errorf("error %v, want a 404 *ecs.Error", err)
						}
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("volume (-want +got):\n%s", diff)
					}
					return nil
				})
			})
		}
		// The ID is unique across projects.
		tx, err := db.BeginTx(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := db.InsertVolume(t.Context(), tx, volume("vol-a", otherProject, "srv-9", "/dev/vda", 0)); err == nil {
			t.Error("a second volume with the same ID was inserted")
		}
	})
}

func TestServerVolumesOrder(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		// Inserted out of order: data disks first, the system disk last.
		mustInsertVolumes(t, db,
			volume("d-vdc", project, "srv-1", "/dev/vdc", -1),
			volume("d-vdb", project, "srv-1", "/dev/vdb", -1),
			volume("sys", project, "srv-1", "/dev/vda", 0),
			volume("other-srv", project, "srv-2", "/dev/vda", 0),
		)
		cases := []struct {
			server string
			want   []string
		}{
			{"srv-1", []string{"sys", "d-vdb", "d-vdc"}},
			{"srv-2", []string{"other-srv"}},
			{"srv-none", []string{}},
		}
		for _, tc := range cases {
			t.Run("server="+tc.server, func(t *testing.T) {
				t.Parallel()
				inTx(t, db, func(tx *sql.Tx) error {
					got, err := db.ServerVolumes(t.Context(), tx, tc.server)
					if err != nil {
						return err
					}
					if ids := volumeIDs(got); !cmp.Equal(ids, tc.want) {
						t.Errorf("ServerVolumes(%s) = %v, want %v", tc.server, ids, tc.want)
					}
					return nil
				})
			})
		}
	})
}

func TestVolumesOfServers(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		mustInsertVolumes(t, db,
			volume("a-vdb", project, "srv-a", "/dev/vdb", -1),
			volume("b-sys", project, "srv-b", "/dev/vda", 0),
			volume("a-sys", project, "srv-a", "/dev/vda", 0),
			volume("c-sys", project, "srv-c", "/dev/vda", 0),
			volume("x-sys", otherProject, "srv-x", "/dev/vda", 0),
			volume("b-vdc", project, "srv-b", "/dev/vdc", -1),
			volume("b-vdb", project, "srv-b", "/dev/vdb", -1),
		)
		cases := []struct {
			name    string
			project string
			servers []string
			want    map[string][]string
		}{
			{"several servers", project, []string{"srv-a", "srv-b"}, map[string][]string{
				"srv-a": {"a-sys", "a-vdb"}, "srv-b": {"b-sys", "b-vdb", "b-vdc"}}},
			{"one server", project, []string{"srv-c"}, map[string][]string{"srv-c": {"c-sys"}}},
			{"unknown server is absent", project, []string{"srv-a", "srv-none"}, map[string][]string{"srv-a": {"a-sys", "a-vdb"}}},
			{"other project's server is not listed", project, []string{"srv-x", "srv-c"}, map[string][]string{"srv-c": {"c-sys"}}},
			{"no servers", project, nil, map[string][]string{}},
			{"the other project", otherProject, []string{"srv-x"}, map[string][]string{"srv-x": {"x-sys"}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				inTx(t, db, func(tx *sql.Tx) error {
					got, err := db.VolumesOfServers(t.Context(), tx, tc.project, tc.servers)
					if err != nil {
						return err
					}
					if got == nil {
						t.Error("VolumesOfServers returned a nil map")
					}
					ids := map[string][]string{}
					for srv, vols := range got {
						ids[srv] = volumeIDs(vols)
					}
					if diff := cmp.Diff(tc.want, ids); diff != "" {
						t.Errorf("VolumesOfServers (-want +got):\n%s", diff)
					}
					// Each list is what ServerVolumes returns for the server.
					for srv, vols := range got {
						one, err := db.ServerVolumes(t.Context(), tx, srv)
						if err != nil {
							return err
						}
						if diff := cmp.Diff(one, vols); diff != "" {
							t.Errorf("VolumesOfServers[%s] differs from ServerVolumes (-one +many):\n%s", srv, diff)
						}
					}
					return nil
				})
			})
		}
	})
}

// TestVolumesOfServersManyServers asks for more servers than one query
// would hold with a small parameter limit.
func TestVolumesOfServersManyServers(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		var vols []*ecs.Volume
		var ids []string
		for i := range 300 {
			id := "srv-" + string(rune('A'+i/26)) + string(rune('a'+i%26))
			ids = append(ids, id)
			vols = append(vols, volume("v-"+id, project, id, "/dev/vda", 0))
		}
		mustInsertVolumes(t, db, vols...)
		inTx(t, db, func(tx *sql.Tx) error {
			got, err := db.VolumesOfServers(t.Context(), tx, project, ids)
			if err != nil {
				return err
			}
			if len(got) != len(ids) {
				t.Errorf("VolumesOfServers for %d servers returned %d", len(ids), len(got))
			}
			return nil
		})
	})
}

// TestMarkServerDeletedReleasesResources checks delete-on-termination: the
// system disk and the port go with the server, data disks stay available
// unless marked to be deleted with it.
func TestMarkServerDeletedReleasesResources(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		cases := []struct {
			name       string
			deleteData *bool // SetVolumesDeleteOnTermination before deleting, if set
			wantKept   []string
		}{
			{"data disks kept", nil, []string{"data-1", "data-2"}},
			{"delete_volume", ptr(true), []string{}},
			{"delete_volume false", ptr(false), []string{"data-1", "data-2"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				db := e.NewDB(t)
				srv, keep := fullServer("22222222-0000-0000-0000-000000000001"), fullServer("22222222-0000-0000-0000-000000000002")
				sys := volume("sys", project, srv.ID, "/dev/vda", 0)
				d1, d2 := volume("data-1", project, srv.ID, "/dev/vdb", -1), volume("data-2", project, srv.ID, "/dev/vdc", -1)
				sysKeep := volume("sys-keep", project, keep.ID, "/dev/vda", 0)
				inTx(t, db, func(tx *sql.Tx) error {
					for _, s := range []*ecs.Server{srv, keep} {
						if err := db.InsertServer(ctx, tx, s); err != nil {
							return err
						}
					}
					return nil
				})
				mustInsertVolumes(t, db, sys, d1, d2, sysKeep)
				mustInsertPorts(t, db, port("p-srv", project, srv.ID, "net-1"), port("p-keep", project, keep.ID, "net-1"))
				at := testTime.Add(time.Hour)
				inTx(t, db, func(tx *sql.Tx) error {
					if tc.deleteData != nil {
						if err := db.SetVolumesDeleteOnTermination(ctx, tx, srv.ID, *tc.deleteData); err != nil {
							return err
						}
						// The system disk's flag is not touched.
						v, err := db.VolumeByID(ctx, tx, project, sys.ID)
						if err != nil {
							return err
						}
						if !v.DeleteOnTermination {
							t.Error("SetVolumesDeleteOnTermination cleared the system disk's flag")
						}
					}
					return db.MarkServerDeleted(ctx, tx, srv.ID, at)
				})
				inTx(t, db, func(tx *sql.Tx) error {
					if _, err := db.VolumeByID(ctx, tx, project, sys.ID); ecs.ErrorCode(err) != ecs.CodeVolumeNotFound {
						t.Errorf("system disk after delete: %v, want %s", err, ecs.CodeVolumeNotFound)
					}
					got, err := db.ServerVolumes(ctx, tx, srv.ID)
					if err != nil {
						return err
					}
					if len(got) != 0 {
						t.Errorf("deleted server still has volumes %v", volumeIDs(got))
					}
					var kept []string
					for _, id := range []string{d1.ID, d2.ID} {
						v, err := db.VolumeByID(ctx, tx, project, id)
						if ecs.ErrorCode(err) == ecs.CodeVolumeNotFound {
							continue
						}
						if err != nil {
							return err
						}
						kept = append(kept, v.ID)
						if v.Status != ecs.VolumeAvailable || v.ServerID != "" || v.Device != "" || !v.Updated.Equal(at) {
							t.Errorf("kept %s: status %q server %q device %q updated %v, want available, detached, updated %v",
								v.ID, v.Status, v.ServerID, v.Device, v.Updated, at)
						}
					}
					if !cmp.Equal(nonNilStrings(kept), tc.wantKept) {
						t.Errorf("data disks kept = %v, want %v", kept, tc.wantKept)
					}
					ports, err := db.FindPorts(ctx, tx, ecs.PortFilter{ProjectID: project})
					if err != nil {
						return err
					}
					if ids := portIDs(ports); !cmp.Equal(ids, []string{"p-keep"}) {
						t.Errorf("ports after delete = %v, want only p-keep", ids)
					}
					// The other server keeps everything.
					other, err := db.ServerVolumes(ctx, tx, keep.ID)
					if err != nil {
						return err
					}
					if ids := volumeIDs(other); !cmp.Equal(ids, []string{"sys-keep"}) || other[0].Status != ecs.VolumeInUse {
						t.Errorf("other server's volumes = %v", ids)
					}
					return nil
				})
			})
		}
	})
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestFindPorts(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		p1 := port("p1", project, "srv-1", "net-1")
		requireAllFieldsSet(t, p1)
		noSG := port("p4", project, "srv-3", "net-2")
		noSG.SecurityGroups = nil
		mustInsertPorts(t, db,
			p1,
			port("p2", project, "srv-2", "net-1"),
			port("p3", project, "srv-2", "net-2"),
			port("px", otherProject, "srv-1", "net-1"),
			noSG,
		)
		cases := []struct {
			name string
			f    ecs.PortFilter
			want []string
		}{
			{"project", ecs.PortFilter{ProjectID: project}, []string{"p1", "p2", "p3", "p4"}},
			{"other project", ecs.PortFilter{ProjectID: otherProject}, []string{"px"}},
			{"no project matches nothing", ecs.PortFilter{}, []string{}},
			{"by id", ecs.PortFilter{ProjectID: project, ID: "p2"}, []string{"p2"}},
			{"id of another project", ecs.PortFilter{ProjectID: project, ID: "px"}, []string{}},
			{"by device", ecs.PortFilter{ProjectID: project, DeviceID: "srv-2"}, []string{"p2", "p3"}},
			{"device in another project", ecs.PortFilter{ProjectID: otherProject, DeviceID: "srv-2"}, []string{}},
			{"by network", ecs.PortFilter{ProjectID: project, NetworkID: "net-1"}, []string{"p1", "p2"}},
			{"device and network", ecs.PortFilter{ProjectID: project, DeviceID: "srv-2", NetworkID: "net-2"}, []string{"p3"}},
			{"limit", ecs.PortFilter{ProjectID: project, Limit: 2}, []string{"p1", "p2"}},
			{"limit beyond", ecs.PortFilter{ProjectID: project, Limit: 10}, []string{"p1", "p2", "p3", "p4"}},
			{"injection is a value", ecs.PortFilter{ProjectID: project, ID: "' OR 1=1 --"}, []string{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				inTx(t, db, func(tx *sql.Tx) error {
					got, err := db.FindPorts(t.Context(), tx, tc.f)
					if err != nil {
						return err
					}
					if ids := portIDs(got); !cmp.Equal(ids, tc.want) {
						t.Errorf("FindPorts(%+v) = %v, want %v", tc.f, ids, tc.want)
					}
					return nil
				})
			})
		}
		// Round trip of every field; nil security groups come back empty.
		inTx(t, db, func(tx *sql.Tx) error {
			got, err := db.FindPorts(t.Context(), tx, ecs.PortFilter{ProjectID: project, ID: "p1"})
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]*ecs.Port{p1}, got); diff != "" {
				t.Errorf("port p1 (-want +got):\n%s", diff)
			}
			got, err = db.FindPorts(t.Context(), tx, ecs.PortFilter{ProjectID: project, ID: "p4"})
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].SecurityGroups == nil || len(got[0].SecurityGroups) != 0 {
				t.Errorf("port without security groups came back as %+v", got)
			}
			return nil
		})
	})
}
