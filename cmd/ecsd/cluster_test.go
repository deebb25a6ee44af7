package main

import (
	"database/sql"
	"encoding/json"

	"errors"
	"fmt"
	_ "github.com/jackc/pgx/v5/stdlib"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/internal/poll"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// The cluster tests run several ecsd processes on one PostgreSQL database
// (TEST_DATABASE_URL; .ci/postgres starts one) and break them: kill -9 of a
// node, a race of resizes across nodes. Each gets a fresh database.

// clusterConfig writes the configuration every node of a cluster test
// shares: short phases (so that jobs are in flight when a node dies), a
// short node timeout, no quota and large hosts.
func clusterConfig(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("node_timeout: 2s\nquota:\n  instances: -1\n  cores: -1\n  ram: -1\n")
	b.WriteString("timing:\n  profile: fast\n  phases:\n")
	for _, p := range []string{"scheduling", "spawning", "powering-off", "powering-on", "resize_prep", "resize_migrating", "resize_migrated", "resize_finish"} {
		fmt.Fprintf(&b, "    %s: 20ms\n", p)
	}
	b.WriteString("hosts:\n")
	for _, az := range []string{"a", "b", "c"} {
		fmt.Fprintf(&b, "  - {id: host-%s, az: cn-north-4%s, vcpus: 4096, ram: 16777216, arch: x86_64}\n", az, az)
	}
	path := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCluster starts n nodes on the database url.
func startCluster(t *testing.T, n int, url string) []*process {
	t.Helper()
	root := t.TempDir()
	cfg := clusterConfig(t, root)
	nodes := make([]*process, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range nodes {
		// At once: their migrations must wait for each other.
		wg.Go(func() {
			nodes[i], errs[i] = launch(t, filepath.Join(root, fmt.Sprintf("node%d", i)),
				"--config", cfg, "--database", url, "--node-id", fmt.Sprintf("node-%d", i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, p := range nodes {
			b, _ := os.ReadFile(p.Log.Name())
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("node-%d's log, last lines:\n%s", i, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return nodes
}

// createStopped creates n stopped s6.small.1 servers through c.
func createStopped(t *testing.T, c *ecssdk.EcsClient, n int) []string {
	t.Helper()
	create := createServers(t, c, "cluster", "s6.small.1", n)
	if job := pollJob(t, c, *create.JobId, ended); job.Status.Value() != "SUCCESS" {
		t.Fatalf("create job: %v", job.Status.Value())
	}
	ids := *create.ServerIds
	var servers []model.ServerId
	for _, id := range ids {
		servers = append(servers, model.ServerId{Id: id})
	}
	stop, err := c.BatchStopServers(&model.BatchStopServersRequest{Body: &model.BatchStopServersRequestBody{
		OsStop: &model.BatchStopServersOption{Servers: servers}}})
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	if job := pollJob(t, c, *stop.JobId, ended); job.Status.Value() != "SUCCESS" {
		t.Fatalf("stop job: %v", job.Status.Value())
	}
	return ids
}

// resizeRecord is one resize that a node accepted.
type resizeRecord struct {
	job, target, status string
}

// TestClusterSurvivesNodeKill runs three nodes on one database, spreads 500
// resizes (five rounds over 100 servers) across them and kills one node
// with SIGKILL while it works jobs. Every accepted job must end, its
// server's flavor must agree with its last job, no server may stay in a
// transitional state, and the dead node's jobs must have been taken over.
func TestClusterSurvivesNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	url := storetest.PostgresURL(t)
	t.Parallel()
	nodes := startCluster(t, 3, url)
	clients := make([]*ecssdk.EcsClient, len(nodes))
	for i, p := range nodes {
		clients[i] = sdkClient(p.URL)
	}
	const servers, rounds, victim = 100, 5, 2
	ids := createStopped(t, clients[0], servers)
	seq := []string{"s6.medium.2", "s6.large.2", "s6.xlarge.2", "s6.small.1"}

	var dead atomic.Bool // the victim was killed
	var next atomic.Int64
	pick := func() int {
		for {
			i := int(next.Add(1)) % len(nodes)
			if i != victim || !dead.Load() {
				return i
			}
		}
	}
	live := func() *ecssdk.EcsClient { return clients[pick()] }

	records := make([][]resizeRecord, servers)
	var accepted atomic.Int64
	work := make(chan int)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for s := range work {
				for round := range rounds {
					rec, ok := resizeOnce(t, nodes, live, pick, ids[s], seq[round%len(seq)], records[s])
					if !ok {
						return
					}
					records[s] = append(records[s], rec)
					accepted.Add(1)
				}
			}
		})
	}
	go func() {
		defer close(work)
		for s := range servers {
			work <- s
		}
	}()

	// Kill the victim once it is working jobs, about a third of the way in.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, "the victim to work a job a third of the way in", func() bool {
		return accepted.Load() >= servers*rounds/3 && runningOn(t, db, fmt.Sprintf("node-%d", victim)) > 0
	})
	dead.Store(true)
	nodes[victim].kill(t)
	wg.Wait()
	if t.Failed() {
		return
	}

	checkServers(t, nodes, live, ids, records)
	if got := accepted.Load(); got != servers*rounds {
		t.Errorf("%d resizes accepted, want %d", got, servers*rounds)
	}
	took := 0
	for i, p := range nodes {
		if i == victim {
			continue
		}
		b, err := os.ReadFile(p.Log.Name())
		if err != nil {
			t.Fatal(err)
		}
		took += strings.Count(string(b), "took over the jobs of nodes that stopped")
	}
	if took == 0 {
		t.Error("no node took over the killed node's jobs")
	}
}

// resizeOnce resizes server id to target through some live node and waits
// for the job to end. A request whose node died before answering may or
// may not have been accepted: the server's history tells, and an accepted
// job is followed like the others. It reports false after a fatal error.
func resizeOnce(t *testing.T, nodes []*process, live func() *ecssdk.EcsClient, pick func() int, id, target string, seen []resizeRecord) (resizeRecord, bool) {
	for attempt := 0; attempt < 10; attempt++ {
		i := pick()
		resp, err := sdkClient(nodes[i].URL).ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id,
			Body: &model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{FlavorRef: target}}})
		var job string
		var apiErr *sdkerr.ServiceResponseError
		switch {
		case err == nil:
			job = *resp.JobId
		case errors.As(err, &apiErr):
			t.Errorf("resize %s to %s through node %d: %v", id, target, i, err)
			return resizeRecord{}, false
		default:
			// The node died: did it accept the request first?
			if job = unknownResize(nodes, id, seen); job == "" {
				continue
			}
		}
		return resizeRecord{job: job, target: target, status: waitJob(t, live, job, nil)}, true
	}
	t.Errorf("resize %s: no node answered", id)
	return resizeRecord{}, false
}

// waitJob waits until job has ended, asking a live node each time, and
// returns its status. Errors go to onErr, if set.
func waitJob(t *testing.T, live func() *ecssdk.EcsClient, job string, onErr func(error)) string {
	resp, err := jobWhen(live, job, ended, onErr)
	if err != nil {
		t.Error(err)
		return ""
	}
	return resp.Status.Value()
}

// runningOn counts the River jobs that node is working.
func runningOn(t *testing.T, db *sql.DB, node string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE state = 'running'
		AND attempted_by[array_length(attempted_by, 1)] = $1`, node).Scan(&n); err != nil {
		t.Fatalf("count running jobs: %v", err)
	}
	return n
}

// TestClusterOneResizeWins sends fifty resizes of one server at once,
// spread across three nodes: exactly one is accepted and the others are
// told that the server is busy.
func TestClusterOneResizeWins(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	url := storetest.PostgresURL(t)
	t.Parallel()
	nodes := startCluster(t, 3, url)
	id := createStopped(t, sdkClient(nodes[0].URL), 1)[0]
	// The accepted job must still be running when the last request
	// arrives: hold the clock, on every node.
	nodes[0].control(t, http.MethodPost, "/_ecsd/clock", `{"paused": true}`, nil)
	for _, p := range nodes {
		waitPaused(t, p)
	}

	const n = 50
	var wg sync.WaitGroup
	var accepted atomic.Int64
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		c := sdkClient(nodes[i%len(nodes)].URL)
		wg.Go(func() {
			<-start
			_, err := c.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id,
				Body: &model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{FlavorRef: "s6.large.2"}}})
			if err == nil {
				accepted.Add(1)
				return
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	if got := accepted.Load(); got != 1 {
		t.Errorf("%d resizes accepted, want exactly 1", got)
	}
	for err := range errs {
		var apiErr *sdkerr.ServiceResponseError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != ecs.CodeBusy {
			t.Errorf("refused resize: %v, want %s", err, ecs.CodeBusy)
		}
	}
	nodes[0].control(t, http.MethodPost, "/_ecsd/clock", `{"paused": false}`, nil)
}

// waitPaused waits until node p's clock reports paused.
func waitPaused(t *testing.T, p *process) {
	t.Helper()
	waitFor(t, "node "+p.URL+"'s clock to pause", func() bool {
		var st struct {
			Paused bool `json:"paused"`
		}
		p.control(t, http.MethodGet, "/_ecsd/clock", "", &st)
		return st.Paused
	})
}

// privatePostgres starts a PostgreSQL server of the test's own (the
// shared test server must not be stopped under other tests) and returns
// its URL and functions that stop and start it again.
func privatePostgres(t *testing.T) (url string, stop, start func()) {
	t.Helper()
	storetest.PostgresURL(t) // skips without a PostgreSQL set-up
	dir, err := os.MkdirTemp("", "ecsd-pg-outage-")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	script, err := filepath.Abs("../../.ci/postgres")
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(script, append(args, dir)...)
		cmd.Env = append(os.Environ(), "PGPORT="+port)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf(".ci/postgres %v: %v\n%s", args, err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	admin := run("start")
	t.Cleanup(func() {
		run("stop")
		os.RemoveAll(dir)
	})
	// A database of ecsd's role's own (on PostgreSQL 15 only its owner may
	// create tables in its public schema).
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE DATABASE outage`); err != nil {
		t.Fatal(err)
	}
	url = strings.Replace(admin, "/postgres?", "/outage?", 1)
	return url, func() { run("stop") }, func() { run("start") }
}

// TestClusterSurvivesDatabaseOutage stops PostgreSQL for a few seconds
// under load and starts it again. Requests during the outage get a 503 in
// Huawei's format (never a 500, never a dropped connection); no accepted
// job is lost; the nodes recover by themselves, without a restart.
func TestClusterSurvivesDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	url, stopDB, startDB := privatePostgres(t)
	nodes := startCluster(t, 2, url)
	clients := []*ecssdk.EcsClient{sdkClient(nodes[0].URL), sdkClient(nodes[1].URL)}
	var next atomic.Int64
	live := func() *ecssdk.EcsClient { return clients[next.Add(1)%2] }
	const servers = 10
	ids := createStopped(t, clients[0], servers)
	seq := []string{"s6.medium.2", "s6.large.2", "s6.xlarge.2", "s6.small.1"}

	// Each worker resizes its server again and again; a request refused
	// with a 503 (the outage) is tried again on the other node. A 503 does
	// not say that nothing happened: when the outage cut a commit off from
	// its answer, the resize was accepted. The retry then meets a busy
	// server or the flavor already in place, and the server's history
	// tells the job.
	var outage, unavailable, served atomic.Int64
	var quit atomic.Bool
	records := make([][]resizeRecord, servers)
	// A request refused during the outage must be refused with a 503.
	refused := func(err error) bool {
		var apiErr *sdkerr.ServiceResponseError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.ErrorCode != ecs.CodeInternal {
			return false
		}
		unavailable.Add(1)
		if outage.Load() == 0 {
			t.Errorf("503 before the outage: %v", err)
		}
		return true
	}
	onErr := func(err error) {
		if !refused(err) {
			t.Errorf("show job: %v; want success or a 503 during the outage", err)
		}
	}
	var wg sync.WaitGroup
	for s := range servers {
		wg.Go(func() {
			maybe := false // an earlier request for this round answered 503
			for round := 0; !quit.Load(); round++ {
				target := seq[round%len(seq)]
				job, failed := "", false
				poll.Until(time.Minute, func() bool {
					resp, err := live().ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: ids[s],
						Body: &model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{FlavorRef: target}}})
					var apiErr *sdkerr.ServiceResponseError
					switch {
					case err == nil:
						job = *resp.JobId
					case refused(err):
						maybe = true
					case maybe && errors.As(err, &apiErr):
						job = unknownResize(nodes, ids[s], records[s])
					default:
						t.Errorf("resize %s through a node: %v; want success or a 503 during the outage", ids[s], err)
						failed = true
					}
					return job != "" || failed || quit.Load()
				})
				if job == "" {
					if !failed && !quit.Load() {
						t.Errorf("resize %s: not accepted within a minute", ids[s])
					}
					return
				}
				served.Add(1)
				records[s] = append(records[s], resizeRecord{job: job, target: target, status: waitJob(t, live, job, onErr)})
				maybe = false
			}
		})
	}
	waitFor(t, "resizes before the outage", func() bool { return served.Load() >= 20 })
	outage.Store(1)
	stopDB()
	waitFor(t, "503s during the outage", func() bool { return unavailable.Load() >= 10 })
	startDB()
	before := served.Load()
	t.Cleanup(func() {
		if t.Failed() {
			logQueue(t, url)
		}
	})
	waitFor(t, "resizes after the outage", func() bool { return served.Load() >= before+20 })
	quit.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	checkServers(t, nodes, live, ids, records)
}

// checkServers checks that every server's flavor agrees with its last job
// (records, by server), that it is stopped with no task, and that its
// history shows no resize the test does not know of.
func checkServers(t *testing.T, nodes []*process, live func() *ecssdk.EcsClient, ids []string, records [][]resizeRecord) {
	t.Helper()
	for s, id := range ids {
		want := "s6.small.1"
		for _, r := range records[s] {
			if r.status == "SUCCESS" {
				want = r.target
			}
		}
		srv, err := live().ShowServer(&model.ShowServerRequest{ServerId: id})
		if err != nil {
			t.Fatalf("show %s: %v", id, err)
		}
		if srv.Server.Flavor.Id != want || srv.Server.Status != "SHUTOFF" || srv.Server.OSEXTSTStaskState != "" {
			t.Errorf("server %d: flavor %s, status %s, task %q; want %s, SHUTOFF, no task (jobs %+v)",
				s, srv.Server.Flavor.Id, srv.Server.Status, srv.Server.OSEXTSTStaskState, want, records[s])
		}
		if job := unknownResize(nodes, id, records[s]); job != "" {
			t.Errorf("server %d: resize job %s accepted but never seen by its client", s, job)
		}
	}
}

// waitFor waits up to a minute for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll.Until(time.Minute, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// logQueue logs what River's job table holds, to explain a failure.
func logQueue(t *testing.T, url string) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Log(err)
		return
	}
	defer db.Close()
	rows, err := db.Query(`SELECT state, kind, attempt, coalesce(array_to_string(attempted_by, ','), ''), count(*)
		FROM river_job GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`)
	if err != nil {
		t.Log(err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var state, kind, by string
		var attempt, n int
		if err := rows.Scan(&state, &kind, &attempt, &by, &n); err != nil {
			t.Log(err)
			return
		}
		t.Logf("river_job: %d %s %s, attempt %d, attempted by %s", n, state, kind, attempt, by)
	}
	jobs, err := db.Query(`SELECT j.id, j.status, j.phase, coalesce(r.state::text, 'no River row')
		FROM jobs j LEFT JOIN river_job r ON r.args->>'job_id' = j.id
		WHERE j.status NOT IN ('SUCCESS', 'FAIL') ORDER BY j.seq`)
	if err != nil {
		t.Log(err)
		return
	}
	defer jobs.Close()
	for jobs.Next() {
		var id, status, phase, river string
		if err := jobs.Scan(&id, &status, &phase, &river); err != nil {
			t.Log(err)
			return
		}
		t.Logf("unfinished job %s: %s in phase %q, River: %s", id, status, phase, river)
	}
	busy, err := db.Query(`SELECT s.id, s.task_state, coalesce((SELECT j.id || ' ' || j.status || ' ' || j.phase FROM jobs j
		WHERE j.server_id = s.id ORDER BY j.seq DESC LIMIT 1), '')
		FROM servers s WHERE s.task_state <> ''`)
	if err != nil {
		t.Log(err)
		return
	}
	defer busy.Close()
	for busy.Next() {
		var id, task, last string
		if err := busy.Scan(&id, &task, &last); err != nil {
			t.Log(err)
			return
		}
		t.Logf("busy server %s: task %q, last job %s", id, task, last)
	}
}

// unknownResize returns the resize job of server id that its history shows
// and seen does not, or "" (also when no node answers).
func unknownResize(nodes []*process, id string, seen []resizeRecord) string {
	known := map[string]bool{}
	for _, r := range seen {
		known[r.job] = true
	}
	for _, p := range nodes {
		resp, err := http.Get(p.URL + "/_ecsd/servers/" + id + "/history?project_id=" + ecs.DevTenant.ProjectID)
		if err != nil {
			continue
		}
		var out struct {
			Actions []struct {
				Action string `json:"action"`
				JobID  string `json:"job_id"`
			} `json:"actions"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		for _, a := range out.Actions {
			if a.Action == "resize" && !known[a.JobID] {
				return a.JobID
			}
		}
		return ""
	}
	return ""
}
