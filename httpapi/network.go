package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
)

// listVPCs serves the VPC service's ListVpcs.
func (s *Server) listVPCs(w http.ResponseWriter, r *http.Request, _ []byte) error {
	vpcs, err := s.Networks.FindVPCs(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	out := make([]vpc, len(vpcs))
	for i, v := range vpcs {
		out[i] = newVPC(v)
	}
	writeJSON(w, http.StatusOK, listVPCsBody{VPCs: out})
	return nil
}

// listSubnets serves the VPC service's ListSubnets (filter vpc_id).
func (s *Server) listSubnets(w http.ResponseWriter, r *http.Request, _ []byte) error {
	subnets, err := s.Networks.FindSubnets(r.Context(), r.PathValue("project_id"), r.URL.Query().Get("vpc_id"))
	if err != nil {
		return err
	}
	out := make([]subnet, len(subnets))
	for i, sn := range subnets {
		out[i] = newSubnet(sn)
	}
	writeJSON(w, http.StatusOK, listSubnetsBody{Subnets: out})
	return nil
}

// listSecurityGroups serves the VPC service's ListSecurityGroups.
func (s *Server) listSecurityGroups(w http.ResponseWriter, r *http.Request, _ []byte) error {
	sgs, err := s.Networks.FindSecurityGroups(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	out := make([]securityGroup, len(sgs))
	for i, g := range sgs {
		out[i] = newSecurityGroup(g)
	}
	writeJSON(w, http.StatusOK, listSecurityGroupsBody{SecurityGroups: out})
	return nil
}

// listImages serves the IMS service's ListImages.
func (s *Server) listImages(w http.ResponseWriter, r *http.Request, _ []byte) error {
	imgs, err := s.Images.FindImages(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 0 {
			return invalidField("limit", "must be a non-negative integer")
		}
	}
	out := []image{}
	for _, img := range imgs {
		wi := newImage(img)
		if imageMatches(q, wi) && (limit == 0 || len(out) < limit) {
			out = append(out, wi)
		}
	}
	writeJSON(w, http.StatusOK, listImagesBody{Images: out})
	return nil
}

// imageMatches applies ListImages' exact filters to an image: id, name,
// __imagetype, status, visibility, __os_type, __platform, and
// enterprise_project_id (all_granted_eps matches every image).
func imageMatches(q url.Values, img image) bool {
	for _, f := range []struct{ key, v string }{
		{"id", img.ID}, {"name", img.Name}, {"__imagetype", img.ImageType}, {"status", img.Status},
		{"visibility", img.Visibility}, {"__os_type", img.OSType}, {"__platform", img.Platform},
		{"enterprise_project_id", img.EnterpriseProject},
	} {
		want, ok := q[f.key]
		if !ok || want[0] == "" || (f.key == "enterprise_project_id" && want[0] == "all_granted_eps") {
			continue
		}
		if want[0] != f.v {
			return false
		}
	}
	return true
}
