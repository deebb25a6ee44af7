package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/console"
	"github.com/ecsd-dev/ecsd/ecsdtest"
)

type testBundle struct {
	env    *ecsdtest.Env
	base   string // e.g. http://127.0.0.1:41237/console
	client *http.Client
}

func setup(t *testing.T, opts ...ecsdtest.Option) *testBundle {
	t.Helper()
	env := ecsdtest.New(t, opts...)
	return &testBundle{env: env, base: env.URL + "/console", client: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a console request as the console's scripts do and returns the
// status, the body and the response.
func (b *testBundle) do(t *testing.T, method, path string, body any, hdr ...string) (int, string, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		s, ok := body.(string)
		if !ok {
			raw, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			s = string(raw)
		}
		rd = strings.NewReader(s)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(console.HeaderName, "1")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw), res
}

func errorCode(t *testing.T, body string) (code, msg string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not a JSON error: %v: %s", err, body)
	}
	return e.Error.Code, e.Error.Message
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	jobs := map[string]string{
		"/servers":               "web-1",
		"/servers?status=ACTIVE": "web-1",
		"/servers?project=" + b.env.Tenant.ProjectID: "web-1",
		"/servers/" + id:          "Timeline",
		"/jobs":                   "createServer",
		"/flavors":                "s6.small.1",
		"/flavors?az=cn-north-4a": "Resize compatibility",
		"/clock":                  "Virtual time",
		"/faults":                 "Add a rule",
		"/login":                  "no admin token",
	}
	for path, want := range jobs {
		status, body, res := b.do(t, "GET", path, nil)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d: %s", path, status, body)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if !strings.Contains(body, want) {
			t.Errorf("GET %s: no %q in the page", path, want)
		}
	}
	// A filter that matches nothing says so.
	if _, body, _ := b.do(t, "GET", "/servers?status=ERROR", nil); !strings.Contains(body, "No servers match these filters") || strings.Contains(body, ">web-1<") {
		t.Errorf("status filter not applied")
	}
	if status, _, res := b.do(t, "GET", "/", nil); status != http.StatusSeeOther || res.Header.Get("Location") != "/console/servers" {
		t.Errorf("GET /console/: %d to %q", status, res.Header.Get("Location"))
	}
	for _, f := range []string{"/static/console.css", "/static/console.js"} {
		if status, _, _ := b.do(t, "GET", f, nil); status != http.StatusOK {
			t.Errorf("GET %s: %d", f, status)
		}
	}
}

func TestBadInputIsAClearError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	pid := b.env.Tenant.ProjectID
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"create: not JSON", "POST", "/api/servers", "{", 400, "Ecsd.BadRequest", "Invalid JSON"},
		{"create: unknown field", "POST", "/api/servers", `{"nope":1}`, 400, "Ecsd.BadRequest", "unknown field"},
		{"create: no name", "POST", "/api/servers", map[string]any{"project_id": pid, "flavor_id": "s6.small.1", "image_id": ecsdtest.ImageUbuntu}, 400, "Ecsd.BadRequest", "name"},
		{"create: count", "POST", "/api/servers", map[string]any{"project_id": pid, "name": "x", "flavor_id": "s6.small.1", "image_id": ecsdtest.ImageUbuntu, "count": 500}, 400, "Ecsd.BadRequest", "Count"},
		{"create: unknown project", "POST", "/api/servers", map[string]any{"project_id": "nope", "name": "x", "flavor_id": "s6.small.1", "image_id": ecsdtest.ImageUbuntu}, 400, "Ecsd.BadRequest", "does not exist"},
		{"create: unknown flavor", "POST", "/api/servers", map[string]any{"project_id": pid, "name": "x", "flavor_id": "s99.huge", "image_id": ecsdtest.ImageUbuntu}, 400, ecs.CodeFlavorNotFound, "s99.huge"},
		{"action: unknown", "POST", "/api/servers/" + id + "/action", map[string]any{"action": "explode"}, 400, "Ecsd.BadRequest", "Unknown action"},
		{"action: unknown server", "POST", "/api/servers/nope/action", map[string]any{"action": "stop"}, 404, ecs.CodeServerNotFound, "nope"},
		{"action: start running (no-op)", "POST", "/api/servers/" + id + "/action", map[string]any{"action": "start"}, 202, "", ""},
		{"resize: no flavor", "POST", "/api/servers/" + id + "/resize", map[string]any{"dry_run": true}, 400, "Ecsd.BadRequest", "Choose the flavor"},
		{"resize: running without stop", "POST", "/api/servers/" + id + "/resize", map[string]any{"flavor_id": "s6.medium.2", "dry_run": true}, 400, ecs.CodeStateConflict, "ACTIVE"},
		{"resize: arm target", "POST", "/api/servers/" + id + "/resize", map[string]any{"flavor_id": "kc1.large.2", "with_stop": true, "dry_run": true}, 400, ecs.CodeBadRequest, "Arm"},
		{"resize options: unknown server", "GET", "/api/servers/nope/resize", nil, 404, ecs.CodeServerNotFound, ""},
		{"job: unknown", "GET", "/api/jobs/nope", nil, 404, "", "could not be found"},
		{"clock: bad duration", "POST", "/api/clock", map[string]any{"advance": "banana"}, 400, "Ecsd.BadRequest", "positive duration"},
		{"clock: bad speed", "POST", "/api/clock", map[string]any{"speed": -3}, 400, "Ecsd.BadRequest", "Speed"},
		{"fault: invalid", "POST", "/api/faults", map[string]any{"action": map[string]any{"type": "meteor"}}, 400, "Ecsd.BadRequest", ""},
		{"fault: delete unknown", "DELETE", "/api/faults/nope", nil, 404, "Ecsd.NotFound", "nope"},
		{"unknown route", "GET", "/api/nothing", nil, 404, "Ecsd.NotFound", ""},
	}
	for _, tc := range cases {
		status, body, _ := b.do(t, tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, body)
			continue
		}
		if tc.code == "" && tc.msg == "" {
			continue
		}
		code, msg := errorCode(t, body)
		if (tc.code != "" && code != tc.code) || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: got %s %q, want %s containing %q", tc.name, code, msg, tc.code, tc.msg)
		}
	}
	// Pages answer bad input with an HTML error page, not a 5xx.
	for path, want := range map[string]int{"/servers/nope": 404, "/jobs/nope": 404, "/flavors?az=mars-1a": 400} {
		status, body, _ := b.do(t, "GET", path, nil)
		if status != want || !strings.Contains(body, "<h1>") {
			t.Errorf("GET %s: %d, want %d with an error page", path, status, want)
		}
	}
}

func TestAccessRefusedToNonLoopbackWithoutToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := b.env.Node.HTTP.Handler()
	for _, path := range []string{"/console/servers", "/console/api/jobs/x", "/console/events"} {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = "192.0.2.10:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "loopback") {
			t.Errorf("GET %s from 192.0.2.10: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	// The same request from loopback is served.
	req := httptest.NewRequest("GET", "/console/servers", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("loopback: %d", rec.Code)
	}
}

func TestAdminTokenLogin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := b.env.Node
	c := &console.Console{Services: n.Service, Store: n.DB, Catalog: n.Catalog, Faults: n.Faults, Clock: n.VClock, Token: "s3cret-token"}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(c.Close)
	b.base = srv.URL + "/console"

	// Without the token, even loopback is turned away: pages to the login
	// form, scripts with 403.
	status, _, res := b.do(t, "GET", "/servers?status=ACTIVE", nil)
	if status != http.StatusSeeOther || res.Header.Get("Location") != "/console/login?next=%2Fconsole%2Fservers%3Fstatus%3DACTIVE" {
		t.Fatalf("no token: %d to %q", status, res.Header.Get("Location"))
	}
	if status, body, _ := b.do(t, "GET", "/api/jobs/x", nil); status != http.StatusForbidden {
		t.Fatalf("no token, API: %d %s", status, body)
	}
	// A bearer token works as for the control API.
	if status, body, _ := b.do(t, "GET", "/servers", nil, "Authorization", "Bearer s3cret-token"); status != http.StatusOK {
		t.Fatalf("bearer: %d %s", status, body)
	}
	if status, _, _ := b.do(t, "GET", "/servers", nil, "Authorization", "Bearer wrong"); status == http.StatusOK {
		t.Fatal("wrong bearer token served")
	}

	login := func(token string) *http.Response {
		form := url.Values{"token": {token}, "next": {"/console/jobs"}}
		res, err := b.client.PostForm(b.base+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := login("wrong"); res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Fatalf("wrong token: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	res = login("s3cret-token")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/jobs" {
		t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == console.CookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, "s3cret-token") {
		t.Fatalf("session cookie %+v", ck)
	}
	if status, body, _ := b.do(t, "GET", "/servers", nil, "Cookie", ck.Name+"="+ck.Value); status != http.StatusOK {
		t.Fatalf("with cookie: %d %s", status, body)
	}
	forged := ck.Value[:len(ck.Value)-1] + "0"
	if forged == ck.Value {
		forged = ck.Value[:len(ck.Value)-1] + "1"
	}
	if status, _, _ := b.do(t, "GET", "/api/jobs/x", nil, "Cookie", ck.Name+"="+forged); status != http.StatusForbidden {
		t.Fatalf("forged cookie: %d", status)
	}
	// The login form never redirects out of the console.
	form := url.Values{"token": {"s3cret-token"}, "next": {"//evil.example/"}}
	res, err := b.client.PostForm(b.base+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Location") != "/console/servers" {
		t.Fatalf("open redirect to %q", res.Header.Get("Location"))
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	path := "/api/servers/" + id + "/action"
	stop := map[string]any{"action": "stop"}
	for name, hdr := range map[string][]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"foreign Origin":            {"Origin", "http://evil.example"},
		"no console header":         {console.HeaderName, ""},
	} {
		status, body, _ := b.do(t, "POST", path, stop, hdr...)
		code, _ := errorCode(t, body)
		if status != http.StatusForbidden || code != "Ecsd.CrossOrigin" {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	// A cross-site login form post is refused too.
	req, _ := http.NewRequest("POST", b.base+"/login", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login: %d", res.StatusCode)
	}
	srv, err := b.env.Node.Service.FindServerByID(context.Background(), "", id)
	if err != nil || srv.Status() != ecs.StatusActive || srv.TaskState != "" {
		t.Fatalf("the refused requests changed the server: %v %+v", err, srv)
	}
	// The same request from the console's own page is accepted.
	if status, body, _ := b.do(t, "POST", path, stop, "Sec-Fetch-Site", "same-origin"); status != http.StatusAccepted {
		t.Fatalf("same-origin: %d %s", status, body)
	}
}

// TestActionsRecordHistory checks that an action taken in the console shows
// in the server's history under the request ID the console answered with.
func TestActionsRecordHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	status, body, res := b.do(t, "POST", "/api/servers/"+id+"/action", map[string]any{"action": "stop"})
	if status != http.StatusAccepted {
		t.Fatalf("stop: %d %s", status, body)
	}
	reqID := res.Header.Get("X-Request-Id")
	var accepted struct {
		JobID string `json:"job_id"`
	}
	if err := json.Unmarshal([]byte(body), &accepted); err != nil || accepted.JobID == "" || reqID == "" {
		t.Fatalf("stop answer %s, request id %q", body, reqID)
	}
	actions, err := b.env.Node.Service.ServerActions(context.Background(), b.env.Tenant.ProjectID, id)
	if err != nil {
		t.Fatal(err)
	}
	last := actions[len(actions)-1]
	if last.Action != "stop" || last.RequestID != reqID {
		t.Fatalf("last action %+v, want stop with request %s", last, reqID)
	}
	// The server page's timeline shows it.
	b.env.MustSucceed(t, accepted.JobID)
	if _, page, _ := b.do(t, "GET", "/servers/"+id, nil); !strings.Contains(page, reqID) {
		t.Errorf("the timeline does not show request %s", reqID)
	}
}

func TestResizeOptionsAndDryRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	status, body, _ := b.do(t, "GET", "/api/servers/"+id+"/resize", nil)
	if status != http.StatusOK {
		t.Fatalf("options: %d %s", status, body)
	}
	var opts struct {
		NeedsStop bool `json:"needs_stop"`
		Allowed   []struct {
			ID string `json:"id"`
		} `json:"allowed"`
		Refused []struct {
			ID, Code, Reason string
		} `json:"refused"`
	}
	if err := json.Unmarshal([]byte(body), &opts); err != nil {
		t.Fatal(err)
	}
	if !opts.NeedsStop {
		t.Error("an ACTIVE server needs a stop")
	}
	allowed := map[string]bool{}
	for _, f := range opts.Allowed {
		allowed[f.ID] = true
	}
	if !allowed["s6.medium.2"] || allowed["s6.small.1"] || allowed["kc1.large.2"] {
		t.Errorf("allowed: %v", allowed)
	}
	var arm string
	for _, r := range opts.Refused {
		if allowed[r.ID] {
			t.Errorf("%s both allowed and refused", r.ID)
		}
		if r.ID == "kc1.large.2" {
			arm = r.Reason
		}
		if r.Reason == "" || r.Code == "" {
			t.Errorf("refused %s without a reason", r.ID)
		}
	}
	if arm != "x86 and Arm flavors cannot be exchanged" {
		t.Errorf("kc1.large.2 refused because %q", arm)
	}
	status, body, _ = b.do(t, "POST", "/api/servers/"+id+"/resize", map[string]any{"flavor_id": "s6.medium.2", "with_stop": true, "dry_run": true})
	if status != http.StatusOK || !strings.Contains(body, "Dry run passed") {
		t.Fatalf("dry run: %d %s", status, body)
	}
	srv, _ := b.env.Node.Service.FindServerByID(context.Background(), "", id)
	if srv.FlavorID != "s6.small.1" || srv.TaskState != "" {
		t.Fatalf("the dry run changed the server: %+v", srv)
	}
}

// TestEventsSeeChangesInTheStore checks that the live stream reports a
// change written to the database behind the console's back (as another
// ecsd process on the same database would), and only changes.
func TestEventsSeeChangesInTheStore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan [2]string, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		var kind string
		for sc.Scan() {
			line := sc.Text()
			if k, ok := strings.CutPrefix(line, "event: "); ok {
				kind = k
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				events <- [2]string{kind, d}
			}
		}
	}()
	next := func() [2]string {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("stream ended")
			}
			return ev
		case <-ctx.Done():
			t.Fatal("no event in time")
		}
		return [2]string{}
	}
	if ev := next(); ev[0] != "hello" {
		t.Fatalf("first event %v", ev)
	}
	// hello comes once the poller holds the state every later change is
	// compared with.
	if _, err := b.env.Node.DB.SQL().ExecContext(ctx, b.env.Node.DB.Rebind(`UPDATE servers SET name = 'renamed-behind-its-back' WHERE id = ?`), id); err != nil {
		t.Fatal(err)
	}
	for {
		ev := next()
		if ev[0] != "server" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(ev[1]), &d); err != nil {
			t.Fatal(err)
		}
		if d["id"] != id {
			t.Fatalf("event about another server: %v", d)
		}
		if d["name"] == "renamed-behind-its-back" {
			break
		}
	}
	// Shutting the node down ends the stream instead of waiting for it.
	if err := b.env.Node.Close(); err != nil {
		t.Fatalf("close with a stream open: %v", err)
	}
	for range events {
	}
}

// TestFaultsAndClock adds every example rule of the fault page, sees it
// listed, deletes it, and drives the clock.
func TestFaultsAndClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, page, _ := b.do(t, "GET", "/faults", nil)
	var examples []string
	for _, part := range strings.Split(page, "data-example='")[1:] {
		raw, _, _ := strings.Cut(part, "'")
		examples = append(examples, html.UnescapeString(raw))
	}
	if len(examples) < 3 {
		t.Fatalf("%d examples on the fault page", len(examples))
	}
	for _, ex := range examples {
		status, body, _ := b.do(t, "POST", "/api/faults", ex)
		if status != http.StatusCreated {
			t.Fatalf("example %s: %d %s", ex, status, body)
		}
		var rule struct{ ID string }
		if err := json.Unmarshal([]byte(body), &rule); err != nil || rule.ID == "" {
			t.Fatalf("added rule %s", body)
		}
		if _, list, _ := b.do(t, "GET", "/faults", nil); !strings.Contains(list, `id="rule-`+rule.ID+`"`) {
			t.Fatalf("rule %s not listed", rule.ID)
		}
		if status, body, _ := b.do(t, "DELETE", "/api/faults/"+rule.ID, nil); status != http.StatusNoContent {
			t.Fatalf("delete %s: %d %s", rule.ID, status, body)
		}
	}

	before := b.env.Node.VClock.Now()
	status, body, _ := b.do(t, "POST", "/api/clock", map[string]any{"paused": true, "advance": "1h", "speed": 50})
	if status != http.StatusOK {
		t.Fatalf("clock: %d %s", status, body)
	}
	st := b.env.Node.VClock.State()
	if !st.Paused || st.Speed != 50 || b.env.Node.VClock.Now().Sub(before) < time.Hour {
		t.Fatalf("clock after the change: %+v", st)
	}
	if _, page, _ := b.do(t, "GET", "/clock", nil); !strings.Contains(page, "paused") || !strings.Contains(page, "50×") {
		t.Errorf("the clock page does not show the change")
	}
	if status, body, _ := b.do(t, "POST", "/api/clock", map[string]any{"paused": false}); status != http.StatusOK || b.env.Node.VClock.State().Paused {
		t.Fatalf("resume: %d %s", status, body)
	}
}

// TestFailedJobShowsWhy makes a resize fail with a fault rule and finds the
// failure code and reason on the jobs page, the job page and the timeline.
func TestFailedJobShowsWhy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.env.CreateServer(t, "web-1", "s6.small.1")
	rule := `{"match":{"phase":"resize_migrating"},"count":1,"action":{"type":"fail_job","error_code":"Ecs.0207","fail_reason":"host lost during migration"}}`
	if status, body, _ := b.do(t, "POST", "/api/faults", rule); status != http.StatusCreated {
		t.Fatalf("add rule: %d %s", status, body)
	}
	status, body, _ := b.do(t, "POST", "/api/servers/"+id+"/resize", map[string]any{"flavor_id": "s6.medium.2", "with_stop": true})
	if status != http.StatusAccepted {
		t.Fatalf("resize: %d %s", status, body)
	}
	var accepted struct {
		JobID string `json:"job_id"`
	}
	_ = json.Unmarshal([]byte(body), &accepted)
	if job := b.env.WaitJob(t, accepted.JobID); job.Status.Value() != "FAIL" {
		t.Fatalf("job %s", job.Status.Value())
	}
	for _, path := range []string{"/jobs", "/jobs/" + accepted.JobID, "/servers/" + id} {
		_, page, _ := b.do(t, "GET", path, nil)
		if !strings.Contains(page, "Ecs.0207") || !strings.Contains(page, "host lost during migration") {
			t.Errorf("%s does not show the failure", path)
		}
	}
	_, body, _ = b.do(t, "GET", "/api/jobs/"+accepted.JobID, nil)
	var job struct {
		Status   string
		Progress []struct{ Phase, State string }
	}
	_ = json.Unmarshal([]byte(body), &job)
	failed := ""
	for _, p := range job.Progress {
		if p.State == "failed" {
			failed = p.Phase
		}
	}
	if job.Status != "FAIL" || failed != "resize_migrating" {
		t.Errorf("job %s, failed step %q: %s", job.Status, failed, body)
	}
}

// The jobs page lists the newest jobs, filtered by project and status, also
// those of servers deleted since (named by ID then).
func TestJobsPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keep := b.env.CreateServer(t, "keep-1", "s6.small.1")
	gone := b.env.CreateServer(t, "gone-1", "s6.small.1")
	b.env.StopServer(t, keep)
	del, err := b.env.ECS.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
		Servers: []model.ServerId{{Id: gone}}}})
	if err != nil {
		t.Fatal(err)
	}
	b.env.MustSucceed(t, *del.JobId)
	pid := b.env.Tenant.ProjectID
	for _, tc := range []struct {
		path        string
		want, avoid []string
	}{
		{"/jobs", []string{"deleteServer", "stopServer", "createServer", "keep-1", *del.JobId}, nil},
		{"/jobs?project=" + pid + "&status=SUCCESS", []string{"deleteServer", "stopServer"}, nil},
		{"/jobs?status=FAIL", nil, []string{"deleteServer", "stopServer", "createServer"}},
		{"/jobs?project=ffffffffffffffffffffffffffffffff", nil, []string{"deleteServer"}},
	} {
		status, body, _ := b.do(t, "GET", tc.path, nil)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d: %s", tc.path, status, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: no %q in the page", tc.path, w)
			}
		}
		for _, a := range tc.avoid {
			if strings.Contains(body, a) {
				t.Errorf("GET %s: %q in the page, want it filtered out", tc.path, a)
			}
		}
	}
}
