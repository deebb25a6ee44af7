package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsd-dev/ecsd"
)

// FlavorOverride changes, removes or adds one flavor of the catalogue. Nil
// fields leave the flavor as it is.
//
// To change a flavor, set ID and the fields to change. ExtraSpecs are merged
// into the flavor's: a key with an empty value is deleted. Changing Family
// replaces the extra specs that come from the family (ecs:generation,
// ecs:performancetype, resource_type, the architecture and virtualization
// keys, hw:cpu_policy, hw:cpu_threads, the GPU and local-disk keys) with the
// new family's before ExtraSpecs are merged. Changing VCPUs recomputes
// hw:numa_nodes unless ExtraSpecs sets it.
//
// To remove a flavor, set ID and Remove and nothing else.
//
// To add a flavor, use an ID the catalogue does not have and set VCPUs,
// RAMMB and Family; the flavor gets its family's shared extra specs. A GPU
// family also needs pci_passthrough:alias ("<device>:<count>", e.g.
// "nvidia-t4:2"), from which the flavor's GPUs are derived; a local-disk
// family needs its disk key (quota:local_disk for d6, quota:nvme_ssd for i3).
type FlavorOverride struct {
	ID         string            `json:"id" yaml:"id"`
	VCPUs      *int              `json:"vcpus,omitempty" yaml:"vcpus,omitempty"`
	RAMMB      *int              `json:"ram,omitempty" yaml:"ram,omitempty"` // MB
	Family     *string           `json:"family,omitempty" yaml:"family,omitempty"`
	ExtraSpecs map[string]string `json:"extra_specs,omitempty" yaml:"extra_specs,omitempty"`
	Remove     bool              `json:"remove,omitempty" yaml:"remove,omitempty"`
}

var flavorIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// familyKeys are the extra-spec keys a family owns: a family change removes
// them before the new family's are set.
var familyKeys = []string{
	"ecs:performancetype", "ecs:generation", "ecs:virtualization_env_types", "ecs:instance_architecture",
	"resource_type", "info:cpu:name", "hw:cpu_policy", "hw:cpu_threads", "instance_vnic:type",
	"cond:compute:live_resizable", "cond:spot:operation:status", "cond:operation:charge", "cond:storage",
	"pci_passthrough:enable_gpu", "pci_passthrough:alias", "pci_passthrough:gpu_specs", "quota:gpu", "info:gpu:name",
	keyLocal, keyNVMe,
}

// apply applies one override to c.byID. It validates the override's own
// fields; the consistency of the resulting flavor is checked by
// validateFlavor.
func (c *Catalog) apply(o FlavorOverride) error {
	if !flavorIDPattern.MatchString(o.ID) {
		return fmt.Errorf("invalid flavor id %q: want 1-64 lower-case letters, digits, '.', '_' or '-'", o.ID)
	}
	f, exists := c.byID[o.ID]
	if o.Remove {
		if o.VCPUs != nil || o.RAMMB != nil || o.Family != nil || o.ExtraSpecs != nil {
			return errors.New("remove cannot be combined with other fields")
		}
		if !exists {
			return errors.New("remove: no such flavor")
		}
		delete(c.byID, o.ID)
		return nil
	}
	if o.VCPUs != nil && *o.VCPUs <= 0 {
		return fmt.Errorf("vcpus must be positive, got %d", *o.VCPUs)
	}
	if o.RAMMB != nil && *o.RAMMB <= 0 {
		return fmt.Errorf("ram must be a positive number of MB, got %d", *o.RAMMB)
	}
	var fam *familySpec
	if o.Family != nil {
		var ok bool
		if fam, ok = c.families[*o.Family]; !ok {
			return fmt.Errorf("unknown family %q (known: %s)", *o.Family, strings.Join(c.familyNames(), ", "))
		}
	}
	if !exists {
		if o.VCPUs == nil || o.RAMMB == nil || fam == nil {
			return errors.New("a new flavor needs vcpus, ram and family")
		}
		f = &ecs.Flavor{ID: o.ID, Name: o.ID, Family: fam.Name, ExtraSpecs: familyExtraSpecs(fam)}
		c.byID[o.ID] = f
	} else if fam != nil && fam.Name != f.Family {
		for _, k := range familyKeys {
			delete(f.ExtraSpecs, k)
		}
		for k, v := range familyExtraSpecs(fam) {
			f.ExtraSpecs[k] = v
		}
		f.Family = fam.Name
	}
	if o.VCPUs != nil {
		f.VCPUs = *o.VCPUs
		f.ExtraSpecs["hw:numa_nodes"] = numaNodes(f.VCPUs)
	}
	if o.RAMMB != nil {
		f.RAMMB = *o.RAMMB
	}
	for k, v := range o.ExtraSpecs {
		if strings.TrimSpace(k) == "" {
			return errors.New("extra_specs: empty key")
		}
		if v == "" {
			delete(f.ExtraSpecs, k)
			continue
		}
		f.ExtraSpecs[k] = v
	}
	fillGPUs(c.families[f.Family], f)
	return nil
}

func (c *Catalog) familyNames() []string {
	names := make([]string, 0, len(c.families))
	for n := range c.families {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// validateFlavor checks that f is consistent: positive sizes, a known family
// whose architecture and virtualization match the extra specs, extra-spec
// values from their allowed sets, and the device keys its family needs.
func (c *Catalog) validateFlavor(f *ecs.Flavor) error {
	if f.Name != f.ID {
		return fmt.Errorf("name %q differs from id", f.Name)
	}
	if f.VCPUs <= 0 || f.RAMMB <= 0 {
		return fmt.Errorf("vcpus (%d) and ram (%d MB) must be positive", f.VCPUs, f.RAMMB)
	}
	fam, ok := c.families[f.Family]
	if !ok {
		return fmt.Errorf("unknown family %q", f.Family)
	}
	if v := f.ExtraSpecs["ecs:virtualization_env_types"]; v != fam.Virtualization {
		return fmt.Errorf("ecs:virtualization_env_types is %q but family %s uses %s", v, fam.Name, fam.Virtualization)
	}
	if a := FlavorArch(f); a != fam.Arch {
		return fmt.Errorf("architecture is %s (ecs:instance_architecture) but family %s is %s", a, fam.Name, fam.Arch)
	}
	for k, v := range f.ExtraSpecs {
		check, ok := specChecks[k]
		if !ok {
			continue
		}
		if err := check(v, c.azs); err != nil {
			return fmt.Errorf("extra spec %s=%q: %w", k, v, err)
		}
	}
	if fam.gpu != nil {
		if _, err := parseGPUAlias(fam, f.ExtraSpecs["pci_passthrough:alias"]); err != nil {
			return fmt.Errorf("GPU family %s: %w", fam.Name, err)
		}
	}
	if fam.diskKey != "" {
		v := f.ExtraSpecs[fam.diskKey]
		if len(strings.Split(v, ":")) != 4 {
			return fmt.Errorf("local-disk family %s needs %s as four ':'-separated fields, got %q", fam.Name, fam.diskKey, v)
		}
	}
	return nil
}

// specCheck validates one extra-spec value; azs are the region's zones.
type specCheck func(v string, azs []string) error

// specChecks lists the extra-spec keys whose values come from a fixed set or
// must be numbers. Other keys are free text.
var specChecks = map[string]specCheck{
	"ecs:virtualization_env_types":     oneOf(VirtKVM, VirtXen),
	"ecs:instance_architecture":        oneOf(ArchArm64),
	"hw:cpu_policy":                    oneOf("shared", "dedicated"),
	"hw:cpu_threads":                   oneOf("1", "2"),
	"hw:numa_nodes":                    intIn(1, 8),
	"instance_vnic:type":               oneOf("enhanced"),
	"instance_vnic:max_count":          intIn(1, 4),
	"instance_vnic:instance_bandwidth": intIn(1, maxVNICBandwidth),
	"quota:max_rate":                   intIn(1, 1_000_000),
	"quota:min_rate":                   intIn(1, 1_000_000),
	"quota:max_pps":                    intIn(1, 1_000_000_000),
	"cond:operation:status":            oneOf(saleStatuses...),
	"cond:operation:az":                checkAZStatuses,
	"cond:operation:charge":            oneOf("period", "demand"),
	"cond:spot:operation:status":       oneOf(ecs.SaleNormal, ecs.SaleAbandon, ecs.SaleSellout, ecs.SaleObt, "private", "test", ecs.SalePromotion),
	"cond:compute:live_resizable":      oneOf("true", "false"),
	"pci_passthrough:enable_gpu":       oneOf("true", "false"),
}

// saleStatuses are the values of cond:operation:status and of each zone in
// cond:operation:az.
var saleStatuses = []string{ecs.SaleNormal, ecs.SaleAbandon, ecs.SaleSellout, ecs.SaleObt, ecs.SalePromotion}

func oneOf(allowed ...string) specCheck {
	return func(v string, _ []string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
		}
		return nil
	}
}

func intIn(lo, hi int) specCheck {
	return func(v string, _ []string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return nil
	}
}

// checkAZStatuses validates "zone(status), zone(status)": each zone one of
// the region's, at most once, each status a sale status.
func checkAZStatuses(v string, azs []string) error {
	seen := map[string]bool{}
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		zone, rest, ok := strings.Cut(part, "(")
		status, closed := strings.CutSuffix(rest, ")")
		if !ok || !closed || zone == "" {
			return fmt.Errorf("entry %q: want zone(status)", part)
		}
		if !slices.Contains(azs, zone) {
			return fmt.Errorf("entry %q: zone not in this region (%s)", part, strings.Join(azs, ", "))
		}
		if seen[zone] {
			return fmt.Errorf("zone %s listed twice", zone)
		}
		seen[zone] = true
		if !slices.Contains(saleStatuses, status) {
			return fmt.Errorf("entry %q: status must be one of %s", part, strings.Join(saleStatuses, ", "))
		}
	}
	return nil
}
