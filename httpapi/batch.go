package httpapi

import (
	"errors"
	"net/http"
	"strings"
)

// errNoMarket answers the batch-resize and market routes of a Server built
// without those services (an internal error, never sent).
var errNoMarket = errors.New("httpapi: no batch resize or market service configured")

// batchResize serves BatchResizeServers.
func (s *Server) batchResize(w http.ResponseWriter, r *http.Request, body []byte) error {
	if s.BatchResize == nil {
		return errNoMarket
	}
	req, err := decodeBatchResize(body, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	res, err := s.BatchResize.BatchResizeServers(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, jobResult{JobID: res.JobID, OrderID: res.OrderID})
	return nil
}

// listSellPolicies serves ListFlavorSellPolicies.
func (s *Server) listSellPolicies(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if s.Market == nil {
		return errNoMarket
	}
	f, err := parseSellPolicyFilter(r.URL.Query())
	if err != nil {
		return err
	}
	ps, err := s.Market.FindSellPolicies(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListSellPolicies(ps))
	return nil
}

// showFlavorCapacity serves ShowFlavorCapacity. region_ids (comma-separated,
// undocumented) keeps only the zones of those regions.
func (s *Server) showFlavorCapacity(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if s.Market == nil {
		return errNoMarket
	}
	q := r.URL.Query()
	count, err := parseFlavorCapacityCount(q)
	if err != nil {
		return err
	}
	regions, err := queryOptional(q, "region_ids")
	if err != nil {
		return err
	}
	cs, err := s.Market.FlavorCapacity(r.Context(), r.PathValue("flavor_id"), count)
	if err != nil {
		return err
	}
	if regions != nil {
		keep := strings.Split(*regions, ",")
		out := cs[:0:0]
		for _, c := range cs {
			for _, k := range keep {
				if strings.TrimSpace(k) == c.Region {
					out = append(out, c)
					break
				}
			}
		}
		cs = out
	}
	writeJSON(w, http.StatusOK, newShowFlavorCapacity(cs))
	return nil
}
