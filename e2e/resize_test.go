package e2e_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
)

// resizePhases are the phases of a resize of a stopped server.
var resizePhases = []phase{
	{"RESIZE", ecs.TaskResizePrep},
	{"RESIZE", ecs.TaskResizeMigrating},
	{"RESIZE", ecs.TaskResizeMigrated},
	{"RESIZE", ecs.TaskResizeFinish},
}

// wantFinishedJob checks the fields of a successful single-server job.
func wantFinishedJob(t *testing.T, job *model.ShowJobResponse, typ, serverID string) {
	t.Helper()
	if str(job.JobType) != typ || job.Entities == nil || str(job.Entities.ServerId) != serverID {
		t.Errorf("job_type %s entities %v, want %s for server %s", str(job.JobType), job.Entities, typ, serverID)
	}
	begin, err1 := time.Parse(layoutJob, str(job.BeginTime))
	end, err2 := time.Parse(layoutJob, str(job.EndTime))
	if err1 != nil || err2 != nil || end.Before(begin) {
		t.Errorf("begin_time %s end_time %s: want %s times, end after begin", str(job.BeginTime), str(job.EndTime), layoutJob)
	}
	if job.ErrorCode != nil || job.FailReason != nil {
		t.Errorf("error_code %s fail_reason %s on a successful job, want null", str(job.ErrorCode), str(job.FailReason))
	}
}

// TestResizeStoppedServer resizes a stopped server and holds it in every
// phase: the job is INIT or RUNNING when accepted, RUNNING throughout, then
// SUCCESS; the server is RESIZE through resize_prep, resize_migrating,
// resize_migrated and resize_finish, keeps its old flavor until the end, is
// counted at its larger shape meanwhile, and ends SHUTOFF with the new
// flavor and metering.resourcespeccode.
func TestResizeStoppedServer(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")
	id := b.mustCreateStopped(t, "grow", "s6.large.2", "")

	b.gate.Hold()
	resp, err := b.resizeTo(id, "s6.xlarge.2")
	if err != nil {
		t.Fatalf("ResizePostPaidServer: %v", err)
	}
	if resp.HttpStatusCode != http.StatusOK || resp.JobId == nil || len(*resp.JobId) != 32 {
		t.Fatalf("resize: HTTP %d job_id %v", resp.HttpStatusCode, resp.JobId)
	}
	job := b.stepThrough(t, b.gate, id, *resp.JobId, resizePhases, func(p phase, s *model.ServerDetail) {
		if s.Flavor.Id != "s6.large.2" || s.OSEXTSTSvmState != "stopped" || s.OSEXTSTSpowerState != 4 {
			t.Errorf("during %s: flavor %s vm_state %s power %d, want the old flavor, stopped", p.task, s.Flavor.Id, s.OSEXTSTSvmState, s.OSEXTSTSpowerState)
		}
		if p.task == ecs.TaskResizePrep {
			list, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{Status: ptr("RESIZE")})
			if err != nil || *list.Count != 1 || (*list.Servers)[0].Id != id {
				t.Errorf("ListServersDetails status=RESIZE: %v %v", err, list)
			}
			if l := b.limits(t); l.TotalCoresUsed != 4 || l.TotalRAMUsed != 8192 {
				t.Errorf("during the resize %d cores and %d MB are counted, want the target's 4 and 8192", l.TotalCoresUsed, l.TotalRAMUsed)
			}
		}
	})
	if got := job.Status.Value(); got != "SUCCESS" {
		t.Fatalf("job ended %s (%s %s)", got, str(job.ErrorCode), str(job.FailReason))
	}
	wantFinishedJob(t, job, ecs.JobResizeServer, id)

	s := b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
	if s.Flavor.Vcpus != "4" || s.Flavor.Ram != "8192" {
		t.Errorf("flavor %+v, want 4 vCPUs and 8192 MB", s.Flavor)
	}
	if l := b.limits(t); l.TotalCoresUsed != 4 || l.TotalRAMUsed != 8192 || l.TotalInstancesUsed != 1 {
		t.Errorf("usage after resize: %d instances, %d cores, %d MB; want 1, 4, 8192", l.TotalInstancesUsed, l.TotalCoresUsed, l.TotalRAMUsed)
	}
	list, err := b.client.ListCloudServers(&model.ListCloudServersRequest{Id: &id})
	if err != nil || len(*list.Servers) != 1 || *(*list.Servers)[0].Flavor.Vcpus != 4 || *(*list.Servers)[0].Flavor.Ram != 8192 {
		t.Errorf("v1.1 view after resize: %v %v", err, list)
	}
}

// TestResizeWithStopServer resizes a running server with
// mode=withStopServer: it is stopped (powering-off, still ACTIVE), resized,
// started again (powering-on, still SHUTOFF) and ends ACTIVE.
func TestResizeWithStopServer(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")
	id := b.mustCreateOne(t, "live", "s6.large.2", "")

	b.gate.Hold()
	resp, err := b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "c7.xlarge.2", Mode: ptr("withStopServer")}, false)
	if err != nil {
		t.Fatalf("ResizePostPaidServer withStopServer: %v", err)
	}
	phases := append(append([]phase{{"ACTIVE", ecs.TaskPoweringOff}}, resizePhases...), phase{"SHUTOFF", ecs.TaskPoweringOn})
	job := b.stepThrough(t, b.gate, id, *resp.JobId, phases, func(p phase, s *model.ServerDetail) {
		wantPower := int32(4)
		if p.task == ecs.TaskPoweringOff {
			wantPower = 1
		}
		if s.OSEXTSTSpowerState != wantPower {
			t.Errorf("during %s: power state %d, want %d", p.task, s.OSEXTSTSpowerState, wantPower)
		}
	})
	wantFinishedJob(t, job, ecs.JobResizeServer, id)
	b.wantServer(t, id, "ACTIVE", 1, "c7.xlarge.2")
}

// TestResizeBusy checks that a server with an operation in progress refuses
// every other mutating request with Ecs.0603 and HTTP 409 (ecsd's choice;
// the published status of Ecs.0603 is 501), while reads go on.
func TestResizeBusy(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")
	stopped := b.mustCreateStopped(t, "busy", "s6.large.2", "")
	running := b.mustCreateOne(t, "stopping", "s6.large.2", "")

	b.gate.Hold()
	resp, err := b.resizeTo(stopped, "s6.xlarge.2")
	if err != nil {
		t.Fatalf("resize: %v", err)
	}
	stop, err := b.stop(false, running)
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	b.waitState(t, stopped, "RESIZE", ecs.TaskResizePrep)
	b.waitState(t, running, "ACTIVE", ecs.TaskPoweringOff)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"second resize", func() error { _, err := b.resizeTo(stopped, "s6.2xlarge.2"); return err }},
		{"dry-run resize", func() error {
			_, err := b.resize(stopped, model.ResizePostPaidServerOption{FlavorRef: "s6.2xlarge.2"}, true)
			return err
		}},
		{"start", func() error { _, err := b.start(stopped); return err }},
		{"stop", func() error { _, err := b.stop(true, stopped); return err }},
		{"delete", func() error {
			_, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(stopped)}})
			return err
		}},
		{"resize while powering-off", func() error {
			_, err := b.resize(running, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withStopServer")}, false)
			return err
		}},
		{"reboot while powering-off", func() error { _, err := b.reboot(false, running); return err }},
		{"stop while powering-off", func() error { _, err := b.stop(false, running); return err }},
		{"batch with one busy server", func() error { _, err := b.stop(false, stopped, running); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := wantSDKError(t, tc.call(), http.StatusConflict, ecs.CodeBusy)
			if !strings.Contains(se.ErrorMessage, "busy") {
				t.Errorf("message %q", se.ErrorMessage)
			}
		})
	}
	// Reading is not blocked.
	if _, err := b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &stopped}); err != nil {
		t.Errorf("ListResizeFlavors while busy: %v", err)
	}
	b.gate.Open()
	b.wantJob(t, *resp.JobId, "SUCCESS")
	b.wantJob(t, *stop.JobId, "SUCCESS")
	b.wantServer(t, stopped, "SHUTOFF", 4, "s6.xlarge.2")
	b.wantServer(t, running, "SHUTOFF", 4, "s6.large.2")
}

// TestResizeMigrates grows a server beyond what its host has left: the
// resize moves it to another host of its zone (docs/compatibility.md,
// "Resize"), visible as OS-EXT-SRV-ATTR:host.
func TestResizeMigrates(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	// Zone c: x86-01 (96 vCPUs) and x86-small (16 vCPUs).
	id := b.mustCreateStopped(t, "mover", "c7.4xlarge.2", azC)
	before := b.show(t, id).OSEXTSRVATTRhost
	if !strings.HasPrefix(before, azC+"-") {
		t.Fatalf("host %q is not in %s", before, azC)
	}
	b.mustResize(t, id, "c7.16xlarge.2") // 64 vCPUs: only x86-01 can hold it
	s := b.wantServer(t, id, "SHUTOFF", 4, "c7.16xlarge.2")
	if want := azC + "-x86-01"; s.OSEXTSRVATTRhost != want {
		t.Fatalf("after growing to 64 vCPUs the server is on %q (was %q), want %s", s.OSEXTSRVATTRhost, before, want)
	}
	if s.OSEXTSRVATTRhypervisorHostname != s.OSEXTSRVATTRhost || s.HostId == "" {
		t.Errorf("hypervisor_hostname %q hostId %q", s.OSEXTSRVATTRhypervisorHostname, s.HostId)
	}
	// The old host's room is free again: the zone's 112 vCPUs hold the 64
	// and three more 16-vCPU servers, not four.
	srv := b.server("after", "c7.4xlarge.2")
	srv.AvailabilityZone, srv.Count = ptr(azC), ptr(int32(4))
	_, err := b.create(srv)
	wantCode(t, err, ecs.CodeInsufficientCap)
	srv.Count = ptr(int32(3))
	b.mustCreate(t, srv)
}

// TestResizeRules checks every rule of the resize validation with its code,
// and the order in which they apply.
func TestResizeRules(t *testing.T) {
	t.Parallel()
	small := testTenant(3, ecs.Quota{Instances: 5, Cores: 4, RAMMB: 8192})
	quiet := testTenant(8, ecs.DefaultQuota) // only the dry-run subtest uses it, so its usage is that subtest's
	b := setupWith(t, options{tenants: []node.TenantQuota{small, quiet}})
	other := b.login(t, small.Tenant)
	dry := b.login(t, quiet.Tenant)

	t.Run("running without mode", func(t *testing.T) {
		id := b.mustCreateOne(t, "running", "s6.large.2", "")
		_, err := b.resizeTo(id, "s6.xlarge.2")
		wantCode(t, err, ecs.CodeStateConflict)
		// Status is checked before the flavor.
		_, err = b.resizeTo(id, "no.such.flavor")
		wantCode(t, err, ecs.CodeStateConflict)
		// An invalid mode is a malformed request.
		_, err = b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withoutStop")}, false)
		wantCode(t, err, ecs.CodeBadRequest)
		b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
	})

	t.Run("dry run", func(t *testing.T) {
		id := dry.mustCreateStopped(t, "dry", "s6.large.2", "")
		running := dry.mustCreateOne(t, "dry-running", "s6.large.2", "")
		before := dry.limits(t)
		for name, tc := range map[string]struct {
			id  string
			opt model.ResizePostPaidServerOption
		}{
			"stopped":                {id, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2"}},
			"running withStopServer": {running, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withStopServer")}},
		} {
			resp, err := dry.resize(tc.id, tc.opt, true)
			if err != nil {
				t.Fatalf("dry run %s: %v", name, err)
			}
			if resp.HttpStatusCode != http.StatusAccepted || resp.JobId != nil {
				t.Fatalf("dry run %s: HTTP %d job_id %v, want 202 and no job", name, resp.HttpStatusCode, resp.JobId)
			}
		}
		dry.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")
		dry.wantServer(t, running, "ACTIVE", 1, "s6.large.2")
		if after := dry.limits(t); after.TotalCoresUsed != before.TotalCoresUsed || after.TotalRAMUsed != before.TotalRAMUsed {
			t.Errorf("a dry run changed the usage: cores %d → %d, ram %d → %d", before.TotalCoresUsed, after.TotalCoresUsed, before.TotalRAMUsed, after.TotalRAMUsed)
		}
		// A failing check fails the dry run with its own code.
		_, err := dry.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s6.large.2"}, true)
		wantCode(t, err, ecs.CodeSameFlavor)
		_, err = dry.resize(running, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2"}, true)
		wantCode(t, err, ecs.CodeStateConflict)
		_, err = dry.resize(id, model.ResizePostPaidServerOption{FlavorRef: "kc1.large.2"}, true)
		wantCode(t, err, ecs.CodeBadRequest)
		// The dry run left nothing behind: the real resize goes through.
		dry.mustResize(t, id, "s6.xlarge.2")
		dry.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
	})

	t.Run("target flavor", func(t *testing.T) {
		id := b.mustCreateStopped(t, "targets", "s6.large.2", "")
		for _, tc := range []struct {
			name, flavor, code string
		}{
			{"unknown flavor", "s6.huge.9", ecs.CodeFlavorNotFound},
			{"same flavor", "s6.large.2", ecs.CodeSameFlavor},
			{"x86 to Arm", "kc1.large.2", ecs.CodeBadRequest},
			{"x86 to Arm sold out in the zone", "kc1.2xlarge.4", ecs.CodeBadRequest},
			{"KVM to Xen", "s1.xlarge", ecs.CodeBadRequest},
			{"general to GPU", "p2s.2xlarge.8", ecs.CodeBadRequest},
			{"general to local disk", "d6.xlarge.4", ecs.CodeBadRequest},
			{"general to large memory", "e3.7xlarge.12", ecs.CodeBadRequest},
		} {
			_, err := b.resizeTo(id, tc.flavor)
			t.Run(tc.name, func(t *testing.T) {
				se := wantCode(t, err, tc.code)
				if tc.code == ecs.CodeBadRequest && !strings.Contains(se.ErrorMessage, "cannot be changed to "+tc.flavor) {
					t.Errorf("message %q does not explain the refusal", se.ErrorMessage)
				}
			})
		}
		b.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")
	})

	t.Run("sold out in the server's zone", func(t *testing.T) {
		// s6.large.2 is sold out in zone b only.
		id := b.mustCreateStopped(t, "in-b", "s6.xlarge.2", azB)
		_, err := b.resizeTo(id, "s6.large.2")
		se := wantCode(t, err, ecs.CodeInsufficientCap)
		if !strings.Contains(se.ErrorMessage, azB) {
			t.Errorf("message %q does not name the zone", se.ErrorMessage)
		}
	})

	t.Run("Xen flavors", func(t *testing.T) {
		srv := b.server("xen", "s1.xlarge")
		srv.ImageRef, srv.AvailabilityZone = imageUbuntu20, ptr(azA)
		id := b.mustCreate(t, srv)[0]
		b.mustStop(t, id)
		// s1.large is abandoned everywhere; s1.4xlarge is sold out in b
		// only, so it is a valid target here.
		_, err := b.resizeTo(id, "s1.large")
		se := wantCode(t, err, ecs.CodeFlavorAbandoned)
		if !strings.Contains(se.ErrorMessage, "abandoned") {
			t.Errorf("message %q", se.ErrorMessage)
		}
		_, err = b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s1.4xlarge"}, true)
		if err != nil {
			t.Errorf("dry run s1.xlarge → s1.4xlarge in %s: %v", azA, err)
		}
		// Xen → KVM: a guest with the KVM drivers (Ubuntu 20.04) may move.
		b.mustResize(t, id, "s6.xlarge.2")
		b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")

		// A guest without them (CentOS 6.10) may not: Ecs.0811. It may
		// still change within Xen.
		old := b.server("xen-only", "s1.xlarge")
		old.ImageRef, old.AvailabilityZone = imageCentOS6, ptr(azA)
		oldID := b.mustCreate(t, old)[0]
		b.mustStop(t, oldID)
		_, err = b.resizeTo(oldID, "s6.xlarge.2")
		wantCode(t, err, ecs.CodeXenToKVM)
		_, err = b.resizeTo(unknownID, "s6.xlarge.2")
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		b.mustResize(t, oldID, "s1.2xlarge")
		b.wantServer(t, oldID, "SHUTOFF", 4, "s1.2xlarge")
	})

	t.Run("image does not fit the target", func(t *testing.T) {
		// Windows needs 2048 MB; s6.small.1 has 1024.
		win := b.server("win", "s6.large.2")
		win.ImageRef = imageWindows
		id := b.mustCreate(t, win)[0]
		b.mustStop(t, id)
		_, err := b.resizeTo(id, "s6.small.1")
		wantCode(t, err, ecs.CodeImageInvalid)
		resp, err := b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &id})
		if err != nil {
			t.Fatalf("ListResizeFlavors: %v", err)
		}
		for _, f := range *resp.Flavors {
			if f.Ram < 2048 {
				t.Errorf("a Windows server is offered %s with %d MB", f.Id, f.Ram)
			}
		}
	})

	t.Run("quota", func(t *testing.T) {
		// The small tenant may use 4 vCPUs and 8 GiB; this server uses 2
		// and 4.
		id := other.mustCreateStopped(t, "quota", "s6.large.2", "")
		_, err := other.resizeTo(id, "s6.2xlarge.2") // 8 vCPUs
		wantCode(t, err, ecs.CodeQuota)
		_, err = other.resizeTo(id, "m6.large.8") // 16 GiB
		wantCode(t, err, ecs.CodeQuota)
		other.wantServer(t, id, "SHUTOFF", 4, "s6.large.2")
		other.mustResize(t, id, "s6.xlarge.2") // exactly the quota
	})

	t.Run("capacity", func(t *testing.T) {
		// Zone c has one full-size x86 host (96 vCPUs) and a small one (16).
		// A 64-vCPU server fills most of the big host; a 16-vCPU server
		// lands beside it; growing that one to 64 vCPUs fits nowhere.
		b.mustCreateOne(t, "hog", "c7.16xlarge.2", azC)
		id := b.mustCreateStopped(t, "grower", "c7.4xlarge.2", azC)
		_, err := b.resizeTo(id, "c7.16xlarge.2")
		se := wantCode(t, err, ecs.CodeInsufficientCap)
		if !strings.Contains(se.ErrorMessage, "apacity") {
			t.Errorf("message %q does not mention capacity", se.ErrorMessage)
		}
		b.wantServer(t, id, "SHUTOFF", 4, "c7.4xlarge.2")
	})

	t.Run("spot server", func(t *testing.T) {
		srv := b.server("spot", "s6.large.2")
		srv.Extendparam = &model.PostPaidServerExtendParam{MarketType: ptr("spot")}
		id := b.mustCreate(t, srv)[0]
		// Billing is checked before the status: running, no mode.
		_, err := b.resizeTo(id, "no.such.flavor")
		wantCode(t, err, ecs.CodeChargingNotAllowed)
		b.mustStop(t, id)
		_, err = b.resizeTo(id, "s6.xlarge.2")
		wantCode(t, err, ecs.CodeChargingNotAllowed)
	})

	t.Run("yearly/monthly server", func(t *testing.T) {
		id, _ := b.mustCreatePrePaid(t, "prepaid", "s6.large.2")
		b.mustStop(t, id)
		_, err := b.resizeTo(id, "s6.xlarge.2")
		se := wantCode(t, err, ecs.CodeChargingNotAllowed)
		if !strings.Contains(se.ErrorMessage, "v1.1") {
			t.Errorf("message %q does not point to v1.1", se.ErrorMessage)
		}
		// v1.1 resizes it through an order (billing_test.go has the rest).
		resp, err := b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "s6.xlarge.2", Extendparam: &model.ResizeServerExtendParam{IsAutoPay: ptr("true")}},
		}})
		if err != nil || resp.OrderId == nil || resp.JobId == nil {
			t.Fatalf("v1.1 resize of a yearly/monthly server: %v, %v", err, resp)
		}
		b.wantJob(t, *resp.JobId, "SUCCESS")
		b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
	})

	t.Run("cpu_options", func(t *testing.T) {
		id := b.mustCreateStopped(t, "threads", "s6.large.2", "")
		off := &model.CpuOptions{HwcpuThreads: ptr(model.GetCpuOptionsHwcpuThreadsEnum().E_1)}
		// s6 shares its cores (no hw:cpu_policy=dedicated).
		_, err := b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", CpuOptions: off}, false)
		wantCode(t, err, ecs.CodeBadRequest)
		resp, err := b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "c7.xlarge.2", CpuOptions: off}, false)
		if err != nil {
			t.Fatalf("resize to c7.xlarge.2 with hyper-threading off: %v", err)
		}
		b.wantJob(t, *resp.JobId, "SUCCESS")
		s := b.wantServer(t, id, "SHUTOFF", 4, "c7.xlarge.2")
		if s.CpuOptions == nil || s.CpuOptions.HwcpuThreads == nil || s.CpuOptions.HwcpuThreads.Value() != 1 {
			t.Errorf("cpu_options %v, want hw:cpu_threads 1", s.CpuOptions)
		}
	})

	t.Run("v1.1 ResizeServer on a pay-per-use server", func(t *testing.T) {
		id := b.mustCreateStopped(t, "v11", "s6.large.2", "")
		dry := true
		resp, err := b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "m6.large.8"}, DryRun: &dry,
		}})
		if err != nil || resp.HttpStatusCode != http.StatusAccepted || resp.JobId != nil {
			t.Fatalf("v1.1 dry run: %v HTTP %d job %v", err, resp.HttpStatusCode, resp.JobId)
		}
		resp, err = b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "m6.large.8", Extendparam: &model.ResizeServerExtendParam{IsAutoPay: ptr("true")}},
		}})
		if err != nil {
			t.Fatalf("ResizeServer: %v", err)
		}
		if resp.JobId == nil || resp.OrderId != nil {
			t.Fatalf("ResizeServer: job_id %v order_id %v, want a job and no order", resp.JobId, resp.OrderId)
		}
		b.wantJob(t, *resp.JobId, "SUCCESS")
		b.wantServer(t, id, "SHUTOFF", 4, "m6.large.8")
		// v1.1 applies the same rules.
		_, err = b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "m6.large.8"},
		}})
		wantCode(t, err, ecs.CodeSameFlavor)
	})

	t.Run("validation order", func(t *testing.T) {
		// Request shape comes first, then the server.
		_, err := b.resizeTo(unknownID, "")
		wantCode(t, err, ecs.CodeBadRequest)
		_, err = b.resizeTo(unknownID, "no.such.flavor")
		se := wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		if want := "Instance[" + unknownID + "] could not be found."; se.ErrorMessage != want {
			t.Errorf("message %q, want %q", se.ErrorMessage, want)
		}
		// Another tenant's server does not exist for this one.
		id := b.mustCreateStopped(t, "mine", "s6.large.2", azA)
		_, err = other.resizeTo(id, "s6.xlarge.2")
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		// Compatibility comes before the sale status: kc1.2xlarge.4 is Arm
		// and also sold out in the server's zone.
		_, err = b.resizeTo(id, "kc1.2xlarge.4")
		wantCode(t, err, ecs.CodeBadRequest)
	})
}

// limits returns the account's ShowServerLimits.
func (a *account) limits(t *testing.T) *model.ServerLimits {
	t.Helper()
	resp, err := a.client.ShowServerLimits(&model.ShowServerLimitsRequest{})
	if err != nil || resp.Absolute == nil {
		t.Fatalf("ShowServerLimits: %v %v", err, resp)
	}
	return resp.Absolute
}

// TestListResizeFlavors covers ListResizeFlavors: its three ways of naming
// the source, what it leaves out, sorting and paging, and the decoded types.
func TestListResizeFlavors(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	x86 := b.mustCreateOne(t, "x86", "s6.large.2", azA)
	armSrv := b.server("arm", "kc1.large.2")
	armSrv.ImageRef, armSrv.AvailabilityZone = imageUbuntuArm, ptr(azA)
	arm := b.mustCreate(t, armSrv)[0]

	list := func(t *testing.T, req model.ListResizeFlavorsRequest) []model.ListResizeFlavorsResult {
		t.Helper()
		resp, err := b.client.ListResizeFlavors(&req)
		if err != nil {
			t.Fatalf("ListResizeFlavors: %v", err)
		}
		if resp.Flavors == nil {
			t.Fatalf("ListResizeFlavors: no flavors array")
		}
		return *resp.Flavors
	}
	ids := func(fs []model.ListResizeFlavorsResult) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = f.Id
		}
		return out
	}

	byInstance := list(t, model.ListResizeFlavorsRequest{InstanceUuid: &x86})
	t.Run("by instance_uuid", func(t *testing.T) {
		got := ids(byInstance)
		if len(got) < 10 {
			t.Fatalf("%d targets for s6.large.2 (%v), want the x86 general families", len(got), got)
		}
		for _, want := range []string{"s6.xlarge.2", "s7.large.2", "c7.xlarge.2", "m6.large.8", "c6.4xlarge.4"} {
			if !slices.Contains(got, want) {
				t.Errorf("targets lack %s: %v", want, got)
			}
		}
		for _, f := range byInstance {
			switch {
			case f.Id == "s6.large.2":
				t.Errorf("targets contain the current flavor")
			case f.ExtraSpecs != nil && f.ExtraSpecs.EcsinstanceArchitecture != nil:
				t.Errorf("targets of an x86 server contain Arm flavor %s", f.Id)
			case strings.HasPrefix(f.Id, "s1."), strings.HasPrefix(f.Id, "kc1."), strings.HasPrefix(f.Id, "km1."),
				strings.HasPrefix(f.Id, "p2s."), strings.HasPrefix(f.Id, "e3."), strings.HasPrefix(f.Id, "d6."):
				t.Errorf("targets contain %s, outside the resize group", f.Id)
			case f.Id == "m6.8xlarge.8":
				t.Errorf("targets contain m6.8xlarge.8, sold out in the server's zone %s", azA)
			}
		}
		if !slices.IsSorted(got) {
			t.Errorf("default order is not by flavor ID: %v", got)
		}
	})
	t.Run("by source_flavor_id and source_flavor_name", func(t *testing.T) {
		byID := ids(list(t, model.ListResizeFlavorsRequest{SourceFlavorId: ptr("s6.large.2")}))
		byName := ids(list(t, model.ListResizeFlavorsRequest{SourceFlavorName: ptr("s6.large.2")}))
		if !slices.Equal(byID, byName) || len(byID) == 0 || slices.Contains(byID, "s6.large.2") {
			t.Fatalf("by id %v, by name %v: want the same non-empty list without s6.large.2", byID, byName)
		}
		// Without a server there is no zone: m6.8xlarge.8 is on sale in b and c.
		if !slices.Contains(byID, "m6.8xlarge.8") {
			t.Errorf("by flavor: m6.8xlarge.8 missing from %v", byID)
		}
		// instance_uuid wins over the flavor parameters.
		both := ids(list(t, model.ListResizeFlavorsRequest{InstanceUuid: &x86, SourceFlavorId: ptr("kc1.large.2")}))
		if !slices.Equal(both, ids(byInstance)) {
			t.Errorf("instance_uuid with source_flavor_id: %v, want the instance's list", both)
		}
	})
	t.Run("Arm server", func(t *testing.T) {
		got := ids(list(t, model.ListResizeFlavorsRequest{InstanceUuid: &arm}))
		if len(got) == 0 {
			t.Fatal("no targets for kc1.large.2")
		}
		for _, id := range got {
			if !strings.HasPrefix(id, "kc1.") && !strings.HasPrefix(id, "km1.") {
				t.Errorf("Arm server offered %s", id)
			}
		}
		if slices.Contains(got, "kc1.2xlarge.4") {
			t.Errorf("kc1.2xlarge.4 is sold out in %s but offered", azA)
		}
	})
	t.Run("sorting", func(t *testing.T) {
		keys := model.GetListResizeFlavorsRequestSortKeyEnum()
		dirs := model.GetListResizeFlavorsRequestSortDirEnum()
		byVCPUs := list(t, model.ListResizeFlavorsRequest{InstanceUuid: &x86, SortKey: &keys.VCPUS, SortDir: &dirs.DESC})
		for i := 1; i < len(byVCPUs); i++ {
			a, _ := strconv.Atoi(byVCPUs[i-1].Vcpus)
			c, _ := strconv.Atoi(byVCPUs[i].Vcpus)
			if a < c {
				t.Fatalf("sort_key vcpus desc: %s (%d) before %s (%d)", byVCPUs[i-1].Id, a, byVCPUs[i].Id, c)
			}
		}
		byRAM := list(t, model.ListResizeFlavorsRequest{InstanceUuid: &x86, SortKey: &keys.MEMORY_MB, SortDir: &dirs.ASC})
		if !slices.IsSortedFunc(byRAM, func(a, c model.ListResizeFlavorsResult) int { return int(a.Ram - c.Ram) }) {
			t.Errorf("sort_key memory_mb asc is not sorted by ram: %v", ids(byRAM))
		}
		byName := ids(list(t, model.ListResizeFlavorsRequest{InstanceUuid: &x86, SortKey: &keys.NAME, SortDir: &dirs.DESC}))
		if !slices.IsSortedFunc(byName, func(a, c string) int { return strings.Compare(c, a) }) {
			t.Errorf("sort_key name desc: %v", byName)
		}
		if len(byVCPUs) != len(byInstance) || len(byRAM) != len(byInstance) {
			t.Errorf("sorting changed the list's length")
		}
	})
	t.Run("limit and marker", func(t *testing.T) {
		var pages []string
		var marker *string
		for range 100 {
			page := ids(list(t, model.ListResizeFlavorsRequest{InstanceUuid: &x86, Limit: ptr(int32(4)), Marker: marker}))
			if len(page) > 4 {
				t.Fatalf("limit 4 returned %d", len(page))
			}
			pages = append(pages, page...)
			if len(page) < 4 {
				break
			}
			marker = &page[3]
		}
		if !slices.Equal(pages, ids(byInstance)) {
			t.Fatalf("pages %v, want %v", pages, ids(byInstance))
		}
	})
	t.Run("decoded types", func(t *testing.T) {
		for _, f := range byInstance {
			n, err := strconv.Atoi(f.Vcpus)
			if err != nil || n <= 0 || f.Ram <= 0 || f.Disk != "0" || f.Name != f.Id || !f.OsFlavorAccessisPublic || f.OSFLVDISABLEDdisabled {
				t.Fatalf("flavor %+v: want string vcpus, int ram, disk \"0\", public, enabled", f)
			}
			if f.ExtraSpecs == nil || f.ExtraSpecs.Ecsgeneration == nil || f.ExtraSpecs.EcsvirtualizationEnvTypes == nil ||
				*f.ExtraSpecs.EcsvirtualizationEnvTypes != "CloudCompute" || f.ExtraSpecs.Ecsperformancetype == nil {
				t.Fatalf("flavor %s: extra_specs %+v, want generation, performance type and CloudCompute", f.Id, f.ExtraSpecs)
			}
			if len(f.Links) != 2 {
				t.Errorf("flavor %s: %d links, want self and bookmark", f.Id, len(f.Links))
			}
		}
		// On the wire: vcpus is a string, ram a number, extra_specs not
		// os_extra_specs.
		r := b.raw(t, http.MethodGet, "/v1/"+b.tenant.ProjectID+"/cloudservers/resize_flavors?source_flavor_id=s6.large.2&limit=1", nil)
		if r.status != http.StatusOK {
			t.Fatalf("raw ListResizeFlavors: HTTP %d %s", r.status, r.body)
		}
		var wire struct {
			Flavors []map[string]json.RawMessage `json:"flavors"`
		}
		if err := json.Unmarshal(r.body, &wire); err != nil || len(wire.Flavors) != 1 {
			t.Fatalf("raw ListResizeFlavors: %v %s", err, r.body)
		}
		f := wire.Flavors[0]
		if !strings.HasPrefix(string(f["vcpus"]), `"`) || strings.HasPrefix(string(f["ram"]), `"`) || f["extra_specs"] == nil || f["os_extra_specs"] != nil {
			t.Errorf("wire flavor: vcpus %s ram %s extra_specs %v os_extra_specs %v", f["vcpus"], f["ram"], f["extra_specs"] != nil, f["os_extra_specs"] != nil)
		}
		var decoded model.ListResizeFlavorsResponse
		decodeSDK(t, r.body, &decoded)
	})
	t.Run("errors", func(t *testing.T) {
		_, err := b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{})
		wantCode(t, err, ecs.CodeBadRequest)
		_, err = b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: ptr(unknownID)})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		_, err = b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{SourceFlavorId: ptr("no.such.flavor")})
		wantCode(t, err, ecs.CodeFlavorNotFound)
		_, err = b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{SourceFlavorId: ptr("s6.large.2"), Marker: ptr("kc1.large.2")})
		wantCode(t, err, ecs.CodeBadRequest)
	})
}
