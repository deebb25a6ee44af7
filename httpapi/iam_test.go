package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// iamClock is ecsd's virtual clock in the IAM tests: it stands still
// until set.
type iamClock struct {
	ecs.RealClock // Sleep
	mu            sync.Mutex
	t             time.Time
}

func (c *iamClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *iamClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var iamStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testDomainName = "ecsd-dev"
	iamUser        = "ecsd-dev"
	iamPassword    = "ecsdDevPassword0001"
)

// iamAPI is the full API handler over a real store, with the development
// tenant's password user and a virtual clock.
type iamAPI struct {
	*apiBundle
	clock *iamClock
}

func setupIAMAPI(t *testing.T) *iamAPI {
	t.Helper()
	ctx := t.Context()
	db := storetest.NewDB(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := &iamClock{t: iamStart}
	svc := &compute.Service{Store: db, Queue: nopQueue{}, Catalog: catalog.Default(), Clock: clock, Logger: logger,
		Accounts: []ecs.Account{{ProjectID: ecs.DevTenant.ProjectID, DomainName: testDomainName,
			Users: []ecs.User{{Name: iamUser, Password: iamPassword}}}}}
	if err := svc.EnsureTenant(ctx, ecs.DevTenant, ecs.DefaultQuota); err != nil {
		t.Fatal(err)
	}
	s := NewServer(Services{Servers: svc, Jobs: svc, Tenants: svc, Flavors: svc, Networks: svc, Images: svc,
		Resources: svc, Identity: svc}, logger)
	return &iamAPI{apiBundle: &apiBundle{handler: s.Handler(), svc: svc, db: db}, clock: clock}
}

// unsigned sends a request without a signature, with the given headers.
func (b *iamAPI) unsigned(t *testing.T, method, path, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "http://ecsd.test"+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	b.handler.ServeHTTP(w, r)
	if w.Header().Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	return w
}

// tokenRequest is a password token request body; scope is the JSON of
// auth.scope.
func tokenRequest(user, password, domain, scope string) string {
	return `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + user + `","password":"` +
		password + `","domain":{"name":"` + domain + `"}}}},"scope":` + scope + `}}`
}

var projectScope = `{"project":{"name":"` + ecs.DevTenant.ProjectName + `"}}`

// mustToken issues a token for the development user and returns its value.
func (b *iamAPI) mustToken(t *testing.T) string {
	t.Helper()
	w := b.unsigned(t, "POST", "/v3/auth/tokens?nocatalog=true", tokenRequest(iamUser, iamPassword, testDomainName, projectScope), nil)
	if w.Code != http.StatusCreated || w.Header().Get("X-Subject-Token") == "" {
		t.Fatalf("POST /v3/auth/tokens: %d %s", w.Code, w.Body)
	}
	return w.Header().Get("X-Subject-Token")
}

// tokenResponse is what the SDK reads of a token response.
type tokenResponse struct {
	Token struct {
		ExpiresAt string   `json:"expires_at"`
		IssuedAt  string   `json:"issued_at"`
		Methods   []string `json:"methods"`
		Project   *struct {
			ID, Name string
			Domain   struct{ ID, Name string }
		} `json:"project"`
		Domain *struct{ ID, Name string } `json:"domain"`
		User   struct {
			ID, Name string
			Domain   struct{ ID, Name string }
		} `json:"user"`
		Catalog *[]struct {
			Type, ID, Name string
			Endpoints      []struct {
				URL, Region, Interface string
			}
		} `json:"catalog"`
		Roles []struct{ ID, Name string } `json:"roles"`
	} `json:"token"`
}

func TestCreateToken(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	domainScope := `{"domain":{"id":"` + ecs.DevTenant.DomainID + `"}}`
	cases := []struct {
		name        string
		query       string
		scope       string
		wantCatalog int
		domain      bool
	}{
		{"project scope with catalogue", "", projectScope, len(catalogServices), false},
		{"project scope by id, nocatalog", "?nocatalog=true", `{"project":{"id":"` + pid + `"}}`, 0, false},
		{"nocatalog=false keeps the catalogue", "?nocatalog=false", projectScope, len(catalogServices), false},
		{"domain scope", "?nocatalog=true", domainScope, 0, true},
		{"domain scope by name", "", `{"domain":{"name":"` + testDomainName + `"}}`, len(catalogServices), true},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := b.unsigned(t, "POST", "/v3/auth/tokens"+tc.query, tokenRequest(iamUser, iamPassword, testDomainName, tc.scope), nil)
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", w.Code, w.Body)
			}
			value := w.Header().Get("X-Subject-Token")
			if !strings.HasPrefix(value, "MII") || seen[value] || strings.Contains(w.Body.String(), value) {
				t.Errorf("X-Subject-Token %q: want a fresh MII… value that is not in the body", value)
			}
			seen[value] = true
			var got tokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body: %v: %s", err, w.Body)
			}
			tok := got.Token
			issued, err1 := time.Parse(time.RFC3339, tok.IssuedAt)
			expires, err2 := time.Parse(time.RFC3339, tok.ExpiresAt)
			if err1 != nil || err2 != nil || !issued.Equal(iamStart) || expires.Sub(issued) != 24*time.Hour ||
				tok.IssuedAt != "2025-03-01T12:00:00.000000Z" {
				t.Errorf("issued_at %q expires_at %q, want %v on the virtual clock and 24 h later, with microseconds",
					tok.IssuedAt, tok.ExpiresAt, iamStart)
			}
			if len(tok.Methods) != 1 || tok.Methods[0] != "password" {
				t.Errorf("methods %v", tok.Methods)
			}
			if tok.User.Name != iamUser || len(tok.User.ID) != 32 || tok.User.Domain.Name != testDomainName ||
				tok.User.Domain.ID != ecs.DevTenant.DomainID {
				t.Errorf("user %+v", tok.User)
			}
			if len(tok.Roles) == 0 {
				t.Error("no roles")
			}
			if tc.domain {
				if tok.Project != nil || tok.Domain == nil || tok.Domain.ID != ecs.DevTenant.DomainID || tok.Domain.Name != testDomainName {
					t.Errorf("domain-scoped token: project %+v domain %+v", tok.Project, tok.Domain)
				}
			} else if tok.Domain != nil || tok.Project == nil || tok.Project.ID != pid ||
				tok.Project.Name != ecs.DevTenant.ProjectName || tok.Project.Domain.ID != ecs.DevTenant.DomainID {
				t.Errorf("project-scoped token: project %+v domain %+v", tok.Project, tok.Domain)
			}
			if tok.Catalog == nil {
				t.Fatal("catalog is absent, want a list (empty with nocatalog)")
			}
			if len(*tok.Catalog) != tc.wantCatalog {
				t.Fatalf("catalog has %d services, want %d", len(*tok.Catalog), tc.wantCatalog)
			}
			for _, svc := range *tok.Catalog {
				if len(svc.Endpoints) != 1 || !strings.HasPrefix(svc.Endpoints[0].URL, "http://ecsd.test") ||
					svc.Endpoints[0].Region != ecs.DevTenant.ProjectName || svc.Endpoints[0].Interface != "public" {
					t.Errorf("catalog entry %+v does not point at ecsd", svc)
				}
				if svc.Type == "identity" && svc.Endpoints[0].URL != "http://ecsd.test/v3" {
					t.Errorf("identity endpoint %q, want http://ecsd.test/v3", svc.Endpoints[0].URL)
				}
			}
		})
	}
}

// iamErrorOf decodes Keystone's error envelope.
func iamErrorOf(t *testing.T, w *httptest.ResponseRecorder) iamErrorDetail {
	t.Helper()
	var env iamError
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("error body is not JSON: %s", w.Body)
	}
	return env.Error
}

func TestCreateTokenErrors(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	good := func(scope string) string { return tokenRequest(iamUser, iamPassword, testDomainName, scope) }
	cases := []struct {
		name, body string
		status     int
	}{
		{"wrong password", tokenRequest(iamUser, "wrong-password", testDomainName, projectScope), 401},
		{"unknown user", tokenRequest("nobody", iamPassword, testDomainName, projectScope), 401},
		{"unknown domain", tokenRequest(iamUser, iamPassword, "other", projectScope), 401},
		{"foreign project", good(`{"project":{"id":"0123456789abcdef0123456789abcdef"}}`), 401},
		{"foreign domain", good(`{"domain":{"id":"0123456789abcdef0123456789abcdef"}}`), 401},
		{"empty body", "", 400},
		{"not JSON", "{auth", 400},
		{"trailing data", good(projectScope) + "{}", 400},
		{"no auth", `{}`, 400},
		{"no identity", `{"auth":{"scope":` + projectScope + `}}`, 400},
		{"token method", strings.Replace(good(projectScope), `["password"]`, `["token"]`, 1), 400},
		{"two methods", strings.Replace(good(projectScope), `["password"]`, `["password","token"]`, 1), 400},
		{"no user name", tokenRequest("", iamPassword, testDomainName, projectScope), 400},
		{"no password", tokenRequest(iamUser, "", testDomainName, projectScope), 400},
		{"no user domain", tokenRequest(iamUser, iamPassword, "", projectScope), 400},
		{"no scope", strings.Replace(good(projectScope), `,"scope":`+projectScope, "", 1), 400},
		{"both scopes", good(`{"project":{"name":"cn-north-4"},"domain":{"name":"ecsd-dev"}}`), 400},
		{"empty project scope", good(`{"project":{}}`), 400},
		{"empty domain scope", good(`{"domain":{"id":""}}`), 400},
		{"wrong JSON type", `{"auth":{"identity":{"methods":"password"}}}`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := b.unsigned(t, "POST", "/v3/auth/tokens", tc.body, nil)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if v := w.Header().Get("X-Subject-Token"); v != "" {
				t.Errorf("a refused request got X-Subject-Token %q", v)
			}
			e := iamErrorOf(t, w)
			if e.Code != tc.status || e.Title != http.StatusText(tc.status) || e.Message == "" {
				t.Errorf("error %+v, want Keystone's {code:%d,title:%q,message}", e, tc.status, http.StatusText(tc.status))
			}
			if strings.Contains(w.Body.String(), iamPassword) {
				t.Errorf("the error echoes the password: %s", w.Body)
			}
		})
	}
}

// TestCreateTokenIsNotSigned: token issuance needs no signature, and a bad
// signature on it does not matter either.
func TestCreateTokenIsNotSigned(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	w := b.unsigned(t, "POST", "/v3/auth/tokens", tokenRequest(iamUser, iamPassword, testDomainName, projectScope),
		map[string]string{"Authorization": "SDK-HMAC-SHA256 Access=NOPE, SignedHeaders=host, Signature=00"})
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", w.Code, w.Body)
	}
}

func TestListProjects(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	token := b.mustToken(t)
	cases := []struct {
		query string
		want  int
	}{
		{"", 1},
		{"?name=cn-north-4", 1},
		{"?name=ap-southeast-1", 0},
		{"?name=cn-north-4&domain_id=" + ecs.DevTenant.DomainID, 1},
		{"?name=cn-north-4&domain_id=0123456789abcdef0123456789abcdef", 0},
		{"?is_domain=true", 0},
		{"?enabled=false", 0},
	}
	for _, tc := range cases {
		for _, auth := range []string{"signature", "token"} {
			t.Run(auth+tc.query, func(t *testing.T) {
				t.Parallel()
				var w *httptest.ResponseRecorder
				if auth == "signature" {
					w = b.do(t, "GET", "/v3/projects"+tc.query, nil)
				} else {
					w = b.unsigned(t, "GET", "/v3/projects"+tc.query, "", map[string]string{"X-Auth-Token": token})
				}
				if w.Code != http.StatusOK {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				var got struct {
					Projects *[]struct {
						ID, Name string
						DomainID string `json:"domain_id"`
						ParentID string `json:"parent_id"`
						Enabled  bool
						IsDomain bool `json:"is_domain"`
						Links    struct{ Self string }
					} `json:"projects"`
					Links struct{ Self string } `json:"links"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got.Projects == nil || len(*got.Projects) != tc.want {
					t.Fatalf("projects %s, want %d (a list, never null)", w.Body, tc.want)
				}
				if got.Links.Self != "http://ecsd.test/v3/projects" {
					t.Errorf("links.self %q", got.Links.Self)
				}
				for _, p := range *got.Projects {
					if p.ID != pid || p.Name != ecs.DevTenant.ProjectName || p.DomainID != ecs.DevTenant.DomainID ||
						!p.Enabled || p.IsDomain || p.Links.Self != "http://ecsd.test/v3/projects/"+pid {
						t.Errorf("project %+v", p)
					}
				}
			})
		}
	}
}

func TestListAuthDomains(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	w := b.do(t, "GET", "/v3/auth/domains", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got struct {
		Domains []struct {
			ID, Name string
			Enabled  bool
			Links    struct{ Self string }
		} `json:"domains"`
		Links struct{ Self string } `json:"links"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Domains) != 1 {
		t.Fatalf("domains %s, want one", w.Body)
	}
	if d := got.Domains[0]; d.ID != ecs.DevTenant.DomainID || d.Name != testDomainName || !d.Enabled ||
		d.Links.Self != "http://ecsd.test/v3/domains/"+ecs.DevTenant.DomainID {
		t.Errorf("domain %+v, want the account %s", d, testDomainName)
	}
	if got.Links.Self != "http://ecsd.test/v3/auth/domains" {
		t.Errorf("links.self %q", got.Links.Self)
	}
	// Without a declared account name, the domain is named by its ID.
	plain := setupAPI(t)
	w = plain.do(t, "GET", "/v3/auth/domains", nil)
	if !strings.Contains(w.Body.String(), `"name":"`+ecs.DevTenant.DomainID+`"`) {
		t.Errorf("domains without an account name: %s", w.Body)
	}
}

// TestXAuthToken uses an IAM token instead of a signature on ECS routes.
func TestXAuthToken(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	token := b.mustToken(t)
	flavors := "/v1/" + pid + "/cloudservers/flavors"
	cases := []struct {
		name   string
		path   string
		header map[string]string
		status int
		code   string
	}{
		{"valid token", flavors, map[string]string{"X-Auth-Token": token}, 200, ""},
		{"valid token and matching X-Project-Id", flavors, map[string]string{"X-Auth-Token": token, "X-Project-Id": pid}, 200, ""},
		{"unknown token", flavors, map[string]string{"X-Auth-Token": "MIIecsdNotAToken"}, 401, "APIGW.0301"},
		{"empty token", flavors, map[string]string{"X-Auth-Token": ""}, 401, "APIGW.0301"},
		{"the password as a token", flavors, map[string]string{"X-Auth-Token": iamPassword}, 401, "APIGW.0301"},
		{"another project's path", "/v1/0123456789abcdef0123456789abcdef/cloudservers/flavors", map[string]string{"X-Auth-Token": token}, 400, "Ecs.0023"},
		{"no credentials", flavors, nil, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := b.unsigned(t, "GET", tc.path, "", tc.header)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.code == "" {
				return
			}
			var env struct {
				ErrorCode string `json:"error_code"`
				ErrorMsg  string `json:"error_msg"`
				Error     struct{ Code, Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatalf("body: %s", w.Body)
			}
			code := env.ErrorCode
			if code == "" {
				code = env.Error.Code
			}
			if code != tc.code {
				t.Errorf("code %q, want %s: %s", code, tc.code, w.Body)
			}
		})
	}
}

// TestXAuthTokenExpires moves the virtual clock past the token's 24 h.
func TestXAuthTokenExpires(t *testing.T) {
	t.Parallel()
	b := setupIAMAPI(t)
	token := b.mustToken(t)
	path := "/v1/" + pid + "/cloudservers/flavors"
	steps := []struct {
		at     time.Time
		status int
	}{
		{iamStart.Add(23 * time.Hour), 200},
		{iamStart.Add(24*time.Hour - time.Microsecond), 200},
		{iamStart.Add(24 * time.Hour), 401},
		{iamStart.Add(48 * time.Hour), 401},
	}
	for _, st := range steps {
		b.clock.set(st.at)
		w := b.unsigned(t, "GET", path, "", map[string]string{"X-Auth-Token": token})
		if w.Code != st.status {
			t.Fatalf("at %v: status %d, want %d: %s", st.at, w.Code, st.status, w.Body)
		}
		if st.status != 401 {
			continue
		}
		var env struct {
			ErrorCode string `json:"error_code"`
			ErrorMsg  string `json:"error_msg"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.ErrorCode != "APIGW.0301" ||
			!strings.Contains(env.ErrorMsg, "token expires") {
			t.Errorf("at %v: %s, want APIGW.0301 token expires", st.at, w.Body)
		}
	}
	// A signed request still works once the token has expired.
	if w := b.do(t, "GET", path, nil); w.Code != http.StatusOK {
		t.Errorf("signed request after expiry: %d %s", w.Code, w.Body)
	}
}
