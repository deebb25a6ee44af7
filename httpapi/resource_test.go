package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/ecsd-dev/ecsd/compute"
)

// TestResourceResponsesMatchPublishedDefinitions drives the volume, port,
// security group and server edit routes and holds their answers against
// the published definitions.
func TestResourceResponsesMatchPublishedDefinitions(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	subnetID := compute.DerivedUUID(pid + "/subnet")
	create := map[string]any{"server": map[string]any{
		"name": "res", "imageRef": "abe65701-8a26-40ec-b381-c10498ca3745", "flavorRef": "s6.large.2",
		"vpcid": compute.DerivedUUID(pid + "/vpc"), "nics": []any{map[string]any{"subnet_id": subnetID}},
		"root_volume":  map[string]any{"volumetype": "SSD"},
		"data_volumes": []any{map[string]any{"volumetype": "GPSSD", "size": 20}},
	}}
	var created struct {
		ServerIDs []string `json:"serverIds"`
	}
	if err := json.Unmarshal(b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers", create), &created); err != nil {
		t.Fatal(err)
	}
	id := created.ServerIDs[0]
	var show struct {
		Server struct {
			Addresses map[string][]struct {
				PortID string `json:"OS-EXT-IPS:port_id"`
			} `json:"addresses"`
			Volumes []struct {
				ID, BootIndex, Device string
			} `json:"os-extended-volumes:volumes_attached"`
		} `json:"server"`
	}
	body := b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/"+id, nil)
	checkOAS(t, "ECS/ShowServer.json", "/v1/{project_id}/cloudservers/{server_id}", "get", "200", body)
	if err := json.Unmarshal(body, &show); err != nil {
		t.Fatal(err)
	}
	vols := show.Server.Volumes
	if len(vols) != 2 || vols[0].BootIndex != "0" || vols[0].Device != "/dev/vda" || vols[1].BootIndex != "-1" || vols[1].Device != "/dev/vdb" {
		t.Fatalf("volumes_attached = %+v, want the system disk then one data disk", vols)
	}
	for _, v := range vols {
		body = b.must(t, 200, "GET", "/v2/"+pid+"/cloudvolumes/"+v.ID, nil)
		checkOAS(t, "EVS/ShowVolume.json", "/v2/{project_id}/cloudvolumes/{volume_id}", "get", "200", body)
		body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/"+id+"/block_device/"+v.ID, nil)
		checkOAS(t, "ECS/ShowServerBlockDevice.json", "/v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}", "get", "200", body)
	}
	var portID string
	for _, as := range show.Server.Addresses {
		portID = as[0].PortID
	}
	var port struct {
		Port struct {
			NetworkID string `json:"network_id"`
			DeviceID  string `json:"device_id"`
		} `json:"port"`
	}
	if err := json.Unmarshal(b.must(t, 200, "GET", "/v1/"+pid+"/ports/"+portID, nil), &port); err != nil {
		t.Fatal(err)
	}
	if port.Port.NetworkID != subnetID || port.Port.DeviceID != id {
		t.Fatalf("port = %+v, want network_id %s device_id %s", port.Port, subnetID, id)
	}
	b.must(t, 200, "GET", "/v1/"+pid+"/ports?device_id="+id+"&limit=100", nil)
	b.must(t, 200, "GET", "/v1/"+pid+"/subnets/"+subnetID, nil)
	body = b.must(t, 200, "GET", "/v3/"+pid+"/vpc/security-groups", nil)
	checkOAS(t, "VPC/ListSecurityGroups.json", "/v3/{project_id}/vpc/security-groups", "get", "200", body)

	body = b.must(t, 200, "POST", "/v1/"+pid+"/cloudservers/"+id+"/metadata", map[string]any{"metadata": map[string]string{"k": "v"}})
	checkOAS(t, "ECS/UpdateServerMetadata.json", "/v1/{project_id}/cloudservers/{server_id}/metadata", "post", "200", body)
	body = b.must(t, 200, "PUT", "/v1/"+pid+"/cloudservers/"+id, map[string]any{"server": map[string]any{"name": "renamed", "description": "d"}})
	checkOAS(t, "ECS/UpdateServer.json", "/v1/{project_id}/cloudservers/{server_id}", "put", "200", body)
	b.must(t, 204, "POST", "/v1/"+pid+"/cloudservers/"+id+"/tags/action", map[string]any{"action": "create", "tags": []any{map[string]string{"key": "env", "value": "dev"}}})
	body = b.must(t, 200, "GET", "/v1/"+pid+"/cloudservers/"+id+"/tags", nil)
	checkOAS(t, "ECS/ShowServerTags.json", "/v1/{project_id}/cloudservers/{server_id}/tags", "get", "200", body)
	body = b.must(t, 200, "GET", "/v2.1/"+pid+"/os-availability-zone", nil)
	checkOAS(t, "ECS/NovaListAvailabilityZones.json", "/v2.1/{project_id}/os-availability-zone", "get", "200", body)

	for _, p := range []string{"/v2/" + pid + "/cloudvolumes/6d8c3d3a-0000-4000-8000-000000000000", "/v1/" + pid + "/ports/6d8c3d3a-0000-4000-8000-000000000000",
		"/v1/" + pid + "/subnets/6d8c3d3a-0000-4000-8000-000000000000"} {
		b.must(t, 404, "GET", p, nil)
	}
}
