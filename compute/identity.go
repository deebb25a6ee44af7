package compute

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	ecs "github.com/ecsd-dev/ecsd"
)

// TokenStore is the persistence of IAM tokens. Its methods run in the
// caller's transaction.
type TokenStore interface {
	InsertToken(ctx context.Context, tx *sql.Tx, t *ecs.Token) error
	// TokenByID returns nil and no error when there is no such token.
	TokenByID(ctx context.Context, tx *sql.Tx, id string) (*ecs.Token, error)
}

var _ ecs.IdentityService = (*Service)(nil)

// tokenPrefix starts every token ecsd issues, as "MII" starts Huawei's.
const tokenPrefix = "MIIecsd"

// newToken returns a random opaque token value.
func newToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func iamUnauthorized(msg string) error {
	return &ecs.Error{Code: ecs.CodeIAMUnauthorized, Status: http.StatusUnauthorized, Message: msg}
}

func tokenError(msg string) error {
	return &ecs.Error{Code: ecs.CodeTokenInvalid, Status: http.StatusUnauthorized,
		Message: "Incorrect IAM authentication information: " + msg}
}

// account returns the IAM account of a project, if declared.
func (s *Service) account(projectID string) (ecs.Account, bool) {
	for _, a := range s.Accounts {
		if a.ProjectID == projectID {
			return a, true
		}
	}
	return ecs.Account{}, false
}

// DomainName implements ecs.IdentityService.
func (s *Service) DomainName(projectID string) string {
	a, _ := s.account(projectID)
	return a.DomainName
}

// IssueToken implements ecs.IdentityService. The user is found by domain
// name and user name; the password is compared in constant time.
func (s *Service) IssueToken(ctx context.Context, req *ecs.TokenRequest) (*ecs.Token, *ecs.Tenant, error) {
	var acct ecs.Account
	found := false
	for _, a := range s.Accounts {
		if a.DomainName != req.DomainName {
			continue
		}
		for _, u := range a.Users {
			if u.Name == req.UserName &&
				subtle.ConstantTimeCompare([]byte(u.Password), []byte(req.Password)) == 1 {
				acct, found = a, true
			}
		}
	}
	if !found {
		return nil, nil, iamUnauthorized("The username or password is wrong.")
	}
	var tok *ecs.Token
	var tenant *ecs.Tenant
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t, _, err := s.Store.TenantByProject(ctx, tx, acct.ProjectID)
		if errors.Is(err, sql.ErrNoRows) {
			return iamUnauthorized("The username or password is wrong.")
		}
		if err != nil {
			return err
		}
		switch {
		case req.DomainScope:
			if (req.DomainID != "" && req.DomainID != t.DomainID) || (req.ScopeDomain != "" && req.ScopeDomain != acct.DomainName) {
				return iamUnauthorized("The request you have made requires authentication: the scope is not the user's domain.")
			}
		case req.ProjectID != "" && req.ProjectID != t.ProjectID,
			req.ProjectName != "" && req.ProjectName != t.ProjectName:
			return iamUnauthorized("The request you have made requires authentication: the user has no access to the project.")
		}
		now := s.now()
		tok = &ecs.Token{ID: newToken(), ProjectID: t.ProjectID, UserName: req.UserName, DomainScoped: req.DomainScope,
			Issued: now, Expires: now.Add(ecs.TokenLifetime)}
		tenant = t
		return s.Store.InsertToken(ctx, tx, tok)
	})
	if err != nil {
		return nil, nil, err
	}
	return tok, tenant, nil
}

// FindTenantByToken implements ecs.IdentityService.
func (s *Service) FindTenantByToken(ctx context.Context, value string) (*ecs.Tenant, *ecs.Token, error) {
	if value == "" {
		return nil, nil, tokenError("x-auth-token not found")
	}
	var tok *ecs.Token
	var tenant *ecs.Tenant
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		if tok, err = s.Store.TokenByID(ctx, tx, value); err != nil {
			return err
		}
		if tok == nil {
			return tokenError("decrypt token fail")
		}
		if !s.now().Before(tok.Expires) {
			return tokenError("token expires, expires_at: " + tok.Expires.Format("2006-01-02T15:04:05.000000Z"))
		}
		tenant, _, err = s.Store.TenantByProject(ctx, tx, tok.ProjectID)
		if errors.Is(err, sql.ErrNoRows) {
			return tokenError("decrypt token fail")
		}
		if err != nil {
			return fmt.Errorf("tenant of token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return tenant, tok, nil
}
