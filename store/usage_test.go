package store_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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

// TestUsageTablesFollowServers writes servers at random (inserts, updates
// of every counted column, deletions, project and whole-store removals)
// and checks after each step that ProjectUsage and HostUsage, which read
// the tables the triggers keep, equal the counts of the servers
// themselves.
func TestUsageTablesFollowServers(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		rng := rand.New(rand.NewPCG(1, 2))
		pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
		projects := []string{project, otherProject}
		azs := []string{"cn-north-4a", "cn-north-4b"}
		hosts := []string{"h1", "h2", "h3"}
		flavors := []string{"s6.small.1", "s6.large.2", "c7.large.2"}
		modes := []string{ecs.ChargingPostPaid, ecs.ChargingPrePaid, ecs.ChargingSpot}
		var live []*ecs.Server

		// want counts the servers with the queries the tables replace.
		want := func(tx *sql.Tx, query, key string) []ecs.ServerGroup {
			rows, err := tx.QueryContext(ctx, db.Rebind(query), key)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []ecs.ServerGroup
			for rows.Next() {
				var g ecs.ServerGroup
				dest := []any{&g.FlavorID, &g.ResizeFlavorID, &g.ChargingMode, &g.Count}
				if strings.Contains(query, "host_id") {
					dest = []any{&g.HostID, &g.FlavorID, &g.ResizeFlavorID, &g.ResizeHostID, &g.Count}
				}
				if err := rows.Scan(dest...); err != nil {
					t.Fatal(err)
				}
				out = append(out, g)
			}
			return out
		}
		check := func(step int, what string) {
			t.Helper()
			tx, err := db.BeginReadTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, p := range projects {
				got, err := db.ProjectUsage(ctx, tx, p)
				if err != nil {
					t.Fatal(err)
				}
				w := want(tx, `SELECT flavor_id, resize_flavor_id, charging_mode, count(*) FROM servers
					WHERE project_id = ? AND deleted = 0 GROUP BY flavor_id, resize_flavor_id, charging_mode`, p)
				if diff := cmp.Diff(sortGroups(w), sortGroups(got), cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("step %d (%s): ProjectUsage(%s) (-servers +table):\n%s", step, what, p, diff)
				}
			}
			for _, az := range azs {
				got, err := db.HostUsage(ctx, tx, az)
				if err != nil {
					t.Fatal(err)
				}
				w := want(tx, `SELECT host_id, flavor_id, resize_flavor_id, resize_host_id, count(*) FROM servers
					WHERE az = ? AND deleted = 0 GROUP BY host_id, flavor_id, resize_flavor_id, resize_host_id`, az)
				if diff := cmp.Diff(sortGroups(w), sortGroups(got), cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("step %d (%s): HostUsage(%s) (-servers +table):\n%s", step, what, az, diff)
				}
			}
		}

		for step := range 300 {
			var what string
			inTx(t, db, func(tx *sql.Tx) error {
				switch n := rng.IntN(100); {
				case n < 40 || len(live) == 0:
					what = "insert"
					s := fullServer(fmt.Sprintf("srv-%d", step))
					s.ProjectID, s.AvailabilityZone, s.HostID = pick(projects...), pick(azs...), pick(hosts...)
					s.FlavorID, s.ChargingMode = pick(flavors...), pick(modes...)
					live = append(live, s)
					return db.InsertServer(ctx, tx, s)
				case n < 80:
					what = "update"
					s := live[rng.IntN(len(live))]
					switch rng.IntN(5) {
					case 0: // a resize reserved
						s.ResizeFlavorID, s.ResizeHostID = pick(flavors...), pick(hosts...)
					case 1: // a resize done
						s.FlavorID, s.HostID = s.ResizeFlavorID, s.ResizeHostID
						if s.FlavorID == "" {
							s.FlavorID, s.HostID = pick(flavors...), pick(hosts...)
						}
						s.ResizeFlavorID, s.ResizeHostID = "", ""
					case 2:
						s.ChargingMode = pick(modes...)
					case 3:
						s.Name = fmt.Sprintf("renamed-%d", step) // no counted column
					default:
						s.AvailabilityZone = pick(azs...)
					}
					return db.UpdateServer(ctx, tx, s)
				case n < 95:
					what = "delete"
					i := rng.IntN(len(live))
					s := live[i]
					live = append(live[:i], live[i+1:]...)
					return db.MarkServerDeleted(ctx, tx, s.ID, testTime)
				case n < 98:
					what = "delete project"
					p := pick(projects...)
					live = slices.DeleteFunc(live, func(s *ecs.Server) bool { return s.ProjectID == p })
					_, _, err := db.DeleteProject(ctx, tx, p, false)
					return err
				default:
					what = "delete all"
					live = nil
					_, _, err := db.DeleteAll(ctx, tx)
					return err
				}
			})
			check(step, what)
		}
	})
}
