package httpapi

import (
	"errors"
	"net/http"

	ecs "github.com/ecsd-dev/ecsd"
)

// errNoIdentity is the internal error of the IAM routes when no identity
// service is wired.
var errNoIdentity = errors.New("httpapi: no identity service")

// baseURL is ecsd's URL as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// listProjects serves KeystoneListProjects: the caller's project, when it
// matches the name and domain_id filters. The SDK looks a region's project
// up by name and expects exactly one.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, _ []byte) error {
	t := tenantFrom(r.Context())
	q := r.URL.Query()
	base := baseURL(r)
	out := listProjectsResult{Projects: []iamProject{}, Links: iamLinks{Self: base + "/v3/projects"}}
	if name := q.Get("name"); (name == "" || name == t.ProjectName) &&
		(q.Get("domain_id") == "" || q.Get("domain_id") == t.DomainID) &&
		(q.Get("is_domain") == "" || q.Get("is_domain") == "false") &&
		(q.Get("enabled") == "" || q.Get("enabled") == "true") {
		out.Projects = append(out.Projects, iamProject{
			ID: t.ProjectID, Name: t.ProjectName, DomainID: t.DomainID, Enabled: true, ParentID: t.DomainID,
			Links: iamLinksSelf{Self: base + "/v3/projects/" + t.ProjectID},
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listAuthDomains serves KeystoneListAuthDomains: the caller's account.
func (s *Server) listAuthDomains(w http.ResponseWriter, r *http.Request, _ []byte) error {
	t := tenantFrom(r.Context())
	base := baseURL(r)
	name := t.DomainID
	if s.Identity != nil {
		if n := s.Identity.DomainName(t.ProjectID); n != "" {
			name = n
		}
	}
	writeJSON(w, http.StatusOK, listDomainsResult{
		Domains: []iamDomain{{ID: t.DomainID, Name: name, Enabled: true,
			Links: iamLinksSelf{Self: base + "/v3/domains/" + t.DomainID}}},
		Links: iamLinksSelf{Self: base + "/v3/auth/domains"},
	})
	return nil
}

// createToken serves KeystoneCreateUserTokenByPassword. It is not
// authenticated (and not subject to fault rules): the password is the
// credential. The token leaves in the
// X-Subject-Token header, with 201; errors in Keystone's format.
func (s *Server) createToken() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			s.writeGatewayError(w, r, http.StatusRequestEntityTooLarge, "APIGW.0201", "Request entity too large.")
			return
		}
		if err := s.issueToken(w, r, body); err != nil {
			s.writeIAMError(w, r, err)
		}
	})
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, body []byte) error {
	if s.Identity == nil {
		return errNoIdentity
	}
	req, err := decodeTokenRequest(body)
	if err != nil {
		return err
	}
	tok, t, err := s.Identity.IssueToken(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("X-Subject-Token", tok.ID)
	writeJSON(w, http.StatusCreated, newTokenResult(tok, t, req.DomainName, baseURL(r), r.URL.Query().Get("nocatalog") != "true"))
	return nil
}

// writeIAMError is writeError in Keystone's envelope,
// {"error":{"code":<status>,"message","title"}}. An internal error is
// logged and answered 500 without detail.
func (s *Server) writeIAMError(w http.ResponseWriter, r *http.Request, err error) {
	msg, status := ecs.ErrorMessage(err), StatusOf(err)
	if ecs.ErrorCode(err) == "" {
		s.Logger.Error("internal error", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		msg, status = "An unexpected error prevented the server from fulfilling your request. Request ID: "+
			requestIDFrom(r.Context()), http.StatusInternalServerError
	}
	writeJSON(w, status, iamError{Error: iamErrorDetail{Code: status, Message: msg, Title: http.StatusText(status)}})
}
