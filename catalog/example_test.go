package catalog_test

import (
	"fmt"

	"github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
)

func ExampleCatalog_CheckResize() {
	c := catalog.Default()
	src, _ := c.Flavor("s6.large.2")
	for _, id := range []string{"c6.large.2", "kc1.large.2", "s6.large.2"} {
		dst, _ := c.Flavor(id)
		if err := c.CheckResize(src, dst, "cn-north-4a", false); err != nil {
			fmt.Printf("%s: %s %s\n", id, ecs.ErrorCode(err), ecs.ErrorMessage(err))
			continue
		}
		fmt.Printf("%s: allowed\n", id)
	}
	// Output:
	// c6.large.2: allowed
	// kc1.large.2: Ecs.0005 flavor s6.large.2 cannot be changed to kc1.large.2: x86 and Arm flavors cannot be exchanged
	// s6.large.2: Ecs.0009 flavor s6.large.2 cannot be changed to s6.large.2: it is the current flavor
}

func ExampleNew() {
	sellout := map[string]string{"cond:operation:az": "eu-west-101a(sellout), eu-west-101b(normal), eu-west-101c(normal)"}
	c, err := catalog.New("eu-west-101", []catalog.FlavorOverride{
		{ID: "c6.large.2", ExtraSpecs: sellout},
		{ID: "s6.small.1", Remove: true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, _ := c.Flavor("c6.large.2")
	fmt.Println(f.SaleStatus("eu-west-101a"), f.SaleStatus("eu-west-101b"))
	_, ok := c.Flavor("s6.small.1")
	fmt.Println(ok)
	// Output:
	// sellout normal
	// false
}
