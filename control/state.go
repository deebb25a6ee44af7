package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
)

// State serves the routes that read and replace ecsd's state:
//
//	GET    /_ecsd/tenants               list tenants (never their secret keys)
//	POST   /_ecsd/tenants               create a tenant (201, secret key included)
//	DELETE /_ecsd/tenants/{project_id}  delete a tenant and all of its project (204)
//	POST   /_ecsd/reset                 everything, or {"project_id"}, back to the start-up seed
//	POST   /_ecsd/seed                  load a seed document (YAML or JSON)
//	GET    /_ecsd/snapshot              export the whole state as one JSON document
//	POST   /_ecsd/snapshot              replace the whole state with an exported one
//
// Set the fields, then call Register. Resets, seeds, imports and tenant
// changes are serialised.
type State struct {
	Admin *compute.Admin
	Store *store.DB
	// Base is the start-up seed (the configured tenants and the --seed
	// document) that a reset re-applies; nil is an empty one.
	Base *seed.Document
	// Seed gives the defaults of seed documents and, in Seed.Flavors, the
	// catalogue their flavor overrides change: a full reset puts the
	// start-up catalogue back (Base's overrides on the configured one), an
	// import the one its snapshot saved.
	Seed seed.Options
	// Clock, when set, is restored from an imported snapshot and exported
	// as it runs.
	Clock *clock.Virtual
	// Reload re-reads what is cached outside the store (the fault rules)
	// after a full reset or an import; nil for nothing.
	Reload func(ctx context.Context) error
	Logger *slog.Logger

	mu sync.Mutex
}

// Register adds the state routes to s.
func (st *State) Register(s *Server) {
	s.Handle("GET /_ecsd/tenants", http.HandlerFunc(st.listTenants))
	s.Handle("POST /_ecsd/tenants", http.HandlerFunc(st.createTenant))
	s.Handle("DELETE /_ecsd/tenants/{project_id}", http.HandlerFunc(st.deleteTenant))
	s.Handle("POST /_ecsd/reset", http.HandlerFunc(st.reset))
	s.Handle("POST /_ecsd/seed", http.HandlerFunc(st.seed))
	s.Handle("GET /_ecsd/snapshot", http.HandlerFunc(st.export))
	s.Handle("POST /_ecsd/snapshot", http.HandlerFunc(st.importSnapshot))
}

// --- views -----------------------------------------------------------------------

type quotaView struct {
	Instances int `json:"instances"`
	Cores     int `json:"cores"`
	RAM       int `json:"ram"`
}

type tenantView struct {
	AccessKey   string    `json:"access_key"`
	SecretKey   string    `json:"secret_key,omitempty"` // in the create response only
	ProjectID   string    `json:"project_id"`
	ProjectName string    `json:"project_name"`
	DomainID    string    `json:"domain_id"`
	Quota       quotaView `json:"quota"`
	Servers     int       `json:"servers"`
}

func viewTenant(t compute.TenantInfo, secret bool) tenantView {
	v := tenantView{AccessKey: t.Tenant.AccessKey, ProjectID: t.Tenant.ProjectID, ProjectName: t.Tenant.ProjectName,
		DomainID: t.Tenant.DomainID, Servers: t.Servers,
		Quota: quotaView{Instances: t.Quota.Instances, Cores: t.Quota.Cores, RAM: t.Quota.RAMMB}}
	if secret {
		v.SecretKey = t.Tenant.SecretKey
	}
	return v
}

type seededServerView struct {
	ID               string `json:"id"`
	ProjectID        string `json:"project_id"`
	Name             string `json:"name"`
	Status           string `json:"status"`
	Flavor           string `json:"flavor"`
	AvailabilityZone string `json:"availability_zone"`
	IPAddress        string `json:"ip_address"`
}

type seededTenantView struct {
	AccessKey string `json:"access_key"`
	ProjectID string `json:"project_id"`
}

type seedView struct {
	Tenants []seededTenantView `json:"tenants"`
	Servers []seededServerView `json:"servers"`
	Flavors []string           `json:"flavors"` // the IDs of the flavors overridden
}

func viewSeed(r *seed.Result) seedView {
	v := seedView{Tenants: []seededTenantView{}, Servers: []seededServerView{}, Flavors: []string{}}
	if r == nil {
		return v
	}
	v.Flavors = append(v.Flavors, r.Flavors...)
	for _, t := range r.Tenants {
		v.Tenants = append(v.Tenants, seededTenantView{AccessKey: t.AccessKey, ProjectID: t.ProjectID})
	}
	for _, s := range r.Servers {
		v.Servers = append(v.Servers, seededServerView{ID: s.ID, ProjectID: s.ProjectID, Name: s.Name, Status: s.Status(),
			Flavor: s.FlavorID, AvailabilityZone: s.AvailabilityZone, IPAddress: s.IPAddress})
	}
	return v
}

// --- tenants -----------------------------------------------------------------------

func (st *State) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := st.Admin.Tenants(r.Context())
	if err != nil {
		st.fail(w, r, err)
		return
	}
	out := make([]tenantView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewTenant(t, false))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"tenants": out})
}

// tenantRequest is the body of POST /_ecsd/tenants; every field is
// optional.
type tenantRequest struct {
	AccessKey   string `json:"access_key"`
	SecretKey   string `json:"secret_key"`
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name"`
	DomainID    string `json:"domain_id"`
	Quota       *struct {
		Instances *int `json:"instances"`
		Cores     *int `json:"cores"`
		RAM       *int `json:"ram"`
	} `json:"quota"`
}

func (st *State) createTenant(w http.ResponseWriter, r *http.Request) {
	var req tenantRequest
	if !DecodeJSON(w, r, &req) {
		return
	}
	var q *ecs.Quota
	if req.Quota != nil {
		base := ecs.DefaultQuota
		if st.Admin.DefaultQuota != nil {
			base = *st.Admin.DefaultQuota
		}
		for _, l := range []struct {
			dst *int
			v   *int
		}{{&base.Instances, req.Quota.Instances}, {&base.Cores, req.Quota.Cores}, {&base.RAMMB, req.Quota.RAM}} {
			if l.v != nil {
				*l.dst = *l.v
			}
		}
		q = &base
	}
	st.mu.Lock()
	t, err := st.Admin.CreateTenant(r.Context(), ecs.Tenant{AccessKey: req.AccessKey, SecretKey: req.SecretKey,
		ProjectID: req.ProjectID, ProjectName: req.ProjectName, DomainID: req.DomainID}, q)
	st.mu.Unlock()
	if err != nil {
		st.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, viewTenant(*t, true))
}

func (st *State) deleteTenant(w http.ResponseWriter, r *http.Request) {
	st.mu.Lock()
	err := st.Admin.DeleteTenant(r.Context(), r.PathValue("project_id"))
	st.mu.Unlock()
	if err != nil {
		st.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- reset and seed ----------------------------------------------------------------

type resetRequest struct {
	ProjectID string `json:"project_id"`
}

type resetView struct {
	ProjectID      string   `json:"project_id,omitempty"` // absent for a full reset
	ServersRemoved int      `json:"servers_removed"`
	Seeded         seedView `json:"seeded"`
	Milliseconds   float64  `json:"milliseconds"`
}

func (st *State) reset(w http.ResponseWriter, r *http.Request) {
	var req resetRequest
	if !DecodeJSON(w, r, &req) {
		return
	}
	start := time.Now()
	removed, res, err := st.Reset(r.Context(), req.ProjectID)
	if err != nil {
		st.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, resetView{ProjectID: req.ProjectID, ServersRemoved: removed, Seeded: viewSeed(res),
		Milliseconds: float64(time.Since(start).Microseconds()) / 1000})
}

// Reset puts everything (projectID "") or one project back into the
// start-up state: it removes the project's servers (and their driver
// instances), jobs (stopping the running ones; River's rows go too),
// history, client tokens and network in one transaction (a full reset also
// every tenant and fault rule, and puts the configured catalogue back in
// force), then applies Base again to the same scope (a full reset with its
// flavor overrides).
// A project reset keeps a tenant created at run time and gives it a fresh
// default network. It returns how many live servers were removed and what
// the seed created. An unknown project is a 404 *ecs.Error.
func (st *State) Reset(ctx context.Context, projectID string) (int, *seed.Result, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	base := st.Base
	var n int
	var err error
	if projectID == "" {
		if n, err = st.Admin.ResetAll(ctx); err != nil {
			return 0, nil, err
		}
		if st.Seed.Flavors != nil {
			if err := st.Seed.Flavors.Reset(ctx); err != nil {
				return n, nil, err
			}
		}
		if err := st.reload(ctx); err != nil {
			return n, nil, err
		}
	} else {
		exists, err := st.Admin.TenantExists(ctx, projectID)
		if err != nil {
			return 0, nil, err
		}
		if !exists && !base.HasTenant(projectID) {
			return 0, nil, &ecs.Error{Code: compute.CodeAdminNotFound, Status: http.StatusNotFound,
				Message: fmt.Sprintf("Project %s has no tenant and is not in the start-up seed.", projectID)}
		}
		if n, err = st.Admin.ResetProject(ctx, projectID); err != nil {
			return 0, nil, err
		}
		base = base.Project(projectID)
	}
	if base == nil {
		return n, &seed.Result{}, nil
	}
	res, err := seed.Load(ctx, st.Admin, base, st.Seed)
	if err != nil {
		return n, nil, fmt.Errorf("re-apply the start-up seed: %w", err)
	}
	return n, res, nil
}

func (st *State) reload(ctx context.Context) error {
	if st.Reload == nil {
		return nil
	}
	if err := st.Reload(ctx); err != nil {
		return fmt.Errorf("reload caches: %w", err)
	}
	return nil
}

// seed serves POST /_ecsd/seed. The body is YAML or JSON: by Content-Type
// (…json, …yaml), else by content.
func (st *State) seed(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, "Ecsd.TooLarge", "Request body too large.")
		return
	}
	format := ""
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
		switch {
		case strings.HasSuffix(mt, "json"):
			format = seed.FormatJSON
		case strings.HasSuffix(mt, "yaml"):
			format = seed.FormatYAML
		}
	}
	doc, err := seed.Parse(body, format)
	if err != nil {
		WriteError(w, http.StatusBadRequest, compute.CodeInvalidSeed, err.Error())
		return
	}
	st.mu.Lock()
	res, err := seed.Load(r.Context(), st.Admin, doc, st.Seed)
	st.mu.Unlock()
	if err != nil {
		st.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, viewSeed(res))
}

// --- snapshots ---------------------------------------------------------------------

// Export returns the whole state, stamped with the wall time, with the
// virtual clock as it runs now.
func (st *State) Export(ctx context.Context) (*store.Snapshot, error) {
	snap, err := st.Store.Export(ctx)
	if err != nil {
		return nil, err
	}
	if st.Clock != nil {
		b, err := json.Marshal(st.Clock.State())
		if err != nil {
			return nil, err
		}
		snap.Clock = b
	}
	return snap, nil
}

func (st *State) export(w http.ResponseWriter, r *http.Request) {
	snap, err := st.Export(r.Context())
	if err != nil {
		st.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="ecsd-snapshot.json"`)
	WriteJSON(w, http.StatusOK, snap)
}

type importView struct {
	Tenants     int     `json:"tenants"`
	Servers     int     `json:"servers"`
	Jobs        int     `json:"jobs"`
	ResumedJobs int     `json:"resumed_jobs"`
	ClockNow    *string `json:"clock_now,omitempty"`
}

func (st *State) importSnapshot(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, "Ecsd.TooLarge", "Request body too large.")
		return
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		WriteError(w, http.StatusBadRequest, "Ecsd.BadRequest", "Invalid JSON body: "+err.Error())
		return
	}
	if head.Format != store.SnapshotFormat || head.Version != store.SnapshotVersion {
		WriteError(w, http.StatusBadRequest, "Ecsd.UnsupportedSnapshot", fmt.Sprintf(
			"Not a snapshot this ecsd can import: format %q version %d, want %q version %d.",
			head.Format, head.Version, store.SnapshotFormat, store.SnapshotVersion))
		return
	}
	var snap store.Snapshot
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		WriteError(w, http.StatusBadRequest, "Ecsd.BadRequest", "Invalid snapshot: "+err.Error())
		return
	}
	resumed, err := st.Import(r.Context(), &snap)
	if err != nil {
		st.fail(w, r, err)
		return
	}
	v := importView{Tenants: len(snap.Tenants), Servers: len(snap.Servers), Jobs: len(snap.Jobs), ResumedJobs: resumed}
	if st.Clock != nil {
		now := st.Clock.Now().Format(time.RFC3339Nano)
		v.ClockNow = &now
	}
	WriteJSON(w, http.StatusOK, v)
}

// Import replaces the whole state with snap. It stops every running job
// and deletes every driver instance, imports the snapshot in one
// transaction, restores the virtual clock to the exported instant (it runs
// on from there), puts in force the catalogue overrides the snapshot saved
// (Seed.Flavors), re-creates the driver instances of the imported servers,
// enqueues every unfinished job so that it carries on from its phase, and
// reloads the caches. It returns how many jobs it enqueued. A snapshot of
// another format or version, or whose catalogue overrides do not apply to
// the configured catalogue, is refused before anything changes; if the
// import itself fails, the previous state is kept and its jobs are resumed.
func (st *State) Import(ctx context.Context, snap *store.Snapshot) (int, error) {
	if snap.Format != store.SnapshotFormat || snap.Version != store.SnapshotVersion {
		return 0, &ecs.Error{Code: "Ecsd.UnsupportedSnapshot", Status: http.StatusBadRequest, Message: fmt.Sprintf(
			"Not a snapshot this ecsd can import: format %q version %d.", snap.Format, snap.Version)}
	}
	var cs *clock.State
	if st.Clock != nil && len(snap.Clock) > 0 {
		cs = &clock.State{}
		if err := json.Unmarshal(snap.Clock, cs); err != nil {
			return 0, &ecs.Error{Code: "Ecsd.BadRequest", Status: http.StatusBadRequest, Message: "Invalid clock state: " + err.Error()}
		}
		cs.Anchor = time.Now().UTC() // run on from the exported instant
	}
	if st.Seed.Flavors != nil {
		if _, _, err := st.Seed.Flavors.Parse(snap.Settings[seed.OverridesSetting]); err != nil {
			return 0, &ecs.Error{Code: "Ecsd.BadRequest", Status: http.StatusBadRequest,
				Message: "The snapshot could not be imported: " + err.Error()}
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.Admin.Release(ctx); err != nil {
		return 0, err
	}
	if err := st.Store.Import(ctx, snap); err != nil {
		if _, rerr := st.Admin.Resume(ctx); rerr != nil {
			st.Logger.Error("resume the previous state after a failed import", "err", rerr)
		}
		return 0, &ecs.Error{Code: "Ecsd.BadRequest", Status: http.StatusBadRequest,
			Message: "The snapshot could not be imported: " + strings.TrimPrefix(err.Error(), "import: ")}
	}
	if cs != nil {
		if err := st.Clock.Restore(*cs); err != nil {
			st.Logger.Warn("imported clock state not restored", "err", err)
		}
	}
	if st.Seed.Flavors != nil {
		if err := st.Seed.Flavors.Restore(ctx); err != nil {
			return 0, fmt.Errorf("import: catalogue overrides: %w", err)
		}
	}
	n, err := st.Admin.Resume(ctx)
	if err != nil {
		return n, err
	}
	return n, st.reload(ctx)
}

// fail answers with err: a client error (an *ecs.Error) with its status
// (400 by default) and code; anything else is logged and answered 500.
func (st *State) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *ecs.Error
	if errors.As(err, &e) {
		status := e.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		WriteError(w, status, e.Code, e.Message)
		return
	}
	st.Logger.Error("control API internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	WriteError(w, http.StatusInternalServerError, "Ecsd.Internal", "Internal error.")
}
