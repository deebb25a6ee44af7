package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
)

const (
	flavorA = "s6.small.1"
	flavorB = "s6.medium.2"
	image   = "abe65701-8a26-40ec-b381-c10498ca3745" // Ubuntu 22.04
	// Development tenant of cmd/ecsd (startup scenario).
	devAK, devSK, devProject = "ECSDDEVACCESSKEY0001", "ecsdDevSecretKey000000000000000000000000", "000000000000000000000000000ec5d1"
)

// benchHosts are big simulated hosts, one x86 host per zone, so that
// capacity never limits the benchmark. The startup scenario gives the same
// hosts to cmd/ecsd.
func benchHosts() []ecs.Host {
	var hs []ecs.Host
	for _, az := range []string{"cn-north-4a", "cn-north-4b", "cn-north-4c"} {
		hs = append(hs, ecs.Host{ID: az + "-bench", AZ: az, VCPUs: 1 << 22, RAMMB: 1 << 32, Arch: "x86_64"})
	}
	return hs
}

// Bench runs the scenarios of Config.
type Bench struct {
	Config Config
	Log    io.Writer

	tmp     string
	pg      *pgDatabase // --database
	node    *node.Node
	base    string
	http    *http.Client
	bigDir  string // data dir holding the scale scenario's servers, if on disk
	results []Result
}

// Close stops the in-process node and removes the temp files.
func (b *Bench) Close() {
	if b.node != nil {
		b.node.Close()
		b.node = nil
	}
	if b.pg != nil {
		if err := b.pg.Close(); err != nil {
			b.logf("close PostgreSQL: %v", err)
		}
		b.pg = nil
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
		b.tmp = ""
	}
}

// startNode starts an in-process node on the SQLite store in dataDir ("" =
// in memory) or, when database is set, on that PostgreSQL database.
func (b *Bench) startNode(ctx context.Context, dataDir, database string) (*node.Node, error) {
	n := node.New(node.Config{Listen: "127.0.0.1:0", DataDir: dataDir, Database: database, Region: "cn-north-4", Timing: "instant",
		Driver: "sim", Version: "ecsbench", Hosts: benchHosts()}, slog.New(slog.DiscardHandler), io.Discard)
	if err := n.Run(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Run runs the scenarios and returns their results, the baselines first.
func (b *Bench) Run(ctx context.Context) ([]Result, error) {
	var err error
	if b.tmp, err = os.MkdirTemp("", "ecsbench-"); err != nil {
		return nil, err
	}
	c := b.Config
	b.http = newHTTPClient(c.Clients)
	b.base = c.URL
	if c.PID != 0 {
		meterPID = fmt.Sprint(c.PID)
	}
	if b.base == "" {
		dir := filepath.Join(b.tmp, "data")
		if c.Ephemeral {
			dir = ""
		}
		database := ""
		if c.Database != "" {
			if b.pg, err = openPostgres(ctx, c.Database, c.DatabaseAsIs); err != nil {
				return nil, err
			}
			database = b.pg.URL
		}
		if b.node, err = b.startNode(ctx, dir, database); err != nil {
			return nil, fmt.Errorf("start ecsd: %w", err)
		}
		b.base = b.node.HTTP.URL()
		if dir != "" && database == "" {
			b.bigDir = dir
		}
	}
	for _, s := range c.Scenarios {
		b.logf("scenario %s", s)
		var err error
		switch s {
		case "read":
			err = b.read(ctx)
		case "write-dryrun":
			err = b.writeDryRun(ctx)
		case "write":
			err = b.write(ctx)
		case "lifecycle":
			err = b.lifecycle(ctx)
		case "scale":
			err = b.scale(ctx)
		case "startup":
			err = b.startup(ctx)
		}
		if err != nil {
			return b.results, fmt.Errorf("%s: %w", s, err)
		}
	}
	return b.results, nil
}

func (b *Bench) add(r Result) {
	b.logf("  %-24s %9.0f req/s  p50 %.2f ms  p99 %.2f ms  errors %d %s", r.Scenario, r.RPS, r.P50ms, r.P99ms, r.Errors, r.FirstErr)
	b.results = append(b.results, r)
}

func (b *Bench) find(name string) *Result {
	for i := range b.results {
		if b.results[i].Scenario == name {
			return &b.results[i]
		}
	}
	return nil
}

func (b *Bench) ratio(r *Result, baseline string) {
	if bl := b.find(baseline); bl != nil && bl.RPS > 0 {
		r.Baseline, r.Ratio = baseline, r.RPS/bl.RPS
	}
}

// --- fixtures through the control API ------------------------------------------

var tenantSeq int

// newTenant returns a fresh tenant's identity (not yet seeded).
func newTenant() Tenant {
	tenantSeq++
	p := fmt.Sprintf("%08x%024x", uint32(time.Now().UnixNano()), tenantSeq)
	return Tenant{AccessKey: fmt.Sprintf("ECSBENCH%s", strings.ToUpper(p[:8])+fmt.Sprint(tenantSeq)), SecretKey: "ecsbench-secret-" + p, ProjectID: p}
}

type seedServer struct {
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Flavor    string `json:"flavor"`
	Image     string `json:"image"`
	Status    string `json:"status"`
	Count     int    `json:"count"`
}

// seed loads tenants (unlimited quota) and servers through POST
// /_ecsd/seed and returns the new servers' IDs in order.
func (b *Bench) seed(ctx context.Context, tenants []Tenant, servers []seedServer) ([]string, error) {
	type limits struct {
		Instances int `json:"instances"`
		Cores     int `json:"cores"`
		RAM       int `json:"ram"`
	}
	type tenant struct {
		AccessKey string `json:"access_key"`
		SecretKey string `json:"secret_key"`
		ProjectID string `json:"project_id"`
		Quota     limits `json:"quota"`
	}
	doc := struct {
		Tenants []tenant     `json:"tenants,omitempty"`
		Servers []seedServer `json:"servers,omitempty"`
	}{Servers: servers}
	for _, t := range tenants {
		doc.Tenants = append(doc.Tenants, tenant{t.AccessKey, t.SecretKey, t.ProjectID, limits{-1, -1, -1}})
	}
	body, _ := json.Marshal(doc)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/_ecsd/seed", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if b.Config.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+b.Config.AdminToken)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("seed: status %d: %s", resp.StatusCode, out)
	}
	var v struct {
		Servers []struct {
			ID string `json:"id"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	ids := make([]string, len(v.Servers))
	for i, s := range v.Servers {
		ids[i] = s.ID
	}
	return ids, nil
}

// stoppedServers seeds a tenant with n stopped servers of flavorA.
func (b *Bench) stoppedServers(ctx context.Context, n int) (*Client, []string, error) {
	t := newTenant()
	var entries []seedServer
	for left := n; left > 0; left -= maxSeedCount { // a seed entry holds at most maxSeedCount servers
		entries = append(entries, seedServer{ProjectID: t.ProjectID, Name: fmt.Sprintf("bench%d", len(entries)), Flavor: flavorA,
			Image: image, Status: "SHUTOFF", Count: min(left, maxSeedCount)})
	}
	ids, err := b.seed(ctx, []Tenant{t}, entries)
	if err != nil {
		return nil, nil, err
	}
	return &Client{Base: b.base, HTTP: b.http, Tenant: t}, ids, nil
}

// maxSeedCount is the largest count of one seed entry.
const maxSeedCount = 500

func resizeBody(flavor string, dryRun bool) []byte {
	if dryRun {
		return []byte(`{"resize":{"flavorRef":"` + flavor + `"},"dry_run":true}` + "\n")
	}
	return []byte(`{"resize":{"flavorRef":"` + flavor + `"}}` + "\n")
}

// resize asks for a resize and returns the job ID.
func (cl *Client) resize(ctx context.Context, id, flavor string) (string, error) {
	st, out, err := cl.Do(ctx, http.MethodPost, "/v1/"+cl.Tenant.ProjectID+"/cloudservers/"+id+"/resize", resizeBody(flavor, false))
	if err := expect(st, out, err, http.StatusOK); err != nil {
		return "", err
	}
	var v struct {
		JobID string `json:"job_id"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.JobID == "" {
		return "", fmt.Errorf("resize: no job_id in %s", out)
	}
	return v.JobID, nil
}

// wait polls a job every poll until it ends.
func (cl *Client) wait(ctx context.Context, jobID string, poll time.Duration) error {
	for {
		st, out, err := cl.Do(ctx, http.MethodGet, "/v1/"+cl.Tenant.ProjectID+"/jobs/"+jobID, nil)
		if err := expect(st, out, err, http.StatusOK); err != nil {
			return err
		}
		switch {
		case bytes.Contains(out, []byte(`"status":"SUCCESS"`)):
			return nil
		case bytes.Contains(out, []byte(`"status":"FAIL"`)):
			return fmt.Errorf("job %s failed: %s", jobID, out)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// --- scenarios ---------------------------------------------------------------

func (b *Bench) read(ctx context.Context) error {
	cl, ids, err := b.stoppedServers(ctx, 1)
	if err != nil {
		return err
	}
	job, err := cl.resize(ctx, ids[0], flavorB)
	if err != nil {
		return err
	}
	if err := cl.wait(ctx, job, 5*time.Millisecond); err != nil {
		return err
	}
	serverPath := "/v1/" + cl.Tenant.ProjectID + "/cloudservers/" + ids[0]
	st, body, err := cl.Do(ctx, http.MethodGet, serverPath, nil)
	if err := expect(st, body, err, http.StatusOK); err != nil {
		return err
	}
	bare, err := startBare(body)
	if err != nil {
		return err
	}
	defer bare.Close()
	bareCl := &Client{Base: bare.url, HTTP: newHTTPClient(b.Config.Clients), Tenant: cl.Tenant}
	get := func(c *Client, path string) Op {
		return func(ctx context.Context, _, _ int) error {
			st, out, err := c.Do(ctx, http.MethodGet, path, nil)
			return expect(st, out, err, http.StatusOK)
		}
	}
	bl := drive(ctx, "baseline/bare-http", b.Config.Clients, b.Config.Duration, 0, get(bareCl, serverPath))
	bl.Note = fmt.Sprintf("net/http, same route shape, same %d-byte ShowServer body, clients sign", len(body))
	b.add(bl)
	r := drive(ctx, "read/show-server", b.Config.Clients, b.Config.Duration, 0, get(cl, serverPath))
	b.ratio(&r, bl.Scenario)
	b.add(r)
	r = drive(ctx, "read/show-job", b.Config.Clients, b.Config.Duration, 0, get(cl, "/v1/"+cl.Tenant.ProjectID+"/jobs/"+job))
	b.ratio(&r, bl.Scenario)
	b.add(r)
	return nil
}

func (b *Bench) writeDryRun(ctx context.Context) error {
	cl, ids, err := b.stoppedServers(ctx, b.Config.Clients)
	if err != nil {
		return err
	}
	r := drive(ctx, "write/resize-dry-run", b.Config.Clients, b.Config.Duration, 0, func(ctx context.Context, id, _ int) error {
		st, out, err := cl.Do(ctx, http.MethodPost, "/v1/"+cl.Tenant.ProjectID+"/cloudservers/"+ids[id]+"/resize", resizeBody(flavorB, true))
		return expect(st, out, err, http.StatusAccepted)
	})
	b.ratio(&r, "baseline/bare-http")
	r.Note = "validation only, no commit"
	b.add(r)
	return nil
}

func (b *Bench) write(ctx context.Context) error {
	bl, err := b.commitBaselines(ctx)
	if err != nil {
		return err
	}
	// Each client owns per stopped servers and resizes them in turn,
	// alternating two flavors: by the time it comes back to a server, that
	// server's previous job has usually finished. The pool stays small
	// (240 servers in one project): accepting a resize reads every server
	// of the project (quota) and of the AZ (capacity), so a larger pool
	// makes each accept slower (2,000 servers: 16/s; see
	// docs/performance.md).
	per := max(1, 240/b.Config.Clients)
	cl, ids, err := b.stoppedServers(ctx, b.Config.Clients*per)
	if err != nil {
		return err
	}
	r := drive(ctx, "write/resize", b.Config.Clients, b.Config.Duration, 0, func(ctx context.Context, id, i int) error {
		flavor := flavorB
		if (i/per)%2 == 1 {
			flavor = flavorA
		}
		_, err := cl.resize(ctx, ids[id*per+i%per], flavor)
		return err
	})
	b.ratio(&r, bl.Scenario)
	r.Note = fmt.Sprintf("committed tx + River job; %d stopped servers, instant profile", len(ids))
	b.add(r)
	// Let the queued jobs drain before the next scenario.
	b.drain(ctx, cl, ids)
	return nil
}

// commitBaselines measures the raw commit rate of the node's engine and
// returns the baseline the write path is compared to.
func (b *Bench) commitBaselines(ctx context.Context) (Result, error) {
	c := b.Config
	if b.pg == nil {
		bl, err := commitBaseline(ctx, b.tmp, c.Clients, c.Duration)
		if err != nil {
			return bl, err
		}
		bl.Note = "WAL, synchronous=NORMAL, 1 conn, BEGIN IMMEDIATE, 1 INSERT/tx"
		b.add(bl)
		return bl, nil
	}
	bl, err := pgCommitBaseline(ctx, b.pg.URL, c.Clients, c.Duration, false)
	if err != nil {
		return bl, err
	}
	bl.Note = fmt.Sprintf("%s; pgx database/sql, %d conns, 1 INSERT/tx", b.pg.Settings, c.Clients)
	b.add(bl)
	ser, err := pgCommitBaseline(ctx, b.pg.URL, c.Clients, c.Duration, true)
	if err != nil {
		return bl, err
	}
	ser.Note = "the same, each tx first takes an advisory xact lock (one writer at a time, as ecsd's read-write transactions)"
	b.ratio(&ser, bl.Scenario)
	b.add(ser)
	return bl, nil
}

// drain waits (at most 30 s) until the servers' last resize ended, by
// polling ShowServer for a status other than RESIZE.
func (b *Bench) drain(ctx context.Context, cl *Client, ids []string) {
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for time.Now().Before(deadline) {
			st, out, err := cl.Do(ctx, http.MethodGet, "/v1/"+cl.Tenant.ProjectID+"/cloudservers/"+id, nil)
			if err != nil || st != http.StatusOK || bytes.Contains(out, []byte(`"status":"SHUTOFF"`)) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func (b *Bench) lifecycle(ctx context.Context) error {
	n := b.Config.LifecycleClients
	cl, ids, err := b.stoppedServers(ctx, n)
	if err != nil {
		return err
	}
	r := drive(ctx, "lifecycle/resize-to-success", n, b.Config.Duration, 0, func(ctx context.Context, id, i int) error {
		flavor := flavorB
		if i%2 == 1 {
			flavor = flavorA
		}
		job, err := cl.resize(ctx, ids[id], flavor)
		if err != nil {
			return err
		}
		return cl.wait(ctx, job, time.Millisecond)
	})
	r.Note = fmt.Sprintf("clients: %d; ShowJob polled every 1 ms; req/s = resizes completed/s", n)
	b.add(r)
	return nil
}

func (b *Bench) scale(ctx context.Context) error {
	c := b.Config
	per := c.Servers / c.Projects
	m := startMeter()
	t0 := time.Now()
	var tenants []*Client
	// Projects are seeded in batches of about seedBatch servers, each batch
	// one request (one transaction).
	const seedBatch = 10_000
	var batch []Tenant
	var servers []seedServer
	stopped := map[string][]string{} // project → its SHUTOFF servers
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ids, err := b.seed(ctx, batch, servers)
		if err != nil {
			return fmt.Errorf("seed projects %d-%d: %w", len(tenants)-len(batch), len(tenants)-1, err)
		}
		for _, e := range servers { // the IDs come in the order of the entries
			if e.Status == "SHUTOFF" && len(ids) >= e.Count {
				stopped[e.ProjectID] = append(stopped[e.ProjectID], ids[:e.Count]...)
			}
			ids = ids[min(e.Count, len(ids)):]
		}
		batch, servers = nil, nil
		return nil
	}
	for range c.Projects {
		t := newTenant()
		batch = append(batch, t)
		// Half ACTIVE of flavorA, half SHUTOFF of flavorB, in entries of
		// at most maxSeedCount servers.
		for i, left := 0, per; left > 0; i++ {
			n := min(left, maxSeedCount, max(per/2, 1))
			name, flavor, status := "scale-a", flavorA, "ACTIVE"
			if per-left >= per/2 {
				name, flavor, status = "scale-b", flavorB, "SHUTOFF"
			}
			servers = append(servers, seedServer{ProjectID: t.ProjectID, Name: fmt.Sprintf("%s%d", name, i), Flavor: flavor, Image: image, Status: status, Count: n})
			left -= n
		}
		tenants = append(tenants, &Client{Base: b.base, HTTP: b.http, Tenant: t})
		if len(batch)*per >= seedBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	el := time.Since(t0)
	seedRes := Result{Scenario: "scale/seed", Requests: per * c.Projects, Seconds: el.Seconds(), RPS: float64(per*c.Projects) / el.Seconds(),
		Note: fmt.Sprintf("%d servers in %d projects via POST /_ecsd/seed (compute.Admin.Seed), not the API; req/s = servers/s", per*c.Projects, c.Projects)}
	m.fill(&seedRes)
	b.add(seedRes)
	pages := max(per/100, 1)
	list := func(name, query string, clients int) {
		r := drive(ctx, name, clients, c.Duration, 0, func(ctx context.Context, id, i int) error {
			cl := tenants[rand.IntN(len(tenants))]
			q := query
			if q == "" {
				q = fmt.Sprintf("offset=%d", 1+rand.IntN(pages))
			}
			st, out, err := cl.Do(ctx, http.MethodGet, "/v1/"+cl.Tenant.ProjectID+"/cloudservers/detail?limit=100&"+q, nil)
			return expect(st, out, err, http.StatusOK)
		})
		r.Note = fmt.Sprintf("%d servers in the store, %d per project", per*c.Projects, per)
		if clients == 1 {
			r.Note += "; 1 client"
		}
		b.add(r)
	}
	list("scale/list-page", "", c.Clients)
	// The same pages for one client at a time: the latency of a page
	// itself, without the queue of the other clients' pages before it.
	list("scale/list-page-1-client", "", 1)
	list("scale/filter-status", "status=SHUTOFF", c.Clients)
	list("scale/filter-flavor", "flavor="+flavorB, c.Clients)
	// A resize's checks (quota, capacity of the AZ's hosts) on the large
	// store: dry runs of stopped servers, nothing committed.
	r := drive(ctx, "scale/resize-dry-run", c.Clients, c.Duration, 0, func(ctx context.Context, id, i int) error {
		cl := tenants[rand.IntN(len(tenants))]
		ids := stopped[cl.Tenant.ProjectID]
		if len(ids) == 0 {
			return fmt.Errorf("project %s has no stopped server", cl.Tenant.ProjectID)
		}
		st, out, err := cl.Do(ctx, http.MethodPost, "/v1/"+cl.Tenant.ProjectID+"/cloudservers/"+ids[rand.IntN(len(ids))]+"/resize", resizeBody(flavorA, true))
		return expect(st, out, err, http.StatusAccepted)
	})
	r.Note = fmt.Sprintf("%d servers in the store; dry-run resizes of stopped servers (every check, no commit)", per*c.Projects)
	b.add(r)
	return nil
}

// --- startup -----------------------------------------------------------------

// startup measures the start-up of the cmd/ecsd binary on the node's
// engine (SQLite, or PostgreSQL with --database): on an empty store and on
// one holding the big database.
func (b *Bench) startup(ctx context.Context) error {
	bin := b.Config.ECSD
	if bin == "" {
		bin = filepath.Join(b.tmp, "ecsd")
		b.logf("  go build ./cmd/ecsd")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ecsd-dev/ecsd/cmd/ecsd")
		cmd.Stdout, cmd.Stderr = b.Log, b.Log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build ecsd: %w", err)
		}
	}
	hosts := []map[string]any{}
	for _, h := range benchHosts() {
		hosts = append(hosts, map[string]any{"id": h.ID, "az": h.AZ, "vcpus": h.VCPUs, "ram": h.RAMMB, "arch": h.Arch})
	}
	cfgFile := filepath.Join(b.tmp, "ecsd.json")
	cb, _ := json.Marshal(map[string]any{"hosts": hosts})
	if err := os.WriteFile(cfgFile, cb, 0o600); err != nil {
		return err
	}
	engine, note := "SQLite", ""
	if b.pg != nil {
		engine, note = "PostgreSQL", "; RSS is the ecsd process's alone, not PostgreSQL's"
	}
	// Every empty-db run starts on a store it makes itself, so that each
	// run includes the migrations: a fresh data dir, or a fresh database.
	empty := filepath.Join(b.tmp, "empty")
	emptyStore := func(ctx context.Context, run int) ([]string, error) {
		if b.pg == nil {
			return storeArgs(empty, ""), os.RemoveAll(empty)
		}
		u, err := b.freshDatabase(ctx, fmt.Sprintf("empty%d", run))
		if err != nil {
			return nil, err
		}
		return storeArgs("", u), nil
	}
	if err := b.startupRuns(ctx, "startup/empty-db", bin, cfgFile, engine, note, emptyStore); err != nil {
		return err
	}
	// The big database: the scale scenario's, when it ran in this process
	// on disk or on PostgreSQL; otherwise seeded here.
	dir, database := b.bigDir, ""
	if b.pg != nil {
		database = b.pg.URL
	}
	n := 0
	if b.find("scale/seed") != nil && b.node != nil && (dir != "" || database != "") {
		n = b.find("scale/seed").Requests
		b.node.Close()
		b.node = nil
	} else {
		dir = filepath.Join(b.tmp, "big")
		var err error
		if b.pg != nil {
			if database, err = b.freshDatabase(ctx, "big"); err != nil {
				return err
			}
			dir = ""
		}
		if n, err = b.seedBig(ctx, dir, database); err != nil {
			return fmt.Errorf("seed the big database: %w", err)
		}
	}
	big := storeArgs(dir, database)
	return b.startupRuns(ctx, fmt.Sprintf("startup/%d-servers", n), bin, cfgFile, engine, note,
		func(context.Context, int) ([]string, error) { return big, nil })
}

// storeArgs are the arguments that put cmd/ecsd on the PostgreSQL
// database if set, else on the SQLite store in dataDir.
func storeArgs(dataDir, database string) []string {
	if database != "" {
		return []string{"--database", database}
	}
	return []string{"--data", dataDir}
}

// freshDatabase makes a fresh database for the startup scenario on
// PostgreSQL, beside the node's.
func (b *Bench) freshDatabase(ctx context.Context, suffix string) (string, error) {
	u, err := b.pg.Create(ctx, suffix)
	if err != nil {
		return "", fmt.Errorf("on PostgreSQL, startup runs cmd/ecsd on fresh databases: it needs a role that can create databases (or leave startup out): %w", err)
	}
	return u, nil
}

// seedBig seeds Servers ACTIVE servers over Projects projects through an
// in-process node on the SQLite store in dataDir or on the PostgreSQL
// database, closes it, and returns the number of servers seeded.
func (b *Bench) seedBig(ctx context.Context, dataDir, database string) (int, error) {
	nd, err := b.startNode(ctx, dataDir, database)
	if err != nil {
		return 0, err
	}
	defer nd.Close()
	saved := b.base
	b.base = nd.HTTP.URL()
	defer func() { b.base = saved }()
	n, per := 0, b.Config.Servers/b.Config.Projects
	for range b.Config.Projects {
		t := newTenant()
		var entries []seedServer // of at most maxSeedCount servers each
		for i, left := 0, per; left > 0; i++ {
			c := min(left, maxSeedCount)
			entries = append(entries, seedServer{ProjectID: t.ProjectID, Name: fmt.Sprintf("big%d", i), Flavor: flavorA, Image: image, Status: "ACTIVE", Count: c})
			left -= c
		}
		if _, err := b.seed(ctx, []Tenant{t}, entries); err != nil {
			return n, err
		}
		n += per
	}
	return n, nil
}

// startupRuns starts bin StartupRuns times, each on the store whose
// arguments (--data DIR or --database URL) store gives for that run, and
// records the time from process start to the first successful signed
// request and the RSS after a short idle period.
func (b *Bench) startupRuns(ctx context.Context, name, bin, cfgFile, engine, note string,
	store func(ctx context.Context, run int) ([]string, error)) error {
	var times []time.Duration
	var rss, hwm float64
	for run := range b.Config.StartupRuns {
		args, err := store(ctx, run)
		if err != nil {
			return err
		}
		d, r, h, err := b.startOnce(ctx, bin, cfgFile, args)
		if err != nil {
			return err
		}
		times = append(times, d)
		rss, hwm = max(rss, r), max(hwm, h)
	}
	res := summarize(name, times, 0)
	res.Requests = len(times)
	res.PeakRSSMB = hwm
	res.Note = fmt.Sprintf("cmd/ecsd process start -> first signed ListServersDetails 200 on %s; idle RSS %.1f MB%s; latencies are start-up times",
		engine, rss, note)
	res.IdleRSSMB = rss
	b.add(res)
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startOnce starts bin on the store of storeArgs and returns the time to
// its first signed 200 and its RSS and peak RSS after idling.
func (b *Bench) startOnce(ctx context.Context, bin, cfgFile string, storeArgs []string) (time.Duration, float64, float64, error) {
	addr, err := freePort()
	if err != nil {
		return 0, 0, 0, err
	}
	cmd := exec.Command(bin, append([]string{"--config", cfgFile, "--listen", addr, "--log-level", "error"}, storeArgs...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	cl := &Client{Base: "http://" + addr, HTTP: &http.Client{Timeout: 5 * time.Second}, Tenant: Tenant{devAK, devSK, devProject}}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	path := "/v1/" + devProject + "/cloudservers/detail?limit=1"
	var took time.Duration
	for {
		st, _, err := cl.Do(ctx, http.MethodGet, path, nil)
		if err == nil && st == http.StatusOK {
			took = time.Since(t0)
			break
		}
		if time.Since(t0) > 30*time.Second || ctx.Err() != nil {
			return 0, 0, 0, fmt.Errorf("ecsd did not answer within 30 s: %v %s", err, stderr.String())
		}
		time.Sleep(500 * time.Microsecond)
	}
	idle := time.Second
	if b.Config.Smoke {
		idle = 200 * time.Millisecond
	}
	time.Sleep(idle)
	pid := fmt.Sprint(cmd.Process.Pid)
	return took, procStatusMB(pid, "VmRSS"), procStatusMB(pid, "VmHWM"), nil
}

// --- output -------------------------------------------------------------------

// Machine describes this machine in one line.
func (b *Bench) Machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := procMeminfoGB()
	store := "temp-dir SQLite"
	switch {
	case b.pg != nil:
		store = b.pg.Describe()
	case b.Config.Database != "":
		store = "PostgreSQL"
	case b.Config.URL != "" && b.Config.PID != 0:
		store = fmt.Sprintf("ecsd at %s (CPU/RSS are those of its process %d)", b.Config.URL, b.Config.PID)
	case b.Config.URL != "":
		store = "ecsd at " + b.Config.URL + " (CPU/RSS are this client process only: --pid meters the ecsd)"
	case b.Config.Ephemeral:
		store = "in-memory SQLite"
	}
	return fmt.Sprintf("%d CPUs (%s), %.1f GB RAM, %s, %s; %d clients, %s per scenario; in-process node: CPU/RSS include the clients",
		runtime.NumCPU(), model, mem, runtime.Version(), store, b.Config.Clients, b.Config.Duration)
}

func procMeminfoGB() float64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb float64
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
		}
	}
	return kb / 1024 / 1024
}

// Print writes the results as a table or as JSON.
func Print(w io.Writer, format, machine string, res []Result) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Machine string   `json:"machine"`
			Results []Result `json:"results"`
		}{machine, res})
	}
	fmt.Fprintln(w, machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\treq/s\tp50 ms\tp99 ms\tp99.9 ms\terrors\tCPU s\tpeak RSS MB\tvs baseline\t")
	for _, r := range res {
		ratio := ""
		if r.Baseline != "" {
			ratio = fmt.Sprintf("%.0f%% of %s", 100*r.Ratio, strings.TrimPrefix(r.Baseline, "baseline/"))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.1f\t%s\t\n", r.Scenario, r.RPS, r.P50ms, r.P99ms, r.P999ms, r.Errors, r.CPUsec, r.PeakRSSMB, ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range res {
		if r.Note != "" || r.FirstErr != "" {
			fmt.Fprintf(w, "  %s: %s", r.Scenario, r.Note)
			if r.FirstErr != "" {
				fmt.Fprintf(w, " (first error: %s)", r.FirstErr)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}
