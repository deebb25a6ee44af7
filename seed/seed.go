// Package seed reads ecsd's fixture documents and loads them: flavor
// catalogue overrides, and tenants, quotas and servers in stable states
// (ACTIVE, SHUTOFF, ERROR), written directly into the store without
// running jobs. A node loads one at
// start-up (--seed FILE, first start only) and re-applies it on every
// reset; the control API loads more at run time (POST /_ecsd/seed).
//
// A document is YAML or JSON with four optional lists:
//
//	flavors:            # catalogue overrides, as the config file's flavors
//	  - id: s6.xlarge.2
//	    extra_specs: {"cond:operation:az": "cn-north-4a(sellout)"}
//	  - id: s6.3xlarge.2                  # a new flavor
//	    vcpus: 12
//	    ram: 24576
//	    family: s6
//	tenants:            # as the config file's tenants
//	  - access_key: TEAMAACCESSKEY000001
//	    secret_key: teamASecretKey0000000000000000000000000
//	    project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
//	    project_name: cn-north-4          # default: the region
//	    domain_id: 11111111111111111111111111111111  # default: derived from project_id
//	    quota: {instances: 10, cores: 40, ram: 81920} # left-out limits: the default quota
//	quotas:             # quotas of projects declared here or existing already
//	  - project_id: 000000000000000000000000000ec5d1
//	    cores: 8
//	servers:
//	  - project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
//	    name: web                         # with count > 1: web-0001, web-0002, ...
//	    count: 2                          # default 1
//	    flavor: s6.large.2
//	    image: Ubuntu 22.04 server 64bit  # image ID or name
//	    availability_zone: cn-north-4a    # default: first AZ where the flavor is on sale and fits
//	    status: SHUTOFF                   # ACTIVE (default), SHUTOFF or ERROR
//	    charging_mode: postPaid           # postPaid (default), prePaid or spot
//	    metadata: {owner: qa}
//	    tags: {env: test}
//	    root_volume: {type: SSD, size: 40}  # default: SSD, the image's minimum size
//	  - project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
//	    id: 7f0c2a8e-5b1d-4c3e-9a7f-2d6e8b1c4f00  # a fixed ID (count 1 only)
//	    name: db
//	    flavor: c7.xlarge.4
//	    image: abe65701-8a26-40ec-b381-c10498ca3745
//
// Unknown keys are errors. Every entry is checked before anything is
// written, and every error names its entry and field, such as
// `servers[3].flavor: unknown flavor "x"`. Loading is one transaction.
//
// Flavor overrides change the catalogue of the running node (see
// Overrides): they apply on top of the overrides in force, the document's
// servers may use the flavors they add, and they stay in force, across
// restarts too, until a full reset.
package seed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/compute"
)

// Document is a seed document.
type Document struct {
	// Flavors change, remove or add flavors of the catalogue; each names a
	// flavor once.
	Flavors []catalog.FlavorOverride `yaml:"flavors" json:"flavors,omitempty"`
	Tenants []Tenant                 `yaml:"tenants" json:"tenants,omitempty"`
	Quotas  []Quota                  `yaml:"quotas" json:"quotas,omitempty"`
	Servers []Server                 `yaml:"servers" json:"servers,omitempty"`
}

// Limits are quota limits; a nil limit takes the default quota's. -1 is
// unlimited; ram is in MiB.
type Limits struct {
	Instances *int `yaml:"instances" json:"instances,omitempty"`
	Cores     *int `yaml:"cores" json:"cores,omitempty"`
	RAM       *int `yaml:"ram" json:"ram,omitempty"`
}

// Over returns base with the limits l sets replaced (base itself when l is
// nil).
func (l *Limits) Over(base ecs.Quota) ecs.Quota {
	if l == nil {
		return base
	}
	if l.Instances != nil {
		base.Instances = *l.Instances
	}
	if l.Cores != nil {
		base.Cores = *l.Cores
	}
	if l.RAM != nil {
		base.RAMMB = *l.RAM
	}
	return base
}

// Tenant is a tenant: an access key with its one project.
type Tenant struct {
	AccessKey   string  `yaml:"access_key" json:"access_key"`
	SecretKey   string  `yaml:"secret_key" json:"secret_key"`
	ProjectID   string  `yaml:"project_id" json:"project_id"`
	ProjectName string  `yaml:"project_name" json:"project_name,omitempty"`
	DomainID    string  `yaml:"domain_id" json:"domain_id,omitempty"`
	Quota       *Limits `yaml:"quota" json:"quota,omitempty"`
}

// TenantOf returns t with quota q as a document entry.
func TenantOf(t ecs.Tenant, q ecs.Quota) Tenant {
	return Tenant{AccessKey: t.AccessKey, SecretKey: t.SecretKey, ProjectID: t.ProjectID, ProjectName: t.ProjectName,
		DomainID: t.DomainID, Quota: &Limits{Instances: &q.Instances, Cores: &q.Cores, RAM: &q.RAMMB}}
}

// Quota sets a project's quota.
type Quota struct {
	ProjectID string `yaml:"project_id" json:"project_id"`
	Limits    `yaml:",inline" json:",inline"`
}

// Server asks for Count servers (default 1) in a stable state.
type Server struct {
	ProjectID        string            `yaml:"project_id" json:"project_id"`
	ID               string            `yaml:"id" json:"id,omitempty"`
	Name             string            `yaml:"name" json:"name"`
	Description      string            `yaml:"description" json:"description,omitempty"`
	Flavor           string            `yaml:"flavor" json:"flavor"`
	Image            string            `yaml:"image" json:"image"`
	AvailabilityZone string            `yaml:"availability_zone" json:"availability_zone,omitempty"`
	Status           string            `yaml:"status" json:"status,omitempty"`
	ChargingMode     string            `yaml:"charging_mode" json:"charging_mode,omitempty"`
	Metadata         map[string]string `yaml:"metadata" json:"metadata,omitempty"`
	Tags             map[string]string `yaml:"tags" json:"tags,omitempty"`
	RootVolume       *RootVolume       `yaml:"root_volume" json:"root_volume,omitempty"`
	Count            int               `yaml:"count" json:"count,omitempty"`
}

// RootVolume is a server's system disk.
type RootVolume struct {
	Type string `yaml:"type" json:"type,omitempty"`
	Size int    `yaml:"size" json:"size,omitempty"` // GB
}

// Formats of Parse.
const (
	FormatJSON = "json"
	FormatYAML = "yaml"
)

// Parse decodes a document in format (FormatJSON, FormatYAML, or "" to
// decide by content: JSON when it starts with '{', else YAML). Unknown keys
// are errors; an empty document is an empty Document.
func Parse(data []byte, format string) (*Document, error) {
	if format == "" {
		format = FormatYAML
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			format = FormatJSON
		}
	}
	var d Document
	switch format {
	case FormatJSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil && err != io.EOF {
			return nil, jsonError(data, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("seed: unexpected data after the JSON document")
		}
	case FormatYAML:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&d); err != nil && err != io.EOF {
			return nil, yamlError(err)
		}
		var next yaml.Node
		if err := dec.Decode(&next); err != io.EOF {
			return nil, errors.New("seed: more than one YAML document")
		}
	default:
		return nil, fmt.Errorf("seed: unknown format %q (want json or yaml)", format)
	}
	return &d, nil
}

// ReadFile reads and parses a document: JSON for .json, YAML for .yaml and
// .yml, else by content.
func ReadFile(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	format := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		format = FormatJSON
	case ".yaml", ".yml":
		format = FormatYAML
	}
	d, err := Parse(data, format)
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %s", path, strings.TrimPrefix(err.Error(), "seed: "))
	}
	return d, nil
}

func jsonError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("seed: line %d: invalid JSON: %v", lineAt(data, syntax.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("seed: line %d: %s: cannot use a JSON %s here", lineAt(data, typ.Offset), typ.Field, typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if k, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Errorf("seed: unknown key %s", k)
	}
	return errors.New("seed: " + msg)
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

var yamlUnknownRE = regexp.MustCompile(`^(line \d+): field (.*) not found in type \S+$`)

func yamlError(err error) error {
	var typ *yaml.TypeError
	if !errors.As(err, &typ) {
		return errors.New("seed: " + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(typ.Errors))
	for i, m := range typ.Errors {
		if s := yamlUnknownRE.FindStringSubmatch(m); s != nil {
			m = fmt.Sprintf("%s: unknown key %q", s[1], s[2])
		}
		msgs[i] = m
	}
	return errors.New("seed: " + strings.Join(msgs, "; "))
}

// Merge returns one document with the entries of docs in order (nil
// documents are skipped).
func Merge(docs ...*Document) *Document {
	out := &Document{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		out.Flavors = append(out.Flavors, d.Flavors...)
		out.Tenants = append(out.Tenants, d.Tenants...)
		out.Quotas = append(out.Quotas, d.Quotas...)
		out.Servers = append(out.Servers, d.Servers...)
	}
	return out
}

// Project returns the part of d that concerns one project: its tenants,
// quotas and servers, without the flavor overrides, which concern every
// project.
func (d *Document) Project(projectID string) *Document {
	out := &Document{}
	if d == nil {
		return out
	}
	for _, t := range d.Tenants {
		if t.ProjectID == projectID {
			out.Tenants = append(out.Tenants, t)
		}
	}
	for _, q := range d.Quotas {
		if q.ProjectID == projectID {
			out.Quotas = append(out.Quotas, q)
		}
	}
	for _, s := range d.Servers {
		if s.ProjectID == projectID {
			out.Servers = append(out.Servers, s)
		}
	}
	return out
}

// HasTenant reports whether d declares a tenant of the project.
func (d *Document) HasTenant(projectID string) bool {
	return d != nil && slices.ContainsFunc(d.Tenants, func(t Tenant) bool { return t.ProjectID == projectID })
}

// lookup is the catalogue a document's entries are checked against.
type lookup interface {
	Flavor(id string) (*ecs.Flavor, bool)
	Image(id string) (*ecs.Image, bool)
	Images() []*ecs.Image
	AZs() []ecs.AvailabilityZone
}

// Options are what a document leaves to the node.
type Options struct {
	// Region is the project name of tenants that give none.
	Region string
	// DefaultQuota gives the limits a quota leaves out; the zero value
	// means ecs.DefaultQuota.
	DefaultQuota *ecs.Quota
	// Flavors keeps the flavor overrides in force and the catalogue they
	// make, which must be the catalogue of the service documents are loaded
	// into. Without it, a document with flavors is refused.
	Flavors *Overrides
}

func (o Options) quota() ecs.Quota {
	if o.DefaultQuota != nil {
		return *o.DefaultQuota
	}
	return ecs.DefaultQuota
}

// Status and charging-mode names of a document.
var (
	statuses      = []string{ecs.StatusActive, ecs.StatusShutoff, ecs.StatusError}
	chargingModes = map[string]string{"postPaid": ecs.ChargingPostPaid, "prePaid": ecs.ChargingPrePaid, "spot": ecs.ChargingSpot}
	volumeTypes   = []string{"SATA", "SAS", "SSD", "GPSSD", "co-p1", "uh-l1", "ESSD", "GPSSD2", "ESSD2"}
	uuidRE        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	metadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9_\-:.]{1,255}$`)
	tagKeyRE      = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_\-]{1,36}$`)
	tagValueRE    = regexp.MustCompile(`^[\p{Han}A-Za-z0-9_.\-]{0,43}$`)
)

// MaxCount bounds a server entry's count.
const MaxCount = 500

// Check validates d against the catalogue base: its flavor overrides
// applied to base, then its other entries against the catalogue they make.
// It returns every problem, each naming its entry and field, joined with
// errors.Join; nil if d is valid. What only the store knows (projects
// declared elsewhere, quota, capacity, IDs in use, servers of a removed
// flavor) is checked when the document is loaded.
func (d *Document) Check(base *catalog.Catalog) error {
	cat, _, errs := d.applyFlavors(base)
	_, more := d.compile(cat, Options{})
	return errors.Join(append(errs, more...)...)
}

// compile checks d's tenants, quotas and servers against cat and converts
// them to compute's form.
func (d *Document) compile(cat lookup, opts Options) (compute.Seed, []error) {
	var out compute.Seed
	var errs []error
	bad := func(at, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
	}
	aks := map[string]string{}
	pids := map[string]string{}
	for i, t := range d.Tenants {
		ref := fmt.Sprintf("tenants[%d]", i)
		for _, f := range []struct{ key, v string }{{"access_key", t.AccessKey}, {"secret_key", t.SecretKey}, {"project_id", t.ProjectID}} {
			if f.v == "" {
				bad(ref+"."+f.key, "required")
			}
		}
		tenant := ecs.Tenant{AccessKey: t.AccessKey, SecretKey: t.SecretKey, ProjectID: t.ProjectID,
			ProjectName: t.ProjectName, DomainID: t.DomainID}
		for _, m := range compute.CheckTenant(ref+".", tenant) {
			errs = append(errs, errors.New(m))
		}
		if prev, dup := aks[t.AccessKey]; dup && t.AccessKey != "" {
			bad(ref+".access_key", "%q is already used by %s", t.AccessKey, prev)
		}
		aks[t.AccessKey] = ref
		if prev, dup := pids[t.ProjectID]; dup && t.ProjectID != "" {
			bad(ref+".project_id", "%q is already used by %s", t.ProjectID, prev)
		}
		pids[t.ProjectID] = ref
		if tenant.ProjectName == "" {
			tenant.ProjectName = opts.Region
		}
		if tenant.DomainID == "" && t.ProjectID != "" {
			tenant.DomainID = derivedDomainID(t.ProjectID)
		}
		q := t.Quota.Over(opts.quota())
		for _, m := range compute.CheckQuota(ref+".quota.", q) {
			errs = append(errs, errors.New(m))
		}
		out.Tenants = append(out.Tenants, compute.SeedTenant{Ref: ref, Tenant: tenant, Quota: q})
	}
	for i, q := range d.Quotas {
		ref := fmt.Sprintf("quotas[%d]", i)
		if q.ProjectID == "" {
			bad(ref+".project_id", "required")
		} else if !hex32(q.ProjectID) {
			bad(ref+".project_id", "%q is not 32 lowercase hex characters", q.ProjectID)
		}
		limits := q.Limits.Over(opts.quota())
		for _, m := range compute.CheckQuota(ref+".", limits) {
			errs = append(errs, errors.New(m))
		}
		out.Quotas = append(out.Quotas, compute.SeedQuota{Ref: ref, ProjectID: q.ProjectID, Quota: limits})
	}
	ids := map[string]string{}
	for i, s := range d.Servers {
		ref := fmt.Sprintf("servers[%d]", i)
		n := len(errs)
		sv := compute.SeedServer{Ref: ref, ProjectID: s.ProjectID, ID: s.ID, Name: s.Name, Description: s.Description,
			FlavorID: s.Flavor, Image: s.Image, AZ: s.AvailabilityZone, Metadata: s.Metadata, Count: max(s.Count, 1)}
		switch {
		case s.ProjectID == "":
			bad(ref+".project_id", "required")
		case !hex32(s.ProjectID):
			bad(ref+".project_id", "%q is not 32 lowercase hex characters", s.ProjectID)
		}
		nameLimit := 64
		if s.Count > 1 {
			nameLimit = 59 // room for the -0001 suffix
		}
		switch {
		case s.Name == "":
			bad(ref+".name", "required")
		case utf8.RuneCountInString(s.Name) > nameLimit:
			bad(ref+".name", "must be at most %d characters", nameLimit)
		}
		if s.Count < 0 || s.Count > MaxCount {
			bad(ref+".count", "must be between 1 and %d, not %d", MaxCount, s.Count)
		}
		if s.ID != "" {
			switch prev, dup := ids[s.ID]; {
			case !uuidRE.MatchString(s.ID):
				bad(ref+".id", "%q is not a lowercase UUID", s.ID)
			case s.Count > 1:
				bad(ref+".id", "a fixed ID needs count 1")
			case dup:
				bad(ref+".id", "%q is already used by %s", s.ID, prev)
			}
			ids[s.ID] = ref
		}
		sv.Status = strings.ToUpper(s.Status)
		if sv.Status == "" {
			sv.Status = ecs.StatusActive
		}
		if !slices.Contains(statuses, sv.Status) {
			bad(ref+".status", "unsupported status %q: want ACTIVE, SHUTOFF or ERROR", s.Status)
		}
		mode, ok := chargingModes[s.ChargingMode]
		switch {
		case s.ChargingMode == "":
			mode = ecs.ChargingPostPaid
		case !ok:
			bad(ref+".charging_mode", "unknown charging mode %q: want postPaid, prePaid or spot", s.ChargingMode)
		}
		sv.ChargingMode = mode
		var flavor *ecs.Flavor
		switch f, ok := cat.Flavor(s.Flavor); {
		case s.Flavor == "":
			bad(ref+".flavor", "required")
		case !ok:
			bad(ref+".flavor", "unknown flavor %q", s.Flavor)
		default:
			flavor = f
			if !f.SoldFor(mode) {
				bad(ref+".charging_mode", "flavor %s is not sold %s", f.ID, s.ChargingMode)
			}
		}
		switch img := imageByRef(cat, s.Image); {
		case s.Image == "":
			bad(ref+".image", "required")
		case img == nil:
			bad(ref+".image", "unknown image %q (give an image ID or name)", s.Image)
		default:
			sv.Image = img.ID
			if s.RootVolume != nil && s.RootVolume.Size != 0 && s.RootVolume.Size < img.MinDiskGB {
				bad(ref+".root_volume.size", "%d GB is less than the image's minimum of %d GB", s.RootVolume.Size, img.MinDiskGB)
			}
		}
		if s.AvailabilityZone != "" {
			known := slices.ContainsFunc(cat.AZs(), func(az ecs.AvailabilityZone) bool { return az.Name == s.AvailabilityZone })
			switch {
			case !known:
				bad(ref+".availability_zone", "unknown availability zone %q", s.AvailabilityZone)
			case flavor != nil && !flavor.OnSale(s.AvailabilityZone):
				bad(ref+".availability_zone", "flavor %s is not on sale in %s", flavor.ID, s.AvailabilityZone)
			}
		}
		if len(s.Metadata) > 10 {
			bad(ref+".metadata", "at most 10 keys, not %d", len(s.Metadata))
		}
		for _, k := range slices.Sorted(maps.Keys(s.Metadata)) {
			if !metadataKeyRE.MatchString(k) {
				bad(ref+".metadata", "key %q must be 1 to 255 letters, digits, \"-\", \"_\", \":\" or \".\"", k)
			} else if utf8.RuneCountInString(s.Metadata[k]) > 255 {
				bad(ref+".metadata."+k, "must be at most 255 characters")
			}
		}
		if len(s.Tags) > 10 {
			bad(ref+".tags", "at most 10 tags, not %d", len(s.Tags))
		}
		for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
			if !tagKeyRE.MatchString(k) || !tagValueRE.MatchString(s.Tags[k]) {
				bad(ref+".tags."+k, "a tag key is 1 to 36 letters, digits, \"_\" or \"-\", its value at most 43 of those or \".\"")
			}
			sv.Tags = append(sv.Tags, k+"="+s.Tags[k])
		}
		if rv := s.RootVolume; rv != nil {
			if rv.Type != "" && !slices.Contains(volumeTypes, rv.Type) {
				bad(ref+".root_volume.type", "unknown volume type %q: want one of %s", rv.Type, strings.Join(volumeTypes, ", "))
			}
			if rv.Size < 0 || rv.Size > 1024 {
				bad(ref+".root_volume.size", "must be between 1 and 1024 GB")
			}
			sv.RootVolumeType, sv.RootVolumeSize = rv.Type, rv.Size
		}
		if len(errs) == n {
			out.Servers = append(out.Servers, sv)
		}
	}
	return out, errs
}

func hex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// derivedDomainID is the domain ID of a tenant that gives none: stable, so
// that a reset re-creates the same tenant.
func derivedDomainID(projectID string) string {
	sum := sha256.Sum256([]byte("ecsd-domain:" + projectID))
	return hex.EncodeToString(sum[:16])
}

func imageByRef(cat lookup, ref string) *ecs.Image {
	if ref == "" {
		return nil
	}
	if img, ok := cat.Image(ref); ok {
		return img
	}
	for _, img := range cat.Images() {
		if img.Name == ref {
			return img
		}
	}
	return nil
}

// Result is what loading a document created.
type Result struct {
	Tenants []ecs.Tenant
	Servers []*ecs.Server
	// Flavors are the IDs of the flavors the document overrode.
	Flavors []string
}

// Load checks d and loads it into the store of admin in one transaction
// (tenants, then quotas, then servers), then creates the servers' driver
// instances. A document with flavors needs opts.Flavors: its overrides
// apply on top of those in force, its servers are checked against the
// catalogue they make, the list of overrides in force is saved in the same
// transaction, and the new catalogue is put in force once it commits. A
// document that is not valid, or that the store cannot take (an unknown
// project, quota, capacity, an ID in use, a live server of a flavor the
// document removes), changes nothing and is an *ecs.Error with code
// compute.CodeInvalidSeed listing the problems.
func Load(ctx context.Context, admin *compute.Admin, d *Document, opts Options) (*Result, error) {
	if opts.Flavors != nil {
		return opts.Flavors.load(ctx, admin, d, opts)
	}
	in, errs := d.compile(admin.Service.Catalog, opts)
	if len(d.Flavors) > 0 {
		errs = append([]error{errors.New("flavors: catalogue overrides need a live catalogue (seed.Options.Flavors)")}, errs...)
	}
	if len(errs) > 0 {
		return nil, invalid(errs)
	}
	return seed(ctx, admin, in)
}

// invalid is the error of a document that is not valid.
func invalid(errs []error) error {
	msg := strings.ReplaceAll(errors.Join(errs...).Error(), "\n", "; ")
	return &ecs.Error{Code: compute.CodeInvalidSeed, Message: msg, Status: 400}
}

// seed loads a compiled document.
func seed(ctx context.Context, admin *compute.Admin, in compute.Seed) (*Result, error) {
	servers, err := admin.Seed(ctx, in)
	if err != nil {
		return nil, err
	}
	res := &Result{Servers: servers}
	for _, t := range in.Tenants {
		res.Tenants = append(res.Tenants, t.Tenant)
	}
	return res, nil
}
