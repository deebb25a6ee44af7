package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/fault"
)

// recordFaults records the calls it sees and answers them from answer.
type recordFaults struct {
	mu     sync.Mutex
	seen   []fault.OpRequest
	answer func(op fault.OpRequest) (time.Duration, error)
}

func (f *recordFaults) Request(_ context.Context, op fault.OpRequest) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, op)
	if f.answer == nil {
		return 0, nil
	}
	return f.answer(op)
}

func (f *recordFaults) last() fault.OpRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return fault.OpRequest{}
	}
	return f.seen[len(f.seen)-1]
}

// TestFaultHook checks that every route names its SDK operation to the
// fault rules after authentication, and that an injected delay and error
// are served.
func TestFaultHook(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	faults := &recordFaults{}
	var slept []time.Duration
	var sleptMu sync.Mutex
	svc := b.svc
	s := NewServer(Services{Servers: svc, Jobs: svc, Tenants: svc, Flavors: svc, Networks: svc, Images: svc},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Faults = faults
	s.Sleep = func(ctx context.Context, d time.Duration) error {
		sleptMu.Lock()
		defer sleptMu.Unlock()
		slept = append(slept, d)
		return nil
	}
	b.handler = s.Handler()

	const sid = "6d8c3d3a-0000-4000-8000-000000000000"
	srvs := map[string]any{"servers": []any{map[string]any{"id": sid}}}
	calls := []struct {
		method, path string
		body         any
		op           string
	}{
		{"POST", "/v1/" + pid + "/cloudservers", map[string]any{}, "CreatePostPaidServers"},
		{"POST", "/v1.1/" + pid + "/cloudservers", map[string]any{}, "CreateServers"},
		{"GET", "/v1/" + pid + "/cloudservers/detail", nil, "ListServersDetails"},
		{"GET", "/v1.1/" + pid + "/cloudservers/detail", nil, "ListCloudServers"},
		{"GET", "/v1/" + pid + "/cloudservers/" + sid, nil, "ShowServer"},
		{"POST", "/v1/" + pid + "/cloudservers/delete", map[string]any{}, "DeleteServers"},
		{"POST", "/v1/" + pid + "/cloudservers/action", map[string]any{"os-start": srvs}, "BatchStartServers"},
		{"POST", "/v1/" + pid + "/cloudservers/action", map[string]any{"os-stop": srvs}, "BatchStopServers"},
		{"POST", "/v1/" + pid + "/cloudservers/action", map[string]any{"reboot": srvs}, "BatchRebootServers"},
		{"POST", "/v1/" + pid + "/cloudservers/action", map[string]any{"os-pause": srvs}, ""},
		{"POST", "/v1/" + pid + "/cloudservers/" + sid + "/resize", map[string]any{}, "ResizePostPaidServer"},
		{"POST", "/v1.1/" + pid + "/cloudservers/" + sid + "/resize", map[string]any{}, "ResizeServer"},
		{"GET", "/v1/" + pid + "/cloudservers/resize_flavors", nil, "ListResizeFlavors"},
		{"GET", "/v1/" + pid + "/cloudservers/flavors", nil, "ListFlavors"},
		{"GET", "/v1/" + pid + "/cloudservers/limits", nil, "ShowServerLimits"},
		{"POST", "/v1/" + pid + "/cloudservers/batch-resize", map[string]any{}, "BatchResizeServers"},
		{"GET", "/v1/" + pid + "/cloudservers/flavor-sell-policies", nil, "ListFlavorSellPolicies"},
		{"GET", "/v1/" + pid + "/cloudservers/flavors/s6.large.2/resources", nil, "ShowFlavorCapacity"},
		{"GET", "/v1/" + pid + "/jobs/ffffffffffffffffffffffffffffffff", nil, "ShowJob"},
		{"GET", "/v1/" + pid + "/vpcs", nil, "ListVpcs"},
		{"GET", "/v1/" + pid + "/subnets", nil, "ListSubnets"},
		{"GET", "/v1/" + pid + "/security-groups", nil, "ListSecurityGroups"},
		{"GET", "/v2/cloudimages", nil, "ListImages"},
		{"POST", "/v1/" + pid + "/cloudservers/actions/change-charge-mode", map[string]any{}, "ChangeServerChargeMode"},
		{"GET", "/v2/orders/customer-orders/details/CS1", nil, "ShowCustomerOrderDetails"},
		{"POST", "/v3/orders/customer-orders/pay", map[string]any{}, "PayOrders"},
		{"PUT", "/v2/orders/customer-orders/cancel", map[string]any{}, "CancelCustomerOrder"},
		{"POST", "/v2.1/" + pid + "/servers/" + sid + "/action", map[string]any{"os-start": nil}, "NovaStartServer"},
		{"POST", "/v2.1/" + pid + "/servers/" + sid + "/action", map[string]any{"os-stop": nil}, "NovaStopServer"},
		{"POST", "/v2.1/" + pid + "/servers/" + sid + "/action", map[string]any{"reboot": map[string]any{"type": "SOFT"}}, "NovaRebootServer"},
		{"POST", "/v2.1/" + pid + "/servers/" + sid + "/action", map[string]any{"resize": map[string]any{"flavorRef": "s6.large.2"}}, "NovaResizeServer"},
		{"POST", "/v2.1/" + pid + "/servers/" + sid + "/action", map[string]any{"confirmResize": nil}, "NovaConfirmResizeServer"},
		{"POST", "/v2/" + pid + "/servers/" + sid + "/action", map[string]any{"revertResize": nil}, "NovaRevertResizeServer"},
		{"GET", "/v2.1/" + pid + "/servers/" + sid, nil, "NovaShowServer"},
		{"PUT", "/v1/" + pid + "/cloudservers/" + sid, map[string]any{}, "UpdateServer"},
		{"POST", "/v1/" + pid + "/cloudservers/" + sid + "/metadata", map[string]any{}, "UpdateServerMetadata"},
		{"POST", "/v1/" + pid + "/cloudservers/" + sid + "/tags/action", map[string]any{"action": "create"}, "BatchCreateServerTags"},
		{"POST", "/v1/" + pid + "/cloudservers/" + sid + "/tags/action", map[string]any{"action": "delete"}, "BatchDeleteServerTags"},
		{"GET", "/v1/" + pid + "/cloudservers/" + sid + "/tags", nil, "ShowServerTags"},
		{"GET", "/v1/" + pid + "/cloudservers/" + sid + "/block_device/v1", nil, "ShowServerBlockDevice"},
		{"GET", "/v2.1/" + pid + "/os-availability-zone", nil, "NovaListAvailabilityZones"},
		{"GET", "/v2/" + pid + "/cloudvolumes/v1", nil, "ShowVolume"},
		{"GET", "/v1/" + pid + "/subnets/s1", nil, "ShowSubnet"},
		{"GET", "/v1/" + pid + "/ports", nil, "ListPorts"},
		{"GET", "/v1/" + pid + "/ports/p1", nil, "ShowPort"},
		{"GET", "/v3/" + pid + "/vpc/security-groups", nil, "ListSecurityGroupsV3"},
		{"GET", "/v3/" + pid + "/vpc/security-groups/g1", nil, "ShowSecurityGroup"},
		{"GET", "/v3/projects?name=cn-north-4", nil, "KeystoneListProjects"},
		{"GET", "/v3/auth/domains", nil, "KeystoneListAuthDomains"},
		{"POST", "/v2/orders/suscriptions/resources/query", map[string]any{}, "ListPayPerUseCustomerResources"},
		{"POST", "/v2/orders/subscriptions/resources/unsubscribe", map[string]any{}, "CancelResourcesSubscription"},
	}
	var ops []string
	for _, c := range calls {
		b.do(t, c.method, c.path, c.body)
		got := faults.last()
		if got.Operation != c.op || got.ProjectID != pid {
			t.Errorf("%s %s: fault rules saw %+v, want operation %q of project %s", c.method, c.path, got, c.op, pid)
		}
		wantServer := ""
		if c.op == "ShowServer" || c.op == "ResizePostPaidServer" || c.op == "ResizeServer" ||
			(strings.HasPrefix(c.op, "Nova") && c.op != "NovaListAvailabilityZones") || strings.Contains(c.path, "/cloudservers/"+sid) {
			wantServer = sid
		}
		if got.ServerID != wantServer {
			t.Errorf("%s %s: server_id %q, want %q", c.method, c.path, got.ServerID, wantServer)
		}
		if c.op != "" {
			ops = append(ops, c.op)
		}
	}
	slices.Sort(ops)
	all := slices.Sorted(slices.Values(Operations))
	if !slices.Equal(ops, all) {
		t.Errorf("routes serve %v, Operations lists %v", ops, all)
	}

	// An unauthenticated call never reaches the fault rules.
	n := len(faults.seen)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "http://ecsd.test/v1/"+pid+"/cloudservers/detail", nil))
	if w.Code != 401 || len(faults.seen) != n {
		t.Errorf("unsigned call: status %d, %d fault lookups; want 401 and none", w.Code, len(faults.seen)-n)
	}

	// An injected error is answered through the one error exit, after the
	// delay, with the rule's status.
	faults.answer = func(op fault.OpRequest) (time.Duration, error) {
		if op.Operation == "ShowServer" {
			return 30 * time.Millisecond, &ecs.Error{Code: "Ecs.0615", Message: "injected", Status: 503}
		}
		return 5 * time.Millisecond, nil
	}
	w = b.do(t, "GET", "/v1/"+pid+"/cloudservers/"+sid, nil)
	var env struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || w.Code != 503 || env.Error.Code != "Ecs.0615" || env.Error.Message != "injected" {
		t.Errorf("injected error: HTTP %d %s", w.Code, w.Body)
	}
	if w := b.do(t, "GET", "/v1/"+pid+"/cloudservers/limits", nil); w.Code != 200 {
		t.Errorf("delayed call: HTTP %d %s, want 200", w.Code, w.Body)
	}
	if want := []time.Duration{30 * time.Millisecond, 5 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Errorf("slept %v, want %v", slept, want)
	}
}
