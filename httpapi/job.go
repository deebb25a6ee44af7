package httpapi

import "net/http"

// showJob serves ShowJob.
func (s *Server) showJob(w http.ResponseWriter, r *http.Request, _ []byte) error {
	j, err := s.Jobs.FindJobByID(r.Context(), r.PathValue("project_id"), r.PathValue("job_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newJob(j))
	return nil
}
