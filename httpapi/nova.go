package httpapi

import (
	"net/http"

	ecs "github.com/ecsd-dev/ecsd"
)

// The Nova-compatible API that older tools (gophercloud,
// terraform-provider-openstack) use: server actions and the Nova server
// object, under /v2.1/{project_id} and /v2/{project_id}. Errors on these
// routes use Nova's envelope (writeNovaError); authentication errors keep
// the API gateway's.

// nova wraps a Nova handler so that its errors leave in Nova's envelope.
func (s *Server) nova(h apiFunc) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, body []byte) error {
		if err := h(w, r, body); err != nil {
			s.writeNovaError(w, r, err)
		}
		return nil
	}
}

// writeNovaError is the exit of errors on the Nova routes:
// {"itemNotFound":{"message":...,"code":404}} and the like, with the
// status novaStatusOf gives. An internal error is logged with the request
// ID and answered computeFault without detail.
func (s *Server) writeNovaError(w http.ResponseWriter, r *http.Request, err error) {
	status := novaStatusOf(err)
	msg := ecs.ErrorMessage(err)
	if ecs.ErrorCode(err) == "" {
		s.Logger.Error("internal error", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		msg = "Unexpected API Error. Request ID: " + requestIDFrom(r.Context())
	}
	writeJSON(w, status, map[string]novaFault{novaFaultNames[status]: {Message: msg, Code: status}})
}

// novaServerAction serves POST /v2.1/{project_id}/servers/{server_id}/action
// (NovaStartServer, NovaStopServer, NovaRebootServer and the resize
// actions). Every action is answered 202 with no body; start, stop and
// reboot run as a batch job of one server.
func (s *Server) novaServerAction(w http.ResponseWriter, r *http.Request, body []byte) error {
	a, err := decodeNovaAction(body)
	if err != nil {
		return err
	}
	pid, id := r.PathValue("project_id"), r.PathValue("server_id")
	ctx := r.Context()
	switch a.Name {
	case novaStart, novaStop, novaReboot:
		action := map[string]string{novaStart: ecs.ActionStart, novaStop: ecs.ActionStop, novaReboot: ecs.ActionReboot}[a.Name]
		_, err = s.Servers.ActOnServers(ctx, &ecs.ServerActionRequest{ProjectID: pid, Action: action, Hard: a.Hard, ServerIDs: []string{id}})
	case novaResize:
		_, err = s.Servers.NovaResizeServer(ctx, &ecs.ResizeRequest{ProjectID: pid, ServerID: id, FlavorID: a.FlavorID, APIVersion: "v2.1"})
	case novaConfirm:
		_, err = s.Servers.ConfirmResize(ctx, pid, id)
	case novaRevert:
		_, err = s.Servers.RevertResize(ctx, pid, id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// novaShowServer serves NovaShowServer.
func (s *Server) novaShowServer(w http.ResponseWriter, r *http.Request, _ []byte) error {
	pid := r.PathValue("project_id")
	v, err := s.serverView(r.Context(), pid, r.PathValue("server_id"))
	if err != nil {
		return err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeJSON(w, http.StatusOK, novaShowServerBody{Server: newNovaServer(v, scheme+"://"+r.Host)})
	return nil
}
