package catalog_test

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

func ptr[T any](v T) *T { return &v }

func TestNew_OverrideModifies(t *testing.T) {
	t.Parallel()
	c := mustNew(t, catalog.DefaultRegion, []catalog.FlavorOverride{
		{ID: "s6.large.2", VCPUs: ptr(4), RAMMB: ptr(6144), ExtraSpecs: map[string]string{
			"cond:operation:az":           "cn-north-4a(sellout), cn-north-4b(normal), cn-north-4c(abandon)",
			"quota:max_pps":               "", // deleted
			"info:features":               "demo",
			"hw:numa_nodes":               "2",
			"cond:compute:live_resizable": "true",
		}},
		{ID: "c6.large.2", ExtraSpecs: map[string]string{"cond:operation:status": ecs.SaleAbandon}},
		{ID: "p2s.2xlarge.8", ExtraSpecs: map[string]string{"pci_passthrough:alias": "nvidia-v100:2"}},
	})

	f := mustFlavor(t, c, "s6.large.2")
	if f.VCPUs != 4 || f.RAMMB != 6144 {
		t.Errorf("sizes = %d/%d, want 4/6144", f.VCPUs, f.RAMMB)
	}
	if _, ok := f.ExtraSpecs["quota:max_pps"]; ok {
		t.Errorf("quota:max_pps not deleted")
	}
	if f.ExtraSpecs["info:features"] != "demo" || f.ExtraSpecs["hw:numa_nodes"] != "2" {
		t.Errorf("extra specs not merged: %v", f.ExtraSpecs)
	}
	if f.ExtraSpecs["ecs:performancetype"] != "normal" {
		t.Errorf("untouched spec lost: %v", f.ExtraSpecs)
	}
	if f.SaleStatus(azA) != ecs.SaleSellout || f.SaleStatus(azB) != ecs.SaleNormal || f.SaleStatus(azC) != ecs.SaleAbandon {
		t.Errorf("per-AZ override not applied: %q", f.ExtraSpecs["cond:operation:az"])
	}

	src := mustFlavor(t, c, "s6.xlarge.2")
	for _, tt := range []struct {
		dst, az, want string
	}{
		{"s6.large.2", azA, ecs.CodeInsufficientCap},
		{"s6.large.2", azB, ""},
		{"s6.large.2", azC, ecs.CodeFlavorAbandoned},
		{"c6.large.2", azB, ecs.CodeFlavorAbandoned},
	} {
		if got := errCode(t, c.CheckResize(src, mustFlavor(t, c, tt.dst), tt.az, false)); got != tt.want {
			t.Errorf("CheckResize(s6.xlarge.2, %s, %s) code %q, want %q", tt.dst, tt.az, got, tt.want)
		}
	}

	g := mustFlavor(t, c, "p2s.2xlarge.8")
	if len(g.GPUs) != 1 || g.GPUs[0].Count != 2 {
		t.Errorf("GPUs not derived from the new alias: %+v", g.GPUs)
	}
}

func TestNew_OverrideChangesFamily(t *testing.T) {
	t.Parallel()
	c := mustNew(t, catalog.DefaultRegion, []catalog.FlavorOverride{
		{ID: "s6.large.4", Family: ptr("kc1")},
		{ID: "c6.xlarge.4", Family: ptr("m6"), ExtraSpecs: map[string]string{"resource_type": "custom"}},
	})
	f := mustFlavor(t, c, "s6.large.4")
	if f.Family != "kc1" || catalog.FlavorArch(f) != catalog.ArchArm64 ||
		f.ExtraSpecs["ecs:generation"] != "kc1" || f.ExtraSpecs["ecs:performancetype"] != "kunpeng_computing" {
		t.Errorf("family change not applied: %s %v", f.Family, f.ExtraSpecs)
	}
	if _, ok := f.ExtraSpecs["hw:cpu_threads"]; ok {
		t.Errorf("hw:cpu_threads of the old family survived")
	}
	if f.ExtraSpecs["quota:max_rate"] == "" {
		t.Errorf("per-flavor spec lost on family change")
	}
	if got := errCode(t, c.CheckResize(mustFlavor(t, c, "s6.large.2"), f, azA, false)); got != ecs.CodeBadRequest {
		t.Errorf("x86 to the now-Arm flavor: code %q, want %q", got, ecs.CodeBadRequest)
	}
	if got := errCode(t, c.CheckResize(mustFlavor(t, c, "kc1.large.2"), f, azA, false)); got != "" {
		t.Errorf("kc1 to the now-Arm flavor: code %q, want allowed", got)
	}
	g := mustFlavor(t, c, "c6.xlarge.4")
	if g.Family != "m6" || g.ExtraSpecs["resource_type"] != "custom" || g.ExtraSpecs["ecs:performancetype"] != "highmem" {
		t.Errorf("family change with specs: %s %v", g.Family, g.ExtraSpecs)
	}
}

func TestNew_OverrideRemoves(t *testing.T) {
	t.Parallel()
	base := len(catalog.Default().Flavors())
	c := mustNew(t, catalog.DefaultRegion, []catalog.FlavorOverride{{ID: "s6.large.2", Remove: true}})
	if _, ok := c.Flavor("s6.large.2"); ok {
		t.Errorf("s6.large.2 still present")
	}
	if got := len(c.Flavors()); got != base-1 {
		t.Errorf("%d flavors, want %d", got, base-1)
	}
	for _, f := range c.ResizeTargets(mustFlavor(t, c, "s6.small.1"), azA) {
		if f.ID == "s6.large.2" {
			t.Errorf("removed flavor is a resize target")
		}
	}
	// A server may still hold the removed flavor; it can leave it.
	gone := &ecs.Flavor{ID: "s6.large.2", Name: "s6.large.2", VCPUs: 2, RAMMB: 4096, Family: "s6"}
	if err := c.CheckResize(gone, mustFlavor(t, c, "s6.xlarge.2"), azA, false); err != nil {
		t.Errorf("resize away from a removed flavor: %v", err)
	}
	if got := errCode(t, c.CheckResize(mustFlavor(t, c, "s6.xlarge.2"), gone, azA, false)); got != ecs.CodeFlavorNotFound {
		t.Errorf("resize to a removed flavor: code %q, want %q", got, ecs.CodeFlavorNotFound)
	}
}

func TestNew_OverrideAdds(t *testing.T) {
	t.Parallel()
	c := mustNew(t, catalog.DefaultRegion, []catalog.FlavorOverride{
		{ID: "c6.8xlarge.2", VCPUs: ptr(32), RAMMB: ptr(65536), Family: ptr("c6"),
			ExtraSpecs: map[string]string{"cond:operation:az": "cn-north-4a(normal), cn-north-4b(obt)"}},
		{ID: "pi2.16xlarge.4", VCPUs: ptr(64), RAMMB: ptr(262144), Family: ptr("pi2"),
			ExtraSpecs: map[string]string{"pci_passthrough:alias": "nvidia-t4:8"}},
		{ID: "d6.16xlarge.4", VCPUs: ptr(64), RAMMB: ptr(262144), Family: ptr("d6"),
			ExtraSpecs: map[string]string{"quota:local_disk": "SATA:32:1800:true"}},
		{ID: "kc1.4xlarge.2", VCPUs: ptr(64), RAMMB: ptr(131072), Family: ptr("kc1")},
	})
	f := mustFlavor(t, c, "c6.8xlarge.2")
	if f.Name != f.ID || f.VCPUs != 32 || f.RAMMB != 65536 || f.Family != "c6" {
		t.Errorf("added flavor = %+v", f)
	}
	if f.ExtraSpecs["hw:cpu_policy"] != "dedicated" || f.CPUThreads() != 2 || f.ExtraSpecs["ecs:generation"] != "c6" ||
		f.ExtraSpecs["hw:numa_nodes"] == "" {
		t.Errorf("added flavor lacks its family's specs: %v", f.ExtraSpecs)
	}
	if f.SaleStatus(azB) != ecs.SaleObt || f.SaleStatus(azC) != ecs.SaleNormal {
		t.Errorf("added flavor sale status: %q", f.ExtraSpecs["cond:operation:az"])
	}
	if err := c.CheckResize(mustFlavor(t, c, "s6.large.2"), f, azA, false); err != nil {
		t.Errorf("resize to the added flavor: %v", err)
	}
	g := mustFlavor(t, c, "pi2.16xlarge.4")
	if len(g.GPUs) != 1 || g.GPUs[0].Count != 8 || g.GPUs[0].Name != "NVIDIA T4" || g.ExtraSpecs["info:gpu:name"] == "" {
		t.Errorf("added GPU flavor: GPUs %+v specs %v", g.GPUs, g.ExtraSpecs)
	}
	if err := c.CheckResize(mustFlavor(t, c, "pi2.2xlarge.4"), g, azA, false); err != nil {
		t.Errorf("resize within pi2 to the added flavor: %v", err)
	}
	if catalog.FlavorArch(mustFlavor(t, c, "kc1.4xlarge.2")) != catalog.ArchArm64 {
		t.Errorf("added Kunpeng flavor is not arm64")
	}
}

func TestNew_OverrideInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		o       []catalog.FlavorOverride
		wantErr string
	}{
		{"empty id", []catalog.FlavorOverride{{VCPUs: ptr(2)}}, "invalid flavor id"},
		{"bad id", []catalog.FlavorOverride{{ID: "S6 Large"}}, "invalid flavor id"},
		{"zero vcpus", []catalog.FlavorOverride{{ID: "s6.large.2", VCPUs: ptr(0)}}, "vcpus must be positive"},
		{"negative ram", []catalog.FlavorOverride{{ID: "s6.large.2", RAMMB: ptr(-1)}}, "ram must be a positive"},
		{"unknown family", []catalog.FlavorOverride{{ID: "s6.large.2", Family: ptr("z9")}}, `unknown family "z9"`},
		{"new without family", []catalog.FlavorOverride{{ID: "s6.huge.2", VCPUs: ptr(2), RAMMB: ptr(4096)}}, "needs vcpus, ram and family"},
		{"new without ram", []catalog.FlavorOverride{{ID: "s6.huge.2", VCPUs: ptr(2), Family: ptr("s6")}}, "needs vcpus, ram and family"},
		{"new unknown family", []catalog.FlavorOverride{{ID: "z9.large.2", VCPUs: ptr(2), RAMMB: ptr(4096), Family: ptr("z9")}}, "unknown family"},
		{"remove missing", []catalog.FlavorOverride{{ID: "s6.huge.2", Remove: true}}, "no such flavor"},
		{"remove with fields", []catalog.FlavorOverride{{ID: "s6.large.2", Remove: true, VCPUs: ptr(2)}}, "cannot be combined"},
		{"twice", []catalog.FlavorOverride{{ID: "s6.large.2", VCPUs: ptr(2)}, {ID: "s6.large.2", RAMMB: ptr(2048)}}, "overridden twice"},
		{"empty spec key", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"": "x"}}}, "empty key"},
		{"bad sale status", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"cond:operation:status": "gone"}}}, "cond:operation:status"},
		{"az of another region", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"cond:operation:az": "cn-east-3a(normal)"}}}, "zone not in this region"},
		{"az malformed", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"cond:operation:az": "cn-north-4a:normal"}}}, "want zone(status)"},
		{"az bad status", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"cond:operation:az": "cn-north-4a(closed)"}}}, "status must be one of"},
		{"az twice", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"cond:operation:az": "cn-north-4a(normal), cn-north-4a(sellout)"}}}, "listed twice"},
		{"cpu threads", []catalog.FlavorOverride{{ID: "c6.large.2", ExtraSpecs: map[string]string{"hw:cpu_threads": "3"}}}, "hw:cpu_threads"},
		{"vnic count", []catalog.FlavorOverride{{ID: "c6.large.2", ExtraSpecs: map[string]string{"instance_vnic:max_count": "9"}}}, "instance_vnic:max_count"},
		{"max rate not a number", []catalog.FlavorOverride{{ID: "c6.large.2", ExtraSpecs: map[string]string{"quota:max_rate": "fast"}}}, "quota:max_rate"},
		{"arm spec on x86 family", []catalog.FlavorOverride{{ID: "s6.large.2", ExtraSpecs: map[string]string{"ecs:instance_architecture": "arm64"}}}, "family s6 is x86_64"},
		{"xen spec on KVM family", []catalog.FlavorOverride{{ID: "c6.large.2", ExtraSpecs: map[string]string{"ecs:virtualization_env_types": "FusionCompute"}}}, "family c6 uses CloudCompute"},
		{"virtualization deleted", []catalog.FlavorOverride{{ID: "c6.large.2", ExtraSpecs: map[string]string{"ecs:virtualization_env_types": ""}}}, "ecs:virtualization_env_types"},
		{"GPU without alias", []catalog.FlavorOverride{{ID: "pi2.16xlarge.4", VCPUs: ptr(64), RAMMB: ptr(262144), Family: ptr("pi2")}}, "pci_passthrough:alias"},
		{"GPU alias of other model", []catalog.FlavorOverride{{ID: "pi2.2xlarge.4", ExtraSpecs: map[string]string{"pci_passthrough:alias": "nvidia-v100:1"}}}, "nvidia-t4"},
		{"GPU count zero", []catalog.FlavorOverride{{ID: "pi2.2xlarge.4", ExtraSpecs: map[string]string{"pci_passthrough:alias": "nvidia-t4:0"}}}, "positive integer"},
		{"local disk missing", []catalog.FlavorOverride{{ID: "d6.16xlarge.4", VCPUs: ptr(64), RAMMB: ptr(262144), Family: ptr("d6")}}, "quota:local_disk"},
		{"family change to GPU without alias", []catalog.FlavorOverride{{ID: "s6.large.2", Family: ptr("p2s")}}, "pci_passthrough:alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := catalog.New(catalog.DefaultRegion, tt.o)
			if err == nil {
				t.Fatalf("New succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFlavorOverride_Decode(t *testing.T) {
	t.Parallel()
	const jsonDoc = `[
	  {"id": "s6.large.2", "vcpus": 4, "extra_specs": {"cond:operation:status": "sellout", "quota:max_pps": ""}},
	  {"id": "s6.small.1", "remove": true},
	  {"id": "c6.8xlarge.2", "vcpus": 32, "ram": 65536, "family": "c6"}
	]`
	const yamlDoc = `
- id: s6.large.2
  vcpus: 4
  extra_specs:
    cond:operation:status: sellout
    quota:max_pps: ""
- id: s6.small.1
  remove: true
- id: c6.8xlarge.2
  vcpus: 32
  ram: 65536
  family: c6
`
	var fromJSON, fromYAML []catalog.FlavorOverride
	if err := json.Unmarshal([]byte(jsonDoc), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(yamlDoc), &fromYAML); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string][]catalog.FlavorOverride{"json": fromJSON, "yaml": fromYAML} {
		c, err := catalog.New(catalog.DefaultRegion, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := mustFlavor(t, c, "s6.large.2")
		if f.VCPUs != 4 || f.SaleStatus("") != ecs.SaleSellout {
			t.Errorf("%s: s6.large.2 = %d vCPUs, %s region-wide", name, f.VCPUs, f.SaleStatus(""))
		}
		if _, ok := f.ExtraSpecs["quota:max_pps"]; ok {
			t.Errorf("%s: empty value did not delete the key", name)
		}
		if _, ok := c.Flavor("s6.small.1"); ok {
			t.Errorf("%s: s6.small.1 not removed", name)
		}
		if g := mustFlavor(t, c, "c6.8xlarge.2"); g.RAMMB != 65536 {
			t.Errorf("%s: added flavor RAM %d", name, g.RAMMB)
		}
	}
}
