package e2e_test

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

func TestSmokeResize(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	c := b.client
	imgs := "" // filled below
	_ = imgs
	flav, err := c.ListFlavors(&model.ListFlavorsRequest{})
	if err != nil {
		t.Fatalf("ListFlavors: %v", err)
	}
	t.Logf("%d flavors", len(*flav.Flavors))
	lim, err := c.ShowServerLimits(&model.ShowServerLimitsRequest{})
	if err != nil {
		t.Fatalf("limits: %v", err)
	}
	t.Logf("limits %+v", *lim.Absolute)
}
