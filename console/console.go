package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/control"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Services are the compute services the console acts through (a
// *compute.Service).
type Services interface {
	ecs.ServerService
	ecs.JobService
	ecs.FlavorService
	// ServerActions returns a server's actions; projectID "" = any project.
	ServerActions(ctx context.Context, projectID, serverID string) ([]*ecs.Action, error)
	// JobPhases returns a job and the phases of it and its sub-jobs.
	JobPhases(ctx context.Context, projectID, jobID string) (*ecs.Job, map[string][]*ecs.PhaseEvent, error)
}

// Store is the cross-project reading the console needs (a *store.DB).
type Store interface {
	// BeginReadTx starts a read-only transaction.
	BeginReadTx(ctx context.Context) (*sql.Tx, error)
	// AllServers returns every live server of every project.
	AllServers(ctx context.Context, tx *sql.Tx) ([]*ecs.Server, error)
	// UnfinishedJobs returns the jobs that have not ended, oldest first.
	UnfinishedJobs(ctx context.Context, tx *sql.Tx) ([]*ecs.Job, error)
	// RecentJobs returns the newest top-level jobs of a project and status
	// ("" = all), newest first, with their sub-jobs.
	RecentJobs(ctx context.Context, tx *sql.Tx, projectID, status string, limit int) ([]*ecs.Job, error)
	// ServerByID returns a live server; projectID "" = any project.
	ServerByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Server, error)
	// JobByID returns a job with its sub-jobs; projectID "" = any project.
	JobByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Job, error)
	// Actions returns a server's actions; projectID "" = any project.
	Actions(ctx context.Context, tx *sql.Tx, projectID, serverID string) ([]*ecs.Action, error)
	// Tenants returns every tenant with its quota.
	Tenants(ctx context.Context, tx *sql.Tx) ([]*ecs.Tenant, []ecs.Quota, error)
}

// Catalog is the flavor catalogue in force (a *catalog.Live).
type Catalog interface {
	Region() string
	Flavor(id string) (*ecs.Flavor, bool)
	Flavors() []*ecs.Flavor
	Image(id string) (*ecs.Image, bool)
	Images() []*ecs.Image
	AZs() []ecs.AvailabilityZone
	CheckResize(src, dst *ecs.Flavor, az string, xenDriversReady bool) error
	ImageFits(img *ecs.Image, f *ecs.Flavor) error
}

// Faults manages fault-injection rules (a *fault.Engine).
type Faults interface {
	Add(ctx context.Context, r fault.Rule) (fault.Rule, error)
	List(ctx context.Context) ([]fault.Rule, error)
	Delete(ctx context.Context, id string) error
	SoldOut(flavorID, az string) bool
}

// Console is the web console. Set the fields, then call Handler; Close
// ends the live-update streams. Services, Store and Catalog are required.
type Console struct {
	Services Services
	Store    Store
	Catalog  Catalog
	Faults   Faults         // nil: the fault page says there is no engine
	Clock    *clock.Virtual // nil: the clock page says the clock is not managed
	Driver   driver.Driver  // its Details are shown when it is a driver.Describer
	// Token is the admin token; empty means loopback clients only.
	Token  string
	Logger *slog.Logger
	// Poll is how often the live-update poller reads the store; 0 means
	// 250ms.
	Poll time.Duration

	once    sync.Once
	handler http.Handler
	pages   map[string]*template.Template
	hub     *hub
	stopReg sync.Map // *http.Server → registered for shutdown
}

// CookieName is the name of the console's session cookie.
const CookieName = "ecsd_console"

// HeaderName is the header the console's scripts send with every change;
// the JSON action endpoints refuse requests without it.
const HeaderName = "X-Ecsd-Console"

// sessionTTL bounds a login.
const sessionTTL = 12 * time.Hour

// Handler returns the handler of every /console/ route.
func (c *Console) Handler() http.Handler {
	c.once.Do(c.init)
	return c.handler
}

// Close ends the live-update streams and refuses new ones. It is
// idempotent; the node's HTTP server calls it when it shuts down.
func (c *Console) Close() {
	c.once.Do(c.init)
	c.hub.close()
}

func (c *Console) init() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Poll <= 0 {
		c.Poll = 250 * time.Millisecond
	}
	c.pages = parsePages()
	c.hub = newHub(c)
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", cacheStatic(http.StripPrefix("/console/static/", http.FileServerFS(static))))
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.HandleFunc("POST /console/logout", c.logout)

	guarded := http.NewServeMux()
	guarded.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/servers", http.StatusSeeOther)
	})
	guarded.HandleFunc("GET /console/servers", c.serversPage)
	guarded.HandleFunc("GET /console/servers/{id}", c.serverPage)
	guarded.HandleFunc("GET /console/jobs", c.jobsPage)
	guarded.HandleFunc("GET /console/jobs/{id}", c.jobPage)
	guarded.HandleFunc("GET /console/flavors", c.flavorsPage)
	guarded.HandleFunc("GET /console/clock", c.clockPage)
	guarded.HandleFunc("GET /console/faults", c.faultsPage)
	guarded.HandleFunc("GET /console/events", c.events)

	guarded.HandleFunc("POST /console/api/servers", c.apiCreate)
	guarded.HandleFunc("POST /console/api/servers/{id}/action", c.apiAction)
	guarded.HandleFunc("GET /console/api/servers/{id}/resize", c.apiResizeOptions)
	guarded.HandleFunc("POST /console/api/servers/{id}/resize", c.apiResize)
	guarded.HandleFunc("GET /console/api/jobs/{id}", c.apiJob)
	guarded.HandleFunc("POST /console/api/clock", c.apiClock)
	guarded.HandleFunc("POST /console/api/faults", c.apiAddFault)
	guarded.HandleFunc("DELETE /console/api/faults/{id}", c.apiDeleteFault)
	mux.Handle("/console/", c.guard(guarded))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusForbidden, "Ecsd.CrossOrigin",
			"Cross-site request refused: changes may only come from the console's own pages.")
	}))
	c.handler = c.recover(c.onShutdown(cop.Handler(securityHeaders(mux))))
}

// guard applies the access rule, and to the JSON action endpoints the
// console header.
func (c *Console) guard(next *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !control.Allowed(r, c.Token, c.presented(r)) {
			c.refuse(w, r)
			return
		}
		if _, pattern := next.Handler(r); pattern == "" {
			c.fail(w, r, http.StatusNotFound, "Ecsd.NotFound", fmt.Sprintf("No console page %s %s.", r.Method, r.URL.Path))
			return
		}
		if isAPI(r) && r.Method != http.MethodGet && r.Header.Get(HeaderName) == "" {
			c.fail(w, r, http.StatusForbidden, "Ecsd.CrossOrigin",
				"Changes need the "+HeaderName+" header, which the console's pages send.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/console/api/") }

// presented returns the admin token the caller presents: a bearer token, or
// the token itself when the session cookie holds a valid proof of it.
func (c *Console) presented(r *http.Request) string {
	if t := control.BearerToken(r); t != "" {
		return t
	}
	if c.Token == "" {
		return ""
	}
	ck, err := r.Cookie(CookieName)
	if err != nil || !c.validProof(ck.Value, time.Now()) {
		return ""
	}
	return c.Token
}

// proof returns a session cookie value valid until expires: the expiry and
// an HMAC of it keyed with the admin token, so that the cookie never holds
// the token and stops working when the token changes.
func (c *Console) proof(expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + c.mac(exp)
}

func (c *Console) mac(exp string) string {
	m := hmac.New(sha256.New, []byte(c.Token))
	m.Write([]byte("ecsd console session\x00" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *Console) validProof(v string, now time.Time) bool {
	exp, sum, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > n {
		return false
	}
	return hmac.Equal([]byte(sum), []byte(c.mac(exp)))
}

// refuse answers a caller the access rule turns away: browsers asking for a
// page are sent to the login form when a token is configured.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request) {
	if c.Token != "" && r.Method == http.MethodGet && !isAPI(r) && r.URL.Path != "/console/events" {
		http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	msg := "The console is served to loopback clients only, or to callers with the admin token."
	if c.Token != "" {
		msg = "Log in with the admin token first (/console/login)."
	}
	c.fail(w, r, http.StatusForbidden, "Ecsd.Forbidden", msg)
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", &loginView{Next: safeNext(r.URL.Query().Get("next")), NoToken: c.Token == ""})
}

type loginView struct {
	Next    string
	Error   string
	NoToken bool
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.render(w, r, http.StatusBadRequest, "login", &loginView{Error: "The form could not be read."})
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	if c.Token == "" {
		c.render(w, r, http.StatusBadRequest, "login", &loginView{Next: next, NoToken: true,
			Error: "This ecsd has no admin token: the console is open to loopback clients only."})
		return
	}
	got := r.PostForm.Get("token")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Token)) != 1 {
		c.render(w, r, http.StatusUnauthorized, "login", &loginView{Next: next, Error: "That is not the admin token."})
		return
	}
	exp := time.Now().Add(sessionTTL)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: c.proof(exp), Path: "/console/", Expires: exp,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/console/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// safeNext keeps a post-login destination inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/servers"
	}
	return next
}

// onShutdown registers Close with the http.Server serving the request, so
// that a graceful shutdown ends the live-update streams instead of waiting
// for them.
func (c *Console) onShutdown(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
			if _, loaded := c.stopReg.LoadOrStore(srv, true); !loaded {
				srv.RegisterOnShutdown(c.Close)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// recover turns a panic into a logged internal error.
func (c *Console) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				c.Logger.Error("console panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				c.fail(w, r, http.StatusInternalServerError, "Ecsd.Internal", "Internal error.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// apiError is the body of a failed console request.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// fail answers an error: JSON to the scripts (API, events), an HTML page
// to browsers.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if isAPI(r) || r.URL.Path == "/console/events" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		var b apiError
		b.Error.Code, b.Error.Message = code, msg
		writeJSON(w, status, b)
		return
	}
	c.render(w, r, status, "error", &errorView{Status: status, Code: code, Message: msg})
}

type errorView struct {
	Status  int
	Code    string
	Message string
}

// failErr answers err: an *ecs.Error is the caller's mistake (4xx with its
// code and message), anything else is logged and answered 500 without
// detail.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var e *ecs.Error
	if errors.As(err, &e) && e.Code != ecs.CodeInternal {
		status := httpapi.StatusOf(err)
		if status >= 500 || status < 400 {
			status = http.StatusConflict
		}
		c.fail(w, r, status, e.Code, e.Message)
		return
	}
	c.Logger.Error("console internal error", "method", r.Method, "path", r.URL.Path,
		"request_id", ecs.RequestID(r.Context()), "err", err)
	c.fail(w, r, http.StatusInternalServerError, "Ecsd.Internal", "Internal error.")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a small JSON body into v, or answers 400 and returns
// false.
func (c *Console) decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		c.fail(w, r, http.StatusBadRequest, "Ecsd.BadRequest", "Invalid JSON body: "+err.Error())
		return false
	}
	return true
}
