package control_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/control"
)

// fakeHistory serves one server with one resize.
type fakeHistory struct{}

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

func (fakeHistory) ServerActions(_ context.Context, _, serverID string) ([]*ecs.Action, error) {
	if serverID != "s-1" {
		return nil, nil
	}
	return []*ecs.Action{{ProjectID: "p", ServerID: "s-1", Action: "resize", RequestID: "req-1", JobID: "j-1",
		StartTime: t0, FinishTime: t0.Add(time.Second), Result: ecs.JobSuccess}}, nil
}

func (fakeHistory) JobPhases(_ context.Context, _, jobID string) (*ecs.Job, map[string][]*ecs.PhaseEvent, error) {
	if jobID != "j-1" {
		return nil, nil, &ecs.Error{Code: ecs.CodeBadRequest, Message: "Job[" + jobID + "] could not be found.", Status: 404}
	}
	return &ecs.Job{ID: "j-1", Type: ecs.JobResizeServer, Status: ecs.JobSuccess, ServerID: "s-1", BeginTime: t0, EndTime: t0.Add(time.Second)},
		map[string][]*ecs.PhaseEvent{"j-1": {
			{JobID: "j-1", Phase: ecs.TaskResizePrep, StartTime: t0, EndTime: t0.Add(time.Millisecond)},
			{JobID: "j-1", Phase: ecs.TaskResizeMigrating, StartTime: t0.Add(time.Millisecond)},
		}}, nil
}

func newServer(token string) (*control.Server, *clock.Virtual) {
	c := clock.New(nil)
	return &control.Server{Token: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: c, History: fakeHistory{}}, c
}

func do(t *testing.T, h http.Handler, method, path, remote, auth, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, "http://ecsd.test"+path, strings.NewReader(body))
	r.RemoteAddr = remote
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var v map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &v)
	return w, v
}

func TestAccessRule(t *testing.T) {
	t.Parallel()
	open, _ := newServer("")
	locked, _ := newServer("s3cret")
	tests := []struct {
		name   string
		srv    *control.Server
		remote string
		auth   string
		want   int
	}{
		{"loopback v4", open, "127.0.0.1:5000", "", 200},
		{"loopback v6", open, "[::1]:5000", "", 200},
		{"remote without token", open, "192.0.2.7:5000", "", 403},
		{"tenant signature is not enough", open, "192.0.2.7:5000", "SDK-HMAC-SHA256 Access=ECSDDEVACCESSKEY0001, SignedHeaders=x-sdk-date, Signature=00", 403},
		{"token from anywhere", locked, "192.0.2.7:5000", "Bearer s3cret", 200},
		{"token set: loopback needs it too", locked, "127.0.0.1:5000", "", 403},
		{"wrong token", locked, "127.0.0.1:5000", "Bearer nope", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, v := do(t, tc.srv.Handler(), "GET", "/_ecsd/health", tc.remote, tc.auth, "")
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %v", w.Code, tc.want, v)
			}
		})
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	s, c := newServer("")
	h := s.Handler()
	before := c.Now()
	w, v := do(t, h, "POST", "/_ecsd/clock", "127.0.0.1:1", "", `{"advance":"2h","speed":1000,"paused":true}`)
	if w.Code != 200 || v["speed"].(float64) != 1000 || v["paused"] != true {
		t.Fatalf("POST clock: %d %v", w.Code, v)
	}
	if got := c.Now().Sub(before); got < 2*time.Hour {
		t.Fatalf("clock advanced by %v, want 2h", got)
	}
	now := c.Now()
	w, v = do(t, h, "GET", "/_ecsd/clock", "127.0.0.1:1", "", "")
	if got, _ := time.Parse(time.RFC3339Nano, v["now"].(string)); w.Code != 200 || !got.Equal(now) {
		t.Fatalf("GET clock while paused: %d %v, want now %v", w.Code, v, now)
	}
	for _, body := range []string{`{"speed":0}`, `{"advance":"-1s"}`, `{"advance":5}`, `{"set":"2000-01-01T00:00:00Z"}`, `{"sped":2}`, `{`} {
		if w, v := do(t, h, "POST", "/_ecsd/clock", "127.0.0.1:1", "", body); w.Code != 400 {
			t.Errorf("POST clock %s: %d %v, want 400", body, w.Code, v)
		}
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	s, _ := newServer("")
	h := s.Handler()
	w, v := do(t, h, "GET", "/_ecsd/servers/s-1/history", "127.0.0.1:1", "", "")
	if w.Code != 200 {
		t.Fatalf("server history: %d %v", w.Code, v)
	}
	acts := v["actions"].([]any)
	a := acts[0].(map[string]any)
	if a["action"] != "resize" || a["request_id"] != "req-1" || a["job_id"] != "j-1" || len(a["phases"].([]any)) != 2 {
		t.Fatalf("action %v", a)
	}
	if w, _ := do(t, h, "GET", "/_ecsd/servers/s-2/history", "127.0.0.1:1", "", ""); w.Code != 404 {
		t.Errorf("unknown server history: %d, want 404", w.Code)
	}
	w, v = do(t, h, "GET", "/_ecsd/jobs/j-1/history", "127.0.0.1:1", "", "")
	phases := v["phases"].([]any)
	if w.Code != 200 || len(phases) != 2 || phases[1].(map[string]any)["end_time"] != nil {
		t.Fatalf("job history: %d %v", w.Code, v)
	}
	if w, _ := do(t, h, "GET", "/_ecsd/jobs/j-9/history", "127.0.0.1:1", "", ""); w.Code != 404 {
		t.Errorf("unknown job history: %d, want 404", w.Code)
	}
	if w, _ := do(t, h, "GET", "/_ecsd/nothing", "127.0.0.1:1", "", ""); w.Code != 404 {
		t.Errorf("unknown route: %d, want 404", w.Code)
	}
}
