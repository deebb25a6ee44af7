package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/signature"
	"github.com/ecsd-dev/ecsd/store"
)

// nopQueue accepts jobs and never runs them: the API tests look at shapes,
// not at job execution.
type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, *sql.Tx, ...*ecs.Job) error { return nil }

// apiBundle is the full API handler over a real store.
type apiBundle struct {
	handler http.Handler
	svc     *compute.Service
	db      *store.DB
}

func setupAPI(t testing.TB) *apiBundle {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := catalog.Default()
	svc := &compute.Service{Store: db, Queue: nopQueue{}, Catalog: cat, Clock: ecs.RealClock{}, Logger: logger}
	if err := svc.EnsureTenant(ctx, ecs.DevTenant, ecs.DefaultQuota); err != nil {
		t.Fatal(err)
	}
	var hosts []ecs.Host
	for _, h := range cat.Hosts() {
		hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	if err := svc.SetHosts(ctx, hosts); err != nil {
		t.Fatal(err)
	}
	s := NewServer(Services{Servers: svc, Details: svc, Jobs: svc, Tenants: svc, Flavors: svc, Networks: svc, Images: svc, Resources: svc}, logger)
	return &apiBundle{handler: s.Handler(), svc: svc, db: db}
}

// do sends a request signed like the Go SDK and returns the response.
func (b *apiBundle) do(t *testing.T, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var raw []byte
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			t.Fatal(err)
		}
		raw = buf.Bytes()
	}
	r := httptest.NewRequest(method, "http://ecsd.test"+path, bytes.NewReader(raw))
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	r.Header.Set("X-Project-Id", ecs.DevTenant.ProjectID)
	signature.Sign(r, raw, ecs.DevTenant.AccessKey, ecs.DevTenant.SecretKey, time.Now())
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	if w.Header().Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	return w
}

func (b *apiBundle) must(t *testing.T, status int, method, path string, body any) []byte {
	t.Helper()
	w := b.do(t, method, path, body)
	if w.Code != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, w.Code, status, w.Body)
	}
	return w.Body.Bytes()
}

const pid = "000000000000000000000000000ec5d1"

// TestResponsesMatchPublishedDefinitions drives each route once and holds
// its answer against Huawei's published OAS definition.
func TestResponsesMatchPublishedDefinitions(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	create := map[string]any{"server": map[string]any{
		"name": "oas", "imageRef": "abe65701-8a26-40ec-b381-c10498ca3745", "flavorRef": "s6.large.2",
		"vpcid": compute.DerivedUUID(pid + "/vpc"), "nics": []any{map[string]any{"subnet_id": compute.DerivedUUID(pid + "/subnet")}},
		"root_volume": map[string]any{"volumetype": "SSD"}, "count": 2,
	}}
	body := b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers", create)
	checkOAS(t, "ECS/CreatePostPaidServers.json", "/v1/{project_id}/cloudservers", "post", "200", body)
	var created struct {
		JobID     string   `json:"job_id"`
		ServerIDs []string `json:"serverIds"`
	}
	if err := json.Unmarshal(body, &created); err != nil || len(created.ServerIDs) != 2 {
		t.Fatalf("create: %s (%v)", body, err)
	}
	body = b.must(t, 200, "POST", "/v1.1/"+pid+"/cloudservers", create)
	checkOAS(t, "ECS/CreateServers.json", "/v1.1/{project_id}/cloudservers", "post", "200", body)

	id := created.ServerIDs[0]
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/"+id, nil)
	checkOAS(t, "ECS/ShowServer.json", "/v1/{project_id}/cloudservers/{server_id}", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/detail?limit=10", nil)
	checkOAS(t, "ECS/ListServersDetails.json", "/v1/{project_id}/cloudservers/detail", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1.1/"+pid+"/cloudservers/detail?limit=1&expect-fields=launched_at,metadata,addresses,market_info,volumes_attached", nil)
	checkOAS(t, "ECS/ListCloudServers.json", "/v1.1/{project_id}/cloudservers/detail", "get", "200", body)
	if !strings.Contains(string(body), `"rel":"next"`) {
		t.Errorf("v1.1 list with more servers than limit has no next link: %s", body)
	}
	body = b.must(t, 200, "GET", "/v1/"+pid+"/jobs/"+created.JobID, nil)
	checkOAS(t, "ECS/ShowJob.json", "/v1/{project_id}/jobs/{job_id}", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/flavors?availability_zone=cn-north-4a", nil)
	checkOAS(t, "ECS/ListFlavors.json", "/v1/{project_id}/cloudservers/flavors", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/resize_flavors?source_flavor_id=s6.large.2", nil)
	checkOAS(t, "ECS/ListResizeFlavors.json", "/v1/{project_id}/cloudservers/resize_flavors", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/limits", nil)
	checkOAS(t, "ECS/ShowServerLimits.json", "/v1/{project_id}/cloudservers/limits", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/vpcs", nil)
	// The published VPC definitions describe /v3; the v1 objects carry the
	// same fields.
	checkOAS(t, "VPC/ListVpcs.json", "/v3/{project_id}/vpc/vpcs", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/subnets", nil)
	checkOAS(t, "VPC/ListSubnets.json", "/v1/{project_id}/subnets", "get", "200", body)
	body = b.must(t, 200, "GET", "/v1/"+pid+"/security-groups", nil)
	checkOAS(t, "VPC/ListSecurityGroups.json", "/v3/{project_id}/vpc/security-groups", "get", "200", body)
	body = b.must(t, 200, "GET", "/v2/cloudimages", nil)
	checkOAS(t, "IMS/ListImages.json", "/v2/cloudimages", "get", "200", body)

	// The servers are still building (no worker runs here); make one
	// stopped and idle through the store to exercise the mutating calls.
	ctx := context.Background()
	tx, err := b.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sid := range created.ServerIDs {
		srv, err := b.db.ServerByID(ctx, tx, pid, sid)
		if err != nil {
			t.Fatal(err)
		}
		srv.VMState, srv.TaskState, srv.PowerState = ecs.VMStopped, ecs.TaskNone, ecs.PowerShutdown
		if err := b.db.UpdateServer(ctx, tx, srv); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	body = b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers/"+id+"/resize", map[string]any{"resize": map[string]any{"flavorRef": "c7.large.2"}})
	checkOAS(t, "ECS/ResizePostPaidServer.json", "/v1/{project_id}/cloudservers/{server_id}/resize", "post", "200", body)
	other := created.ServerIDs[1]
	body = b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers/action", map[string]any{"os-start": map[string]any{"servers": []any{map[string]any{"id": other}}}})
	checkOAS(t, "ECS/BatchStartServers.json", "/v1/{project_id}/cloudservers/action", "post", "200", body)
}

// TestErrorsLeaveThroughOneDoor checks the envelopes and statuses of the
// error paths that need no job to run.
func TestErrorsLeaveThroughOneDoor(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"unknown server", "GET", "/v1/" + pid + "/cloudservers/6d8c3d3a-0000-4000-8000-000000000000", nil, 404, "Ecs.0114"},
		{"malformed server id", "GET", "/v1/" + pid + "/cloudservers/%27%3B--", nil, 404, "Ecs.0114"},
		{"unknown job", "GET", "/v1/" + pid + "/jobs/ffffffffffffffffffffffffffffffff", nil, 404, "Ecs.0005"},
		{"other project", "GET", "/v1/0123456789abcdef0123456789abcdef/cloudservers/detail", nil, 400, "Ecs.0023"},
		{"bad action", "POST", "/v1/" + pid + "/cloudservers/action", map[string]any{"os-pause": map[string]any{}}, 400, "Ecs.0005"},
		{"resize without body", "POST", "/v1/" + pid + "/cloudservers/6d8c3d3a-0000-4000-8000-000000000000/resize", nil, 400, "Ecs.0005"},
		{"resize flavors without source", "GET", "/v1/" + pid + "/cloudservers/resize_flavors", nil, 400, "Ecs.0005"},
		{"unknown path", "GET", "/v1/" + pid + "/nothing-here", nil, 404, "APIGW.0101"},
		{"wrong method", "DELETE", "/v1/" + pid + "/cloudservers/detail", nil, 404, "APIGW.0101"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := b.do(t, tc.method, tc.path, tc.body)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			var env struct {
				Error     struct{ Code, Message string } `json:"error"`
				ErrorCode string                         `json:"error_code"`
				ErrorMsg  string                         `json:"error_msg"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatalf("body is not JSON: %s", w.Body)
			}
			code, msg := env.Error.Code, env.Error.Message
			if strings.HasPrefix(tc.code, "APIGW") {
				code, msg = env.ErrorCode, env.ErrorMsg
			}
			if code != tc.code || msg == "" {
				t.Fatalf("code %q message %q, want code %s: %s", code, msg, tc.code, w.Body)
			}
		})
	}
}
