package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// novaServer creates one server through the v1 API (its job never runs
// here) and puts it in a stable state with mutate.
func (b *apiBundle) novaServer(t *testing.T, mutate func(s *ecs.Server)) string {
	t.Helper()
	create := map[string]any{"server": map[string]any{
		"name": "nova", "imageRef": "abe65701-8a26-40ec-b381-c10498ca3745", "flavorRef": "s6.small.1",
		"vpcid": compute.DerivedUUID(pid + "/vpc"), "nics": []any{map[string]any{"subnet_id": compute.DerivedUUID(pid + "/subnet")}},
		"root_volume": map[string]any{"volumetype": "SSD"},
	}}
	var created struct {
		ServerIDs []string `json:"serverIds"`
	}
	if err := json.Unmarshal(b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers", create), &created); err != nil || len(created.ServerIDs) != 1 {
		t.Fatalf("create: %v", err)
	}
	id := created.ServerIDs[0]
	ctx := t.Context()
	tx, err := b.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	s, err := b.db.ServerByID(ctx, tx, pid, id)
	if err != nil {
		t.Fatal(err)
	}
	s.VMState, s.TaskState, s.PowerState = ecs.VMStopped, ecs.TaskNone, ecs.PowerShutdown
	if mutate != nil {
		mutate(s)
	}
	if err := b.db.UpdateServer(ctx, tx, s); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestNovaShowServerMatchesDefinition(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	for _, tc := range []struct {
		name       string
		mutate     func(s *ecs.Server)
		wantStatus string
		wantFlavor string
	}{
		{"shutoff", nil, ecs.StatusShutoff, "s6.small.1"},
		{"active", func(s *ecs.Server) { s.VMState, s.PowerState = ecs.VMActive, ecs.PowerRunning }, ecs.StatusActive, "s6.small.1"},
		{"verify resize", func(s *ecs.Server) {
			s.VMState, s.FlavorID, s.ResizeFlavorID, s.ResizeHostID = ecs.VMResized, "s6.large.4", "s6.small.1", s.HostID
		}, ecs.StatusVerifyResize, "s6.large.4"},
	} {
		id := b.novaServer(t, tc.mutate)
		for _, v := range []string{"v2.1", "v2"} {
			body := b.must(t, 200, "GET", "/"+v+"/"+pid+"/servers/"+id, nil)
			checkOAS(t, "ECS/NovaShowServer.json", "/v2.1/{project_id}/servers/{server_id}", "get", "200", body)
			var got struct {
				Server struct {
					ID     string `json:"id"`
					Status string `json:"status"`
					Flavor struct {
						ID    string `json:"id"`
						Links []struct{ Href, Rel string }
					} `json:"flavor"`
					TaskState *string `json:"OS-EXT-STS:task_state"`
					TenantID  string  `json:"tenant_id"`
				} `json:"server"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			s := got.Server
			if s.ID != id || s.Status != tc.wantStatus || s.Flavor.ID != tc.wantFlavor || s.TaskState != nil || s.TenantID != pid ||
				len(s.Flavor.Links) != 1 || !strings.HasSuffix(s.Flavor.Links[0].Href, "/flavors/"+tc.wantFlavor) {
				t.Errorf("%s %s: %s", tc.name, v, body)
			}
		}
	}
}

// wantNovaError checks a Nova error envelope {"<name>":{"message","code"}}.
func wantNovaError(t *testing.T, w interface {
	Result() *http.Response
}, body []byte, status int, name string,
) {
	t.Helper()
	if got := w.Result().StatusCode; got != status {
		t.Fatalf("status %d, want %d: %s", got, status, body)
	}
	var env map[string]novaFault
	if err := json.Unmarshal(body, &env); err != nil || len(env) != 1 {
		t.Fatalf("body %s is not a Nova error (%v)", body, err)
	}
	f, ok := env[name]
	if !ok || f.Code != status || f.Message == "" {
		t.Errorf("body %s, want %s with code %d and a message", body, name, status)
	}
}

func TestNovaActions(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	action := func(id string) string { return "/v2.1/" + pid + "/servers/" + id + "/action" }
	accepted := func(t *testing.T, path string, body any) {
		t.Helper()
		w := b.do(t, "POST", path, body)
		if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
			t.Fatalf("POST %s %v: %d %s, want 202 with no body", path, body, w.Code, w.Body)
		}
	}
	refused := func(t *testing.T, path string, body any, status int, name string) {
		t.Helper()
		w := b.do(t, "POST", path, body)
		wantNovaError(t, w, w.Body.Bytes(), status, name)
	}

	t.Run("start, then busy", func(t *testing.T) {
		id := b.novaServer(t, nil)
		accepted(t, action(id), map[string]any{"os-start": nil})
		if s, _ := b.svc.FindServerByID(t.Context(), pid, id); s.TaskState != ecs.TaskPoweringOn {
			t.Errorf("task %q after os-start", s.TaskState)
		}
		refused(t, action(id), map[string]any{"os-stop": map[string]any{}}, 409, "conflictingRequest")
	})
	t.Run("stop hard, reboot", func(t *testing.T) {
		id := b.novaServer(t, func(s *ecs.Server) { s.VMState, s.PowerState = ecs.VMActive, ecs.PowerRunning })
		accepted(t, "/v2/"+pid+"/servers/"+id+"/action", map[string]any{"os-stop": map[string]any{"type": "HARD"}})
		id = b.novaServer(t, func(s *ecs.Server) { s.VMState, s.PowerState = ecs.VMActive, ecs.PowerRunning })
		accepted(t, action(id), map[string]any{"reboot": map[string]any{"type": "SOFT"}})
		// A stopped server cannot reboot.
		id = b.novaServer(t, nil)
		refused(t, action(id), map[string]any{"reboot": map[string]any{"type": "HARD"}}, 409, "conflictingRequest")
	})
	t.Run("resize, confirm and revert preconditions", func(t *testing.T) {
		id := b.novaServer(t, nil)
		refused(t, action(id), map[string]any{"confirmResize": nil}, 409, "conflictingRequest")
		refused(t, action(id), map[string]any{"revertResize": nil}, 409, "conflictingRequest")
		refused(t, action(id), map[string]any{"resize": map[string]any{"flavorRef": "s6.small.1"}}, 400, "badRequest")
		refused(t, action(id), map[string]any{"resize": map[string]any{"flavorRef": "no.such"}}, 400, "badRequest")
		accepted(t, action(id), map[string]any{"resize": map[string]any{"flavorRef": "s6.large.4", "OS-DCF:diskConfig": "AUTO"}})
		if s, _ := b.svc.FindServerByID(t.Context(), pid, id); s.Status() != ecs.StatusResize || s.ResizeFlavorID != "s6.large.4" {
			t.Errorf("after resize: %s reserved %q", s.Status(), s.ResizeFlavorID)
		}
		vr := b.novaServer(t, func(s *ecs.Server) {
			s.VMState, s.FlavorID, s.ResizeFlavorID, s.ResizeHostID = ecs.VMResized, "s6.large.4", "s6.small.1", s.HostID
		})
		accepted(t, action(vr), map[string]any{"confirmResize": nil})
		refused(t, action(vr), map[string]any{"revertResize": nil}, 409, "conflictingRequest")
		vr = b.novaServer(t, func(s *ecs.Server) {
			s.VMState, s.FlavorID, s.ResizeFlavorID, s.ResizeHostID = ecs.VMResized, "s6.large.4", "s6.small.1", s.HostID
		})
		accepted(t, action(vr), map[string]any{"revertResize": nil})
	})
	t.Run("unknown server", func(t *testing.T) {
		refused(t, action("00000000-0000-4000-8000-000000000000"), map[string]any{"os-start": nil}, 404, "itemNotFound")
		w := b.do(t, "GET", "/v2.1/"+pid+"/servers/00000000-0000-4000-8000-000000000000", nil)
		wantNovaError(t, w, w.Body.Bytes(), 404, "itemNotFound")
	})
	t.Run("bad bodies", func(t *testing.T) {
		id := b.novaServer(t, nil)
		for _, body := range []any{
			nil,
			map[string]any{},
			map[string]any{"suspend": nil},
			map[string]any{"os-start": nil, "os-stop": nil},
			map[string]any{"os-start": "now"},
			map[string]any{"os-stop": map[string]any{"type": "FAST"}},
			map[string]any{"reboot": map[string]any{}},
			map[string]any{"reboot": nil},
			map[string]any{"resize": map[string]any{}},
			map[string]any{"resize": map[string]any{"flavorRef": ""}},
			map[string]any{"resize": map[string]any{"flavorRef": true}},
			map[string]any{"resize": map[string]any{"flavorRef": "s6.large.4", "OS-DCF:diskConfig": "SOME"}},
			map[string]any{"confirmResize": map[string]any{"x": 1}},
		} {
			w := b.do(t, "POST", action(id), body)
			wantNovaError(t, w, w.Body.Bytes(), 400, "badRequest")
		}
		if s, _ := b.svc.FindServerByID(t.Context(), pid, id); s.TaskState != ecs.TaskNone {
			t.Errorf("a bad request changed the server: task %q", s.TaskState)
		}
	})
}

func TestDecodeNovaAction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want novaAction
	}{
		{`{"os-start":{}}`, novaAction{Name: novaStart}},
		{`{"os-start":null}`, novaAction{Name: novaStart}},
		{`{"os-stop":null}`, novaAction{Name: novaStop}},
		{`{"os-stop":{"type":"hard"}}`, novaAction{Name: novaStop, Hard: true}},
		{`{"reboot":{"type":"SOFT"}}`, novaAction{Name: novaReboot}},
		{`{"reboot":{"type":"HARD"}}`, novaAction{Name: novaReboot, Hard: true}},
		{`{"resize":{"flavorRef":"s6.large.4"}}`, novaAction{Name: novaResize, FlavorID: "s6.large.4"}},
		{`{"resize":{"flavorRef":42}}`, novaAction{Name: novaResize, FlavorID: "42"}},
		{`{"confirmResize":null}`, novaAction{Name: novaConfirm}},
		{`{"revertResize":{}}`, novaAction{Name: novaRevert}},
	} {
		got, err := decodeNovaAction([]byte(tc.body))
		if err != nil || *got != tc.want {
			t.Errorf("decodeNovaAction(%s) = %+v, %v; want %+v", tc.body, got, err, tc.want)
		}
		if op := novaActionOperation([]byte(tc.body)); op != novaActionOps[tc.want.Name] {
			t.Errorf("operation of %s = %q", tc.body, op)
		}
	}
}
