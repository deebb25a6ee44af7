package e2e_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/ecsd-dev/ecsd/signature"
)

// akskTransport signs each request as the Huawei SDKs do (AK/SK, with
// X-Project-Id and X-Sdk-Date), so that gophercloud can talk to ecsd's
// Nova-compatible API.
type akskTransport struct {
	base              http.RoundTripper
	ak, sk, projectID string
}

func (tr *akskTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	r.Header.Set("X-Project-Id", tr.projectID)
	signature.Sign(r, body, tr.ak, tr.sk, time.Now())
	return tr.base.RoundTrip(r)
}

// novaClient returns a gophercloud compute client of the account, on the
// /v2.1/{project_id}/ endpoint.
func (b *bundle) novaClient(a *account) *gophercloud.ServiceClient {
	tr := &akskTransport{base: b.transport, ak: a.tenant.AccessKey, sk: a.tenant.SecretKey, projectID: a.tenant.ProjectID}
	return &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: tr, Timeout: 30 * time.Second}},
		Endpoint:       b.url + "/v2.1/" + a.tenant.ProjectID + "/",
	}
}

// novaGet returns gophercloud's view of a server.
func novaGet(t *testing.T, c *gophercloud.ServiceClient, id string) *servers.Server {
	t.Helper()
	s, err := servers.Get(t.Context(), c, id).Extract()
	if err != nil {
		t.Fatalf("servers.Get %s: %v", id, err)
	}
	return s
}

// novaWait polls a server until gophercloud sees status and no task.
func novaWait(t *testing.T, c *gophercloud.ServiceClient, id, status string) *servers.Server {
	t.Helper()
	var s *servers.Server
	waitFor(t, "server "+id+" to be "+status, func() bool {
		s = novaGet(t, c, id)
		return s.Status == status && s.TaskState == ""
	})
	return s
}

func wantNovaServer(t *testing.T, s *servers.Server, status, vmState string, power servers.PowerState, flavor string) {
	t.Helper()
	if s.Status != status || s.VmState != vmState || s.PowerState != power || s.Flavor["id"] != flavor {
		t.Fatalf("server %s: %s (%s) power %s flavor %v; want %s (%s) power %s flavor %s",
			s.ID, s.Status, s.VmState, s.PowerState, s.Flavor["id"], status, vmState, power, flavor)
	}
}

func wantHTTPStatus(t *testing.T, err error, status int) {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != status {
		t.Fatalf("err = %v, want HTTP %d", err, status)
	}
}

func TestNova(t *testing.T) {
	t.Parallel()
	b := setupWith(t, options{stepped: true}) // a revert is observed at the gate
	c := b.novaClient(b.account)
	ctx := t.Context()

	t.Run("stopped: resize, VERIFY_RESIZE, confirm", func(t *testing.T) {
		id := b.mustCreateStopped(t, "nova-confirm", "s6.small.1", azA)
		if err := servers.Resize(ctx, c, id, servers.ResizeOpts{FlavorRef: "s6.large.4"}).ExtractErr(); err != nil {
			t.Fatalf("Resize: %v", err)
		}
		s := novaWait(t, c, id, "VERIFY_RESIZE")
		wantNovaServer(t, s, "VERIFY_RESIZE", "resized", servers.SHUTDOWN, "s6.large.4")
		if s.TenantID != b.tenant.ProjectID || s.AvailabilityZone != azA || s.Created.IsZero() {
			t.Errorf("gophercloud decoded tenant %q az %q created %v", s.TenantID, s.AvailabilityZone, s.Created)
		}
		// The v1 API sees the same server.
		if v1 := b.show(t, id); v1.Status != "VERIFY_RESIZE" || v1.Flavor.Id != "s6.large.4" {
			t.Errorf("v1 ShowServer: %s %s", v1.Status, v1.Flavor.Id)
		}
		if err := servers.ConfirmResize(ctx, c, id).ExtractErr(); err != nil {
			t.Fatalf("ConfirmResize: %v", err)
		}
		s = novaWait(t, c, id, "SHUTOFF")
		wantNovaServer(t, s, "SHUTOFF", "stopped", servers.SHUTDOWN, "s6.large.4")
		// Confirming again: 409.
		wantHTTPStatus(t, servers.ConfirmResize(ctx, c, id).ExtractErr(), http.StatusConflict)
	})

	t.Run("running: resize, revert observed, old flavor", func(t *testing.T) {
		id := b.mustCreateOne(t, "nova-revert", "s6.small.1", azA)
		if err := servers.Resize(ctx, c, id, servers.ResizeOpts{FlavorRef: "s6.large.4"}).ExtractErr(); err != nil {
			t.Fatalf("Resize: %v", err)
		}
		s := novaWait(t, c, id, "VERIFY_RESIZE")
		wantNovaServer(t, s, "VERIFY_RESIZE", "resized", servers.RUNNING, "s6.large.4")

		b.gate.Hold()
		if err := servers.RevertResize(ctx, c, id).ExtractErr(); err != nil {
			b.gate.Open()
			t.Fatalf("RevertResize: %v", err)
		}
		var mid *servers.Server
		waitFor(t, "REVERT_RESIZE", func() bool {
			mid = novaGet(t, c, id)
			return mid.Status == "REVERT_RESIZE"
		})
		if mid.VmState != "resized" || mid.TaskState != "resize_reverting" {
			t.Errorf("reverting: vm %s task %s", mid.VmState, mid.TaskState)
		}
		// Busy: another revert is refused.
		wantHTTPStatus(t, servers.RevertResize(ctx, c, id).ExtractErr(), http.StatusConflict)
		b.gate.Step(t)
		b.gate.Open()
		s = novaWait(t, c, id, "ACTIVE")
		wantNovaServer(t, s, "ACTIVE", "active", servers.RUNNING, "s6.small.1")
	})

	t.Run("start, stop, reboot", func(t *testing.T) {
		id := b.mustCreateOne(t, "nova-power", "s6.small.1", azA)
		if err := servers.Stop(ctx, c, id).ExtractErr(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		novaWait(t, c, id, "SHUTOFF")
		// A stopped server cannot reboot.
		wantHTTPStatus(t, servers.Reboot(ctx, c, id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr(), http.StatusConflict)
		if err := servers.Start(ctx, c, id).ExtractErr(); err != nil {
			t.Fatalf("Start: %v", err)
		}
		novaWait(t, c, id, "ACTIVE")
		if err := servers.Reboot(ctx, c, id, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr(); err != nil {
			t.Fatalf("Reboot: %v", err)
		}
		s := novaWait(t, c, id, "ACTIVE")
		wantNovaServer(t, s, "ACTIVE", "active", servers.RUNNING, "s6.small.1")
	})

	t.Run("errors", func(t *testing.T) {
		_, err := servers.Get(ctx, c, unknownID).Extract()
		wantHTTPStatus(t, err, http.StatusNotFound)
		wantHTTPStatus(t, servers.Resize(ctx, c, unknownID, servers.ResizeOpts{FlavorRef: "s6.large.4"}).ExtractErr(), http.StatusNotFound)
	})
}
