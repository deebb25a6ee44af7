package e2e_test

import (
	"fmt"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/fault"
)

// batchResize sends BatchResizeServers for ids to flavor.
func (a *account) batchResize(flavor string, withStop bool, ids ...string) (*model.BatchResizeServersResponse, error) {
	opt := &model.BatchResizeServersOption{FlavorRef: flavor, Servers: serverIDs(ids...)}
	if withStop {
		opt.Mode = ptr("withStopServer")
	}
	return a.client.BatchResizeServers(&model.BatchResizeServersRequest{Body: &model.BatchResizeServersReq{Resize: opt}})
}

// subJobs returns a finished batch job's sub-jobs by server ID.
func subJobs(t *testing.T, job *model.ShowJobResponse, n int) map[string]model.SubJob {
	t.Helper()
	if job.Entities == nil || job.Entities.SubJobs == nil || len(*job.Entities.SubJobs) != n ||
		job.Entities.SubJobsTotal == nil || *job.Entities.SubJobsTotal != int32(n) {
		t.Fatalf("job %s: entities %+v, want %d sub-jobs", str(job.JobId), job.Entities, n)
	}
	out := map[string]model.SubJob{}
	for _, s := range *job.Entities.SubJobs {
		if str(s.JobType) != ecs.JobResizeServer || s.Entities == nil {
			t.Errorf("sub-job %s: type %s, entities %+v", str(s.JobId), str(s.JobType), s.Entities)
			continue
		}
		out[str(s.Entities.ServerId)] = s
	}
	return out
}

func TestBatchResize(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")

	t.Run("three servers", func(t *testing.T) {
		t.Parallel()
		ids := []string{
			b.mustCreateStopped(t, "batch-1", "s6.large.2", "cn-north-4a"),
			b.mustCreateStopped(t, "batch-2", "s6.large.2", "cn-north-4a"),
			b.mustCreateOne(t, "batch-3", "s6.large.2", "cn-north-4a"), // running: withStopServer
		}
		resp, err := b.batchResize("s6.xlarge.2", true, ids...)
		if err != nil || resp.JobId == nil || resp.OrderId != nil {
			t.Fatalf("BatchResizeServers: %v (%+v)", err, resp)
		}
		job := b.wantJob(t, *resp.JobId, "SUCCESS")
		if str(job.JobType) != ecs.JobBatchResize {
			t.Errorf("job_type %s, want %s", str(job.JobType), ecs.JobBatchResize)
		}
		subs := subJobs(t, job, 3)
		for _, id := range ids {
			if s, ok := subs[id]; !ok || s.Status.Value() != "SUCCESS" {
				t.Errorf("sub-job of %s: %+v", id, s)
			}
		}
		b.wantServer(t, ids[0], "SHUTOFF", 4, "s6.xlarge.2")
		b.wantServer(t, ids[1], "SHUTOFF", 4, "s6.xlarge.2")
		b.wantServer(t, ids[2], "ACTIVE", 1, "s6.xlarge.2")
	})

	t.Run("one member fails", func(t *testing.T) {
		t.Parallel()
		ids := []string{
			b.mustCreateStopped(t, "partial-1", "s6.large.2", "cn-north-4c"),
			b.mustCreateStopped(t, "partial-2", "s6.large.2", "cn-north-4c"),
			b.mustCreateStopped(t, "partial-3", "s6.large.2", "cn-north-4c"),
		}
		b.addFault(t, fault.Rule{Match: fault.Match{Phase: ecs.TaskResizeMigrating, ServerID: ids[1]}, Count: 1,
			Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: ecs.CodeInsufficientCap}})
		resp, err := b.batchResize("s6.xlarge.2", false, ids...)
		if err != nil {
			t.Fatalf("BatchResizeServers: %v", err)
		}
		job := b.wantJob(t, *resp.JobId, "FAIL")
		if str(job.ErrorCode) != ecs.CodeInsufficientCap {
			t.Errorf("parent error_code %s, want %s", str(job.ErrorCode), ecs.CodeInsufficientCap)
		}
		subs := subJobs(t, job, 3)
		if s := subs[ids[1]]; s.Status.Value() != "FAIL" || str(s.ErrorCode) != ecs.CodeInsufficientCap {
			t.Errorf("failed member's sub-job: %s %s", s.Status.Value(), str(s.ErrorCode))
		}
		b.wantServer(t, ids[1], "SHUTOFF", 4, "s6.large.2")
		for _, id := range []string{ids[0], ids[2]} {
			if s := subs[id]; s.Status.Value() != "SUCCESS" {
				t.Errorf("sub-job of %s: %s", id, s.Status.Value())
			}
			b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		a1 := b.mustCreateStopped(t, "ref-a1", "s6.large.2", "cn-north-4a")
		a2 := b.mustCreateStopped(t, "ref-a2", "s6.large.2", "cn-north-4a")
		medium := b.mustCreateStopped(t, "ref-medium", "s6.xlarge.2", "cn-north-4a")
		other := b.mustCreateStopped(t, "ref-b", "s6.large.2", "cn-north-4c")
		spotSrv := b.server("ref-spot", "s6.large.2")
		spotSrv.AvailabilityZone = ptr("cn-north-4a")
		spotSrv.Extendparam = &model.PostPaidServerExtendParam{MarketType: ptr("spot")}
		spot := b.mustCreate(t, spotSrv)[0]
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		}
		for _, tc := range []struct {
			name   string
			ids    []string
			status int
			code   string
		}{
			{"mixed flavors", []string{a1, medium}, 400, ecs.CodeBadRequest},
			{"mixed AZs", []string{a1, other}, 400, ecs.CodeBadRequest},
			{"spot member", []string{a1, spot}, 0, ecs.CodeChargingNotAllowed},
			{"more than 50", many, 400, ecs.CodeBadRequest},
			{"duplicate", []string{a1, a2, a1}, 400, ecs.CodeBadRequest},
			{"unknown", []string{a1, many[0]}, 404, ecs.CodeServerNotFound},
		} {
			_, err := b.batchResize("s6.xlarge.2", false, tc.ids...)
			if tc.status != 0 {
				wantSDKError(t, err, tc.status, tc.code)
			} else {
				wantCode(t, err, tc.code)
			}
		}
		for _, id := range []string{a1, a2, other} {
			b.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")
		}
	})
}

func TestFlavorSellPoliciesAndCapacity(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	resp, err := b.client.ListFlavorSellPolicies(&model.ListFlavorSellPoliciesRequest{
		FlavorId: ptr("s6.large.2"), AvailabilityZoneId: ptr("cn-north-4a"),
	})
	if err != nil || resp.Count == nil || *resp.Count != 1 || len(*resp.SellPolicies) != 1 {
		t.Fatalf("ListFlavorSellPolicies: %v (%+v)", err, resp)
	}
	p := (*resp.SellPolicies)[0]
	if p.FlavorId != "s6.large.2" || p.AvailabilityZoneId != "cn-north-4a" || p.SellStatus != "available" || p.SellMode != "spot" ||
		p.Id < 1 || p.SpotOptions == nil || *p.SpotOptions.LongestSpotDurationHours < 1 {
		t.Errorf("sell policy %+v", p)
	}
	all, err := b.client.ListFlavorSellPolicies(&model.ListFlavorSellPoliciesRequest{Limit: ptr(int32(3))})
	if err != nil || *all.Count != 3 {
		t.Errorf("ListFlavorSellPolicies(limit 3): %v (%+v)", err, all)
	}

	// Take every vCPU of cn-north-4c's x86 hosts away.
	for host, vcpus := range map[string]int{"cn-north-4c-x86-01": 96, "cn-north-4c-x86-small": 16} {
		b.addFault(t, fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: host, VCPUs: vcpus}})
	}
	capResp, err := b.client.ShowFlavorCapacity(&model.ShowFlavorCapacityRequest{FlavorId: "s6.large.2", Count: ptr("2")})
	if err != nil || capResp.Resources == nil || len(*capResp.Resources) != 3 {
		t.Fatalf("ShowFlavorCapacity: %v (%+v)", err, capResp)
	}
	for _, r := range *capResp.Resources {
		want := *r.AvailabilityZone != "cn-north-4c"
		if *r.RegionId != region || (*r.AvailabilityZone == "cn-north-4a" || *r.AvailabilityZone == "cn-north-4c") && *r.Prefer != want {
			t.Errorf("capacity of %s in %s: prefer %v", *r.AvailabilityZone, *r.RegionId, *r.Prefer)
		}
	}
	_, err = b.client.ShowFlavorCapacity(&model.ShowFlavorCapacityRequest{FlavorId: "nope.large.2"})
	wantCode(t, err, ecs.CodeFlavorNotFound)
}
