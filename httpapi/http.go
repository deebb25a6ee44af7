// Package httpapi serves the Huawei Cloud APIs that ecsd emulates: the ECS
// API and the thin VPC and IMS slices around it, in Huawei's wire format. It
// authenticates every request (SDK-HMAC-SHA256), routes it, decodes and
// validates it into a domain request, calls the ecs services and encodes the
// answer. Every error leaves through one function, writeError (BSS and IAM
// answer in their own envelopes, writeBSSError and writeIAMError).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/signature"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

// Services are the domain services the API calls.
type Services struct {
	Servers ecs.ServerService
	// Details, when set, reads servers with their security groups and
	// volumes in one read of the store (show and list servers); when nil,
	// they are read through Servers, Networks and Resources one by one.
	Details  ecs.ServerDetailService
	Jobs     ecs.JobService
	Tenants  ecs.TenantService
	Flavors  ecs.FlavorService
	Networks ecs.NetworkService
	Images   ecs.ImageService
	// BatchResize and Market serve batch resize, sell policies and flavor
	// capacity; routes answer an internal error when they are nil.
	BatchResize ecs.BatchResizeService
	Market      ecs.MarketService
	// Orders serves yearly/monthly orders: the v1.1 resize's order_id,
	// change-charge-mode and the BSS order routes. When nil, v1.1 resize
	// answers without order_id and the order routes answer an internal
	// error.
	Orders ecs.OrderService
	// Resources serves volumes, ports, subnets by ID, server edits (name,
	// metadata, tags) and the AZ list; when nil, those routes answer an
	// internal error and servers show only their system disk.
	Resources ecs.ResourceService
	// Identity serves IAM: accounts, password users and tokens. When nil,
	// token issuance answers an internal error and X-Auth-Token is never
	// accepted.
	Identity ecs.IdentityService
	// Subscriptions serves the BSS subscription query and unsubscribe;
	// when nil those routes answer an internal error.
	Subscriptions ecs.SubscriptionService
}

// RequestFaults injects faults into API calls: a delay, and an error to
// answer instead of serving the call (an *ecs.Error; any other error is
// internal).
type RequestFaults interface {
	Request(ctx context.Context, op fault.OpRequest) (time.Duration, error)
}

// Server is the HTTP server of the Huawei APIs.
type Server struct {
	Services
	Logger *slog.Logger
	// Now is the clock signatures are checked against.
	Now func() time.Time
	// MaxSkew bounds the difference between X-Sdk-Date and Now.
	MaxSkew time.Duration
	// Extra are routes served beside the Huawei APIs (e.g. the control API),
	// keyed by ServeMux pattern; they are not authenticated here.
	Extra map[string]http.Handler
	// Faults, when set, may delay or fail each authenticated call (fault
	// injection); Sleep waits out the delay on ecsd's clock (nil = the
	// wall clock).
	Faults RequestFaults
	Sleep  func(ctx context.Context, d time.Duration) error
	// Unavailable, when set, reports errors that mean the store cannot be
	// reached (a PostgreSQL outage): they are answered 503 and the client
	// may retry, instead of 500.
	Unavailable func(error) bool
	outageLog   sampler // the "store unavailable" log lines

	ln      net.Listener
	srv     *http.Server
	mux     *http.ServeMux
	handler http.Handler
	verify  *signature.Verifier
	// handlerOnce makes the handler once, on the first Handler call.
	handlerOnce sync.Once
}

// NewServer returns a Server for services; call Handler or Open.
func NewServer(svc Services, logger *slog.Logger) *Server {
	return &Server{Services: svc, Logger: logger, Now: time.Now, MaxSkew: signature.DefaultMaxSkew}
}

// Handler returns the http.Handler serving every route.
func (s *Server) Handler() http.Handler {
	s.handlerOnce.Do(func() {
		s.verify = &signature.Verifier{Lookup: s.lookupSecret, Now: s.Now, MaxSkew: s.MaxSkew}
		s.mux = http.NewServeMux()
		s.routes()
		for pattern, h := range s.Extra {
			s.mux.Handle(pattern, h)
		}
		s.handler = http.HandlerFunc(s.serve)
	})
	return s.handler
}

// Open listens on addr and serves in the background until Close.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// URL returns the base URL the server listens on, e.g. http://127.0.0.1:8787.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting requests and waits for those in flight, up to ctx.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

type ctxKey int

const (
	tenantKey ctxKey = iota
	requestIDKey
)

// tenantFrom returns the authenticated tenant of a request.
func tenantFrom(ctx context.Context) *ecs.Tenant {
	t, _ := ctx.Value(tenantKey).(*ecs.Tenant)
	return t
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// serve is the outermost handler: request ID, panic recovery, routing
// (an unknown route is the gateway's APIGW.0101) and access logging.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	ctx := ecs.WithRequestID(context.WithValue(r.Context(), requestIDKey, reqID), reqID)
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			s.Logger.Error("panic", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "panic", v)
			if rec.status == 0 {
				s.writeError(rec, r, errors.New("panic"))
			}
		}
		s.Logger.Debug("request", "request_id", reqID, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start))
	}()
	// Handler only finds the route; ServeHTTP sets the path values.
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.writeGatewayError(rec, r, http.StatusNotFound, "APIGW.0101",
			"The API does not exist or has not been published in the environment.")
		return
	}
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer (to
// flush the console's server-sent events).
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// lookupSecret finds the secret key of an access key for the verifier.
// It keeps the tenant it found in the request's tenantSlot, so that
// authenticate does not look it up a second time.
func (s *Server) lookupSecret(ctx context.Context, ak string) (string, bool, error) {
	t, err := s.Tenants.FindTenantByAccessKey(ctx, ak)
	if ecs.ErrorCode(err) != "" {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if slot, ok := ctx.Value(tenantSlotKey{}).(*tenantSlot); ok {
		slot.tenant = t
	}
	return t.SecretKey, true, nil
}

// tenantSlot carries the tenant lookupSecret found out of Verify.
type tenantSlot struct{ tenant *ecs.Tenant }

type tenantSlotKey struct{}

// apiFunc is a Huawei API handler: it writes a success response or returns
// an error for writeError.
type apiFunc func(w http.ResponseWriter, r *http.Request, body []byte) error

// authed wraps the handler of API operation op (the SDK's name for it): it
// reads the body (bounded), verifies the signature, checks that the path's
// project (if any) is the caller's, applies the fault rules, and sends any
// error through writeError.
func (s *Server) authed(op string, h apiFunc) http.Handler {
	return s.authedOp(func([]byte) string { return op }, h)
}

// authedOp is authed for a route whose operation depends on the body.
func (s *Server) authedOp(opOf func(body []byte) string, h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			s.writeGatewayError(w, r, http.StatusRequestEntityTooLarge, "APIGW.0201", "Request entity too large.")
			return
		}
		t, ok := s.authenticate(w, r, body)
		if !ok {
			return
		}
		if pid := r.PathValue("project_id"); pid != "" && pid != t.ProjectID {
			s.writeError(w, r, ecs.Errorf(ecs.CodeProjectMismatch,
				"The project ID %s in the URL does not belong to the caller's credentials.", pid))
			return
		}
		if hp := r.Header.Get("X-Project-Id"); hp != "" && hp != t.ProjectID {
			s.writeError(w, r, ecs.Errorf(ecs.CodeProjectMismatch,
				"The X-Project-Id header %s does not belong to the caller's credentials.", hp))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), tenantKey, t))
		if !s.injectFault(w, r, fault.OpRequest{Operation: opOf(body), ProjectID: t.ProjectID, ServerID: r.PathValue("server_id")}) {
			return
		}
		if err := h(w, r, body); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate finds the caller of a request: by its X-Auth-Token (an IAM
// token) when it carries one and no signature, else by its SDK-HMAC-SHA256
// signature. It answers the gateway's error and reports false when the
// caller is not authenticated.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, body []byte) (*ecs.Tenant, bool) {
	if values, hasToken := r.Header[http.CanonicalHeaderKey("X-Auth-Token")]; hasToken && r.Header.Get("Authorization") == "" {
		if s.Identity == nil {
			s.writeGatewayError(w, r, http.StatusUnauthorized, "APIGW.0301",
				"Incorrect IAM authentication information: decrypt token fail")
			return nil, false
		}
		t, _, err := s.Identity.FindTenantByToken(r.Context(), values[0])
		if ecs.ErrorCode(err) == ecs.CodeTokenInvalid {
			s.writeGatewayError(w, r, http.StatusUnauthorized, ecs.CodeTokenInvalid, ecs.ErrorMessage(err))
			return nil, false
		}
		if err != nil {
			s.writeError(w, r, fmt.Errorf("find token: %w", err))
			return nil, false
		}
		return t, true
	}
	slot := &tenantSlot{}
	ak, err := s.verify.Verify(context.WithValue(r.Context(), tenantSlotKey{}, slot), r, body)
	var authErr *signature.Error
	if errors.As(err, &authErr) {
		s.writeGatewayError(w, r, authErr.Status, authErr.Code, authErr.Message)
		return nil, false
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("verify signature: %w", err))
		return nil, false
	}
	if slot.tenant != nil && slot.tenant.AccessKey == ak {
		return slot.tenant, true
	}
	t, err := s.Tenants.FindTenantByAccessKey(r.Context(), ak)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return t, true
}

// injectFault applies the fault rules to a call: it waits out their delay
// and answers their error. It reports whether the call goes on.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, op fault.OpRequest) bool {
	if s.Faults == nil {
		return true
	}
	delay, err := s.Faults.Request(r.Context(), op)
	if delay > 0 {
		sleep := s.Sleep
		if sleep == nil {
			sleep = ecs.RealClock{}.Sleep
		}
		if sleep(r.Context(), delay) != nil {
			return false // the client has gone
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
}
