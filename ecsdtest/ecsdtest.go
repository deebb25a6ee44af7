// Package ecsdtest runs ecsd inside a Go test: New starts an ecsd node in
// the test process (in-memory store, or PostgreSQL with
// ECSD_TEST_ENGINE=postgres; a free loopback port), creates a fresh
// tenant for the test, and returns an official-SDK client for it and a
// client of the control API (clock, faults, reset, tenants, history,
// snapshots). Everything is stopped and removed with t.Cleanup.
//
// The examples of this package are its documentation.
package ecsdtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/node"
)

// Env is a running ecsd with a tenant of the test's own.
type Env struct {
	// URL is the endpoint of every API, e.g. http://127.0.0.1:41237.
	URL string
	// Tenant is a fresh tenant, created for this Env.
	Tenant ecs.Tenant
	// ECS is an official-SDK client of Tenant.
	ECS *ecssdk.EcsClient
	// Control is a client of the control API.
	Control *Control
	// Node is the running node, for tests that need to look inside.
	Node *node.Node
}

type options struct {
	cfg node.Config
}

// Option changes how New starts ecsd.
type Option func(*options)

// WithTiming selects the timing profile: "instant" (the default here),
// "fast" or "realistic" (combine it with Control.SetSpeed).
func WithTiming(profile string) Option { return func(o *options) { o.cfg.Timing = profile } }

// WithNodeConfig lets fn change the node's configuration (flavors, hosts,
// quota of extra tenants, ...).
func WithNodeConfig(fn func(*node.Config)) Option { return func(o *options) { fn(&o.cfg) } }

// New starts ecsd for tb and creates a tenant for it. Set ECSD_TEST_LOG=1 to
// see ecsd's log. The node's store is in memory, or a fresh PostgreSQL
// database with ECSD_TEST_ENGINE=postgres (see UseDatabase).
func New(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	o := options{cfg: node.Config{Listen: "127.0.0.1:0", Region: "cn-north-4", Timing: "instant", Driver: "sim", Version: "ecsdtest"}}
	for _, opt := range opts {
		opt(&o)
	}
	UseDatabase(tb, &o.cfg)
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("ECSD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n := node.New(o.cfg, logger, io.Discard)
	if err := n.Run(context.Background()); err != nil {
		tb.Fatalf("ecsdtest: start ecsd: %v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("ecsdtest: stop ecsd: %v", err)
		}
	})
	e := &Env{URL: n.HTTP.URL(), Node: n, Control: NewControl(n.HTTP.URL(), "")}
	t, err := e.Control.CreateTenant()
	if err != nil {
		tb.Fatalf("ecsdtest: create tenant: %v", err)
	}
	e.Tenant, e.ECS = t, Client(e.URL, t)
	return e
}

// NewTenant creates another tenant, isolated from the others, and returns
// it with an SDK client.
func (e *Env) NewTenant(tb testing.TB) (ecs.Tenant, *ecssdk.EcsClient) {
	tb.Helper()
	t, err := e.Control.CreateTenant()
	if err != nil {
		tb.Fatalf("ecsdtest: create tenant: %v", err)
	}
	return t, Client(e.URL, t)
}

// Client returns an official-SDK ECS client of tenant t at endpoint url.
func Client(url string, t ecs.Tenant) *ecssdk.EcsClient {
	auth := basic.NewCredentialsBuilder().WithAk(t.AccessKey).WithSk(t.SecretKey).WithProjectId(t.ProjectID).Build()
	return ecssdk.NewEcsClient(ecssdk.EcsClientBuilder().WithEndpoint(url).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(30 * time.Second)).Build())
}

// VPCID returns the ID of the tenant's default VPC.
func (e *Env) VPCID() string { return compute.DerivedUUID(e.Tenant.ProjectID + "/vpc") }

// SubnetID returns the ID of the tenant's default subnet.
func (e *Env) SubnetID() string { return compute.DerivedUUID(e.Tenant.ProjectID + "/subnet") }

// ImageUbuntu is the ID of the Ubuntu 22.04 public image.
const ImageUbuntu = "abe65701-8a26-40ec-b381-c10498ca3745"

// CreateServer creates one pay-per-use server of flavor in the tenant's
// default network, waits for it to be ACTIVE and returns its ID.
func (e *Env) CreateServer(tb testing.TB, name, flavor string) string {
	tb.Helper()
	subnet := e.SubnetID()
	resp, err := e.ECS.CreatePostPaidServers(&model.CreatePostPaidServersRequest{Body: &model.CreatePostPaidServersRequestBody{
		Server: &model.PostPaidServer{
			Name: name, ImageRef: ImageUbuntu, FlavorRef: flavor, Vpcid: e.VPCID(),
			Nics:       []model.PostPaidServerNic{{SubnetId: &subnet}},
			RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
		},
	}})
	if err != nil {
		tb.Fatalf("ecsdtest: create server: %v", err)
	}
	e.MustSucceed(tb, *resp.JobId)
	return (*resp.ServerIds)[0]
}

// StopServer stops a server and waits for it to be SHUTOFF.
func (e *Env) StopServer(tb testing.TB, id string) {
	tb.Helper()
	resp, err := e.ECS.BatchStopServers(&model.BatchStopServersRequest{Body: &model.BatchStopServersRequestBody{
		OsStop: &model.BatchStopServersOption{Servers: []model.ServerId{{Id: id}}},
	}})
	if err != nil {
		tb.Fatalf("ecsdtest: stop server: %v", err)
	}
	e.MustSucceed(tb, *resp.JobId)
}

// WaitJob polls a job until it ends (or a minute passes) and returns it.
func (e *Env) WaitJob(tb testing.TB, jobID string) *model.ShowJobResponse {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		job, err := e.ECS.ShowJob(&model.ShowJobRequest{JobId: jobID})
		if err != nil {
			tb.Fatalf("ecsdtest: show job %s: %v", jobID, err)
		}
		if s := job.Status.Value(); s == "SUCCESS" || s == "FAIL" {
			return job
		}
		if time.Now().After(deadline) {
			tb.Fatalf("ecsdtest: job %s still %s after a minute", jobID, job.Status.Value())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// MustSucceed waits for a job and fails the test unless it succeeded.
func (e *Env) MustSucceed(tb testing.TB, jobID string) *model.ShowJobResponse {
	tb.Helper()
	job := e.WaitJob(tb, jobID)
	if job.Status.Value() != "SUCCESS" {
		tb.Fatalf("ecsdtest: job %s ended %s: %s %s", jobID, job.Status.Value(), deref(job.ErrorCode), deref(job.FailReason))
	}
	return job
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Control is a client of ecsd's control API (/_ecsd/, docs/testing.md).
type Control struct {
	base  string
	token string
	http  *http.Client
}

// NewControl returns a client of the control API of the ecsd at base, with
// the admin token if the ecsd requires one ("" otherwise).
func NewControl(base, token string) *Control {
	return &Control{base: base, token: token, http: &http.Client{Timeout: time.Minute}}
}

// Error is an error answered by the control API.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("control API: %d %s: %s", e.Status, e.Code, e.Message)
}
