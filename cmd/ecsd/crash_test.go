package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/internal/ecsdproc"
	"github.com/ecsd-dev/ecsd/internal/poll"
)

func TestMain(m *testing.M) {
	code := m.Run()
	ecsdproc.Remove()
	os.Exit(code)
}

// process is an ecsd running as a child process.
type process struct{ *ecsdproc.Process }

// startProcess runs ecsd on dataDir with the given extra flags and waits
// for its banner.
func startProcess(t *testing.T, dataDir string, args ...string) *process {
	t.Helper()
	p, err := launch(t, dataDir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launch is startProcess for any goroutine: it returns its error. The log
// is beside dataDir.
func launch(t *testing.T, dataDir string, args ...string) (*process, error) {
	p, err := ecsdproc.Start(t, dataDir, filepath.Join(dataDir, "..", filepath.Base(dataDir)+".log"), 30*time.Second, args...)
	if err != nil {
		return nil, err
	}
	return &process{p}, nil
}

// control sends a control-API request with a JSON body and decodes the
// answer into out (nil to ignore it).
func (p *process) control(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// pauseInPhase pauses ecsd's clock and waits until a job sleeps in a
// phase, so that a kill interrupts it. It reports false (and lets the clock
// run again) when no job comes to wait within two seconds: they had all
// ended.
func (p *process) pauseInPhase(t *testing.T) bool {
	t.Helper()
	p.control(t, "POST", "/_ecsd/clock", `{"paused": true}`, nil)
	sleeping := poll.Until(2*time.Second, func() bool {
		var st struct {
			Sleepers int `json:"sleepers"`
		}
		p.control(t, "GET", "/_ecsd/clock", "", &st)
		return st.Sleepers > 0
	})
	if !sleeping {
		p.resume(t)
	}
	return sleeping
}

// resume lets the (restarted) ecsd's clock run again.
func (p *process) resume(t *testing.T) {
	t.Helper()
	p.control(t, "POST", "/_ecsd/clock", `{"paused": false}`, nil)
}

func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()
}

func (p *process) terminate(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ecsd exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ecsd did not stop within 20s of SIGTERM")
	}
}

// createServers has n pay-per-use servers of flavor created in the
// development tenant's default network and returns the answer (the job
// runs on).
func createServers(t *testing.T, c *ecssdk.EcsClient, name, flavor string, n int) *model.CreatePostPaidServersResponse {
	t.Helper()
	create, err := c.CreatePostPaidServers(&model.CreatePostPaidServersRequest{Body: &model.CreatePostPaidServersRequestBody{
		Server: &model.PostPaidServer{
			Name: name, ImageRef: "abe65701-8a26-40ec-b381-c10498ca3745", FlavorRef: flavor,
			Vpcid:      compute.DerivedUUID(ecs.DevTenant.ProjectID + "/vpc"),
			Nics:       []model.PostPaidServerNic{{SubnetId: ptr(compute.DerivedUUID(ecs.DevTenant.ProjectID + "/subnet"))}},
			RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
			Count:      ptr(int32(n)),
		},
	}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return create
}

func sdkClient(url string) *ecssdk.EcsClient {
	t := ecs.DevTenant
	auth := basic.NewCredentialsBuilder().WithAk(t.AccessKey).WithSk(t.SecretKey).WithProjectId(t.ProjectID).Build()
	return ecssdk.NewEcsClient(ecssdk.EcsClientBuilder().WithEndpoint(url).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(20 * time.Second)).Build())
}

// slowConfig writes a configuration whose phases last long enough for a
// kill to land inside a job.
func slowConfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ecsd.yaml")
	var b strings.Builder
	b.WriteString("timing:\n  profile: fast\n  phases:\n")
	for _, p := range []string{"scheduling", "spawning", "powering-off", "powering-on", "resize_prep", "resize_migrating", "resize_migrated", "resize_finish"} {
		fmt.Fprintf(&b, "    %s: 150ms\n", p)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pollJob waits up to a minute until job id's status satisfies done and
// returns the job.
func pollJob(t *testing.T, c *ecssdk.EcsClient, id string, done func(status string) bool) *model.ShowJobResponse {
	t.Helper()
	resp, err := jobWhen(func() *ecssdk.EcsClient { return c }, id, done, nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// jobWhen waits up to a minute until job id's status satisfies done,
// asking the client next returns each time, and returns the job. Errors of
// the requests go to onErr, if set.
func jobWhen(next func() *ecssdk.EcsClient, id string, done func(status string) bool, onErr func(error)) (*model.ShowJobResponse, error) {
	var resp *model.ShowJobResponse
	var err error
	ok := poll.Until(time.Minute, func() bool {
		resp, err = next().ShowJob(&model.ShowJobRequest{JobId: id})
		if err != nil && onErr != nil {
			onErr(err)
		}
		return err == nil && done(resp.Status.Value())
	})
	if !ok {
		return nil, fmt.Errorf("job %s: not done within a minute (last error %v)", id, err)
	}
	return resp, nil
}

func ended(s string) bool { return s == "SUCCESS" || s == "FAIL" }

// anyRunning waits until one of jobs is RUNNING and reports true, or
// reports false once they have all ended.
func anyRunning(t *testing.T, c *ecssdk.EcsClient, jobs []string) bool {
	t.Helper()
	running, allEnded := false, false
	if !poll.Until(time.Minute, func() bool {
		done := 0
		for _, id := range jobs {
			resp, err := c.ShowJob(&model.ShowJobRequest{JobId: id})
			if err != nil {
				continue
			}
			switch s := resp.Status.Value(); {
			case s == "RUNNING":
				running = true
				return true
			case ended(s):
				done++
			}
		}
		allEnded = done == len(jobs)
		return allEnded
	}) {
		t.Fatal("no job running or ended within 60 s")
	}
	return running
}

// TestKillDuringJobs kills ecsd with SIGKILL while creates and resizes are
// in flight, restarts it on the same data directory, and checks that every
// accepted job ends, that each server's flavor agrees with its resize job,
// and that no server is left in a transitional state.
func TestKillDuringJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	t.Parallel()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	cfg := slowConfig(t, root)
	p := startProcess(t, data, "--config", cfg)
	c := sdkClient(p.URL)

	const n = 6
	create := createServers(t, c, "crash", "s6.large.2", n)
	ids := *create.ServerIds
	// Kill in the middle of the create job. The clock is paused first, so
	// that the kill surely lands while jobs wait inside a phase; the
	// restarted ecsd gets its clock back running.
	pollJob(t, c, *create.JobId, func(s string) bool { return s == "RUNNING" })
	if !p.pauseInPhase(t) {
		t.Fatal("the create job ended before the kill")
	}
	p.kill(t)
	p = startProcess(t, data, "--config", cfg)
	p.resume(t)
	c = sdkClient(p.URL)
	if job := pollJob(t, c, *create.JobId, ended); job.Status.Value() != "SUCCESS" {
		t.Fatalf("create job after restart: %v", job)
	}

	// Half are stopped first and resized plainly; the others are resized
	// while running with mode withStopServer.
	stop, err := c.BatchStopServers(&model.BatchStopServersRequest{Body: &model.BatchStopServersRequestBody{
		OsStop: &model.BatchStopServersOption{Servers: []model.ServerId{{Id: ids[0]}, {Id: ids[1]}, {Id: ids[2]}}},
	}})
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	pollJob(t, c, *stop.JobId, ended)
	targets := []string{"c7.xlarge.2", "m7.large.8", "s6.xlarge.2", "c6.large.2", "s7.xlarge.2", "c7.2xlarge.2"}
	jobs := make([]string, n)
	for i, id := range ids {
		opt := &model.ResizePostPaidServerOption{FlavorRef: targets[i]}
		if i >= 3 {
			opt.Mode = ptr("withStopServer")
		}
		resp, err := c.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id,
			Body: &model.ResizePostPaidServerRequestBody{Resize: opt}})
		if err != nil {
			t.Fatalf("resize %s: %v", id, err)
		}
		jobs[i] = *resp.JobId
	}
	// Kill while resizes are in their phases, twice (as long as one runs).
	kills := 1
	for range 2 {
		if !anyRunning(t, c, jobs) || !p.pauseInPhase(t) {
			break
		}
		p.kill(t)
		kills++
		p = startProcess(t, data, "--config", cfg)
		p.resume(t)
		c = sdkClient(p.URL)
	}
	for i, id := range ids {
		job := pollJob(t, c, jobs[i], ended)
		srv, err := c.ShowServer(&model.ShowServerRequest{ServerId: id})
		if err != nil {
			t.Fatalf("show %s: %v", id, err)
		}
		s := srv.Server
		want := targets[i]
		if job.Status.Value() == "FAIL" {
			want = "s6.large.2"
		}
		if s.Flavor.Id != want {
			t.Errorf("server %d: flavor %s, want %s (job %s)", i, s.Flavor.Id, want, job.Status.Value())
		}
		if s.OSEXTSTStaskState != "" {
			t.Errorf("server %d: left in task state %s", i, s.OSEXTSTStaskState)
		}
		wantStatus := "SHUTOFF"
		if i >= 3 {
			wantStatus = "ACTIVE"
		}
		if s.Status != wantStatus {
			t.Errorf("server %d: status %s, want %s", i, s.Status, wantStatus)
		}
		if s.Metadata["metering.resourcespeccode"] != s.Flavor.Id {
			t.Errorf("server %d: metering.resourcespeccode %s, flavor %s", i, s.Metadata["metering.resourcespeccode"], s.Flavor.Id)
		}
	}
	// The kills must really have interrupted jobs, or this test proves
	// nothing.
	logText, err := os.ReadFile(p.Log.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(logText), "resuming jobs interrupted"); got != kills || kills < 2 {
		t.Errorf("%d restarts resumed interrupted jobs after %d kills, want every kill (at least 2)", got, kills)
	}
}

// TestGracefulShutdownKeepsJobs stops ecsd with SIGTERM in the middle of a
// resize; the restarted ecsd finishes the job.
func TestGracefulShutdownKeepsJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	t.Parallel()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	cfg := slowConfig(t, root)
	p := startProcess(t, data, "--config", cfg)
	c := sdkClient(p.URL)
	create := createServers(t, c, "term", "s6.large.2", 1)
	pollJob(t, c, *create.JobId, ended)
	id := (*create.ServerIds)[0]
	resp, err := c.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id,
		Body: &model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{
			FlavorRef: "c7.xlarge.2", Mode: ptr("withStopServer")}}})
	if err != nil {
		t.Fatalf("resize: %v", err)
	}
	pollJob(t, c, *resp.JobId, func(s string) bool { return s == "RUNNING" })
	p.terminate(t)
	p = startProcess(t, data, "--config", cfg)
	c = sdkClient(p.URL)
	job := pollJob(t, c, *resp.JobId, ended)
	if job.Status.Value() != "SUCCESS" {
		t.Fatalf("resize after restart: %v", job)
	}
	srv, err := c.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Server.Flavor.Id != "c7.xlarge.2" || srv.Server.Status != "ACTIVE" {
		t.Fatalf("after restart: flavor %s status %s", srv.Server.Flavor.Id, srv.Server.Status)
	}
}
