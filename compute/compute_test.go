package compute_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// Images of the default catalogue.
const (
	imageUbuntu22  = "abe65701-8a26-40ec-b381-c10498ca3745" // x86, KVM only
	imageUbuntu20  = "abc18505-fd91-4a98-9950-6114f4c4006a" // x86, KVM and Xen
	imageWindows   = "65029537-55c8-422e-b822-1cf110213b16" // x86, needs 2048 MB
	imageUbuntuArm = "764cb9f7-bcfd-460e-951c-077b29c321ed" // aarch64
)

// cat is the default catalogue; it is immutable and safe to share.
var cat = catalog.Default()

// newDB returns a real, private, on-disk database for one test.
func newDB(tb testing.TB) *store.DB { return storetest.NewDB(tb) }

// fakeQueue is a compute.Queue that records what it is given. It checks that
// it is called inside the transaction that wrote the jobs, as River's
// InsertTx would be, and fails for the projects given to failFor.
type fakeQueue struct {
	mu   sync.Mutex
	jobs []*ecs.Job
	errs map[string]error // by project
}

func (q *fakeQueue) Enqueue(ctx context.Context, tx *sql.Tx, jobs ...*ecs.Job) error {
	if tx == nil {
		return errors.New("fakeQueue: Enqueue without a transaction")
	}
	for _, j := range jobs {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE id = ?`, j.ID).Scan(&n); err != nil {
			return fmt.Errorf("fakeQueue: %w", err)
		}
		if n != 1 {
			return fmt.Errorf("fakeQueue: job %s is not in the transaction", j.ID)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		if err := q.errs[j.ProjectID]; err != nil {
			return err
		}
	}
	for _, j := range jobs {
		c := *j
		q.jobs = append(q.jobs, &c)
	}
	return nil
}

// Jobs returns the jobs enqueued for a project.
func (q *fakeQueue) Jobs(projectID string) []*ecs.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*ecs.Job
	for _, j := range q.jobs {
		if j.ProjectID == projectID {
			out = append(out, j)
		}
	}
	return out
}

// failFor makes Enqueue fail with err for jobs of projectID.
func (q *fakeQueue) failFor(projectID string, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.errs == nil {
		q.errs = map[string]error{}
	}
	q.errs[projectID] = err
}

// testBundle is a compute.Service on a fresh database with the default
// catalogue, the default hosts and the development tenant.
type testBundle struct {
	db    *store.DB
	queue *fakeQueue
	svc   *compute.Service
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := newDB(t)
	b := &testBundle{db: db, queue: &fakeQueue{}}
	b.svc = &compute.Service{Store: db, Queue: b.queue, Catalog: cat, Clock: ecs.RealClock{}, Logger: slog.New(slog.DiscardHandler)}
	if err := b.svc.EnsureTenant(t.Context(), ecs.DevTenant, ecs.DefaultQuota); err != nil {
		t.Fatalf("EnsureTenant: %v", err)
	}
	var hosts []ecs.Host
	for _, h := range cat.Hosts() {
		hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	b.setHosts(t, hosts...)
	return b
}

func (b *testBundle) setHosts(t *testing.T, hosts ...ecs.Host) {
	t.Helper()
	if err := b.svc.SetHosts(t.Context(), hosts); err != nil {
		t.Fatalf("SetHosts: %v", err)
	}
}

// newProject adds a tenant with quota q and its default network, and
// returns its project ID. Tests that share a bundle use a project each.
func (b *testBundle) newProject(t *testing.T, q ecs.Quota) string {
	t.Helper()
	projectID := compute.NewJobID() // 32 hex characters, like an IAM project ID
	tenant := ecs.Tenant{ProjectID: projectID, ProjectName: "cn-north-4", DomainID: "domain-" + projectID,
		AccessKey: "AK" + projectID, SecretKey: "SK" + projectID}
	if err := b.svc.EnsureTenant(t.Context(), tenant, q); err != nil {
		t.Fatalf("EnsureTenant: %v", err)
	}
	return projectID
}

// mustInsertServer writes a server straight into the store: stopped,
// s6.small.1, pay-per-use, in cn-north-4a on cn-north-4a-x86-01, changed by
// mutate. It is how tests put servers in states the API cannot reach
// directly (locked, frozen, busy, spot, yearly/monthly).
func (b *testBundle) mustInsertServer(t *testing.T, projectID string, mutate func(s *ecs.Server)) *ecs.Server {
	t.Helper()
	now := ecs.RealClock{}.Now()
	s := &ecs.Server{
		ID: compute.NewUUID(), ProjectID: projectID, Name: "srv", FlavorID: "s6.small.1", ImageID: imageUbuntu22,
		AvailabilityZone: "cn-north-4a", HostID: "cn-north-4a-x86-01",
		VMState: ecs.VMStopped, PowerState: ecs.PowerShutdown, ChargingMode: ecs.ChargingPostPaid,
		VPCID: compute.DerivedUUID(projectID + "/vpc"), SubnetID: compute.DerivedUUID(projectID + "/subnet"),
		IPAddress: "192.168.0.200", Created: now, Updated: now,
	}
	if mutate != nil {
		mutate(s)
	}
	b.inTx(t, func(tx *sql.Tx) error { return b.db.InsertServer(t.Context(), tx, s) })
	return s
}

func (b *testBundle) inTx(t *testing.T, fn func(tx *sql.Tx) error) {
	t.Helper()
	tx, err := b.db.BeginTx(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) server(t *testing.T, id string) *ecs.Server {
	t.Helper()
	s, err := b.svc.FindServerByID(t.Context(), "", id)
	if err != nil {
		t.Fatalf("FindServerByID(%s): %v", id, err)
	}
	return s
}

func (b *testBundle) job(t *testing.T, id string) *ecs.Job {
	t.Helper()
	j, err := b.svc.FindJobByID(t.Context(), "", id)
	if err != nil {
		t.Fatalf("FindJobByID(%s): %v", id, err)
	}
	return j
}

// jobCount returns how many job rows a project has.
func (b *testBundle) jobCount(t *testing.T, projectID string) int {
	t.Helper()
	var n int
	if err := b.db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM jobs WHERE project_id = ?`, projectID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// snapshot is what a refused request must leave untouched: a project's
// servers, its job rows and what was enqueued for it.
type snapshot struct {
	servers []*ecs.Server
	jobs    int
	queued  int
}

func (b *testBundle) snapshot(t *testing.T, projectID string) snapshot {
	t.Helper()
	servers, _, err := b.svc.FindServers(t.Context(), ecs.ServerFilter{ProjectID: projectID})
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{servers: servers, jobs: b.jobCount(t, projectID), queued: len(b.queue.Jobs(projectID))}
}

func (b *testBundle) requireUnchanged(t *testing.T, projectID string, before snapshot) {
	t.Helper()
	after := b.snapshot(t, projectID)
	if diff := cmp.Diff(before.servers, after.servers); diff != "" {
		t.Errorf("servers changed (-before +after):\n%s", diff)
	}
	if after.jobs != before.jobs {
		t.Errorf("job rows: %d, want %d (nothing written)", after.jobs, before.jobs)
	}
	if after.queued != before.queued {
		t.Errorf("enqueued jobs: %d, want %d (nothing enqueued)", after.queued, before.queued)
	}
}

// requireCode fails unless err carries the Huawei code want.
func requireCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := ecs.ErrorCode(err); got != want {
		t.Fatalf("error = %v (code %q), want code %s", err, got, want)
	}
}

func TestEnsureTenant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := ecs.DevTenant.ProjectID

	want := struct{ vpc, subnet, sg string }{
		compute.DerivedUUID(p + "/vpc"), compute.DerivedUUID(p + "/subnet"), compute.DerivedUUID(p + "/sg"),
	}
	check := func() {
		t.Helper()
		vpcs, err := b.svc.FindVPCs(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		subnets, err := b.svc.FindSubnets(ctx, p, "")
		if err != nil {
			t.Fatal(err)
		}
		sgs, err := b.svc.FindSecurityGroups(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(vpcs) != 1 || len(subnets) != 1 || len(sgs) != 1 {
			t.Fatalf("default network: %d VPCs, %d subnets, %d security groups; want one of each", len(vpcs), len(subnets), len(sgs))
		}
		if vpcs[0].ID != want.vpc || vpcs[0].Name != "vpc-default" || vpcs[0].CIDR != "192.168.0.0/16" {
			t.Errorf("VPC = %+v, want ID %s, vpc-default, 192.168.0.0/16", vpcs[0], want.vpc)
		}
		sn := subnets[0]
		if sn.ID != want.subnet || sn.VPCID != want.vpc || sn.CIDR != "192.168.0.0/24" || sn.GatewayIP != "192.168.0.1" {
			t.Errorf("subnet = %+v, want ID %s in VPC %s, 192.168.0.0/24 via 192.168.0.1", sn, want.subnet, want.vpc)
		}
		if sgs[0].ID != want.sg || sgs[0].Name != "default" {
			t.Errorf("security group = %+v, want ID %s named default", sgs[0], want.sg)
		}
	}
	check()

	// Again, with a new quota: the network is not duplicated, the quota
	// changes.
	q := ecs.Quota{Instances: 3, Cores: 7, RAMMB: 8192}
	if err := b.svc.EnsureTenant(ctx, ecs.DevTenant, q); err != nil {
		t.Fatalf("second EnsureTenant: %v", err)
	}
	check()
	l, err := b.svc.Limits(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if l.Quota != q || l.SecurityGroupsUsed != 1 || l.InstancesUsed != 0 {
		t.Errorf("Limits = %+v, want quota %+v, one security group, no instances", l, q)
	}

	// The IDs are the same on every ecsd and differ between projects.
	other := b.newProject(t, ecs.DefaultQuota)
	vpcs, err := b.svc.FindVPCs(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs) != 1 || vpcs[0].ID != compute.DerivedUUID(other+"/vpc") || vpcs[0].ID == want.vpc {
		t.Errorf("other project's VPCs = %+v, want one with ID %s", vpcs, compute.DerivedUUID(other+"/vpc"))
	}

	tenant, err := b.svc.FindTenantByAccessKey(ctx, ecs.DevTenant.AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	if *tenant != ecs.DevTenant {
		t.Errorf("FindTenantByAccessKey = %+v, want %+v", tenant, ecs.DevTenant)
	}
	_, err = b.svc.FindTenantByAccessKey(ctx, "NOSUCHKEY")
	requireCode(t, err, ecs.CodeForbidden)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      string
		version string
	}{
		{"NewUUID", compute.NewUUID(), "4"},
		{"DerivedUUID", compute.DerivedUUID("p/vpc"), "5"},
	}
	for _, tc := range tests {
		m := uuidPattern.FindStringSubmatch(tc.id)
		if m == nil {
			t.Errorf("%s = %q, not a lower-case UUID", tc.name, tc.id)
			continue
		}
		if m[1] != tc.version || !slices.Contains([]string{"8", "9", "a", "b"}, m[2]) {
			t.Errorf("%s = %q: version %s variant %s, want version %s, RFC 4122 variant", tc.name, tc.id, m[1], m[2], tc.version)
		}
	}
	if compute.DerivedUUID("p/vpc") != compute.DerivedUUID("p/vpc") {
		t.Error("DerivedUUID is not deterministic")
	}
	if compute.DerivedUUID("p/vpc") == compute.DerivedUUID("p/subnet") {
		t.Error("DerivedUUID gives two names the same ID")
	}
	if compute.NewUUID() == compute.NewUUID() {
		t.Error("NewUUID repeats itself")
	}
	if id := compute.NewJobID(); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("NewJobID = %q, want 32 hex characters", id)
	}
}

func TestFlavorsAndImages(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)

	f, err := b.svc.FindFlavorByID(ctx, "s6.large.2")
	if err != nil || f.ID != "s6.large.2" || f.VCPUs != 2 {
		t.Errorf("FindFlavorByID(s6.large.2) = %+v, %v", f, err)
	}
	_, err = b.svc.FindFlavorByID(ctx, "nope")
	requireCode(t, err, ecs.CodeFlavorNotFound)

	all, err := b.svc.FindFlavors(ctx, ecs.FlavorFilter{})
	if err != nil || len(all) != len(cat.Flavors()) {
		t.Fatalf("FindFlavors() = %d flavors, %v; want %d", len(all), err, len(cat.Flavors()))
	}
	az := "cn-north-4b"
	onSale, err := b.svc.FindFlavors(ctx, ecs.FlavorFilter{AvailabilityZone: &az})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range onSale {
		if !f.OnSale(az) {
			t.Errorf("FindFlavors(az %s) lists %s, which is %s there", az, f.ID, f.SaleStatus(az))
		}
	}
	if slices.ContainsFunc(onSale, func(f *ecs.Flavor) bool { return f.ID == "s6.large.2" }) {
		t.Error("FindFlavors(cn-north-4b) lists s6.large.2, sold out there")
	}
	marker := all[2].ID
	page, err := b.svc.FindFlavors(ctx, ecs.FlavorFilter{Marker: &marker, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{page[0].ID, page[1].ID}; len(page) != 2 || !cmp.Equal(got, []string{all[3].ID, all[4].ID}) {
		t.Errorf("FindFlavors(marker %s, limit 2) = %v, want [%s %s]", marker, got, all[3].ID, all[4].ID)
	}

	imgs, err := b.svc.FindImages(ctx)
	if err != nil || len(imgs) != len(cat.Images()) {
		t.Fatalf("FindImages = %d, %v; want %d", len(imgs), err, len(cat.Images()))
	}
	if !slices.IsSortedFunc(imgs, func(a, b *ecs.Image) int { return cmpString(a.Name, b.Name) }) {
		t.Error("FindImages is not sorted by name")
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	p := b.newProject(t, ecs.DefaultQuota)

	// A busy server whose job still runs is left alone.
	live := b.mustInsertServer(t, p, func(s *ecs.Server) {
		s.TaskState, s.ResizeFlavorID, s.ResizeHostID = ecs.TaskResizeMigrating, "s6.large.2", s.HostID
	})
	b.inTx(t, func(tx *sql.Tx) error {
		return b.db.InsertJob(ctx, tx, &ecs.Job{ID: compute.NewJobID(), ProjectID: p, Type: ecs.JobResizeServer,
			Status: ecs.JobRunning, ServerID: live.ID, Params: "{}"})
	})
	// A busy server whose job has ended, and one with no job at all, are
	// repaired; a server still building becomes ERROR.
	orphan := b.mustInsertServer(t, p, func(s *ecs.Server) {
		s.TaskState, s.ResizeFlavorID, s.ResizeHostID = ecs.TaskResizeFinish, "s6.large.2", s.HostID
	})
	b.inTx(t, func(tx *sql.Tx) error {
		return b.db.InsertJob(ctx, tx, &ecs.Job{ID: compute.NewJobID(), ProjectID: p, Type: ecs.JobResizeServer,
			Status: ecs.JobSuccess, ServerID: orphan.ID, Params: "{}"})
	})
	building := b.mustInsertServer(t, p, func(s *ecs.Server) {
		s.VMState, s.TaskState, s.PowerState = ecs.VMBuilding, ecs.TaskSpawning, ecs.PowerNoState
	})
	idle := b.mustInsertServer(t, p, nil)

	n, err := b.svc.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if n != 2 {
		t.Errorf("Reconcile repaired %d servers, want 2", n)
	}
	if got := b.server(t, live.ID); got.TaskState != ecs.TaskResizeMigrating || got.ResizeFlavorID == "" {
		t.Errorf("server with a live job: task %q, reservation %q; want both kept", got.TaskState, got.ResizeFlavorID)
	}
	if got := b.server(t, orphan.ID); got.TaskState != "" || got.ResizeFlavorID != "" || got.ResizeHostID != "" || got.Status() != ecs.StatusShutoff {
		t.Errorf("orphan: task %q, reservation %q/%q, status %s; want idle SHUTOFF with no reservation",
			got.TaskState, got.ResizeFlavorID, got.ResizeHostID, got.Status())
	}
	if got := b.server(t, building.ID); got.Status() != ecs.StatusError || got.FaultCode == 0 {
		t.Errorf("interrupted build: status %s, fault %d; want ERROR with a fault", got.Status(), got.FaultCode)
	}
	if diff := cmp.Diff(idle, b.server(t, idle.ID), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("idle server changed (-before +after):\n%s", diff)
	}
	if n, err := b.svc.Reconcile(ctx); err != nil || n != 0 {
		t.Errorf("second Reconcile = %d, %v; want 0", n, err)
	}
}
