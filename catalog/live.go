package catalog

import (
	"sync/atomic"

	"github.com/ecsd-dev/ecsd"
)

// Live is a catalogue that can be replaced while it is in use. Its read
// methods are those of Catalog; each reads the catalogue in force when it
// is called, without a lock, and Store puts another one in force for the
// calls that follow. One call sees one whole catalogue, but two calls may
// see two: a caller that needs several reads from the same catalogue calls
// Load once and reads from what it returns. A Live is safe for concurrent
// use; make one with NewLive.
type Live struct {
	cur atomic.Pointer[Catalog]
}

// NewLive returns a Live with c in force; c must not be nil.
func NewLive(c *Catalog) *Live {
	l := &Live{}
	l.Store(c)
	return l
}

// Load returns the catalogue in force.
func (l *Live) Load() *Catalog { return l.cur.Load() }

// Store puts c in force; c must not be nil. Calls under way finish with the
// catalogue they started with.
func (l *Live) Store(c *Catalog) {
	if c == nil {
		panic("catalog: Live.Store(nil)")
	}
	l.cur.Store(c)
}

// Region is Catalog.Region of the catalogue in force.
func (l *Live) Region() string { return l.Load().Region() }

// Flavor is Catalog.Flavor of the catalogue in force.
func (l *Live) Flavor(id string) (*ecs.Flavor, bool) { return l.Load().Flavor(id) }

// Flavors is Catalog.Flavors of the catalogue in force.
func (l *Live) Flavors() []*ecs.Flavor { return l.Load().Flavors() }

// Families is Catalog.Families of the catalogue in force.
func (l *Live) Families() []Family { return l.Load().Families() }

// Family is Catalog.Family of the catalogue in force.
func (l *Live) Family(name string) (Family, bool) { return l.Load().Family(name) }

// AZs is Catalog.AZs of the catalogue in force.
func (l *Live) AZs() []ecs.AvailabilityZone { return l.Load().AZs() }

// Images is Catalog.Images of the catalogue in force.
func (l *Live) Images() []*ecs.Image { return l.Load().Images() }

// Image is Catalog.Image of the catalogue in force.
func (l *Live) Image(id string) (*ecs.Image, bool) { return l.Load().Image(id) }

// Hosts is Catalog.Hosts of the catalogue in force.
func (l *Live) Hosts() []Host { return l.Load().Hosts() }

// CheckResize is Catalog.CheckResize of the catalogue in force.
func (l *Live) CheckResize(src, dst *ecs.Flavor, az string, xenDriversReady bool) error {
	return l.Load().CheckResize(src, dst, az, xenDriversReady)
}

// ResizeTargets is Catalog.ResizeTargets of the catalogue in force.
func (l *Live) ResizeTargets(src *ecs.Flavor, az string) []*ecs.Flavor {
	return l.Load().ResizeTargets(src, az)
}

// ImageFits is Catalog.ImageFits of the catalogue in force.
func (l *Live) ImageFits(img *ecs.Image, f *ecs.Flavor) error { return l.Load().ImageFits(img, f) }
