package compute

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/driver"
)

// AdminStore is the persistence the test-control operations need besides
// Store. Methods that take a *sql.Tx run in the caller's transaction.
type AdminStore interface {
	// Tenants returns every tenant and its quota, oldest first.
	Tenants(ctx context.Context, tx *sql.Tx) ([]*ecs.Tenant, []ecs.Quota, error)
	// ServerCount returns how many live servers a project has.
	ServerCount(ctx context.Context, tx *sql.Tx, projectID string) (int, error)
	// DeleteProject deletes every row of a project (its tenant too with
	// dropTenant, River's jobs of its jobs included) and returns the IDs of
	// its live servers and of its unfinished single-server jobs.
	DeleteProject(ctx context.Context, tx *sql.Tx, projectID string, dropTenant bool) (serverIDs, jobIDs []string, err error)
	// DeleteAll does what DeleteProject does for every project, deletes
	// every tenant and every fault rule, and keeps hosts and settings.
	DeleteAll(ctx context.Context, tx *sql.Tx) (serverIDs, jobIDs []string, err error)
	// IsEmpty reports whether no server or job row exists.
	IsEmpty(ctx context.Context, tx *sql.Tx) (bool, error)
	// AllServers returns every live server.
	AllServers(ctx context.Context, tx *sql.Tx) ([]*ecs.Server, error)
	// PutSettingTx stores a setting (a small named value the store keeps
	// for others, such as the clock's state).
	PutSettingTx(ctx context.Context, tx *sql.Tx, key, value string) error
}

// Workers stops the work in progress of jobs whose rows were removed.
// worker.Runner implements it.
type Workers interface {
	// Abandon stops the running work of the given jobs and returns once it
	// has stopped (or ctx is done). Abandoned work ends without an error
	// and without writing anything.
	Abandon(ctx context.Context, jobIDs []string)
}

// Admin carries out the test-control operations on a Service: run-time
// tenants, resets, seeded servers and the resumption of imported jobs. It
// keeps what lives outside the database in step with it: the driver
// instances of removed servers are deleted, seeded servers get theirs, and
// the workers of removed jobs are stopped. Every method that changes rows
// does so in one transaction. It is safe for concurrent use, but callers
// should serialise resets, seeds and imports (control.State does).
type Admin struct {
	Service *Service
	Store   AdminStore
	Driver  driver.Driver
	// Workers may be nil (no job runs, as in unit tests).
	Workers Workers
	// Region is the project name of tenants created without one.
	Region string
	// DefaultQuota is the quota of tenants created without one; nil means
	// ecs.DefaultQuota.
	DefaultQuota *ecs.Quota
}

// Error codes of the test-control operations, with the HTTP status each
// *ecs.Error carries.
const (
	CodeAdminBadRequest = "Ecsd.BadRequest" // 400
	CodeAdminNotFound   = "Ecsd.NotFound"   // 404
	CodeAdminConflict   = "Ecsd.Conflict"   // 409
	CodeInvalidSeed     = "Ecsd.InvalidSeed"
)

func adminError(status int, code, format string, args ...any) *ecs.Error {
	return &ecs.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// TenantInfo is a tenant with its quota and how many live servers its
// project has.
type TenantInfo struct {
	Tenant  ecs.Tenant
	Quota   ecs.Quota
	Servers int
}

// Tenants lists every tenant, oldest first.
func (a *Admin) Tenants(ctx context.Context) ([]TenantInfo, error) {
	var out []TenantInfo
	err := a.Service.inReadTx(ctx, func(tx *sql.Tx) error {
		ts, qs, err := a.Store.Tenants(ctx, tx)
		if err != nil {
			return err
		}
		out = make([]TenantInfo, len(ts))
		for i, t := range ts {
			n, err := a.Store.ServerCount(ctx, tx, t.ProjectID)
			if err != nil {
				return err
			}
			out[i] = TenantInfo{Tenant: *t, Quota: qs[i], Servers: n}
		}
		return nil
	})
	return out, err
}

// TenantExists reports whether a project has a tenant.
func (a *Admin) TenantExists(ctx context.Context, projectID string) (bool, error) {
	ok := false
	err := a.Service.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		ok, err = a.tenantExists(ctx, tx, projectID)
		return err
	})
	return ok, err
}

func (a *Admin) tenantExists(ctx context.Context, tx *sql.Tx, projectID string) (bool, error) {
	_, _, err := a.Service.Store.TenantByProject(ctx, tx, projectID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, err
}

var (
	hex32RE     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	accessKeyRE = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// CheckTenant validates the fields of t that are set: an access key of 1 to
// 128 printable characters, a secret key of at least 16, a project ID and a
// domain ID of 32 lowercase hex characters. at prefixes the field names in
// the errors ("tenants[2]." for instance).
func CheckTenant(at string, t ecs.Tenant) []string {
	var bad []string
	if t.AccessKey != "" && !accessKeyRE.MatchString(t.AccessKey) {
		bad = append(bad, at+"access_key: must be 1 to 128 printable characters without spaces")
	}
	if t.SecretKey != "" && len(t.SecretKey) < 16 {
		bad = append(bad, fmt.Sprintf("%ssecret_key: must be at least 16 characters, not %d", at, len(t.SecretKey)))
	}
	if t.ProjectID != "" && !hex32RE.MatchString(t.ProjectID) {
		bad = append(bad, fmt.Sprintf("%sproject_id: %q is not 32 lowercase hex characters", at, t.ProjectID))
	}
	if t.DomainID != "" && !hex32RE.MatchString(t.DomainID) {
		bad = append(bad, fmt.Sprintf("%sdomain_id: %q is not 32 lowercase hex characters", at, t.DomainID))
	}
	return bad
}

// CheckQuota validates a quota: each limit -1 (unlimited) or at least 0.
func CheckQuota(at string, q ecs.Quota) []string {
	var bad []string
	for _, l := range []struct {
		key string
		v   int
	}{{"instances", q.Instances}, {"cores", q.Cores}, {"ram", q.RAMMB}} {
		if l.v < -1 {
			bad = append(bad, fmt.Sprintf("%s%s: must be -1 (unlimited) or at least 0, not %d", at, l.key, l.v))
		}
	}
	return bad
}

// CreateTenant adds a tenant with its project's default network. Fields of
// t left empty are generated: a random project ID and domain ID (32 hex
// characters), an access key "ECSDTEST" + 12 upper-case letters and digits,
// a 40-character secret key, and Region as the project name; a nil q means
// the default quota. It returns the tenant as stored, secret key included.
// Invalid fields are a 400 *ecs.Error, an access key or project ID already
// in use a 409.
func (a *Admin) CreateTenant(ctx context.Context, t ecs.Tenant, q *ecs.Quota) (*TenantInfo, error) {
	if bad := CheckTenant("", t); len(bad) > 0 {
		return nil, adminError(http.StatusBadRequest, CodeAdminBadRequest, "%s", strings.Join(bad, "; "))
	}
	quota := a.defaultQuota()
	if q != nil {
		if bad := CheckQuota("quota.", *q); len(bad) > 0 {
			return nil, adminError(http.StatusBadRequest, CodeAdminBadRequest, "%s", strings.Join(bad, "; "))
		}
		quota = *q
	}
	if t.ProjectID == "" {
		t.ProjectID = randomHex(16)
	}
	if t.DomainID == "" {
		t.DomainID = randomHex(16)
	}
	if t.AccessKey == "" {
		t.AccessKey = "ECSDTEST" + randomString(12, upperAlnum)
	}
	if t.SecretKey == "" {
		t.SecretKey = randomString(40, mixedAlnum)
	}
	if t.ProjectName == "" {
		t.ProjectName = a.Region
	}
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, _, err := a.Service.Store.TenantByAccessKey(ctx, tx, t.AccessKey)
		switch {
		case err == nil:
			return adminError(http.StatusConflict, CodeAdminConflict, "Access key %s is already in use.", t.AccessKey)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		switch ok, err := a.tenantExists(ctx, tx, t.ProjectID); {
		case err != nil:
			return err
		case ok:
			return adminError(http.StatusConflict, CodeAdminConflict, "Project %s already has a tenant.", t.ProjectID)
		}
		return a.Service.ensureTenant(ctx, tx, t, quota)
	})
	if err != nil {
		return nil, err
	}
	return &TenantInfo{Tenant: t, Quota: quota}, nil
}

func (a *Admin) defaultQuota() ecs.Quota {
	if a.DefaultQuota != nil {
		return *a.DefaultQuota
	}
	return ecs.DefaultQuota
}

// DeleteTenant deletes a tenant and everything of its project: servers
// (and their driver instances), jobs (running ones stop), history, network
// and client tokens. Its access key stops working at once. An unknown
// project is a 404 *ecs.Error.
func (a *Admin) DeleteTenant(ctx context.Context, projectID string) error {
	var servers, jobs []string
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		switch ok, err := a.tenantExists(ctx, tx, projectID); {
		case err != nil:
			return err
		case !ok:
			return adminError(http.StatusNotFound, CodeAdminNotFound, "Project %s has no tenant.", projectID)
		}
		var err error
		servers, jobs, err = a.Store.DeleteProject(ctx, tx, projectID, true)
		return err
	})
	if err != nil {
		return err
	}
	a.release(ctx, servers, jobs)
	return nil
}

// ResetProject removes a project's servers (and their driver instances),
// jobs (running ones stop, River's rows go too), history, client tokens and
// network, in one transaction that also gives the project a fresh default
// network if it still has a tenant. The tenant stays. It returns how many
// live servers it removed.
func (a *Admin) ResetProject(ctx context.Context, projectID string) (int, error) {
	var servers, jobs []string
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if servers, jobs, err = a.Store.DeleteProject(ctx, tx, projectID, false); err != nil {
			return err
		}
		t, q, err := a.Service.Store.TenantByProject(ctx, tx, projectID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		return a.Service.ensureTenant(ctx, tx, *t, q)
	})
	if err != nil {
		return 0, err
	}
	a.release(ctx, servers, jobs)
	return len(servers), nil
}

// ResetAll removes every tenant and everything of every project, every
// River job and every fault rule, in one transaction; running jobs stop and
// the driver instances of the removed servers are deleted. Hosts and
// settings (the clock) stay. It returns how many live servers it removed.
func (a *Admin) ResetAll(ctx context.Context) (int, error) {
	var servers, jobs []string
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		servers, jobs, err = a.Store.DeleteAll(ctx, tx)
		return err
	})
	if err != nil {
		return 0, err
	}
	a.release(ctx, servers, jobs)
	return len(servers), nil
}

// Release stops every unfinished job's running work and deletes the driver
// instance of every live server, without changing any row: what comes
// before the whole state is replaced by an import.
func (a *Admin) Release(ctx context.Context) error {
	var servers, jobs []string
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		all, err := a.Store.AllServers(ctx, tx)
		if err != nil {
			return err
		}
		for _, s := range all {
			servers = append(servers, s.ID)
		}
		unfinished, err := a.Service.Store.UnfinishedJobs(ctx, tx)
		if err != nil {
			return err
		}
		for _, j := range unfinished {
			if j.ServerID != "" {
				jobs = append(jobs, j.ID)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.release(ctx, servers, jobs)
	return nil
}

// release stops the workers of removed jobs, then deletes the driver
// instances of removed servers (in that order, so that no stopped worker
// re-creates one). Driver errors are logged: the rows are gone already.
func (a *Admin) release(ctx context.Context, servers, jobs []string) {
	if a.Workers != nil && len(jobs) > 0 {
		a.Workers.Abandon(ctx, jobs)
	}
	if a.Driver == nil {
		return
	}
	for _, id := range servers {
		if err := a.Driver.Delete(ctx, id); err != nil {
			a.logger().Warn("delete the driver instance of a removed server", "server_id", id, "err", err)
		}
	}
}

func (a *Admin) logger() *slog.Logger {
	if a.Service.Logger != nil {
		return a.Service.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Empty reports whether the store has never held a server or a job.
func (a *Admin) Empty(ctx context.Context) (bool, error) {
	empty := false
	err := a.Service.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		empty, err = a.Store.IsEmpty(ctx, tx)
		return err
	})
	return empty, err
}

// Resume makes an imported state run: it tells the driver about every live
// server (as a restart does), enqueues a River job for every unfinished
// single-server job, in one transaction, so that each carries on from the
// phase it had reached, and clears the task of any server left busy without
// a job. It returns how many jobs it enqueued.
func (a *Admin) Resume(ctx context.Context) (int, error) {
	if err := a.RecoverDriver(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		unfinished, err := a.Service.Store.UnfinishedJobs(ctx, tx)
		if err != nil {
			return err
		}
		// Jobs held by an unpaid order (and their sub-jobs) start when the
		// order is paid, not here.
		held := map[string]bool{}
		for _, j := range unfinished {
			if j.Status == ecs.JobPendingPayment {
				held[j.ID] = true
			}
		}
		var run []*ecs.Job
		for _, j := range unfinished {
			if j.ServerID != "" && !held[j.ID] && !held[j.ParentID] {
				run = append(run, j)
			}
		}
		if len(run) == 0 {
			return nil
		}
		n = len(run)
		return a.Service.Queue.Enqueue(ctx, tx, run...)
	})
	if err != nil {
		return 0, fmt.Errorf("resume jobs: %w", err)
	}
	if _, err := a.Service.Reconcile(ctx); err != nil {
		return n, err
	}
	return n, nil
}

// RecoverDriver tells the driver about every live server of the store
// that has a machine: all but those whose creation never reached the
// driver.
func (a *Admin) RecoverDriver(ctx context.Context) error {
	var servers []*ecs.Server
	err := a.Service.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		servers, err = a.Store.AllServers(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	var insts []driver.Instance
	for _, s := range servers {
		if s.VMState == ecs.VMBuilding && s.PowerState == ecs.PowerNoState {
			continue // never spawned; its create job spawns it
		}
		if inst, ok := InstanceOf(a.Service.Catalog, s); ok {
			insts = append(insts, inst)
		}
	}
	if err := a.Driver.Recover(ctx, insts); err != nil {
		return err
	}
	return a.markStoppedOutside(ctx, servers, insts)
}

// markStoppedOutside makes SHUTOFF every idle server that ran but whose
// machine the driver reports stopped once recovered: the machine stopped
// while ecsd was not watching (its guest powered off, or it died), which
// Huawei Cloud shows as SHUTOFF. Each gets a "stop" entry in its history.
// Servers with an operation in progress are left to their job.
func (a *Admin) markStoppedOutside(ctx context.Context, servers []*ecs.Server, insts []driver.Instance) error {
	byID := make(map[string]*ecs.Server, len(servers))
	for _, s := range servers {
		byID[s.ID] = s
	}
	var stopped []*ecs.Server
	for _, inst := range insts {
		if !inst.Running {
			continue
		}
		if st, err := a.Driver.Inspect(ctx, inst.ID); err == nil && st.Power == driver.PowerStopped {
			stopped = append(stopped, byID[inst.ID])
		}
	}
	if len(stopped) == 0 {
		return nil
	}
	return a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := a.Service.now()
		for _, s := range stopped {
			srv, err := a.Service.Store.ServerByID(ctx, tx, s.ProjectID, s.ID)
			if err != nil {
				return err
			}
			if srv.TaskState != ecs.TaskNone || srv.PowerState != ecs.PowerRunning {
				continue
			}
			a.logger().Warn("the server's machine stopped outside ecsd; the server is now SHUTOFF", "server_id", srv.ID)
			srv.VMState, srv.PowerState, srv.Updated = ecs.VMStopped, ecs.PowerShutdown, now
			if err := a.Service.Store.UpdateServer(ctx, tx, srv); err != nil {
				return err
			}
			if err := a.Service.Store.InsertAction(ctx, tx, &ecs.Action{ProjectID: srv.ProjectID, ServerID: srv.ID,
				Action: "stop", StartTime: now, FinishTime: now, Result: ecs.JobSuccess,
				Message: "The machine stopped outside ecsd (found stopped when ecsd started)."}); err != nil {
				return err
			}
		}
		return nil
	})
}

// InstanceOf is the driver instance of s, with the shape of its flavor in
// cat; false when cat lacks the flavor.
func InstanceOf(cat interface {
	Flavor(id string) (*ecs.Flavor, bool)
}, s *ecs.Server) (driver.Instance, bool) {
	f, ok := cat.Flavor(s.FlavorID)
	if !ok {
		return driver.Instance{}, false
	}
	return driver.Instance{ID: s.ID, Name: s.Name, ImageID: s.ImageID, HostID: s.HostID,
		Shape:   driver.Shape{FlavorID: f.ID, VCPUs: f.VCPUs, RAMMB: f.RAMMB},
		Running: s.PowerState == ecs.PowerRunning}, true
}

// --- seeding ------------------------------------------------------------------

// SeedTenant is a tenant to create or update, with its quota. Ref names
// the entry in errors, e.g. "tenants[0]".
type SeedTenant struct {
	Ref    string
	Tenant ecs.Tenant
	Quota  ecs.Quota
}

// SeedQuota sets the quota of an existing project.
type SeedQuota struct {
	Ref       string
	ProjectID string
	Quota     ecs.Quota
}

// SeedServer asks for Count servers (default 1) in a stable state, written
// directly, without a job. Names get the suffix -0001, -0002... when Count
// is above 1.
type SeedServer struct {
	Ref       string
	ProjectID string
	ID        string // optional; only with Count 1
	Name      string
	// Description, KeyName and UserData are stored as given.
	Description string
	FlavorID    string
	Image       string // image ID or name
	// AZ is the availability zone; empty means the first one where the
	// flavor is on sale and the servers fit.
	AZ string
	// Status is ecs.StatusActive, ecs.StatusShutoff or ecs.StatusError.
	Status string
	// ChargingMode is ecs.ChargingPostPaid, ChargingPrePaid or ChargingSpot.
	ChargingMode   string
	Metadata       map[string]string
	Tags           []string // "key=value"
	RootVolumeType string   // default SSD
	RootVolumeSize int      // GB; default the image's minimum
	Count          int
}

// SeedFlavor is a flavor that a batch's catalogue change would take away
// from the servers that use it.
type SeedFlavor struct {
	Ref      string // the entry that changes it, e.g. "flavors[1]"
	FlavorID string
	// Change says what the entry does, as a verb: "remove" or "change the
	// architecture or virtualization of".
	Change string
}

// Seed is a batch of fixtures, applied in this order: tenants, quotas,
// servers.
type Seed struct {
	Tenants []SeedTenant
	Quotas  []SeedQuota
	Servers []SeedServer
	// Catalog, when set, is the catalogue the batch brings into force: its
	// servers are checked, counted and placed against it instead of the
	// service's. Seed does not install it: the caller does once Seed has
	// succeeded.
	Catalog Catalog
	// Unused are flavors that no live server may use, as its flavor or as
	// the target of its resize: the batch is refused when one does.
	Unused []SeedFlavor
	// Settings are stored in the batch's transaction.
	Settings map[string]string
}

// Seed applies a batch of fixtures in one transaction (nothing is written
// when any entry fails), then creates the driver instances of the new
// servers. Each server is placed on a host with room for it (quota and
// capacity are checked as for CreateServers), gets an address, a port and a
// root volume in its project's default network, and a "seed" action in its
// history. It returns the new servers in the order asked for. An entry that
// cannot be applied is a 400 *ecs.Error (code CodeInvalidSeed) naming it,
// such as `servers[3].flavor: unknown flavor "x"`; so is a live server of
// a flavor in in.Unused, naming the entry and the servers.
func (a *Admin) Seed(ctx context.Context, in Seed) ([]*ecs.Server, error) {
	svc := a.Service
	if in.Catalog != nil {
		svc = a.Service.withCatalog(in.Catalog)
	}
	var created []*ecs.Server
	// The host usage of each AZ is read once per seed and kept up to date
	// as servers are placed: reading it per entry made seeding quadratic in
	// the size of the store.
	usage := map[string][]*hostUsage{}
	err := a.Service.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := a.checkUnused(ctx, tx, in.Unused); err != nil {
			return err
		}
		for _, t := range in.Tenants {
			if err := a.seedTenant(ctx, tx, t); err != nil {
				return err
			}
		}
		for _, q := range in.Quotas {
			t, _, err := a.Service.Store.TenantByProject(ctx, tx, q.ProjectID)
			if errors.Is(err, sql.ErrNoRows) {
				return seedFail(q.Ref, "project_id", "unknown project %q", q.ProjectID)
			}
			if err != nil {
				return err
			}
			if err := a.Service.Store.UpsertTenant(ctx, tx, t, q.Quota, a.Service.now()); err != nil {
				return err
			}
		}
		for _, s := range in.Servers {
			srvs, err := a.seedServers(ctx, tx, svc, s, usage)
			if err != nil {
				return err
			}
			created = append(created, srvs...)
		}
		for _, k := range slices.Sorted(maps.Keys(in.Settings)) {
			if err := a.Store.PutSettingTx(ctx, tx, k, in.Settings[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var insts []driver.Instance
	for _, s := range created {
		if s.VMState == ecs.VMError {
			continue // like a failed create: no machine
		}
		if inst, ok := InstanceOf(svc.Catalog, s); ok {
			insts = append(insts, inst)
		}
	}
	if len(insts) > 0 {
		if err := a.Driver.Recover(ctx, insts); err != nil {
			return nil, fmt.Errorf("seed: driver instances: %w", err)
		}
	}
	return created, nil
}

// maxNamed bounds how many servers an error lists.
const maxNamed = 10

// checkUnused refuses the flavors of unused that a live server uses.
func (a *Admin) checkUnused(ctx context.Context, tx *sql.Tx, unused []SeedFlavor) error {
	if len(unused) == 0 {
		return nil
	}
	all, err := a.Store.AllServers(ctx, tx)
	if err != nil {
		return err
	}
	var msgs []string
	for _, u := range unused {
		var users []string
		for _, s := range all {
			if s.FlavorID == u.FlavorID || s.ResizeFlavorID == u.FlavorID {
				users = append(users, fmt.Sprintf("%s (%s)", s.Name, s.ID))
			}
		}
		if len(users) == 0 {
			continue
		}
		if len(users) > maxNamed {
			users = append(users[:maxNamed], fmt.Sprintf("and %d more", len(users)-maxNamed))
		}
		msgs = append(msgs, fmt.Sprintf("%s: cannot %s flavor %s: live servers use it: %s",
			u.Ref, u.Change, u.FlavorID, strings.Join(users, ", ")))
	}
	if len(msgs) > 0 {
		return adminError(http.StatusBadRequest, CodeInvalidSeed, "%s", strings.Join(msgs, "; "))
	}
	return nil
}

// seedTenant creates or updates a tenant, refusing to move an access key
// to another project or to give a project a second access key.
func (a *Admin) seedTenant(ctx context.Context, tx *sql.Tx, t SeedTenant) error {
	cur, _, err := a.Service.Store.TenantByAccessKey(ctx, tx, t.Tenant.AccessKey)
	switch {
	case err == nil && cur.ProjectID != t.Tenant.ProjectID:
		return seedFail(t.Ref, "access_key", "%s already belongs to project %s", cur.AccessKey, cur.ProjectID)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return err
	}
	cur, _, err = a.Service.Store.TenantByProject(ctx, tx, t.Tenant.ProjectID)
	switch {
	case err == nil && cur.AccessKey != t.Tenant.AccessKey:
		return seedFail(t.Ref, "project_id", "project %s already belongs to access key %s", cur.ProjectID, cur.AccessKey)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if err := a.Service.ensureTenant(ctx, tx, t.Tenant, t.Quota); err != nil {
		return seedError(t.Ref, err)
	}
	return nil
}

// seedFail is the error of one field of one entry.
func seedFail(ref, field, format string, args ...any) *ecs.Error {
	at := ref
	if field != "" {
		at += "." + field
	}
	return adminError(http.StatusBadRequest, CodeInvalidSeed, "%s: %s", at, fmt.Sprintf(format, args...))
}

// seedError names the entry in a client error; other errors pass.
func seedError(ref string, err error) error {
	var e *ecs.Error
	if errors.As(err, &e) {
		return adminError(http.StatusBadRequest, CodeInvalidSeed, "%s: %s", ref, e.Message)
	}
	return fmt.Errorf("%s: %w", ref, err)
}

// seedServers creates the servers of one entry with s, the service that
// consults the batch's catalogue.
func (a *Admin) seedServers(ctx context.Context, tx *sql.Tx, s *Service, req SeedServer, usage map[string][]*hostUsage) ([]*ecs.Server, error) {
	ref := req.Ref
	if _, _, err := s.Store.TenantByProject(ctx, tx, req.ProjectID); errors.Is(err, sql.ErrNoRows) {
		return nil, seedFail(ref, "project_id", "unknown project %q: declare it under tenants", req.ProjectID)
	} else if err != nil {
		return nil, err
	}
	flavor, ok := s.Catalog.Flavor(req.FlavorID)
	if !ok {
		return nil, seedFail(ref, "flavor", "unknown flavor %q", req.FlavorID)
	}
	img := imageByRef(s.Catalog, req.Image)
	if img == nil {
		return nil, seedFail(ref, "image", "unknown image %q (give an image ID or name)", req.Image)
	}
	if err := s.Catalog.ImageFits(img, flavor); err != nil {
		return nil, seedFail(ref, "image", "%s", ecs.ErrorMessage(err))
	}
	mode := req.ChargingMode
	if mode == "" {
		mode = ecs.ChargingPostPaid
	}
	if err := chargeError(flavor, mode); err != nil {
		return nil, seedFail(ref, "charging_mode", "%s", ecs.ErrorMessage(err))
	}
	count := max(req.Count, 1)
	if req.ID != "" {
		if count > 1 {
			return nil, seedFail(ref, "id", "an ID needs count 1")
		}
		if _, err := s.Store.ServerByID(ctx, tx, "", req.ID); err == nil {
			return nil, seedFail(ref, "id", "server %s already exists", req.ID)
		} else if ecs.ErrorCode(err) != ecs.CodeServerNotFound {
			return nil, err
		}
	}
	azs, err := s.saleAZs(req.AZ, flavor, mode)
	if err != nil {
		return nil, seedFail(ref, "availability_zone", "%s", ecs.ErrorMessage(err))
	}
	limits, err := s.limits(ctx, tx, req.ProjectID)
	if err != nil {
		return nil, err
	}
	if err := checkQuota(limits, mode == ecs.ChargingSpot, count, count*flavor.VCPUs, count*flavor.RAMMB); err != nil {
		return nil, seedFail(ref, "", "%s", ecs.ErrorMessage(err))
	}
	az, hosts, err := s.placeInAZsCached(ctx, tx, azs, flavor, count, usage)
	if err != nil {
		return nil, seedFail(ref, "", "%s", ecs.ErrorMessage(err))
	}
	vpcs, err := s.Store.VPCs(ctx, tx, req.ProjectID)
	if err != nil {
		return nil, err
	}
	if len(vpcs) == 0 {
		return nil, seedFail(ref, "project_id", "project %s has no VPC", req.ProjectID)
	}
	subnets, err := s.Store.Subnets(ctx, tx, req.ProjectID, vpcs[0].ID)
	if err != nil {
		return nil, err
	}
	if len(subnets) == 0 {
		return nil, seedFail(ref, "project_id", "VPC %s of project %s has no subnet", vpcs[0].ID, req.ProjectID)
	}
	sgs, err := s.securityGroups(ctx, tx, req.ProjectID, nil)
	if err != nil {
		return nil, err
	}

	now := s.now()
	orderID := ""
	if mode == ecs.ChargingPrePaid {
		orderID = newOrderID(now)
	}
	volType, size := req.RootVolumeType, req.RootVolumeSize
	if volType == "" {
		volType = "SSD"
	}
	if size == 0 {
		size = img.MinDiskGB
	}
	out := make([]*ecs.Server, 0, count)
	for i := range count {
		name := req.Name
		if count > 1 {
			name = fmt.Sprintf("%s-%04d", req.Name, i+1)
		}
		id := req.ID
		if id == "" {
			id = NewUUID()
		}
		ip, sn, err := s.seedAddress(ctx, tx, vpcs[0], &subnets)
		if err != nil {
			return nil, seedError(ref, err)
		}
		srv := &ecs.Server{
			ID: id, ProjectID: req.ProjectID, Name: name, Description: req.Description,
			FlavorID: flavor.ID, ImageID: img.ID, AvailabilityZone: az, HostID: hosts[i],
			ChargingMode: mode, OrderID: orderID,
			VPCID: vpcs[0].ID, SubnetID: sn.ID, PortID: NewUUID(), IPAddress: ip, MACAddress: newMAC(),
			SecurityGroups: sgs, Metadata: req.Metadata, Tags: req.Tags,
			RootVolumeID: NewUUID(), RootVolumeType: volType, RootVolumeSize: size,
			Created: now, Updated: now,
		}
		switch req.Status {
		case ecs.StatusShutoff:
			srv.VMState, srv.PowerState, srv.LaunchedAt = ecs.VMStopped, ecs.PowerShutdown, now
		case ecs.StatusError:
			srv.VMState, srv.PowerState = ecs.VMError, ecs.PowerNoState
			srv.FaultCode, srv.FaultMessage = 500, "Instance creation failed."
		case ecs.StatusActive, "":
			srv.VMState, srv.PowerState, srv.LaunchedAt = ecs.VMActive, ecs.PowerRunning, now
		default:
			return nil, seedFail(ref, "status", "unsupported status %q: want ACTIVE, SHUTOFF or ERROR", req.Status)
		}
		if err := s.Store.InsertServer(ctx, tx, srv); err != nil {
			return nil, err
		}
		if err := s.Store.InsertAction(ctx, tx, &ecs.Action{ProjectID: srv.ProjectID, ServerID: srv.ID, Action: "seed",
			RequestID: ecs.RequestID(ctx), StartTime: now, FinishTime: now, Result: ecs.JobSuccess}); err != nil {
			return nil, err
		}
		out = append(out, srv)
	}
	return out, nil
}

// imageByRef finds an image of cat by ID, else by name.
func imageByRef(cat Catalog, ref string) *ecs.Image {
	if img, ok := cat.Image(ref); ok {
		return img
	}
	imgs := append([]*ecs.Image(nil), cat.Images()...)
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].ID < imgs[j].ID })
	for _, img := range imgs {
		if img.Name == ref {
			return img
		}
	}
	return nil
}

// --- random credentials -------------------------------------------------------------

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	limit := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, limit)
		if err != nil {
			panic(fmt.Sprintf("compute: random: %v", err))
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}
