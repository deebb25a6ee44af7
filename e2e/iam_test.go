package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	sdkregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	iamsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
)

// The development tenant's password user, as cmd/ecsd declares it.
const (
	devDomainName = "ecsd-dev"
	devUserName   = "ecsd-dev"
	devPassword   = "ecsdDevPassword0001"
)

// TestIAMWithoutProjectID replays a provider configured with neither a
// project ID nor a domain ID: the SDK resolves the project by region name
// and the domain through ecsd's IAM, a password user obtains a token, the
// token is accepted as X-Auth-Token, and it expires after 24 h of ecsd's
// virtual clock.
func TestIAMWithoutProjectID(t *testing.T) {
	t.Parallel()
	b := startStateNode(t, "instant", func(cfg *node.Config) {
		cfg.Tenants[0].DomainName = devDomainName
		cfg.Tenants[0].Users = []ecs.User{{Name: devUserName, Password: devPassword}}
	})
	a := b.account
	httpCfg := config.DefaultHttpConfig().WithTimeout(30 * time.Second).WithHttpTransport(b.transport)
	reg := sdkregion.NewRegion(region, b.url)

	// The project by region name (KeystoneListProjects, AK/SK signed).
	basicAuth := basic.NewCredentialsBuilder().WithAk(a.tenant.AccessKey).WithSk(a.tenant.SecretKey).
		WithIamEndpointOverride(b.url).Build()
	client, err := ecssdk.EcsClientBuilder().WithRegion(reg).WithCredential(basicAuth).WithHttpConfig(httpCfg).SafeBuild()
	if err != nil {
		t.Fatalf("ECS client by region: %v", err)
	}
	ecsc := ecssdk.NewEcsClient(client)
	if _, err := ecsc.ListFlavors(&model.ListFlavorsRequest{}); err != nil {
		t.Fatalf("ListFlavors with the looked-up project: %v", err)
	}
	if basicAuth.ProjectId != a.tenant.ProjectID {
		t.Fatalf("looked-up project %q, want %q", basicAuth.ProjectId, a.tenant.ProjectID)
	}

	// The domain (KeystoneListAuthDomains) through the IAM client with
	// global credentials.
	globalAuth := global.NewCredentialsBuilder().WithAk(a.tenant.AccessKey).WithSk(a.tenant.SecretKey).
		WithIamEndpointOverride(b.url).Build()
	iamHC, err := iamsdk.IamClientBuilder().WithRegion(reg).WithCredential(globalAuth).WithHttpConfig(httpCfg).SafeBuild()
	if err != nil {
		t.Fatalf("IAM client by region: %v", err)
	}
	iam := iamsdk.NewIamClient(iamHC)
	if globalAuth.DomainId != a.tenant.DomainID {
		t.Fatalf("looked-up domain %q, want %q", globalAuth.DomainId, a.tenant.DomainID)
	}
	doms, err := iam.KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	if err != nil || doms.Domains == nil || len(*doms.Domains) != 1 || (*doms.Domains)[0].Name != devDomainName {
		t.Fatalf("KeystoneListAuthDomains: %v %v", err, doms)
	}
	name := region
	projs, err := iam.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{Name: &name})
	if err != nil || projs.Projects == nil || len(*projs.Projects) != 1 {
		t.Fatalf("KeystoneListProjects: %v %v", err, projs)
	}
	if p := (*projs.Projects)[0]; p.Id != a.tenant.ProjectID || p.DomainId != a.tenant.DomainID || !p.Enabled || p.IsDomain {
		t.Fatalf("project %+v", p)
	}
	other := "ap-southeast-1"
	if projs, err := iam.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{Name: &other}); err != nil || len(*projs.Projects) != 0 {
		t.Fatalf("KeystoneListProjects name=%s: %v %v, want none", other, err, projs)
	}

	// A token for the password user, scoped to the project by name.
	tokenBody := func(password string) *iammodel.KeystoneCreateUserTokenByPasswordRequestBody {
		return &iammodel.KeystoneCreateUserTokenByPasswordRequestBody{Auth: &iammodel.PwdAuth{
			Identity: &iammodel.PwdIdentity{
				Methods: []iammodel.PwdIdentityMethods{iammodel.GetPwdIdentityMethodsEnum().PASSWORD},
				Password: &iammodel.PwdPassword{User: &iammodel.PwdPasswordUser{Name: devUserName, Password: password,
					Domain: &iammodel.PwdPasswordUserDomain{Name: devDomainName}}},
			},
			Scope: &iammodel.AuthScope{Project: &iammodel.AuthScopeProject{Name: &name}},
		}}
	}
	tok, err := iam.KeystoneCreateUserTokenByPassword(&iammodel.KeystoneCreateUserTokenByPasswordRequest{
		Nocatalog: ptr("true"), Body: tokenBody(devPassword)})
	if err != nil || tok.HttpStatusCode != http.StatusCreated || str(tok.XSubjectToken) == "" || tok.Token == nil {
		t.Fatalf("KeystoneCreateUserTokenByPassword: %v %v", err, tok)
	}
	tr := tok.Token
	if tr.Project == nil || tr.Project.Id != a.tenant.ProjectID || tr.User.Name != devUserName ||
		tr.User.Domain.Name != devDomainName || len(tr.Methods) != 1 || tr.Methods[0] != "password" || len(tr.Catalog) != 0 {
		t.Fatalf("token %+v", tr)
	}
	issued, err1 := time.Parse(time.RFC3339, tr.IssuedAt)
	expires, err2 := time.Parse(time.RFC3339, tr.ExpiresAt)
	if err1 != nil || err2 != nil || expires.Sub(issued) != 24*time.Hour {
		t.Fatalf("issued_at %s expires_at %s, want 24 h apart", tr.IssuedAt, tr.ExpiresAt)
	}
	token := *tok.XSubjectToken
	if token == devPassword {
		t.Fatal("the token is the password")
	}
	// With the catalogue, every service points at ecsd.
	tok2, err := iam.KeystoneCreateUserTokenByPassword(&iammodel.KeystoneCreateUserTokenByPasswordRequest{Body: tokenBody(devPassword)})
	if err != nil || len(tok2.Token.Catalog) == 0 || str(tok2.XSubjectToken) == token {
		t.Fatalf("token with catalogue: %v %v", err, tok2)
	}

	// A wrong password is 401 in IAM's format.
	_, err = iam.KeystoneCreateUserTokenByPassword(&iammodel.KeystoneCreateUserTokenByPasswordRequest{Body: tokenBody("wrong-password")})
	if se, ok := asSDKError(err); !ok || se.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want HTTP 401", err)
	}

	// The token on ShowServer, as X-Auth-Token instead of a signature.
	id := a.mustCreateOne(t, "token", "s6.small.1", "")
	withToken := func(value string) rawResponse {
		r := a.newRaw(t, http.MethodGet, "/v1/"+a.tenant.ProjectID+"/cloudservers/"+id, nil)
		r.Header.Set("X-Auth-Token", value)
		return a.do(t, r)
	}
	resp := withToken(token)
	var show struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
	}
	if resp.status != http.StatusOK || json.Unmarshal(resp.body, &show) != nil || show.Server.ID != id {
		t.Fatalf("ShowServer with X-Auth-Token: HTTP %d %s", resp.status, resp.body)
	}
	withToken("MIIbogus").wantGatewayError(t, http.StatusUnauthorized, "APIGW.0301")
	withToken("").wantGatewayError(t, http.StatusUnauthorized, "APIGW.0301")

	// 25 h later on the virtual clock, the token has expired.
	b.mustCtl(t, http.MethodPost, "/_ecsd/clock", map[string]any{"advance": "25h"}, nil, http.StatusOK)
	msg := withToken(token).wantGatewayError(t, http.StatusUnauthorized, "APIGW.0301")
	if want := "Incorrect IAM authentication information: token expires"; len(msg) < len(want) || msg[:len(want)] != want {
		t.Fatalf("expired token: %q, want it to start with %q", msg, want)
	}
	// The signature still works.
	a.show(t, id)
}
