package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

// setupBatchAPI is setupAPI with the batch-resize and market services.
func setupBatchAPI(t *testing.T) *apiBundle {
	t.Helper()
	b := setupAPI(t)
	svc := b.svc
	s := NewServer(Services{Servers: svc, Jobs: svc, Tenants: svc, Flavors: svc, Networks: svc, Images: svc,
		BatchResize: svc, Market: svc}, svc.Logger)
	b.handler = s.Handler()
	return b
}

// insertStopped stores a stopped pay-per-use s6.small.1 server of the
// development project in cn-north-4a.
func (b *apiBundle) insertStopped(t *testing.T) string {
	t.Helper()
	now := ecs.RealClock{}.Now()
	s := &ecs.Server{
		ID: compute.NewUUID(), ProjectID: pid, Name: "batch", FlavorID: "s6.small.1", ImageID: "abe65701-8a26-40ec-b381-c10498ca3745",
		AvailabilityZone: "cn-north-4a", HostID: "cn-north-4a-x86-01",
		VMState: ecs.VMStopped, PowerState: ecs.PowerShutdown, ChargingMode: ecs.ChargingPostPaid,
		VPCID: compute.DerivedUUID(pid + "/vpc"), SubnetID: compute.DerivedUUID(pid + "/subnet"),
		IPAddress: "192.168.0.201", Created: now, Updated: now,
	}
	tx, err := b.db.BeginTx(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := b.db.InsertServer(t.Context(), tx, s); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func TestBatchResponsesMatchPublishedDefinitions(t *testing.T) {
	t.Parallel()
	b := setupBatchAPI(t)
	ids := []any{map[string]any{"id": b.insertStopped(t)}, map[string]any{"id": b.insertStopped(t)}}
	body := b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers/batch-resize",
		map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2", "servers": ids}})
	checkOAS(t, "ECS/BatchResizeServers.json", "/v1/{project_id}/cloudservers/batch-resize", "post", "200", body)
	var res model.BatchResizeServersResponse
	if err := json.Unmarshal(body, &res); err != nil || res.JobId == nil || res.OrderId != nil {
		t.Errorf("BatchResizeServersResponse = %s (%v)", body, err)
	}
	job := b.must(t, 200, "GET", "/v1/"+pid+"/jobs/"+*res.JobId, nil)
	checkOAS(t, "ECS/ShowJob.json", "/v1/{project_id}/jobs/{job_id}", "get", "200", job)
	var sj model.ShowJobResponse
	if err := json.Unmarshal(job, &sj); err != nil || *sj.JobType != ecs.JobBatchResize || sj.Entities == nil ||
		sj.Entities.SubJobsTotal == nil || *sj.Entities.SubJobsTotal != 2 {
		t.Errorf("ShowJob = %s (%v)", job, err)
	}

	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/flavor-sell-policies?flavor_id=s6&limit=5", nil)
	checkOAS(t, "ECS/ListFlavorSellPolicies.json", "/v1/{project_id}/cloudservers/flavor-sell-policies", "get", "200", body)
	var sp model.ListFlavorSellPoliciesResponse
	if err := json.Unmarshal(body, &sp); err != nil || sp.Count == nil || *sp.Count != 5 || len(*sp.SellPolicies) != 5 {
		t.Fatalf("ListFlavorSellPolicies = %s (%v)", body, err)
	}
	for _, p := range *sp.SellPolicies {
		if !strings.HasPrefix(p.FlavorId, "s6") || p.SellMode != "spot" || p.SpotOptions == nil || *p.SpotOptions.InterruptionPolicy != "immediate" {
			t.Errorf("sell policy %+v", p)
		}
	}

	// No published definition of ShowFlavorCapacity: decode with the SDK.
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/flavors/s6.large.2/resources?count=2", nil)
	var fc model.ShowFlavorCapacityResponse
	if err := json.Unmarshal(body, &fc); err != nil || fc.Resources == nil || len(*fc.Resources) != 3 {
		t.Fatalf("ShowFlavorCapacity = %s (%v)", body, err)
	}
	for _, r := range *fc.Resources {
		if *r.RegionId != "cn-north-4" || (*r.AvailabilityZone == "cn-north-4a" && !*r.Prefer) {
			t.Errorf("capacity %s: region %s, prefer %v", *r.AvailabilityZone, *r.RegionId, *r.Prefer)
		}
	}
}

func TestBatchRoutesRefuse(t *testing.T) {
	t.Parallel()
	b := setupBatchAPI(t)
	id := b.insertStopped(t)
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprintf("id-%d", i)}
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"no resize", "POST", "/cloudservers/batch-resize", map[string]any{}, 400, "Ecs.0005", "resize"},
		{"no flavorRef", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"servers": []any{map[string]any{"id": id}}}}, 400, "Ecs.0005", "resize.flavorRef"},
		{"no servers", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2", "servers": []any{}}}, 400, "Ecs.0005", "resize.servers"},
		{"51 servers", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2", "servers": many}}, 400, "Ecs.0005", "at most 50"},
		{"duplicate", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2",
			"servers": []any{map[string]any{"id": id}, map[string]any{"id": id}}}}, 400, "Ecs.0005", "duplicate"},
		{"bad mode", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2",
			"servers": []any{map[string]any{"id": id}}, "mode": "now"}}, 400, "Ecs.0005", "resize.mode"},
		{"promotion without id", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2",
			"servers": []any{map[string]any{"id": id}}, "promotion": map[string]any{"type": "x"}}}, 400, "Ecs.0005", "resize.promotion.id"},
		{"unknown server", "POST", "/cloudservers/batch-resize", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2",
			"servers": []any{map[string]any{"id": id}, map[string]any{"id": "6f1e2d3c-0000-4000-8000-000000000000"}}}}, 404, "Ecs.0114", "6f1e2d3c-0000-4000-8000-000000000000"},
		{"bad sell_status", "GET", "/cloudservers/flavor-sell-policies?sell_status=gone", nil, 400, "Ecs.0005", "sell_status"},
		{"bad limit", "GET", "/cloudservers/flavor-sell-policies?limit=0", nil, 400, "Ecs.0005", "limit"},
		{"bad count", "GET", "/cloudservers/flavors/s6.large.2/resources?count=x", nil, 400, "Ecs.0005", "count"},
		{"unknown flavor", "GET", "/cloudservers/flavors/nope.large.2/resources", nil, 400, "Ecs.0029", "nope.large.2"},
	} {
		w := b.do(t, tc.method, "/v1/"+pid+tc.path, tc.body)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.code) || !strings.Contains(w.Body.String(), tc.msg) {
			t.Errorf("%s: %d %s; want %d %s mentioning %q", tc.name, w.Code, w.Body, tc.status, tc.code, tc.msg)
		}
	}
}
