package compute_test

import (
	"net/netip"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// A seed may put more servers in a project than its default /24 subnet
// holds: it adds /24 subnets to the project's VPC as each fills up, and
// places all the servers of one seed against one reading of host usage.
func TestSeedGrowsSubnets(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setupAdmin(t)
	p := b.newProject(t, ecs.Quota{Instances: -1, Cores: -1, RAMMB: -1})
	servers, err := b.admin.Seed(ctx, compute.Seed{Servers: []compute.SeedServer{
		{Ref: "servers[0]", ProjectID: p, Name: "a", FlavorID: "s6.small.1", Image: imageUbuntu22, Status: ecs.StatusShutoff, Count: 200, AZ: "cn-north-4a"},
		{Ref: "servers[1]", ProjectID: p, Name: "b", FlavorID: "s6.small.1", Image: imageUbuntu22, Status: ecs.StatusShutoff, Count: 100, AZ: "cn-north-4a"},
	}})
	if err != nil {
		t.Fatalf("Seed of 300 servers: %v", err)
	}
	subnets, err := b.svc.FindSubnets(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	cidrs := map[string]string{}
	for _, sn := range subnets {
		cidrs[sn.ID] = sn.CIDR
	}
	if len(subnets) != 2 || !contains(cidrs, "192.168.0.0/24") || !contains(cidrs, "192.168.1.0/24") {
		t.Fatalf("subnets = %v, want the default 192.168.0.0/24 and a seeded 192.168.1.0/24", cidrs)
	}
	ips := map[string]bool{}
	perHost := map[string]int{}
	for _, s := range servers {
		prefix := netip.MustParsePrefix(cidrs[s.SubnetID])
		if !prefix.Contains(netip.MustParseAddr(s.IPAddress)) {
			t.Errorf("server %s: address %s outside its subnet %s", s.Name, s.IPAddress, prefix)
		}
		if ips[s.IPAddress] {
			t.Errorf("address %s given twice", s.IPAddress)
		}
		ips[s.IPAddress] = true
		perHost[s.HostID]++
	}
	// The default x86 hosts of cn-north-4a hold 96 + 96 + 224 one-vCPU
	// servers: placed against one reading of usage, no host is overbooked.
	for host, n := range perHost {
		if limit := map[string]int{"cn-north-4a-x86-01": 96, "cn-north-4a-x86-02": 96, "cn-north-4a-hm-01": 224}[host]; n > limit {
			t.Errorf("host %s holds %d servers, more than its %d vCPUs", host, n, limit)
		}
	}
	// A second seed goes on in the seeded subnet.
	more, err := b.admin.Seed(ctx, compute.Seed{Servers: []compute.SeedServer{
		{Ref: "servers[0]", ProjectID: p, Name: "c", FlavorID: "s6.small.1", Image: imageUbuntu22, Status: ecs.StatusShutoff, Count: 1, AZ: "cn-north-4a"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cidrs[more[0].SubnetID]; got != "192.168.1.0/24" || ips[more[0].IPAddress] {
		t.Errorf("next seeded server in %s at %s, want a new address in 192.168.1.0/24", got, more[0].IPAddress)
	}
	// Beyond what the AZ holds, the seed fails whole.
	if _, err := b.admin.Seed(ctx, compute.Seed{Servers: []compute.SeedServer{
		{Ref: "servers[0]", ProjectID: p, Name: "d", FlavorID: "s6.small.1", Image: imageUbuntu22, Count: 200, AZ: "cn-north-4a"},
	}}); err == nil {
		t.Error("seeding past the AZ's capacity succeeded")
	}
}

func contains(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}
