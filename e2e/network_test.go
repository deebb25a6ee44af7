package e2e_test

import (
	"testing"

	imsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/node"
)

// TestNetworkAndImages covers the VPC (ListVpcs, ListSubnets,
// ListSecurityGroups) and IMS (ListImages) slices through their own SDKs:
// the default network of every project and the public images.
func TestNetworkAndImages(t *testing.T) {
	t.Parallel()
	second := testTenant(5, ecs.DefaultQuota)
	b := setupWith(t, options{tenants: []node.TenantQuota{second}})
	other := b.login(t, second.Tenant)

	for _, a := range []*account{b.account, other} {
		vpcs, err := a.vpc.ListVpcs(&vpcmodel.ListVpcsRequest{})
		if err != nil {
			t.Fatalf("ListVpcs: %v", err)
		}
		if len(*vpcs.Vpcs) != 1 {
			t.Fatalf("project %s has %d VPCs, want the default one", a.tenant.ProjectID, len(*vpcs.Vpcs))
		}
		v := (*vpcs.Vpcs)[0]
		if v.Name != "vpc-default" || v.Cidr != "192.168.0.0/16" || v.Status.Value() != "OK" || v.TenantId != a.tenant.ProjectID || v.CreatedAt == nil {
			t.Errorf("VPC %+v", v)
		}

		subnets, err := a.vpc.ListSubnets(&vpcmodel.ListSubnetsRequest{})
		if err != nil {
			t.Fatalf("ListSubnets: %v", err)
		}
		if len(*subnets.Subnets) != 1 {
			t.Fatalf("%d subnets, want 1", len(*subnets.Subnets))
		}
		s := (*subnets.Subnets)[0]
		if s.Name != "subnet-default" || s.Cidr != "192.168.0.0/24" || s.GatewayIp != "192.168.0.1" || s.VpcId != v.Id ||
			s.Status.Value() != "ACTIVE" || !s.DhcpEnable || s.AvailableIpAddressCount <= 0 {
			t.Errorf("subnet %+v", s)
		}
		byVPC, err := a.vpc.ListSubnets(&vpcmodel.ListSubnetsRequest{VpcId: ptr(unknownID)})
		if err != nil || len(*byVPC.Subnets) != 0 {
			t.Errorf("ListSubnets vpc_id=<unknown>: %v %v, want none", err, byVPC.Subnets)
		}

		sgs, err := a.vpc.ListSecurityGroups(&vpcmodel.ListSecurityGroupsRequest{})
		if err != nil {
			t.Fatalf("ListSecurityGroups: %v", err)
		}
		if len(*sgs.SecurityGroups) != 1 || (*sgs.SecurityGroups)[0].Name != "default" {
			t.Errorf("security groups %+v, want the default one", *sgs.SecurityGroups)
		}
	}
	if b.vpcID == other.vpcID || b.subnetID == other.subnetID || b.sgID == other.sgID {
		t.Errorf("two projects share network IDs: %s/%s/%s", b.vpcID, b.subnetID, b.sgID)
	}

	imgs, err := b.ims.ListImages(&imsmodel.ListImagesRequest{})
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	byID := map[string]imsmodel.ImageInfo{}
	for _, img := range *imgs.Images {
		byID[img.Id] = img
	}
	for id, name := range map[string]string{
		imageUbuntu22:  "Ubuntu 22.04 server 64bit(40GB)",
		imageUbuntu20:  "Ubuntu 20.04 server 64bit(40GB)",
		imageUbuntuArm: "Ubuntu 22.04 server 64bit with ARM(40GB)",
	} {
		img, ok := byID[id]
		if !ok {
			t.Errorf("image %s (%s) missing", id, name)
			continue
		}
		if img.Name != name || img.MinDisk != 40 || img.OsType.Value() != "Linux" || img.Status.Value() != "active" {
			t.Errorf("image %s: name %q min_disk %d os_type %s status %s", id, img.Name, img.MinDisk, img.OsType.Value(), img.Status.Value())
		}
	}
	if len(byID) < 9 {
		t.Errorf("%d images, want the 9 public images", len(byID))
	}
	if x := byID[imageUbuntu20]; str(x.SupportXen) != "true" || str(x.SupportKvm) != "true" {
		t.Errorf("Ubuntu 20.04: __support_xen %s __support_kvm %s, want true and true", str(x.SupportXen), str(x.SupportKvm))
	}
}
