package control_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecsd-dev/ecsd/control"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// faultCall sends a control request from loopback and returns the status
// and the body.
func faultCall(t *testing.T, h http.Handler, method, path, body string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, "http://ecsd.test"+path, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

func TestFaultRoutes(t *testing.T) {
	t.Parallel()
	e := &fault.Engine{Store: storetest.NewDB(t), Names: fault.Names{Operations: []string{"ShowServer", "ShowJob"}}}
	if err := e.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := &control.Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	control.RegisterFaults(s, e)
	h := s.Handler()

	list := func() []fault.Rule {
		t.Helper()
		status, body := faultCall(t, h, "GET", "/_ecsd/faults", "")
		var v struct{ Faults []fault.Rule }
		if err := json.Unmarshal(body, &v); status != 200 || err != nil || v.Faults == nil {
			t.Fatalf("GET /_ecsd/faults: HTTP %d %s (%v); want 200 with a faults list", status, body, err)
		}
		return v.Faults
	}
	if rules := list(); len(rules) != 0 {
		t.Fatalf("rules on a new store: %+v", rules)
	}

	status, body := faultCall(t, h, "POST", "/_ecsd/faults",
		`{"match":{"operation":"ShowServer"},"count":1,"action":{"type":"error","http_status":503,"code":"Ecs.0615","message":"down"}}`)
	var added fault.Rule
	if err := json.Unmarshal(body, &added); status != http.StatusCreated || err != nil || !strings.HasPrefix(added.ID, "f-") ||
		added.Probability != 1 || added.Action.HTTPStatus != 503 {
		t.Fatalf("POST: HTTP %d %s (%v); want 201 with the rule, its ID and probability 1", status, body, err)
	}
	if _, err := e.Request(t.Context(), fault.OpRequest{Operation: "ShowServer"}); err == nil {
		t.Error("the added rule did not fire")
	}
	if rules := list(); len(rules) != 1 || rules[0].ID != added.ID || rules[0].Fired != 1 {
		t.Errorf("GET after one firing: %+v; want the rule with fired 1", rules)
	}

	for _, tc := range []struct{ body, want string }{
		{`{"match":{"operation":"ShowServer"},"action":{"type":"explode"}}`, `unknown action type \"explode\"`},
		{`{"match":{"operation":"Nope"},"action":{"type":"error","code":"Ecs.0615"}}`, `unknown operation \"Nope\"`},
		{`{"probability":0,"match":{"operation":"ShowJob"},"action":{"type":"error","code":"Ecs.0615"}}`, "probability must be in (0, 1]"},
		{`{"match":{"operation":"ShowJob"},"action":{"type":"latency","delay":"forever"}}`, "Invalid JSON body"},
		{`{"match":{"operation":"ShowJob"},"action":{"type":"latency","delay":"1s"},"extra":1}`, `unknown field \"extra\"`},
		{`{"match":{"operation":"ShowJob"},"action":{"type":"latency","delay":"1h"}}`, "at most 5m0s"},
	} {
		status, body := faultCall(t, h, "POST", "/_ecsd/faults", tc.body)
		if status != http.StatusBadRequest || !strings.Contains(string(body), tc.want) || !strings.Contains(string(body), "Ecsd.BadRequest") {
			t.Errorf("POST %s: HTTP %d %s; want 400 Ecsd.BadRequest with %q", tc.body, status, body, tc.want)
		}
	}

	if status, body := faultCall(t, h, "DELETE", "/_ecsd/faults/f-00000000", ""); status != http.StatusNotFound ||
		!strings.Contains(string(body), "Ecsd.NotFound") {
		t.Errorf("DELETE unknown: HTTP %d %s, want 404 Ecsd.NotFound", status, body)
	}
	if status, body := faultCall(t, h, "DELETE", "/_ecsd/faults/"+added.ID, ""); status != http.StatusNoContent || len(body) != 0 {
		t.Errorf("DELETE: HTTP %d %s, want 204 and no body", status, body)
	}
	if rules := list(); len(rules) != 0 {
		t.Errorf("rules after DELETE: %+v", rules)
	}

	for range 2 {
		if status, _ := faultCall(t, h, "POST", "/_ecsd/faults", `{"match":{"operation":"*"},"action":{"type":"latency","delay":"1ms"}}`); status != 201 {
			t.Fatalf("POST: HTTP %d", status)
		}
	}
	if status, _ := faultCall(t, h, "DELETE", "/_ecsd/faults", ""); status != http.StatusNoContent {
		t.Errorf("DELETE all: HTTP %d, want 204", status)
	}
	if rules := list(); len(rules) != 0 {
		t.Errorf("rules after DELETE all: %+v", rules)
	}

	// The access rule applies: not from a remote address.
	r := httptest.NewRequest("GET", "http://ecsd.test/_ecsd/faults", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("remote GET: HTTP %d, want 403", w.Code)
	}
}
