package compute

import (
	"context"
	"database/sql"

	ecs "github.com/ecsd-dev/ecsd"
)

// flavorArch returns the CPU architecture a flavor runs on.
func flavorArch(f *ecs.Flavor) string {
	if f.ExtraSpecs["ecs:instance_architecture"] == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// hostUsage is what is placed on one host.
type hostUsage struct {
	host         ecs.Host
	vcpus, ramMB int
}

func (h *hostUsage) fits(vcpus, ramMB int) bool {
	return h.vcpus+vcpus <= h.host.VCPUs && h.ramMB+ramMB <= h.host.RAMMB
}

// usageInAZ adds up, per host of az, the flavors of the servers placed there
// and the targets of resizes in progress.
func (s *Service) usageInAZ(ctx context.Context, tx *sql.Tx, az string) ([]*hostUsage, error) {
	hosts, err := s.Store.Hosts(ctx, tx, az)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*hostUsage, len(hosts))
	out := make([]*hostUsage, 0, len(hosts))
	for _, h := range hosts {
		u := &hostUsage{host: h}
		if s.Market != nil {
			u.vcpus, u.ramMB = s.Market.TakenCapacity(h.ID)
		}
		byID[h.ID] = u
		out = append(out, u)
	}
	groups, err := s.Store.HostUsage(ctx, tx, az)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		cur, ok := s.Catalog.Flavor(g.FlavorID)
		if !ok {
			continue
		}
		if u := byID[g.HostID]; u != nil {
			u.vcpus += g.Count * cur.VCPUs
			u.ramMB += g.Count * cur.RAMMB
		}
		if g.ResizeFlavorID == "" {
			continue
		}
		next, ok := s.Catalog.Flavor(g.ResizeFlavorID)
		if !ok {
			continue
		}
		u := byID[g.ResizeHostID]
		switch {
		case u == nil:
		case g.ResizeHostID == g.HostID:
			u.vcpus += g.Count * max(0, next.VCPUs-cur.VCPUs)
			u.ramMB += g.Count * max(0, next.RAMMB-cur.RAMMB)
		default:
			u.vcpus += g.Count * next.VCPUs
			u.ramMB += g.Count * next.RAMMB
		}
	}
	return out, nil
}

// place picks a host of az for n servers of flavor f, one host per server.
// It packs: each server goes to the host of the right architecture that fits
// it with the fewest vCPUs left over, so that large hosts stay free for large
// flavors. It returns nil when the servers do not all fit.
func place(usage []*hostUsage, f *ecs.Flavor, n int) []string {
	var hosts []string
	for range n {
		best := bestFit(usage, f, "")
		if best == nil {
			return nil
		}
		best.vcpus += f.VCPUs
		best.ramMB += f.RAMMB
		hosts = append(hosts, best.host.ID)
	}
	return hosts
}

// bestFit returns the host (other than skip) that fits f with the fewest
// vCPUs left, ties broken by host ID; nil when none fits.
func bestFit(usage []*hostUsage, f *ecs.Flavor, skip string) *hostUsage {
	arch := flavorArch(f)
	var best *hostUsage
	for _, u := range usage {
		if u.host.ID == skip || u.host.Arch != arch || !u.fits(f.VCPUs, f.RAMMB) {
			continue
		}
		left, bestLeft := u.host.VCPUs-u.vcpus, 0
		if best != nil {
			bestLeft = best.host.VCPUs - best.vcpus
		}
		if best == nil || left < bestLeft || (left == bestLeft && u.host.ID < best.host.ID) {
			best = u
		}
	}
	return best
}

// placeResize finds a host for a server growing from cur to next: its own
// host when the difference fits there, else the best-fitting other host of
// its AZ for the whole target (a migration). It returns "" when none fits.
func placeResize(usage []*hostUsage, srv *ecs.Server, cur, next *ecs.Flavor) string {
	arch := flavorArch(next)
	for _, u := range usage {
		if u.host.ID == srv.HostID && u.host.Arch == arch &&
			u.fits(max(0, next.VCPUs-cur.VCPUs), max(0, next.RAMMB-cur.RAMMB)) {
			return u.host.ID
		}
	}
	if best := bestFit(usage, next, srv.HostID); best != nil {
		return best.host.ID
	}
	return ""
}

// checkQuota returns an ecs.CodeQuota error when adding n servers of
// vcpus/ramMB each (or growing by that much, n = 0) would exceed the quota.
func checkQuota(l *ecs.Limits, spot bool, n, vcpus, ramMB int) error {
	used := [3]int{l.InstancesUsed, l.CoresUsed, l.RAMUsedMB}
	if spot {
		// Spot servers count against their own counters, which share the
		// project's limits.
		used = [3]int{l.SpotInstancesUsed, l.SpotCoresUsed, l.SpotRAMUsedMB}
	}
	limit := [3]int{l.Instances, l.Cores, l.RAMMB}
	want := [3]int{n, vcpus, ramMB}
	names := [3]string{"instances", "cores", "ram"}
	for i := range 3 {
		if want[i] <= 0 || limit[i] < 0 {
			continue
		}
		if used[i]+want[i] > limit[i] {
			return ecs.Errorf(ecs.CodeQuota, "Quota exceeded for %s: requested %d, used %d, limit %d.", names[i], want[i], used[i], limit[i])
		}
	}
	return nil
}
