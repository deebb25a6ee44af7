package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
	"github.com/ecsd-dev/ecsd/signature"
)

// TestAuthentication checks the API gateway's answers to unsigned, wrongly
// signed and stale requests (401 APIGW.0301), and ECS's answer to a project
// that is not the caller's (Ecs.0023).
func TestAuthentication(t *testing.T) {
	t.Parallel()
	second := testTenant(6, ecs.DefaultQuota)
	b := setupWith(t, options{tenants: []node.TenantQuota{second}})
	pid := b.tenant.ProjectID
	list := "/v1/" + pid + "/cloudservers/detail"
	body := []byte(`{"os-start":{"servers":[{"id":"` + unknownID + `"}]}}` + "\n")

	signedBy := func(ak, sk string, at time.Time) func(r *http.Request, body []byte) {
		return func(r *http.Request, body []byte) { signature.Sign(r, body, ak, sk, at) }
	}
	dev := ecs.DevTenant
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		sign     func(r *http.Request, body []byte)
		tamper   func(r *http.Request)
		mentions string
	}{
		{"unsigned", "GET", list, nil, nil, "Authorization"},
		{"wrong secret key", "GET", list, signedBy(dev.AccessKey, "not-the-secret", time.Now()), nil, "verify aksk signature fail"},
		{"unknown access key", "GET", list, signedBy("NOSUCHACCESSKEY00000", dev.SecretKey, time.Now()), nil, "Get secretKey failed"},
		{"X-Sdk-Date 20 minutes old", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now().Add(-20*time.Minute)), nil, "expired"},
		{"X-Sdk-Date 20 minutes ahead", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now().Add(20*time.Minute)), nil, "expired"},
		{"no X-Sdk-Date", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now()),
			func(r *http.Request) { r.Header.Del("X-Sdk-Date") }, "x-sdk-date"},
		{"malformed X-Sdk-Date", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now()),
			func(r *http.Request) { r.Header.Set("X-Sdk-Date", "yesterday") }, "x-sdk-date"},
		{"query changed after signing", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now()),
			func(r *http.Request) { r.URL.RawQuery = "limit=1" }, "signature"},
		{"signed header changed", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now()),
			func(r *http.Request) { r.Header.Set("User-Agent", "curl/8") }, "signature"},
		{"body changed after signing", "POST", "/v1/" + pid + "/cloudservers/action", signedBy(dev.AccessKey, dev.SecretKey, time.Now()),
			func(r *http.Request) {
				r.Body, r.GetBody = readCloser(strings.Replace(string(body), unknownID, strings.ReplaceAll(unknownID, "0", "1"), 1)), nil
			}, "signature"},
		{"malformed Authorization", "GET", list, nil,
			func(r *http.Request) {
				r.Header.Set("X-Sdk-Date", time.Now().UTC().Format(signature.DateFormat))
				r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+dev.AccessKey)
			}, "Authorization"},
		{"other algorithm", "GET", list, signedBy(dev.AccessKey, dev.SecretKey, time.Now()),
			func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
			}, "algorithm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var payload []byte
			if tc.method == http.MethodPost {
				payload = body
			}
			r := b.newRaw(t, tc.method, tc.path, payload)
			if tc.sign != nil {
				tc.sign(r, payload)
			}
			if tc.tamper != nil {
				tc.tamper(r)
			}
			msg := b.do(t, r).wantGatewayError(t, http.StatusUnauthorized, "APIGW.0301")
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.mentions)) {
				t.Errorf("message %q does not mention %q", msg, tc.mentions)
			}
		})
	}

	t.Run("X-Sdk-Date 14 minutes old is accepted", func(t *testing.T) {
		r := b.newRaw(t, http.MethodGet, list, nil)
		b.sign(r, nil, time.Now().Add(-14*time.Minute))
		if resp := b.do(t, r); resp.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", resp.status, resp.body)
		}
	})
	t.Run("a signed Host header is accepted", func(t *testing.T) {
		r := b.newRaw(t, http.MethodGet, list, nil)
		u, _ := url.Parse(b.url)
		r.Header.Set("Host", u.Host)
		b.sign(r, nil, time.Now())
		if !strings.Contains(r.Header.Get("Authorization"), "host;") {
			t.Fatalf("Host was not signed: %s", r.Header.Get("Authorization"))
		}
		if resp := b.do(t, r); resp.status != http.StatusOK {
			t.Fatalf("HTTP %d %s", resp.status, resp.body)
		}
	})
	t.Run("wrong secret through the SDK", func(t *testing.T) {
		c := b.ecsClient(dev.AccessKey, "wrong", pid)
		_, err := c.ListServersDetails(&model.ListServersDetailsRequest{})
		wantSDKError(t, err, http.StatusUnauthorized, "APIGW.0301")
	})
	t.Run("project in the path is not the caller's", func(t *testing.T) {
		r := b.raw(t, http.MethodGet, "/v1/"+second.Tenant.ProjectID+"/cloudservers/detail", nil)
		r.wantECSError(t, http.StatusBadRequest, ecs.CodeProjectMismatch)
		// The same through the SDK: the development keys with the second
		// tenant's project.
		c := b.ecsClient(dev.AccessKey, dev.SecretKey, second.Tenant.ProjectID)
		_, err := c.ListServersDetails(&model.ListServersDetailsRequest{})
		wantCode(t, err, ecs.CodeProjectMismatch)
	})
	t.Run("X-Project-Id is not the caller's", func(t *testing.T) {
		r := b.newRaw(t, http.MethodGet, list, nil)
		r.Header.Set("X-Project-Id", second.Tenant.ProjectID)
		b.sign(r, nil, time.Now())
		b.do(t, r).wantECSError(t, http.StatusBadRequest, ecs.CodeProjectMismatch)
	})
}

// TestTenantIsolation checks that a tenant sees nothing of another's and
// can act on none of it: every attempt is "not found".
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	second := testTenant(7, ecs.DefaultQuota)
	b := setupWith(t, options{tenants: []node.TenantQuota{second}})
	other := b.login(t, second.Tenant)

	create, err := b.create(b.server("private", "s6.large.2"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := (*create.ServerIds)[0]
	b.wantJob(t, *create.JobId, "SUCCESS")

	notFound := func(t *testing.T, err error) {
		t.Helper()
		se := wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		if want := "Instance[" + id + "] could not be found."; se.ErrorMessage != want {
			t.Errorf("message %q, want %q", se.ErrorMessage, want)
		}
	}
	t.Run("show", func(t *testing.T) {
		_, err := other.client.ShowServer(&model.ShowServerRequest{ServerId: id})
		notFound(t, err)
	})
	t.Run("list", func(t *testing.T) {
		all, err := other.client.ListServersDetails(&model.ListServersDetailsRequest{})
		if err != nil || *all.Count != 0 || len(*all.Servers) != 0 {
			t.Fatalf("v1 list: %v count %v", err, all.Count)
		}
		// Asked by ID, the server is at most an unknown ID: id and fault only.
		byID, err := other.client.ListServersDetails(&model.ListServersDetailsRequest{ServerId: &id})
		if err != nil {
			t.Fatalf("v1 list with server_id: %v", err)
		}
		for _, s := range *byID.Servers {
			if s.Name != "" || s.Flavor != nil || s.Status != "" || len(s.Addresses) > 0 {
				t.Errorf("another tenant's server is shown: %+v", s)
			}
		}
		v11, err := other.client.ListCloudServers(&model.ListCloudServersRequest{})
		if err != nil || len(*v11.Servers) != 0 {
			t.Errorf("v1.1 list: %v %v", err, v11.Servers)
		}
	})
	t.Run("stop", func(t *testing.T) {
		_, err := other.stop(true, id)
		notFound(t, err)
	})
	t.Run("reboot", func(t *testing.T) {
		_, err := other.reboot(true, id)
		notFound(t, err)
	})
	t.Run("resize", func(t *testing.T) {
		_, err := other.resize(id, model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2", Mode: ptr("withStopServer")}, false)
		notFound(t, err)
	})
	t.Run("resize flavors", func(t *testing.T) {
		_, err := other.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &id})
		notFound(t, err)
	})
	t.Run("delete", func(t *testing.T) {
		_, err := other.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(id)}})
		notFound(t, err)
	})
	t.Run("job", func(t *testing.T) {
		_, err := other.client.ShowJob(&model.ShowJobRequest{JobId: *create.JobId})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeBadRequest)
	})
	t.Run("network", func(t *testing.T) {
		srv := other.server("borrow-subnet", "s6.large.2")
		srv.Vpcid, srv.Nics[0].SubnetId = b.vpcID, &b.subnetID
		_, err := other.create(srv)
		wantCode(t, err, ecs.CodeSubnetNotFound)
		srv = other.server("borrow-sg", "s6.large.2")
		srv.SecurityGroups = &[]model.PostPaidServerSecurityGroup{{Id: &b.sgID}}
		_, err = other.create(srv)
		wantCode(t, err, ecs.CodeNetworkInvalid)
	})
	t.Run("limits", func(t *testing.T) {
		if l := other.limits(t); l.TotalInstancesUsed != 0 || l.TotalCoresUsed != 0 {
			t.Errorf("the other tenant uses %d instances and %d cores, want none", l.TotalInstancesUsed, l.TotalCoresUsed)
		}
	})
	b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
}
