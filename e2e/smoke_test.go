package e2e_test

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	imssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	imsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	vpcsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

func TestSmokeResize(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")
	c := b.client
	auth := basic.NewCredentialsBuilder().WithAk(ecs.DevTenant.AccessKey).WithSk(ecs.DevTenant.SecretKey).WithProjectId(ecs.DevTenant.ProjectID).Build()
	ims := imssdk.NewImsClient(imssdk.ImsClientBuilder().WithEndpoint(b.url).WithCredential(auth).Build())
	imgs, err := ims.ListImages(&imsmodel.ListImagesRequest{})
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	vpc := vpcsdk.NewVpcClient(vpcsdk.VpcClientBuilder().WithEndpoint(b.url).WithCredential(auth).Build())
	vpcs, err := vpc.ListVpcs(&vpcmodel.ListVpcsRequest{})
	if err != nil {
		t.Fatalf("ListVpcs: %v", err)
	}
	subnets, err := vpc.ListSubnets(&vpcmodel.ListSubnetsRequest{})
	if err != nil {
		t.Fatalf("ListSubnets: %v", err)
	}
	var imageID string
	for _, img := range *imgs.Images {
		if img.Name == "Ubuntu 22.04 server 64bit(40GB)" {
			imageID = img.Id
		}
	}
	t.Logf("image %s vpc %s subnet %s", imageID, (*vpcs.Vpcs)[0].Id, (*subnets.Subnets)[0].Id)
	create, err := c.CreatePostPaidServers(&model.CreatePostPaidServersRequest{Body: &model.CreatePostPaidServersRequestBody{
		Server: &model.PostPaidServer{
			Name: "smoke", ImageRef: imageID, FlavorRef: "s6.large.2", Vpcid: (*vpcs.Vpcs)[0].Id,
			Nics:       []model.PostPaidServerNic{{SubnetId: &(*subnets.Subnets)[0].Id}},
			RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
		},
	}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := (*create.ServerIds)[0]
	job := waitJob(t, c, *create.JobId)
	t.Logf("create job %s", job)
	stop, err := c.BatchStopServers(&model.BatchStopServersRequest{Body: &model.BatchStopServersRequestBody{
		OsStop: &model.BatchStopServersOption{Servers: []model.ServerId{{Id: id}}},
	}})
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	waitJob(t, c, *stop.JobId)
	rf, err := c.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &id})
	if err != nil {
		t.Fatalf("resize flavors: %v", err)
	}
	t.Logf("%d targets", len(*rf.Flavors))
	rs, err := c.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id, Body: &model.ResizePostPaidServerRequestBody{
		Resize: &model.ResizePostPaidServerOption{FlavorRef: "c7.xlarge.2"},
	}})
	if err != nil {
		t.Fatalf("resize: %v", err)
	}
	job = waitJob(t, c, *rs.JobId)
	t.Logf("resize job %s", job)
	show, err := c.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	if show.Server.Flavor.Id != "c7.xlarge.2" || show.Server.Status != "SHUTOFF" {
		t.Fatalf("after resize: flavor %s status %s", show.Server.Flavor.Id, show.Server.Status)
	}
}
