// Package node assembles one ecsd node from its parts: the SQLite store, the
// flavor catalogue, the driver, the compute service, the River job queue and
// the HTTP server. cmd/ecsd builds a Config from flags, environment and file
// and runs a Node; tests run Nodes in-process.
package node

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/console"
	"github.com/ecsd-dev/ecsd/control"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/qemu"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/httpapi"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/worker"
)

// TenantQuota is a tenant with its quota and, optionally, its IAM account
// name and password users.
type TenantQuota struct {
	Tenant     ecs.Tenant
	Quota      ecs.Quota
	DomainName string     // "" = the tenant's domain ID
	Users      []ecs.User // password users, who may obtain IAM tokens
}

// Config is a node's resolved settings.
type Config struct {
	Listen  string // e.g. 127.0.0.1:8787; 127.0.0.1:0 picks a free port
	DataDir string // "" = ephemeral in-memory store
	// Database is a PostgreSQL URL; "" selects SQLite in DataDir. Several
	// nodes may share one PostgreSQL database.
	Database         string
	DatabaseMaxConns int // PostgreSQL pool size; 0 = the store's default
	// NodeID names the node among those sharing a database ("" = host
	// name and a random suffix); NodeTimeout is how long it may miss
	// heartbeats before the others finish its jobs (0 = 10 s).
	NodeID      string
	NodeTimeout time.Duration
	Region      string
	// Timing is the timing profile's name and PhaseOverrides its per-phase
	// replacements.
	Timing         string
	PhaseOverrides map[string]time.Duration
	Driver         string
	// QEMU settings of the qemu driver (docs/drivers.md); zero values
	// mean the driver's defaults. Its machines live in DataDir/qemu, or
	// in a temporary directory removed by Close with an ephemeral store.
	QEMUBinary, QEMUKernel, QEMUInitrd string
	QEMUAccel                          string  // auto, kvm or tcg
	QEMUMemoryScale                    int     // guest memory = flavor RAM / scale
	QEMUOvercommit                     float64 // capacity = machine × overcommit
	QEMUPowerdownTimeout               time.Duration
	Tenants                            []TenantQuota
	// DevTenant marks the first tenant as the development tenant, whose
	// credentials the banner prints.
	DevTenant bool
	Flavors   []catalog.FlavorOverride
	Hosts     []ecs.Host // empty = the catalogue's default hosts
	Version   string
	// AdminToken opens the control API (/_ecsd/) to callers that present
	// it; without it only loopback clients reach the control API.
	AdminToken string
	// Seed is the start-up seed document (--seed): loaded at start into an
	// empty store only, and re-applied after Tenants by every reset.
	Seed *seed.Document
	// DefaultQuota is the quota of tenants created at run time and the
	// limits seed entries leave out; nil means ecs.DefaultQuota.
	DefaultQuota *ecs.Quota
}

// Node is a running ecsd: it owns the database, the job queue, the driver
// and the HTTP server, and closes them in the reverse order.
type Node struct {
	Config Config
	Logger *slog.Logger
	Out    io.Writer // where the start-up banner goes

	DB *store.DB
	// NodeID is the node's name among those sharing a database (and its
	// River client's ID).
	NodeID string
	// Catalog is the catalogue in force, which seed documents may change
	// at run time: every part of the node reads it. Overrides keeps the
	// seed documents' flavor overrides that make it.
	Catalog   *catalog.Live
	Overrides *seed.Overrides
	Driver    driver.Driver
	Service   *compute.Service
	River     *river.Client[*sql.Tx]
	HTTP      *httpapi.Server
	Control   *control.Server
	Faults    *fault.Engine // fault injection, persistent in the store
	// Clock is the clock of jobs and timestamps. Run sets it to VClock, the
	// persistent virtual clock, unless a test set another one before.
	Clock  ecs.Clock
	VClock *clock.Virtual
	// clockSaved is the clock state last saved or put in force.
	clockSaved latest
	cluster    *cluster       // the duties of a node on a shared database
	State      *control.State // run-time tenants, reset, seed and snapshots
	started    time.Time
}

// New returns a Node for cfg; Run starts it.
func New(cfg Config, logger *slog.Logger, out io.Writer) *Node {
	return &Node{Config: cfg, Logger: logger, Out: out}
}

// Run opens the store, recovers interrupted work, starts the job queue and
// serves HTTP on Config.Listen. It returns once ecsd is ready.
func (m *Node) Run(ctx context.Context) error {
	cfg := m.Config
	dataDir := cfg.DataDir
	db, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	m.DB = db
	m.started = time.Now()
	if m.NodeID = cfg.NodeID; m.NodeID == "" {
		m.NodeID = defaultNodeID()
	}
	if m.Clock == nil {
		if m.VClock, err = m.openClock(ctx); err != nil {
			return err
		}
		m.Clock = m.VClock
	}

	configured, err := catalog.New(cfg.Region, cfg.Flavors)
	if err != nil {
		return fmt.Errorf("flavor catalogue: %w", err)
	}
	// The catalogue in force: the configured one with the overrides of the
	// seed documents loaded since the last full reset, as saved in the
	// store. The start-up seed loads only into a store that never held a
	// server or a job, and then, as after a full reset, on the configured
	// catalogue.
	m.Overrides = seed.NewOverrides(configured, db)
	m.Catalog = m.Overrides.Live
	loadSeed := false
	if cfg.Seed != nil {
		if err := cfg.Seed.Check(configured); err != nil {
			return fmt.Errorf("start-up seed: %w", err)
		}
		if loadSeed, err = m.storeEmpty(ctx); err != nil {
			return err
		}
		if !loadSeed {
			m.Logger.Info("the store is not empty: the start-up seed is not loaded (a reset applies it)")
		}
	}
	if loadSeed {
		err = m.Overrides.Reset(ctx)
	} else {
		err = m.Overrides.Restore(ctx)
	}
	if err != nil {
		return fmt.Errorf("flavor catalogue: %w", err)
	}
	timing, err := worker.Profile(cfg.Timing, cfg.PhaseOverrides)
	if err != nil {
		return err
	}
	var drivers driver.Registry
	drivers.Register(sim.Name, func() (driver.Driver, error) {
		return sim.New(sim.Options{Sleep: m.Clock.Sleep}), nil
	})
	drivers.Register(qemu.Name, func() (driver.Driver, error) {
		opts := qemu.Options{Binary: cfg.QEMUBinary, Kernel: cfg.QEMUKernel, Initrd: cfg.QEMUInitrd,
			MemoryScale: cfg.QEMUMemoryScale, Overcommit: cfg.QEMUOvercommit,
			Accel: cfg.QEMUAccel, PowerdownTimeout: cfg.QEMUPowerdownTimeout, Logger: m.Logger.With("component", "qemu")}
		if dataDir != "" {
			opts.Dir = filepath.Join(dataDir, "qemu")
		}
		return qemu.New(opts)
	})
	if m.Driver, err = drivers.Open(cfg.Driver); err != nil {
		return err
	}

	m.Service = &compute.Service{Store: db, Catalog: m.Catalog, Clock: m.Clock, Logger: m.Logger}
	for _, t := range cfg.Tenants {
		name := t.DomainName
		if name == "" {
			name = t.Tenant.DomainID
		}
		m.Service.Accounts = append(m.Service.Accounts, ecs.Account{ProjectID: t.Tenant.ProjectID, DomainName: name, Users: t.Users})
	}
	for _, t := range cfg.Tenants {
		if err := m.Service.EnsureTenant(ctx, t.Tenant, t.Quota); err != nil {
			return err
		}
	}
	if err := m.Service.SetHosts(ctx, m.hosts()); err != nil {
		return err
	}
	// The driver learns of the machines the store knows, so that a
	// restarted ecsd keeps operating them. A driver whose machines live
	// only in this process (sim) is told of each one when a job first acts
	// on it (worker.Runner adopts it from the store), so that start-up
	// does not read every server.
	if m.Driver.Capabilities().Persistent {
		if err := (&compute.Admin{Service: m.Service, Store: db, Driver: m.Driver}).RecoverDriver(ctx); err != nil {
			return err
		}
	}
	rescued, err := m.recoverJobs(ctx)
	if err != nil {
		return err
	}
	if rescued > 0 {
		m.Logger.Info("resuming jobs interrupted by the last shutdown", "count", rescued)
	}
	if _, err := m.Service.Reconcile(ctx); err != nil {
		return err
	}

	runner := &worker.Runner{Store: db, Driver: m.Driver, Flavors: m.Catalog, Clock: m.Clock, Timing: timing, Logger: m.Logger,
		Group: m.Service.InTx}
	if err := m.openFaults(ctx); err != nil {
		return err
	}
	m.Service.Market, runner.Faults = m.Faults, m.Faults
	// Test-control state: the start-up seed (config tenants, then --seed)
	// is what a reset returns to; --seed loads only into an empty store.
	base := &seed.Document{}
	for _, t := range cfg.Tenants {
		base.Tenants = append(base.Tenants, seed.TenantOf(t.Tenant, t.Quota))
	}
	base = seed.Merge(base, cfg.Seed)
	m.State = &control.State{Store: db, Base: base, Clock: m.VClock, Reload: m.Faults.Load, Logger: m.Logger,
		Admin: &compute.Admin{Service: m.Service, Store: db, Driver: m.Driver, Workers: runner,
			Region: cfg.Region, DefaultQuota: cfg.DefaultQuota},
		Seed: seed.Options{Region: cfg.Region, DefaultQuota: cfg.DefaultQuota, Flavors: m.Overrides}}
	if loadSeed {
		if _, err := seed.Load(ctx, m.State.Admin, cfg.Seed, m.State.Seed); err != nil {
			return fmt.Errorf("start-up seed: %w", err)
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker.WakeWorker{})
	// The worker completes River's job in its last transaction, through
	// the engine's driver type.
	if m.shared() {
		river.AddWorker(workers, &worker.Worker[*riverdatabasesql.Driver]{Runner: runner})
	} else {
		river.AddWorker(workers, &worker.Worker[*riversqlite.Driver]{Runner: runner})
	}
	// The client's ID is the node's, which the store's rescue of dead
	// nodes' jobs relies on.
	m.River, err = river.NewClient(db.RiverDriver(), &river.Config{
		ID:            m.NodeID,
		Logger:        m.Logger.With("component", "river"),
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 100}},
		Workers:       workers,
		FetchCooldown: 5 * time.Millisecond,
		// Neither engine listens here (store.DB.RiverDriver): worker.Queue
		// wakes the producer after each commit that enqueued jobs; the poll
		// is the backstop (retries, jobs rescued, other nodes' jobs).
		FetchPollInterval:    25 * time.Millisecond,
		JobTimeout:           -1,
		RescueStuckJobsAfter: 24 * time.Hour,
		RetryPolicy:          worker.RetryPolicy{},
		PollOnly:             true,
	})
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	// Wake: River's producer is woken after each commit that enqueued
	// jobs, instead of finding them at its next poll.
	m.Service.Queue = &worker.Queue{Client: m.River, Wake: true, Logger: m.Logger}
	if err := m.River.Start(ctx); err != nil {
		return fmt.Errorf("river: start: %w", err)
	}
	if m.shared() {
		m.startCluster(runner)
	}

	m.HTTP = httpapi.NewServer(httpapi.Services{
		Servers: m.Service, Details: m.Service, Jobs: m.Service, Tenants: m.Service,
		Flavors: m.Service, Networks: m.Service, Images: m.Service,
		BatchResize: m.Service, Market: m.Service, Orders: m.Service,
		Resources: m.Service, Identity: m.Service, Subscriptions: m.Service,
	}, m.Logger)
	m.Control = &control.Server{Token: cfg.AdminToken, Logger: m.Logger, Clock: m.VClock, History: m.Service, Health: m.health}
	m.HTTP.Faults, m.HTTP.Sleep, m.HTTP.Unavailable = m.Faults, m.Clock.Sleep, store.IsUnavailable
	control.RegisterFaults(m.Control, m.Faults)
	m.State.Register(m.Control)
	m.HTTP.Extra = map[string]http.Handler{"/_ecsd/": m.Control.Handler(), "/console/": (&console.Console{
		Services: m.Service, Store: db, Catalog: m.Catalog, Faults: m.Faults, Clock: m.VClock, Driver: m.Driver,
		Token: cfg.AdminToken, Logger: m.Logger.With("component", "console")}).Handler()}
	if err := m.HTTP.Open(cfg.Listen); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	m.banner()
	return nil
}

// openFaults loads the fault rules kept in the store; new rules may name
// only the operations, phases, flavors (of the catalogue in force), zones
// and hosts this node has.
func (m *Node) openFaults(ctx context.Context) error {
	names := fault.Names{Operations: httpapi.Operations, Phases: worker.Phases,
		Flavor: func(id string) bool { _, ok := m.Catalog.Flavor(id); return ok }}
	for _, az := range m.Catalog.AZs() {
		names.AZs = append(names.AZs, az.Name)
	}
	for _, h := range m.hosts() {
		names.Hosts = append(names.Hosts, h.ID)
	}
	m.Faults = &fault.Engine{Store: m.DB, Names: names, Now: m.Clock.Now}
	return m.Faults.Load(ctx)
}

// clockSetting is the settings key of the virtual clock's state.
const clockSetting = "clock"

// openClock returns the virtual clock as the store last saw it (a fresh
// one on a new store), saving every change.
func (m *Node) openClock(ctx context.Context) (*clock.Virtual, error) {
	c := clock.New(nil)
	saved, err := m.DB.Setting(ctx, clockSetting)
	if err != nil {
		return nil, err
	}
	m.clockSaved.swap(saved)
	if saved != "" {
		var st clock.State
		if err := json.Unmarshal([]byte(saved), &st); err != nil {
			return nil, fmt.Errorf("clock state: %w", err)
		}
		if err := c.Restore(st); err != nil {
			return nil, err
		}
	}
	c.OnChange(func(st clock.State) {
		b, _ := json.Marshal(st)
		if m.clockSaved.get() == string(b) {
			return // put in force from the store (another node's change)
		}
		// Saved first, then recorded: until it is in the store, the
		// cluster's follower sees the store's older state as the one it
		// last recorded, and leaves the clock alone (cluster.follow).
		if err := m.DB.PutSetting(context.Background(), clockSetting, string(b)); err != nil {
			m.Logger.Error("save clock state", "err", err)
		}
		m.clockSaved.set(string(b))
	})
	return c, nil
}

func (m *Node) health() control.Health {
	return control.Health{Ready: true, Version: m.Config.Version, Store: m.storeName(), NodeID: m.NodeID, Driver: m.Driver.Name(),
		Uptime: time.Since(m.started).Seconds(), Started: m.started.UTC().Format(time.RFC3339)}
}

// hosts returns the configured simulated hosts, or the catalogue's.
func (m *Node) hosts() []ecs.Host {
	if len(m.Config.Hosts) > 0 {
		return m.Config.Hosts
	}
	if q, ok := m.Driver.(*qemu.Driver); ok {
		// One host per zone, sized from this machine (docs/drivers.md).
		var azs []string
		for _, az := range m.Catalog.AZs() {
			azs = append(azs, az.Name)
		}
		hosts, err := q.Hosts(azs)
		if err == nil {
			return hosts
		}
		m.Logger.Error("qemu: host capacity; using the catalogue's hosts", "err", err)
	}
	var out []ecs.Host
	for _, h := range m.Catalog.Hosts() {
		out = append(out, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	return out
}

// storeEmpty reports whether the store has never held a server or a job.
func (m *Node) storeEmpty(ctx context.Context) (bool, error) {
	tx, err := m.DB.BeginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	return m.DB.IsEmpty(ctx, tx)
}

func (m *Node) banner() {
	fmt.Fprintf(m.Out, "ecsd %s listening on %s\n", m.Config.Version, m.HTTP.URL())
	fmt.Fprintf(m.Out, "  store:   %s\n  driver:  %s\n  timing:  %s\n", m.storeName(), m.Driver.Name(), m.Config.Timing)
	if m.shared() {
		fmt.Fprintf(m.Out, "  node:    %s (jobs of nodes silent for %s are taken over)\n", m.NodeID, m.nodeTimeout())
	}
	if m.Config.DevTenant && len(m.Config.Tenants) > 0 {
		t := m.Config.Tenants[0].Tenant
		fmt.Fprintf(m.Out, "development tenant (do not use beyond loopback):\n")
		fmt.Fprintf(m.Out, "  endpoint:   %s\n  region:     %s\n  project ID: %s\n  domain ID:  %s\n",
			m.HTTP.URL(), t.ProjectName, t.ProjectID, t.DomainID)
		fmt.Fprintf(m.Out, "  access key: %s\n  secret key: %s\n", t.AccessKey, t.SecretKey)
	}
}

// Close stops serving, stops the job queue (running jobs are interrupted and
// resume on the next start) and closes the database. It is idempotent.
func (m *Node) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if m.HTTP != nil {
		errs = append(errs, m.HTTP.Close(ctx))
		m.HTTP = nil
	}
	if m.River != nil {
		errs = append(errs, m.River.StopAndCancel(ctx))
		m.River = nil
	}
	if m.cluster != nil {
		errs = append(errs, m.cluster.close(ctx))
		m.cluster = nil
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
		m.DB = nil
	}
	// A driver that holds resources (the qemu driver of an ephemeral
	// node kills its machines) releases them last.
	if c, ok := m.Driver.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
