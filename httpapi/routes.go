package httpapi

// routes lists every Huawei API route. Fixed segments such as
// /cloudservers/detail win over /cloudservers/{server_id} by the ServeMux's
// precedence rules.
func (s *Server) routes() {
	m := s.mux
	// ECS
	m.Handle("POST /v1/{project_id}/cloudservers", s.authed(s.createServersV1))
	m.Handle("POST /v1.1/{project_id}/cloudservers", s.authed(s.createServersV11))
	m.Handle("GET /v1/{project_id}/cloudservers/detail", s.authed(s.listServersV1))
	m.Handle("GET /v1.1/{project_id}/cloudservers/detail", s.authed(s.listServersV11))
	m.Handle("GET /v1/{project_id}/cloudservers/{server_id}", s.authed(s.showServer))
	m.Handle("POST /v1/{project_id}/cloudservers/delete", s.authed(s.deleteServers))
	m.Handle("POST /v1/{project_id}/cloudservers/action", s.authed(s.actOnServers))
	m.Handle("POST /v1/{project_id}/cloudservers/{server_id}/resize", s.authed(s.resizeV1))
	m.Handle("POST /v1.1/{project_id}/cloudservers/{server_id}/resize", s.authed(s.resizeV11))
	m.Handle("GET /v1/{project_id}/cloudservers/resize_flavors", s.authed(s.listResizeFlavors))
	m.Handle("GET /v1/{project_id}/cloudservers/flavors", s.authed(s.listFlavors))
	m.Handle("GET /v1/{project_id}/cloudservers/limits", s.authed(s.showLimits))
	m.Handle("GET /v1/{project_id}/jobs/{job_id}", s.authed(s.showJob))
	// VPC
	m.Handle("GET /v1/{project_id}/vpcs", s.authed(s.listVPCs))
	m.Handle("GET /v1/{project_id}/subnets", s.authed(s.listSubnets))
	m.Handle("GET /v1/{project_id}/security-groups", s.authed(s.listSecurityGroups))
	// IMS
	m.Handle("GET /v2/cloudimages", s.authed(s.listImages))
}
