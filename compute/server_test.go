package compute_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// createRequest returns a valid request for one s6.small.1 server on the
// project's default network, changed by mutate.
func createRequest(projectID string, mutate func(r *ecs.CreateServersRequest)) *ecs.CreateServersRequest {
	r := &ecs.CreateServersRequest{
		ProjectID: projectID, Name: "web", ImageID: imageUbuntu22, FlavorID: "s6.small.1",
		VPCID: compute.DerivedUUID(projectID + "/vpc"), SubnetIDs: []string{compute.DerivedUUID(projectID + "/subnet")},
		Count: 1, ChargingMode: ecs.ChargingPostPaid,
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func (b *testBundle) mustCreate(t *testing.T, req *ecs.CreateServersRequest) *ecs.CreateServersResult {
	t.Helper()
	res, err := b.svc.CreateServers(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateServers: %v", err)
	}
	return res
}

func TestCreateServers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)

	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.Count = 3
		r.Metadata = map[string]string{"owner": "ops"}
		r.Tags = []string{"env=test"}
	}))
	if len(res.ServerIDs) != 3 || res.JobID == "" || res.OrderID != "" {
		t.Fatalf("CreateServers = %+v, want a job, three servers and no order", res)
	}

	ips := map[string]bool{}
	for i, id := range res.ServerIDs {
		s := b.server(t, id)
		if want := fmt.Sprintf("web-%04d", i+1); s.Name != want {
			t.Errorf("server %d name = %q, want %q", i, s.Name, want)
		}
		if s.Status() != ecs.StatusBuild || s.VMState != ecs.VMBuilding || s.TaskState != ecs.TaskScheduling || s.PowerState != ecs.PowerNoState {
			t.Errorf("server %d: %s/%s/%d, want building/scheduling/0 (BUILD)", i, s.VMState, s.TaskState, s.PowerState)
		}
		// The x86 host of the first AZ that fits with the fewest vCPUs
		// left (best fit), keeping the large-memory host free.
		if s.AvailabilityZone != "cn-north-4a" || s.HostID != "cn-north-4a-x86-01" {
			t.Errorf("server %d placed in %s on %s, want cn-north-4a-x86-01", i, s.AvailabilityZone, s.HostID)
		}
		ips[s.IPAddress] = true
		if want := fmt.Sprintf("192.168.0.%d", 10+i); s.IPAddress != want {
			t.Errorf("server %d IP = %s, want %s", i, s.IPAddress, want)
		}
		if !regexp.MustCompile(`^fa:16:3e(:[0-9a-f]{2}){3}$`).MatchString(s.MACAddress) {
			t.Errorf("server %d MAC = %q", i, s.MACAddress)
		}
		if !cmp.Equal(s.SecurityGroups, []string{compute.DerivedUUID(p + "/sg")}) {
			t.Errorf("server %d security groups = %v, want the default group", i, s.SecurityGroups)
		}
		if s.RootVolumeSize != 40 || s.RootVolumeID == "" || s.PortID == "" {
			t.Errorf("server %d root volume %q of %d GB, port %q; want the image's 40 GB", i, s.RootVolumeID, s.RootVolumeSize, s.PortID)
		}
		if s.Metadata["owner"] != "ops" || !cmp.Equal(s.Tags, []string{"env=test"}) {
			t.Errorf("server %d metadata %v tags %v", i, s.Metadata, s.Tags)
		}
		if s.Created.IsZero() || !s.LaunchedAt.IsZero() {
			t.Errorf("server %d created %v launched %v; want created, not launched", i, s.Created, s.LaunchedAt)
		}
	}
	if len(ips) != 3 {
		t.Errorf("IP addresses %v are not distinct", ips)
	}

	job := b.job(t, res.JobID)
	if job.Type != ecs.JobCreateServer || job.Status != ecs.JobInit || job.ServerID != "" || len(job.SubJobs) != 3 {
		t.Fatalf("job = %+v, want an INIT createServer job with three sub-jobs", job)
	}
	var subIDs []string
	for i, sub := range job.SubJobs {
		if sub.Type != ecs.JobCreateSingleServer || sub.ParentID != job.ID || sub.ServerID != res.ServerIDs[i] || sub.Status != ecs.JobInit {
			t.Errorf("sub-job %d = %+v, want an INIT createSingleServer of server %s", i, sub, res.ServerIDs[i])
		}
		subIDs = append(subIDs, sub.ID)
	}
	// The sub-jobs are what runs; the parent only collects them.
	if diff := cmp.Diff(subIDs, jobIDs(b.queue.Jobs(p))); diff != "" {
		t.Errorf("enqueued jobs (-want +got):\n%s", diff)
	}

	l, err := b.svc.Limits(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if l.InstancesUsed != 3 || l.CoresUsed != 3 || l.RAMUsedMB != 3*1024 {
		t.Errorf("Limits = %+v, want 3 instances, 3 cores, 3072 MB used", l)
	}

	// One server keeps its name as given.
	one := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.Name = "solo" }))
	if s := b.server(t, one.ServerIDs[0]); s.Name != "solo" || s.IPAddress != "192.168.0.13" {
		t.Errorf("single server: name %q IP %s, want solo at 192.168.0.13", s.Name, s.IPAddress)
	}
}

func jobIDs(jobs []*ecs.Job) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func TestCreateServersPlacement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		mutate   func(r *ecs.CreateServersRequest)
		wantAZ   string
		wantHost string // prefix
	}{
		{"first AZ by default", nil, "cn-north-4a", "cn-north-4a-x86-01"},
		{"requested AZ, smallest host that fits", func(r *ecs.CreateServersRequest) { r.AvailabilityZone = "cn-north-4c" }, "cn-north-4c", "cn-north-4c-x86-small"},
		{
			"skips an AZ where the flavor is sold out",
			func(r *ecs.CreateServersRequest) { r.FlavorID = "m6.8xlarge.8" }, // sold out in cn-north-4a
			"cn-north-4b", "cn-north-4b-",
		},
		{
			"Arm flavor on an Arm host",
			func(r *ecs.CreateServersRequest) { r.FlavorID, r.ImageID = "kc1.large.2", imageUbuntuArm },
			"cn-north-4a", "cn-north-4a-arm-01",
		},
		{
			"large-memory flavor on the large-memory host",
			func(r *ecs.CreateServersRequest) {
				r.FlavorID, r.ChargingMode, r.AutoPay = "e3.14xlarge.12", ecs.ChargingPrePaid, true
			},
			"cn-north-4a", "cn-north-4a-hm-01",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, ecs.DefaultQuota)
			res := b.mustCreate(t, createRequest(p, tc.mutate))
			s := b.server(t, res.ServerIDs[0])
			if s.AvailabilityZone != tc.wantAZ || !strings.HasPrefix(s.HostID, tc.wantHost) {
				t.Errorf("placed in %s on %s, want %s on %s*", s.AvailabilityZone, s.HostID, tc.wantAZ, tc.wantHost)
			}
		})
	}
}

func TestCreateServersRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name   string
		quota  ecs.Quota
		mutate func(p string, r *ecs.CreateServersRequest)
		want   string
	}{
		{"unknown image", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.ImageID = "nope" }, ecs.CodeImageNotFound},
		{"unknown flavor", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.FlavorID = "nope" }, ecs.CodeFlavorNotFound},
		{"image for another architecture", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.ImageID = imageUbuntuArm }, ecs.CodeImageInvalid},
		{"Xen flavor with a KVM-only image", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.FlavorID = "s1.xlarge" }, ecs.CodeImageInvalid},
		{"flavor sold yearly/monthly only", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.FlavorID = "e3.7xlarge.12" }, ecs.CodeBadRequest},
		{"cpu_threads 1 on a shared flavor", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.CPUThreads = 1 }, ecs.CodeBadRequest},
		{"cpu_threads out of range", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.CPUThreads = 4 }, ecs.CodeBadRequest},
		{"unknown AZ", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.AvailabilityZone = "cn-north-4z" }, ecs.CodeBadRequest},
		{
			"flavor sold out in the requested AZ", ecs.DefaultQuota,
			func(_ string, r *ecs.CreateServersRequest) {
				r.FlavorID, r.AvailabilityZone = "s6.large.2", "cn-north-4b"
			},
			ecs.CodeInsufficientCap,
		},
		{
			"flavor sold out everywhere", ecs.DefaultQuota,
			func(_ string, r *ecs.CreateServersRequest) { r.FlavorID = "p2s.16xlarge.8" },
			ecs.CodeInsufficientCap,
		},
		{
			"abandoned flavor", ecs.DefaultQuota,
			func(_ string, r *ecs.CreateServersRequest) { r.FlavorID, r.ImageID = "s1.medium", imageUbuntu20 },
			ecs.CodeFlavorAbandoned,
		},
		{"unknown subnet", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.SubnetIDs = []string{"nope"} }, ecs.CodeSubnetNotFound},
		{
			"another project's subnet", ecs.DefaultQuota,
			func(_ string, r *ecs.CreateServersRequest) {
				r.SubnetIDs = []string{compute.DerivedUUID(ecs.DevTenant.ProjectID + "/subnet")}
			},
			ecs.CodeSubnetNotFound,
		},
		{"VPC differs from the subnet's", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.VPCID = "other-vpc" }, ecs.CodeVPCMismatch},
		{"no subnet", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.SubnetIDs = nil }, ecs.CodeBadRequest},
		{"unknown security group", ecs.DefaultQuota, func(_ string, r *ecs.CreateServersRequest) { r.SecurityGroups = []string{"nope"} }, ecs.CodeNetworkInvalid},
		{
			"instance quota", ecs.Quota{Instances: 2, Cores: -1, RAMMB: -1},
			func(_ string, r *ecs.CreateServersRequest) { r.Count = 3 },
			ecs.CodeQuota,
		},
		{
			"core quota", ecs.Quota{Instances: -1, Cores: 3, RAMMB: -1},
			func(_ string, r *ecs.CreateServersRequest) { r.FlavorID, r.Count = "s6.large.2", 2 },
			ecs.CodeQuota,
		},
		{
			"RAM quota", ecs.Quota{Instances: -1, Cores: -1, RAMMB: 2048},
			func(_ string, r *ecs.CreateServersRequest) { r.FlavorID = "s6.medium.4" },
			ecs.CodeQuota,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, tc.quota)
			before := b.snapshot(t, p)
			_, err := b.svc.CreateServers(t.Context(), createRequest(p, func(r *ecs.CreateServersRequest) { tc.mutate(p, r) }))
			requireCode(t, err, tc.want)
			b.requireUnchanged(t, p, before)
		})
	}
}

// TestCreateServersCapacity runs on three small hosts so that capacity runs
// out.
func TestCreateServersCapacity(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	b.setHosts(t,
		ecs.Host{ID: "a-1", AZ: "cn-north-4a", VCPUs: 2, RAMMB: 8192, Arch: "x86_64"},
		ecs.Host{ID: "a-2", AZ: "cn-north-4a", VCPUs: 2, RAMMB: 8192, Arch: "x86_64"},
		ecs.Host{ID: "b-1", AZ: "cn-north-4b", VCPUs: 1, RAMMB: 8192, Arch: "x86_64"},
	)
	p := b.newProject(t, ecs.DefaultQuota)
	hostsOf := func(res *ecs.CreateServersResult) []string {
		var hosts []string
		for _, id := range res.ServerIDs {
			hosts = append(hosts, b.server(t, id).HostID)
		}
		return hosts
	}

	// All servers of a request go to one AZ, and no AZ has room for five.
	_, err := b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.Count = 5 }))
	requireCode(t, err, ecs.CodeInsufficientCap)
	// Servers pack onto the host that fits with the fewest vCPUs left.
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.Count = 2 }))
	if got := hostsOf(res); !cmp.Equal(got, []string{"a-1", "a-1"}) {
		t.Errorf("two servers on %v, want [a-1 a-1]", got)
	}
	res = b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.Count = 2 }))
	if got := hostsOf(res); !cmp.Equal(got, []string{"a-2", "a-2"}) {
		t.Errorf("two more servers on %v, want [a-2 a-2]", got)
	}
	// cn-north-4a is full: the next server goes to the next AZ with room.
	res = b.mustCreate(t, createRequest(p, nil))
	if s := b.server(t, res.ServerIDs[0]); s.HostID != "b-1" || s.AvailabilityZone != "cn-north-4b" {
		t.Errorf("server on %s in %s, want b-1 in cn-north-4b", s.HostID, s.AvailabilityZone)
	}
	_, err = b.svc.CreateServers(ctx, createRequest(p, nil))
	requireCode(t, err, ecs.CodeInsufficientCap)
	_, err = b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.AvailabilityZone = "cn-north-4a" }))
	requireCode(t, err, ecs.CodeInsufficientCap)
	// Arm servers need Arm hosts.
	_, err = b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.FlavorID, r.ImageID, r.AvailabilityZone = "kc1.small.1", imageUbuntuArm, "cn-north-4c"
	}))
	requireCode(t, err, ecs.CodeInsufficientCap)
}

// TestCreateServersValidationOrder checks the order CreateServers documents:
// "image, flavor, AZ, network, quota, capacity, in that order". When two
// checks fail, the earlier one must answer.
func TestCreateServersValidationOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setHosts(t, ecs.Host{ID: "a-1", AZ: "cn-north-4a", VCPUs: 1, RAMMB: 1024, Arch: "x86_64"})
	tests := []struct {
		name   string
		quota  ecs.Quota
		mutate func(r *ecs.CreateServersRequest)
		want   string
	}{
		{"quota before capacity", ecs.Quota{Instances: 1, Cores: -1, RAMMB: -1}, func(r *ecs.CreateServersRequest) { r.Count = 2 }, ecs.CodeQuota},
		{"network before capacity", ecs.DefaultQuota, func(r *ecs.CreateServersRequest) { r.Count, r.SubnetIDs = 2, []string{"nope"} }, ecs.CodeSubnetNotFound},
		{"security group before capacity", ecs.DefaultQuota, func(r *ecs.CreateServersRequest) { r.Count, r.SecurityGroups = 2, []string{"nope"} }, ecs.CodeNetworkInvalid},
		{"flavor before AZ", ecs.DefaultQuota, func(r *ecs.CreateServersRequest) { r.FlavorID, r.AvailabilityZone = "nope", "nowhere" }, ecs.CodeFlavorNotFound},
		{"image before flavor", ecs.DefaultQuota, func(r *ecs.CreateServersRequest) { r.ImageID, r.FlavorID = "nope", "nope" }, ecs.CodeImageNotFound},
		{"AZ before network", ecs.DefaultQuota, func(r *ecs.CreateServersRequest) { r.AvailabilityZone, r.SubnetIDs = "nowhere", []string{"nope"} }, ecs.CodeBadRequest},
		{"network before quota", ecs.Quota{Instances: 0, Cores: -1, RAMMB: -1}, func(r *ecs.CreateServersRequest) { r.SubnetIDs = []string{"nope"} }, ecs.CodeSubnetNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, tc.quota)
			_, err := b.svc.CreateServers(t.Context(), createRequest(p, tc.mutate))
			requireCode(t, err, tc.want)
		})
	}
}

func TestCreateServersSpotQuota(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.Quota{Instances: 1, Cores: -1, RAMMB: -1})
	b.mustCreate(t, createRequest(p, nil))
	_, err := b.svc.CreateServers(ctx, createRequest(p, nil))
	requireCode(t, err, ecs.CodeQuota)
	// Spot servers count against their own counters.
	spot := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.ChargingMode = ecs.ChargingSpot }))
	if s := b.server(t, spot.ServerIDs[0]); s.ChargingMode != ecs.ChargingSpot {
		t.Errorf("charging mode = %q, want spot", s.ChargingMode)
	}
	_, err = b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.ChargingMode = ecs.ChargingSpot }))
	requireCode(t, err, ecs.CodeQuota)
	l, err := b.svc.Limits(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if l.InstancesUsed != 1 || l.SpotInstancesUsed != 1 || l.SpotCoresUsed != 1 || l.SpotRAMUsedMB != 1024 {
		t.Errorf("Limits = %+v, want one pay-per-use and one spot server", l)
	}
}

func TestCreateServersPrePaid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.ChargingMode, r.AutoPay, r.PeriodType, r.PeriodNum, r.Count = ecs.ChargingPrePaid, true, "month", 1, 2
	}))
	if !regexp.MustCompile(`^CS\d{12}[0-9A-Z]{5}$`).MatchString(res.OrderID) {
		t.Errorf("order ID = %q, want CS<yymmddhhmmss><5 upper-case alphanumerics>", res.OrderID)
	}
	for _, id := range res.ServerIDs {
		if s := b.server(t, id); s.ChargingMode != ecs.ChargingPrePaid || s.OrderID != res.OrderID {
			t.Errorf("server charging %q order %q, want yearly/monthly on order %s", s.ChargingMode, s.OrderID, res.OrderID)
		}
	}
}

func TestCreateServersDryRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	before := b.snapshot(t, p)

	res, err := b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.Count, r.DryRun, r.ClientToken = 2, true, "tok"
	}))
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if res.JobID != "" || len(res.ServerIDs) != 0 {
		t.Errorf("dry run result = %+v, want empty", res)
	}
	b.requireUnchanged(t, p, before)

	// A dry run that fails reports the error.
	_, err = b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.DryRun, r.FlavorID = true, "nope" }))
	requireCode(t, err, ecs.CodeFlavorNotFound)

	// The dry run consumed neither an address nor the client token.
	real := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok" }))
	if len(real.ServerIDs) != 1 {
		t.Fatalf("create after a dry run with the same token = %+v, want a new server", real)
	}
	if s := b.server(t, real.ServerIDs[0]); s.IPAddress != "192.168.0.10" {
		t.Errorf("first real server's IP = %s, want 192.168.0.10", s.IPAddress)
	}
}

func TestCreateServersClientToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)

	first := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.Count, r.ClientToken = 2, "tok-1" }))
	// The same token returns the first result, whatever the request says.
	for _, mutate := range []func(r *ecs.CreateServersRequest){
		func(r *ecs.CreateServersRequest) { r.Count, r.ClientToken = 2, "tok-1" },
		func(r *ecs.CreateServersRequest) { r.Count, r.ClientToken, r.Name = 5, "tok-1", "other" },
	} {
		again := b.mustCreate(t, createRequest(p, mutate))
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("repeated token (-first +again):\n%s", diff)
		}
	}
	_, total, err := b.svc.FindServers(ctx, ecs.ServerFilter{ProjectID: p})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(b.queue.Jobs(p)) != 2 || b.jobCount(t, p) != 3 {
		t.Errorf("after three calls with one token: %d servers, %d enqueued, %d job rows; want 2, 2, 3",
			total, len(b.queue.Jobs(p)), b.jobCount(t, p))
	}
	// Another token, or the same token in another project, creates anew.
	second := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok-2" }))
	if second.JobID == first.JobID {
		t.Error("a new token returned the old job")
	}
	other := b.newProject(t, ecs.DefaultQuota)
	third := b.mustCreate(t, createRequest(other, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok-1" }))
	if third.JobID == first.JobID {
		t.Error("the same token in another project returned the first project's job")
	}
	// A refused call does not record its token.
	_, err = b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.ClientToken, r.FlavorID = "tok-3", "nope" }))
	requireCode(t, err, ecs.CodeFlavorNotFound)
	if res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok-3" })); len(res.ServerIDs) != 1 {
		t.Errorf("token of a refused call: %+v, want a new server", res)
	}
}

func TestCreateServersEnqueueFails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	before := b.snapshot(t, p)
	boom := errors.New("queue unavailable")
	b.queue.failFor(p, boom)
	_, err := b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.Count, r.ClientToken = 2, "tok" }))
	if !errors.Is(err, boom) {
		t.Fatalf("CreateServers = %v, want the queue's error", err)
	}
	// The transaction rolled back: no server, no job, no address, no token.
	b.requireUnchanged(t, p, before)
	b.queue.failFor(p, nil)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok" }))
	if s := b.server(t, res.ServerIDs[0]); s.IPAddress != "192.168.0.10" {
		t.Errorf("IP after a rolled-back create = %s, want 192.168.0.10", s.IPAddress)
	}
}

func running(s *ecs.Server) { s.VMState, s.PowerState = ecs.VMActive, ecs.PowerRunning }

func TestActOnServers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		action   string
		hard     bool
		running  []bool // one server each
		wantType string
		wantSub  string
		wantTask []string // task state per server; "" = untouched (noop)
	}{
		{"start stopped and running", ecs.ActionStart, false, []bool{false, true}, ecs.JobBatchStart, ecs.JobStartServer, []string{ecs.TaskPoweringOn, ""}},
		{"stop running and stopped", ecs.ActionStop, false, []bool{true, false}, ecs.JobBatchStop, ecs.JobStopServer, []string{ecs.TaskPoweringOff, ""}},
		{"hard stop", ecs.ActionStop, true, []bool{true}, ecs.JobBatchStop, ecs.JobStopServer, []string{ecs.TaskPoweringOff}},
		{"soft reboot", ecs.ActionReboot, false, []bool{true, true}, ecs.JobBatchReboot, ecs.JobRebootServer, []string{ecs.TaskRebooting, ecs.TaskRebooting}},
		{"hard reboot", ecs.ActionReboot, true, []bool{true}, ecs.JobBatchReboot, ecs.JobRebootServer, []string{ecs.TaskRebootingHard}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, ecs.DefaultQuota)
			var ids []string
			for _, r := range tc.running {
				s := b.mustInsertServer(t, p, func(s *ecs.Server) {
					if r {
						running(s)
					}
				})
				ids = append(ids, s.ID)
			}
			jobID, err := b.svc.ActOnServers(t.Context(), &ecs.ServerActionRequest{ProjectID: p, Action: tc.action, Hard: tc.hard, ServerIDs: ids})
			if err != nil {
				t.Fatalf("ActOnServers: %v", err)
			}
			job := b.job(t, jobID)
			if job.Type != tc.wantType || job.Status != ecs.JobInit || len(job.SubJobs) != len(ids) {
				t.Fatalf("job = %+v, want INIT %s with %d sub-jobs", job, tc.wantType, len(ids))
			}
			for i, sub := range job.SubJobs {
				var params compute.ActionParams
				if err := json.Unmarshal([]byte(sub.Params), &params); err != nil {
					t.Fatalf("sub-job params %q: %v", sub.Params, err)
				}
				want := compute.ActionParams{Hard: tc.hard, Noop: tc.wantTask[i] == ""}
				if sub.Type != tc.wantSub || sub.ServerID != ids[i] || params != want {
					t.Errorf("sub-job %d: %s of %s with %+v, want %s of %s with %+v", i, sub.Type, sub.ServerID, params, tc.wantSub, ids[i], want)
				}
				if got := b.server(t, ids[i]).TaskState; got != tc.wantTask[i] {
					t.Errorf("server %d task = %q, want %q", i, got, tc.wantTask[i])
				}
			}
			if diff := cmp.Diff(jobIDs(job.SubJobs), jobIDs(b.queue.Jobs(p))); diff != "" {
				t.Errorf("enqueued (-sub-jobs +enqueued):\n%s", diff)
			}
		})
	}
}

func TestActOnServersRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name       string
		action     string
		second     func(s *ecs.Server) // the batch is [an idle running server, this one]
		unknown    bool                // the second ID names no server
		want       string
		wantStatus int
	}{
		{name: "reboot of a stopped server", action: ecs.ActionReboot, second: func(s *ecs.Server) {}, want: ecs.CodeStateConflict},
		{name: "start of a server in ERROR", action: ecs.ActionStart, second: func(s *ecs.Server) { s.VMState = ecs.VMError }, want: ecs.CodeStateConflict},
		{name: "stop of a server in ERROR", action: ecs.ActionStop, second: func(s *ecs.Server) { s.VMState = ecs.VMError }, want: ecs.CodeStateConflict},
		{name: "unknown server", action: ecs.ActionStop, unknown: true, want: ecs.CodeServerNotFound},
		{
			name: "busy server", action: ecs.ActionStop,
			second: func(s *ecs.Server) { running(s); s.TaskState = ecs.TaskRebooting },
			want:   ecs.CodeBusy, wantStatus: 409,
		},
		{name: "locked server", action: ecs.ActionStop, second: func(s *ecs.Server) { running(s); s.Locked = true }, want: ecs.CodeLocked},
		{name: "unknown action", action: "suspend", second: running, want: ecs.CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, ecs.DefaultQuota)
			ids := []string{b.mustInsertServer(t, p, running).ID}
			if tc.unknown {
				ids = append(ids, compute.NewUUID())
			} else {
				ids = append(ids, b.mustInsertServer(t, p, tc.second).ID)
			}
			before := b.snapshot(t, p)
			_, err := b.svc.ActOnServers(t.Context(), &ecs.ServerActionRequest{ProjectID: p, Action: tc.action, ServerIDs: ids})
			requireCode(t, err, tc.want)
			if e := (*ecs.Error)(nil); errors.As(err, &e) && e.Status != tc.wantStatus {
				t.Errorf("status = %d, want %d", e.Status, tc.wantStatus)
			}
			// The whole batch is refused: the first server is untouched.
			b.requireUnchanged(t, p, before)
		})
	}
}

func TestDeleteServers(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("accepted", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.DefaultQuota)
		ids := []string{b.mustInsertServer(t, p, running).ID, b.mustInsertServer(t, p, nil).ID,
			b.mustInsertServer(t, p, func(s *ecs.Server) { s.VMState = ecs.VMError }).ID}
		jobID, err := b.svc.DeleteServers(t.Context(), &ecs.DeleteServersRequest{ProjectID: p, ServerIDs: ids})
		if err != nil {
			t.Fatalf("DeleteServers: %v", err)
		}
		job := b.job(t, jobID)
		if job.Type != ecs.JobDeleteServer || len(job.SubJobs) != 3 {
			t.Fatalf("job = %+v, want deleteServer with three sub-jobs", job)
		}
		wantStatus := []string{ecs.StatusActive, ecs.StatusShutoff, ecs.StatusError}
		for i, sub := range job.SubJobs {
			s := b.server(t, ids[i])
			if sub.Type != ecs.JobDeleteSingleServer || sub.ServerID != ids[i] {
				t.Errorf("sub-job %d = %s of %s, want deleteSingleServer of %s", i, sub.Type, sub.ServerID, ids[i])
			}
			if s.TaskState != ecs.TaskDeleting || s.Status() != wantStatus[i] {
				t.Errorf("server %d: task %q status %s, want deleting and still %s", i, s.TaskState, s.Status(), wantStatus[i])
			}
		}
		if diff := cmp.Diff(jobIDs(job.SubJobs), jobIDs(b.queue.Jobs(p))); diff != "" {
			t.Errorf("enqueued (-sub-jobs +enqueued):\n%s", diff)
		}
	})

	for _, tc := range []struct {
		name    string
		second  func(s *ecs.Server)
		unknown bool
		want    string
	}{
		{name: "yearly/monthly server", second: func(s *ecs.Server) { s.ChargingMode = ecs.ChargingPrePaid }, want: ecs.CodeChargingNotAllowed},
		{name: "busy server", second: func(s *ecs.Server) { s.TaskState = ecs.TaskPoweringOn }, want: ecs.CodeBusy},
		{name: "unknown server", unknown: true, want: ecs.CodeServerNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, ecs.DefaultQuota)
			ids := []string{b.mustInsertServer(t, p, running).ID}
			if tc.unknown {
				ids = append(ids, "no-such-server")
			} else {
				ids = append(ids, b.mustInsertServer(t, p, tc.second).ID)
			}
			before := b.snapshot(t, p)
			_, err := b.svc.DeleteServers(t.Context(), &ecs.DeleteServersRequest{ProjectID: p, ServerIDs: ids})
			requireCode(t, err, tc.want)
			b.requireUnchanged(t, p, before)
		})
	}
}

func TestFindServersThroughService(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) { r.Count = 3 }))
	servers, total, err := b.svc.FindServers(ctx, ecs.ServerFilter{ProjectID: p, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(res.ServerIDs)
	slices.Reverse(want)
	if total != 3 || !cmp.Equal(serverIDs(servers), want[:2]) {
		t.Errorf("FindServers = %v (total %d), want %v (total 3)", serverIDs(servers), total, want[:2])
	}
	// Another project sees none of them.
	if _, err := b.svc.FindServerByID(ctx, ecs.DevTenant.ProjectID, res.ServerIDs[0]); ecs.ErrorCode(err) != ecs.CodeServerNotFound {
		t.Errorf("FindServerByID from another project = %v, want %s", err, ecs.CodeServerNotFound)
	}
}

// TestFindServerDetails checks that the one-read detail methods return what
// the separate reads (servers, security groups, volumes) return.
func TestFindServerDetails(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.Count = 3
		r.DataVolumes = []ecs.VolumeSpec{{VolumeType: "SSD", SizeGB: 20}}
	}))
	f := ecs.ServerFilter{ProjectID: p, Limit: 2}
	servers, total, err := b.svc.FindServers(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	sgs, err := b.svc.FindSecurityGroups(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	vols, err := b.svc.VolumesOfServers(ctx, p, serverIDs(servers))
	if err != nil {
		t.Fatal(err)
	}
	want := &ecs.ServerDetails{Servers: servers, Total: total, SecurityGroups: sgs, Volumes: vols}
	got, err := b.svc.FindServerDetails(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FindServerDetails (-separate reads +one read):\n%s", diff)
	}
	if len(got.SecurityGroups) == 0 || len(got.Volumes[servers[0].ID]) != 2 {
		t.Errorf("FindServerDetails: %d security groups, %d volumes of %s; want some and 2",
			len(got.SecurityGroups), len(got.Volumes[servers[0].ID]), servers[0].ID)
	}

	id := res.ServerIDs[0]
	srv, err := b.svc.FindServerByID(ctx, p, id)
	if err != nil {
		t.Fatal(err)
	}
	vols, err = b.svc.VolumesOfServers(ctx, p, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	want = &ecs.ServerDetails{Servers: []*ecs.Server{srv}, Total: 1, SecurityGroups: sgs, Volumes: vols}
	one, err := b.svc.FindServerDetail(ctx, p, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, one); diff != "" {
		t.Errorf("FindServerDetail (-separate reads +one read):\n%s", diff)
	}
	// Another project sees none of them.
	if _, err := b.svc.FindServerDetail(ctx, ecs.DevTenant.ProjectID, id); ecs.ErrorCode(err) != ecs.CodeServerNotFound {
		t.Errorf("FindServerDetail from another project = %v, want %s", err, ecs.CodeServerNotFound)
	}
}

func serverIDs(servers []*ecs.Server) []string {
	var ids []string
	for _, s := range servers {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestCreateServersAddresses runs a small subnet out of addresses: host
// numbers start at 10 and the broadcast address is never given out.
func TestCreateServersAddresses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)
	vpc := &ecs.VPC{ID: "vpc-small", ProjectID: p, Name: "small", CIDR: "10.1.0.0/16"}
	sn := &ecs.Subnet{ID: "subnet-small", ProjectID: p, VPCID: vpc.ID, Name: "small", CIDR: "10.1.2.0/28", GatewayIP: "10.1.2.1"}
	b.inTx(t, func(tx *sql.Tx) error {
		if err := b.db.InsertVPC(ctx, tx, vpc); err != nil {
			return err
		}
		return b.db.InsertSubnet(ctx, tx, sn)
	})
	req := func(count int) *ecs.CreateServersRequest {
		return createRequest(p, func(r *ecs.CreateServersRequest) {
			r.VPCID, r.SubnetIDs, r.Count = vpc.ID, []string{sn.ID}, count
			r.SecurityGroups = []string{compute.DerivedUUID(p + "/sg")}
		})
	}
	res := b.mustCreate(t, req(5))
	var ips []string
	for _, id := range res.ServerIDs {
		s := b.server(t, id)
		ips = append(ips, s.IPAddress)
		if !cmp.Equal(s.SecurityGroups, []string{compute.DerivedUUID(p + "/sg")}) || s.VPCID != vpc.ID || s.SubnetID != sn.ID {
			t.Errorf("server on %s/%s with groups %v", s.VPCID, s.SubnetID, s.SecurityGroups)
		}
	}
	if want := []string{"10.1.2.10", "10.1.2.11", "10.1.2.12", "10.1.2.13", "10.1.2.14"}; !cmp.Equal(ips, want) {
		t.Errorf("addresses %v, want %v", ips, want)
	}
	before := b.snapshot(t, p)
	_, err := b.svc.CreateServers(ctx, req(1))
	requireCode(t, err, "Ecs.0012")
	b.requireUnchanged(t, p, before)
}
