package httpapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/utils"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// The response constructors, held against the SDK's own decoder (what
// clients run) and against the published definitions (checkOAS).

// sdkDecode decodes body the way the SDK decodes a response body
// (core/hc_http_client.go deserializeResponseFields: utils.Unmarshal into
// the response struct held in an interface).
func sdkDecode(t *testing.T, body []byte, resp any) {
	t.Helper()
	var holder any = resp
	if err := utils.Unmarshal(body, &holder); err != nil {
		t.Fatalf("SDK cannot decode the body: %v\nbody: %s", err, body)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// rawField returns the raw JSON of a top-level key of obj.
func rawField(t *testing.T, obj []byte, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	raw, ok := m[key]
	if !ok {
		return "<absent>"
	}
	return string(raw)
}

func TestServerDetailSDK(t *testing.T) {
	t.Parallel()
	for name, s := range testServers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newServerDetail(testView(s))
			body := mustMarshal(t, showServerBody{Server: d})
			checkOAS(t, "ECS/ShowServer.json", "/v1/{project_id}/cloudservers/{server_id}", "get", "200", body)
			list := mustMarshal(t, listServersDetailsBody{Count: 1, Servers: []any{d}})
			checkOAS(t, "ECS/ListServersDetails.json", "/v1/{project_id}/cloudservers/detail", "get", "200", list)

			var resp model.ShowServerResponse
			sdkDecode(t, body, &resp)
			var lresp model.ListServersDetailsResponse
			sdkDecode(t, list, &lresp)
			if lresp.Count == nil || *lresp.Count != 1 || lresp.Servers == nil || len(*lresp.Servers) != 1 {
				t.Fatalf("list: count/servers did not survive: %+v", lresp)
			}
			got := resp.Server
			if got == nil {
				t.Fatal("server missing")
			}
			obj := mustMarshal(t, d)

			eq(t, "id", got.Id, s.ID)
			eq(t, "status", got.Status, s.Status())
			eq(t, "tenant_id", got.TenantId, testProjectID)
			eq(t, "user_id", got.UserId, testUserID)
			eq(t, "flavor.id", got.Flavor.Id, "s6.large.2")
			eq(t, "flavor.vcpus", got.Flavor.Vcpus, "2")
			eq(t, "flavor.ram", got.Flavor.Ram, "4096")
			eq(t, "flavor.disk", got.Flavor.Disk, "0")
			eq(t, "image.id", got.Image.Id, testImageID)
			eq(t, "power_state", got.OSEXTSTSpowerState, int32(s.PowerState))
			eq(t, "vm_state", got.OSEXTSTSvmState, s.VMState)
			eq(t, "created", got.Created, "2025-03-04T04:06:07Z")
			eq(t, "updated", got.Updated, "2025-03-04T05:06:07Z")
			eq(t, "terminated_at", got.OSSRVUSGterminatedAt, "")
			eq(t, "availability_zone", got.OSEXTAZavailabilityZone, "cn-north-4a")
			eq(t, "metadata.charging_mode", got.Metadata["charging_mode"], s.ChargingMode)
			eq(t, "metadata.vpc_id", got.Metadata["vpc_id"], testVPCID)
			eq(t, "metadata.metering.resourcespeccode", got.Metadata["metering.resourcespeccode"], "s6.large.2")
			eq(t, "metadata.image_name", got.Metadata["image_name"], "Ubuntu 22.04 server 64bit(40GB)")
			eq(t, "metadata.os_type", got.Metadata["os_type"], "Linux")
			eq(t, "enterprise_project_id", *got.EnterpriseProjectId, "0")
			eq(t, "sys_tags[0].key", *(*got.SysTags)[0].Key, "_sys_enterprise_project_id")
			eq(t, "sys_tags[0].value", *(*got.SysTags)[0].Value, "0")
			eq(t, "root_device_name", got.OSEXTSRVATTRrootDeviceName, "/dev/vda")
			eq(t, "locked", got.Locked, s.Locked)

			if s.TaskState == ecs.TaskNone {
				eq(t, "raw task_state", rawField(t, obj, "OS-EXT-STS:task_state"), "null")
			} else {
				eq(t, "task_state", got.OSEXTSTStaskState, s.TaskState)
			}
			if s.LaunchedAt.IsZero() {
				eq(t, "launched_at", got.OSSRVUSGlaunchedAt, "")
			} else {
				eq(t, "launched_at", got.OSSRVUSGlaunchedAt, "2025-03-04T04:16:07.000000")
			}
			if s.IPAddress != "" {
				addrs := got.Addresses[testVPCID]
				if len(addrs) != 1 {
					t.Fatalf("addresses: %+v", got.Addresses)
				}
				eq(t, "addresses.version", addrs[0].Version, "4")
				eq(t, "addresses.addr", addrs[0].Addr, "192.168.0.219")
				eq(t, "addresses.primary", *addrs[0].Primary, true)
				eq(t, "addresses.type", addrs[0].OSEXTIPStype.Value(), "fixed")
				eq(t, "addresses.mac", *addrs[0].OSEXTIPSMACmacAddr, "fa:16:3e:09:31:dc")
				eq(t, "addresses.port_id", *addrs[0].OSEXTIPSportId, s.PortID)
				eq(t, "hostId", len(got.HostId), 56)
				eq(t, "host_status", got.HostStatus, "UP")
			} else {
				eq(t, "raw addresses", rawField(t, obj, "addresses"), "{}")
				eq(t, "host_status", got.HostStatus, "")
			}
			if s.RootVolumeID != "" {
				vols := got.OsExtendedVolumesvolumesAttached
				if len(vols) != 1 {
					t.Fatalf("volumes: %+v", vols)
				}
				eq(t, "volume.delete_on_termination", vols[0].DeleteOnTermination, "true")
				eq(t, "volume.bootIndex", *vols[0].BootIndex, "0")
				eq(t, "volume.device", vols[0].Device, "/dev/vda")
			} else {
				eq(t, "raw volumes", rawField(t, obj, "os-extended-volumes:volumes_attached"), "[]")
			}
			var sgIDs, sgNames []string
			for _, g := range got.SecurityGroups {
				sgIDs, sgNames = append(sgIDs, g.Id), append(sgNames, g.Name)
			}
			eq(t, "security_groups ids", strings.Join(sgIDs, ","), strings.Join(s.SecurityGroups, ","))
			if len(s.SecurityGroups) > 0 {
				// The second group is not in the view: its ID stands in for the name.
				eq(t, "security_groups names", strings.Join(sgNames, ","), "default,"+s.SecurityGroups[1])
			}
			if s.CPUThreads == 0 {
				eq(t, "raw cpu_options", rawField(t, obj, "cpu_options"), `{"hw:cpu_threads":null}`)
			} else {
				eq(t, "cpu_options", got.CpuOptions.HwcpuThreads.Value(), int32(s.CPUThreads))
			}
			if s.Status() == ecs.StatusError {
				eq(t, "raw fault", rawField(t, obj, "fault"),
					`{"code":500,"created":"2025-03-04T05:06:07Z","message":"No valid host was found.","details":""}`)
			} else {
				eq(t, "raw fault", rawField(t, obj, "fault"), "<absent>")
			}
		})
	}
}

func TestServerMetadata(t *testing.T) {
	t.Parallel()
	servers := testServers()
	for _, tc := range []struct {
		server string
		want   map[string]string // "" = must be absent
	}{
		{"running", map[string]string{
			"owner": "team-a", "charging_mode": "0", "EcmResStatus": "normal", "metering.imagetype": "gold",
			"metering.resourcetype": "1", "os_bit": "64", "metering.image_id": testImageID, "metering.order_id": "",
		}},
		{"prepaid", map[string]string{
			"charging_mode": "1", "metering.order_id": "CS1711152257C60TL", "lockSource": "ORDER",
			"lockSourceId": "CS1711152257C60TL", "lockScene": "TO_PERIOD_LOCK",
		}},
		{"spot", map[string]string{"charging_mode": "2", "EcmResStatus": "freeze", "lockSource": ""}},
	} {
		m := serverMetadata(testView(servers[tc.server]))
		for k, want := range tc.want {
			got, ok := m[k]
			if want == "" && ok {
				t.Errorf("%s: metadata %q = %q, want absent", tc.server, k, got)
			} else if want != "" && got != want {
				t.Errorf("%s: metadata %q = %q, want %q", tc.server, k, got, want)
			}
		}
	}
}

func TestCloudServerSDK(t *testing.T) {
	t.Parallel()
	for name, s := range testServers() {
		for _, expect := range [][]string{nil, expectFields} {
			t.Run(name+"/expect="+strings.Join(expect, ","), func(t *testing.T) {
				t.Parallel()
				c := newCloudServer(testView(s), expect)
				body := mustMarshal(t, listCloudServersBody{
					Servers:      []cloudServer{c},
					ServersLinks: []pageLink{{Href: "/v1.1/p/cloudservers/detail?limit=10&marker=" + s.ID, Rel: "next"}},
					RequestID:    "req-1",
				})
				checkOAS(t, "ECS/ListCloudServers.json", "/v1.1/{project_id}/cloudservers/detail", "get", "200", body)
				var resp model.ListCloudServersResponse
				sdkDecode(t, body, &resp)
				if resp.Servers == nil || len(*resp.Servers) != 1 {
					t.Fatalf("servers did not survive: %+v", resp)
				}
				got := (*resp.Servers)[0]
				eq(t, "id", got.Id, s.ID)
				eq(t, "status", got.Status, s.Status())
				eq(t, "vm_state", got.VmState, s.VMState)
				eq(t, "task_state", got.TaskState, s.TaskState)
				eq(t, "in_recycle_bin", got.InRecycleBin, false)
				eq(t, "flavor.vcpus", *got.Flavor.Vcpus, int32(2))
				eq(t, "flavor.ram", *got.Flavor.Ram, int32(4096))
				eq(t, "flavor.disk", *got.Flavor.Disk, int32(0))
				eq(t, "description", *got.Description, "test server")
				if s.Status() == ecs.StatusError {
					eq(t, "fault.code", *got.Fault.Code, int32(500))
				} else if got.Fault != nil {
					t.Errorf("fault = %+v, want nil", got.Fault)
				}
				obj := mustMarshal(t, c)
				if expect == nil {
					for _, field := range expectFields {
						if raw := rawField(t, obj, field); raw != "<absent>" {
							t.Errorf("%s present without expect-fields: %s", field, raw)
						}
					}
					return
				}
				eq(t, "power_state", *got.PowerState, int32(s.PowerState))
				eq(t, "market_info.charge_mode", got.MarketInfo.ChargeMode.Value(), chargeMode(s.ChargingMode))
				eq(t, "image.id", got.Image.Id, testImageID)
				eq(t, "key_name", *got.KeyName, "KeyPair-test")
				eq(t, "locked", *got.Locked, s.Locked)
				eq(t, "root_device_name", *got.RootDeviceName, "/dev/vda")
				eq(t, "enterprise_project_id", *got.EnterpriseProjectId, "0")
				eq(t, "metadata.charging_mode", got.Metadata["charging_mode"], s.ChargingMode)
				if s.IPAddress != "" {
					a := got.Addresses[testVPCID]
					eq(t, "addresses.version", a[0].Version.Value(), int32(4))
					eq(t, "addresses.addr", a[0].Addr, s.IPAddress)
				} else {
					eq(t, "raw addresses", rawField(t, obj, "addresses"), "{}")
				}
				if s.RootVolumeID != "" {
					v := (*got.VolumesAttached)[0]
					eq(t, "volumes.delete_on_termination", *v.DeleteOnTermination, true)
					eq(t, "volumes.size", *v.Size, int32(40))
				}
				if s.CPUThreads != 0 {
					eq(t, "cpu_options", got.CpuOptions.HwcpuThreads.Value(), int32(s.CPUThreads))
				}
				if s.LaunchedAt.IsZero() {
					eq(t, "launched_at", *got.LaunchedAt, "")
				} else {
					eq(t, "launched_at", *got.LaunchedAt, "2025-03-04T04:16:07.000000")
				}
			})
		}
	}
}

func TestServerFlavorGPUs(t *testing.T) {
	t.Parallel()
	v := testView(testServer())
	v.Flavor = testGPUFlavor()
	body := mustMarshal(t, showServerBody{Server: newServerDetail(v)})
	checkOAS(t, "ECS/ShowServer.json", "/v1/{project_id}/cloudservers/{server_id}", "get", "200", body)
	var resp model.ShowServerResponse
	sdkDecode(t, body, &resp)
	g := resp.Server.Flavor.Gpus
	if len(g) != 1 || *g[0].Name != "nvidia-t4" || *g[0].Count != 1 || *g[0].MemoryMb != 16384 {
		t.Errorf("gpus = %+v", g)
	}
	c := newCloudServer(v, nil)
	eq(t, "v1.1 gpus", len(c.Flavor.GPUs), 1)
}

func TestFlavorSDK(t *testing.T) {
	t.Parallel()
	for _, f := range []*ecs.Flavor{testFlavor(), testGPUFlavor()} {
		body := mustMarshal(t, listFlavorsBody{Flavors: []flavor{newFlavor(f, testProjectID)}})
		checkOAS(t, "ECS/ListFlavors.json", "/v1/{project_id}/cloudservers/flavors", "get", "200", body)
		var resp model.ListFlavorsResponse
		sdkDecode(t, body, &resp)
		got := (*resp.Flavors)[0]
		eq(t, "id", got.Id, f.ID)
		eq(t, "vcpus", got.Vcpus, itoa(f.VCPUs))
		eq(t, "ram", got.Ram, int32(f.RAMMB))
		eq(t, "disk", got.Disk, "0")
		eq(t, "swap", got.Swap, "")
		eq(t, "rxtx_factor", got.RxtxFactor, float32(1))
		eq(t, "is_public", got.OsFlavorAccessisPublic, true)
		eq(t, "disabled", got.OSFLVDISABLEDdisabled, false)
		eq(t, "links", len(got.Links), 2)
		eq(t, "links[0].rel", got.Links[0].Rel, "self")
		eq(t, "links[0].href", got.Links[0].Href, "/v1.0/"+testProjectID+"/flavors/"+f.ID)
		eq(t, "os_extra_specs.ecs:performancetype", *got.OsExtraSpecs.Ecsperformancetype, f.ExtraSpecs["ecs:performancetype"])
		eq(t, "attachableQuantity.free_nic", got.AttachableQuantity.FreeNic, int32(12))
		eq(t, "attachableQuantity.free_scsi", got.AttachableQuantity.FreeScsi, int32(60))
		obj := mustMarshal(t, newFlavor(f, testProjectID))
		eq(t, "raw rxtx_quota", rawField(t, obj, "rxtx_quota"), "null")
		eq(t, "raw os_extra_specs", rawField(t, obj, "os_extra_specs"), string(mustMarshal(t, f.ExtraSpecs)))
	}
}

func TestResizeFlavorSDK(t *testing.T) {
	t.Parallel()
	f := testFlavor()
	body := mustMarshal(t, listResizeFlavorsBody{Flavors: []resizeFlavor{newResizeFlavor(f, testProjectID)}})
	checkOAS(t, "ECS/ListResizeFlavors.json", "/v1/{project_id}/cloudservers/resize_flavors", "get", "200", body)
	var resp model.ListResizeFlavorsResponse
	sdkDecode(t, body, &resp)
	got := (*resp.Flavors)[0]
	eq(t, "vcpus", got.Vcpus, "2")
	eq(t, "ram", got.Ram, int32(4096))
	eq(t, "disk", got.Disk, "0")
	eq(t, "extra_specs.ecs:generation", *got.ExtraSpecs.Ecsgeneration, "s6")
	if got.InstanceQuota != nil {
		t.Errorf("instance_quota = %v, want nil", *got.InstanceQuota)
	}
	obj := mustMarshal(t, newResizeFlavor(f, testProjectID))
	eq(t, "raw instance_quota", rawField(t, obj, "instance_quota"), "null")
	eq(t, "raw os_extra_specs", rawField(t, obj, "os_extra_specs"), "<absent>")
}

func TestJobSDK(t *testing.T) {
	t.Parallel()
	for name, j := range testJobs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := mustMarshal(t, newJob(j))
			checkOAS(t, "ECS/ShowJob.json", "/v1/{project_id}/jobs/{job_id}", "get", "200", body)
			var resp model.ShowJobResponse
			sdkDecode(t, body, &resp)
			eq(t, "job_id", *resp.JobId, j.ID)
			eq(t, "job_type", *resp.JobType, j.Type)
			eq(t, "status", resp.Status.Value(), j.Status)
			eq(t, "begin_time", *resp.BeginTime, "2025-03-04T05:06:07.891Z")
			if j.EndTime.IsZero() {
				eq(t, "raw end_time", rawField(t, body, "end_time"), `""`)
			} else {
				eq(t, "end_time", *resp.EndTime, j.EndTime.UTC().Format("2006-01-02T15:04:05.000Z"))
			}
			if j.Status == ecs.JobFail {
				eq(t, "error_code", *resp.ErrorCode, j.ErrorCode)
				eq(t, "fail_reason", *resp.FailReason, j.FailReason)
			} else {
				eq(t, "raw error_code", rawField(t, body, "error_code"), "null")
				eq(t, "raw fail_reason", rawField(t, body, "fail_reason"), "null")
			}
			ent := resp.Entities
			if len(j.SubJobs) == 0 && !batchJobTypes[j.Type] {
				eq(t, "entities.server_id", *ent.ServerId, j.ServerID)
				if ent.SubJobs != nil || ent.SubJobsTotal != nil {
					t.Errorf("single job has sub_jobs: %+v", ent)
				}
				return
			}
			eq(t, "sub_jobs_total", *ent.SubJobsTotal, int32(len(j.SubJobs)))
			eq(t, "len(sub_jobs)", len(*ent.SubJobs), len(j.SubJobs))
			if ent.ServerId != nil {
				t.Errorf("batch job has entities.server_id %q", *ent.ServerId)
			}
			for i, s := range *ent.SubJobs {
				want := j.SubJobs[i]
				eq(t, "sub_jobs.job_id", *s.JobId, want.ID)
				eq(t, "sub_jobs.status", s.Status.Value(), want.Status)
				eq(t, "sub_jobs.entities.server_id", *s.Entities.ServerId, want.ServerID)
				if want.Status == ecs.JobFail {
					eq(t, "sub_jobs.error_code", *s.ErrorCode, want.ErrorCode)
					eq(t, "sub_jobs.entities.errorcode_message", *s.Entities.ErrorcodeMessage, want.FailReason)
				} else if s.ErrorCode != nil || s.Entities.ErrorcodeMessage != nil {
					t.Errorf("sub-job %s: error fields on %s", want.ID, want.Status)
				}
			}
		})
	}
}

func TestJobFailureDefaults(t *testing.T) {
	t.Parallel()
	j := newJob(&ecs.Job{ID: "j", Type: ecs.JobResizeServer, Status: ecs.JobFail, BeginTime: testTime})
	if j.ErrorCode == nil || *j.ErrorCode == "" || j.FailReason == nil || *j.FailReason == "" {
		t.Errorf("FAIL job without code/reason: %+v", j)
	}
}

func TestLimitsSDK(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]*ecs.Limits{
		"default":   testLimits(),
		"unlimited": {Quota: ecs.Quota{Instances: -1, Cores: -1, RAMMB: -1}},
		"huge":      {Quota: ecs.Quota{Instances: 1, Cores: 1, RAMMB: 1 << 40}, RAMUsedMB: 1 << 40},
	} {
		body := mustMarshal(t, newLimits(l))
		checkOAS(t, "ECS/ShowServerLimits.json", "/v1/{project_id}/cloudservers/limits", "get", "200", body)
		var resp model.ShowServerLimitsResponse
		sdkDecode(t, body, &resp)
		a := resp.Absolute
		eq(t, name+" maxTotalInstances", a.MaxTotalInstances, clamp32(l.Instances))
		eq(t, name+" maxTotalCores", a.MaxTotalCores, clamp32(l.Cores))
		eq(t, name+" maxTotalRAMSize", a.MaxTotalRAMSize, clamp32(l.RAMMB))
		eq(t, name+" totalInstancesUsed", a.TotalInstancesUsed, int32(l.InstancesUsed))
		eq(t, name+" totalCoresUsed", a.TotalCoresUsed, int32(l.CoresUsed))
		eq(t, name+" totalRAMUsed", a.TotalRAMUsed, int64(l.RAMUsedMB))
		eq(t, name+" totalSecurityGroupsUsed", a.TotalSecurityGroupsUsed, int32(l.SecurityGroupsUsed))
		eq(t, name+" maxTotalKeypairs", a.MaxTotalKeypairs, int32(-1))
		eq(t, name+" maxServerMeta", a.MaxServerMeta, int32(10))
		eq(t, name+" maxPersonality", a.MaxPersonality, int32(5))
		eq(t, name+" maxPersonalitySize", a.MaxPersonalitySize, int32(10240))
		eq(t, name+" maxServerGroups", a.MaxServerGroups, int32(10))
		eq(t, name+" maxServerGroupMembers", a.MaxServerGroupMembers, int32(16))
		eq(t, name+" maxSecurityGroups", a.MaxSecurityGroups, int32(100))
		eq(t, name+" maxSecurityGroupRules", a.MaxSecurityGroupRules, int32(5000))
		eq(t, name+" maxTotalFloatingIps", a.MaxTotalFloatingIps, int32(10))
		eq(t, name+" maxImageMeta", a.MaxImageMeta, int32(50))
		eq(t, name+" totalSpotInstancesUsed", *a.TotalSpotInstancesUsed, int32(l.SpotInstancesUsed))
		eq(t, name+" totalSpotRAMUsed", *a.TotalSpotRAMUsed, int32(l.SpotRAMUsedMB))
		eq(t, name+" limit_by_flavor", len(*a.LimitByFlavor), 0)
	}
}

func TestNetworkSDK(t *testing.T) {
	t.Parallel()
	v := &ecs.VPC{ID: testVPCID, ProjectID: testProjectID, Name: "vpc-default", CIDR: "192.168.0.0/16", Created: testTime}
	sn := &ecs.Subnet{
		ID: testSubnetID, ProjectID: testProjectID, VPCID: testVPCID, Name: "subnet-default",
		CIDR: "192.168.0.0/24", GatewayIP: "192.168.0.1", AZ: "cn-north-4a", Created: testTime,
	}
	g := &ecs.SecurityGroup{ID: testSGID, ProjectID: testProjectID, Name: "default", Description: "default group", VPCID: testVPCID, Created: testTime}

	vpcBody := mustMarshal(t, listVPCsBody{VPCs: []vpc{newVPC(v)}})
	checkOAS(t, "VPC/ListVpcs.json", "/v3/{project_id}/vpc/vpcs", "get", "200", vpcBody)
	var vr vpcmodel.ListVpcsResponse
	sdkDecode(t, vpcBody, &vr)
	gv := (*vr.Vpcs)[0]
	eq(t, "vpc.id", gv.Id, testVPCID)
	eq(t, "vpc.cidr", gv.Cidr, "192.168.0.0/16")
	eq(t, "vpc.status", gv.Status.Value(), "OK")
	eq(t, "vpc.enterprise_project_id", gv.EnterpriseProjectId, "0")
	eq(t, "vpc.tenant_id", gv.TenantId, testProjectID)
	eq(t, "vpc.created_at", gv.CreatedAt.String(), "2025-03-04T05:06:07Z")
	eq(t, "vpc.routes", len(gv.Routes), 0)

	subnetBody := mustMarshal(t, listSubnetsBody{Subnets: []subnet{newSubnet(sn)}})
	checkOAS(t, "VPC/ListSubnets.json", "/v1/{project_id}/subnets", "get", "200", subnetBody)
	var sr vpcmodel.ListSubnetsResponse
	sdkDecode(t, subnetBody, &sr)
	gs := (*sr.Subnets)[0]
	eq(t, "subnet.id", gs.Id, testSubnetID)
	eq(t, "subnet.vpc_id", gs.VpcId, testVPCID)
	eq(t, "subnet.gateway_ip", gs.GatewayIp, "192.168.0.1")
	eq(t, "subnet.status", gs.Status.Value(), "ACTIVE")
	eq(t, "subnet.dhcp_enable", gs.DhcpEnable, true)
	eq(t, "subnet.primary_dns", gs.PrimaryDns, primaryDNS)
	eq(t, "subnet.neutron_network_id", gs.NeutronNetworkId, testSubnetID)
	eq(t, "subnet.neutron_subnet_id", len(gs.NeutronSubnetId), 36)
	eq(t, "subnet.availability_zone", gs.AvailabilityZone, "cn-north-4a")
	eq(t, "subnet.available_ip_address_count", gs.AvailableIpAddressCount, int32(251))

	sgBody := mustMarshal(t, listSecurityGroupsBody{SecurityGroups: []securityGroup{newSecurityGroup(g)}})
	checkOAS(t, "VPC/ListSecurityGroups.json", "/v3/{project_id}/vpc/security-groups", "get", "200", sgBody)
	var gr vpcmodel.ListSecurityGroupsResponse
	sdkDecode(t, sgBody, &gr)
	gg := (*gr.SecurityGroups)[0]
	eq(t, "sg.id", gg.Id, testSGID)
	eq(t, "sg.name", gg.Name, "default")
	eq(t, "sg.description", *gg.Description, "default group")
	eq(t, "sg.vpc_id", *gg.VpcId, testVPCID)
	eq(t, "sg.enterprise_project_id", *gg.EnterpriseProjectId, "0")
	eq(t, "sg.security_group_rules", len(gg.SecurityGroupRules), 0)
}

func TestAvailableIPs(t *testing.T) {
	t.Parallel()
	for cidr, want := range map[string]int{
		"192.168.0.0/24": 251, "10.0.0.0/16": 65531, "10.0.0.0/29": 3, "10.0.0.0/30": 0, "bad": 0, "fd00::/64": 0,
	} {
		eq(t, cidr, availableIPs(cidr), want)
	}
}

func TestImageSDK(t *testing.T) {
	t.Parallel()
	arm := testImage()
	arm.Architecture, arm.Platform, arm.SupportsXen = "aarch64", "Huawei Cloud EulerOS", true
	huge := testImage()
	huge.SizeBytes = 11_811_160_064
	for name, img := range map[string]*ecs.Image{"x86": testImage(), "arm": arm, "huge": huge} {
		body := mustMarshal(t, listImagesBody{Images: []image{newImage(img)}})
		checkOAS(t, "IMS/ListImages.json", "/v2/cloudimages", "get", "200", body)
		var resp ims.ListImagesResponse
		sdkDecode(t, body, &resp)
		got := (*resp.Images)[0]
		eq(t, name+" id", got.Id, img.ID)
		eq(t, name+" status", got.Status.Value(), "active")
		eq(t, name+" visibility", got.Visibility.Value(), "public")
		eq(t, name+" __imagetype", got.Imagetype.Value(), "gold")
		eq(t, name+" __os_type", got.OsType.Value(), "Linux")
		eq(t, name+" __os_bit", got.OsBit.Value(), "64")
		eq(t, name+" __platform", got.Platform.Value(), img.Platform)
		eq(t, name+" __os_version", *got.OsVersion, img.OSVersion)
		eq(t, name+" __support_kvm", *got.SupportKvm, "true")
		eq(t, name+" __image_size", got.ImageSize, itoa64(img.SizeBytes))
		eq(t, name+" min_disk", got.MinDisk, int32(40))
		eq(t, name+" disk_format", *got.DiskFormat, "zvhd2")
		eq(t, name+" created_at", got.CreatedAt, "2025-03-04T05:06:07Z")
		eq(t, name+" protected", got.Protected, true)
		if img.SupportsXen {
			eq(t, name+" __support_xen", *got.SupportXen, "true")
		} else if got.SupportXen != nil {
			t.Errorf("%s: __support_xen = %q, want absent", name, *got.SupportXen)
		}
		eq(t, name+" __support_arm", got.SupportArm.Value(), map[bool]string{true: "true", false: "false"}[img.Architecture == "aarch64"])
		if img.SizeBytes > 1<<31-1 {
			if got.Size != nil {
				t.Errorf("%s: size = %d, want absent", name, *got.Size)
			}
		} else {
			eq(t, name+" size", *got.Size, int32(img.SizeBytes))
		}
	}
}

func TestAsyncResultsSDK(t *testing.T) {
	t.Parallel()
	create := mustMarshal(t, newCreateServersResult(&ecs.CreateServersResult{JobID: "job-1", ServerIDs: []string{testServerID}}))
	checkOAS(t, "ECS/CreatePostPaidServers.json", "/v1/{project_id}/cloudservers", "post", "200", create)
	checkOAS(t, "ECS/CreateServers.json", "/v1.1/{project_id}/cloudservers", "post", "200", create)
	var cr model.CreateServersResponse
	sdkDecode(t, create, &cr)
	eq(t, "job_id", *cr.JobId, "job-1")
	eq(t, "serverIds", strings.Join(*cr.ServerIds, ","), testServerID)
	if cr.OrderId != nil {
		t.Errorf("order_id = %q, want absent", *cr.OrderId)
	}

	prepaid := mustMarshal(t, newCreateServersResult(&ecs.CreateServersResult{OrderID: "CS1711152257C60TL", ServerIDs: []string{testServerID}}))
	checkOAS(t, "ECS/CreateServers.json", "/v1.1/{project_id}/cloudservers", "post", "200", prepaid)
	eq(t, "raw job_id", rawField(t, prepaid, "job_id"), "<absent>")
	eq(t, "empty serverIds", rawField(t, mustMarshal(t, newCreateServersResult(&ecs.CreateServersResult{JobID: "j"})), "serverIds"), "[]")

	jr := mustMarshal(t, jobResult{JobID: "job-2"})
	for _, op := range []struct{ file, path string }{
		{"ECS/ResizePostPaidServer.json", "/v1/{project_id}/cloudservers/{server_id}/resize"},
		{"ECS/BatchStartServers.json", "/v1/{project_id}/cloudservers/action"},
		{"ECS/BatchStopServers.json", "/v1/{project_id}/cloudservers/action"},
		{"ECS/BatchRebootServers.json", "/v1/{project_id}/cloudservers/action"},
		{"ECS/DeleteServers.json", "/v1/{project_id}/cloudservers/delete"},
	} {
		checkOAS(t, op.file, op.path, "post", "200", jr)
	}
	rr := mustMarshal(t, jobResult{JobID: "job-3", OrderID: "CS1"})
	checkOAS(t, "ECS/ResizeServer.json", "/v1.1/{project_id}/cloudservers/{server_id}/resize", "post", "200", rr)
	var resize model.ResizeServerResponse
	sdkDecode(t, rr, &resize)
	eq(t, "resize job_id", *resize.JobId, "job-3")
	eq(t, "resize order_id", *resize.OrderId, "CS1")
}

// TestWireJSONTypes pins the JSON types the SDK is strict about, on the raw
// bytes (a regression here breaks every Go client).
func TestWireJSONTypes(t *testing.T) {
	t.Parallel()
	s := testServers()["resizing"]
	detail := string(mustMarshal(t, newServerDetail(testView(s))))
	cloud := string(mustMarshal(t, newCloudServer(testView(s), expectFields)))
	fl := string(mustMarshal(t, newFlavor(testFlavor(), testProjectID)))
	for _, tc := range []struct{ name, body, want string }{
		{"v1 flavor strings", detail, `"flavor":{"id":"s6.large.2","name":"s6.large.2","disk":"0","vcpus":"2","ram":"4096","gpus":[],"asic_accelerators":[]}`},
		{"v1 power_state int", detail, `"OS-EXT-STS:power_state":4`},
		{"v1 task_state", detail, `"OS-EXT-STS:task_state":"resize_migrating"`},
		{"v1 address version string", detail, `"version":"4"`},
		{"v1 delete_on_termination string", detail, `"delete_on_termination":"true"`},
		{"v1 progress int", detail, `"progress":0`},
		{"v1 cpu_threads", detail, `"cpu_options":{"hw:cpu_threads":2}`},
		{"v1.1 flavor ints", cloud, `"flavor":{"id":"s6.large.2","name":"s6.large.2","vcpus":2,"ram":4096,"disk":0,"gpus":[],"asic_accelerators":[]}`},
		{"v1.1 address version int", cloud, `"version":4`},
		{"v1.1 delete_on_termination bool", cloud, `"delete_on_termination":true`},
		{"v1.1 fault null", cloud, `"fault":null`},
		{"flavor vcpus string ram int", fl, `"vcpus":"2","ram":4096,"disk":"0","swap":""`},
		{"flavor rxtx", fl, `"rxtx_factor":1,"rxtx_quota":null,"rxtx_cap":null`},
		{"flavor link type null", fl, `"type":null`},
	} {
		if !strings.Contains(tc.body, tc.want) {
			t.Errorf("%s: body lacks %s\nbody: %s", tc.name, tc.want, tc.body)
		}
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
