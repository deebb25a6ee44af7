package e2e_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/node"
)

// TestShowJob checks the shapes ShowJob returns for batch and single-server
// jobs, on the wire and decoded, and that unknown and foreign jobs are 404.
func TestShowJob(t *testing.T) {
	t.Parallel()
	other := testTenant(4, ecs.DefaultQuota)
	b := setupWith(t, options{tenants: []node.TenantQuota{other}})
	stranger := b.login(t, other.Tenant)

	start := time.Now().UTC().Add(-time.Second)
	create, err := b.create(b.server("jobbed", "s6.large.2"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := (*create.ServerIds)[0]
	job := b.wantJob(t, *create.JobId, "SUCCESS")

	t.Run("batch job", func(t *testing.T) {
		if str(job.JobId) != *create.JobId || str(job.JobType) != "createServer" {
			t.Errorf("job_id %s job_type %s", str(job.JobId), str(job.JobType))
		}
		begin, err := time.Parse(layoutJob, str(job.BeginTime))
		if err != nil || begin.Before(start) || begin.After(time.Now().Add(time.Second)) {
			t.Errorf("begin_time %s: want a recent %s time (%v)", str(job.BeginTime), layoutJob, err)
		}
		end, err := time.Parse(layoutJob, str(job.EndTime))
		if err != nil || end.Before(begin) {
			t.Errorf("end_time %s: want a %s time after begin_time (%v)", str(job.EndTime), layoutJob, err)
		}
		if job.ErrorCode != nil || job.FailReason != nil || job.Code != nil || job.Message != nil {
			t.Errorf("error_code %s fail_reason %s code %s message %s, want none", str(job.ErrorCode), str(job.FailReason), str(job.Code), str(job.Message))
		}
		sub := wantSubJobs(t, job, "createSingleServer", id)[0]
		if sub.Status.Value() != "SUCCESS" || sub.ErrorCode != nil || sub.FailReason != nil {
			t.Errorf("sub-job %s: status %s error_code %s fail_reason %s", str(sub.JobId), sub.Status.Value(), str(sub.ErrorCode), str(sub.FailReason))
		}
		if _, err := time.Parse(layoutJob, str(sub.EndTime)); err != nil {
			t.Errorf("sub-job end_time %s: %v", str(sub.EndTime), err)
		}
	})

	t.Run("on the wire", func(t *testing.T) {
		r := b.raw(t, http.MethodGet, "/v1/"+b.tenant.ProjectID+"/jobs/"+*create.JobId, nil)
		r.wantRequestID(t)
		if r.status != http.StatusOK {
			t.Fatalf("raw ShowJob: HTTP %d %s", r.status, r.body)
		}
		var wire map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &wire); err != nil {
			t.Fatalf("raw ShowJob: %v", err)
		}
		for _, key := range []string{"status", "entities", "job_id", "job_type", "begin_time", "end_time", "error_code", "fail_reason"} {
			if _, ok := wire[key]; !ok {
				t.Errorf("ShowJob body lacks %s: %s", key, r.body)
			}
		}
		if string(wire["error_code"]) != "null" || string(wire["fail_reason"]) != "null" {
			t.Errorf("error_code %s fail_reason %s, want null", wire["error_code"], wire["fail_reason"])
		}
		var entities struct {
			Total *int              `json:"sub_jobs_total"`
			Subs  []json.RawMessage `json:"sub_jobs"`
		}
		if err := json.Unmarshal(wire["entities"], &entities); err != nil || entities.Total == nil || *entities.Total != 1 || len(entities.Subs) != 1 {
			t.Errorf("entities %s, want sub_jobs_total 1 and one sub-job (%v)", wire["entities"], err)
		}
		var decoded model.ShowJobResponse
		decodeSDK(t, r.body, &decoded)
	})

	t.Run("single-server job", func(t *testing.T) {
		b.mustStop(t, id)
		job := b.mustResize(t, id, "s6.xlarge.2")
		wantFinishedJob(t, job, "resizeServer", id)
		if job.Entities.SubJobs != nil || job.Entities.SubJobsTotal != nil {
			t.Errorf("resize job entities %+v, want only server_id", job.Entities)
		}
	})

	// An unknown job is 404 Ecs.0005 "Job[<id>] could not be found."
	// (docs/compatibility.md: Huawei documents no code for it).
	notFound := func(t *testing.T, err error, jobID string) {
		t.Helper()
		se := wantSDKError(t, err, http.StatusNotFound, ecs.CodeBadRequest)
		if want := "Job[" + jobID + "] could not be found."; se.ErrorMessage != want {
			t.Errorf("message %q, want %q", se.ErrorMessage, want)
		}
	}
	t.Run("unknown job", func(t *testing.T) {
		const unknown = "ffffffffffffffffffffffffffffffff"
		_, err := b.client.ShowJob(&model.ShowJobRequest{JobId: unknown})
		notFound(t, err, unknown)
	})
	t.Run("another tenant's job", func(t *testing.T) {
		_, err := stranger.client.ShowJob(&model.ShowJobRequest{JobId: *create.JobId})
		notFound(t, err, *create.JobId)
		// Its sub-jobs are hidden too.
		sub := *(*job.Entities.SubJobs)[0].JobId
		_, err = stranger.client.ShowJob(&model.ShowJobRequest{JobId: sub})
		notFound(t, err, sub)
	})
	t.Run("a sub-job by its own ID", func(t *testing.T) {
		sub := *(*job.Entities.SubJobs)[0].JobId
		resp, err := b.client.ShowJob(&model.ShowJobRequest{JobId: sub})
		if err != nil {
			t.Fatalf("ShowJob of sub-job %s: %v", sub, err)
		}
		if str(resp.JobType) != "createSingleServer" || resp.Entities == nil || str(resp.Entities.ServerId) != id || resp.Status.Value() != "SUCCESS" {
			t.Errorf("sub-job %s: type %s entities %v status %s", sub, str(resp.JobType), resp.Entities, resp.Status.Value())
		}
	})
}

// TestJobFailure scripts driver faults (the sim driver's InjectFault) and
// checks the failed jobs and the rollbacks: a create fails with Ecs.0204 and
// leaves a server in ERROR; a resize fails with Ecs.0207 and leaves the old
// flavor; a batch stop fails only the sub-job whose server failed.
func TestJobFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	drv, ok := b.node.Driver.(*sim.Driver)
	if !ok {
		t.Fatalf("driver %T, want *sim.Driver", b.node.Driver)
	}

	t.Run("create", func(t *testing.T) {
		drv.InjectFault(sim.Fault{Op: sim.OpCreate})
		resp, err := b.create(b.server("stillborn", "s6.large.2"))
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		id := (*resp.ServerIds)[0]
		job := b.wantJob(t, *resp.JobId, "FAIL")
		if str(job.ErrorCode) != "Ecs.0204" || job.FailReason == nil {
			t.Errorf("error_code %s fail_reason %s, want Ecs.0204 and a reason", str(job.ErrorCode), str(job.FailReason))
		}
		sub := wantSubJobs(t, job, "createSingleServer", id)[0]
		if sub.Status.Value() != "FAIL" || str(sub.ErrorCode) != "Ecs.0204" || sub.Entities.ErrorcodeMessage == nil {
			t.Errorf("sub-job: status %s error_code %s errorcode_message %s", sub.Status.Value(), str(sub.ErrorCode), str(sub.Entities.ErrorcodeMessage))
		}
		s := b.show(t, id)
		if s.Status != "ERROR" || s.OSEXTSTSvmState != "error" || s.OSEXTSTSpowerState != 0 || s.Fault == nil {
			t.Errorf("failed server: status %s vm_state %s power %d fault %v, want ERROR with a fault", s.Status, s.OSEXTSTSvmState, s.OSEXTSTSpowerState, s.Fault)
		}
		list, err := b.client.ListCloudServers(&model.ListCloudServersRequest{Id: &id})
		if err != nil || len(*list.Servers) != 1 {
			t.Fatalf("ListCloudServers: %v", err)
		}
		if f := (*list.Servers)[0].Fault; f == nil || f.Code == nil || *f.Code != 500 || str(f.Message) == "" {
			t.Errorf("v1.1 fault %+v, want code 500 and a message", f)
		}
		// A server in ERROR can be neither started nor resized, only deleted.
		_, err = b.start(id)
		wantCode(t, err, ecs.CodeStateConflict)
		_, err = b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withStopServer")}, false)
		wantCode(t, err, ecs.CodeStateConflict)
		del, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(id)}})
		if err != nil {
			t.Fatalf("delete: %v", err)
		}
		b.wantJob(t, *del.JobId, "SUCCESS")
	})

	t.Run("resize", func(t *testing.T) {
		id := b.mustCreateStopped(t, "fails", "s6.large.2", "")
		drv.InjectFault(sim.Fault{Op: sim.OpResize, InstanceID: id})
		resp, err := b.resizeTo(id, "s6.xlarge.2")
		if err != nil {
			t.Fatalf("resize: %v", err)
		}
		job := b.wantJob(t, *resp.JobId, "FAIL")
		if str(job.ErrorCode) != ecs.CodeResizeFailed || !strings.Contains(str(job.FailReason), "resize") {
			t.Errorf("error_code %s fail_reason %s, want Ecs.0207 and a reason", str(job.ErrorCode), str(job.FailReason))
		}
		if _, err := time.Parse(layoutJob, str(job.EndTime)); err != nil {
			t.Errorf("end_time %s of a failed job: %v", str(job.EndTime), err)
		}
		b.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")
		if l := b.limits(t); l.TotalCoresUsed != 2 {
			t.Errorf("after the rollback %d cores are used, want 2", l.TotalCoresUsed)
		}
		// The server can be resized again.
		b.mustResize(t, id, "s6.xlarge.2")
	})

	t.Run("batch stop", func(t *testing.T) {
		pair := b.server("half", "s6.large.2")
		pair.Count = ptr(int32(2))
		ids := b.mustCreate(t, pair)
		drv.InjectFault(sim.Fault{Op: sim.OpStop, InstanceID: ids[1]})
		resp, err := b.stop(false, ids...)
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
		job := b.wantJob(t, *resp.JobId, "FAIL")
		if job.ErrorCode == nil || job.FailReason == nil {
			t.Errorf("failed batch: error_code %s fail_reason %s", str(job.ErrorCode), str(job.FailReason))
		}
		for _, s := range wantSubJobs(t, job, "stopServer", ids...) {
			switch *s.Entities.ServerId {
			case ids[0]:
				if s.Status.Value() != "SUCCESS" || s.ErrorCode != nil {
					t.Errorf("healthy sub-job: %s %s", s.Status.Value(), str(s.ErrorCode))
				}
			case ids[1]:
				if s.Status.Value() != "FAIL" || s.ErrorCode == nil || s.FailReason == nil || s.Entities.ErrorcodeMessage == nil {
					t.Errorf("failed sub-job: status %s error_code %s fail_reason %s errorcode_message %s",
						s.Status.Value(), str(s.ErrorCode), str(s.FailReason), str(s.Entities.ErrorcodeMessage))
				}
			}
		}
		b.wantServer(t, ids[0], "SHUTOFF", 4, "s6.large.2")
		b.wantServer(t, ids[1], "ACTIVE", 1, "s6.large.2")
	})
}
