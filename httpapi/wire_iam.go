package httpapi

import (
	"crypto/sha256"
	"encoding/hex"

	ecs "github.com/ecsd-dev/ecsd"
)

// iamTimeFormat is how IAM writes times: RFC 3339 with microseconds.
const iamTimeFormat = "2006-01-02T15:04:05.000000Z"

// iamLinks is SDK iam Links.
type iamLinks struct {
	Self     string  `json:"self"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

// iamLinksSelf is SDK iam LinksSelf.
type iamLinksSelf struct {
	Self string `json:"self"`
}

// iamProject is SDK iam ProjectResult.
type iamProject struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	DomainID    string       `json:"domain_id"`
	Enabled     bool         `json:"enabled"`
	ParentID    string       `json:"parent_id"`
	IsDomain    bool         `json:"is_domain"`
	Description string       `json:"description"`
	Links       iamLinksSelf `json:"links"`
}

// listProjectsResult is SDK KeystoneListProjectsResponse.
type listProjectsResult struct {
	Projects []iamProject `json:"projects"`
	Links    iamLinks     `json:"links"`
}

// iamDomain is SDK iam Domains.
type iamDomain struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Enabled     bool         `json:"enabled"`
	Description string       `json:"description"`
	Links       iamLinksSelf `json:"links"`
}

// listDomainsResult is SDK KeystoneListAuthDomainsResponse.
type listDomainsResult struct {
	Domains []iamDomain  `json:"domains"`
	Links   iamLinksSelf `json:"links"`
}

// tokenRequestWire is SDK KeystoneCreateUserTokenByPasswordRequestBody.
type tokenRequestWire struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *struct {
					Name     *string `json:"name"`
					Password *string `json:"password"`
					Domain   *struct {
						Name *string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope *struct {
			Project *struct {
				ID   *string `json:"id"`
				Name *string `json:"name"`
			} `json:"project"`
			Domain *struct {
				ID   *string `json:"id"`
				Name *string `json:"name"`
			} `json:"domain"`
		} `json:"scope"`
	} `json:"auth"`
}

// decodeTokenRequest reads a password token request; a malformed one is
// an Ecs.0005 error the IAM handler answers 400.
func decodeTokenRequest(body []byte) (*ecs.TokenRequest, error) {
	var w tokenRequestWire
	if err := decodeBody(body, &w); err != nil {
		return nil, err
	}
	if w.Auth == nil || w.Auth.Identity == nil {
		return nil, missingField("auth.identity")
	}
	id := w.Auth.Identity
	if len(id.Methods) != 1 || id.Methods[0] != "password" {
		return nil, invalidField("auth.identity.methods", `must be ["password"]`)
	}
	if id.Password == nil || id.Password.User == nil {
		return nil, missingField("auth.identity.password.user")
	}
	u := id.Password.User
	switch {
	case u.Name == nil || *u.Name == "":
		return nil, missingField("auth.identity.password.user.name")
	case u.Password == nil || *u.Password == "":
		return nil, missingField("auth.identity.password.user.password")
	case u.Domain == nil || u.Domain.Name == nil || *u.Domain.Name == "":
		return nil, missingField("auth.identity.password.user.domain.name")
	}
	req := &ecs.TokenRequest{UserName: *u.Name, Password: *u.Password, DomainName: *u.Domain.Name}
	sc := w.Auth.Scope
	if sc == nil || (sc.Project == nil) == (sc.Domain == nil) {
		return nil, invalidField("auth.scope", "must name exactly one of project and domain")
	}
	if p := sc.Project; p != nil {
		if (p.ID == nil || *p.ID == "") && (p.Name == nil || *p.Name == "") {
			return nil, missingField("auth.scope.project.id")
		}
		if p.ID != nil {
			req.ProjectID = *p.ID
		}
		if p.Name != nil {
			req.ProjectName = *p.Name
		}
		return req, nil
	}
	d := sc.Domain
	if (d.ID == nil || *d.ID == "") && (d.Name == nil || *d.Name == "") {
		return nil, missingField("auth.scope.domain.id")
	}
	req.DomainScope = true
	if d.ID != nil {
		req.DomainID = *d.ID
	}
	if d.Name != nil {
		req.ScopeDomain = *d.Name
	}
	return req, nil
}

// idName is SDK iam TokenProjectDomainResult, TokenDomainResult and the
// like: a name and an ID.
type idName struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// tokenProject is SDK TokenProjectResult.
type tokenProject struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Domain idName `json:"domain"`
}

// tokenUser is SDK TokenUserResult.
type tokenUser struct {
	Name              string `json:"name"`
	ID                string `json:"id"`
	PasswordExpiresAt string `json:"password_expires_at"`
	Domain            idName `json:"domain"`
}

// tokenCatalogEndpoint is SDK TokenCatalogEndpoint.
type tokenCatalogEndpoint struct {
	URL       string `json:"url"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	Interface string `json:"interface"`
	ID        string `json:"id"`
}

// tokenCatalog is SDK TokenCatalog.
type tokenCatalog struct {
	Type      string                 `json:"type"`
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Endpoints []tokenCatalogEndpoint `json:"endpoints"`
}

// tokenBody is SDK TokenResult.
type tokenBody struct {
	ExpiresAt string         `json:"expires_at"`
	IssuedAt  string         `json:"issued_at"`
	Methods   []string       `json:"methods"`
	Project   *tokenProject  `json:"project,omitempty"`
	Domain    *idName        `json:"domain,omitempty"`
	User      tokenUser      `json:"user"`
	Catalog   []tokenCatalog `json:"catalog"`
	Roles     []idName       `json:"roles"`
}

// tokenResult is SDK KeystoneCreateUserTokenByPasswordResponse's body.
type tokenResult struct {
	Token tokenBody `json:"token"`
}

// catalogServices are the services a token's catalogue lists, all served
// by ecsd at one base URL.
var catalogServices = []struct{ typ, name string }{
	{"compute", "ecs"}, {"network", "vpc"}, {"image", "ims"}, {"volumev2", "evs"}, {"bss", "bss"}, {"identity", "iam"},
}

// newTokenResult returns the body of an issued token; base is ecsd's
// URL, catalog whether to list the services.
func newTokenResult(tok *ecs.Token, t *ecs.Tenant, domainName, base string, catalog bool) tokenResult {
	domain := idName{Name: domainName, ID: t.DomainID}
	b := tokenBody{
		ExpiresAt: tok.Expires.UTC().Format(iamTimeFormat), IssuedAt: tok.Issued.UTC().Format(iamTimeFormat),
		Methods: []string{"password"},
		User:    tokenUser{Name: tok.UserName, ID: iamUserID(t, tok.UserName), Domain: domain},
		Catalog: []tokenCatalog{},
		Roles:   []idName{{Name: "te_admin", ID: "0"}},
	}
	if tok.DomainScoped {
		b.Domain = &domain
	} else {
		b.Project = &tokenProject{Name: t.ProjectName, ID: t.ProjectID, Domain: domain}
	}
	if catalog {
		for _, svc := range catalogServices {
			url := base
			if svc.name == "iam" {
				url = base + "/v3"
			}
			b.Catalog = append(b.Catalog, tokenCatalog{Type: svc.typ, ID: svc.name, Name: svc.name,
				Endpoints: []tokenCatalogEndpoint{{URL: url, Region: t.ProjectName, RegionID: t.ProjectName,
					Interface: "public", ID: svc.name + "-" + t.ProjectName}}})
		}
	}
	return tokenResult{Token: b}
}

// iamUserID is the stable ID of a password user: 32 hex digits derived from
// the domain and the name.
func iamUserID(t *ecs.Tenant, name string) string {
	return derivedHex(t.DomainID + "/user/" + name)
}

// iamError is Keystone's error body, as IAM answers.
type iamError struct {
	Error iamErrorDetail `json:"error"`
}

type iamErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Title   string `json:"title"`
}

// derivedHex returns 32 hex digits derived from name.
func derivedHex(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:16])
}
