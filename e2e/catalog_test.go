package e2e_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// catalogueSeed marks s6.xlarge.2 sold out in cn-north-4a and adds
// s6.3xlarge.2.
const catalogueSeed = `
flavors:
  - id: s6.xlarge.2
    extra_specs: {"cond:operation:az": "cn-north-4a(sellout), cn-north-4b(normal), cn-north-4c(normal)"}
  - id: s6.3xlarge.2
    vcpus: 12
    ram: 24576
    family: s6
`

// flavorIDs lists the flavors ListFlavors shows, in az if not empty.
func (a *account) flavorIDs(t *testing.T, az string) []string {
	t.Helper()
	req := &model.ListFlavorsRequest{}
	if az != "" {
		req.AvailabilityZone = &az
	}
	resp, err := a.client.ListFlavors(req)
	if err != nil {
		t.Fatalf("ListFlavors: %v", err)
	}
	var out []string
	for _, f := range *resp.Flavors {
		out = append(out, f.Id)
	}
	return out
}

// TestCatalogueSeed: a seed document's flavor overrides change the
// catalogue the SDK sees at once, and a full reset undoes them.
func TestCatalogueSeed(t *testing.T) {
	t.Parallel()
	b := startStateNode(t, "instant", nil)
	if ids := b.flavorIDs(t, azA); !slices.Contains(ids, "s6.xlarge.2") || slices.Contains(ids, "s6.3xlarge.2") {
		t.Fatalf("the default catalogue in %s: s6.xlarge.2 missing or s6.3xlarge.2 present", azA)
	}
	id := b.mustCreateStopped(t, "grow", "s6.large.2", azA)

	status, raw := b.ctl(t, http.MethodPost, "/_ecsd/seed", "application/yaml", catalogueSeed)
	if status != http.StatusOK {
		t.Fatalf("POST /_ecsd/seed: HTTP %d %s", status, raw)
	}
	var seeded struct{ Flavors []string }
	if err := json.Unmarshal(raw, &seeded); err != nil || !slices.Equal(seeded.Flavors, []string{"s6.xlarge.2", "s6.3xlarge.2"}) {
		t.Errorf("seed answer %s", raw)
	}

	inA := b.flavorIDs(t, azA)
	if !slices.Contains(inA, "s6.3xlarge.2") || slices.Contains(inA, "s6.xlarge.2") {
		t.Errorf("ListFlavors in %s: want s6.3xlarge.2 and not s6.xlarge.2 (sold out)", azA)
	}
	if inB := b.flavorIDs(t, azB); !slices.Contains(inB, "s6.xlarge.2") {
		t.Errorf("ListFlavors in %s: s6.xlarge.2 missing", azB)
	}
	resp, err := b.client.ListFlavors(&model.ListFlavorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range *resp.Flavors {
		if f.Id == "s6.3xlarge.2" && (f.Vcpus != "12" || f.Ram != 24576 || str(f.OsExtraSpecs.Ecsgeneration) != "s6") {
			t.Errorf("s6.3xlarge.2: vcpus %s ram %d generation %s", f.Vcpus, f.Ram, str(f.OsExtraSpecs.Ecsgeneration))
		}
	}

	// The sold-out flavor is refused in cn-north-4a, the new one is taken.
	_, err = b.resizeTo(id, "s6.xlarge.2")
	wantCode(t, err, ecs.CodeInsufficientCap)
	b.mustResize(t, id, "s6.3xlarge.2")
	b.wantServer(t, id, "SHUTOFF", 4, "s6.3xlarge.2")

	// A flavor in use cannot be removed.
	status, raw = b.ctl(t, http.MethodPost, "/_ecsd/seed", "application/yaml", "flavors:\n  - {id: s6.3xlarge.2, remove: true}\n")
	if status != http.StatusBadRequest || !strings.Contains(string(raw), compute.CodeInvalidSeed) || !strings.Contains(string(raw), id) {
		t.Errorf("removing a flavor in use: HTTP %d %s", status, raw)
	}

	// A full reset puts the start-up catalogue back.
	b.mustCtl(t, http.MethodPost, "/_ecsd/reset", nil, nil, http.StatusOK)
	inA = b.flavorIDs(t, azA)
	if slices.Contains(inA, "s6.3xlarge.2") || !slices.Contains(inA, "s6.xlarge.2") {
		t.Errorf("after a full reset, ListFlavors in %s still shows the seed's catalogue", azA)
	}
	if ids := b.flavorIDs(t, ""); slices.Contains(ids, "s6.3xlarge.2") {
		t.Error("s6.3xlarge.2 survived a full reset")
	}
}
