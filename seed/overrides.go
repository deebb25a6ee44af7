package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
)

// OverridesSetting is the settings key under which Overrides saves the
// flavor overrides in force: a JSON list of catalog.FlavorOverride, in the
// order they were applied.
const OverridesSetting = "catalog_overrides"

// SettingStore keeps small named values; *store.DB is one.
type SettingStore interface {
	// Setting returns the value of key, or "" when it has none.
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// Overrides are the flavor overrides that seed documents brought into
// force since the last full reset, and the catalogue they make: Base with
// each of them applied in order, which Live serves to every reader. Load
// (with Options.Flavors) adds a document's overrides and saves the list in
// the store under OverridesSetting, in the transaction that loads the
// document, so that Restore rebuilds the same catalogue after a restart or
// an imported snapshot; Reset goes back to Base.
//
// Overrides is safe for concurrent use: loads, resets and restores are
// serialised, while Live is read without a lock.
type Overrides struct {
	// Base is the catalogue without seed overrides: the configured one.
	Base *catalog.Catalog
	// Live serves the catalogue in force.
	Live  *catalog.Live
	Store SettingStore

	mu   sync.Mutex
	list []catalog.FlavorOverride // in force, in order
}

// NewOverrides returns Overrides with no override in force: Live serves
// base.
func NewOverrides(base *catalog.Catalog, store SettingStore) *Overrides {
	return &Overrides{Base: base, Live: catalog.NewLive(base), Store: store}
}

// List returns a copy of the overrides in force, in order.
func (o *Overrides) List() []catalog.FlavorOverride {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.list)
}

// Parse returns the list of overrides saved as value (the value of
// OverridesSetting; "" is an empty list) and the catalogue they make from
// Base. It fails when value is not such a list or when the list does not
// apply to Base (a snapshot of an ecsd configured otherwise, say).
func (o *Overrides) Parse(value string) (*catalog.Catalog, []catalog.FlavorOverride, error) {
	var list []catalog.FlavorOverride
	if value != "" {
		if err := json.Unmarshal([]byte(value), &list); err != nil {
			return nil, nil, fmt.Errorf("saved catalogue overrides: %w", err)
		}
	}
	cat, err := o.Base.With(list)
	if err != nil {
		return nil, nil, fmt.Errorf("saved catalogue overrides do not apply to the configured catalogue: %w", err)
	}
	return cat, list, nil
}

// Restore puts in force the overrides saved in the store, none if nothing
// is saved. When they do not apply to Base, it returns an error and
// changes nothing.
func (o *Overrides) Restore(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	value, err := o.Store.Setting(ctx, OverridesSetting)
	if err != nil {
		return err
	}
	cat, list, err := o.Parse(value)
	if err != nil {
		return err
	}
	o.list = list
	o.Live.Store(cat)
	return nil
}

// Reset puts Base back in force and saves an empty list.
func (o *Overrides) Reset(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.Store.PutSetting(ctx, OverridesSetting, "[]"); err != nil {
		return err
	}
	o.list = nil
	o.Live.Store(o.Base)
	return nil
}

// load is Load with o: see there.
func (o *Overrides) load(ctx context.Context, admin *compute.Admin, d *Document, opts Options) (*Result, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cur := o.Live.Load()
	cat, unused, errs := d.applyFlavors(cur)
	in, more := d.compile(cat, opts)
	if errs = append(errs, more...); len(errs) > 0 {
		return nil, invalid(errs)
	}
	if len(d.Flavors) == 0 {
		return seed(ctx, admin, in)
	}
	list := append(slices.Clip(o.list), d.Flavors...)
	value, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	in.Catalog, in.Unused = cat, unused
	in.Settings = map[string]string{OverridesSetting: string(value)}
	res, err := seed(ctx, admin, in)
	if err != nil {
		return nil, err
	}
	o.list = list
	o.Live.Store(cat)
	for _, f := range d.Flavors {
		res.Flavors = append(res.Flavors, f.ID)
	}
	return res, nil
}

// applyFlavors applies d.Flavors to base and returns the catalogue they
// make (base itself when there are none), the flavors they take from the
// servers that use them, and an error per entry that cannot be applied,
// naming it ("flavors[2]: ..."); those entries are left out of the
// catalogue.
func (d *Document) applyFlavors(base *catalog.Catalog) (*catalog.Catalog, []compute.SeedFlavor, []error) {
	if len(d.Flavors) == 0 {
		return base, nil, nil
	}
	bad := make([]error, len(d.Flavors)) // by entry
	dups := false
	first := map[string]int{} // flavor ID → the entry that names it first
	for i, f := range d.Flavors {
		if prev, dup := first[f.ID]; dup {
			bad[i] = fmt.Errorf("flavors[%d]: flavor %s is already overridden by flavors[%d]", i, f.ID, prev)
			dups = true
			continue
		}
		first[f.ID] = i
	}
	cat, err := base.With(d.Flavors)
	if err != nil || dups {
		// Apply the entries one by one, to report every bad one.
		cat = base
		for i, f := range d.Flavors {
			if first[f.ID] != i {
				continue
			}
			next, err := cat.With(d.Flavors[i : i+1])
			if err != nil {
				var oe *catalog.OverrideError
				if errors.As(err, &oe) {
					err = oe.Err
				}
				at := fmt.Sprintf("flavors[%d]", i)
				if f.ID != "" {
					at += ": " + f.ID
				}
				bad[i] = fmt.Errorf("%s: %w", at, err)
				continue
			}
			cat = next
		}
	}
	var unused []compute.SeedFlavor
	for id, i := range first {
		before, ok := base.Flavor(id)
		if !ok {
			continue
		}
		ref := fmt.Sprintf("flavors[%d]", i)
		after, ok := cat.Flavor(id)
		switch {
		case !ok:
			unused = append(unused, compute.SeedFlavor{Ref: ref, FlavorID: id, Change: "remove"})
		case catalog.FlavorArch(after) != catalog.FlavorArch(before) ||
			after.ExtraSpecs["ecs:virtualization_env_types"] != before.ExtraSpecs["ecs:virtualization_env_types"]:
			unused = append(unused, compute.SeedFlavor{Ref: ref, FlavorID: id, Change: "change the architecture or virtualization of"})
		}
	}
	slices.SortFunc(unused, func(a, b compute.SeedFlavor) int { return first[a.FlavorID] - first[b.FlavorID] })
	var errs []error
	for _, err := range bad {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return cat, unused, errs
}
