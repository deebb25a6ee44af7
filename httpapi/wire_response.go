package httpapi

import (
	ecs "github.com/ecsd-dev/ecsd"
)

// Response envelopes: the top-level bodies that wrap the objects of the
// other wire_*.go files, named after the SDK response they decode into.

// showServerBody is SDK ShowServerResponse: {"server": {...}}.
type showServerBody struct {
	Server serverDetail `json:"server"`
}

// serverDetailsPage is SDK ListServersDetailsResponse,
// {"count": Count, "servers": [Servers..., Missing...]}: count is the
// number of matching servers without pagination; Missing holds the entries
// for IDs of a server_id filter that match no server, after the servers.
// It is written by its appendJSON (jsonenc.go); MarshalJSON gives the same
// bytes.
type serverDetailsPage struct {
	Count   int
	Servers []serverDetail
	Missing []missingServer
}

// missingServer is the entry of ListServersDetails for an ID of its
// server_id filter that names no server: only id and fault are set.
type missingServer struct {
	ID    string      `json:"id"`
	Fault serverFault `json:"fault"`
}

// listCloudServersBody is SDK ListCloudServersResponse. servers_links holds
// a "next" link when a further page may exist.
type listCloudServersBody struct {
	Servers      []cloudServer `json:"servers"`
	ServersLinks []pageLink    `json:"servers_links,omitempty"`
	RequestID    string        `json:"request_id,omitempty"`
}

// pageLink is SDK PageLink.
type pageLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// listFlavorsBody is SDK ListFlavorsResponse.
type listFlavorsBody struct {
	Flavors []flavor `json:"flavors"`
}

// listResizeFlavorsBody is SDK ListResizeFlavorsResponse.
type listResizeFlavorsBody struct {
	Flavors []resizeFlavor `json:"flavors"`
}

// jobResult is the body of the asynchronous calls (resize, batch actions,
// delete; SDK ResizePostPaidServerResponse, ResizeServerResponse,
// BatchStartServersResponse, ..., DeleteServersResponse): job_id, and
// order_id for yearly/monthly v1.1 resizes.
type jobResult struct {
	JobID   string `json:"job_id,omitempty"`
	OrderID string `json:"order_id,omitempty"`
}

// createServersResult is SDK CreatePostPaidServersResponse /
// CreateServersResponse: note the camel-case serverIds.
type createServersResult struct {
	JobID     string   `json:"job_id,omitempty"`
	OrderID   string   `json:"order_id,omitempty"`
	ServerIDs []string `json:"serverIds"`
}

// newCreateServersResult returns the create response of r.
func newCreateServersResult(r *ecs.CreateServersResult) createServersResult {
	return createServersResult{JobID: r.JobID, OrderID: r.OrderID, ServerIDs: nonNil(r.ServerIDs)}
}

// listVPCsBody is SDK vpc/v2 ListVpcsResponse.
type listVPCsBody struct {
	VPCs []vpc `json:"vpcs"`
}

// listSubnetsBody is SDK vpc/v2 ListSubnetsResponse.
type listSubnetsBody struct {
	Subnets []subnet `json:"subnets"`
}

// listSecurityGroupsBody is SDK vpc/v2 ListSecurityGroupsResponse.
type listSecurityGroupsBody struct {
	SecurityGroups []securityGroup `json:"security_groups"`
}

// listImagesBody is SDK ims/v2 ListImagesResponse.
type listImagesBody struct {
	Images []image `json:"images"`
}
