package control_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/control"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

const (
	seededProject = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	seededKey     = "TEAMAACCESSKEY000001"
)

// baseSeed is the start-up seed of the state tests: the development
// tenant, one more tenant and two servers of it.
const baseSeed = `
tenants:
  - access_key: TEAMAACCESSKEY000001
    secret_key: teamASecretKey0000000000000000000000000
    project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
servers:
  - project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    name: base
    count: 2
    flavor: s6.small.1
    image: Ubuntu 22.04 server 64bit(40GB)
    status: SHUTOFF
`

// recordingQueue is a compute.Queue that remembers what it enqueued.
type recordingQueue struct {
	mu   sync.Mutex
	jobs []string
}

func (q *recordingQueue) Enqueue(_ context.Context, _ *sql.Tx, jobs ...*ecs.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		q.jobs = append(q.jobs, j.ID)
	}
	return nil
}

type stateBundle struct {
	db      *store.DB
	svc     *compute.Service
	queue   *recordingQueue
	drv     *sim.Driver
	clock   *clock.Virtual
	state   *control.State
	h       http.Handler
	reloads int
}

// newState serves a State on a fresh store seeded like a node: the
// development tenant and baseSeed.
func newState(t *testing.T) *stateBundle {
	t.Helper()
	ctx := t.Context()
	db := storetest.NewDB(t)
	cat := catalog.Default()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := &stateBundle{db: db, queue: &recordingQueue{}, drv: sim.New(sim.Options{}), clock: clock.New(nil)}
	b.svc = &compute.Service{Store: db, Queue: b.queue, Catalog: cat, Clock: b.clock, Logger: logger}
	var hosts []ecs.Host
	for _, h := range cat.Hosts() {
		hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	if err := b.svc.SetHosts(ctx, hosts); err != nil {
		t.Fatal(err)
	}
	doc, err := seed.Parse([]byte(baseSeed), "")
	if err != nil {
		t.Fatal(err)
	}
	base := seed.Merge(&seed.Document{Tenants: []seed.Tenant{seed.TenantOf(ecs.DevTenant, ecs.DefaultQuota)}}, doc)
	b.state = &control.State{
		Admin: &compute.Admin{Service: b.svc, Store: db, Driver: b.drv, Region: "cn-north-4"},
		Store: db, Base: base, Seed: seed.Options{Region: "cn-north-4"}, Clock: b.clock, Logger: logger,
		Reload: func(context.Context) error { b.reloads++; return nil },
	}
	if _, err := seed.Load(ctx, b.state.Admin, base, b.state.Seed); err != nil {
		t.Fatal(err)
	}
	srv := &control.Server{Logger: logger, Clock: b.clock}
	b.state.Register(srv)
	b.h = srv.Handler()
	return b
}

// call sends a control request from loopback and decodes a JSON answer.
func (b *stateBundle) call(t *testing.T, method, path, contentType, body string) (int, map[string]any, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, "http://ecsd.test"+path, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:1234"
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	var v map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &v)
	return w.Code, v, w.Body.Bytes()
}

func (b *stateBundle) serverNames(t *testing.T, projectID string) []string {
	t.Helper()
	servers, _, err := b.svc.FindServers(t.Context(), ecs.ServerFilter{ProjectID: projectID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range servers {
		out = append(out, s.Name)
	}
	return out
}

func errorCode(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestTenantRoutes(t *testing.T) {
	t.Parallel()
	b := newState(t)

	code, v, body := b.call(t, "GET", "/_ecsd/tenants", "", "")
	if code != 200 || strings.Contains(string(body), "secret") {
		t.Fatalf("GET tenants: %d %s (must not show secrets)", code, body)
	}
	list, _ := v["tenants"].([]any)
	if len(list) != 2 {
		t.Fatalf("tenants %s, want the development tenant and the seeded one", body)
	}
	if second := list[1].(map[string]any); second["project_id"] != seededProject || second["servers"] != 2.0 {
		t.Errorf("seeded tenant %v", second)
	}

	code, v, body = b.call(t, "POST", "/_ecsd/tenants", "application/json", `{"quota": {"instances": 3}}`)
	if code != 201 {
		t.Fatalf("POST tenants: %d %s", code, body)
	}
	ak, _ := v["access_key"].(string)
	sk, _ := v["secret_key"].(string)
	pid, _ := v["project_id"].(string)
	q, _ := v["quota"].(map[string]any)
	if !strings.HasPrefix(ak, "ECSDTEST") || len(sk) != 40 || len(pid) != 32 || v["project_name"] != "cn-north-4" ||
		q["instances"] != 3.0 || q["cores"] != float64(ecs.DefaultQuota.Cores) {
		t.Errorf("created tenant %s", body)
	}
	if tn, err := b.svc.FindTenantByAccessKey(t.Context(), ak); err != nil || tn.SecretKey != sk {
		t.Errorf("the new key does not work: %v", err)
	}

	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"access key in use", `{"access_key": "` + seededKey + `"}`, 409, "Ecsd.Conflict"},
		{"project in use", `{"project_id": "` + pid + `"}`, 409, "Ecsd.Conflict"},
		{"bad project", `{"project_id": "nope"}`, 400, "Ecsd.BadRequest"},
		{"unknown field", `{"projectid": "x"}`, 400, "Ecsd.BadRequest"},
	} {
		code, v, body := b.call(t, "POST", "/_ecsd/tenants", "application/json", tt.body)
		if code != tt.status || errorCode(v) != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, code, body, tt.status, tt.code)
		}
	}

	if code, _, body := b.call(t, "DELETE", "/_ecsd/tenants/"+pid, "", ""); code != 204 {
		t.Fatalf("DELETE tenant: %d %s", code, body)
	}
	if _, err := b.svc.FindTenantByAccessKey(t.Context(), ak); ecs.ErrorCode(err) != ecs.CodeForbidden {
		t.Errorf("the deleted key still works: %v", err)
	}
	if code, v, _ := b.call(t, "DELETE", "/_ecsd/tenants/"+pid, "", ""); code != 404 || errorCode(v) != "Ecsd.NotFound" {
		t.Errorf("DELETE again: %d %v", code, v)
	}
}

func TestSeedRoute(t *testing.T) {
	t.Parallel()
	b := newState(t)
	yamlDoc := "servers:\n  - {project_id: " + seededProject + ", name: extra, flavor: s6.small.1, image: " +
		"abe65701-8a26-40ec-b381-c10498ca3745, status: ERROR}\n"
	code, v, body := b.call(t, "POST", "/_ecsd/seed", "application/yaml", yamlDoc)
	if code != 200 {
		t.Fatalf("POST seed (YAML): %d %s", code, body)
	}
	servers, _ := v["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["status"] != "ERROR" || servers[0].(map[string]any)["id"] == "" {
		t.Errorf("seeded %s", body)
	}
	jsonDoc := `{"servers": [{"project_id": "` + seededProject + `", "name": "json", "flavor": "s6.small.1", "image": "Ubuntu 22.04 server 64bit(40GB)"}]}`
	if code, _, body := b.call(t, "POST", "/_ecsd/seed", "text/plain", jsonDoc); code != 200 {
		t.Fatalf("POST seed (JSON, sniffed): %d %s", code, body)
	}
	if got := b.serverNames(t, seededProject); len(got) != 4 {
		t.Errorf("servers %v", got)
	}
	for _, tt := range []struct{ name, ct, body, want string }{
		{"unknown flavor", "application/json", `{"servers": [{"project_id": "` + seededProject + `", "name": "x", "flavor": "x", "image": "Ubuntu 22.04 server 64bit(40GB)"}]}`,
			`servers[0].flavor: unknown flavor \"x\"`},
		{"unknown key", "application/yaml", "servers:\n  - flavour: x\n", `unknown key \"flavour\"`},
		{"JSON announced, YAML sent", "application/json", "servers: []\n", "invalid JSON"},
		{"unknown project", "", "servers:\n  - {project_id: " + strings.Repeat("1", 32) + ", name: x, flavor: s6.small.1, image: " + ubuntu + "}\n",
			"servers[0].project_id: unknown project"},
	} {
		code, v, body := b.call(t, "POST", "/_ecsd/seed", tt.ct, tt.body)
		if code != 400 || errorCode(v) != compute.CodeInvalidSeed || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s, want 400 %s with %s", tt.name, code, body, compute.CodeInvalidSeed, tt.want)
		}
	}
}

const ubuntu = "abe65701-8a26-40ec-b381-c10498ca3745"

func TestResetRoute(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := newState(t)
	// Work of a run-time tenant and in the seeded project.
	_, v, _ := b.call(t, "POST", "/_ecsd/tenants", "", "")
	runtimePID := v["project_id"].(string)
	extra := func(pid, name string) {
		t.Helper()
		doc := "servers:\n  - {project_id: " + pid + ", name: " + name + ", flavor: s6.small.1, image: " + ubuntu + "}\n"
		if code, _, body := b.call(t, "POST", "/_ecsd/seed", "", doc); code != 200 {
			t.Fatalf("seed: %d %s", code, body)
		}
	}
	extra(seededProject, "extra")
	extra(runtimePID, "rt")
	if _, err := b.svc.CreateServers(ctx, &ecs.CreateServersRequest{ProjectID: ecs.DevTenant.ProjectID, Name: "dev",
		ImageID: ubuntu, FlavorID: "s6.small.1", VPCID: compute.DerivedUUID(ecs.DevTenant.ProjectID + "/vpc"),
		SubnetIDs: []string{compute.DerivedUUID(ecs.DevTenant.ProjectID + "/subnet")}, Count: 1}); err != nil {
		t.Fatal(err)
	}

	// One project: back to its seed; the others keep their servers.
	code, v, body := b.call(t, "POST", "/_ecsd/reset", "application/json", `{"project_id": "`+seededProject+`"}`)
	if code != 200 || v["servers_removed"] != 3.0 || v["project_id"] != seededProject {
		t.Fatalf("reset project: %d %s", code, body)
	}
	if got := b.serverNames(t, seededProject); !cmp.Equal(got, []string{"base-0002", "base-0001"}) {
		t.Errorf("seeded project after reset: %v, want the seed's servers", got)
	}
	if got := b.serverNames(t, runtimePID); len(got) != 1 {
		t.Errorf("run-time project after another project's reset: %v", got)
	}
	if got := b.serverNames(t, ecs.DevTenant.ProjectID); len(got) != 1 {
		t.Errorf("development project after another project's reset: %v", got)
	}

	// A run-time tenant's project reset keeps the tenant.
	if code, _, body := b.call(t, "POST", "/_ecsd/reset", "", `{"project_id": "`+runtimePID+`"}`); code != 200 {
		t.Fatalf("reset run-time project: %d %s", code, body)
	}
	if got := b.serverNames(t, runtimePID); len(got) != 0 {
		t.Errorf("run-time project after its reset: %v", got)
	}
	if ok, err := b.state.Admin.TenantExists(ctx, runtimePID); err != nil || !ok {
		t.Errorf("the run-time tenant went with its project reset: %v", err)
	}
	if code, v, _ := b.call(t, "POST", "/_ecsd/reset", "", `{"project_id": "`+strings.Repeat("7", 32)+`"}`); code != 404 || errorCode(v) != "Ecsd.NotFound" {
		t.Errorf("reset of an unknown project: %d %v", code, v)
	}

	// Everything: run-time tenants go, the seed comes back.
	reloads := b.reloads
	code, v, body = b.call(t, "POST", "/_ecsd/reset", "", "")
	if code != 200 || v["project_id"] != nil {
		t.Fatalf("full reset: %d %s", code, body)
	}
	if ok, _ := b.state.Admin.TenantExists(ctx, runtimePID); ok {
		t.Error("the run-time tenant survived a full reset")
	}
	if got := b.serverNames(t, ecs.DevTenant.ProjectID); len(got) != 0 {
		t.Errorf("development project after a full reset: %v", got)
	}
	if got := b.serverNames(t, seededProject); len(got) != 2 {
		t.Errorf("seeded project after a full reset: %v", got)
	}
	if _, err := b.svc.FindTenantByAccessKey(ctx, ecs.DevTenant.AccessKey); err != nil {
		t.Errorf("the development tenant is not back: %v", err)
	}
	if b.reloads != reloads+1 {
		t.Errorf("caches reloaded %d times by a full reset, want once", b.reloads-reloads)
	}
	if ms, _ := v["milliseconds"].(float64); ms <= 0 {
		t.Errorf("milliseconds %v", v["milliseconds"])
	}
}

func TestSnapshotRoutes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	src := newState(t)
	// An unfinished job, to be resumed by the importer.
	res, err := src.svc.CreateServers(ctx, &ecs.CreateServersRequest{ProjectID: seededProject, Name: "pending",
		ImageID: ubuntu, FlavorID: "s6.small.1", VPCID: compute.DerivedUUID(seededProject + "/vpc"),
		SubnetIDs: []string{compute.DerivedUUID(seededProject + "/subnet")}, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.clock.SetSpeed(60); err != nil {
		t.Fatal(err)
	}
	code, _, exported := src.call(t, "GET", "/_ecsd/snapshot", "", "")
	if code != 200 {
		t.Fatalf("GET snapshot: %d %s", code, exported)
	}

	dst := newState(t)
	before := len(dst.queue.jobs)
	code, v, body := dst.call(t, "POST", "/_ecsd/snapshot", "application/json", string(exported))
	if code != 200 || v["resumed_jobs"] != 1.0 || v["servers"] != 3.0 {
		t.Fatalf("POST snapshot: %d %s", code, body)
	}
	if q := dst.queue.jobs[before:]; len(q) != 1 {
		t.Errorf("enqueued %v after the import, want the pending create's sub-job", q)
	}
	if dst.clock.State().Speed != 60 {
		t.Errorf("clock speed %v after the import, want 60", dst.clock.State().Speed)
	}
	if dst.reloads != 1 {
		t.Errorf("caches reloaded %d times, want once", dst.reloads)
	}
	for _, s := range []string{"base-0001", "base-0002"} {
		if !containsName(dst.serverNames(t, seededProject), s) {
			t.Errorf("imported servers lack %s", s)
		}
	}
	// Its seeded servers have driver instances in the importer.
	servers, _, _ := dst.svc.FindServers(ctx, ecs.ServerFilter{ProjectID: seededProject})
	for _, s := range servers {
		_, err := dst.drv.Inspect(ctx, s.ID)
		if s.ID == res.ServerIDs[0] {
			if err == nil {
				t.Errorf("the unspawned server %s has a driver instance", s.ID)
			}
		} else if err != nil {
			t.Errorf("no driver instance for imported server %s: %v", s.Name, err)
		}
	}

	// The same document comes back out, but for its time stamp and clock.
	_, _, again := dst.call(t, "GET", "/_ecsd/snapshot", "", "")
	var a, c map[string]any
	if err := json.Unmarshal(exported, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again, &c); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{a, c} {
		delete(m, "exported_at")
		delete(m, "clock")
	}
	if diff := cmp.Diff(a, c); diff != "" {
		t.Errorf("export → import → export differs:\n%s", diff)
	}

	for _, tt := range []struct{ name, body, code string }{
		{"future version", strings.Replace(string(exported), `"version": 1`, `"version": 2`, 1), "Ecsd.UnsupportedSnapshot"},
		{"not a snapshot", `{"servers": []}`, "Ecsd.UnsupportedSnapshot"},
		{"not JSON", `servers: []`, "Ecsd.BadRequest"},
		{"unknown field", strings.Replace(string(exported), `"format"`, `"bogus": 1, "format"`, 1), "Ecsd.BadRequest"},
	} {
		code, v, body := dst.call(t, "POST", "/_ecsd/snapshot", "application/json", tt.body)
		if code != 400 || errorCode(v) != tt.code {
			t.Errorf("%s: %d %s, want 400 %s", tt.name, code, body, tt.code)
		}
	}
	// A snapshot the store refuses (two servers with one ID): the state
	// stays, and its unfinished jobs are enqueued again.
	var broken store.Snapshot
	if err := json.Unmarshal(exported, &broken); err != nil {
		t.Fatal(err)
	}
	broken.Servers = append(broken.Servers, broken.Servers[0])
	brokenJSON, _ := json.Marshal(broken)
	queued := len(dst.queue.jobs)
	if code, v, body := dst.call(t, "POST", "/_ecsd/snapshot", "", string(brokenJSON)); code != 400 ||
		errorCode(v) != "Ecsd.BadRequest" || !strings.Contains(string(body), "servers[3]") {
		t.Errorf("broken snapshot: %d %s", code, body)
	}
	if n := len(dst.queue.jobs) - queued; n != 1 {
		t.Errorf("%d jobs enqueued again after a failed import, want 1", n)
	}
	// The refused imports changed nothing.
	_, _, still := dst.call(t, "GET", "/_ecsd/snapshot", "", "")
	var s map[string]any
	if err := json.Unmarshal(still, &s); err != nil {
		t.Fatal(err)
	}
	delete(s, "exported_at")
	delete(s, "clock")
	if diff := cmp.Diff(c, s); diff != "" {
		t.Errorf("a refused import changed the state:\n%s", diff)
	}
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}
