package httpapi

import "encoding/json"

// routes lists every Huawei API route with the SDK's name of its
// operation. Fixed segments such as /cloudservers/detail win over
// /cloudservers/{server_id} by the ServeMux's precedence rules.
func (s *Server) routes() {
	m := s.mux
	// ECS
	m.Handle("POST /v1/{project_id}/cloudservers", s.authed("CreatePostPaidServers", s.createServersV1))
	m.Handle("POST /v1.1/{project_id}/cloudservers", s.authed("CreateServers", s.createServersV11))
	m.Handle("GET /v1/{project_id}/cloudservers/detail", s.authed("ListServersDetails", s.listServersV1))
	m.Handle("GET /v1.1/{project_id}/cloudservers/detail", s.authed("ListCloudServers", s.listServersV11))
	m.Handle("GET /v1/{project_id}/cloudservers/{server_id}", s.authed("ShowServer", s.showServer))
	m.Handle("POST /v1/{project_id}/cloudservers/delete", s.authed("DeleteServers", s.deleteServers))
	m.Handle("POST /v1/{project_id}/cloudservers/action", s.authedOp(actionOperation, s.actOnServers))
	m.Handle("POST /v1/{project_id}/cloudservers/{server_id}/resize", s.authed("ResizePostPaidServer", s.resizeV1))
	m.Handle("POST /v1.1/{project_id}/cloudservers/{server_id}/resize", s.authed("ResizeServer", s.resizeV11))
	m.Handle("GET /v1/{project_id}/cloudservers/resize_flavors", s.authed("ListResizeFlavors", s.listResizeFlavors))
	m.Handle("GET /v1/{project_id}/cloudservers/flavors", s.authed("ListFlavors", s.listFlavors))
	m.Handle("GET /v1/{project_id}/cloudservers/limits", s.authed("ShowServerLimits", s.showLimits))
	m.Handle("POST /v1/{project_id}/cloudservers/batch-resize", s.authed("BatchResizeServers", s.batchResize))
	m.Handle("GET /v1/{project_id}/cloudservers/flavor-sell-policies", s.authed("ListFlavorSellPolicies", s.listSellPolicies))
	m.Handle("GET /v1/{project_id}/cloudservers/flavors/{flavor_id}/resources", s.authed("ShowFlavorCapacity", s.showFlavorCapacity))
	m.Handle("GET /v1/{project_id}/jobs/{job_id}", s.authed("ShowJob", s.showJob))
	m.Handle("POST /v1/{project_id}/cloudservers/actions/change-charge-mode", s.authed("ChangeServerChargeMode", s.changeChargeMode))
	m.Handle("PUT /v1/{project_id}/cloudservers/{server_id}", s.authed("UpdateServer", s.updateServer))
	m.Handle("POST /v1/{project_id}/cloudservers/{server_id}/metadata", s.authed("UpdateServerMetadata", s.updateServerMetadata))
	m.Handle("POST /v1/{project_id}/cloudservers/{server_id}/tags/action", s.authedOp(tagsOperation, s.serverTagsAction))
	m.Handle("GET /v1/{project_id}/cloudservers/{server_id}/tags", s.authed("ShowServerTags", s.showServerTags))
	// .../{server_id}/block_device/{volume_id}, spelled with a wildcard
	// segment so that it does not conflict with flavors/{flavor_id}/resources.
	m.Handle("GET /v1/{project_id}/cloudservers/{server_id}/{block_device}/{volume_id}", s.authed("ShowServerBlockDevice", s.showBlockDevice))
	m.Handle("GET /v2.1/{project_id}/os-availability-zone", s.authed("NovaListAvailabilityZones", s.listAvailabilityZones))
	// EVS
	m.Handle("GET /v2/{project_id}/cloudvolumes/{volume_id}", s.authed("ShowVolume", s.showVolume))
	// BSS (global service: no project in the path)
	m.Handle("GET /v2/orders/customer-orders/details/{order_id}", s.authedBSS("ShowCustomerOrderDetails", s.showOrder))
	m.Handle("POST /v3/orders/customer-orders/pay", s.authedBSS("PayOrders", s.payOrder))
	m.Handle("PUT /v2/orders/customer-orders/cancel", s.authedBSS("CancelCustomerOrder", s.cancelOrder))
	m.Handle("POST /v2/orders/suscriptions/resources/query", s.authedBSS("ListPayPerUseCustomerResources", s.querySubscriptions))
	m.Handle("POST /v2/orders/subscriptions/resources/unsubscribe", s.authedBSS("CancelResourcesSubscription", s.unsubscribe))
	// VPC
	m.Handle("GET /v1/{project_id}/vpcs", s.authed("ListVpcs", s.listVPCs))
	m.Handle("GET /v1/{project_id}/subnets", s.authed("ListSubnets", s.listSubnets))
	m.Handle("GET /v1/{project_id}/security-groups", s.authed("ListSecurityGroups", s.listSecurityGroups))
	m.Handle("GET /v1/{project_id}/subnets/{subnet_id}", s.authed("ShowSubnet", s.showSubnet))
	m.Handle("GET /v1/{project_id}/ports", s.authed("ListPorts", s.listPorts))
	m.Handle("GET /v1/{project_id}/ports/{port_id}", s.authed("ShowPort", s.showPort))
	m.Handle("GET /v3/{project_id}/vpc/security-groups", s.authed("ListSecurityGroupsV3", s.listSecurityGroupsV3))
	m.Handle("GET /v3/{project_id}/vpc/security-groups/{security_group_id}", s.authed("ShowSecurityGroup", s.showSecurityGroupV3))
	// IAM (global: no project in the path). Token issuance is
	// authenticated by its password, not by a signature.
	m.Handle("GET /v3/projects", s.authed("KeystoneListProjects", s.listProjects))
	m.Handle("GET /v3/auth/domains", s.authed("KeystoneListAuthDomains", s.listAuthDomains))
	m.Handle("POST /v3/auth/tokens", s.createToken())
	// IMS
	m.Handle("GET /v2/cloudimages", s.authed("ListImages", s.listImages))
	// Nova (v2.1, and v2 as its alias)
	for _, v := range []string{"v2.1", "v2"} {
		m.Handle("POST /"+v+"/{project_id}/servers/{server_id}/action", s.authedOp(novaActionOperation, s.nova(s.novaServerAction)))
		m.Handle("GET /"+v+"/{project_id}/servers/{server_id}", s.authed("NovaShowServer", s.nova(s.novaShowServer)))
	}
}

// Operations are the API operations ecsd serves, as the SDKs name them (the
// names fault rules match).
var Operations = []string{
	"CreatePostPaidServers", "CreateServers", "ListServersDetails", "ListCloudServers", "ShowServer",
	"DeleteServers", "BatchStartServers", "BatchStopServers", "BatchRebootServers",
	"ResizePostPaidServer", "ResizeServer", "ListResizeFlavors", "ListFlavors", "ShowServerLimits", "ShowJob",
	"BatchResizeServers", "ListFlavorSellPolicies", "ShowFlavorCapacity",
	"ListVpcs", "ListSubnets", "ListSecurityGroups", "ListImages",
	"NovaStartServer", "NovaStopServer", "NovaRebootServer", "NovaResizeServer", "NovaConfirmResizeServer",
	"NovaRevertResizeServer", "NovaShowServer",
	"ChangeServerChargeMode", "ShowCustomerOrderDetails", "PayOrders", "CancelCustomerOrder",
	"UpdateServer", "UpdateServerMetadata", "BatchCreateServerTags", "BatchDeleteServerTags", "ShowServerTags",
	"ShowServerBlockDevice", "NovaListAvailabilityZones", "ShowVolume", "ShowSubnet", "ListPorts", "ShowPort",
	"ListSecurityGroupsV3", "ShowSecurityGroup",
	"KeystoneListProjects", "KeystoneListAuthDomains",
	"ListPayPerUseCustomerResources", "CancelResourcesSubscription",
}

// actionOperation names the operation of a POST .../cloudservers/action
// from the body's key; "" when the body names none.
func actionOperation(body []byte) string {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return ""
	}
	for _, a := range [...]struct{ key, op string }{
		{"os-start", "BatchStartServers"}, {"os-stop", "BatchStopServers"}, {"reboot", "BatchRebootServers"},
	} {
		if _, ok := keys[a.key]; ok {
			return a.op
		}
	}
	return ""
}

// tagsOperation names the operation of a POST .../tags/action from the
// body's action; "" when it names none.
func tagsOperation(body []byte) string {
	var b struct {
		Action string `json:"action"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	switch b.Action {
	case "create":
		return "BatchCreateServerTags"
	case "delete":
		return "BatchDeleteServerTags"
	}
	return ""
}
