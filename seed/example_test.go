package seed_test

import (
	"fmt"

	"github.com/ecsd-dev/ecsd/seed"
)

// A seed document in YAML (JSON works the same); Check finds every problem
// before anything is loaded and names the entry and field of each.
func ExampleParse() {
	doc, err := seed.Parse([]byte(`
servers:
  - project_id: 000000000000000000000000000ec5d1
    name: web
    count: 2
    flavor: s6.large.2
    image: Ubuntu 22.04 server 64bit(40GB)
    status: SHUTOFF
  - project_id: 000000000000000000000000000ec5d1
    name: db
    flavor: x9.huge
    image: Plan 9
`), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(doc.Servers), "server entries")
	fmt.Println(doc.Check(cat))
	// Output:
	// 2 server entries
	// servers[1].flavor: unknown flavor "x9.huge"
	// servers[1].image: unknown image "Plan 9" (give an image ID or name)
}
