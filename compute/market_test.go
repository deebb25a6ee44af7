package compute_test

import (
	"slices"
	"sync"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
)

// fakeMarket is a compute.Market with sold-out flavors ("flavor/az") and
// taken capacity per host.
type fakeMarket struct {
	mu      sync.Mutex
	soldOut map[string]bool
	taken   map[string][2]int
}

func (m *fakeMarket) SoldOut(flavorID, az string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.soldOut[flavorID+"/"+az]
}

func (m *fakeMarket) TakenCapacity(hostID string) (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.taken[hostID]
	return t[0], t[1]
}

func TestMarketSoldOut(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	b.svc.Market = &fakeMarket{soldOut: map[string]bool{"s6.small.1/cn-north-4a": true, "s6.large.2/cn-north-4a": true}}
	p := b.newProject(t, ecs.DefaultQuota)

	// A create in the zone is refused; without a zone it goes elsewhere.
	_, err := b.svc.CreateServers(ctx, createRequest(p, func(r *ecs.CreateServersRequest) { r.AvailabilityZone = "cn-north-4a" }))
	requireCode(t, err, ecs.CodeInsufficientCap)
	res := b.mustCreate(t, createRequest(p, nil))
	if az := b.server(t, res.ServerIDs[0]).AvailabilityZone; az == "cn-north-4a" {
		t.Errorf("server created in %s, where its flavor is sold out", az)
	}

	// A resize to a flavor sold out in the server's zone is refused, and
	// the lists hide it there only.
	srv := b.mustInsertServer(t, p, nil) // s6.small.1 in cn-north-4a
	_, err = b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.large.2", APIVersion: "v1"})
	requireCode(t, err, ecs.CodeInsufficientCap)
	if _, err := b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2", APIVersion: "v1", DryRun: true}); err != nil {
		t.Errorf("resize to a flavor on sale: %v", err)
	}
	targets, err := b.svc.ResizeFlavors(ctx, &ecs.ResizeFlavorsRequest{ProjectID: p, InstanceID: srv.ID})
	if err != nil || slices.Contains(flavorIDs(targets), "s6.large.2") || !slices.Contains(flavorIDs(targets), "s6.xlarge.2") {
		t.Errorf("ResizeFlavors(instance in cn-north-4a) = %v, %v; want s6.xlarge.2 without s6.large.2", flavorIDs(targets), err)
	}
	targets, err = b.svc.ResizeFlavors(ctx, &ecs.ResizeFlavorsRequest{ProjectID: p, SourceFlavorID: "s6.small.1"})
	if err != nil || !slices.Contains(flavorIDs(targets), "s6.large.2") {
		t.Errorf("ResizeFlavors(source flavor, no zone) = %v, %v; want s6.large.2", flavorIDs(targets), err)
	}
	for az, want := range map[string]bool{"cn-north-4a": false, "cn-north-4c": true} {
		fs, err := b.svc.FindFlavors(ctx, ecs.FlavorFilter{AvailabilityZone: &az})
		if err != nil || slices.Contains(flavorIDs(fs), "s6.large.2") != want {
			t.Errorf("FindFlavors(%s) lists s6.large.2: %v (%v), want %v", az, !want, err, want)
		}
	}
}

func TestMarketTakenCapacity(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t)
	b.setHosts(t,
		ecs.Host{ID: "a-1", AZ: "cn-north-4a", VCPUs: 4, RAMMB: 8192, Arch: "x86_64"},
		ecs.Host{ID: "b-1", AZ: "cn-north-4b", VCPUs: 4, RAMMB: 8192, Arch: "x86_64"},
	)
	m := &fakeMarket{taken: map[string][2]int{"a-1": {4, 0}, "b-1": {0, 8192}}}
	b.svc.Market = m
	p := b.newProject(t, ecs.DefaultQuota)
	_, err := b.svc.CreateServers(ctx, createRequest(p, nil))
	requireCode(t, err, ecs.CodeInsufficientCap)

	m.mu.Lock()
	m.taken["a-1"] = [2]int{3, 0}
	m.mu.Unlock()
	res := b.mustCreate(t, createRequest(p, nil)) // s6.small.1: 1 vCPU
	if s := b.server(t, res.ServerIDs[0]); s.HostID != "a-1" {
		t.Errorf("server on %s, want a-1, the only host with room left", s.HostID)
	}
	_, err = b.svc.CreateServers(ctx, createRequest(p, nil))
	requireCode(t, err, ecs.CodeInsufficientCap)
}
