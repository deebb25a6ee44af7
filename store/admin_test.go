package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// populate fills db with two projects, each with a tenant, a network, a
// live server, a deleted server, a finished batch job with a sub-job, an
// unfinished resize with its River job, history, a client token and three
// orders (completed, pending payment, cancelled); plus
// hosts, a fault rule and the clock setting. It returns the IDs it made,
// by project.
func populate(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	ctx := t.Context()
	ids := map[string][]string{}
	inTx(t, db, func(tx *sql.Tx) error {
		if err := db.ReplaceHosts(ctx, tx, []ecs.Host{
			{ID: "h1", AZ: "cn-north-4a", VCPUs: 64, RAMMB: 262144, Arch: "x86_64"},
			{ID: "h2", AZ: "cn-north-4b", VCPUs: 32, RAMMB: 131072, Arch: "arm64"},
		}); err != nil {
			return err
		}
		for i, p := range []string{project, otherProject} {
			at := testTime.Add(time.Duration(i) * time.Hour)
			tn := &ecs.Tenant{ProjectID: p, ProjectName: "cn-north-4", DomainID: strings.Repeat("d", 32),
				AccessKey: "AK" + p[:4], SecretKey: "secret-secret-" + p}
			if err := db.UpsertTenant(ctx, tx, tn, ecs.Quota{Instances: 10 + i, Cores: -1, RAMMB: 4096}, at); err != nil {
				return err
			}
			vpc := &ecs.VPC{ID: "vpc-" + p, ProjectID: p, Name: "vpc", CIDR: "192.168.0.0/16", Created: at}
			sn := &ecs.Subnet{ID: "subnet-" + p, ProjectID: p, VPCID: vpc.ID, Name: "sn", CIDR: "192.168.0.0/24",
				GatewayIP: "192.168.0.1", AZ: "cn-north-4a", Created: at}
			sg := &ecs.SecurityGroup{ID: "sg-" + p, ProjectID: p, Name: "default", Description: "d", Created: at}
			if err := db.InsertVPC(ctx, tx, vpc); err != nil {
				return err
			}
			if err := db.InsertSubnet(ctx, tx, sn); err != nil {
				return err
			}
			if err := db.InsertSecurityGroup(ctx, tx, sg); err != nil {
				return err
			}
			if _, err := db.NextHostNumber(ctx, tx, sn.ID); err != nil {
				return err
			}
			live := fullServer("live-" + p)
			live.ProjectID = p
			gone := fullServer("gone-" + p)
			gone.ProjectID, gone.Metadata, gone.Tags, gone.SecurityGroups = p, nil, nil, nil
			for _, s := range []*ecs.Server{live, gone} {
				if err := db.InsertServer(ctx, tx, s); err != nil {
					return err
				}
			}
			// The live server has a system disk, a data disk and a port;
			// a detached volume stays from elsewhere.
			for j, v := range []*ecs.Volume{
				{ID: "root-" + p, ServerID: live.ID, Device: "/dev/vda", Bootable: true, DeleteOnTermination: true, ImageID: "img", Status: ecs.VolumeInUse},
				{ID: "data-" + p, ServerID: live.ID, Device: "/dev/vdb", BootIndex: -1, Status: ecs.VolumeInUse},
				{ID: "free-" + p, BootIndex: -1, Status: ecs.VolumeAvailable},
			} {
				v.ProjectID, v.Name, v.AvailabilityZone, v.VolumeType, v.SizeGB = p, "vol"+string(rune('0'+j)), "cn-north-4a", "SSD", 40
				v.Created, v.Updated = at, at.Add(time.Minute)
				if err := db.InsertVolume(ctx, tx, v); err != nil {
					return err
				}
			}
			if err := db.InsertPort(ctx, tx, &ecs.Port{ID: "port-" + p, ProjectID: p, NetworkID: sn.ID, SubnetID: sn.ID,
				IPAddress: "192.168.0.10", MACAddress: "fa:16:3e:00:00:01", DeviceID: live.ID, DeviceOwner: "compute:cn-north-4a",
				Status: "ACTIVE", SecurityGroups: []string{sg.ID}, AvailabilityZone: "cn-north-4a", Created: at}); err != nil {
				return err
			}
			if err := db.MarkServerDeleted(ctx, tx, gone.ID, at); err != nil {
				return err
			}
			parent := &ecs.Job{ID: "parent-" + p, ProjectID: p, Type: ecs.JobCreateServer, Status: ecs.JobSuccess,
				Params: "{}", BeginTime: at, EndTime: at.Add(time.Second)}
			sub := &ecs.Job{ID: "sub-" + p, ProjectID: p, ParentID: parent.ID, Type: ecs.JobCreateSingleServer,
				Status: ecs.JobSuccess, ServerID: live.ID, Phase: ecs.TaskSpawning, Params: "{}", BeginTime: at,
				EndTime: at.Add(time.Second)}
			resize := &ecs.Job{ID: "resize-" + p, ProjectID: p, Type: ecs.JobResizeServer, Status: ecs.JobRunning,
				ServerID: live.ID, Phase: ecs.TaskResizeMigrating, Params: `{"flavor_id":"s6.xlarge.2","was_running":false}`,
				BeginTime: at}
			for _, j := range []*ecs.Job{parent, sub, resize} {
				if err := db.InsertJob(ctx, tx, j); err != nil {
					return err
				}
			}
			if err := db.InsertAction(ctx, tx, &ecs.Action{ProjectID: p, ServerID: live.ID, Action: "create",
				RequestID: "req-" + p, JobID: sub.ID, StartTime: at, FinishTime: at.Add(time.Second), Result: ecs.JobSuccess}); err != nil {
				return err
			}
			if err := db.InsertAction(ctx, tx, &ecs.Action{ProjectID: p, ServerID: live.ID, Action: "resize",
				RequestID: "req2-" + p, JobID: resize.ID, StartTime: at}); err != nil {
				return err
			}
			if err := db.StartPhase(ctx, tx, sub.ID, ecs.TaskSpawning, at); err != nil {
				return err
			}
			if err := db.EndPhase(ctx, tx, sub.ID, at.Add(time.Second)); err != nil {
				return err
			}
			if err := db.StartPhase(ctx, tx, resize.ID, ecs.TaskResizeMigrating, at); err != nil {
				return err
			}
			if err := db.PutClientToken(ctx, tx, p, "token-"+p, `{"JobID":"`+parent.ID+`"}`, at.UnixNano()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO river_job (args, kind) VALUES (`+jsonbParam(db)+`, 'ecsd_job')`),
				`{"job_id":"`+resize.ID+`","type":"resizeServer"}`); err != nil {
				return err
			}
			for _, o := range []*ecs.Order{
				{ID: "CSpaid-" + p, ProjectID: p, Type: ecs.OrderTypeNew, Status: ecs.OrderCompleted, Amount: 50.4,
					Currency: "CNY", FlavorID: live.FlavorID, PeriodType: ecs.PeriodMonth, PeriodNum: 1,
					PeriodEnd: at.AddDate(0, 1, 0), ServerIDs: []string{live.ID}, JobID: parent.ID, Created: at, Paid: at},
				{ID: "CSpending-" + p, ProjectID: p, Type: ecs.OrderTypeChange, Status: ecs.OrderPendingPayment,
					Amount: -12.34, Currency: "CNY", FlavorID: "s6.xlarge.2", PeriodEnd: at.AddDate(0, 1, 0),
					ServerIDs: []string{live.ID}, JobID: resize.ID, Created: at.Add(time.Minute)},
				{ID: "CScancelled-" + p, ProjectID: p, Type: ecs.OrderTypeToPrePaid, Status: ecs.OrderCancelled,
					Amount: 504, Currency: "CNY", FlavorID: live.FlavorID, PeriodType: ecs.PeriodYear, PeriodNum: 1,
					PeriodEnd: at.AddDate(1, 0, 0), Created: at, Cancelled: at.Add(time.Hour)},
			} {
				if err := db.InsertOrder(ctx, tx, o); err != nil {
					return err
				}
			}
			ids[p] = []string{live.ID, resize.ID}
		}
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO fault_rules (id, rule, remaining, fired, created_at) VALUES (?,?,?,?,?)`),
			"rule-1", `{"match":{"phase":"resize_migrating"},"action":{"type":"fail_job"}}`, 2, 1, testTime.UnixNano())
		return err
	})
	if err := db.PutSetting(ctx, "clock", `{"anchor":"2024-03-04T05:06:07Z","virtual":"2030-01-01T00:00:00Z","speed":60,"paused":false}`); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(ctx, "other", "v"); err != nil {
		t.Fatal(err)
	}
	return ids
}

func mustExport(t *testing.T, db *store.DB) *store.Snapshot {
	t.Helper()
	s, err := db.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return s
}

// viaJSON returns s as it reads back from its JSON document.
func viaJSON(t *testing.T, s *store.Snapshot) *store.Snapshot {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out store.Snapshot
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode snapshot: %v\n%s", err, b)
	}
	return &out
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		src := e.NewDB(t)
		populate(t, src)
		first := mustExport(t, src)

		if first.Format != store.SnapshotFormat || first.Version != store.SnapshotVersion || time.Since(first.ExportedAt) > time.Minute {
			t.Errorf("header %q %d %s", first.Format, first.Version, first.ExportedAt)
		}
		for name, n := range map[string]int{
			"tenants": len(first.Tenants), "vpcs": len(first.VPCs), "subnets": len(first.Subnets),
			"security_groups": len(first.SecurityGroups), "hosts": len(first.Hosts), "servers": len(first.Servers),
			"jobs": len(first.Jobs), "fault_rules": len(first.FaultRules), "server_actions": len(first.ServerActions),
			"job_phases": len(first.JobPhases), "client_tokens": len(first.ClientTokens), "orders": len(first.Orders),
			"volumes": len(first.Volumes), "ports": len(first.Ports),
		} {
			want := map[string]int{"tenants": 2, "vpcs": 2, "subnets": 2, "security_groups": 2, "hosts": 2, "servers": 4,
				"jobs": 6, "fault_rules": 1, "server_actions": 4, "job_phases": 4, "client_tokens": 2, "orders": 6,
				"volumes": 6, "ports": 2}[name]
			if n != want {
				t.Errorf("%s: %d rows exported, want %d", name, n, want)
			}
		}
		if len(first.Clock) == 0 || first.Settings["other"] != "v" {
			t.Errorf("settings not exported: clock %s, others %v", first.Clock, first.Settings)
		}
		if first.Subnets[0].NextHost != 11 {
			t.Errorf("subnet next_host %d, want 11", first.Subnets[0].NextHost)
		}

		// Into a fresh database that already holds something else: it goes.
		dst := e.NewDB(t)
		inTx(t, dst, func(tx *sql.Tx) error {
			return dst.UpsertTenant(t.Context(), tx, &ecs.Tenant{ProjectID: strings.Repeat("e", 32), ProjectName: "x",
				DomainID: "d", AccessKey: "OLD", SecretKey: "old-secret-key-000"}, ecs.DefaultQuota, testTime)
		})
		if err := dst.Import(t.Context(), viaJSON(t, first)); err != nil {
			t.Fatalf("Import: %v", err)
		}
		second := mustExport(t, dst)
		second.ExportedAt = first.ExportedAt
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("export → import → export differs (-first +second):\n%s", diff)
		}
		if n := scalar[int](t, dst, `SELECT count(*) FROM river_job`); n != 0 {
			t.Errorf("%d River jobs after the import, want none (the node enqueues them again)", n)
		}

		// What the store's own readers see is the same, too.
		for _, p := range []string{project, otherProject} {
			for _, id := range []string{"CSpaid-" + p, "CSpending-" + p, "CScancelled-" + p} {
				if diff := cmp.Diff(mustOrderByID(t, src, p, id), mustOrderByID(t, dst, p, id)); diff != "" {
					t.Errorf("order %s differs (-src +dst):\n%s", id, diff)
				}
			}
			want := mustServerByID(t, src, p, "live-"+p)
			requireServer(t, mustServerByID(t, dst, p, "live-"+p), want)
			if diff := cmp.Diff(mustJobByID(t, src, p, "parent-"+p), mustJobByID(t, dst, p, "parent-"+p)); diff != "" {
				t.Errorf("job differs (-src +dst):\n%s", diff)
			}
		}
	})
}

func TestImportRefusesOtherVersions(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		populate(t, db)
		before := mustExport(t, db)
		for _, tt := range []struct {
			name string
			edit func(s *store.Snapshot)
			want string
		}{
			{"future version", func(s *store.Snapshot) { s.Version = store.SnapshotVersion + 1 }, "version 2 is not supported"},
			{"no version", func(s *store.Snapshot) { s.Version = 0 }, "version 0 is not supported"},
			{"other format", func(s *store.Snapshot) { s.Format = "something" }, "not an ecsd snapshot"},
			{"broken rows", func(s *store.Snapshot) { s.Servers = append(s.Servers, s.Servers[0]) }, "servers[4]"},
			{"unknown fault rule column", func(s *store.Snapshot) { s.FaultRules[0]["bogus"] = json.RawMessage(`1`) }, `unknown column "bogus"`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := viaJSON(t, before)
				tt.edit(s)
				err := db.Import(t.Context(), s)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Import = %v, want an error containing %q", err, tt.want)
				}
				after := mustExport(t, db)
				after.ExportedAt = before.ExportedAt
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("a refused import changed the store:\n%s", diff)
				}
			})
		}
	})
}

// TestImportWithoutOrders imports a version-1 document written before
// orders were part of the snapshot: it has no "orders" key, and the store
// ends up with no orders.
func TestImportWithoutOrders(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		src := e.NewDB(t)
		populate(t, src)
		b, err := json.Marshal(mustExport(t, src))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, "orders")
		if b, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
		var old store.Snapshot
		if err := json.Unmarshal(b, &old); err != nil {
			t.Fatal(err)
		}
		dst := e.NewDB(t)
		populate(t, dst)
		if err := dst.Import(t.Context(), &old); err != nil {
			t.Fatalf("Import of a document without orders: %v", err)
		}
		if got := mustExport(t, dst); len(got.Orders) != 0 || len(got.Servers) != 4 {
			t.Errorf("after the import: %d orders, %d servers; want 0 and 4", len(got.Orders), len(got.Servers))
		}
	})
}

// TestSnapshotCoversEveryColumn fails when a migration adds a column that
// the snapshot does not carry: each column of each table must be a JSON
// field of its snapshot row (or be one of the known renames).
func TestSnapshotCoversEveryColumn(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		db := e.NewDB(t)
		renames := map[string]string{"quota_instances": "quota", "quota_cores": "quota", "quota_ram": "quota"}
		for _, tt := range []struct {
			table string
			row   any
		}{
			{"tenants", store.SnapshotTenant{}}, {"vpcs", store.SnapshotVPC{}}, {"subnets", store.SnapshotSubnet{}},
			{"security_groups", store.SnapshotSecurityGroup{}}, {"hosts", store.SnapshotHost{}},
			{"servers", store.SnapshotServer{}}, {"jobs", store.SnapshotJob{}}, {"server_actions", store.SnapshotAction{}},
			{"job_phases", store.SnapshotPhase{}}, {"client_tokens", store.SnapshotClientToken{}},
			{"orders", store.SnapshotOrder{}}, {"volumes", store.SnapshotVolume{}}, {"ports", store.SnapshotPort{}},
		} {
			fields := map[string]bool{}
			rt := reflect.TypeOf(tt.row)
			for i := range rt.NumField() {
				name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
				fields[name] = true
			}
			cols := tableColumns(t, db, tt.table)
			if len(cols) == 0 {
				t.Fatalf("table %s has no columns", tt.table)
			}
			for _, c := range cols {
				if c == "seq" {
					continue // insertion order, kept by the order of the rows
				}
				if r, ok := renames[c]; ok {
					c = r
				}
				if !fields[c] {
					t.Errorf("%s.%s is not in %T", tt.table, c, tt.row)
				}
			}
		}
	})
}

func TestDeleteProject(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		ids := populate(t, db)
		other := mustExport(t, db)

		var servers, jobs []string
		inTx(t, db, func(tx *sql.Tx) error {
			var err error
			servers, jobs, err = db.DeleteProject(ctx, tx, project, false)
			return err
		})
		if want := []string{ids[project][0]}; !slices.Equal(servers, want) {
			t.Errorf("live servers removed %v, want %v", servers, want)
		}
		if want := []string{ids[project][1]}; !slices.Equal(jobs, want) {
			t.Errorf("unfinished jobs removed %v, want %v", jobs, want)
		}
		for _, q := range []string{
			`SELECT count(*) FROM servers WHERE project_id = ?`, `SELECT count(*) FROM jobs WHERE project_id = ?`,
			`SELECT count(*) FROM server_actions WHERE project_id = ?`, `SELECT count(*) FROM client_tokens WHERE project_id = ?`,
			`SELECT count(*) FROM vpcs WHERE project_id = ?`, `SELECT count(*) FROM subnets WHERE project_id = ?`,
			`SELECT count(*) FROM security_groups WHERE project_id = ?`, `SELECT count(*) FROM orders WHERE project_id = ?`,
			`SELECT count(*) FROM volumes WHERE project_id = ?`, `SELECT count(*) FROM ports WHERE project_id = ?`,
			`SELECT count(*) FROM job_phases WHERE job_id LIKE '%' || ?`,
			`SELECT count(*) FROM river_job WHERE ` + riverJobID(db) + ` LIKE '%' || ?`,
		} {
			if n := scalar[int](t, db, q, project); n != 0 {
				t.Errorf("%s: %d rows left", q, n)
			}
		}
		if n := scalar[int](t, db, `SELECT count(*) FROM tenants WHERE project_id = ?`, project); n != 1 {
			t.Errorf("the tenant went with dropTenant false")
		}

		// The other project is untouched.
		after := mustExport(t, db)
		after.ExportedAt = other.ExportedAt
		keep := func(s *store.Snapshot) *store.Snapshot {
			c := *s
			c.Servers = slices.DeleteFunc(slices.Clone(c.Servers), func(v store.SnapshotServer) bool { return v.ProjectID == project })
			c.Jobs = slices.DeleteFunc(slices.Clone(c.Jobs), func(v store.SnapshotJob) bool { return v.ProjectID == project })
			c.VPCs = slices.DeleteFunc(slices.Clone(c.VPCs), func(v store.SnapshotVPC) bool { return v.ProjectID == project })
			c.Subnets = slices.DeleteFunc(slices.Clone(c.Subnets), func(v store.SnapshotSubnet) bool { return v.ProjectID == project })
			c.SecurityGroups = slices.DeleteFunc(slices.Clone(c.SecurityGroups), func(v store.SnapshotSecurityGroup) bool { return v.ProjectID == project })
			c.ServerActions = slices.DeleteFunc(slices.Clone(c.ServerActions), func(v store.SnapshotAction) bool { return v.ProjectID == project })
			c.JobPhases = slices.DeleteFunc(slices.Clone(c.JobPhases), func(v store.SnapshotPhase) bool { return strings.HasSuffix(v.JobID, project) })
			c.ClientTokens = slices.DeleteFunc(slices.Clone(c.ClientTokens), func(v store.SnapshotClientToken) bool { return v.ProjectID == project })
			c.Orders = slices.DeleteFunc(slices.Clone(c.Orders), func(v store.SnapshotOrder) bool { return v.ProjectID == project })
			c.Volumes = slices.DeleteFunc(slices.Clone(c.Volumes), func(v store.SnapshotVolume) bool { return v.ProjectID == project })
			c.Ports = slices.DeleteFunc(slices.Clone(c.Ports), func(v store.SnapshotPort) bool { return v.ProjectID == project })
			return &c
		}
		if diff := cmp.Diff(keep(other), keep(after)); diff != "" {
			t.Errorf("the other project changed:\n%s", diff)
		}
		if n := scalar[int](t, db, `SELECT count(*) FROM river_job`); n != 1 {
			t.Errorf("%d River jobs left, want the other project's one", n)
		}

		inTx(t, db, func(tx *sql.Tx) error {
			_, _, err := db.DeleteProject(ctx, tx, otherProject, true)
			return err
		})
		if n := scalar[int](t, db, `SELECT count(*) FROM tenants WHERE project_id = ?`, otherProject); n != 0 {
			t.Errorf("the tenant stayed with dropTenant true")
		}
	})
}

func TestDeleteAllAndIsEmpty(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		isEmpty := func() bool {
			var empty bool
			inTx(t, db, func(tx *sql.Tx) error {
				var err error
				empty, err = db.IsEmpty(ctx, tx)
				return err
			})
			return empty
		}
		if !isEmpty() {
			t.Fatal("a new store is not empty")
		}
		ids := populate(t, db)
		if isEmpty() {
			t.Fatal("a populated store is empty")
		}
		var servers, jobs []string
		inTx(t, db, func(tx *sql.Tx) error {
			var err error
			servers, jobs, err = db.DeleteAll(ctx, tx)
			return err
		})
		sort.Strings(servers)
		sort.Strings(jobs)
		wantServers := []string{ids[otherProject][0], ids[project][0]}
		wantJobs := []string{ids[otherProject][1], ids[project][1]}
		sort.Strings(wantServers)
		sort.Strings(wantJobs)
		if !slices.Equal(servers, wantServers) || !slices.Equal(jobs, wantJobs) {
			t.Errorf("removed servers %v jobs %v, want %v %v", servers, jobs, wantServers, wantJobs)
		}
		if !isEmpty() {
			t.Error("not empty after DeleteAll")
		}
		for _, table := range []string{"tenants", "vpcs", "subnets", "security_groups", "servers", "jobs", "fault_rules",
			"server_actions", "job_phases", "client_tokens", "orders", "volumes", "ports", "river_job"} {
			if n := scalar[int](t, db, `SELECT count(*) FROM `+table); n != 0 {
				t.Errorf("%s: %d rows left", table, n)
			}
		}
		for _, table := range []string{"hosts", "settings"} {
			if n := scalar[int](t, db, `SELECT count(*) FROM `+table); n == 0 {
				t.Errorf("%s emptied; hosts and settings stay", table)
			}
		}
	})
}

func TestTenantsList(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		db := e.NewDB(t)
		populate(t, db)
		inTx(t, db, func(tx *sql.Tx) error {
			ts, qs, err := db.Tenants(ctx, tx)
			if err != nil {
				return err
			}
			if len(ts) != 2 || ts[0].ProjectID != project || ts[1].ProjectID != otherProject {
				t.Errorf("tenants %+v, want both projects, oldest first", ts)
			}
			if qs[1] != (ecs.Quota{Instances: 11, Cores: -1, RAMMB: 4096}) {
				t.Errorf("quota %+v", qs[1])
			}
			n, err := db.ServerCount(ctx, tx, project)
			if n != 1 {
				t.Errorf("ServerCount = %d, want 1 (the deleted server does not count)", n)
			}
			return err
		})
	})
}

func mustOrderByID(tb testing.TB, db *store.DB, projectID, id string) *ecs.Order {
	tb.Helper()
	var o *ecs.Order
	inTx(tb, db, func(tx *sql.Tx) error {
		var err error
		o, err = db.OrderByID(tb.Context(), tx, projectID, id)
		return err
	})
	if o == nil {
		tb.Fatalf("order %s of %s not found", id, projectID)
	}
	return o
}

// jsonbParam is a parameter holding JSON text, as River's args column
// takes it.
func jsonbParam(db *store.DB) string {
	if db.Engine() == store.EnginePostgres {
		return `CAST(? AS jsonb)`
	}
	return `jsonb(?)`
}

// riverJobID is the SQL expression of the job_id argument of a River job.
func riverJobID(db *store.DB) string {
	if db.Engine() == store.EnginePostgres {
		return `(args ->> 'job_id')`
	}
	return `json_extract(args, '$.job_id')`
}

// tableColumns returns the columns of a table.
func tableColumns(tb testing.TB, db *store.DB, table string) []string {
	tb.Helper()
	q := `SELECT name FROM pragma_table_info(?)`
	if db.Engine() == store.EnginePostgres {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	rows, err := db.SQL().QueryContext(tb.Context(), db.Rebind(q), table)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			tb.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return cols
}
