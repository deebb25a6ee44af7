package compute_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/worker"
)

var (
	_ compute.AdminStore = (*store.DB)(nil)
	_ compute.Workers    = (*worker.Runner)(nil)
)

// adminBundle is a testBundle with an Admin over the sim driver.
type adminBundle struct {
	*testBundle
	drv   *sim.Driver
	admin *compute.Admin
}

func setupAdmin(t *testing.T) *adminBundle {
	t.Helper()
	b := setup(t)
	drv := sim.New(sim.Options{})
	return &adminBundle{testBundle: b, drv: drv,
		admin: &compute.Admin{Service: b.svc, Store: b.db, Driver: drv, Region: "cn-north-4"}}
}

// populate gives a project two seeded servers, a create job (with its
// history and a client token) and an order, and returns the seeded servers' IDs.
func (b *adminBundle) populate(t *testing.T, projectID string) []string {
	t.Helper()
	servers, err := b.admin.Seed(t.Context(), compute.Seed{Servers: []compute.SeedServer{
		{Ref: "servers[0]", ProjectID: projectID, Name: "a", FlavorID: "s6.small.1", Image: imageUbuntu22, Status: ecs.StatusActive, Count: 2},
	}})
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	b.mustCreate(t, createRequest(projectID, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok" }))
	b.inTx(t, func(tx *sql.Tx) error {
		return b.db.InsertOrder(t.Context(), tx, &ecs.Order{ID: "CS" + compute.NewJobID()[:17], ProjectID: projectID,
			Type: ecs.OrderTypeNew, Status: ecs.OrderPendingPayment, Amount: 50.4, Currency: "CNY", FlavorID: "s6.small.1",
			PeriodType: ecs.PeriodMonth, PeriodNum: 1, ServerIDs: []string{servers[0].ID}, Created: time.Now()})
	})
	var ids []string
	for _, s := range servers {
		ids = append(ids, s.ID)
	}
	return ids
}

// rows counts a project's rows in the tables a reset empties.
func (b *adminBundle) rows(t *testing.T, projectID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"servers", "jobs", "server_actions", "client_tokens", "orders", "vpcs", "subnets", "security_groups", "tenants"} {
		var n int
		if err := b.db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM `+table+` WHERE project_id = ?`, projectID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestCreateTenant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)

	got, err := b.admin.CreateTenant(ctx, ecs.Tenant{}, nil)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	tn := got.Tenant
	for _, c := range []struct{ field, value, re string }{
		{"project_id", tn.ProjectID, `^[0-9a-f]{32}$`},
		{"domain_id", tn.DomainID, `^[0-9a-f]{32}$`},
		{"access_key", tn.AccessKey, `^ECSDTEST[A-Z0-9]{12}$`},
		{"secret_key", tn.SecretKey, `^[A-Za-z0-9]{40}$`},
		{"project_name", tn.ProjectName, `^cn-north-4$`},
	} {
		if !regexp.MustCompile(c.re).MatchString(c.value) {
			t.Errorf("generated %s %q does not match %s", c.field, c.value, c.re)
		}
	}
	if got.Quota != ecs.DefaultQuota {
		t.Errorf("quota %+v, want the default", got.Quota)
	}
	if found, err := b.svc.FindTenantByAccessKey(ctx, tn.AccessKey); err != nil || *found != tn {
		t.Errorf("FindTenantByAccessKey = %+v, %v", found, err)
	}
	if vpcs, err := b.svc.FindVPCs(ctx, tn.ProjectID); err != nil || len(vpcs) != 1 {
		t.Errorf("default network: %v, %v", vpcs, err)
	}

	// Given fields are kept; a conflict is a 409, a bad field a 400.
	q := ecs.Quota{Instances: 1, Cores: 2, RAMMB: 3}
	given := ecs.Tenant{AccessKey: "MYKEY", SecretKey: "0123456789abcdef", ProjectID: strings.Repeat("a", 32),
		ProjectName: "p", DomainID: strings.Repeat("b", 32)}
	got, err = b.admin.CreateTenant(ctx, given, &q)
	if err != nil || got.Tenant != given || got.Quota != q {
		t.Fatalf("CreateTenant(given) = %+v, %v", got, err)
	}
	for _, tt := range []struct {
		name   string
		t      ecs.Tenant
		q      *ecs.Quota
		status int
		want   string
	}{
		{"access key in use", ecs.Tenant{AccessKey: "MYKEY"}, nil, 409, "Access key MYKEY is already in use"},
		{"project in use", ecs.Tenant{ProjectID: strings.Repeat("a", 32)}, nil, 409, "already has a tenant"},
		{"dev project in use", ecs.Tenant{ProjectID: ecs.DevTenant.ProjectID}, nil, 409, "already has a tenant"},
		{"bad project ID", ecs.Tenant{ProjectID: "P"}, nil, 400, "project_id"},
		{"short secret", ecs.Tenant{SecretKey: "short"}, nil, 400, "secret_key: must be at least 16"},
		{"bad quota", ecs.Tenant{}, &ecs.Quota{Instances: -2}, 400, "quota.instances"},
	} {
		_, err := b.admin.CreateTenant(ctx, tt.t, tt.q)
		var e *ecs.Error
		if !errors.As(err, &e) || e.Status != tt.status || !strings.Contains(e.Message, tt.want) {
			t.Errorf("%s: %v, want HTTP %d %q", tt.name, err, tt.status, tt.want)
		}
	}

	list, err := b.admin.Tenants(ctx)
	if err != nil || len(list) != 3 || list[0].Tenant.ProjectID != ecs.DevTenant.ProjectID {
		t.Fatalf("Tenants = %+v, %v", list, err)
	}
}

func TestDeleteTenant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	a, other := b.newProject(t, ecs.DefaultQuota), b.newProject(t, ecs.DefaultQuota)
	ids := b.populate(t, a)
	b.populate(t, other)
	before := b.snapshot(t, other)

	list, err := b.admin.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list, func(ti compute.TenantInfo) bool { return ti.Tenant.ProjectID == a }); i < 0 || list[i].Servers != 3 {
		t.Fatalf("Tenants: %+v", list)
	}
	if err := b.admin.DeleteTenant(ctx, a); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	for table, n := range b.rows(t, a) {
		if n != 0 {
			t.Errorf("%s: %d rows of the deleted project left", table, n)
		}
	}
	for _, id := range ids {
		if _, err := b.drv.Inspect(ctx, id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("driver instance %s survived: %v", id, err)
		}
	}
	if _, err := b.svc.FindTenantByAccessKey(ctx, "AK"+a); ecs.ErrorCode(err) != ecs.CodeForbidden {
		t.Errorf("the deleted tenant's key: %v, want %s", err, ecs.CodeForbidden)
	}
	b.requireUnchanged(t, other, before)

	var e *ecs.Error
	if err := b.admin.DeleteTenant(ctx, a); !errors.As(err, &e) || e.Status != 404 {
		t.Errorf("DeleteTenant of an unknown project = %v, want a 404", err)
	}
}

func TestResetProject(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	a, other := b.newProject(t, ecs.DefaultQuota), b.newProject(t, ecs.DefaultQuota)
	ids := b.populate(t, a)
	otherIDs := b.populate(t, other)
	before := b.snapshot(t, other)
	otherRows := b.rows(t, other)

	n, err := b.admin.ResetProject(ctx, a)
	if err != nil {
		t.Fatalf("ResetProject: %v", err)
	}
	if n != 3 {
		t.Errorf("removed %d servers, want 3", n)
	}
	want := map[string]int{"servers": 0, "jobs": 0, "server_actions": 0, "client_tokens": 0, "orders": 0,
		"vpcs": 1, "subnets": 1, "security_groups": 1, "tenants": 1}
	if diff := cmp.Diff(want, b.rows(t, a)); diff != "" {
		t.Errorf("rows of the reset project (-want +got):\n%s", diff)
	}
	// The default network is back with its usual IDs, addresses from the start.
	subnets, err := b.svc.FindSubnets(ctx, a, "")
	if err != nil || len(subnets) != 1 || subnets[0].ID != compute.DerivedUUID(a+"/subnet") {
		t.Fatalf("subnets after reset: %+v, %v", subnets, err)
	}
	res := b.mustCreate(t, createRequest(a, func(r *ecs.CreateServersRequest) { r.ClientToken = "tok" }))
	if srv := b.server(t, res.ServerIDs[0]); srv.IPAddress != "192.168.0.10" {
		t.Errorf("first address after reset %s, want 192.168.0.10", srv.IPAddress)
	}
	for _, id := range ids {
		if _, err := b.drv.Inspect(ctx, id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("driver instance %s survived: %v", id, err)
		}
	}

	// The other project is intact, its driver instances too.
	b.requireUnchanged(t, other, before)
	if diff := cmp.Diff(otherRows, b.rows(t, other)); diff != "" {
		t.Errorf("rows of the other project changed:\n%s", diff)
	}
	for _, id := range otherIDs {
		if _, err := b.drv.Inspect(ctx, id); err != nil {
			t.Errorf("driver instance %s of the other project: %v", id, err)
		}
	}

	// A project without a tenant is reset too (nothing to remove).
	if n, err := b.admin.ResetProject(ctx, strings.Repeat("f", 32)); err != nil || n != 0 {
		t.Errorf("ResetProject(unknown) = %d, %v", n, err)
	}
}

func TestResetAll(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	a := b.newProject(t, ecs.DefaultQuota)
	ids := append(b.populate(t, a), b.populate(t, ecs.DevTenant.ProjectID)...)
	if empty, err := b.admin.Empty(ctx); err != nil || empty {
		t.Fatalf("Empty = %v, %v", empty, err)
	}
	n, err := b.admin.ResetAll(ctx)
	if err != nil || n != 6 {
		t.Fatalf("ResetAll = %d, %v; want 6 servers removed", n, err)
	}
	for _, p := range []string{a, ecs.DevTenant.ProjectID} {
		for table, n := range b.rows(t, p) {
			if n != 0 {
				t.Errorf("%s of %s: %d rows left", table, p, n)
			}
		}
	}
	for _, id := range ids {
		if _, err := b.drv.Inspect(ctx, id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("driver instance %s survived: %v", id, err)
		}
	}
	if empty, err := b.admin.Empty(ctx); err != nil || !empty {
		t.Errorf("Empty after ResetAll = %v, %v", empty, err)
	}
	var hosts int
	if err := b.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM hosts`).Scan(&hosts); err != nil || hosts == 0 {
		t.Errorf("hosts after ResetAll: %d, %v (they stay)", hosts, err)
	}
}

func TestResume(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	a := b.newProject(t, ecs.DefaultQuota)
	ids := b.populate(t, a)
	created := b.queue.Jobs(a)
	// A stopped server written directly (as an import would).
	done := b.mustInsertServer(t, a, nil)

	fresh := sim.New(sim.Options{})
	b.admin.Driver = fresh
	n, err := b.admin.Resume(ctx)
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if n != 1 {
		t.Errorf("Resume enqueued %d jobs, want the one unfinished create", n)
	}
	queued := b.queue.Jobs(a)
	if len(queued) != len(created)+1 || queued[len(queued)-1].ID != created[0].ID {
		t.Errorf("enqueued %v after %v", jobIDs(queued), jobIDs(created))
	}
	for _, id := range append(ids, done.ID) {
		if _, err := fresh.Inspect(ctx, id); err != nil {
			t.Errorf("driver instance %s not recovered: %v", id, err)
		}
	}
	// The create's server has not been spawned yet: no instance.
	if _, err := fresh.Inspect(ctx, created[0].ServerID); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("an unspawned server got a driver instance: %v", err)
	}
}

// blockingClock holds every job phase until the job's context ends, and
// says when a phase starts waiting.
type blockingClock struct {
	ecs.RealClock
	waiting chan string
}

func (c *blockingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.waiting <- "phase"
	<-ctx.Done()
	return ctx.Err()
}

// TestResetStopsRunningJobs runs real workers that hold their jobs in a
// phase, resets the project under them, and checks that they stop at once,
// quietly, without touching the driver or the store again.
func TestResetStopsRunningJobs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	a, other := b.newProject(t, ecs.DefaultQuota), b.newProject(t, ecs.DefaultQuota)
	clk := &blockingClock{waiting: make(chan string, 10)}
	runner := &worker.Runner{Store: b.db, Driver: b.drv, Flavors: cat, Clock: clk, Timing: worker.EveryPhase(time.Nanosecond),
		Logger: slog.New(slog.DiscardHandler)}
	b.admin.Workers = runner

	res := b.mustCreate(t, createRequest(a, func(r *ecs.CreateServersRequest) { r.Count = 2 }))
	otherRes := b.mustCreate(t, createRequest(other, nil))
	jobs := append(b.queue.Jobs(a), b.queue.Jobs(other)...)
	errs := make(chan error, len(jobs))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, j := range jobs {
		go func() { errs <- runner.Run(runCtx, j.ID, false, nil) }()
	}
	for range jobs {
		<-clk.waiting
	}

	if _, err := b.admin.ResetProject(ctx, a); err != nil {
		t.Fatalf("ResetProject: %v", err)
	}
	// Abandon waited: both of the project's runs have returned, with nil.
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("an abandoned run returned %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the runs of the reset project did not stop")
		}
	}
	for _, id := range res.ServerIDs {
		if _, err := b.drv.Inspect(ctx, id); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("driver instance of removed server %s: %v", id, err)
		}
	}
	if n := b.jobCount(t, a); n != 0 {
		t.Errorf("%d job rows left", n)
	}
	var phases int
	if err := b.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM job_phases WHERE job_id IN (`+
		`SELECT value FROM json_each(?))`, `["`+jobs[0].ID+`","`+jobs[1].ID+`"]`).Scan(&phases); err != nil || phases != 0 {
		t.Errorf("%d phase rows of removed jobs, %v", phases, err)
	}
	// The other project's job still runs.
	if srv := b.server(t, otherRes.ServerIDs[0]); srv.TaskState != ecs.TaskScheduling {
		t.Errorf("the other project's server: task %q, want scheduling", srv.TaskState)
	}
	select {
	case err := <-errs:
		t.Fatalf("the other project's run ended: %v", err)
	default:
	}
	cancel()
	<-errs
}

// TestRunnerJobVanishes removes a job's rows under a runner that is not
// told (no Abandon): the run stops at its next step and returns nil.
func TestRunnerJobVanishes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	a := b.newProject(t, ecs.DefaultQuota)
	step := make(chan struct{})
	clk := &steppingClock{step: step, waiting: make(chan struct{}, 1)}
	runner := &worker.Runner{Store: b.db, Driver: b.drv, Flavors: cat, Clock: clk, Timing: worker.EveryPhase(time.Nanosecond),
		Logger: slog.New(slog.DiscardHandler)}
	res := b.mustCreate(t, createRequest(a, nil))
	job := b.queue.Jobs(a)[0]
	errs := make(chan error, 1)
	go func() { errs <- runner.Run(ctx, job.ID, false, nil) }()
	<-clk.waiting // in scheduling

	// A project reset that does not stop the workers.
	if _, err := b.admin.ResetProject(ctx, a); err != nil {
		t.Fatal(err)
	}
	// A server with the same ID comes back (a seed with fixed IDs): the
	// job must not touch it.
	if _, err := b.admin.Seed(ctx, compute.Seed{Servers: []compute.SeedServer{{Ref: "s", ProjectID: a, ID: res.ServerIDs[0],
		Name: "again", FlavorID: "s6.small.1", Image: imageUbuntu22, Status: ecs.StatusShutoff}}}); err != nil {
		t.Fatal(err)
	}
	reseeded := b.server(t, res.ServerIDs[0])
	close(step)
	select {
	case err := <-errs:
		if err != nil {
			t.Errorf("Run of a vanished job = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not stop")
	}
	if diff := cmp.Diff(reseeded, b.server(t, res.ServerIDs[0])); diff != "" {
		t.Errorf("the vanished job changed the re-seeded server:\n%s", diff)
	}
}

// steppingClock holds the first phase until step is closed.
type steppingClock struct {
	ecs.RealClock
	step    chan struct{}
	waiting chan struct{}
}

func (c *steppingClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case c.waiting <- struct{}{}:
	default:
	}
	select {
	case <-c.step:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
