package compute

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// seedAddress allocates the address of a seeded server in the first subnet
// of vpc (*subnets, in order) with one left. When every subnet is full, it
// adds a /24 subnet to the VPC (subnet-seed-N, 192.168.N.0/24 for the next
// free N of the VPC's 192.168.0.0/16), so that a seed may put more servers
// in a project than its default /24 subnet holds.
func (s *Service) seedAddress(ctx context.Context, tx *sql.Tx, vpc *ecs.VPC, subnets *[]*ecs.Subnet) (string, *ecs.Subnet, error) {
	for {
		// The full subnets lead the list: try the last one first.
		sn := (*subnets)[len(*subnets)-1]
		ip, err := s.allocateIP(ctx, tx, sn)
		if err == nil {
			return ip, sn, nil
		}
		if ecs.ErrorCode(err) != codeSubnetFull {
			return "", nil, err
		}
		next, err := nextSeedSubnet(vpc, *subnets, s.now())
		if err != nil {
			return "", nil, err
		}
		if err := s.Store.InsertSubnet(ctx, tx, next); err != nil {
			return "", nil, err
		}
		*subnets = append(*subnets, next)
	}
}

// nextSeedSubnet returns a new /24 subnet of vpc with the lowest third
// octet that no subnet of subnets uses.
func nextSeedSubnet(vpc *ecs.VPC, subnets []*ecs.Subnet, now time.Time) (*ecs.Subnet, error) {
	base, err := netip.ParsePrefix(vpc.CIDR)
	if err != nil || !base.Addr().Is4() || base.Bits() > 16 {
		return nil, ecs.Errorf(codeSubnetFull, "The subnets of VPC %s are full and its CIDR %s has no room for another /24.", vpc.ID, vpc.CIDR)
	}
	used := map[byte]bool{}
	for _, sn := range subnets {
		if p, err := netip.ParsePrefix(sn.CIDR); err == nil && p.Addr().Is4() {
			used[p.Addr().As4()[2]] = true
		}
	}
	a := base.Masked().Addr().As4()
	for n := 0; n < 256; n++ {
		if used[byte(n)] {
			continue
		}
		a[2] = byte(n)
		net := netip.AddrFrom4(a)
		gw := net.Next()
		name := fmt.Sprintf("subnet-seed-%d", n)
		return &ecs.Subnet{ID: DerivedUUID(vpc.ProjectID + "/" + vpc.ID + "/" + name), ProjectID: vpc.ProjectID, VPCID: vpc.ID,
			Name: name, CIDR: netip.PrefixFrom(net, 24).String(), GatewayIP: gw.String(), Created: now}, nil
	}
	return nil, ecs.Errorf(codeSubnetFull, "The subnets of VPC %s are full and its CIDR %s has no room for another /24.", vpc.ID, vpc.CIDR)
}
