package httpapi

import "net/http"

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
	out := make([]image, len(imgs))
	for i, img := range imgs {
		out[i] = newImage(img)
	}
	writeJSON(w, http.StatusOK, listImagesBody{Images: out})
	return nil
}
