package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
)

// bundle is a running in-process ecsd with an SDK client for the
// development tenant.
type bundle struct {
	node   *node.Node
	url    string
	client *ecssdk.EcsClient
}

// setup starts an ephemeral ecsd with the given timing profile.
func setup(t *testing.T, timing string) *bundle {
	t.Helper()
	cfg := node.Config{
		Listen: "127.0.0.1:0", Region: "cn-north-4", Timing: timing, Driver: "sim",
		Tenants:   []node.TenantQuota{{Tenant: ecs.DevTenant, Quota: ecs.DefaultQuota}},
		DevTenant: true, Version: "test",
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("ECSD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n := node.New(cfg, logger, io.Discard)
	if err := n.Run(context.Background()); err != nil {
		t.Fatalf("start ecsd: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	b := &bundle{node: n, url: n.HTTP.URL()}
	b.client = newClient(b.url, ecs.DevTenant)
	return b
}

func newClient(url string, t ecs.Tenant) *ecssdk.EcsClient {
	auth := basic.NewCredentialsBuilder().WithAk(t.AccessKey).WithSk(t.SecretKey).WithProjectId(t.ProjectID).Build()
	return ecssdk.NewEcsClient(ecssdk.EcsClientBuilder().
		WithEndpoint(url).
		WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(30 * time.Second)).
		Build())
}

// waitJob polls a job until it ends and returns it.
func waitJob(t *testing.T, c *ecssdk.EcsClient, jobID string) *model.ShowJobResponse {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.ShowJob(&model.ShowJobRequest{JobId: jobID})
		if err != nil {
			t.Fatalf("ShowJob %s: %v", jobID, err)
		}
		if s := resp.Status.Value(); s == "SUCCESS" || s == "FAIL" {
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 30s", jobID, resp.Status.Value())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
