package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// codeStatus holds the ECS codes whose published HTTP status is not 400.
var codeStatus = map[string]int{
	"Ecs.0003": http.StatusForbidden,
	"Ecs.0066": http.StatusForbidden,
	"Ecs.0067": http.StatusForbidden,
	"Ecs.0068": http.StatusForbidden,
	"Ecs.0069": http.StatusForbidden,
	"Ecs.0070": http.StatusForbidden,
	"Ecs.0071": http.StatusForbidden,
	"Ecs.0110": http.StatusForbidden,
	"Ecs.0114": http.StatusNotFound,
	"Ecs.0614": http.StatusNotFound,
	"Ecs.0603": http.StatusNotImplemented,
	"Ecs.0615": http.StatusInternalServerError,
}

// StatusOf returns the HTTP status ecsd answers an error with: the
// *ecs.Error's own Status when set, the published status of its code, or
// 500 for anything that is not an *ecs.Error.
func StatusOf(err error) int {
	var e *ecs.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	if e.Status != 0 {
		return e.Status
	}
	if st, ok := codeStatus[e.Code]; ok {
		return st
	}
	return http.StatusBadRequest
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError is the one exit for API errors: the Huawei ECS envelope
// {"error":{"code","message"}} with the code's status. An internal error is
// logged with the request ID and answered Ecs.0615 without detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := ecs.ErrorCode(err), ecs.ErrorMessage(err)
	status := StatusOf(err)
	if code == "" && s.Unavailable != nil && s.Unavailable(err) {
		if n, ok := s.outageLog.allow(time.Now()); ok {
			s.Logger.Warn("store unavailable; answering 503", "request_id", requestIDFrom(r.Context()),
				"method", r.Method, "path", r.URL.Path, "err", err, "also_refused_since_last_report", n)
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: ecs.CodeInternal,
			Message: "The service is temporarily unavailable: its database cannot be reached. Retry later. Request ID: " + requestIDFrom(r.Context())}})
		return
	}
	if code == "" {
		s.Logger.Error("internal error", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		code, msg = ecs.CodeInternal, "Internal error. Request ID: "+requestIDFrom(r.Context())
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

type gatewayError struct {
	Code      string `json:"error_code"`
	Message   string `json:"error_msg"`
	RequestID string `json:"request_id"`
}

// writeGatewayError answers in the API gateway's format, as Huawei's gateway
// does for authentication and routing failures.
func (s *Server) writeGatewayError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	writeJSON(w, status, gatewayError{Code: code, Message: msg, RequestID: requestIDFrom(r.Context())})
}

// writeJSON writes v as the JSON body with status: through its appendJSON
// when it has one (jsonenc.go), else through encoding/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if a, ok := v.(jsonAppender); ok {
		writeAppendedJSON(w, status, a)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"Ecs.0615","message":"Internal error."}}`)
	}
	writeJSONBody(w, status, b)
}

// writeJSONBody writes b, a JSON document, as the body with status.
func writeJSONBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sampler lets one event through per second and counts the others, so that
// an outage met by every request is logged, not logged a thousand times a
// second.
type sampler struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether an event at now is let through, with the number
// of events held back since the last one let through.
func (l *sampler) allow(now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) < time.Second {
		l.suppressed++
		return 0, false
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return n, true
}
