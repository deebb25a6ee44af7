package seed_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

var cat = catalog.Default()

const (
	projectA = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	projectB = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	ubuntu22 = "abe65701-8a26-40ec-b381-c10498ca3745"
)

// example is a valid document in YAML and in JSON.
const exampleYAML = `
tenants:
  - access_key: TEAMAACCESSKEY000001
    secret_key: teamASecretKey0000000000000000000000000
    project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    quota: {instances: 10, cores: 40}
  - access_key: TEAMBACCESSKEY000001
    secret_key: teamBSecretKey0000000000000000000000000
    project_id: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    project_name: cn-north-4_b
    domain_id: 22222222222222222222222222222222
quotas:
  - project_id: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    ram: 65536
servers:
  - project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    name: web
    count: 2
    flavor: s6.large.2
    image: Ubuntu 22.04 server 64bit(40GB)
    status: SHUTOFF
    metadata: {owner: qa}
    tags: {env: test}
    root_volume: {type: SAS, size: 50}
  - project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    id: 7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f00
    name: db
    flavor: c7.xlarge.4
    image: abe65701-8a26-40ec-b381-c10498ca3745
    availability_zone: cn-north-4b
  - project_id: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    name: broken
    flavor: s6.small.1
    image: abe65701-8a26-40ec-b381-c10498ca3745
    status: ERROR
    charging_mode: spot
`

const exampleJSON = `{
  "tenants": [
    {"access_key": "TEAMAACCESSKEY000001", "secret_key": "teamASecretKey0000000000000000000000000",
     "project_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "quota": {"instances": 10, "cores": 40}},
    {"access_key": "TEAMBACCESSKEY000001", "secret_key": "teamBSecretKey0000000000000000000000000",
     "project_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "project_name": "cn-north-4_b",
     "domain_id": "22222222222222222222222222222222"}
  ],
  "quotas": [{"project_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "ram": 65536}],
  "servers": [
    {"project_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "name": "web", "count": 2, "flavor": "s6.large.2",
     "image": "Ubuntu 22.04 server 64bit(40GB)", "status": "SHUTOFF", "metadata": {"owner": "qa"},
     "tags": {"env": "test"}, "root_volume": {"type": "SAS", "size": 50}},
    {"project_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "id": "7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f00", "name": "db",
     "flavor": "c7.xlarge.4", "image": "abe65701-8a26-40ec-b381-c10498ca3745", "availability_zone": "cn-north-4b"},
    {"project_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "name": "broken", "flavor": "s6.small.1",
     "image": "abe65701-8a26-40ec-b381-c10498ca3745", "status": "ERROR", "charging_mode": "spot"}
  ]
}`

func TestParseFormats(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, body, format string }{
		{"yaml", exampleYAML, seed.FormatYAML},
		{"yaml sniffed", exampleYAML, ""},
		{"json", exampleJSON, seed.FormatJSON},
		{"json sniffed", exampleJSON, ""},
		{"json read as yaml", exampleJSON, seed.FormatYAML}, // JSON is YAML
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := seed.Parse([]byte(tt.body), tt.format)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(d.Tenants) != 2 || len(d.Quotas) != 1 || len(d.Servers) != 3 {
				t.Fatalf("parsed %d tenants, %d quotas, %d servers", len(d.Tenants), len(d.Quotas), len(d.Servers))
			}
			if s := d.Servers[0]; s.Count != 2 || s.Tags["env"] != "test" || s.RootVolume.Size != 50 || s.Status != "SHUTOFF" {
				t.Errorf("servers[0] = %+v", s)
			}
			if q := d.Quotas[0]; q.RAM == nil || *q.RAM != 65536 || q.Cores != nil {
				t.Errorf("quotas[0] = %+v", q)
			}
			if err := d.Check(cat); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, body, format, want string }{
		{"unknown yaml key", "servers:\n  - name: a\n    flavour: x\n", "", `line 3: unknown key "flavour"`},
		{"unknown json key", `{"servers": [{"name": "a", "flavour": "x"}]}`, "", `unknown key "flavour"`},
		{"unknown top-level key", "catalog: {}\n", "", `unknown key "catalog"`},
		{"bad yaml", "servers: [\n", "", "did not find expected"},
		{"bad json", `{"servers": [}`, "", "line 1: invalid JSON"},
		{"json type", `{"servers": [{"count": "two"}]}`, "", "cannot use a JSON string"},
		{"two yaml documents", "tenants: []\n---\nservers: []\n", "", "more than one YAML document"},
		{"trailing json", `{} {}`, "", "unexpected data after"},
		{"unknown format", "{}", "toml", `unknown format "toml"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := seed.Parse([]byte(tt.body), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if d, err := seed.Parse(nil, ""); err != nil || len(d.Servers) != 0 {
		t.Errorf("empty document: %v %+v", err, d)
	}
}

// server is a valid server entry, changed by edit.
func server(edit func(s *seed.Server)) seed.Server {
	s := seed.Server{ProjectID: projectA, Name: "s", Flavor: "s6.small.1", Image: ubuntu22}
	if edit != nil {
		edit(&s)
	}
	return s
}

func TestCheck(t *testing.T) {
	t.Parallel()
	validTenant := seed.Tenant{AccessKey: "AK", SecretKey: "0123456789abcdef", ProjectID: projectA}
	for _, tt := range []struct {
		name string
		doc  seed.Document
		want []string // each must appear in the error; none = valid
	}{
		{"valid", seed.Document{Tenants: []seed.Tenant{validTenant}, Servers: []seed.Server{server(nil)}}, nil},
		{"status lower case", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Status = "shutoff" })}}, nil},
		{"tenant fields required", seed.Document{Tenants: []seed.Tenant{{}}},
			[]string{"tenants[0].access_key: required", "tenants[0].secret_key: required", "tenants[0].project_id: required"}},
		{"tenant formats", seed.Document{Tenants: []seed.Tenant{{AccessKey: "A K", SecretKey: "short", ProjectID: "P", DomainID: "d"}}},
			[]string{"tenants[0].access_key", "tenants[0].secret_key: must be at least 16", `tenants[0].project_id: "P" is not 32`, "tenants[0].domain_id"}},
		{"duplicate tenants", seed.Document{Tenants: []seed.Tenant{validTenant, validTenant}},
			[]string{`tenants[1].access_key: "AK" is already used by tenants[0]`, "tenants[1].project_id"}},
		{"tenant quota", seed.Document{Tenants: []seed.Tenant{{AccessKey: "AK", SecretKey: "0123456789abcdef", ProjectID: projectA,
			Quota: &seed.Limits{Cores: ptr(-2)}}}}, []string{"tenants[0].quota.cores: must be -1"}},
		{"quota entry", seed.Document{Quotas: []seed.Quota{{Limits: seed.Limits{RAM: ptr(-5)}}}},
			[]string{"quotas[0].project_id: required", "quotas[0].ram: must be -1"}},
		{"unknown flavor", seed.Document{Servers: []seed.Server{server(nil), server(nil), server(nil),
			server(func(s *seed.Server) { s.Flavor = "x" })}}, []string{`servers[3].flavor: unknown flavor "x"`}},
		{"server required fields", seed.Document{Servers: []seed.Server{{}}},
			[]string{"servers[0].project_id: required", "servers[0].name: required", "servers[0].flavor: required", "servers[0].image: required"}},
		{"unknown image", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Image = "Plan 9" })}},
			[]string{`servers[0].image: unknown image "Plan 9"`}},
		{"unknown status", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Status = "RESIZE" })}},
			[]string{`servers[0].status: unsupported status "RESIZE"`}},
		{"unknown charging mode", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.ChargingMode = "free" })}},
			[]string{`servers[0].charging_mode: unknown charging mode "free"`}},
		{"flavor not sold so", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Flavor, s.ChargingMode = "e3.7xlarge.12", "postPaid" })}},
			[]string{"servers[0].charging_mode: flavor e3.7xlarge.12 is not sold"}},
		{"unknown az", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.AvailabilityZone = "mars-1a" })}},
			[]string{`servers[0].availability_zone: unknown availability zone "mars-1a"`}},
		{"sold out az", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Flavor, s.AvailabilityZone = "s6.large.2", "cn-north-4b" })}},
			[]string{"servers[0].availability_zone: flavor s6.large.2 is not on sale in cn-north-4b"}},
		{"id", seed.Document{Servers: []seed.Server{
			server(func(s *seed.Server) { s.ID = "not-a-uuid" }),
			server(func(s *seed.Server) { s.ID, s.Count = "7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f00", 2 }),
			server(func(s *seed.Server) { s.ID = "7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f01" }),
			server(func(s *seed.Server) { s.ID = "7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f01" }),
		}}, []string{`servers[0].id: "not-a-uuid" is not a lowercase UUID`, "servers[1].id: a fixed ID needs count 1",
			"servers[3].id: \"7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f01\" is already used by servers[2]"}},
		{"count", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Count = -1 }),
			server(func(s *seed.Server) { s.Count = seed.MaxCount + 1 })}}, []string{"servers[0].count", "servers[1].count"}},
		{"name length", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.Name, s.Count = strings.Repeat("n", 60), 2 })}},
			[]string{"servers[0].name: must be at most 59 characters"}},
		{"metadata and tags", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) {
			s.Metadata = map[string]string{"bad key": "v"}
			s.Tags = map[string]string{"k=v": "x"}
		})}}, []string{`servers[0].metadata: key "bad key"`, "servers[0].tags.k=v"}},
		{"root volume", seed.Document{Servers: []seed.Server{server(func(s *seed.Server) { s.RootVolume = &seed.RootVolume{Type: "FLOPPY", Size: 10} })}},
			[]string{`servers[0].root_volume.type: unknown volume type "FLOPPY"`, "servers[0].root_volume.size: 10 GB is less than the image's minimum"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.doc.Check(cat)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestExampleFile loads testdata/world.yaml, the documented example.
func TestExampleFile(t *testing.T) {
	t.Parallel()
	d, err := seed.ReadFile("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(cat); err != nil {
		t.Fatalf("Check: %v", err)
	}
	b := setupLive(t)
	dev := seed.Document{Tenants: []seed.Tenant{seed.TenantOf(ecs.DevTenant, ecs.DefaultQuota)}}
	res, err := seed.Load(t.Context(), b.admin, seed.Merge(&dev, d), seed.Options{Region: "cn-north-4", Flavors: b.ov})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(res.Servers) != 5 || len(res.Flavors) != 2 {
		t.Errorf("%d servers and %d flavors, want 5 and 2", len(res.Servers), len(res.Flavors))
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{"s.yaml": exampleYAML, "s.yml": exampleYAML, "s.json": exampleJSON, "s.seed": exampleJSON} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := seed.ReadFile(p)
		if err != nil || len(d.Servers) != 3 {
			t.Errorf("ReadFile(%s) = %v, %v", name, d, err)
		}
	}
	p := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(p, []byte("servers: []"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.ReadFile(p); err == nil || !strings.Contains(err.Error(), "seed file "+p) {
		t.Errorf("YAML in a .json file: %v", err)
	}
	if _, err := seed.ReadFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file read")
	}
}

func TestMergeAndProject(t *testing.T) {
	t.Parallel()
	d, err := seed.Parse([]byte(exampleYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	m := seed.Merge(&seed.Document{Tenants: []seed.Tenant{{ProjectID: "x"}}}, nil, d)
	if len(m.Tenants) != 3 || m.Tenants[0].ProjectID != "x" || len(m.Servers) != 3 {
		t.Errorf("Merge = %+v", m)
	}
	b := d.Project(projectB)
	if len(b.Tenants) != 1 || len(b.Quotas) != 1 || len(b.Servers) != 1 || b.Servers[0].Name != "broken" {
		t.Errorf("Project(B) = %+v", b)
	}
	if !d.HasTenant(projectA) || d.HasTenant(strings.Repeat("0", 32)) || (*seed.Document)(nil).HasTenant(projectA) {
		t.Error("HasTenant")
	}
}

// bundle is a compute.Admin on a fresh store with the default catalogue
// and hosts and the sim driver.
type bundle struct {
	db    *store.DB
	drv   *sim.Driver
	admin *compute.Admin
}

func setup(t *testing.T, hosts ...ecs.Host) *bundle {
	t.Helper()
	db := storetest.NewDB(t)
	drv := sim.New(sim.Options{})
	svc := &compute.Service{Store: db, Catalog: cat, Clock: ecs.RealClock{}, Logger: slog.New(slog.DiscardHandler)}
	if len(hosts) == 0 {
		for _, h := range cat.Hosts() {
			hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
		}
	}
	if err := svc.SetHosts(t.Context(), hosts); err != nil {
		t.Fatal(err)
	}
	return &bundle{db: db, drv: drv, admin: &compute.Admin{Service: svc, Store: db, Driver: drv, Region: "cn-north-4"}}
}

func (b *bundle) servers(t *testing.T, projectID string) []*ecs.Server {
	t.Helper()
	out, _, err := b.admin.Service.FindServers(t.Context(), ecs.ServerFilter{ProjectID: projectID})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoad(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	d, err := seed.Parse([]byte(exampleYAML), "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := seed.Load(ctx, b.admin, d, seed.Options{Region: "cn-north-4"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(res.Tenants) != 2 || len(res.Servers) != 4 {
		t.Fatalf("Load created %d tenants and %d servers, want 2 and 4", len(res.Tenants), len(res.Servers))
	}

	// Tenants, their quotas and networks.
	ta, err := b.admin.Service.FindTenantByAccessKey(ctx, "TEAMAACCESSKEY000001")
	if err != nil || ta.ProjectName != "cn-north-4" || len(ta.DomainID) != 32 {
		t.Fatalf("tenant A = %+v, %v (want the region as project name and a derived domain ID)", ta, err)
	}
	la, err := b.admin.Service.Limits(ctx, projectA)
	if err != nil || la.Instances != 10 || la.Cores != 40 || la.RAMMB != ecs.DefaultQuota.RAMMB || la.InstancesUsed != 3 {
		t.Errorf("limits of A = %+v, %v", la, err)
	}
	lb, err := b.admin.Service.Limits(ctx, projectB)
	if err != nil || lb.RAMMB != 65536 || lb.Instances != ecs.DefaultQuota.Instances || lb.SpotInstancesUsed != 1 {
		t.Errorf("limits of B = %+v, %v", lb, err)
	}

	// Servers, in the requested states, with network, volume and driver.
	byName := map[string]*ecs.Server{}
	for _, s := range append(b.servers(t, projectA), b.servers(t, projectB)...) {
		byName[s.Name] = s
	}
	for _, tt := range []struct {
		name, status, flavor, az string
		power                    int
		running                  bool
		instance                 bool
	}{
		{"web-0001", ecs.StatusShutoff, "s6.large.2", "cn-north-4a", ecs.PowerShutdown, false, true},
		{"web-0002", ecs.StatusShutoff, "s6.large.2", "cn-north-4a", ecs.PowerShutdown, false, true},
		{"db", ecs.StatusActive, "c7.xlarge.4", "cn-north-4b", ecs.PowerRunning, true, true},
		{"broken", ecs.StatusError, "s6.small.1", "cn-north-4a", ecs.PowerNoState, false, false},
	} {
		s := byName[tt.name]
		if s == nil {
			t.Errorf("no server %s", tt.name)
			continue
		}
		if s.Status() != tt.status || s.FlavorID != tt.flavor || s.AvailabilityZone != tt.az || s.PowerState != tt.power || s.Busy() {
			t.Errorf("%s: status %s flavor %s az %s power %d task %q", tt.name, s.Status(), s.FlavorID, s.AvailabilityZone, s.PowerState, s.TaskState)
		}
		if s.IPAddress == "" || s.PortID == "" || s.MACAddress == "" || s.RootVolumeID == "" || s.HostID == "" ||
			len(s.SecurityGroups) != 1 || s.VPCID == "" || s.SubnetID == "" {
			t.Errorf("%s: incomplete server %+v", tt.name, s)
		}
		st, err := b.drv.Inspect(ctx, s.ID)
		switch {
		case !tt.instance:
			if !errors.Is(err, driver.ErrNotFound) {
				t.Errorf("%s: driver instance %v, %v; want none", tt.name, st, err)
			}
		case err != nil:
			t.Errorf("%s: no driver instance: %v", tt.name, err)
		case (st.Power == driver.PowerRunning) != tt.running || st.Shape.FlavorID != tt.flavor:
			t.Errorf("%s: driver instance %+v", tt.name, st)
		}
		actions, err := b.admin.Service.ServerActions(ctx, "", s.ID)
		if err != nil || len(actions) != 1 || actions[0].Action != "seed" || actions[0].Result != ecs.JobSuccess {
			t.Errorf("%s: history %+v, %v", tt.name, actions, err)
		}
	}
	web := byName["web-0001"]
	if web.RootVolumeType != "SAS" || web.RootVolumeSize != 50 || web.Metadata["owner"] != "qa" || len(web.Tags) != 1 || web.Tags[0] != "env=test" {
		t.Errorf("web-0001: %+v", web)
	}
	if db := byName["db"]; db.ID != "7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f00" || db.LaunchedAt.IsZero() {
		t.Errorf("db: id %s launched %s", db.ID, db.LaunchedAt)
	}
	if byName["broken"].ChargingMode != ecs.ChargingSpot || byName["broken"].FaultCode != 500 {
		t.Errorf("broken: %+v", byName["broken"])
	}
	if byName["web-0001"].IPAddress == byName["web-0002"].IPAddress {
		t.Error("two servers got the same address")
	}

	// Loading again: the tenants are upserted, the fixed ID is refused and
	// nothing is written.
	_, err = seed.Load(ctx, b.admin, d, seed.Options{Region: "cn-north-4"})
	if err == nil || !strings.Contains(err.Error(), "servers[1].id: server 7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f00 already exists") {
		t.Fatalf("second Load = %v", err)
	}
	if n := len(b.servers(t, projectA)); n != 3 {
		t.Errorf("a failed load left %d servers in A, want 3", n)
	}
}

func TestLoadStoreErrors(t *testing.T) {
	t.Parallel()
	small := []ecs.Host{{ID: "h1", AZ: "cn-north-4a", VCPUs: 4, RAMMB: 8192, Arch: "x86_64"}}
	tenant := seed.Tenant{AccessKey: "AK", SecretKey: "0123456789abcdef", ProjectID: projectA}
	for _, tt := range []struct {
		name string
		doc  seed.Document
		want string
	}{
		{"unknown project", seed.Document{Servers: []seed.Server{server(nil)}},
			`servers[0].project_id: unknown project "` + projectA + `"`},
		{"unknown project of a quota", seed.Document{Quotas: []seed.Quota{{ProjectID: projectB}}},
			`quotas[0].project_id: unknown project`},
		{"capacity", seed.Document{Tenants: []seed.Tenant{tenant}, Servers: []seed.Server{
			server(func(s *seed.Server) { s.Flavor, s.Count = "s6.large.2", 2 }),
			server(func(s *seed.Server) { s.Flavor = "s6.large.2" }),
		}}, "servers[1]: Insufficient capacity"},
		{"quota", seed.Document{Tenants: []seed.Tenant{{AccessKey: "AK", SecretKey: "0123456789abcdef", ProjectID: projectA,
			Quota: &seed.Limits{Instances: ptr(1)}}}, Servers: []seed.Server{server(func(s *seed.Server) { s.Count = 2 })}},
			"servers[0]: Quota exceeded for instances"},
		{"access key of another project", seed.Document{Tenants: []seed.Tenant{tenant,
			{AccessKey: "AK2", SecretKey: "0123456789abcdef", ProjectID: projectB}}, Servers: []seed.Server{server(nil)}},
			""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, small...)
			_, err := seed.Load(t.Context(), b.admin, &tt.doc, seed.Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load = %v", err)
				}
				return
			}
			var e *ecs.Error
			if !errors.As(err, &e) || e.Code != compute.CodeInvalidSeed || e.Status != 400 || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("Load = %v, want a 400 %s containing %q", err, compute.CodeInvalidSeed, tt.want)
			}
			// One transaction: nothing stays.
			var n int
			if err := b.db.SQL().QueryRowContext(t.Context(), `SELECT (SELECT count(*) FROM servers) + (SELECT count(*) FROM tenants)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("a failed load left %d rows", n)
			}
		})
	}

	t.Run("moving an access key", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if _, err := seed.Load(t.Context(), b.admin, &seed.Document{Tenants: []seed.Tenant{tenant}}, seed.Options{}); err != nil {
			t.Fatal(err)
		}
		moved := tenant
		moved.ProjectID = projectB
		_, err := seed.Load(t.Context(), b.admin, &seed.Document{Tenants: []seed.Tenant{moved}}, seed.Options{})
		if err == nil || !strings.Contains(err.Error(), "tenants[0].access_key: AK already belongs to project "+projectA) {
			t.Fatalf("Load = %v", err)
		}
	})
}

func TestTenantOf(t *testing.T) {
	t.Parallel()
	b := setup(t)
	q := ecs.Quota{Instances: 3, Cores: -1, RAMMB: 0}
	d := &seed.Document{Tenants: []seed.Tenant{seed.TenantOf(ecs.DevTenant, q)}}
	if _, err := seed.Load(context.Background(), b.admin, d, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	l, err := b.admin.Service.Limits(t.Context(), ecs.DevTenant.ProjectID)
	if err != nil || l.Quota != q {
		t.Errorf("limits %+v, %v; want %+v", l, err, q)
	}
	var dom string
	if err := b.db.SQL().QueryRowContext(t.Context(), `SELECT domain_id FROM tenants`).Scan(&dom); err != nil || dom != ecs.DevTenant.DomainID {
		t.Errorf("domain %q, %v", dom, err)
	}
}
