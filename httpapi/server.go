package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	ecs "github.com/ecsd-dev/ecsd"
)

func (s *Server) createServersV1(w http.ResponseWriter, r *http.Request, body []byte) error {
	return s.createServers(w, r, body, "v1")
}

func (s *Server) createServersV11(w http.ResponseWriter, r *http.Request, body []byte) error {
	return s.createServers(w, r, body, "v1.1")
}

// createServers serves CreatePostPaidServers (v1) and CreateServers (v1.1).
func (s *Server) createServers(w http.ResponseWriter, r *http.Request, body []byte, version string) error {
	req, err := decodeCreateServers(body, r.PathValue("project_id"), version)
	if err != nil {
		return err
	}
	req.ClientToken = r.Header.Get("X-Client-Token")
	res, err := s.Servers.CreateServers(r.Context(), req)
	if err != nil {
		return err
	}
	if req.DryRun {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	out := newCreateServersResult(res)
	if version == "v1" {
		out.OrderID = ""
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// showServer serves ShowServer.
func (s *Server) showServer(w http.ResponseWriter, r *http.Request, _ []byte) error {
	pid := r.PathValue("project_id")
	v, err := s.serverView(r.Context(), pid, r.PathValue("server_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, showServerBody{Server: newServerDetail(v)})
	return nil
}

// listServersV1 serves ListServersDetails.
func (s *Server) listServersV1(w http.ResponseWriter, r *http.Request, _ []byte) error {
	pid := r.PathValue("project_id")
	f, err := parseServerFilterV1(r.URL.Query(), pid)
	if err != nil {
		return err
	}
	views, total, err := s.findServerViews(r.Context(), f)
	if err != nil {
		return err
	}
	page := serverDetailsPage{Servers: make([]serverDetail, len(views))}
	for i, v := range views {
		page.Servers[i] = newServerDetail(v)
	}
	// An ID of the server_id filter that names no server comes back as an
	// entry with only id and fault (SDK ListServersDetailsRequest.ServerId).
	if len(f.IDs) > 0 {
		found := make(map[string]bool, len(views))
		for _, v := range views {
			found[v.Server.ID] = true
		}
		for _, id := range f.IDs {
			if !found[id] {
				found[id] = true
				page.Missing = append(page.Missing, missingServer{ID: id, Fault: serverFault{Code: http.StatusNotFound,
					Created: s.Now().UTC().Format(timeFormatServer), Message: fmt.Sprintf("Instance[%s] could not be found.", id)}})
				total++
			}
		}
	}
	page.Count = total
	writeJSON(w, http.StatusOK, page)
	return nil
}

// listServersV11 serves ListCloudServers.
func (s *Server) listServersV11(w http.ResponseWriter, r *http.Request, _ []byte) error {
	pid := r.PathValue("project_id")
	q := r.URL.Query()
	f, expect, err := parseServerFilterV11(q, pid)
	if err != nil {
		return err
	}
	views, _, err := s.findServerViews(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]cloudServer, len(views))
	for i, v := range views {
		out[i] = newCloudServer(v, expect)
	}
	links := []pageLink{}
	if f.Limit > 0 && len(views) == f.Limit {
		q.Set("marker", views[len(views)-1].Server.ID)
		links = append(links, pageLink{Href: "/v1.1/" + pid + "/cloudservers/detail?" + q.Encode(), Rel: "next"})
	}
	writeJSON(w, http.StatusOK, listCloudServersBody{Servers: out, ServersLinks: links, RequestID: requestIDFrom(r.Context())})
	return nil
}

// serverView reads the server id of the project and its view (with
// Details, in one read of the store).
func (s *Server) serverView(ctx context.Context, projectID, id string) (serverView, error) {
	if s.Details != nil {
		d, err := s.Details.FindServerDetail(ctx, projectID, id)
		if err != nil {
			return serverView{}, err
		}
		views, err := s.viewsOf(ctx, projectID, d.Servers, d.SecurityGroups, d.Volumes)
		if err != nil {
			return serverView{}, err
		}
		return views[0], nil
	}
	srv, err := s.Servers.FindServerByID(ctx, projectID, id)
	if err != nil {
		return serverView{}, err
	}
	views, err := s.views(ctx, projectID, []*ecs.Server{srv})
	if err != nil {
		return serverView{}, err
	}
	return views[0], nil
}

// findServerViews reads a page of servers and their views (with Details,
// in one read of the store), and the count of the servers that match f.
func (s *Server) findServerViews(ctx context.Context, f ecs.ServerFilter) ([]serverView, int, error) {
	if s.Details != nil {
		d, err := s.Details.FindServerDetails(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		views, err := s.viewsOf(ctx, f.ProjectID, d.Servers, d.SecurityGroups, d.Volumes)
		return views, d.Total, err
	}
	servers, total, err := s.Servers.FindServers(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	views, err := s.views(ctx, f.ProjectID, servers)
	return views, total, err
}

// views joins servers with their flavors, images, security groups and
// volumes.
func (s *Server) views(ctx context.Context, projectID string, servers []*ecs.Server) ([]serverView, error) {
	sgs, err := s.Networks.FindSecurityGroups(ctx, projectID)
	if err != nil {
		return nil, err
	}
	var vols map[string][]*ecs.Volume
	if s.Resources != nil {
		ids := make([]string, len(servers))
		for i, srv := range servers {
			ids[i] = srv.ID
		}
		if vols, err = s.Resources.VolumesOfServers(ctx, projectID, ids); err != nil {
			return nil, err
		}
	}
	return s.viewsOf(ctx, projectID, servers, sgs, vols)
}

// viewsOf joins servers with their flavors and images and with the
// security groups and volumes read for them.
func (s *Server) viewsOf(ctx context.Context, projectID string, servers []*ecs.Server, sgs []*ecs.SecurityGroup, vols map[string][]*ecs.Volume) ([]serverView, error) {
	sgByID := make(map[string]*ecs.SecurityGroup, len(sgs))
	for _, g := range sgs {
		sgByID[g.ID] = g
	}
	imgs, err := s.Images.FindImages(ctx)
	if err != nil {
		return nil, err
	}
	imgByID := make(map[string]*ecs.Image, len(imgs))
	for _, img := range imgs {
		imgByID[img.ID] = img
	}
	out := make([]serverView, len(servers))
	for i, srv := range servers {
		f, err := s.Flavors.FindFlavorByID(ctx, srv.FlavorID)
		if err != nil {
			f = &ecs.Flavor{ID: srv.FlavorID, Name: srv.FlavorID}
		}
		v := serverView{Server: srv, Flavor: f, Image: imgByID[srv.ImageID], UserID: userID(projectID), Volumes: vols[srv.ID]}
		for _, id := range srv.SecurityGroups {
			if g := sgByID[id]; g != nil {
				v.SecurityGroups = append(v.SecurityGroups, g)
			}
		}
		out[i] = v
	}
	return out, nil
}

// deleteServers serves DeleteServers.
func (s *Server) deleteServers(w http.ResponseWriter, r *http.Request, body []byte) error {
	req, err := decodeDeleteServers(body, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	jobID, err := s.Servers.DeleteServers(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, jobResult{JobID: jobID})
	return nil
}

// actOnServers serves BatchStartServers, BatchStopServers and
// BatchRebootServers, which share one path.
func (s *Server) actOnServers(w http.ResponseWriter, r *http.Request, body []byte) error {
	req, err := decodeServerAction(body, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	jobID, err := s.Servers.ActOnServers(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, jobResult{JobID: jobID})
	return nil
}

func (s *Server) resizeV1(w http.ResponseWriter, r *http.Request, body []byte) error {
	return s.resize(w, r, body, "v1")
}

func (s *Server) resizeV11(w http.ResponseWriter, r *http.Request, body []byte) error {
	return s.resize(w, r, body, "v1.1")
}

// resize serves ResizePostPaidServer (v1) and ResizeServer (v1.1). A dry
// run that passes is answered 202 with no body.
func (s *Server) resize(w http.ResponseWriter, r *http.Request, body []byte, version string) error {
	req, err := decodeResize(body, r.PathValue("project_id"), r.PathValue("server_id"), version)
	if err != nil {
		return err
	}
	var res jobResult
	if version == "v1.1" && s.Orders != nil {
		r, err := s.Orders.ResizeServerOrder(r.Context(), req)
		if err != nil {
			return err
		}
		res = jobResult{JobID: r.JobID, OrderID: r.OrderID}
	} else {
		jobID, err := s.Servers.ResizeServer(r.Context(), req)
		if err != nil {
			return err
		}
		res.JobID = jobID
	}
	if req.DryRun {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// listResizeFlavors serves ListResizeFlavors.
func (s *Server) listResizeFlavors(w http.ResponseWriter, r *http.Request, _ []byte) error {
	pid := r.PathValue("project_id")
	req, err := parseResizeFlavorsQuery(r.URL.Query(), pid)
	if err != nil {
		return err
	}
	flavors, err := s.Servers.ResizeFlavors(r.Context(), req)
	if err != nil {
		return err
	}
	out := make([]resizeFlavor, len(flavors))
	for i, f := range flavors {
		out[i] = newResizeFlavor(f, pid)
	}
	writeJSON(w, http.StatusOK, listResizeFlavorsBody{Flavors: out})
	return nil
}

// userID is the stable ID of the one user of a project (the owner of its
// access key), a 32-hex-character ID as IAM issues them.
func userID(projectID string) string {
	sum := sha256.Sum256([]byte("ecsd-user:" + projectID))
	return hex.EncodeToString(sum[:16])
}
