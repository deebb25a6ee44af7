package e2e_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// TestListFlavors covers ListFlavors: the catalogue, the decoded types, the
// sale conditions in os_extra_specs, and the filters.
func TestListFlavors(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	list := func(t *testing.T, req model.ListFlavorsRequest) map[string]model.Flavor {
		t.Helper()
		resp, err := b.client.ListFlavors(&req)
		if err != nil {
			t.Fatalf("ListFlavors: %v", err)
		}
		if resp.Flavors == nil {
			t.Fatal("ListFlavors: no flavors array")
		}
		out := make(map[string]model.Flavor, len(*resp.Flavors))
		for _, f := range *resp.Flavors {
			if _, dup := out[f.Id]; dup {
				t.Fatalf("flavor %s listed twice", f.Id)
			}
			out[f.Id] = f
		}
		return out
	}

	all := list(t, model.ListFlavorsRequest{})
	t.Run("catalogue", func(t *testing.T) {
		if len(all) < 40 {
			t.Fatalf("%d flavors, want at least 40", len(all))
		}
		for id, f := range all {
			n, err := strconv.Atoi(f.Vcpus)
			if err != nil || n <= 0 || f.Ram <= 0 || f.Name != id || f.Disk != "0" || !f.OsFlavorAccessisPublic {
				t.Errorf("flavor %s: vcpus %q ram %d name %s disk %q public %v", id, f.Vcpus, f.Ram, f.Name, f.Disk, f.OsFlavorAccessisPublic)
			}
			if f.OsExtraSpecs == nil || f.OsExtraSpecs.Ecsgeneration == nil || f.OsExtraSpecs.Ecsperformancetype == nil ||
				f.OsExtraSpecs.EcsvirtualizationEnvTypes == nil {
				t.Errorf("flavor %s: os_extra_specs %+v lacks generation, performance type or virtualization", id, f.OsExtraSpecs)
			}
			if f.AttachableQuantity == nil {
				t.Errorf("flavor %s: no attachableQuantity", id)
			}
		}
		f := all["s6.large.2"]
		if f.Vcpus != "2" || f.Ram != 4096 || str(f.OsExtraSpecs.Ecsgeneration) != "s6" {
			t.Errorf("s6.large.2: %+v", f)
		}
		if kc1 := all["kc1.large.2"]; kc1.OsExtraSpecs == nil || str(kc1.OsExtraSpecs.EcsinstanceArchitecture) != "arm64" {
			t.Errorf("kc1.large.2: ecs:instance_architecture %v, want arm64", kc1.OsExtraSpecs)
		}
	})
	t.Run("sale conditions", func(t *testing.T) {
		if got := str(all["s1.medium"].OsExtraSpecs.Condoperationstatus); got != "abandon" {
			t.Errorf("s1.medium cond:operation:status %q, want abandon", got)
		}
		if got := str(all["c7.16xlarge.2"].OsExtraSpecs.Condoperationstatus); got != "obt" {
			t.Errorf("c7.16xlarge.2 cond:operation:status %q, want obt", got)
		}
		if got := str(all["s6.large.2"].OsExtraSpecs.Condoperationaz); !strings.Contains(got, azB+"(sellout)") {
			t.Errorf("s6.large.2 cond:operation:az %q, want %s(sellout)", got, azB)
		}
		if all["s6.xlarge.2"].OsExtraSpecs.Condoperationstatus != nil {
			t.Errorf("s6.xlarge.2 carries cond:operation:status, want none (normal)")
		}
	})
	t.Run("availability_zone", func(t *testing.T) {
		inB := list(t, model.ListFlavorsRequest{AvailabilityZone: ptr(azB)})
		for _, hidden := range []string{"s6.large.2", "s1.medium", "s1.large", "s1.4xlarge", "p2s.16xlarge.8", "e3.26xlarge.14"} {
			if _, ok := inB[hidden]; ok {
				t.Errorf("%s is not on sale in %s but listed", hidden, azB)
			}
		}
		for _, shown := range []string{"s6.xlarge.2", "c7.16xlarge.2", "m7.4xlarge.8", "kc1.2xlarge.4"} {
			if _, ok := inB[shown]; !ok {
				t.Errorf("%s is on sale in %s but missing", shown, azB)
			}
		}
		if len(inB) >= len(all) {
			t.Errorf("%d flavors in %s, %d in all", len(inB), azB, len(all))
		}
	})
	t.Run("flavor_id, limit and marker", func(t *testing.T) {
		one := list(t, model.ListFlavorsRequest{FlavorId: ptr("m6.large.8")})
		if len(one) != 1 || one["m6.large.8"].Ram != 16384 {
			t.Errorf("flavor_id m6.large.8: %v", one)
		}
		ids := make([]string, 0, len(all))
		for id := range all {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		page := list(t, model.ListFlavorsRequest{Limit: ptr(int32(5)), Marker: &ids[9]})
		if len(page) != 5 {
			t.Fatalf("limit 5 after %s: %d flavors", ids[9], len(page))
		}
		for _, id := range ids[10:15] {
			if _, ok := page[id]; !ok {
				t.Errorf("page after %s lacks %s", ids[9], id)
			}
		}
	})
}

// TestShowServerLimits checks the quota and that usage follows creates,
// resizes and deletes, with spot servers counted apart.
func TestShowServerLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	l := b.limits(t)
	q := ecs.DefaultQuota
	if l.MaxTotalInstances != int32(q.Instances) || l.MaxTotalCores != int32(q.Cores) || l.MaxTotalRAMSize != int32(q.RAMMB) {
		t.Errorf("quota %d/%d/%d, want %+v", l.MaxTotalInstances, l.MaxTotalCores, l.MaxTotalRAMSize, q)
	}
	if l.TotalInstancesUsed != 0 || l.TotalCoresUsed != 0 || l.TotalRAMUsed != 0 || l.TotalSecurityGroupsUsed != 1 {
		t.Errorf("fresh project uses %d instances, %d cores, %d MB, %d security groups", l.TotalInstancesUsed, l.TotalCoresUsed, l.TotalRAMUsed, l.TotalSecurityGroupsUsed)
	}

	pair := b.server("counted", "s6.large.2")
	pair.Count = ptr(int32(2))
	ids := b.mustCreate(t, pair)
	spot := b.server("spot", "s6.xlarge.2")
	spot.Extendparam = &model.PostPaidServerExtendParam{MarketType: ptr("spot")}
	b.mustCreate(t, spot)
	l = b.limits(t)
	if l.TotalInstancesUsed != 2 || l.TotalCoresUsed != 4 || l.TotalRAMUsed != 8192 {
		t.Errorf("after creating 2 × s6.large.2: %d instances, %d cores, %d MB; want 2, 4, 8192", l.TotalInstancesUsed, l.TotalCoresUsed, l.TotalRAMUsed)
	}
	if l.TotalSpotInstancesUsed == nil || *l.TotalSpotInstancesUsed != 1 || *l.TotalSpotCoresUsed != 4 || *l.TotalSpotRAMUsed != 8192 {
		t.Errorf("spot usage %v/%v/%v, want 1, 4, 8192", l.TotalSpotInstancesUsed, l.TotalSpotCoresUsed, l.TotalSpotRAMUsed)
	}

	b.mustStop(t, ids[0])
	b.mustResize(t, ids[0], "s6.2xlarge.2")
	if l = b.limits(t); l.TotalCoresUsed != 10 || l.TotalRAMUsed != 20480 {
		t.Errorf("after growing one to s6.2xlarge.2: %d cores, %d MB; want 10, 20480", l.TotalCoresUsed, l.TotalRAMUsed)
	}

	resp, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(ids[0])}})
	if err != nil {
		t.Fatalf("DeleteServers: %v", err)
	}
	b.wantJob(t, *resp.JobId, "SUCCESS")
	if l = b.limits(t); l.TotalInstancesUsed != 1 || l.TotalCoresUsed != 2 || l.TotalRAMUsed != 4096 {
		t.Errorf("after deleting it: %d instances, %d cores, %d MB; want 1, 2, 4096", l.TotalInstancesUsed, l.TotalCoresUsed, l.TotalRAMUsed)
	}
}
