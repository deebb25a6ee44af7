package control

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ecsd-dev/ecsd/fault"
)

// FaultAdmin manages fault-injection rules (a *fault.Engine).
type FaultAdmin interface {
	Add(ctx context.Context, r fault.Rule) (fault.Rule, error)
	List(ctx context.Context) ([]fault.Rule, error)
	Delete(ctx context.Context, id string) error
	Clear(ctx context.Context) error
}

// RegisterFaults serves the fault rules of e on s:
//
//	GET    /_ecsd/faults       the rules, with how often each fired
//	POST   /_ecsd/faults       add a rule (201 with the rule and its ID; 400 if invalid)
//	DELETE /_ecsd/faults/{id}  delete a rule (204; 404 if unknown)
//	DELETE /_ecsd/faults       delete every rule (204)
//
// Call it before s.Handler serves requests.
func RegisterFaults(s *Server, e FaultAdmin) {
	h := faultHandlers{s: s, e: e}
	s.Handle("GET /_ecsd/faults", http.HandlerFunc(h.list))
	s.Handle("POST /_ecsd/faults", http.HandlerFunc(h.add))
	s.Handle("DELETE /_ecsd/faults/{id}", http.HandlerFunc(h.delete))
	s.Handle("DELETE /_ecsd/faults", http.HandlerFunc(h.clear))
}

type faultHandlers struct {
	s *Server
	e FaultAdmin
}

// faultList is the body of GET /_ecsd/faults.
type faultList struct {
	Faults []fault.Rule `json:"faults"`
}

func (h faultHandlers) list(w http.ResponseWriter, r *http.Request) {
	rules, err := h.e.List(r.Context())
	if err != nil {
		h.s.internal(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, faultList{Faults: rules})
}

func (h faultHandlers) add(w http.ResponseWriter, r *http.Request) {
	var rule fault.Rule
	if !DecodeJSON(w, r, &rule) {
		return
	}
	added, err := h.e.Add(r.Context(), rule)
	switch {
	case errors.Is(err, fault.ErrInvalid):
		WriteError(w, http.StatusBadRequest, "Ecsd.BadRequest", capitalize(err.Error())+".")
	case err != nil:
		h.s.internal(w, r, err)
	default:
		WriteJSON(w, http.StatusCreated, added)
	}
}

func (h faultHandlers) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := h.e.Delete(r.Context(), id)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		WriteError(w, http.StatusNotFound, "Ecsd.NotFound", "No fault rule "+id+".")
	case err != nil:
		h.s.internal(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h faultHandlers) clear(w http.ResponseWriter, r *http.Request) {
	if err := h.e.Clear(r.Context()); err != nil {
		h.s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
