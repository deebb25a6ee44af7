package compute_test

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// iamBundle is a bundle whose service has password users in two accounts
// and a clock that stands still at clockStart until moved.
type iamBundle struct {
	*testBundle
	clock   *fixedClock
	project string // the "acme" account's project
}

const (
	acmeDomain   = "acme"
	alicePass    = "alice-Passw0rd"
	bobPass      = "bob-Passw0rd"
	devAlicePass = "dev-alice-Passw0rd"
)

func setupIAM(t *testing.T) *iamBundle {
	t.Helper()
	b, c := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	b.svc.Accounts = []ecs.Account{
		{ProjectID: p, DomainName: acmeDomain, Users: []ecs.User{{Name: "alice", Password: alicePass}, {Name: "bob", Password: bobPass}}},
		// The same user name in another account, with another password.
		{ProjectID: ecs.DevTenant.ProjectID, DomainName: "ecsd-dev", Users: []ecs.User{{Name: "alice", Password: devAlicePass}}},
		// An account whose tenant does not exist.
		{ProjectID: "ffffffffffffffffffffffffffffffff", DomainName: "ghost", Users: []ecs.User{{Name: "casper", Password: "boo"}}},
	}
	return &iamBundle{testBundle: b, clock: c, project: p}
}

func (c *fixedClock) setTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// mustIssue issues a token for alice of acme scoped to her project.
func (b *iamBundle) mustIssue(t *testing.T) *ecs.Token {
	t.Helper()
	tok, _, err := b.svc.IssueToken(t.Context(), &ecs.TokenRequest{UserName: "alice", Password: alicePass,
		DomainName: acmeDomain, ProjectID: b.project})
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return tok
}

// requireTokenInvalid fails unless err is the gateway's 401 APIGW.0301
// whose message contains msg.
func requireTokenInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	var e *ecs.Error
	if !asErr(err, &e) || e.Code != ecs.CodeTokenInvalid || e.Status != http.StatusUnauthorized ||
		!strings.Contains(e.Message, msg) {
		t.Fatalf("error = %v, want 401 %s containing %q", err, ecs.CodeTokenInvalid, msg)
	}
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	b := setupIAM(t)
	acme := "domain-" + b.project // newProject's domain ID
	cases := []struct {
		name         string
		req          ecs.TokenRequest
		wantProject  string
		domainScoped bool
	}{
		{"project by id", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, ProjectID: b.project}, b.project, false},
		{"project by name", ecs.TokenRequest{UserName: "bob", Password: bobPass, DomainName: acmeDomain, ProjectName: "cn-north-4"}, b.project, false},
		{"project by id and name", ecs.TokenRequest{UserName: "bob", Password: bobPass, DomainName: acmeDomain, ProjectID: b.project, ProjectName: "cn-north-4"}, b.project, false},
		{"domain by id", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, DomainScope: true, DomainID: acme}, b.project, true},
		{"domain by name", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, DomainScope: true, ScopeDomain: acmeDomain}, b.project, true},
		{"same name, other account", ecs.TokenRequest{UserName: "alice", Password: devAlicePass, DomainName: "ecsd-dev", ProjectID: ecs.DevTenant.ProjectID}, ecs.DevTenant.ProjectID, false},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		tok, tenant, err := b.svc.IssueToken(t.Context(), &tc.req)
		if err != nil {
			t.Errorf("%s: IssueToken: %v", tc.name, err)
			continue
		}
		if tok.ProjectID != tc.wantProject || tenant.ProjectID != tc.wantProject || tok.UserName != tc.req.UserName ||
			tok.DomainScoped != tc.domainScoped {
			t.Errorf("%s: token %+v tenant %s, want project %s, user %s, domain scoped %v",
				tc.name, tok, tenant.ProjectID, tc.wantProject, tc.req.UserName, tc.domainScoped)
		}
		if !tok.Issued.Equal(clockStart) || !tok.Expires.Equal(clockStart.Add(24*time.Hour)) {
			t.Errorf("%s: issued %v expires %v, want %v and 24 h later on the service clock", tc.name, tok.Issued, tok.Expires, clockStart)
		}
		if !strings.HasPrefix(tok.ID, "MIIecsd") || len(tok.ID) < 64 || seen[tok.ID] ||
			strings.Contains(tok.ID, tc.req.Password) {
			t.Errorf("%s: token value %q is not a fresh opaque value", tc.name, tok.ID)
		}
		seen[tok.ID] = true
		got, gotTok, err := b.svc.FindTenantByToken(t.Context(), tok.ID)
		if err != nil || got.ProjectID != tc.wantProject || gotTok.UserName != tc.req.UserName || gotTok.DomainScoped != tc.domainScoped {
			t.Errorf("%s: FindTenantByToken = %+v, %+v, %v", tc.name, got, gotTok, err)
		}
	}
}

func TestIssueTokenRefused(t *testing.T) {
	t.Parallel()
	b := setupIAM(t)
	acme := "domain-" + b.project
	cases := []struct {
		name string
		req  ecs.TokenRequest
	}{
		{"wrong password", ecs.TokenRequest{UserName: "alice", Password: "nope", DomainName: acmeDomain, ProjectID: b.project}},
		{"another user's password", ecs.TokenRequest{UserName: "alice", Password: bobPass, DomainName: acmeDomain, ProjectID: b.project}},
		{"password of the same name in another account", ecs.TokenRequest{UserName: "alice", Password: devAlicePass, DomainName: acmeDomain, ProjectID: b.project}},
		{"password with a suffix", ecs.TokenRequest{UserName: "alice", Password: alicePass + "x", DomainName: acmeDomain, ProjectID: b.project}},
		{"empty password", ecs.TokenRequest{UserName: "alice", DomainName: acmeDomain, ProjectID: b.project}},
		{"unknown user", ecs.TokenRequest{UserName: "mallory", Password: alicePass, DomainName: acmeDomain, ProjectID: b.project}},
		{"unknown domain", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: "nope", ProjectID: b.project}},
		{"user names are case sensitive", ecs.TokenRequest{UserName: "Alice", Password: alicePass, DomainName: acmeDomain, ProjectID: b.project}},
		{"another account's project", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, ProjectID: ecs.DevTenant.ProjectID}},
		{"unknown project name", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, ProjectName: "ap-southeast-1"}},
		{"another domain by id", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, DomainScope: true, DomainID: ecs.DevTenant.DomainID}},
		{"another domain by name", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, DomainScope: true, ScopeDomain: "ecsd-dev"}},
		{"right domain id, wrong name", ecs.TokenRequest{UserName: "alice", Password: alicePass, DomainName: acmeDomain, DomainScope: true, DomainID: acme, ScopeDomain: "ecsd-dev"}},
		{"account without a tenant", ecs.TokenRequest{UserName: "casper", Password: "boo", DomainName: "ghost", DomainScope: true, ScopeDomain: "ghost"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, tenant, err := b.svc.IssueToken(t.Context(), &tc.req)
			var e *ecs.Error
			if !asErr(err, &e) || e.Code != ecs.CodeIAMUnauthorized || e.Status != http.StatusUnauthorized || e.Message == "" {
				t.Fatalf("IssueToken = %v, %v, %v; want 401 %s", tok, tenant, err, ecs.CodeIAMUnauthorized)
			}
			if tok != nil || tenant != nil {
				t.Errorf("a refused request returned token %v tenant %v", tok, tenant)
			}
		})
	}
	if n := rowCount(t, b.testBundle, `SELECT count(*) FROM tokens`); n != 0 {
		t.Errorf("%d tokens stored by refused requests, want 0", n)
	}
}

// TestIssueTokenWithoutAccounts: with no accounts declared nobody logs in.
func TestIssueTokenWithoutAccounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.svc.IssueToken(t.Context(), &ecs.TokenRequest{UserName: "", Password: "", DomainName: "", ProjectID: ecs.DevTenant.ProjectID})
	requireCode(t, err, ecs.CodeIAMUnauthorized)
	if got := b.svc.DomainName(ecs.DevTenant.ProjectID); got != "" {
		t.Errorf("DomainName without accounts = %q, want empty", got)
	}
}

// TestTokenLifetime moves the virtual clock across the 24 h boundary.
func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	b := setupIAM(t)
	tok := b.mustIssue(t)
	steps := []struct {
		name  string
		at    time.Time
		valid bool
	}{
		{"at issue", clockStart, true},
		{"an hour later", clockStart.Add(time.Hour), true},
		{"a nanosecond before expiry", clockStart.Add(ecs.TokenLifetime - time.Nanosecond), true},
		{"at expiry", clockStart.Add(ecs.TokenLifetime), false},
		{"a day after expiry", clockStart.Add(2 * ecs.TokenLifetime), false},
	}
	for _, st := range steps {
		b.clock.setTo(st.at)
		tenant, got, err := b.svc.FindTenantByToken(t.Context(), tok.ID)
		if st.valid {
			if err != nil || tenant.ProjectID != b.project || !got.Expires.Equal(tok.Expires) {
				t.Errorf("%s: FindTenantByToken = %+v, %+v, %v; want valid", st.name, tenant, got, err)
			}
			continue
		}
		requireTokenInvalid(t, err, "token expires, expires_at: "+tok.Expires.Format("2006-01-02T15:04:05.000000Z"))
	}
	// A token issued after the clock moved lives 24 h from then.
	later := clockStart.Add(3 * ecs.TokenLifetime)
	b.clock.setTo(later)
	if tok2 := b.mustIssue(t); !tok2.Issued.Equal(later) || !tok2.Expires.Equal(later.Add(ecs.TokenLifetime)) {
		t.Errorf("token issued at %v expires %v, want %v and +24 h", tok2.Issued, tok2.Expires, later)
	}
}

func TestFindTenantByTokenInvalid(t *testing.T) {
	t.Parallel()
	b := setupIAM(t)
	tok := b.mustIssue(t)
	cases := []struct {
		name, value, msg string
	}{
		{"empty", "", "x-auth-token not found"},
		{"unknown", "MIIecsdNotAToken", "decrypt token fail"},
		{"truncated", tok.ID[:len(tok.ID)-1], "decrypt token fail"},
		{"an AK/SK secret", ecs.DevTenant.SecretKey, "decrypt token fail"},
		{"the password", alicePass, "decrypt token fail"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tenant, got, err := b.svc.FindTenantByToken(t.Context(), tc.value)
			requireTokenInvalid(t, err, tc.msg)
			if tenant != nil || got != nil {
				t.Errorf("an invalid token returned %v %v", tenant, got)
			}
		})
	}
}

// TestTokenOfDeletedProject: deleting a project's tenant invalidates its
// tokens, and re-creating the tenant must not bring them back.
func TestTokenOfDeletedProject(t *testing.T) {
	t.Parallel()
	b := setupIAM(t)
	tok := b.mustIssue(t)
	other, _, err := b.svc.IssueToken(t.Context(), &ecs.TokenRequest{UserName: "alice", Password: devAlicePass,
		DomainName: "ecsd-dev", ProjectID: ecs.DevTenant.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	b.inTx(t, func(tx *sql.Tx) error {
		_, _, err := b.db.DeleteProject(t.Context(), tx, b.project, true)
		return err
	})
	_, _, err = b.svc.FindTenantByToken(t.Context(), tok.ID)
	requireTokenInvalid(t, err, "decrypt token fail")
	if _, _, err := b.svc.FindTenantByToken(t.Context(), other.ID); err != nil {
		t.Errorf("another project's token after the delete: %v", err)
	}

	// The same project declared again (as a restart with the same
	// configuration, or the control API adding it back, would do).
	tenant := ecs.Tenant{ProjectID: b.project, ProjectName: "cn-north-4", DomainID: "domain-" + b.project,
		AccessKey: "AK2" + b.project, SecretKey: "SK2" + b.project}
	if err := b.svc.EnsureTenant(t.Context(), tenant, ecs.DefaultQuota); err != nil {
		t.Fatal(err)
	}
	_, _, err = b.svc.FindTenantByToken(t.Context(), tok.ID)
	requireTokenInvalid(t, err, "decrypt token fail")
}

func TestDomainName(t *testing.T) {
	t.Parallel()
	b := setupIAM(t)
	for project, want := range map[string]string{b.project: acmeDomain, ecs.DevTenant.ProjectID: "ecsd-dev", "nope": ""} {
		if got := b.svc.DomainName(project); got != want {
			t.Errorf("DomainName(%s) = %q, want %q", project, got, want)
		}
	}
}

func rowCount(t *testing.T, b *testBundle, query string) int {
	t.Helper()
	var n int
	if err := b.db.SQL().QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func asErr(err error, target **ecs.Error) bool { return errors.As(err, target) }
