package store_test

import (
	"database/sql"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// sortGroups orders groups by every field, for comparison.
func sortGroups(gs []ecs.ServerGroup) []ecs.ServerGroup {
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		for _, p := range [][2]string{{a.HostID, b.HostID}, {a.FlavorID, b.FlavorID}, {a.ChargingMode, b.ChargingMode},
			{a.ResizeFlavorID, b.ResizeFlavorID}, {a.ResizeHostID, b.ResizeHostID}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return a.Count < b.Count
	})
	return gs
}

func TestServerUsage(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		const az, otherAZ = "cn-north-4a", "cn-north-4b"
		mk := func(id, projectID, zone, host, flavor, mode, resizeFlavor, resizeHost string) *ecs.Server {
			s := fullServer(id)
			s.ProjectID, s.AvailabilityZone, s.HostID, s.FlavorID, s.ChargingMode = projectID, zone, host, flavor, mode
			s.ResizeFlavorID, s.ResizeHostID = resizeFlavor, resizeHost
			return s
		}
		servers := []*ecs.Server{
			mk("s1", project, az, "h1", "s6.large.2", ecs.ChargingPostPaid, "", ""),
			mk("s2", project, az, "h1", "s6.large.2", ecs.ChargingPostPaid, "", ""),
			mk("s3", project, az, "h2", "s6.large.2", ecs.ChargingSpot, "", ""),
			mk("s4", project, az, "h1", "s6.large.2", ecs.ChargingPostPaid, "s6.xlarge.2", "h2"),
			mk("s5", project, otherAZ, "h9", "c7.large.2", ecs.ChargingPrePaid, "", ""),
			mk("s6", otherProject, az, "h1", "s6.large.2", ecs.ChargingPostPaid, "s6.xlarge.2", "h1"),
			mk("gone", project, az, "h1", "s6.large.2", ecs.ChargingPostPaid, "", ""),
		}
		inTx(t, db, func(tx *sql.Tx) error {
			for _, s := range servers {
				if err := db.InsertServer(ctx, tx, s); err != nil {
					return err
				}
			}
			return db.MarkServerDeleted(ctx, tx, "gone", testTime)
		})

		tx, err := db.BeginReadTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		gotProject, err := db.ProjectUsage(ctx, tx, project)
		if err != nil {
			t.Fatalf("ProjectUsage: %v", err)
		}
		wantProject := []ecs.ServerGroup{
			{FlavorID: "s6.large.2", ChargingMode: ecs.ChargingPostPaid, Count: 2},
			{FlavorID: "s6.large.2", ChargingMode: ecs.ChargingSpot, Count: 1},
			{FlavorID: "s6.large.2", ChargingMode: ecs.ChargingPostPaid, ResizeFlavorID: "s6.xlarge.2", Count: 1},
			{FlavorID: "c7.large.2", ChargingMode: ecs.ChargingPrePaid, Count: 1},
		}
		if diff := cmp.Diff(sortGroups(wantProject), sortGroups(gotProject)); diff != "" {
			t.Errorf("ProjectUsage (-want +got):\n%s", diff)
		}
		gotHosts, err := db.HostUsage(ctx, tx, az)
		if err != nil {
			t.Fatalf("HostUsage: %v", err)
		}
		wantHosts := []ecs.ServerGroup{
			{HostID: "h1", FlavorID: "s6.large.2", Count: 2},
			{HostID: "h2", FlavorID: "s6.large.2", Count: 1},
			{HostID: "h1", FlavorID: "s6.large.2", ResizeFlavorID: "s6.xlarge.2", ResizeHostID: "h2", Count: 1},
			{HostID: "h1", FlavorID: "s6.large.2", ResizeFlavorID: "s6.xlarge.2", ResizeHostID: "h1", Count: 1},
		}
		if diff := cmp.Diff(sortGroups(wantHosts), sortGroups(gotHosts)); diff != "" {
			t.Errorf("HostUsage (-want +got):\n%s", diff)
		}
		for name, usage := range map[string]func() ([]ecs.ServerGroup, error){
			"ProjectUsage": func() ([]ecs.ServerGroup, error) { return db.ProjectUsage(ctx, tx, "nobody") },
			"HostUsage":    func() ([]ecs.ServerGroup, error) { return db.HostUsage(ctx, tx, "nowhere") },
		} {
			if got, err := usage(); err != nil || len(got) != 0 {
				t.Errorf("%s of nothing = %v, %v; want none", name, got, err)
			}
		}
	})
}
