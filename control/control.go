// Package control serves ecsd's test-control API under /_ecsd/: health,
// the virtual clock, run-time tenants, reset, seed and snapshots, fault
// injection and the history of servers and jobs. It is outside the Huawei
// API and never accepts tenant credentials: a request must come from
// loopback, or carry the admin token when one is configured.
package control

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ecsd-dev/ecsd/clock"
)

// MaxBodyBytes bounds a control request body (seed documents and snapshots
// can be large).
const MaxBodyBytes = 64 << 20

// Server is the control API. Set the fields, then call Handler.
type Server struct {
	// Token is the admin token. When set, every request must carry it as
	// "Authorization: Bearer <token>" (from any address); when empty, only
	// loopback clients are served.
	Token  string
	Logger *slog.Logger

	Clock   *clock.Virtual
	History History
	Health  func() Health

	// routes are added by the files of this package that serve them;
	// the mux is made once, by the first Handler or Handle.
	mux     *http.ServeMux
	muxOnce sync.Once
}

// Health is what GET /_ecsd/health reports.
type Health struct {
	Ready   bool    `json:"ready"`
	Version string  `json:"version"`
	Store   string  `json:"store"`
	NodeID  string  `json:"node_id"`
	Driver  string  `json:"driver"`
	Uptime  float64 `json:"uptime_seconds"`
	Started string  `json:"started"`
}

// Handler returns the handler of every /_ecsd/ route.
func (s *Server) Handler() http.Handler {
	s.routesOnce()
	return http.HandlerFunc(s.serve)
}

func (s *Server) routesOnce() {
	s.muxOnce.Do(func() {
		s.mux = http.NewServeMux()
		s.routes()
	})
}

// Handle registers an extra route (pattern as for http.ServeMux, under
// /_ecsd/), for control features wired from elsewhere. Call before Handler.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.routesOnce()
	s.mux.Handle(pattern, h)
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /_ecsd/health", s.health)
	s.mux.HandleFunc("GET /_ecsd/clock", s.getClock)
	s.mux.HandleFunc("POST /_ecsd/clock", s.setClock)
	s.mux.HandleFunc("GET /_ecsd/servers/{server_id}/history", s.serverHistory)
	s.mux.HandleFunc("GET /_ecsd/jobs/{job_id}/history", s.jobHistory)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(r) {
		WriteError(w, http.StatusForbidden, "Ecsd.Forbidden",
			"The control API is served to loopback clients only, or to callers with the admin token.")
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		WriteError(w, http.StatusNotFound, "Ecsd.NotFound", fmt.Sprintf("No control route %s %s.", r.Method, r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allowed applies the access rule (Allowed) to the request's bearer token.
func (s *Server) allowed(r *http.Request) bool {
	return Allowed(r, s.Token, BearerToken(r))
}

// Allowed is the access rule of ecsd's operator surfaces (the control API
// and the console): when token, the admin token, is set, the caller must
// present it (presented is compared in constant time), from any address;
// when it is empty, only loopback peers are served. Tenant credentials
// never grant access.
func Allowed(r *http.Request, token, presented string) bool {
	if token != "" {
		return presented != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(token)) == 1
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BearerToken returns the token of the request's "Authorization: Bearer"
// header, or "".
func BearerToken(r *http.Request) string {
	got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if got == r.Header.Get("Authorization") {
		return ""
	}
	return got
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	h := Health{Ready: true}
	if s.Health != nil {
		h = s.Health()
	}
	WriteJSON(w, http.StatusOK, h)
}

// ClockState is the clock as GET and POST /_ecsd/clock show it.
type ClockState struct {
	Now      time.Time `json:"now"`
	Speed    float64   `json:"speed"`
	Paused   bool      `json:"paused"`
	Sleepers int       `json:"sleepers"` // jobs waiting out a phase
}

func (s *Server) clockView() ClockState {
	st := s.Clock.State()
	return ClockState{Now: st.Virtual, Speed: st.Speed, Paused: st.Paused, Sleepers: s.Clock.Waiters()}
}

func (s *Server) getClock(w http.ResponseWriter, r *http.Request) {
	if s.Clock == nil {
		noClock(w)
		return
	}
	WriteJSON(w, http.StatusOK, s.clockView())
}

func noClock(w http.ResponseWriter) {
	WriteError(w, http.StatusNotImplemented, "Ecsd.NoClock", "This ecsd runs on a clock the control API does not manage.")
}

// clockChange is the body of POST /_ecsd/clock; every field is optional and
// they apply in this order: set, advance, speed, paused.
type clockChange struct {
	Set     *time.Time `json:"set"`
	Advance *Duration  `json:"advance"`
	Speed   *float64   `json:"speed"`
	Paused  *bool      `json:"paused"`
}

func (s *Server) setClock(w http.ResponseWriter, r *http.Request) {
	if s.Clock == nil {
		noClock(w)
		return
	}
	var c clockChange
	if !DecodeJSON(w, r, &c) {
		return
	}
	var err error
	if c.Set != nil {
		err = s.Clock.Set(*c.Set)
	}
	if err == nil && c.Advance != nil {
		err = s.Clock.Advance(time.Duration(*c.Advance))
	}
	if err == nil && c.Speed != nil {
		err = s.Clock.SetSpeed(*c.Speed)
	}
	if err == nil && c.Paused != nil {
		if *c.Paused {
			s.Clock.Pause()
		} else {
			s.Clock.Resume()
		}
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "Ecsd.BadRequest", err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, s.clockView())
}

// Duration is a time.Duration written as a Go duration string ("1h30m",
// "250ms") in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "90s" or "1h30m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WriteError answers a control request with an error.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	WriteJSON(w, status, b)
}

// WriteJSON answers a control request with v.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// DecodeJSON reads a JSON body into v (unknown fields are errors), or
// answers 400 and returns false. An empty body leaves v as it is.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, "Ecsd.TooLarge", "Request body too large.")
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "Ecsd.BadRequest", "Invalid JSON body: "+err.Error())
		return false
	}
	return true
}
