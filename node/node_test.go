package node_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/internal/poll"
	"github.com/ecsd-dev/ecsd/node"
	"github.com/ecsd-dev/ecsd/seed"
)

const imageUbuntu22 = "abe65701-8a26-40ec-b381-c10498ca3745"

// start runs a node on the data directory dir with the development tenant
// and the start-up seed doc (nil for none); it stops when the test ends, or
// earlier with Close.
func start(t *testing.T, dir string, doc *seed.Document) *node.Node {
	t.Helper()
	n := node.New(node.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Region: "cn-north-4", Driver: "sim", Timing: "instant",
		Tenants: []node.TenantQuota{{Tenant: ecs.DevTenant, Quota: ecs.DefaultQuota}}, Version: "test", Seed: doc,
	}, slog.New(slog.DiscardHandler), io.Discard)
	if err := n.Run(t.Context()); err != nil {
		n.Close()
		t.Fatalf("start ecsd: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("stop ecsd: %v", err)
		}
	})
	return n
}

func parse(t *testing.T, doc string) *seed.Document {
	t.Helper()
	d, err := seed.Parse([]byte(doc), seed.FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// load loads a seed document at run time, as POST /_ecsd/seed does.
func load(t *testing.T, n *node.Node, doc string) error {
	t.Helper()
	_, err := seed.Load(t.Context(), n.State.Admin, parse(t, doc), n.State.Seed)
	return err
}

// hasFlavor reports whether ListFlavors shows the flavor.
func hasFlavor(t *testing.T, n *node.Node, id string) bool {
	t.Helper()
	fs, err := n.Service.FindFlavors(t.Context(), ecs.FlavorFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(fs, func(f *ecs.Flavor) bool { return f.ID == id })
}

// waitJob waits for a job to end and wants it to succeed.
func waitJob(t *testing.T, n *node.Node, id string) {
	t.Helper()
	var j *ecs.Job
	poll.For(t, 30*time.Second, "job "+id+" to end", func() bool {
		var err error
		if j, err = n.Service.FindJobByID(t.Context(), "", id); err != nil {
			t.Fatal(err)
		}
		return j.Done()
	})
	if j.Status != ecs.JobSuccess {
		t.Fatalf("job %s (%s) failed: %s", id, j.Type, j.FailReason)
	}
}

// create creates a running server of flavor and returns its ID.
func create(t *testing.T, n *node.Node, name, flavor string) string {
	t.Helper()
	p := ecs.DevTenant.ProjectID
	res, err := n.Service.CreateServers(t.Context(), &ecs.CreateServersRequest{
		ProjectID: p, Name: name, ImageID: imageUbuntu22, FlavorID: flavor, Count: 1, ChargingMode: ecs.ChargingPostPaid,
		VPCID: compute.DerivedUUID(p + "/vpc"), SubnetIDs: []string{compute.DerivedUUID(p + "/subnet")},
	})
	if err != nil {
		t.Fatalf("CreateServers(%s): %v", flavor, err)
	}
	waitJob(t, n, res.JobID)
	return res.ServerIDs[0]
}

func flavorOf(t *testing.T, n *node.Node, serverID string) string {
	t.Helper()
	s, err := n.Service.FindServerByID(t.Context(), "", serverID)
	if err != nil {
		t.Fatal(err)
	}
	return s.FlavorID
}

const addFlavor = `
flavors:
  - id: s6.3xlarge.2
    vcpus: 12
    ram: 24576
    family: s6
`

// TestSeedFlavors: a seed document's flavor overrides are in force for
// every part of the node, survive a restart and a snapshot, and go with a
// full reset; a flavor in use cannot be removed.
func TestSeedFlavors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	n := start(t, dir, nil)

	if hasFlavor(t, n, "s6.3xlarge.2") {
		t.Fatal("s6.3xlarge.2 before the seed")
	}
	soldOut := fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.3xlarge.2", AZ: "cn-north-4c"}}
	if _, err := n.Faults.Add(ctx, soldOut); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("a fault rule on an unknown flavor: %v", err)
	}
	if err := load(t, n, addFlavor); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !hasFlavor(t, n, "s6.3xlarge.2") {
		t.Fatal("ListFlavors does not show s6.3xlarge.2")
	}
	if _, err := n.Faults.Add(ctx, soldOut); err != nil {
		t.Errorf("a fault rule on the new flavor: %v", err)
	}

	// Create and resize with it: the API, the jobs and the driver know it.
	big := create(t, n, "big", "s6.3xlarge.2")
	if st, err := n.Driver.Inspect(ctx, big); err != nil || st.Shape.VCPUs != 12 || st.Shape.RAMMB != 24576 {
		t.Errorf("driver instance of big: %+v, %v", st, err)
	}
	small := create(t, n, "small", "s6.large.2")
	job, err := n.Service.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: ecs.DevTenant.ProjectID, ServerID: small,
		FlavorID: "s6.3xlarge.2", WithStop: true, APIVersion: "v1"})
	if err != nil {
		t.Fatalf("resize to s6.3xlarge.2: %v", err)
	}
	waitJob(t, n, job)
	if f := flavorOf(t, n, small); f != "s6.3xlarge.2" {
		t.Errorf("resized server has flavor %s", f)
	}

	// A flavor in use cannot be removed.
	err = load(t, n, "flavors:\n  - id: s6.3xlarge.2\n    remove: true\n")
	if ecs.ErrorCode(err) != compute.CodeInvalidSeed || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), small) {
		t.Errorf("removing a flavor in use: %v", err)
	}

	// A restart on the same store keeps it.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = start(t, dir, nil)
	if !hasFlavor(t, n, "s6.3xlarge.2") || flavorOf(t, n, big) != "s6.3xlarge.2" {
		t.Fatal("s6.3xlarge.2 lost in the restart")
	}
	snap, err := n.State.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Settings[seed.OverridesSetting] == "" {
		t.Error("the snapshot has no catalogue overrides")
	}

	// A full reset removes it, for good; an import brings it back.
	if _, _, err := n.State.Reset(ctx, ""); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if hasFlavor(t, n, "s6.3xlarge.2") {
		t.Error("s6.3xlarge.2 survived a full reset")
	}
	if _, err := n.Faults.Add(ctx, soldOut); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("a fault rule on a flavor gone: %v", err)
	}
	bad := *snap
	bad.Settings = map[string]string{seed.OverridesSetting: `[{"id": "x9.large.2", "remove": true}]`}
	if _, err := n.State.Import(ctx, &bad); ecs.ErrorCode(err) != "Ecsd.BadRequest" || !strings.Contains(err.Error(), "x9.large.2") {
		t.Errorf("importing overrides that do not apply: %v", err)
	}
	if _, err := n.State.Import(ctx, snap); err != nil {
		t.Fatalf("import: %v", err)
	}
	if !hasFlavor(t, n, "s6.3xlarge.2") || flavorOf(t, n, big) != "s6.3xlarge.2" {
		t.Error("the import did not bring s6.3xlarge.2 back")
	}
	if _, _, err := n.State.Reset(ctx, ""); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = start(t, dir, nil)
	if hasFlavor(t, n, "s6.3xlarge.2") {
		t.Error("s6.3xlarge.2 back after a reset and a restart")
	}
}

// TestStartupSeedFlavors: the --seed document's overrides are part of the
// start-up catalogue, which a full reset returns to; a project reset leaves
// the catalogue alone.
func TestStartupSeedFlavors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	doc := parse(t, `
flavors:
  - id: s6.huge.2
    vcpus: 32
    ram: 65536
    family: s6
  - id: s6.small.1
    remove: true
servers:
  - project_id: `+ecs.DevTenant.ProjectID+`
    name: huge
    flavor: s6.huge.2
    image: `+imageUbuntu22+`
`)
	n := start(t, dir, doc)
	if !hasFlavor(t, n, "s6.huge.2") || hasFlavor(t, n, "s6.small.1") {
		t.Fatal("the start-up seed's overrides are not in force")
	}
	if err := load(t, n, addFlavor); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.State.Reset(ctx, ecs.DevTenant.ProjectID); err != nil {
		t.Fatal(err)
	}
	if !hasFlavor(t, n, "s6.3xlarge.2") {
		t.Error("a project reset changed the catalogue")
	}
	if _, _, err := n.State.Reset(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if hasFlavor(t, n, "s6.3xlarge.2") || !hasFlavor(t, n, "s6.huge.2") || hasFlavor(t, n, "s6.small.1") {
		t.Error("a full reset did not return to the start-up catalogue")
	}
	// A restart of a store that holds servers does not load the start-up
	// seed again, and keeps the catalogue.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = start(t, dir, doc)
	if !hasFlavor(t, n, "s6.huge.2") || hasFlavor(t, n, "s6.small.1") || len(n.Overrides.List()) != 2 {
		t.Errorf("after a restart: %d overrides", len(n.Overrides.List()))
	}
}

// TestSeedFlavorsWhileServing loads seed documents with flavors while
// readers use the catalogue through the service, the fault engine and the
// driver recovery; run with -race.
func TestSeedFlavorsWhileServing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	n := start(t, "", nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := n.Service.FindFlavors(ctx, ecs.FlavorFilter{}); err != nil {
					t.Error(err)
					return
				}
				if _, err := n.Service.ResizeFlavors(ctx, &ecs.ResizeFlavorsRequest{ProjectID: ecs.DevTenant.ProjectID,
					SourceFlavorID: "s6.large.2"}); err != nil {
					t.Error(err)
					return
				}
				_ = n.State.Admin.RecoverDriver(ctx)
			}
		})
	}
	for i := range 10 {
		doc := addFlavor
		if i > 0 {
			doc = fmt.Sprintf("flavors:\n  - {id: s6.3xlarge.2, vcpus: %d}\n", 12+i)
		}
		if err := load(t, n, doc); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
		rule := fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.3xlarge.2"}}
		if _, err := n.Faults.Add(ctx, rule); err != nil {
			t.Errorf("fault rule: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	if f, err := n.Service.FindFlavorByID(ctx, "s6.3xlarge.2"); err != nil || f.VCPUs != 21 {
		t.Errorf("s6.3xlarge.2 = %+v, %v", f, err)
	}
}
