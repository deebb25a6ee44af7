package httpapi

import "net/http"

// listFlavors serves ListFlavors.
func (s *Server) listFlavors(w http.ResponseWriter, r *http.Request, _ []byte) error {
	pid := r.PathValue("project_id")
	f, err := parseFlavorFilter(r.URL.Query())
	if err != nil {
		return err
	}
	flavors, err := s.Flavors.FindFlavors(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]flavor, len(flavors))
	for i, fl := range flavors {
		out[i] = newFlavor(fl, pid)
	}
	writeJSON(w, http.StatusOK, listFlavorsBody{Flavors: out})
	return nil
}

// showLimits serves ShowServerLimits.
func (s *Server) showLimits(w http.ResponseWriter, r *http.Request, _ []byte) error {
	l, err := s.Tenants.Limits(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newLimits(l))
	return nil
}
