package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
)

// TestCreateServers covers CreatePostPaidServers (v1) and CreateServers
// (v1.1): billing modes, batches, zones, idempotency, dry runs and every
// validation failure with its code.
func TestCreateServers(t *testing.T) {
	t.Parallel()
	small := testTenant(2, ecs.Quota{Instances: 2, Cores: 4, RAMMB: 8192})
	b := setupWith(t, options{tenants: []node.TenantQuota{small}})
	other := b.login(t, small.Tenant)

	t.Run("v1 postPaid", func(t *testing.T) {
		resp, err := b.create(b.server("v1-post", "s6.large.2"))
		if err != nil {
			t.Fatalf("CreatePostPaidServers: %v", err)
		}
		if resp.HttpStatusCode != http.StatusOK || resp.JobId == nil || len(*resp.JobId) != 32 {
			t.Fatalf("response: HTTP %d job_id %v", resp.HttpStatusCode, resp.JobId)
		}
		if resp.ServerIds == nil || len(*resp.ServerIds) != 1 {
			t.Fatalf("serverIds %v, want one ID", resp.ServerIds)
		}
		id := (*resp.ServerIds)[0]
		job := b.wantJob(t, *resp.JobId, "SUCCESS")
		if str(job.JobType) != ecs.JobCreateServer {
			t.Errorf("job_type %s, want createServer", str(job.JobType))
		}
		subs := wantSubJobs(t, job, ecs.JobCreateSingleServer, id)
		if subs[0].Status.Value() != "SUCCESS" {
			t.Errorf("sub-job status %s", subs[0].Status.Value())
		}
		s := b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
		if s.Name != "v1-post" || s.Metadata["charging_mode"] != ecs.ChargingPostPaid {
			t.Errorf("name %q charging_mode %q", s.Name, s.Metadata["charging_mode"])
		}
		// s6.large.2 is sold out in zone b: the zone chosen must sell it.
		if az := s.OSEXTAZavailabilityZone; az != azA && az != azC {
			t.Errorf("availability zone %q, want one that sells s6.large.2 (%s or %s)", az, azA, azC)
		}
	})

	t.Run("v1.1 postPaid", func(t *testing.T) {
		resp, err := b.client.CreateServers(&model.CreateServersRequest{Body: &model.CreateServersRequestBody{
			Server: b.prePaidServer("v11-post", "s6.large.2", &model.PrePaidServerExtendParam{
				ChargingMode: ptr(model.GetPrePaidServerExtendParamChargingModeEnum().POST_PAID),
			}),
		}})
		if err != nil {
			t.Fatalf("CreateServers: %v", err)
		}
		if resp.JobId == nil || resp.ServerIds == nil || len(*resp.ServerIds) != 1 {
			t.Fatalf("job_id %v serverIds %v", resp.JobId, resp.ServerIds)
		}
		if resp.OrderId != nil {
			t.Errorf("order_id %q on a pay-per-use create, want none", *resp.OrderId)
		}
		b.wantJob(t, *resp.JobId, "SUCCESS")
		s := b.wantServer(t, (*resp.ServerIds)[0], "ACTIVE", 1, "s6.large.2")
		if s.Metadata["charging_mode"] != ecs.ChargingPostPaid {
			t.Errorf("charging_mode %q, want 0", s.Metadata["charging_mode"])
		}
	})

	t.Run("v1.1 prePaid with auto-pay", func(t *testing.T) {
		id, orderID := b.mustCreatePrePaid(t, "v11-pre", "s6.large.2")
		s := b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
		if s.Metadata["charging_mode"] != ecs.ChargingPrePaid || s.Metadata["metering.order_id"] != orderID {
			t.Errorf("charging_mode %q metering.order_id %q, want 1 and %s",
				s.Metadata["charging_mode"], s.Metadata["metering.order_id"], orderID)
		}
		list, err := b.client.ListCloudServers(&model.ListCloudServersRequest{ChargingMode: ptr("prePaid"), ExpectFields: &[]string{"market_info"}})
		if err != nil || len(*list.Servers) != 1 || (*list.Servers)[0].Id != id {
			t.Fatalf("ListCloudServers charging_mode=prePaid: %v %v", err, list)
		}
		if mi := (*list.Servers)[0].MarketInfo; mi == nil || mi.ChargeMode == nil || mi.ChargeMode.Value() != "prepaid" {
			t.Errorf("market_info %v, want charge_mode prepaid", mi)
		}
	})

	t.Run("count", func(t *testing.T) {
		srv := b.server("batch", "s6.medium.2")
		srv.Count = ptr(int32(3))
		resp, err := b.create(srv)
		if err != nil {
			t.Fatalf("CreatePostPaidServers count 3: %v", err)
		}
		ids := *resp.ServerIds
		if len(ids) != 3 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 3 {
			t.Fatalf("serverIds %v, want 3 distinct IDs", ids)
		}
		job := b.wantJob(t, *resp.JobId, "SUCCESS")
		wantSubJobs(t, job, ecs.JobCreateSingleServer, ids...)
		var names []string
		for _, id := range ids {
			names = append(names, b.wantServer(t, id, "ACTIVE", 1, "s6.medium.2").Name)
		}
		slices.Sort(names)
		if want := []string{"batch-0001", "batch-0002", "batch-0003"}; !slices.Equal(names, want) {
			t.Errorf("names %v, want %v", names, want)
		}
	})

	t.Run("availability zone", func(t *testing.T) {
		for _, az := range []string{azB, azC} {
			id := b.mustCreateOne(t, "in-"+az, "s6.xlarge.2", az)
			if got := b.show(t, id).OSEXTAZavailabilityZone; got != az {
				t.Errorf("server asked for %s is in %s", az, got)
			}
		}
	})

	t.Run("invalid requests", func(t *testing.T) {
		arm := imageUbuntuArm
		for _, tc := range []struct {
			name   string
			change func(s *model.PostPaidServer)
			status int
			code   string
		}{
			{"unknown image", func(s *model.PostPaidServer) { s.ImageRef = unknownID }, 400, ecs.CodeImageNotFound},
			{"unknown flavor", func(s *model.PostPaidServer) { s.FlavorRef = "s6.huge.9" }, 400, ecs.CodeFlavorNotFound},
			{"image does not fit flavor", func(s *model.PostPaidServer) { s.ImageRef = arm }, 400, ecs.CodeImageInvalid},
			{"unknown subnet", func(s *model.PostPaidServer) { s.Nics[0].SubnetId = ptr(unknownID) }, 400, ecs.CodeSubnetNotFound},
			{"vpc differs from the subnet's", func(s *model.PostPaidServer) { s.Vpcid = unknownID }, 400, ecs.CodeVPCMismatch},
			{"unknown security group", func(s *model.PostPaidServer) {
				s.SecurityGroups = &[]model.PostPaidServerSecurityGroup{{Id: ptr(unknownID)}}
			}, 400, ecs.CodeNetworkInvalid},
			{"unknown availability zone", func(s *model.PostPaidServer) { s.AvailabilityZone = ptr("cn-north-4z") }, 400, ecs.CodeBadRequest},
			{"flavor sold out in the zone", func(s *model.PostPaidServer) { s.AvailabilityZone = ptr(azB) }, 400, ecs.CodeInsufficientCap},
			{"flavor abandoned", func(s *model.PostPaidServer) { s.FlavorRef, s.ImageRef = "s1.medium", imageUbuntu20 }, 400, ecs.CodeFlavorAbandoned},
			{"flavor sold yearly/monthly only", func(s *model.PostPaidServer) { s.FlavorRef = "e3.7xlarge.12" }, 400, ecs.CodeBadRequest},
			{"Xen flavor, KVM-only image", func(s *model.PostPaidServer) { s.FlavorRef = "s1.xlarge" }, 400, ecs.CodeImageInvalid},
			{"image needs more memory", func(s *model.PostPaidServer) { s.FlavorRef, s.ImageRef = "s6.small.1", imageWindows }, 400, ecs.CodeImageInvalid},
			{"hyper-threading off on a shared flavor", func(s *model.PostPaidServer) {
				s.CpuOptions = &model.CpuOptions{HwcpuThreads: ptr(model.GetCpuOptionsHwcpuThreadsEnum().E_1)}
			}, 400, ecs.CodeBadRequest},
			{"count over 100", func(s *model.PostPaidServer) { s.Count = ptr(int32(101)) }, 400, ecs.CodeBadRequest},
			{"name with a space", func(s *model.PostPaidServer) { s.Name = "bad name" }, 400, ecs.CodeBadRequest},
			{"unknown volume type", func(s *model.PostPaidServer) {
				s.RootVolume.Volumetype = model.PostPaidServerRootVolumeVolumetype{}
			}, 400, ecs.CodeBadRequest},
			{"v1 chargingMode 1", func(s *model.PostPaidServer) {
				s.Extendparam = &model.PostPaidServerExtendParam{ChargingMode: ptr(int32(1))}
			}, 400, ecs.CodeBadRequest},
		} {
			srv := b.server("bad-"+slug(tc.name), "s6.large.2")
			tc.change(srv)
			_, err := b.create(srv)
			t.Run(tc.name, func(t *testing.T) { wantSDKError(t, err, tc.status, tc.code) })
		}
		wantNoServer(t, b.account, "bad-")
	})

	t.Run("quota", func(t *testing.T) {
		// The small tenant may hold 2 servers, 4 vCPUs and 8 GiB.
		for _, tc := range []struct {
			name, flavor string
			count        int32
		}{
			{"instances", "s6.small.1", 3},
			{"cores", "c7.2xlarge.2", 1}, // 8 vCPUs
			{"ram", "m6.large.8", 1},     // 16 GiB
			{"cores of a batch", "s6.large.2", 3},
		} {
			srv := other.server("over-"+slug(tc.name), tc.flavor)
			srv.Count = &tc.count
			_, err := other.create(srv)
			t.Run(tc.name, func(t *testing.T) {
				se := wantCode(t, err, ecs.CodeQuota)
				if !strings.Contains(se.ErrorMessage, "uota") {
					t.Errorf("message %q does not mention the quota", se.ErrorMessage)
				}
			})
		}
		wantNoServer(t, other, "over-")
		// Up to the quota works; one more server does not.
		other.mustCreateOne(t, "fits-1", "s6.large.2", "")
		other.mustCreateOne(t, "fits-2", "s6.large.2", "")
		_, err := other.create(other.server("fits-3", "s6.small.1"))
		wantCode(t, err, ecs.CodeQuota)
	})

	t.Run("quota is checked before capacity", func(t *testing.T) {
		// 100 × 16 vCPUs exceed both the development tenant's 400-core
		// quota and the 416 x86 vCPUs of zone a. Quota comes before
		// capacity, so the answer is Ecs.0001.
		srv := b.server("too-many", "c7.4xlarge.2")
		srv.Count, srv.AvailabilityZone = ptr(int32(100)), ptr(azA)
		_, err := b.create(srv)
		wantCode(t, err, ecs.CodeQuota)
		// Network before capacity: an unknown subnet is reported even when
		// the batch would not fit.
		srv.Nics[0].SubnetId = ptr(unknownID)
		_, err = b.create(srv)
		wantCode(t, err, ecs.CodeSubnetNotFound)
	})

	t.Run("spot needs a flavor sold as spot", func(t *testing.T) {
		// Only s6, c6, c7 and kc1 carry cond:spot:operation:status=normal
		// (docs/compatibility.md); an absent key means abandon.
		srv := b.server("spot-m6", "m6.large.8")
		srv.Extendparam = &model.PostPaidServerExtendParam{MarketType: ptr("spot")}
		resp, err := b.create(srv)
		if err == nil {
			b.wantJob(t, *resp.JobId, "SUCCESS")
			t.Fatalf("m6.large.8, which has no spot sale, was sold as spot (server %v)", *resp.ServerIds)
		}
		wantSDKError(t, err, http.StatusBadRequest, errCode(err))
		wantNoServer(t, b.account, "spot-m6")
	})

	t.Run("client token", func(t *testing.T) {
		token := "e2e-token-" + fmt.Sprint(time.Now().UnixNano())
		send := func(name string) *model.CreatePostPaidServersResponse {
			t.Helper()
			resp, err := b.client.CreatePostPaidServers(&model.CreatePostPaidServersRequest{
				XClientToken: &token,
				Body:         &model.CreatePostPaidServersRequestBody{Server: b.server(name, "s6.small.1")},
			})
			if err != nil {
				t.Fatalf("CreatePostPaidServers with X-Client-Token: %v", err)
			}
			return resp
		}
		first := send("idem")
		second := send("idem")
		if *first.JobId != *second.JobId || !slices.Equal(*first.ServerIds, *second.ServerIds) {
			t.Fatalf("same token: job %s/%s servers %v/%v, want the same", *first.JobId, *second.JobId, *first.ServerIds, *second.ServerIds)
		}
		b.wantJob(t, *first.JobId, "SUCCESS")
		if n := countServers(t, b.account, "idem"); n != 1 {
			t.Fatalf("%d servers named idem, want 1", n)
		}
		token += "-2"
		third := send("idem")
		if *third.JobId == *first.JobId {
			t.Fatalf("another token returned the first job %s", *first.JobId)
		}
		b.wantJob(t, *third.JobId, "SUCCESS")
	})

	t.Run("dry run", func(t *testing.T) {
		dry := true
		resp, err := b.client.CreatePostPaidServers(&model.CreatePostPaidServersRequest{
			Body: &model.CreatePostPaidServersRequestBody{DryRun: &dry, Server: b.server("dry", "s6.large.2")},
		})
		if err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if resp.HttpStatusCode != http.StatusAccepted || resp.JobId != nil || (resp.ServerIds != nil && len(*resp.ServerIds) > 0) {
			t.Fatalf("dry run: HTTP %d job_id %v serverIds %v, want 202 and nothing", resp.HttpStatusCode, resp.JobId, resp.ServerIds)
		}
		wantNoServer(t, b.account, "dry")
		bad := b.server("dry-bad", "s6.huge.9")
		_, err = b.client.CreatePostPaidServers(&model.CreatePostPaidServersRequest{
			Body: &model.CreatePostPaidServersRequestBody{DryRun: &dry, Server: bad},
		})
		wantCode(t, err, ecs.CodeFlavorNotFound)
	})

	t.Run("spot", func(t *testing.T) {
		srv := b.server("spot", "s6.large.2")
		srv.Extendparam = &model.PostPaidServerExtendParam{MarketType: ptr("spot"), SpotPrice: ptr("0.05")}
		id := b.mustCreate(t, srv)[0]
		s := b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
		if s.Metadata["charging_mode"] != ecs.ChargingSpot {
			t.Errorf("charging_mode %q, want 2", s.Metadata["charging_mode"])
		}
		list, err := b.client.ListCloudServers(&model.ListCloudServersRequest{
			Id: &id, ExpectFields: &[]string{"market_info"},
		})
		if err != nil || list.Servers == nil || len(*list.Servers) != 1 {
			t.Fatalf("ListCloudServers id=%s: %v %v", id, err, list)
		}
		if mi := (*list.Servers)[0].MarketInfo; mi == nil || mi.ChargeMode == nil || mi.ChargeMode.Value() != "spot" {
			t.Errorf("market_info %v, want charge_mode spot", mi)
		}
	})
}

// prePaidServer returns a v1.1 create body in the account's default network.
func (a *account) prePaidServer(name, flavor string, ext *model.PrePaidServerExtendParam) *model.PrePaidServer {
	subnet := a.subnetID
	return &model.PrePaidServer{
		Name: name, ImageRef: imageUbuntu22, FlavorRef: flavor, Vpcid: a.vpcID,
		Nics:        []model.PrePaidServerNic{{SubnetId: &subnet}},
		RootVolume:  &model.PrePaidServerRootVolume{Volumetype: model.GetPrePaidServerRootVolumeVolumetypeEnum().SSD},
		Extendparam: ext,
	}
}

// mustCreatePrePaid creates a yearly/monthly server with auto-pay through
// v1.1 and returns its ID and order ID.
func (a *account) mustCreatePrePaid(t *testing.T, name, flavor string) (id, orderID string) {
	t.Helper()
	resp, err := a.client.CreateServers(&model.CreateServersRequest{Body: &model.CreateServersRequestBody{
		Server: a.prePaidServer(name, flavor, &model.PrePaidServerExtendParam{
			ChargingMode: ptr(model.GetPrePaidServerExtendParamChargingModeEnum().PRE_PAID),
			PeriodType:   ptr(model.GetPrePaidServerExtendParamPeriodTypeEnum().MONTH),
			PeriodNum:    ptr(int32(1)),
			IsAutoPay:    ptr(model.GetPrePaidServerExtendParamIsAutoPayEnum().TRUE),
		}),
	}})
	if err != nil {
		t.Fatalf("CreateServers prePaid: %v", err)
	}
	if resp.OrderId == nil || *resp.OrderId == "" || resp.JobId == nil || resp.ServerIds == nil || len(*resp.ServerIds) != 1 {
		t.Fatalf("prePaid create: order_id %v job_id %v serverIds %v, want all three", resp.OrderId, resp.JobId, resp.ServerIds)
	}
	a.wantJob(t, *resp.JobId, "SUCCESS")
	return (*resp.ServerIds)[0], *resp.OrderId
}

// slug turns a test case name into a valid server name.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

// errCode returns the Huawei code of an SDK error, or "".
func errCode(err error) string {
	if se, ok := asSDKError(err); ok {
		return se.ErrorCode
	}
	return ""
}

// wantSubJobs checks a batch job's entities: sub_jobs_total, one sub-job of
// type typ per server in ids (in any order), each with begin and end times.
func wantSubJobs(t *testing.T, job *model.ShowJobResponse, typ string, ids ...string) []model.SubJob {
	t.Helper()
	e := job.Entities
	if e == nil || e.SubJobs == nil || e.SubJobsTotal == nil {
		t.Fatalf("job %s: entities %v, want sub_jobs and sub_jobs_total", str(job.JobId), e)
	}
	subs := *e.SubJobs
	if int(*e.SubJobsTotal) != len(ids) || len(subs) != len(ids) {
		t.Fatalf("job %s: sub_jobs_total %d, %d sub-jobs, want %d", str(job.JobId), *e.SubJobsTotal, len(subs), len(ids))
	}
	var got []string
	for _, s := range subs {
		if str(s.JobType) != typ {
			t.Errorf("sub-job %s: job_type %s, want %s", str(s.JobId), str(s.JobType), typ)
		}
		if s.Entities == nil || s.Entities.ServerId == nil {
			t.Fatalf("sub-job %s: no entities.server_id", str(s.JobId))
		}
		if s.JobId == nil || len(*s.JobId) != 32 || *s.JobId == str(job.JobId) {
			t.Errorf("sub-job job_id %s, want its own 32-hex ID", str(s.JobId))
		}
		if _, err := time.Parse(layoutJob, str(s.BeginTime)); err != nil {
			t.Errorf("sub-job begin_time %s: %v", str(s.BeginTime), err)
		}
		got = append(got, *s.Entities.ServerId)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("sub-jobs are for %v, want %v", got, want)
	}
	return subs
}

// countServers returns how many of the account's servers have a name
// containing name.
func countServers(t *testing.T, a *account, name string) int {
	t.Helper()
	resp, err := a.client.ListServersDetails(&model.ListServersDetailsRequest{Name: &name})
	if err != nil {
		t.Fatalf("ListServersDetails name=%s: %v", name, err)
	}
	return int(*resp.Count)
}

// wantNoServer fails if the account has a server whose name contains name.
func wantNoServer(t *testing.T, a *account, name string) {
	t.Helper()
	if n := countServers(t, a, name); n != 0 {
		t.Fatalf("%d servers named like %q exist, want none", n, name)
	}
}

// TestShowServer checks every field ShowServer decodes into, with its type,
// on the wire and through the SDK.
func TestShowServer(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	srv := b.server("show-me", "s6.large.2")
	srv.Metadata = map[string]string{"owner": "e2e"}
	srv.AvailabilityZone = ptr(azA)
	srv.Description = ptr("shown by e2e")
	id := b.mustCreate(t, srv)[0]
	before := time.Now().UTC().Add(-time.Minute)

	s := b.show(t, id)
	if s.Id != id || s.Name != "show-me" || s.Status != "ACTIVE" || s.OSEXTSTSvmState != "active" ||
		s.OSEXTSTSpowerState != 1 || s.OSEXTSTStaskState != "" || s.TenantId != ecs.DevTenant.ProjectID ||
		s.OSEXTAZavailabilityZone != azA || str(s.Description) != "shown by e2e" {
		t.Errorf("server: id %s name %s status %s vm %s power %d task %q tenant %s az %s description %s",
			s.Id, s.Name, s.Status, s.OSEXTSTSvmState, s.OSEXTSTSpowerState, s.OSEXTSTStaskState, s.TenantId,
			s.OSEXTAZavailabilityZone, str(s.Description))
	}
	if f := s.Flavor; f == nil || f.Id != "s6.large.2" || f.Name != "s6.large.2" || f.Vcpus != "2" || f.Ram != "4096" || f.Disk != "0" {
		t.Errorf("flavor %+v, want s6.large.2 with vcpus \"2\" ram \"4096\" disk \"0\"", f)
	}
	if s.Image == nil || s.Image.Id != imageUbuntu22 {
		t.Errorf("image %v, want %s", s.Image, imageUbuntu22)
	}
	addrs := s.Addresses[b.vpcID]
	if len(s.Addresses) != 1 || len(addrs) != 1 {
		t.Fatalf("addresses %v, want one address under VPC %s", s.Addresses, b.vpcID)
	}
	ad := addrs[0]
	ip, err := netip.ParseAddr(ad.Addr)
	if ad.Version != "4" || err != nil || !netip.MustParsePrefix("192.168.0.0/24").Contains(ip) ||
		ad.Primary == nil || !*ad.Primary || ad.OSEXTIPStype == nil || ad.OSEXTIPStype.Value() != "fixed" ||
		!strings.HasPrefix(str(ad.OSEXTIPSMACmacAddr), "fa:16:3e:") || str(ad.OSEXTIPSportId) == "" {
		t.Errorf("address %+v: want version \"4\", a fixed primary IPv4 of subnet-default, a MAC and a port", ad)
	}
	for k, want := range map[string]string{
		"charging_mode": "0", "metering.resourcespeccode": "s6.large.2", "metering.image_id": imageUbuntu22,
		"vpc_id": b.vpcID, "image_name": "Ubuntu 22.04 server 64bit(40GB)", "os_type": "Linux", "owner": "e2e",
	} {
		if got := s.Metadata[k]; got != want {
			t.Errorf("metadata %s = %q, want %q", k, got, want)
		}
	}
	for name, v := range map[string]string{"created": s.Created, "updated": s.Updated} {
		tm, err := time.Parse(layoutServer, v)
		if err != nil || tm.Before(before) || tm.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s %q: want a recent %s time (%v)", name, v, layoutServer, err)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000", s.OSSRVUSGlaunchedAt); err != nil {
		t.Errorf("OS-SRV-USG:launched_at %q: %v", s.OSSRVUSGlaunchedAt, err)
	}
	if len(s.SecurityGroups) != 1 || s.SecurityGroups[0].Id != b.sgID || s.SecurityGroups[0].Name != "default" {
		t.Errorf("security_groups %+v, want the default group %s", s.SecurityGroups, b.sgID)
	}
	if v := s.OsExtendedVolumesvolumesAttached; len(v) != 1 || str(v[0].BootIndex) != "0" || v[0].DeleteOnTermination != "true" {
		t.Errorf("volumes_attached %+v, want one boot volume", v)
	}

	// On the wire: task_state null while idle, numbers and strings where
	// the SDK expects them.
	r := b.raw(t, http.MethodGet, "/v1/"+b.tenant.ProjectID+"/cloudservers/"+id, nil)
	r.wantRequestID(t)
	if r.status != http.StatusOK {
		t.Fatalf("raw ShowServer: HTTP %d %s", r.status, r.body)
	}
	var wire struct {
		Server map[string]json.RawMessage `json:"server"`
	}
	if err := json.Unmarshal(r.body, &wire); err != nil {
		t.Fatalf("raw ShowServer: %v", err)
	}
	for key, want := range map[string]string{
		"OS-EXT-STS:task_state":  "null",
		"OS-EXT-STS:power_state": "1",
		"status":                 `"ACTIVE"`,
	} {
		if got := string(wire.Server[key]); got != want {
			t.Errorf("wire %s = %s, want %s", key, got, want)
		}
	}
	var flavor map[string]any
	_ = json.Unmarshal(wire.Server["flavor"], &flavor)
	if _, ok := flavor["vcpus"].(string); !ok {
		t.Errorf("wire flavor.vcpus %v (%T), want a string", flavor["vcpus"], flavor["vcpus"])
	}
	var decoded model.ShowServerResponse
	decodeSDK(t, r.body, &decoded)
	if decoded.Server == nil || decoded.Server.Id != id {
		t.Errorf("SDK decoding of the raw body: %v", decoded.Server)
	}

	t.Run("unknown server", func(t *testing.T) {
		_, err := b.client.ShowServer(&model.ShowServerRequest{ServerId: unknownID})
		se := wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		if want := "Instance[" + unknownID + "] could not be found."; se.ErrorMessage != want {
			t.Errorf("message %q, want %q", se.ErrorMessage, want)
		}
	})
}

// TestListServers covers ListServersDetails (v1) and ListCloudServers (v1.1):
// counts, pages, filters and the v1.1 integer flavor.
func TestListServers(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	web := b.server("web", "s6.large.2")
	web.Count = ptr(int32(3))
	webIDs := b.mustCreate(t, web)
	db := b.mustCreateOne(t, "db", "m6.large.8", "")
	cache := b.mustCreateStopped(t, "cache", "s6.xlarge.2", "")
	spot := b.server("spot", "s6.large.2")
	spot.Extendparam = &model.PostPaidServerExtendParam{MarketType: ptr("spot")}
	spotID := b.mustCreate(t, spot)[0]
	all := append(slices.Clone(webIDs), db, cache, spotID)
	dbIP := b.show(t, db).Addresses[b.vpcID][0].Addr

	list := func(t *testing.T, req model.ListServersDetailsRequest) (int, []string) {
		t.Helper()
		resp, err := b.client.ListServersDetails(&req)
		if err != nil {
			t.Fatalf("ListServersDetails %+v: %v", req, err)
		}
		var ids []string
		for _, s := range *resp.Servers {
			ids = append(ids, s.Id)
		}
		return int(*resp.Count), ids
	}
	sameSet := func(t *testing.T, got, want []string) {
		t.Helper()
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Fatalf("servers %v, want %v", got, want)
		}
	}

	t.Run("v1 all", func(t *testing.T) {
		n, ids := list(t, model.ListServersDetailsRequest{})
		if n != 6 {
			t.Errorf("count %d, want 6", n)
		}
		sameSet(t, ids, all)
	})
	t.Run("v1 pages", func(t *testing.T) {
		var got []string
		for page := int32(1); page <= 3; page++ {
			n, ids := list(t, model.ListServersDetailsRequest{Limit: ptr(int32(2)), Offset: &page})
			if n != 6 || len(ids) != 2 {
				t.Fatalf("page %d: count %d, %d servers; want 6 and 2", page, n, len(ids))
			}
			got = append(got, ids...)
		}
		sameSet(t, got, all)
		if _, ids := list(t, model.ListServersDetailsRequest{Limit: ptr(int32(2)), Offset: ptr(int32(4))}); len(ids) != 0 {
			t.Errorf("page 4: %v, want none", ids)
		}
	})
	t.Run("v1 filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  model.ListServersDetailsRequest
			want []string
		}{
			{"name", model.ListServersDetailsRequest{Name: ptr("web")}, webIDs},
			{"status SHUTOFF", model.ListServersDetailsRequest{Status: ptr("SHUTOFF")}, []string{cache}},
			{"status ACTIVE", model.ListServersDetailsRequest{Status: ptr("ACTIVE")}, append(slices.Clone(webIDs), db, spotID)},
			{"flavor", model.ListServersDetailsRequest{Flavor: ptr("m6.large.8")}, []string{db}},
			{"name and flavor", model.ListServersDetailsRequest{Name: ptr("spot"), Flavor: ptr("s6.large.2")}, []string{spotID}},
			{"server_id ignores other filters", model.ListServersDetailsRequest{
				ServerId: ptr(db + "," + cache), Name: ptr("web"),
			}, []string{db, cache}},
			{"server_id with spaces", model.ListServersDetailsRequest{ServerId: ptr(db + ", " + cache)}, []string{db, cache}},
			{"ip_eq", model.ListServersDetailsRequest{IpEq: &dbIP}, []string{db}},
			{"ip (fuzzy)", model.ListServersDetailsRequest{Ip: ptr("192.168.0.")}, all},
			{"status is case-insensitive", model.ListServersDetailsRequest{Status: ptr("shutoff")}, []string{cache}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n, ids := list(t, tc.req)
				if n != len(tc.want) {
					t.Errorf("count %d, want %d", n, len(tc.want))
				}
				sameSet(t, ids, tc.want)
			})
		}
	})

	t.Run("v1 server_id with an unknown ID", func(t *testing.T) {
		// "When server_id contains an ID that does not exist, the servers
		// entry of that ID has every field null except id and fault" (SDK
		// ListServersDetailsRequest.ServerId; reference §F.4).
		resp, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{ServerId: ptr(db + "," + unknownID)})
		if err != nil {
			t.Fatalf("ListServersDetails: %v", err)
		}
		var unknown *model.ServerDetail
		for i, s := range *resp.Servers {
			if s.Id == unknownID {
				unknown = &(*resp.Servers)[i]
			}
		}
		if unknown == nil {
			t.Fatalf("server_id with an unknown ID: no entry for it among %d servers", len(*resp.Servers))
		}
		if unknown.Fault == nil || unknown.Name != "" || unknown.Status != "" || unknown.Flavor != nil {
			t.Errorf("entry of the unknown ID: %+v, want only id and fault", unknown)
		}
	})

	listV11 := func(t *testing.T, req model.ListCloudServersRequest) *model.ListCloudServersResponse {
		t.Helper()
		resp, err := b.client.ListCloudServers(&req)
		if err != nil {
			t.Fatalf("ListCloudServers %+v: %v", req, err)
		}
		if resp.Servers == nil {
			t.Fatalf("ListCloudServers: no servers array")
		}
		return resp
	}
	t.Run("v1.1 limit and marker", func(t *testing.T) {
		var got []string
		var marker *string
		for page := 0; ; page++ {
			resp := listV11(t, model.ListCloudServersRequest{Limit: ptr(int32(4)), Marker: marker})
			for _, s := range *resp.Servers {
				got = append(got, s.Id)
			}
			if len(*resp.Servers) < 4 {
				break
			}
			if resp.ServersLinks == nil || len(*resp.ServersLinks) == 0 {
				t.Fatalf("page %d is full but has no servers_links", page)
			}
			marker = &got[len(got)-1]
			if page > 3 {
				t.Fatalf("paging does not end: %v", got)
			}
		}
		if len(got) != 6 {
			t.Fatalf("pages returned %d servers (%v), want 6 without repeats", len(got), got)
		}
		sameSet(t, got, all)
	})
	t.Run("v1.1 flavor integers", func(t *testing.T) {
		resp := listV11(t, model.ListCloudServersRequest{Id: &db, ExpectFields: &[]string{"power_state", "metadata"}})
		if len(*resp.Servers) != 1 {
			t.Fatalf("id=%s: %d servers", db, len(*resp.Servers))
		}
		s := (*resp.Servers)[0]
		f := s.Flavor
		if f == nil || str(f.Id) != "m6.large.8" || f.Vcpus == nil || *f.Vcpus != 2 || f.Ram == nil || *f.Ram != 16384 {
			t.Errorf("flavor %+v, want m6.large.8 with vcpus 2 and ram 16384 as integers", f)
		}
		if s.PowerState == nil || *s.PowerState != 1 || s.TaskState != "" || s.VmState != "active" || s.Status != "ACTIVE" {
			t.Errorf("power_state %v task_state %q vm_state %s status %s", s.PowerState, s.TaskState, s.VmState, s.Status)
		}
		if s.Metadata["metering.resourcespeccode"] != "m6.large.8" {
			t.Errorf("metadata %v", s.Metadata)
		}
	})
	t.Run("v1.1 filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  model.ListCloudServersRequest
			want []string
		}{
			{"charging_mode 2", model.ListCloudServersRequest{ChargingMode: ptr("2")}, []string{spotID}},
			{"charging_mode 0", model.ListCloudServersRequest{ChargingMode: ptr("0")}, append(slices.Clone(webIDs), db, cache)},
			{"flavor_name", model.ListCloudServersRequest{FlavorName: ptr("s6.xlarge.2")}, []string{cache}},
			{"status", model.ListCloudServersRequest{Status: ptr("SHUTOFF")}, []string{cache}},
			{"name", model.ListCloudServersRequest{Name: ptr("web-000")}, webIDs},
			{"image_id", model.ListCloudServersRequest{ImageId: ptr(imageUbuntu22)}, all},
			{"image_id of another image", model.ListCloudServersRequest{ImageId: ptr(imageUbuntu20)}, nil},
			// Without a zone, a create takes the first that sells the flavor
			// and has room: zone a for all of them.
			{"availability_zone_eq", model.ListCloudServersRequest{AvailabilityZoneEq: ptr(azA)}, all},
			{"availability_zone_eq of an empty zone", model.ListCloudServersRequest{AvailabilityZoneEq: ptr(azB)}, nil},
			{"availability_zone (fuzzy)", model.ListCloudServersRequest{AvailabilityZone: ptr("north-4")}, all},
			{"launched_since in the future", model.ListCloudServersRequest{
				LaunchedSince: ptr(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)),
			}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := listV11(t, tc.req)
				var ids []string
				for _, s := range *resp.Servers {
					ids = append(ids, s.Id)
				}
				sameSet(t, ids, tc.want)
			})
		}
	})
	t.Run("default page sizes", func(t *testing.T) {
		more := b.server("more", "s6.small.1")
		more.Count = ptr(int32(25))
		b.mustCreate(t, more)
		n, ids := list(t, model.ListServersDetailsRequest{})
		if n != 31 || len(ids) != 25 {
			t.Errorf("v1 without limit: count %d, %d servers; want 31 and the default page of 25", n, len(ids))
		}
		if v11 := listV11(t, model.ListCloudServersRequest{}); len(*v11.Servers) != 10 || v11.ServersLinks == nil || len(*v11.ServersLinks) != 1 {
			t.Errorf("v1.1 without limit: %d servers, links %v; want the default page of 10 and a next link", len(*v11.Servers), v11.ServersLinks)
		}
	})
	t.Run("bad filters", func(t *testing.T) {
		_, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{Status: ptr("SLEEPING")})
		wantCode(t, err, ecs.CodeBadRequest)
		_, err = b.client.ListCloudServers(&model.ListCloudServersRequest{ChargingMode: ptr("weekly")})
		wantCode(t, err, ecs.CodeBadRequest)
		_, err = b.client.ListServersDetails(&model.ListServersDetailsRequest{Limit: ptr(int32(1001))})
		wantCode(t, err, ecs.CodeBadRequest)
	})
}

// TestDeleteServers covers DeleteServers: the job, the 404 afterwards, the
// listing, and the refusals.
func TestDeleteServers(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	pair := b.server("doomed", "s6.large.2")
	pair.Count = ptr(int32(2))
	ids := b.mustCreate(t, pair)
	keep := b.mustCreateOne(t, "kept", "s6.large.2", "")

	resp, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
		Servers: serverIDs(ids...), DeletePublicip: ptr(true), DeleteVolume: ptr(true),
	}})
	if err != nil {
		t.Fatalf("DeleteServers: %v", err)
	}
	job := b.wantJob(t, *resp.JobId, "SUCCESS")
	if str(job.JobType) != ecs.JobDeleteServer {
		t.Errorf("job_type %s, want deleteServer", str(job.JobType))
	}
	wantSubJobs(t, job, ecs.JobDeleteSingleServer, ids...)
	for _, id := range ids {
		_, err := b.client.ShowServer(&model.ShowServerRequest{ServerId: id})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
	}
	list, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{})
	if err != nil {
		t.Fatalf("ListServersDetails: %v", err)
	}
	if *list.Count != 1 || len(*list.Servers) != 1 || (*list.Servers)[0].Id != keep {
		t.Fatalf("after delete: count %d servers %v, want only %s", *list.Count, *list.Servers, keep)
	}

	t.Run("unknown server", func(t *testing.T) {
		_, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
			Servers: serverIDs(keep, unknownID),
		}})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		b.wantServer(t, keep, "ACTIVE", 1, "s6.large.2") // all or nothing
	})
	t.Run("deleted server", func(t *testing.T) {
		_, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
			Servers: serverIDs(ids[0]),
		}})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
	})
	t.Run("empty list", func(t *testing.T) {
		_, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
			Servers: []model.ServerId{},
		}})
		wantCode(t, err, ecs.CodeBadRequest)
	})
	t.Run("yearly/monthly server", func(t *testing.T) {
		id, _ := b.mustCreatePrePaid(t, "prepaid-del", "s6.large.2")
		_, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
			Servers: serverIDs(id),
		}})
		wantCode(t, err, ecs.CodeChargingNotAllowed)
		b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
	})
}

// TestServerStates holds a create and a delete in each of their phases (the
// "fast" profile behind the test's gate): BUILD through scheduling,
// block_device_mapping, networking and spawning with power state 0 and no
// launch time, then ACTIVE; ACTIVE while deleting, then gone.
func TestServerStates(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")

	b.gate.Hold()
	resp, err := b.create(b.server("born", "s6.large.2"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := (*resp.ServerIds)[0]
	build := []phase{
		{"BUILD", ecs.TaskScheduling}, {"BUILD", ecs.TaskBlockDeviceMap},
		{"BUILD", ecs.TaskNetworking}, {"BUILD", ecs.TaskSpawning},
	}
	job := b.stepThrough(t, b.gate, id, *resp.JobId, build, func(p phase, s *model.ServerDetail) {
		if s.OSEXTSTSvmState != "building" || s.OSEXTSTSpowerState != 0 || s.OSSRVUSGlaunchedAt != "" || s.Progress == nil || *s.Progress != 0 {
			t.Errorf("during %s: vm_state %s power %d launched_at %q progress %v, want building, 0, none, 0",
				p.task, s.OSEXTSTSvmState, s.OSEXTSTSpowerState, s.OSSRVUSGlaunchedAt, s.Progress)
		}
		if p.task == ecs.TaskScheduling {
			list, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{Status: ptr("BUILD")})
			if err != nil || *list.Count != 1 {
				t.Errorf("ListServersDetails status=BUILD: %v %v", err, list)
			}
			_, err = b.stop(false, id)
			wantSDKError(t, err, http.StatusConflict, ecs.CodeBusy)
			_, err = b.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withStopServer")}, false)
			wantSDKError(t, err, http.StatusConflict, ecs.CodeBusy)
		}
	})
	if job.Status.Value() != "SUCCESS" {
		t.Fatalf("create job ended %s", job.Status.Value())
	}
	s := b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
	if s.Progress == nil || *s.Progress != 100 || s.OSSRVUSGlaunchedAt == "" {
		t.Errorf("after the create: progress %v launched_at %q, want 100 and a time", s.Progress, s.OSSRVUSGlaunchedAt)
	}

	del, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(id)}})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	job = b.stepThrough(t, b.gate, id, *del.JobId, []phase{{"ACTIVE", ecs.TaskDeleting}}, nil)
	if job.Status.Value() != "SUCCESS" {
		t.Fatalf("delete job ended %s", job.Status.Value())
	}
	_, err = b.client.ShowServer(&model.ShowServerRequest{ServerId: id})
	wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
}

// TestConcurrentRequests sends requests at once and checks that the rules
// hold under contention: one resize of a server wins and the others are
// busy; creates beyond the quota are refused however they interleave; every
// server gets its own address.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	small := testTenant(9, ecs.Quota{Instances: 5, Cores: 100, RAMMB: 409600})
	b := setupWith(t, options{tenants: []node.TenantQuota{small}, stepped: true})
	other := b.login(t, small.Tenant)
	id := b.mustCreateStopped(t, "contended", "s6.large.2", "")

	// all runs n calls at once and returns their errors.
	all := func(n int, call func(i int) error) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = call(i)
			}()
		}
		wg.Wait()
		return errs
	}

	t.Run("one resize wins", func(t *testing.T) {
		// Hold the winner in its first phase until every request has been
		// answered; otherwise it could finish first and a late request
		// would see the new flavor (Ecs.0009) instead of a busy server.
		b.gate.Hold()
		var jobs [10]*string
		errs := all(10, func(i int) error {
			resp, err := b.resizeTo(id, "s6.xlarge.2")
			if err == nil {
				jobs[i] = resp.JobId
			}
			return err
		})
		b.gate.Open()
		won := 0
		for i, err := range errs {
			if err == nil {
				won++
				b.wantJob(t, *jobs[i], "SUCCESS")
				continue
			}
			wantSDKError(t, err, http.StatusConflict, ecs.CodeBusy)
		}
		if won != 1 {
			t.Fatalf("%d concurrent resizes were accepted, want 1", won)
		}
		b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
	})

	t.Run("quota under contention", func(t *testing.T) {
		var ids [12][]string
		errs := all(12, func(i int) error {
			resp, err := other.create(other.server(fmt.Sprintf("race-%02d", i), "s6.small.1"))
			if err == nil {
				ids[i] = *resp.ServerIds
			}
			return err
		})
		var created []string
		for i, err := range errs {
			if err != nil {
				wantCode(t, err, ecs.CodeQuota)
				continue
			}
			created = append(created, ids[i]...)
		}
		if len(created) != 5 {
			t.Fatalf("%d servers created by 12 concurrent requests under a 5-instance quota, want 5", len(created))
		}
		addrs := map[string]bool{}
		for _, sid := range created {
			waitFor(t, "server "+sid, func() bool { return other.show(t, sid).Status == "ACTIVE" })
			for _, list := range other.show(t, sid).Addresses {
				for _, a := range list {
					if addrs[a.Addr] {
						t.Errorf("address %s given twice", a.Addr)
					}
					addrs[a.Addr] = true
				}
			}
		}
		if l := other.limits(t); l.TotalInstancesUsed != 5 {
			t.Errorf("%d instances used, want 5", l.TotalInstancesUsed)
		}
	})
}
