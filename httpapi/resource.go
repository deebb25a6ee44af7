package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	ecs "github.com/ecsd-dev/ecsd"
)

// This file serves what the Terraform provider reads and edits around a
// server: volumes (EVS), ports and subnets by ID (VPC v1), security groups
// (VPC v3), server metadata, name, tags and the AZ list.

// errNoResources is internal: a Server built without Resources.
var errNoResources = errors.New("httpapi: no resource service")

// resources returns the resource service, or an internal error when the
// server was built without one.
func (s *Server) resources() (ecs.ResourceService, error) {
	if s.Resources == nil {
		return nil, errNoResources
	}
	return s.Resources, nil
}

// showVolume serves the EVS service's ShowVolume.
func (s *Server) showVolume(w http.ResponseWriter, r *http.Request, _ []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	v, err := rs.FindVolumeByID(r.Context(), r.PathValue("project_id"), r.PathValue("volume_id"))
	if err != nil {
		return err
	}
	var img *ecs.Image
	if v.Bootable {
		imgs, err := s.Images.FindImages(r.Context())
		if err != nil {
			return err
		}
		for _, i := range imgs {
			if i.ID == v.ImageID {
				img = i
			}
		}
	}
	writeJSON(w, http.StatusOK, showVolumeBody{Volume: newVolumeDetail(v, img)})
	return nil
}

// showBlockDevice serves ShowServerBlockDevice: a volume attached to the
// server; any other volume is not found.
func (s *Server) showBlockDevice(w http.ResponseWriter, r *http.Request, _ []byte) error {
	if r.PathValue("block_device") != "block_device" {
		s.writeGatewayError(w, r, http.StatusNotFound, "APIGW.0101",
			"The API does not exist or has not been published in the environment.")
		return nil
	}
	rs, err := s.resources()
	if err != nil {
		return err
	}
	vols, err := rs.ServerVolumes(r.Context(), r.PathValue("project_id"), r.PathValue("server_id"))
	if err != nil {
		return err
	}
	id := r.PathValue("volume_id")
	for i, v := range vols {
		if v.ID == id {
			writeJSON(w, http.StatusOK, showBlockDeviceBody{VolumeAttachment: newServerBlockDevice(v, i)})
			return nil
		}
	}
	return ecs.VolumeNotFound(id)
}

// showPort serves the VPC service's ShowPort.
func (s *Server) showPort(w http.ResponseWriter, r *http.Request, _ []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	p, err := rs.FindPortByID(r.Context(), r.PathValue("project_id"), r.PathValue("port_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, showPortBody{Port: newPort(p)})
	return nil
}

// listPorts serves the VPC service's ListPorts (filters id, device_id,
// network_id, limit).
func (s *Server) listPorts(w http.ResponseWriter, r *http.Request, _ []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := ecs.PortFilter{ProjectID: r.PathValue("project_id"), ID: q.Get("id"), DeviceID: q.Get("device_id"), NetworkID: q.Get("network_id")}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 0 {
			return invalidField("limit", "must be a non-negative integer")
		}
	}
	ports, err := rs.FindPorts(r.Context(), f)
	if err != nil {
		return err
	}
	out := listPortsBody{Ports: []port{}}
	for _, p := range ports {
		out.Ports = append(out.Ports, newPort(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// showSubnet serves the VPC service's ShowSubnet.
func (s *Server) showSubnet(w http.ResponseWriter, r *http.Request, _ []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	sn, err := rs.FindSubnetByID(r.Context(), r.PathValue("project_id"), r.PathValue("subnet_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, showSubnetBody{Subnet: newSubnet(sn)})
	return nil
}

// listSecurityGroupsV3 serves the VPC v3 ListSecurityGroups (filter id,
// name, repeated).
func (s *Server) listSecurityGroupsV3(w http.ResponseWriter, r *http.Request, _ []byte) error {
	sgs, err := s.Networks.FindSecurityGroups(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out := listSecurityGroupsV3Body{RequestID: requestIDFrom(r.Context()), SecurityGroups: []securityGroupV3{}}
	for _, g := range sgs {
		if !matchAny(q["id"], g.ID) || !matchAny(q["name"], g.Name) {
			continue
		}
		out.SecurityGroups = append(out.SecurityGroups, newSecurityGroupV3(g, false))
	}
	out.PageInfo.CurrentCount = len(out.SecurityGroups)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// showSecurityGroupV3 serves the VPC v3 ShowSecurityGroup.
func (s *Server) showSecurityGroupV3(w http.ResponseWriter, r *http.Request, _ []byte) error {
	sgs, err := s.Networks.FindSecurityGroups(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	id := r.PathValue("security_group_id")
	for _, g := range sgs {
		if g.ID == id {
			writeJSON(w, http.StatusOK, showSecurityGroupV3Body{RequestID: requestIDFrom(r.Context()), SecurityGroup: newSecurityGroupV3(g, true)})
			return nil
		}
	}
	return &ecs.Error{Code: "VPC.0602", Message: "Security group " + id + " could not be found.", Status: http.StatusNotFound}
}

// matchAny reports whether v is one of want, or want is empty.
func matchAny(want []string, v string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if w == v {
			return true
		}
	}
	return false
}

// updateServerMetadata serves UpdateServerMetadata: it merges the body's
// metadata into the server's user metadata and answers all of it.
func (s *Server) updateServerMetadata(w http.ResponseWriter, r *http.Request, body []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	var b metadataBody
	if err := decodeBody(body, &b); err != nil {
		return err
	}
	if b.Metadata == nil {
		return missingField("metadata")
	}
	for k, v := range b.Metadata {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return invalidField("metadata", "keys must be 1 to 255 characters, values at most 255")
		}
	}
	md, err := rs.MergeServerMetadata(r.Context(), r.PathValue("project_id"), r.PathValue("server_id"), b.Metadata)
	if err != nil {
		return err
	}
	if md == nil {
		md = map[string]string{}
	}
	writeJSON(w, http.StatusOK, metadataBody{Metadata: md})
	return nil
}

// updateServer serves UpdateServer (name, description, hostname).
func (s *Server) updateServer(w http.ResponseWriter, r *http.Request, body []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	pid := r.PathValue("project_id")
	// An unknown server is not found whatever the body.
	if _, err := s.Servers.FindServerByID(r.Context(), pid, r.PathValue("server_id")); err != nil {
		return err
	}
	var b updateServerBody
	if err := decodeBody(body, &b); err != nil {
		return err
	}
	if b.Server == nil {
		return missingField("server")
	}
	if b.Server.UserData != nil {
		return invalidField("server.user_data", "is not supported by ecsd")
	}
	upd := ecs.ServerUpdate{Name: b.Server.Name, Description: b.Server.Description, Hostname: b.Server.Hostname}
	if upd.Name != nil {
		if _, err := requireID("server.name", *upd.Name); err != nil {
			return err
		}
	}
	if upd.Description != nil && len([]rune(*upd.Description)) > 85 {
		return invalidField("server.description", "must be at most 85 characters")
	}
	srv, err := rs.UpdateServer(r.Context(), pid, r.PathValue("server_id"), upd)
	if err != nil {
		return err
	}
	views, err := s.views(r.Context(), pid, []*ecs.Server{srv})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, updateServerResponse{Server: newUpdateServerResult(views[0])})
	return nil
}

// serverTagsAction serves BatchCreateServerTags and BatchDeleteServerTags
// (action create or delete): 204 with no body.
func (s *Server) serverTagsAction(w http.ResponseWriter, r *http.Request, body []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	var b serverTagsActionBody
	if err := decodeBody(body, &b); err != nil {
		return err
	}
	if b.Action == nil {
		return missingField("action")
	}
	if b.Tags == nil {
		return missingField("tags")
	}
	var tags, keys []string
	for i, t := range b.Tags {
		if t.Key == nil || *t.Key == "" {
			return missingField("tags[" + strconv.Itoa(i) + "].key")
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		tags, keys = append(tags, *t.Key+"="+v), append(keys, *t.Key)
	}
	pid, id := r.PathValue("project_id"), r.PathValue("server_id")
	switch *b.Action {
	case "create":
		_, err = rs.AddServerTags(r.Context(), pid, id, tags)
	case "delete":
		_, err = rs.DeleteServerTags(r.Context(), pid, id, keys)
	default:
		return invalidField("action", `must be "create" or "delete"`)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// showServerTags serves ShowServerTags.
func (s *Server) showServerTags(w http.ResponseWriter, r *http.Request, _ []byte) error {
	srv, err := s.Servers.FindServerByID(r.Context(), r.PathValue("project_id"), r.PathValue("server_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newServerTags(srv.Tags))
	return nil
}

// listAvailabilityZones serves NovaListAvailabilityZones.
func (s *Server) listAvailabilityZones(w http.ResponseWriter, r *http.Request, _ []byte) error {
	rs, err := s.resources()
	if err != nil {
		return err
	}
	azs, err := rs.AvailabilityZones(r.Context())
	if err != nil {
		return err
	}
	out := novaAvailabilityZonesBody{AvailabilityZoneInfo: []novaAvailabilityZone{}}
	for _, az := range azs {
		out.AvailabilityZoneInfo = append(out.AvailabilityZoneInfo, novaAvailabilityZone{
			ZoneName: az.Name, ZoneState: novaZoneState{Available: az.Available},
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
