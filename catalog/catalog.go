package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/ecsd-dev/ecsd"
)

// DefaultRegion is the region Default simulates.
const DefaultRegion = "cn-north-4"

// Catalog is the catalogue of one simulated region. It is immutable after
// New returns and safe for concurrent use; its accessors return copies.
type Catalog struct {
	region   string
	azs      []string
	families map[string]*familySpec
	flavors  []*ecs.Flavor // sorted by ID
	byID     map[string]*ecs.Flavor
	images   []ecs.Image
	hosts    []Host
}

var regionPattern = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)

// New returns the catalogue of region with overrides applied in order. The
// region must look like a Huawei region name ("cn-north-4", "ap-southeast-1");
// its zones are AZNames(region). Each flavor may be overridden once. New
// returns an error when an override is invalid or leaves a flavor
// inconsistent: an *OverrideError naming the override at fault.
func New(region string, overrides []FlavorOverride) (*Catalog, error) {
	if !regionPattern.MatchString(region) {
		return nil, fmt.Errorf("catalog: invalid region name %q", region)
	}
	c := &Catalog{
		region:   region,
		azs:      AZNames(region),
		families: make(map[string]*familySpec, len(families)),
		byID:     make(map[string]*ecs.Flavor, len(flavorRows)),
		hosts:    DefaultHosts(region),
		images:   slices.Clone(images),
	}
	for i := range families {
		c.families[families[i].Name] = &families[i]
	}
	for _, r := range flavorRows {
		f := buildFlavor(c.families[r.family], r, c.azs)
		if err := c.validateFlavor(f); err != nil {
			return nil, fmt.Errorf("catalog: flavor %s: %w", f.ID, err)
		}
		c.byID[r.id] = f
	}
	if err := c.applyAll(overrides, false); err != nil {
		return nil, err
	}
	return c, nil
}

// With returns a new catalogue: c with overrides applied in order, each on
// top of the ones before, so that a flavor may be named more than once (an
// override may change or remove a flavor that an earlier one, or one of c's
// own, added or changed). c does not change. Errors are *OverrideError
// values naming the override at fault by its index in overrides.
func (c *Catalog) With(overrides []FlavorOverride) (*Catalog, error) {
	n := &Catalog{
		region:   c.region,
		azs:      c.azs,
		families: c.families,
		byID:     make(map[string]*ecs.Flavor, len(c.byID)+len(overrides)),
		hosts:    c.hosts,
		images:   c.images,
	}
	for id, f := range c.byID {
		n.byID[id] = cloneFlavor(f)
	}
	if err := n.applyAll(overrides, true); err != nil {
		return nil, err
	}
	return n, nil
}

// OverrideError is the error of New and With for an override that cannot
// be applied.
type OverrideError struct {
	Index int    // the override's index in the list
	ID    string // the flavor it names
	Err   error
}

func (e *OverrideError) Error() string {
	return fmt.Sprintf("catalog: override %d (%s): %v", e.Index, e.ID, e.Err)
}

func (e *OverrideError) Unwrap() error { return e.Err }

// applyAll applies overrides to c.byID in order, checks each flavor an
// override leaves, then sorts c.flavors. It is part of building c. Unless
// repeats is set, a flavor may be overridden once.
func (c *Catalog) applyAll(overrides []FlavorOverride, repeats bool) error {
	seen := make(map[string]bool, len(overrides))
	for i, o := range overrides {
		if seen[o.ID] && !repeats {
			return &OverrideError{Index: i, ID: o.ID, Err: errors.New("flavor overridden twice")}
		}
		seen[o.ID] = true
		if err := c.apply(o); err != nil {
			return &OverrideError{Index: i, ID: o.ID, Err: err}
		}
		if f, ok := c.byID[o.ID]; ok {
			if err := c.validateFlavor(f); err != nil {
				return &OverrideError{Index: i, ID: o.ID, Err: err}
			}
		}
	}
	c.flavors = make([]*ecs.Flavor, 0, len(c.byID))
	for _, f := range c.byID {
		c.flavors = append(c.flavors, f)
	}
	slices.SortFunc(c.flavors, func(a, b *ecs.Flavor) int { return cmp.Compare(a.ID, b.ID) })
	return nil
}

// Default returns the catalogue of DefaultRegion without overrides. It panics
// only if the built-in data is inconsistent, which the package tests rule out.
func Default() *Catalog {
	c, err := New(DefaultRegion, nil)
	if err != nil {
		panic(err)
	}
	return c
}

// AZNames returns the availability zone names of region: the region name
// followed by "a", "b" and "c".
func AZNames(region string) []string {
	return []string{region + "a", region + "b", region + "c"}
}

// Region returns the region name the catalogue was built for.
func (c *Catalog) Region() string { return c.region }

// Flavor returns a copy of the flavor with the given ID, and whether it
// exists.
func (c *Catalog) Flavor(id string) (*ecs.Flavor, bool) {
	f, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	return cloneFlavor(f), true
}

// Flavors returns copies of all flavors, sorted by ID, whatever their sale
// status.
func (c *Catalog) Flavors() []*ecs.Flavor {
	out := make([]*ecs.Flavor, len(c.flavors))
	for i, f := range c.flavors {
		out[i] = cloneFlavor(f)
	}
	return out
}

// Families returns the catalogue's families sorted by name.
func (c *Catalog) Families() []Family {
	out := make([]Family, 0, len(c.families))
	for _, f := range c.families {
		out = append(out, f.Family)
	}
	slices.SortFunc(out, func(a, b Family) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Family returns the named family and whether it exists.
func (c *Catalog) Family(name string) (Family, bool) {
	f, ok := c.families[name]
	if !ok {
		return Family{}, false
	}
	return f.Family, true
}

// AZs returns the region's availability zones, all available, in name order.
func (c *Catalog) AZs() []ecs.AvailabilityZone {
	out := make([]ecs.AvailabilityZone, len(c.azs))
	for i, az := range c.azs {
		out[i] = ecs.AvailabilityZone{Name: az, Available: true}
	}
	return out
}

// Images returns copies of the public images in a fixed order.
func (c *Catalog) Images() []*ecs.Image {
	out := make([]*ecs.Image, len(c.images))
	for i := range c.images {
		img := c.images[i]
		out[i] = &img
	}
	return out
}

// Image returns a copy of the image with the given ID, and whether it exists.
func (c *Catalog) Image(id string) (*ecs.Image, bool) {
	for i := range c.images {
		if c.images[i].ID == id {
			img := c.images[i]
			return &img, true
		}
	}
	return nil, false
}

// Hosts returns the region's simulated hosts (DefaultHosts of its region).
func (c *Catalog) Hosts() []Host { return slices.Clone(c.hosts) }
