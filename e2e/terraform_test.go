package e2e_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	bssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	evssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/evs/v2"
	evsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/evs/v2/model"
	imsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"
	vpcv3 "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v3"
	vpcv3model "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v3/model"
)

// TestTerraformPayPerUse replays, call by call, the conversation of the
// Terraform provider's huaweicloud_compute_instance for a pay-per-use server
// (docs in /work/shared/reference/terraform-calls.md): create, read, edit,
// resize in place, read, delete, and the 404s after the delete.
func TestTerraformPayPerUse(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	a := b.account
	auth := basic.NewCredentialsBuilder().WithAk(a.tenant.AccessKey).WithSk(a.tenant.SecretKey).WithProjectId(a.tenant.ProjectID).Build()
	httpCfg := config.DefaultHttpConfig().WithTimeout(30 * time.Second).WithHttpTransport(b.transport)
	evs := evssdk.NewEvsClient(evssdk.EvsClientBuilder().WithEndpoint(b.url).WithCredential(auth).WithHttpConfig(httpCfg).Build())
	vpc3 := vpcv3.NewVpcClient(vpcv3.VpcClientBuilder().WithEndpoint(b.url).WithCredential(auth).WithHttpConfig(httpCfg).Build())

	// Data sources of the provider's acceptance tests.
	azs, err := a.client.NovaListAvailabilityZones(&model.NovaListAvailabilityZonesRequest{})
	if err != nil || azs.AvailabilityZoneInfo == nil || len(*azs.AvailabilityZoneInfo) == 0 || !(*azs.AvailabilityZoneInfo)[0].ZoneState.Available {
		t.Fatalf("NovaListAvailabilityZones: %v %v", err, azs)
	}
	sgs, err := vpc3.ListSecurityGroups(&vpcv3model.ListSecurityGroupsRequest{})
	if err != nil || sgs.SecurityGroups == nil || len(*sgs.SecurityGroups) == 0 || (*sgs.SecurityGroups)[0].Id != a.sgID {
		t.Fatalf("v3 ListSecurityGroups: %v %v", err, sgs)
	}
	sg, err := vpc3.ShowSecurityGroup(&vpcv3model.ShowSecurityGroupRequest{SecurityGroupId: a.sgID})
	if err != nil || sg.SecurityGroup.Id != a.sgID {
		t.Fatalf("v3 ShowSecurityGroup: %v %v", err, sg)
	}

	// Create 1: the subnet, for its VPC.
	subnet, err := a.vpc.ShowSubnet(&vpcmodel.ShowSubnetRequest{SubnetId: a.subnetID})
	if err != nil || subnet.Subnet.VpcId != a.vpcID {
		t.Fatalf("ShowSubnet: %v %v", err, subnet)
	}
	// The image by name, then by ID as the read does.
	name := "Ubuntu 22.04 server 64bit(40GB)"
	imgs, err := a.ims.ListImages(&imsmodel.ListImagesRequest{Name: &name})
	if err != nil || len(*imgs.Images) != 1 || (*imgs.Images)[0].Id != imageUbuntu22 {
		t.Fatalf("ListImages name=%q: %v %v", name, err, imgs)
	}
	// Create 2: v1.1 with a data disk.
	az := azA
	empty := ""
	create, err := a.client.CreateServers(&model.CreateServersRequest{Body: &model.CreateServersRequestBody{Server: &model.PrePaidServer{
		ImageRef: imageUbuntu22, FlavorRef: "s6.large.2", Name: "tf", Vpcid: subnet.Subnet.VpcId, UserData: &empty,
		Nics:             []model.PrePaidServerNic{{SubnetId: &a.subnetID}},
		RootVolume:       &model.PrePaidServerRootVolume{Volumetype: model.GetPrePaidServerRootVolumeVolumetypeEnum().SSD},
		DataVolumes:      &[]model.PrePaidServerDataVolume{{Volumetype: model.GetPrePaidServerDataVolumeVolumetypeEnum().SAS, Size: 20}},
		SecurityGroups:   &[]model.PrePaidServerSecurityGroup{{Id: &a.sgID}},
		AvailabilityZone: &az,
	}}})
	if err != nil || create.HttpStatusCode != http.StatusOK || create.JobId == nil {
		t.Fatalf("CreateServers: %v %v", err, create)
	}
	// Create 3: poll, then read sub_jobs[0].entities.server_id.
	a.wantJob(t, *create.JobId, "SUCCESS")
	job, err := a.client.ShowJob(&model.ShowJobRequest{JobId: *create.JobId})
	if err != nil || job.Entities == nil || job.Entities.SubJobs == nil || len(*job.Entities.SubJobs) == 0 {
		t.Fatalf("ShowJob: %v %v", err, job)
	}
	id := str((*job.Entities.SubJobs)[0].Entities.ServerId)
	if id == "" || id != (*create.ServerIds)[0] {
		t.Fatalf("sub_jobs[0].entities.server_id %q, want %v", id, *create.ServerIds)
	}

	read := func(wantFlavor string) *model.ServerDetail {
		t.Helper()
		show, err := a.client.ShowServer(&model.ShowServerRequest{ServerId: id})
		if err != nil || show.HttpStatusCode != http.StatusOK {
			t.Fatalf("ShowServer: %v", err)
		}
		s := show.Server
		if s.Flavor.Id != wantFlavor || s.Image.Id != imageUbuntu22 || s.OSEXTAZavailabilityZone != azA {
			t.Fatalf("server flavor %s image %s az %s", s.Flavor.Id, s.Image.Id, s.OSEXTAZavailabilityZone)
		}
		for _, ts := range []string{s.Created, s.Updated} {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				t.Fatalf("time %q is not RFC 3339", ts)
			}
		}
		imgs, err := a.ims.ListImages(&imsmodel.ListImagesRequest{EnterpriseProjectId: ptr("all_granted_eps"), Id: ptr(s.Image.Id), Limit: ptr(int32(1))})
		if err != nil || len(*imgs.Images) != 1 {
			t.Fatalf("ListImages id: %v %v", err, imgs)
		}
		nics := 0
		for _, addrs := range s.Addresses {
			for _, ad := range addrs {
				if ad.Version != "4" || ad.OSEXTIPStype == nil || ad.OSEXTIPStype.Value() != "fixed" {
					t.Fatalf("address %+v", ad)
				}
				p, err := a.vpc.ShowPort(&vpcmodel.ShowPortRequest{PortId: str(ad.OSEXTIPSportId)})
				if err != nil {
					t.Fatalf("ShowPort: %v", err)
				}
				if p.Port.NetworkId != a.subnetID || len(p.Port.FixedIps) != 1 || str(p.Port.FixedIps[0].IpAddress) != ad.Addr ||
					p.Port.DeviceId != id || len(p.Port.AllowedAddressPairs) != 0 {
					t.Fatalf("port %+v", p.Port)
				}
				nics++
			}
		}
		if nics != 1 {
			t.Fatalf("%d fixed addresses, want 1", nics)
		}
		ports, err := a.vpc.ListPorts(&vpcmodel.ListPortsRequest{DeviceId: &id, Limit: ptr(int32(100))})
		if err != nil || len(*ports.Ports) != 1 || (*ports.Ports)[0].SecurityGroups[0] != a.sgID {
			t.Fatalf("ListPorts device_id: %v %v", err, ports)
		}
		vols := s.OsExtendedVolumesvolumesAttached
		if len(vols) != 2 || str(vols[0].BootIndex) != "0" || str(vols[1].BootIndex) != "-1" {
			t.Fatalf("volumes_attached %+v", vols)
		}
		for i, va := range vols {
			v, err := evs.ShowVolume(&evsmodel.ShowVolumeRequest{VolumeId: va.Id})
			if err != nil {
				t.Fatalf("ShowVolume: %v", err)
			}
			wantType, wantSize, wantBoot := "SSD", int32(40), "true"
			if i == 1 {
				wantType, wantSize, wantBoot = "SAS", 20, "false"
			}
			if v.Volume.VolumeType != wantType || v.Volume.Size < wantSize || v.Volume.Bootable != wantBoot ||
				v.Volume.Status != "in-use" || len(v.Volume.Attachments) != 1 || v.Volume.Attachments[0].ServerId != id {
				t.Fatalf("volume %d: %+v", i, v.Volume)
			}
			bd, err := a.client.ShowServerBlockDevice(&model.ShowServerBlockDeviceRequest{ServerId: id, VolumeId: va.Id})
			wantIndex := int32(0)
			if i > 0 {
				wantIndex = -1
			}
			if err != nil || *bd.VolumeAttachment.BootIndex != wantIndex || *bd.VolumeAttachment.Device != va.Device {
				t.Fatalf("ShowServerBlockDevice: %v %v", err, bd)
			}
		}
		return s
	}
	read("s6.large.2")

	// Optional create steps: metadata, then edits of name and tags.
	md, err := a.client.UpdateServerMetadata(&model.UpdateServerMetadataRequest{ServerId: id,
		Body: &model.UpdateServerMetadataRequestBody{Metadata: map[string]string{"owner": "tf"}}})
	if err != nil || md.Metadata["owner"] != "tf" {
		t.Fatalf("UpdateServerMetadata: %v %v", err, md)
	}
	newName := "tf-renamed"
	upd, err := a.client.UpdateServer(&model.UpdateServerRequest{ServerId: id,
		Body: &model.UpdateServerRequestBody{Server: &model.UpdateServerOption{Name: &newName}}})
	if err != nil || upd.Server.Name != newName {
		t.Fatalf("UpdateServer: %v %v", err, upd)
	}
	if _, err := a.client.BatchCreateServerTags(&model.BatchCreateServerTagsRequest{ServerId: id,
		Body: &model.BatchCreateServerTagsRequestBody{Action: model.GetBatchCreateServerTagsRequestBodyActionEnum().CREATE,
			Tags: []model.BatchAddServerTag{{Key: "env", Value: ptr("dev")}}}}); err != nil {
		t.Fatalf("BatchCreateServerTags: %v", err)
	}
	tags, err := a.client.ShowServerTags(&model.ShowServerTagsRequest{ServerId: id})
	if err != nil || len(*tags.Tags) != 1 || (*tags.Tags)[0].Key != "env" || str((*tags.Tags)[0].Value) != "dev" {
		t.Fatalf("ShowServerTags: %v %v", err, tags)
	}
	s := read("s6.large.2")
	if s.Name != newName || s.Metadata["owner"] != "tf" {
		t.Fatalf("after the edits: name %q metadata %v", s.Name, s.Metadata)
	}

	// Change of flavor_id: v1.1 resize with extendparam.isAutoPay.
	mode := "withStopServer"
	rs, err := a.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
		Resize: &model.ResizePrePaidServerOption{FlavorRef: "c7.large.2", Mode: &mode,
			Extendparam: &model.ResizeServerExtendParam{IsAutoPay: ptr("true")}}}})
	if err != nil || rs.HttpStatusCode != http.StatusOK || rs.JobId == nil {
		t.Fatalf("ResizeServer: %v %v", err, rs)
	}
	a.wantJob(t, *rs.JobId, "SUCCESS")
	s = read("c7.large.2")
	if s.Status != "ACTIVE" {
		t.Fatalf("status after resize %s, want ACTIVE", s.Status)
	}

	// Delete, then the server, its volumes and its port are gone.
	vols := s.OsExtendedVolumesvolumesAttached
	portID := ""
	for _, addrs := range s.Addresses {
		portID = str(addrs[0].OSEXTIPSportId)
	}
	del, err := a.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
		Servers: []model.ServerId{{Id: id}}, DeletePublicip: ptr(true), DeleteVolume: ptr(true)}})
	if err != nil || del.HttpStatusCode != http.StatusOK {
		t.Fatalf("DeleteServers: %v", err)
	}
	a.wantJob(t, *del.JobId, "SUCCESS")
	_, err = a.client.ShowServer(&model.ShowServerRequest{ServerId: id})
	want404(t, "ShowServer", err)
	for _, va := range vols {
		_, err := evs.ShowVolume(&evsmodel.ShowVolumeRequest{VolumeId: va.Id})
		want404(t, "ShowVolume", err)
	}
	_, err = a.vpc.ShowPort(&vpcmodel.ShowPortRequest{PortId: portID})
	want404(t, "ShowPort", err)
	ports, err := a.vpc.ListPorts(&vpcmodel.ListPortsRequest{DeviceId: &id})
	if err != nil || len(*ports.Ports) != 0 {
		t.Fatalf("ListPorts after delete: %v %v", err, ports)
	}
}

// TestDeleteKeepsDataVolumes checks delete_volume false: the system disk
// goes with the server, the data disk stays, detached and available.
func TestDeleteKeepsDataVolumes(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	a := b.account
	auth := basic.NewCredentialsBuilder().WithAk(a.tenant.AccessKey).WithSk(a.tenant.SecretKey).WithProjectId(a.tenant.ProjectID).Build()
	evs := evssdk.NewEvsClient(evssdk.EvsClientBuilder().WithEndpoint(b.url).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpTransport(b.transport)).Build())
	srv := a.server("keep", "s6.large.2")
	srv.DataVolumes = &[]model.PostPaidServerDataVolume{{Volumetype: model.GetPostPaidServerDataVolumeVolumetypeEnum().SSD, Size: 10}}
	id := a.mustCreate(t, srv)[0]
	show, err := a.client.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil || len(show.Server.OsExtendedVolumesvolumesAttached) != 2 {
		t.Fatalf("ShowServer: %v %v", err, show)
	}
	vols := show.Server.OsExtendedVolumesvolumesAttached
	del, err := a.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{
		Servers: []model.ServerId{{Id: id}}, DeleteVolume: ptr(false)}})
	if err != nil {
		t.Fatalf("DeleteServers: %v", err)
	}
	a.wantJob(t, *del.JobId, "SUCCESS")
	_, err = evs.ShowVolume(&evsmodel.ShowVolumeRequest{VolumeId: vols[0].Id})
	want404(t, "ShowVolume of the system disk", err)
	v, err := evs.ShowVolume(&evsmodel.ShowVolumeRequest{VolumeId: vols[1].Id})
	if err != nil || v.Volume.Status != "available" || len(v.Volume.Attachments) != 0 {
		t.Fatalf("data disk after delete: %v %+v", err, v)
	}
}

func want404(t *testing.T, what string, err error) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
		t.Fatalf("%s after delete: %v, want 404", what, err)
	}
}

// TestTerraformPrePaid replays the provider's conversation for a
// yearly/monthly huaweicloud_compute_instance: v1.1 create with auto-pay,
// the order until status 5, the subscription query for the server ID, the
// read, a resize with isAutoPay and its order, the read, the unsubscribe,
// and the 404s after it.
func TestTerraformPrePaid(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	a := b.account
	billing := b.bss(a)
	auth := basic.NewCredentialsBuilder().WithAk(a.tenant.AccessKey).WithSk(a.tenant.SecretKey).WithProjectId(a.tenant.ProjectID).Build()
	evs := evssdk.NewEvsClient(evssdk.EvsClientBuilder().WithEndpoint(b.url).WithCredential(auth).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpTransport(b.transport)).Build())

	// Create: extendparam prePaid, isAutoPay; 200 with order_id and serverIds.
	create := a.createPrePaid(t, "tf-prepaid", "s6.large.2", true)
	if create.HttpStatusCode != http.StatusOK {
		t.Fatalf("CreateServers prePaid: HTTP %d", create.HttpStatusCode)
	}
	orderID := *create.OrderId
	// The order until status 5.
	if o := billing.show(t, orderID); *o.OrderInfo.Status != 5 {
		t.Fatalf("order %s status %d, want 5 (auto-paid)", orderID, *o.OrderInfo.Status)
	}
	a.wantJob(t, *create.JobId, "SUCCESS")
	// The subscription query for the resource ID.
	query := func(body *bssmodel.QueryResourcesReq) *bssmodel.ListPayPerUseCustomerResourcesResponse {
		t.Helper()
		resp, err := billing.client.ListPayPerUseCustomerResources(&bssmodel.ListPayPerUseCustomerResourcesRequest{Body: body})
		if err != nil || resp.HttpStatusCode != http.StatusOK || resp.TotalCount == nil || resp.Data == nil {
			t.Fatalf("ListPayPerUseCustomerResources: %v %v", err, resp)
		}
		return resp
	}
	res := query(&bssmodel.QueryResourcesReq{OrderId: &orderID, OnlyMainResource: ptr(int32(1))})
	if *res.TotalCount < 1 || len(*res.Data) != 1 {
		t.Fatalf("subscriptions of order %s: total %d, %d entries", orderID, *res.TotalCount, len(*res.Data))
	}
	sub := (*res.Data)[0]
	id := str(sub.ResourceId)
	if id != (*create.ServerIds)[0] || sub.Status == nil || *sub.Status != 2 || sub.ExpireTime == nil || sub.IsMainResource == nil || *sub.IsMainResource != 1 {
		t.Fatalf("subscription %+v, want server %s in use", sub, (*create.ServerIds)[0])
	}
	if _, err := time.Parse(time.RFC3339, str(sub.ExpireTime)); err != nil {
		t.Fatalf("expire_time %q: %v", str(sub.ExpireTime), err)
	}

	read := func(wantFlavor string) *model.ServerDetail {
		t.Helper()
		s := a.show(t, id)
		if s.Flavor.Id != wantFlavor || s.Metadata["charging_mode"] != "1" || s.Status != "ACTIVE" {
			t.Fatalf("server flavor %s charging_mode %q status %s", s.Flavor.Id, s.Metadata["charging_mode"], s.Status)
		}
		list, err := a.client.ListCloudServers(&model.ListCloudServersRequest{Id: &id, ExpectFields: &[]string{"market_info"}})
		if err != nil || list.Servers == nil || len(*list.Servers) != 1 {
			t.Fatalf("ListCloudServers id market_info: %v %v", err, list)
		}
		for _, va := range s.OsExtendedVolumesvolumesAttached {
			if _, err := evs.ShowVolume(&evsmodel.ShowVolumeRequest{VolumeId: va.Id}); err != nil {
				t.Fatalf("ShowVolume: %v", err)
			}
		}
		return s
	}
	read("s6.large.2")

	// Change of flavor_id: v1.1 resize with isAutoPay; 200 with a job_id.
	mode := "withStopServer"
	rs, err := a.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
		Resize: &model.ResizePrePaidServerOption{FlavorRef: "s6.xlarge.2", Mode: &mode,
			Extendparam: &model.ResizeServerExtendParam{IsAutoPay: ptr("true")}}}})
	if err != nil || rs.HttpStatusCode != http.StatusOK || rs.JobId == nil {
		t.Fatalf("ResizeServer: %v %v", err, rs)
	}
	if rs.OrderId != nil {
		if o := billing.show(t, *rs.OrderId); *o.OrderInfo.Status != 5 {
			t.Fatalf("resize order status %d, want 5", *o.OrderInfo.Status)
		}
	}
	a.wantJob(t, *rs.JobId, "SUCCESS")
	s := read("s6.xlarge.2")
	vols := s.OsExtendedVolumesvolumesAttached

	// Delete: unsubscribe, then wait for the 404.
	un, err := billing.client.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{
		Body: &bssmodel.UnsubscribeResourcesReq{ResourceIds: []string{id}, UnsubscribeType: 1}})
	if err != nil || un.HttpStatusCode != http.StatusOK || un.OrderIds == nil || len(*un.OrderIds) != 1 {
		t.Fatalf("CancelResourcesSubscription: %v %v", err, un)
	}
	if o := billing.show(t, (*un.OrderIds)[0]); *o.OrderInfo.Status != 5 || *o.OrderInfo.OrderType != 4 {
		t.Fatalf("unsubscribe order: status %d type %d, want 5 and 4", *o.OrderInfo.Status, *o.OrderInfo.OrderType)
	}
	waitFor(t, "the unsubscribed server to be gone", func() bool {
		_, err := a.client.ShowServer(&model.ShowServerRequest{ServerId: id})
		se, ok := asSDKError(err)
		return ok && se.StatusCode == http.StatusNotFound
	})
	for _, va := range vols {
		_, err := evs.ShowVolume(&evsmodel.ShowVolumeRequest{VolumeId: va.Id})
		want404(t, "ShowVolume", err)
	}
	if res := query(&bssmodel.QueryResourcesReq{ResourceIds: &[]string{id}}); *res.TotalCount != 0 {
		t.Fatalf("subscriptions after the unsubscribe: %d", *res.TotalCount)
	}
	// A pay-per-use server cannot be unsubscribed.
	ppu := a.mustCreateOne(t, "ppu", "s6.small.1", "")
	_, err = billing.client.CancelResourcesSubscription(&bssmodel.CancelResourcesSubscriptionRequest{
		Body: &bssmodel.UnsubscribeResourcesReq{ResourceIds: []string{ppu}, UnsubscribeType: 1}})
	if se, ok := asSDKError(err); !ok || se.StatusCode != http.StatusBadRequest {
		t.Fatalf("unsubscribe of a pay-per-use server: %v, want HTTP 400", err)
	}
}
