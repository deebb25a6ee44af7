// Package e2e_test drives an in-process ecsd through the official Huawei
// Cloud Go SDK (services/ecs/v2, services/vpc/v2, services/ims/v2), with real
// request signing and real response decoding. Where the SDK cannot express a
// bad request, the tests send raw HTTP requests signed the way the SDK signs
// them (signature.Sign).
//
// Every test function starts its own ephemeral node and runs in parallel
// with the others; its subtests share the node and run in order. (Parallel
// subtests wait for a free slot while their parent's node stays up, and an
// idle node polls its job queue every 20 ms, which under -race costs almost
// half a CPU: sequential subtests make the package run more than twice as
// fast.) Waits poll a condition with a deadline; nothing sleeps for a fixed
// time except the short poll interval inside the wait helpers. To look at
// the intermediate states of a job, a test holds the node's clock (gate) and
// steps the job from phase to phase, so the checks do not depend on the
// machine's speed.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/utils"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	imssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	vpcsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/internal/poll"
	"github.com/ecsd-dev/ecsd/node"
	"github.com/ecsd-dev/ecsd/signature"
	"github.com/ecsd-dev/ecsd/worker"
)

// Fixtures of the default catalogue (docs/compatibility.md, "Catalogue").
const (
	region = "cn-north-4"
	azA    = "cn-north-4a"
	azB    = "cn-north-4b"
	azC    = "cn-north-4c"

	imageUbuntu22  = "abe65701-8a26-40ec-b381-c10498ca3745" // x86, KVM only
	imageUbuntu20  = "abc18505-fd91-4a98-9950-6114f4c4006a" // x86, Xen and KVM
	imageUbuntuArm = "764cb9f7-bcfd-460e-951c-077b29c321ed" // aarch64
	imageCentOS6   = "5b3f2e0c-6a1d-4c8e-9f27-3d0b1a6c8e45" // x86, Xen only (no KVM drivers)
	imageWindows   = "65029537-55c8-422e-b822-1cf110213b16" // x86, needs 2048 MB

	// unknownID is a well-formed UUID that names nothing.
	unknownID = "00000000-0000-4000-8000-000000000000"
)

// Time formats of the wire (reference §0.9).
const (
	layoutServer = "2006-01-02T15:04:05Z"
	layoutJob    = "2006-01-02T15:04:05.000Z"
)

// waitTimeout bounds every wait; a job of the "fast" profile takes well under
// a second, so this only matters when something is broken.
const waitTimeout = 30 * time.Second

// options configures a node.
type options struct {
	// timing is the timing profile: "instant" (default) or "fast".
	timing string
	// stepped makes every phase last a microsecond, so that a held gate
	// stops each one: a phase that takes no time does not wait, and the
	// gate cannot hold it.
	stepped bool
	// tenants are started besides the development tenant.
	tenants []node.TenantQuota
}

// bundle is a running in-process ecsd and an account of its development
// tenant.
type bundle struct {
	*account
	node *node.Node
	url  string
	// gate is the node's clock; Hold makes every job phase wait for Step.
	gate      *gate
	transport *http.Transport
}

// account is one tenant's view of a node: its SDK clients and its default
// network.
type account struct {
	tenant ecs.Tenant
	url    string
	http   *http.Client // for raw requests
	client *ecssdk.EcsClient
	vpc    *vpcsdk.VpcClient
	ims    *imssdk.ImsClient

	vpcID, subnetID, sgID string
}

// setup starts an ephemeral ecsd with the given timing profile.
func setup(t *testing.T, timing string) *bundle {
	t.Helper()
	return setupWith(t, options{timing: timing})
}

// setupWith starts an ephemeral ecsd configured by opts; it stops when the
// test ends.
func setupWith(t *testing.T, opts options) *bundle {
	t.Helper()
	if opts.timing == "" {
		opts.timing = "instant"
	}
	cfg := node.Config{
		Listen: "127.0.0.1:0", DataDir: "", Region: region, Driver: "sim",
		Timing:    opts.timing,
		Tenants:   append([]node.TenantQuota{{Tenant: ecs.DevTenant, Quota: ecs.DefaultQuota}}, opts.tenants...),
		DevTenant: true, Version: "e2e",
	}
	if opts.stepped {
		cfg.PhaseOverrides = worker.EveryPhase(time.Microsecond)
	}
	ecsdtest.UseDatabase(t, &cfg)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("ECSD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n := node.New(cfg, logger, io.Discard)
	g := newGate()
	n.Clock = g
	if err := n.Run(context.Background()); err != nil {
		n.Close()
		t.Fatalf("start ecsd: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("stop ecsd: %v", err)
		}
	})
	// One transport for every client of the node, so that its idle
	// connections can be closed before the node stops: http.Server.Shutdown
	// waits up to 5 s for a connection that was dialed but never used.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	t.Cleanup(g.Open) // runs first: release held jobs before the node stops
	b := &bundle{node: n, url: n.HTTP.URL(), gate: g, transport: tr}
	b.account = b.login(t, ecs.DevTenant)
	return b
}

// login returns the account of tenant t on the node, with its default VPC,
// subnet and security group looked up through the VPC SDK.
func (b *bundle) login(t *testing.T, tn ecs.Tenant) *account {
	t.Helper()
	a := &account{tenant: tn, url: b.url, http: &http.Client{Transport: b.transport, Timeout: 30 * time.Second}}
	auth := basic.NewCredentialsBuilder().WithAk(tn.AccessKey).WithSk(tn.SecretKey).WithProjectId(tn.ProjectID).Build()
	httpCfg := config.DefaultHttpConfig().WithTimeout(30 * time.Second).WithHttpTransport(b.transport)
	a.client = ecssdk.NewEcsClient(ecssdk.EcsClientBuilder().WithEndpoint(b.url).WithCredential(auth).WithHttpConfig(httpCfg).Build())
	a.vpc = vpcsdk.NewVpcClient(vpcsdk.VpcClientBuilder().WithEndpoint(b.url).WithCredential(auth).WithHttpConfig(httpCfg).Build())
	a.ims = imssdk.NewImsClient(imssdk.ImsClientBuilder().WithEndpoint(b.url).WithCredential(auth).WithHttpConfig(httpCfg).Build())

	vpcs, err := a.vpc.ListVpcs(&vpcmodel.ListVpcsRequest{})
	if err != nil || vpcs.Vpcs == nil || len(*vpcs.Vpcs) == 0 {
		t.Fatalf("ListVpcs as %s: %v (%v)", tn.ProjectID, err, vpcs)
	}
	a.vpcID = (*vpcs.Vpcs)[0].Id
	subnets, err := a.vpc.ListSubnets(&vpcmodel.ListSubnetsRequest{VpcId: &a.vpcID})
	if err != nil || subnets.Subnets == nil || len(*subnets.Subnets) == 0 {
		t.Fatalf("ListSubnets as %s: %v (%v)", tn.ProjectID, err, subnets)
	}
	a.subnetID = (*subnets.Subnets)[0].Id
	sgs, err := a.vpc.ListSecurityGroups(&vpcmodel.ListSecurityGroupsRequest{})
	if err != nil || sgs.SecurityGroups == nil || len(*sgs.SecurityGroups) == 0 {
		t.Fatalf("ListSecurityGroups as %s: %v (%v)", tn.ProjectID, err, sgs)
	}
	a.sgID = (*sgs.SecurityGroups)[0].Id
	return a
}

// ecsClient returns an ECS SDK client of the node with arbitrary
// credentials (for tests of wrong keys and foreign projects).
func (b *bundle) ecsClient(ak, sk, projectID string) *ecssdk.EcsClient {
	auth := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).Build()
	return ecssdk.NewEcsClient(ecssdk.EcsClientBuilder().WithEndpoint(b.url).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpTransport(b.transport)).Build())
}

// testTenant returns a tenant distinct from the development tenant, numbered
// n, with quota q.
func testTenant(n int, q ecs.Quota) node.TenantQuota {
	return node.TenantQuota{
		Tenant: ecs.Tenant{
			ProjectID:   fmt.Sprintf("%030d%02d", 0, n), // 32 digits
			ProjectName: region,
			DomainID:    fmt.Sprintf("%029d%03d", 0, n),
			AccessKey:   fmt.Sprintf("E2ETENANTACCESSKEY%02d", n),
			SecretKey:   fmt.Sprintf("e2eTenantSecretKey%02d00000000000000000000", n),
		},
		Quota: q,
	}
}

// --- servers ------------------------------------------------------------------

// server returns a minimal valid v1 create body for one server of flavor in
// the account's default network; tests change fields as they need.
func (a *account) server(name, flavor string) *model.PostPaidServer {
	subnet := a.subnetID
	return &model.PostPaidServer{
		Name:       name,
		ImageRef:   imageUbuntu22,
		FlavorRef:  flavor,
		Vpcid:      a.vpcID,
		Nics:       []model.PostPaidServerNic{{SubnetId: &subnet}},
		RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
	}
}

// create sends CreatePostPaidServers for srv and returns the response.
func (a *account) create(srv *model.PostPaidServer) (*model.CreatePostPaidServersResponse, error) {
	return a.client.CreatePostPaidServers(&model.CreatePostPaidServersRequest{
		Body: &model.CreatePostPaidServersRequestBody{Server: srv},
	})
}

// mustCreate creates the servers of srv, waits for the create job to succeed
// and returns their IDs.
func (a *account) mustCreate(t *testing.T, srv *model.PostPaidServer) []string {
	t.Helper()
	resp, err := a.create(srv)
	if err != nil {
		t.Fatalf("CreatePostPaidServers %s (%s): %v", srv.Name, srv.FlavorRef, err)
	}
	if resp.JobId == nil || resp.ServerIds == nil {
		t.Fatalf("CreatePostPaidServers %s: job_id %v serverIds %v", srv.Name, resp.JobId, resp.ServerIds)
	}
	a.wantJob(t, *resp.JobId, "SUCCESS")
	return *resp.ServerIds
}

// mustCreateOne creates one server of flavor (in az if not empty), waits for
// it and returns its ID.
func (a *account) mustCreateOne(t *testing.T, name, flavor, az string) string {
	t.Helper()
	srv := a.server(name, flavor)
	if az != "" {
		srv.AvailabilityZone = &az
	}
	return a.mustCreate(t, srv)[0]
}

// mustCreateStopped creates one server and stops it.
func (a *account) mustCreateStopped(t *testing.T, name, flavor, az string) string {
	t.Helper()
	id := a.mustCreateOne(t, name, flavor, az)
	a.mustStop(t, id)
	return id
}

// show returns ShowServer's server, failing the test on error.
func (a *account) show(t *testing.T, id string) *model.ServerDetail {
	t.Helper()
	resp, err := a.client.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil {
		t.Fatalf("ShowServer %s: %v", id, err)
	}
	if resp.Server == nil {
		t.Fatalf("ShowServer %s: no server in the response", id)
	}
	return resp.Server
}

// wantServer checks a server's status, power state and flavor.
func (a *account) wantServer(t *testing.T, id, status string, power int32, flavor string) *model.ServerDetail {
	t.Helper()
	s := a.show(t, id)
	if s.Status != status || s.OSEXTSTSpowerState != power || s.Flavor.Id != flavor || s.OSEXTSTStaskState != "" {
		t.Fatalf("server %s: status %s power %d flavor %s task %q; want %s, %d, %s, no task",
			id, s.Status, s.OSEXTSTSpowerState, s.Flavor.Id, s.OSEXTSTStaskState, status, power, flavor)
	}
	if got := s.Metadata["metering.resourcespeccode"]; got != flavor {
		t.Fatalf("server %s: metadata metering.resourcespeccode %q, want %q", id, got, flavor)
	}
	return s
}

func serverIDs(ids ...string) []model.ServerId {
	out := make([]model.ServerId, len(ids))
	for i, id := range ids {
		out[i] = model.ServerId{Id: id}
	}
	return out
}

// stop sends BatchStopServers (SOFT unless hard).
func (a *account) stop(hard bool, ids ...string) (*model.BatchStopServersResponse, error) {
	typ := model.GetBatchStopServersOptionTypeEnum().SOFT
	if hard {
		typ = model.GetBatchStopServersOptionTypeEnum().HARD
	}
	return a.client.BatchStopServers(&model.BatchStopServersRequest{Body: &model.BatchStopServersRequestBody{
		OsStop: &model.BatchStopServersOption{Servers: serverIDs(ids...), Type: &typ},
	}})
}

// mustStop stops servers and waits for the job to succeed.
func (a *account) mustStop(t *testing.T, ids ...string) {
	t.Helper()
	resp, err := a.stop(false, ids...)
	if err != nil {
		t.Fatalf("BatchStopServers %v: %v", ids, err)
	}
	a.wantJob(t, *resp.JobId, "SUCCESS")
}

func (a *account) start(ids ...string) (*model.BatchStartServersResponse, error) {
	return a.client.BatchStartServers(&model.BatchStartServersRequest{Body: &model.BatchStartServersRequestBody{
		OsStart: &model.BatchStartServersOption{Servers: serverIDs(ids...)},
	}})
}

func (a *account) reboot(hard bool, ids ...string) (*model.BatchRebootServersResponse, error) {
	typ := model.GetBatchRebootSeversOptionTypeEnum().SOFT
	if hard {
		typ = model.GetBatchRebootSeversOptionTypeEnum().HARD
	}
	return a.client.BatchRebootServers(&model.BatchRebootServersRequest{Body: &model.BatchRebootServersRequestBody{
		Reboot: &model.BatchRebootSeversOption{Servers: serverIDs(ids...), Type: typ},
	}})
}

// resize sends ResizePostPaidServer.
func (a *account) resize(id string, opt model.ResizePostPaidServerOption, dryRun bool) (*model.ResizePostPaidServerResponse, error) {
	body := &model.ResizePostPaidServerRequestBody{Resize: &opt}
	if dryRun {
		body.DryRun = &dryRun
	}
	return a.client.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id, Body: body})
}

// resizeTo resizes a server to flavor (no mode, no dry run).
func (a *account) resizeTo(id, flavor string) (*model.ResizePostPaidServerResponse, error) {
	return a.resize(id, model.ResizePostPaidServerOption{FlavorRef: flavor}, false)
}

// mustResize resizes a server to flavor and waits for the job to succeed.
func (a *account) mustResize(t *testing.T, id, flavor string) *model.ShowJobResponse {
	t.Helper()
	resp, err := a.resizeTo(id, flavor)
	if err != nil {
		t.Fatalf("ResizePostPaidServer %s → %s: %v", id, flavor, err)
	}
	return a.wantJob(t, *resp.JobId, "SUCCESS")
}

// --- jobs and waits -------------------------------------------------------------

// waitFor polls cond until it returns true, failing the test after
// waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.For(t, waitTimeout, what, cond)
}

// waitJob polls a job until it ends and returns it.
func (a *account) waitJob(t *testing.T, jobID string) *model.ShowJobResponse {
	t.Helper()
	var job *model.ShowJobResponse
	waitFor(t, "job "+jobID, func() bool {
		resp, err := a.client.ShowJob(&model.ShowJobRequest{JobId: jobID})
		if err != nil {
			t.Fatalf("ShowJob %s: %v", jobID, err)
		}
		job = resp
		s := resp.Status.Value()
		return s == "SUCCESS" || s == "FAIL"
	})
	return job
}

// wantJob waits for a job and checks its final status.
func (a *account) wantJob(t *testing.T, jobID, status string) *model.ShowJobResponse {
	t.Helper()
	job := a.waitJob(t, jobID)
	if got := job.Status.Value(); got != status {
		t.Fatalf("job %s (%s) ended %s (error_code %s, fail_reason %s), want %s",
			jobID, str(job.JobType), got, str(job.ErrorCode), str(job.FailReason), status)
	}
	return job
}

// gate is the node's ecs.Clock. While open it is the real clock. While
// held, every Sleep (the wait of each job phase that lasts, entered right
// after the phase has been committed) blocks until Step lets one sleeper
// go, so a test can look at each intermediate state for as long as it
// needs, however slow the machine, and then move the job on. Phases that
// take no time are not waited for: a test that steps through them runs
// with options.stepped or the fast profile.
type gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open
	step chan struct{}
}

func newGate() *gate {
	g := &gate{open: make(chan struct{}), step: make(chan struct{})}
	close(g.open)
	return g
}

// Now implements ecs.Clock.
func (g *gate) Now() time.Time { return time.Now().UTC() }

// Sleep implements ecs.Clock.
func (g *gate) Sleep(ctx context.Context, d time.Duration) error {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
		return ecs.RealClock{}.Sleep(ctx, d)
	default:
	}
	select {
	case <-g.step:
		return nil
	case <-open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hold makes the next phases wait for Step. Call it while no job runs.
func (g *gate) Hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

// Open lets every phase run on the real clock again.
func (g *gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// Step ends the wait of one held phase, waiting for a job to reach one.
func (g *gate) Step(t *testing.T) {
	t.Helper()
	select {
	case g.step <- struct{}{}:
	case <-time.After(waitTimeout):
		t.Fatalf("no job phase waited at the gate for %s", waitTimeout)
	}
}

// waitState polls a server until it shows status and task state (empty for
// none) and returns it.
func (a *account) waitState(t *testing.T, id, status, task string) *model.ServerDetail {
	t.Helper()
	var s *model.ServerDetail
	waitFor(t, fmt.Sprintf("server %s to be %s/%s", id, status, task), func() bool {
		s = a.show(t, id)
		return s.Status == status && s.OSEXTSTStaskState == task
	})
	return s
}

// phase is a state a job holds a server in: its status and task state.
type phase struct{ status, task string }

// stepThrough walks a held job through phases: for each, it waits until
// the server shows it, checks that the job is RUNNING (or still INIT in the
// first phase), calls check (if not nil) and lets the job go on. It returns
// the job once it has ended.
func (a *account) stepThrough(t *testing.T, g *gate, id, jobID string, phases []phase, check func(p phase, s *model.ServerDetail)) *model.ShowJobResponse {
	t.Helper()
	first, err := a.client.ShowJob(&model.ShowJobRequest{JobId: jobID})
	if err != nil {
		t.Fatalf("ShowJob %s: %v", jobID, err)
	}
	if st := first.Status.Value(); st != "INIT" && st != "RUNNING" {
		t.Fatalf("job %s is %s right after it was accepted, want INIT or RUNNING", jobID, st)
	}
	if first.EndTime != nil && *first.EndTime != "" {
		t.Errorf("job %s has end_time %s while it runs", jobID, *first.EndTime)
	}
	for i, p := range phases {
		s := a.waitState(t, id, p.status, p.task)
		job, err := a.client.ShowJob(&model.ShowJobRequest{JobId: jobID})
		if err != nil {
			t.Fatalf("ShowJob %s: %v", jobID, err)
		}
		// The first task state is set when the request is accepted, so the
		// job may still be INIT then; from the second phase on it runs.
		if st := job.Status.Value(); st != "RUNNING" && (i > 0 || st != "INIT") {
			t.Fatalf("job %s is %s while the server is %s/%s, want RUNNING", jobID, st, p.status, p.task)
		}
		if check != nil {
			check(p, s)
		}
		g.Step(t)
	}
	return a.waitJob(t, jobID)
}

// --- errors -------------------------------------------------------------------

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// wantSDKError checks that err is the SDK's ServiceResponseError with the
// given HTTP status and Huawei code, a message and a request ID.
func wantSDKError(t *testing.T, err error, status int, code string) *sdkerr.ServiceResponseError {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want HTTP %d %s", status, code)
	}
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v, want *sdkerr.ServiceResponseError (HTTP %d %s)", err, err, status, code)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("got HTTP %d %s (%s), want HTTP %d %s", se.StatusCode, se.ErrorCode, se.ErrorMessage, status, code)
	}
	if se.ErrorMessage == "" {
		t.Errorf("error %s has an empty message", code)
	}
	if !requestIDPattern.MatchString(se.RequestId) {
		t.Errorf("error %s: X-Request-Id %q, want 32 hex digits", code, se.RequestId)
	}
	return se
}

// asSDKError returns err as the SDK's ServiceResponseError.
func asSDKError(err error) (*sdkerr.ServiceResponseError, bool) {
	var se *sdkerr.ServiceResponseError
	ok := errors.As(err, &se)
	return se, ok
}

// wantCode is wantSDKError for the usual HTTP 400.
func wantCode(t *testing.T, err error, code string) *sdkerr.ServiceResponseError {
	t.Helper()
	return wantSDKError(t, err, http.StatusBadRequest, code)
}

// --- raw requests -------------------------------------------------------------

// rawResponse is the outcome of a raw HTTP request.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// newRaw builds a request to the node with the headers the Go SDK sends
// (User-Agent, X-Project-Id, Content-Type), unsigned.
func (a *account) newRaw(t *testing.T, method, path string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	r.Header.Set("X-Project-Id", a.tenant.ProjectID)
	if method == http.MethodPost || method == http.MethodPut {
		r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	} else {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// sign signs r with the account's keys at now.
func (a *account) sign(r *http.Request, body []byte, now time.Time) {
	signature.Sign(r, body, a.tenant.AccessKey, a.tenant.SecretKey, now)
}

// do sends r and reads the whole response.
func (a *account) do(t *testing.T, r *http.Request) rawResponse {
	t.Helper()
	resp, err := a.http.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.Method, r.URL.Path, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// raw sends a request signed as the SDK signs it. A non-nil body is sent
// as given (callers add the SDK's trailing newline with sdkJSON).
func (a *account) raw(t *testing.T, method, path string, body []byte) rawResponse {
	t.Helper()
	r := a.newRaw(t, method, path, body)
	a.sign(r, body, time.Now())
	return a.do(t, r)
}

// sdkJSON encodes v as the SDK does: compact JSON, HTML escaping off, and a
// trailing newline.
func sdkJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := utils.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return b
}

// decodeSDK decodes a raw success body into an SDK model with the SDK's own
// decoder.
func decodeSDK(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := utils.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %T with the SDK's decoder: %v\n%s", v, err, body)
	}
}

// wantRequestID checks the X-Request-Id header.
func (r rawResponse) wantRequestID(t *testing.T) string {
	t.Helper()
	id := r.header.Get("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		t.Fatalf("X-Request-Id %q, want 32 hex digits", id)
	}
	return id
}

// wantECSError checks the ECS envelope {"error":{"code","message"}}, the
// status and the X-Request-Id header, and returns the message.
func (r rawResponse) wantECSError(t *testing.T, status int, code string) string {
	t.Helper()
	r.wantRequestID(t)
	if r.status != status {
		t.Fatalf("HTTP %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %s", err, r.body)
	}
	if len(env) != 1 || env["error"] == nil {
		t.Fatalf("error body %s, want exactly {\"error\":{...}}", r.body)
	}
	var e struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(env["error"], &e); err != nil || e.Code == nil || e.Message == nil {
		t.Fatalf("error object %s, want string code and message (%v)", env["error"], err)
	}
	if *e.Code != code {
		t.Fatalf("error code %s (%s), want %s", *e.Code, *e.Message, code)
	}
	if *e.Message == "" {
		t.Errorf("error %s has an empty message", code)
	}
	return *e.Message
}

// wantGatewayError checks the API-gateway envelope
// {"error_code","error_msg","request_id"}, with request_id equal to the
// X-Request-Id header, and returns the message.
func (r rawResponse) wantGatewayError(t *testing.T, status int, code string) string {
	t.Helper()
	id := r.wantRequestID(t)
	if r.status != status {
		t.Fatalf("HTTP %d, want %d; body %s", r.status, status, r.body)
	}
	var e struct {
		Code      *string `json:"error_code"`
		Message   *string `json:"error_msg"`
		RequestID *string `json:"request_id"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == nil || e.Message == nil || e.RequestID == nil {
		t.Fatalf("gateway error body %s, want error_code, error_msg and request_id (%v)", r.body, err)
	}
	if *e.Code != code || *e.Message == "" {
		t.Fatalf("gateway error %s %q, want %s with a message", *e.Code, *e.Message, code)
	}
	if *e.RequestID != id {
		t.Errorf("request_id %s differs from X-Request-Id %s", *e.RequestID, id)
	}
	return *e.Message
}

// --- small helpers -----------------------------------------------------------------

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// readCloser returns s as a request body.
func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
