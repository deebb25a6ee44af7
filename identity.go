package ecs

import (
	"context"
	"time"
)

// User is an IAM password user of a tenant, declared in the configuration.
// Passwords are configuration, not state: they are never stored.
type User struct {
	Name     string
	Password string
}

// Account is the IAM identity of a tenant: its account (domain) name and
// its password users.
type Account struct {
	ProjectID  string
	DomainName string
	Users      []User
}

// TokenLifetime is how long an IAM token is valid, on ecsd's clock.
const TokenLifetime = 24 * time.Hour

// Token is an IAM token issued to a password user. ID is the opaque value
// sent as X-Auth-Token; only its hash is stored.
type Token struct {
	ID        string
	ProjectID string // the tenant the user belongs to
	UserName  string
	// DomainScoped is true for a token scoped to the account rather than
	// to its project.
	DomainScoped bool
	Issued       time.Time
	Expires      time.Time
}

// TokenRequest asks for a token with a password (IAM
// KeystoneCreateUserTokenByPassword). Exactly one scope is given: a project
// (by ID or name) or the domain (by ID or name).
type TokenRequest struct {
	UserName    string
	Password    string
	DomainName  string
	ProjectID   string
	ProjectName string
	DomainScope bool
	DomainID    string // the domain scope's ID, "" when named
	ScopeDomain string // the domain scope's name, "" when by ID
}

// IAM error codes (gateway codes are answered by httpapi).
const (
	// CodeIAMUnauthorized is a wrong user name, password or domain name:
	// 401 in Keystone's format.
	CodeIAMUnauthorized = "IAM.0004"
	// CodeTokenInvalid is the gateway's APIGW.0301 (401) for a token that
	// is unknown, expired or not one of ecsd's.
	CodeTokenInvalid = "APIGW.0301"
)

// IdentityService is ecsd's IAM: accounts, password users and tokens.
type IdentityService interface {
	// DomainName returns the account name of a project's tenant ("" when
	// it declares none).
	DomainName(projectID string) string
	// IssueToken checks a password and stores a new token valid for
	// TokenLifetime. A wrong user, password or domain is an *Error with
	// CodeIAMUnauthorized; a scope that is not the user's own project or
	// domain likewise.
	IssueToken(ctx context.Context, req *TokenRequest) (*Token, *Tenant, error)
	// FindTenantByToken returns the tenant and token of an X-Auth-Token.
	// An unknown or expired token is an *Error with CodeTokenInvalid
	// (status 401) whose message is the gateway's.
	FindTenantByToken(ctx context.Context, token string) (*Tenant, *Token, error)
}
