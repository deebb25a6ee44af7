package seed_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

const flavorsYAML = `
flavors:
  - id: s6.xlarge.2
    extra_specs: {"cond:operation:az": "cn-north-4a(sellout)"}
  - id: s6.3xlarge.2
    vcpus: 12
    ram: 24576
    family: s6
  - id: s6.small.1
    remove: true
`

const flavorsJSON = `{"flavors": [
  {"id": "s6.xlarge.2", "extra_specs": {"cond:operation:az": "cn-north-4a(sellout)"}},
  {"id": "s6.3xlarge.2", "vcpus": 12, "ram": 24576, "family": "s6"},
  {"id": "s6.small.1", "remove": true}
]}`

func TestParseFlavors(t *testing.T) {
	t.Parallel()
	for _, body := range []string{flavorsYAML, flavorsJSON} {
		d, err := seed.Parse([]byte(body), "")
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if len(d.Flavors) != 3 {
			t.Fatalf("%d flavors, want 3", len(d.Flavors))
		}
		if f := d.Flavors[1]; f.ID != "s6.3xlarge.2" || *f.VCPUs != 12 || *f.RAMMB != 24576 || *f.Family != "s6" {
			t.Errorf("flavors[1] = %+v", f)
		}
		if !d.Flavors[2].Remove || d.Flavors[0].ExtraSpecs["cond:operation:az"] != "cn-north-4a(sellout)" {
			t.Errorf("flavors = %+v", d.Flavors)
		}
		if err := d.Check(cat); err != nil {
			t.Errorf("Check: %v", err)
		}
	}
	for _, tt := range []struct{ body, want string }{
		{"flavors:\n  - id: s6.large.2\n    cpus: 4\n", `line 3: unknown key "cpus"`},
		{`{"flavors": [{"id": "s6.large.2", "memory": 4}]}`, `unknown key "memory"`},
	} {
		if _, err := seed.Parse([]byte(tt.body), ""); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.body, err, tt.want)
		}
	}
	// Merge keeps flavors; Project leaves them out: they concern every project.
	d, _ := seed.Parse([]byte(flavorsYAML), "")
	if m := seed.Merge(d, d); len(m.Flavors) != 6 {
		t.Errorf("Merge: %d flavors, want 6", len(m.Flavors))
	}
	if p := d.Project(projectA); len(p.Flavors) != 0 {
		t.Errorf("Project kept %d flavors", len(p.Flavors))
	}
}

func TestCheckFlavors(t *testing.T) {
	t.Parallel()
	newFlavor := catalog.FlavorOverride{ID: "s6.3xlarge.2", VCPUs: ptr(12), RAMMB: ptr(24576), Family: ptr("s6")}
	for _, tt := range []struct {
		name string
		doc  seed.Document
		want []string // each must appear in the error; none = valid
	}{
		{"a server of a new flavor", seed.Document{Flavors: []catalog.FlavorOverride{newFlavor},
			Servers: []seed.Server{server(func(s *seed.Server) { s.Flavor = "s6.3xlarge.2" })}}, nil},
		{"every bad entry named", seed.Document{Flavors: []catalog.FlavorOverride{
			{ID: "s6.large.2", VCPUs: ptr(0)},
			newFlavor,
			{ID: "s6.huge.2", Remove: true},
			{ID: "s6.huge.4", VCPUs: ptr(8), RAMMB: ptr(32768)},
			{ID: "s6.large.2", ExtraSpecs: map[string]string{"hw:cpu_threads": "3"}},
			{ID: "Bad ID"},
		}}, []string{
			"flavors[0]: s6.large.2: vcpus must be positive",
			"flavors[2]: s6.huge.2: remove: no such flavor",
			"flavors[3]: s6.huge.4: a new flavor needs vcpus, ram and family",
			"flavors[4]: flavor s6.large.2 is already overridden by flavors[0]",
			`flavors[5]: Bad ID: invalid flavor id "Bad ID"`,
		}},
		{"an inconsistent flavor", seed.Document{Flavors: []catalog.FlavorOverride{
			{ID: "s6.large.2", ExtraSpecs: map[string]string{"ecs:instance_architecture": "arm64"}}}},
			[]string{"flavors[0]: s6.large.2: architecture is arm64"}},
		{"a server of a removed flavor", seed.Document{Flavors: []catalog.FlavorOverride{{ID: "s6.small.1", Remove: true}},
			Servers: []seed.Server{server(nil)}}, []string{`servers[0].flavor: unknown flavor "s6.small.1"`}},
		{"a server where the document sells out", seed.Document{Flavors: []catalog.FlavorOverride{
			{ID: "s6.small.1", ExtraSpecs: map[string]string{"cond:operation:az": "cn-north-4a(sellout)"}}},
			Servers: []seed.Server{server(func(s *seed.Server) { s.AvailabilityZone = "cn-north-4a" })}},
			[]string{"servers[0].availability_zone: flavor s6.small.1 is not on sale in cn-north-4a"}},
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

// liveBundle is a bundle whose service reads the live catalogue of ov.
type liveBundle struct {
	*bundle
	ov *seed.Overrides
}

func setupLive(t *testing.T) *liveBundle {
	t.Helper()
	db := storetest.NewDB(t)
	ov := seed.NewOverrides(catalog.Default(), db)
	svc := &compute.Service{Store: db, Catalog: ov.Live, Clock: ecs.RealClock{}, Logger: slog.New(slog.DiscardHandler)}
	var hosts []ecs.Host
	for _, h := range ov.Base.Hosts() {
		hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	if err := svc.SetHosts(t.Context(), hosts); err != nil {
		t.Fatal(err)
	}
	drv := sim.New(sim.Options{})
	return &liveBundle{ov: ov, bundle: &bundle{db: db, drv: drv,
		admin: &compute.Admin{Service: svc, Store: db, Driver: drv, Region: "cn-north-4"}}}
}

func (b *liveBundle) load(t *testing.T, doc string) (*seed.Result, error) {
	t.Helper()
	d, err := seed.Parse([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	return seed.Load(t.Context(), b.admin, d, seed.Options{Region: "cn-north-4", Flavors: b.ov})
}

func (b *liveBundle) saved(t *testing.T) []catalog.FlavorOverride {
	t.Helper()
	v, err := b.db.Setting(t.Context(), seed.OverridesSetting)
	if err != nil {
		t.Fatal(err)
	}
	var list []catalog.FlavorOverride
	if v != "" {
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			t.Fatalf("saved overrides %q: %v", v, err)
		}
	}
	return list
}

func ids(list []catalog.FlavorOverride) string {
	var out []string
	for _, o := range list {
		out = append(out, o.ID)
	}
	return strings.Join(out, ",")
}

const tenantA = `
tenants:
  - access_key: TEAMAACCESSKEY000001
    secret_key: teamASecretKey0000000000000000000000000
    project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
`

func TestLoadFlavors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupLive(t)

	// A document adds a flavor and seeds a server of it in one go.
	res, err := b.load(t, tenantA+`
flavors:
  - id: s6.3xlarge.2
    vcpus: 12
    ram: 24576
    family: s6
servers:
  - project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    name: big
    flavor: s6.3xlarge.2
    image: `+ubuntu22+`
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(res.Servers) != 1 || strings.Join(res.Flavors, ",") != "s6.3xlarge.2" {
		t.Fatalf("Load = %+v", res)
	}
	big := res.Servers[0]
	if st, err := b.drv.Inspect(ctx, big.ID); err != nil || st.Shape.VCPUs != 12 || st.Shape.RAMMB != 24576 {
		t.Errorf("driver instance of big: %+v, %v", st, err)
	}
	if f, err := b.admin.Service.FindFlavorByID(ctx, "s6.3xlarge.2"); err != nil || f.VCPUs != 12 {
		t.Errorf("FindFlavorByID = %+v, %v", f, err)
	}
	if got := ids(b.saved(t)); got != "s6.3xlarge.2" {
		t.Errorf("saved overrides %q", got)
	}

	// A second document applies on top, even to the same flavor.
	if _, err := b.load(t, `
flavors:
  - id: s6.3xlarge.2
    extra_specs: {"cond:operation:az": "cn-north-4b(sellout)"}
  - id: s6.small.1
    remove: true
`); err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if got := ids(b.saved(t)); got != "s6.3xlarge.2,s6.3xlarge.2,s6.small.1" {
		t.Errorf("saved overrides %q", got)
	}
	if f, ok := b.ov.Live.Flavor("s6.3xlarge.2"); !ok || f.VCPUs != 12 || f.OnSale("cn-north-4b") {
		t.Errorf("s6.3xlarge.2 = %+v, %v", f, ok)
	}
	if _, ok := b.ov.Live.Flavor("s6.small.1"); ok {
		t.Error("s6.small.1 not removed")
	}

	// Removing a flavor a live server uses is refused, naming the server;
	// nothing changes, not even the document's other entries.
	_, err = b.load(t, `
flavors:
  - id: s6.large.2
    vcpus: 3
  - id: s6.3xlarge.2
    remove: true
`)
	var e *ecs.Error
	if !errors.As(err, &e) || e.Code != compute.CodeInvalidSeed || e.Status != 400 ||
		!strings.Contains(e.Message, "flavors[1]: cannot remove flavor s6.3xlarge.2: live servers use it: big ("+big.ID+")") {
		t.Fatalf("Load = %v, want a 400 naming the server", err)
	}
	if f, _ := b.ov.Live.Flavor("s6.large.2"); f.VCPUs != 2 {
		t.Errorf("a refused document changed s6.large.2: %d vCPUs", f.VCPUs)
	}
	if _, ok := b.ov.Live.Flavor("s6.3xlarge.2"); !ok || len(b.saved(t)) != 3 || len(b.ov.List()) != 3 {
		t.Error("a refused document changed the overrides")
	}

	// So is moving it to another architecture; changing its size is not.
	if _, err := b.load(t, "flavors:\n  - id: s6.3xlarge.2\n    family: kc1\n"); err == nil ||
		!strings.Contains(err.Error(), "flavors[0]: cannot change the architecture or virtualization of flavor s6.3xlarge.2") {
		t.Errorf("family change = %v", err)
	}
	if _, err := b.load(t, "flavors:\n  - id: s6.3xlarge.2\n    vcpus: 16\n    ram: 32768\n"); err != nil {
		t.Fatalf("resizing a flavor in use: %v", err)
	}
	if s, err := b.admin.Service.FindServerByID(ctx, "", big.ID); err != nil || s.FlavorID != "s6.3xlarge.2" {
		t.Errorf("big = %+v, %v", s, err)
	}

	// Restore, as after a restart, rebuilds the same catalogue from the store.
	again := seed.NewOverrides(catalog.Default(), b.db)
	if err := again.Restore(ctx); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if f, ok := again.Live.Flavor("s6.3xlarge.2"); !ok || f.VCPUs != 16 || f.OnSale("cn-north-4b") {
		t.Errorf("restored s6.3xlarge.2 = %+v, %v", f, ok)
	}
	if _, ok := again.Live.Flavor("s6.small.1"); ok || len(again.List()) != 4 {
		t.Errorf("restored %d overrides", len(again.List()))
	}

	// Reset goes back to the base catalogue.
	if err := b.ov.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.ov.Live.Flavor("s6.3xlarge.2"); ok || len(b.saved(t)) != 0 || len(b.ov.List()) != 0 {
		t.Error("Reset kept overrides")
	}
}

func TestLoadFlavorsRefused(t *testing.T) {
	t.Parallel()
	b := setupLive(t)
	// Overrides that do not apply change nothing.
	_, err := b.load(t, tenantA+"flavors:\n  - id: s6.huge.2\n    remove: true\n")
	if err == nil || !strings.Contains(err.Error(), "flavors[0]: s6.huge.2: remove: no such flavor") {
		t.Fatalf("Load = %v", err)
	}
	if len(b.saved(t)) != 0 || len(b.servers(t, projectA)) != 0 {
		t.Error("a refused document left something")
	}
	// Without Overrides, a document with flavors is refused.
	d := &seed.Document{Flavors: []catalog.FlavorOverride{{ID: "s6.small.1", Remove: true}}}
	if _, err := seed.Load(t.Context(), b.admin, d, seed.Options{}); err == nil || !strings.Contains(err.Error(), "flavors:") {
		t.Errorf("Load without Overrides = %v", err)
	}
	// Saved overrides that do not apply to the base are refused by Restore.
	if err := b.db.PutSetting(t.Context(), seed.OverridesSetting, `[{"id": "s6.huge.2", "remove": true}]`); err != nil {
		t.Fatal(err)
	}
	if err := b.ov.Restore(t.Context()); err == nil || !strings.Contains(err.Error(), "do not apply") {
		t.Errorf("Restore = %v", err)
	}
	if _, _, err := b.ov.Parse("{"); err == nil {
		t.Error("Parse accepted bad JSON")
	}
}
