package console

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/fault"
)

// pageNames are the templates of templates/, each rendered inside base.html.
var pageNames = []string{"servers", "server", "jobs", "job", "flavors", "clock", "faults", "login", "error"}

func parsePages() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t := template.New(name).Funcs(funcs)
		out[name] = template.Must(t.ParseFS(templateFS, "templates/base.html", "templates/"+name+".html"))
	}
	return out
}

var funcs = template.FuncMap{
	"time":       fmtTime,
	"short":      shortID,
	"badge":      badgeClass,
	"jobBadge":   jobBadgeClass,
	"billing":    billingLabel,
	"gib":        func(mb int) string { return trimFloat(float64(mb) / 1024) },
	"taskLabel":  func(t string) string { return cmp.Or(t, "—") },
	"add":        func(a, b int) int { return a + b },
	"sale":       saleClass,
	"durationOf": durationOf,
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func durationOf(a, b time.Time) string {
	if a.IsZero() || b.IsZero() {
		return ""
	}
	return b.Sub(a).Round(time.Millisecond).String()
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func badgeClass(status string) string {
	switch status {
	case ecs.StatusActive:
		return "ok"
	case ecs.StatusShutoff:
		return "off"
	case ecs.StatusError, ecs.StatusDeleted, ecs.StatusUnknown:
		return "bad"
	case ecs.StatusVerifyResize, ecs.StatusRevertResize:
		return "warn"
	}
	return "busy"
}

func jobBadgeClass(status string) string {
	switch status {
	case ecs.JobSuccess:
		return "ok"
	case ecs.JobFail:
		return "bad"
	case ecs.JobInit, ecs.JobRunning:
		return "busy"
	}
	return "warn"
}

func saleClass(status string) string {
	switch status {
	case ecs.SaleNormal, ecs.SalePromotion, ecs.SaleObt:
		return "ok"
	case ecs.SaleSellout:
		return "warn"
	}
	return "bad"
}

func billingLabel(mode string) string {
	switch mode {
	case ecs.ChargingPostPaid:
		return "pay-per-use"
	case ecs.ChargingPrePaid:
		return "yearly/monthly"
	case ecs.ChargingSpot:
		return "spot"
	}
	return mode
}

// page is what base.html renders around a page's content.
type page struct {
	Title string
	Nav   string // the active navigation entry
	// Watch names the live-update events the page follows: "servers",
	// "server", "jobs", "job", "clock" or "faults"; ID narrows it to one
	// server or job.
	Watch string
	ID    string
	Token bool // an admin token is configured (show the logout button)
	Data  any
}

// render executes a page into a buffer, so that a template error becomes a
// clean 500.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	c.renderPage(w, r, status, name, &page{Title: capitalize(name), Nav: name, Data: data})
}

func (c *Console) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	p.Token = c.Token != ""
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "base", p); err != nil {
		c.Logger.Error("console template", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// readTx runs fn in a read transaction of the store.
func (c *Console) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.Store.BeginReadTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

type project struct {
	ID   string
	Name string
}

// projects lists the tenants, for the project selectors.
func (c *Console) projects(ctx context.Context) ([]project, error) {
	var out []project
	err := c.readTx(ctx, func(tx *sql.Tx) error {
		ts, _, err := c.Store.Tenants(ctx, tx)
		for _, tn := range ts {
			out = append(out, project{ID: tn.ProjectID, Name: tn.ProjectName})
		}
		return err
	})
	return out, err
}

// serverRow is a server as the lists show it.
type serverRow struct {
	*ecs.Server
	Status string
	Flavor *ecs.Flavor // nil when no longer in the catalogue
}

func (c *Console) row(s *ecs.Server) serverRow {
	f, _ := c.Catalog.Flavor(s.FlavorID)
	return serverRow{Server: s, Status: s.Status(), Flavor: f}
}

type serversView struct {
	Projects []project
	Project  string
	Status   string
	AZ       string
	Flavor   string
	Name     string
	Statuses []string
	AZs      []string
	Servers  []serverRow
	Total    int
	// For the create form.
	Families []familyFlavors
	Images   []*ecs.Image
}

type familyFlavors struct {
	Family  string
	Flavors []*ecs.Flavor
}

var listStatuses = []string{ecs.StatusActive, ecs.StatusShutoff, ecs.StatusBuild, ecs.StatusResize, ecs.StatusReboot,
	ecs.StatusVerifyResize, ecs.StatusError}

func (c *Console) serversPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	v := &serversView{Project: q.Get("project"), Status: q.Get("status"), AZ: q.Get("az"),
		Flavor: strings.TrimSpace(q.Get("flavor")), Name: strings.TrimSpace(q.Get("name")), Statuses: listStatuses}
	var err error
	if v.Projects, err = c.projects(ctx); err != nil {
		c.failErr(w, r, err)
		return
	}
	for _, az := range c.Catalog.AZs() {
		v.AZs = append(v.AZs, az.Name)
	}
	all, err := c.allServers(ctx)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	v.Total = len(all)
	for _, s := range all {
		switch {
		case v.Project != "" && s.ProjectID != v.Project,
			v.Status != "" && s.Status() != v.Status,
			v.AZ != "" && s.AvailabilityZone != v.AZ,
			v.Flavor != "" && !strings.Contains(s.FlavorID, v.Flavor),
			v.Name != "" && !strings.Contains(strings.ToLower(s.Name), strings.ToLower(v.Name)):
			continue
		}
		v.Servers = append(v.Servers, c.row(s))
	}
	v.Families = c.families()
	v.Images = c.Catalog.Images()
	c.renderPage(w, r, http.StatusOK, "servers", &page{Title: "Servers", Nav: "servers", Watch: "servers", Data: v})
}

// allServers returns every live server, newest first.
func (c *Console) allServers(ctx context.Context) ([]*ecs.Server, error) {
	var all []*ecs.Server
	err := c.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		all, err = c.Store.AllServers(ctx, tx)
		return err
	})
	slices.Reverse(all)
	return all, err
}

// families groups the flavors by family, in catalogue order.
func (c *Console) families() []familyFlavors {
	var out []familyFlavors
	idx := map[string]int{}
	for _, f := range c.Catalog.Flavors() {
		i, ok := idx[f.Family]
		if !ok {
			i = len(out)
			idx[f.Family] = i
			out = append(out, familyFlavors{Family: f.Family})
		}
		out[i].Flavors = append(out[i].Flavors, f)
	}
	return out
}

type serverView struct {
	Server   serverRow
	Deleted  bool
	ID       string
	Image    string
	Timeline []timelineEntry
	Details  *driver.Details
	// DetailsError is set when the driver could not describe the machine.
	DetailsError string
	Describes    bool
	Driver       string
}

type timelineEntry struct {
	Action *ecs.Action
	Job    *ecs.Job
	Phases []*ecs.PhaseEvent
}

func (c *Console) serverPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	v := &serverView{ID: id}
	srv, err := c.Services.FindServerByID(ctx, "", id)
	switch {
	case ecs.ErrorCode(err) == ecs.CodeServerNotFound:
		v.Deleted = true
	case err != nil:
		c.failErr(w, r, err)
		return
	default:
		v.Server = c.row(srv)
		if img, ok := c.Catalog.Image(srv.ImageID); ok {
			v.Image = img.Name
		}
	}
	if v.Timeline, err = c.timeline(ctx, id); err != nil {
		c.failErr(w, r, err)
		return
	}
	if v.Deleted && len(v.Timeline) == 0 {
		c.fail(w, r, http.StatusNotFound, ecs.CodeServerNotFound, fmt.Sprintf("Server %s could not be found.", id))
		return
	}
	if c.Driver != nil {
		v.Driver = c.Driver.Name()
	}
	if d, ok := c.Driver.(driver.Describer); ok && !v.Deleted {
		v.Describes = true
		det, err := d.Describe(ctx, id)
		if err != nil {
			v.DetailsError = err.Error()
		} else {
			v.Details = &det
		}
	}
	title := id
	if srv != nil {
		title = srv.Name
	}
	c.renderPage(w, r, http.StatusOK, "server", &page{Title: title, Nav: "servers", Watch: "server", ID: id, Data: v})
}

// timeline returns a server's actions, newest first, each with its job
// and phases.
func (c *Console) timeline(ctx context.Context, serverID string) ([]timelineEntry, error) {
	actions, err := c.Services.ServerActions(ctx, "", serverID)
	if err != nil {
		return nil, err
	}
	out := make([]timelineEntry, 0, len(actions))
	for _, a := range slices.Backward(actions) {
		e := timelineEntry{Action: a}
		if job, phases, err := c.Services.JobPhases(ctx, a.ProjectID, a.JobID); err == nil {
			e.Job, e.Phases = job, phases[a.JobID]
		}
		out = append(out, e)
	}
	return out, nil
}

type jobsView struct {
	Projects []project
	Project  string
	Status   string
	Jobs     []*jobRow
}

type jobRow struct {
	*ecs.Job
	Subs []*jobRow
	// Progress lists the job's expected phases with what it reached.
	Progress []phaseStep
	Server   string // server name, when known
}

type phaseStep struct {
	Phase string `json:"phase"`
	State string `json:"state"` // done, current, todo or failed
}

// maxJobs bounds the jobs page.
const maxJobs = 200

func (c *Console) jobsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	v := &jobsView{Project: q.Get("project"), Status: q.Get("status")}
	var err error
	if v.Projects, err = c.projects(ctx); err != nil {
		c.failErr(w, r, err)
		return
	}
	jobs, names, err := c.recentJobs(ctx, v.Project, v.Status)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, c.jobRow(j, names))
	}
	c.renderPage(w, r, http.StatusOK, "jobs", &page{Title: "Jobs", Nav: "jobs", Watch: "jobs", Data: v})
}

// recentJobs returns the newest top-level jobs (at most maxJobs) of a
// project and status ("" = all), with the names of their servers that
// still exist.
func (c *Console) recentJobs(ctx context.Context, projectID, status string) ([]*ecs.Job, map[string]string, error) {
	names := map[string]string{}
	var jobs []*ecs.Job
	err := c.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if jobs, err = c.Store.RecentJobs(ctx, tx, projectID, status, maxJobs); err != nil {
			return err
		}
		for _, j := range jobs {
			for _, sj := range append([]*ecs.Job{j}, j.SubJobs...) {
				if sj.ServerID == "" || names[sj.ServerID] != "" {
					continue
				}
				srv, err := c.Store.ServerByID(ctx, tx, "", sj.ServerID)
				switch {
				case ecs.ErrorCode(err) != "": // deleted since
				case err != nil:
					return err
				default:
					names[srv.ID] = srv.Name
				}
			}
		}
		return nil
	})
	return jobs, names, err
}

func (c *Console) jobRow(j *ecs.Job, names map[string]string) *jobRow {
	row := &jobRow{Job: j, Server: names[j.ServerID], Progress: progress(j)}
	for _, s := range j.SubJobs {
		row.Subs = append(row.Subs, c.jobRow(s, names))
	}
	return row
}

// plans are the phases a single-server job walks through.
var plans = map[string][]string{
	ecs.JobCreateSingleServer: {ecs.TaskScheduling, ecs.TaskBlockDeviceMap, ecs.TaskNetworking, ecs.TaskSpawning},
	ecs.JobStartServer:        {ecs.TaskPoweringOn},
	ecs.JobStopServer:         {ecs.TaskPoweringOff},
	ecs.JobRebootServer:       {ecs.TaskRebooting},
	ecs.JobDeleteSingleServer: {ecs.TaskDeleting},
	ecs.JobResizeServer:       {ecs.TaskResizePrep, ecs.TaskResizeMigrating, ecs.TaskResizeMigrated, ecs.TaskResizeFinish},
}

// progress returns the expected phases of a single-server job, marking
// those it has passed.
func progress(j *ecs.Job) []phaseStep {
	plan := plans[j.Type]
	if plan == nil {
		return nil
	}
	if j.Type == ecs.JobResizeServer {
		var p compute.ResizeParams
		if json.Unmarshal([]byte(j.Params), &p) == nil && p.WasRunning {
			plan = append(append([]string{ecs.TaskPoweringOff}, plan...), ecs.TaskPoweringOn)
		}
	}
	if j.Type == ecs.JobRebootServer && strings.Contains(j.Params, `"hard":true`) {
		plan = []string{ecs.TaskRebootingHard}
	}
	cur := slices.Index(plan, j.Phase)
	out := make([]phaseStep, len(plan))
	for i, p := range plan {
		st := "todo"
		switch {
		case j.Status == ecs.JobSuccess:
			st = "done"
		case j.Status == ecs.JobFail && i == cur:
			st = "failed"
		case i < cur:
			st = "done"
		case i == cur && j.Status != ecs.JobFail:
			st = "current"
		}
		out[i] = phaseStep{Phase: p, State: st}
	}
	return out
}

type jobView struct {
	Job    *jobRow
	Phases map[string][]*ecs.PhaseEvent
}

func (c *Console) jobPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	job, phases, err := c.Services.JobPhases(ctx, "", r.PathValue("id"))
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	names := map[string]string{}
	for _, j := range append([]*ecs.Job{job}, job.SubJobs...) {
		if j.ServerID != "" {
			if s, err := c.Services.FindServerByID(ctx, "", j.ServerID); err == nil {
				names[s.ID] = s.Name
			}
		}
	}
	v := &jobView{Job: c.jobRow(job, names), Phases: phases}
	c.renderPage(w, r, http.StatusOK, "job", &page{Title: "Job " + shortID(job.ID), Nav: "jobs", Watch: "job", ID: job.ID, Data: v})
}

type flavorsView struct {
	AZs      []string
	AZ       string
	Families []familyView
	Refused  int
}

type familyView struct {
	Family  string
	Flavors []flavorView
	// Compat lists, for each family, whether a flavor of this family may
	// change to it, with the reason when it may not.
	Compat []compatView
}

type flavorView struct {
	*ecs.Flavor
	Sale []saleView
}

type saleView struct {
	AZ     string
	Status string
}

type compatView struct {
	Family string
	OK     bool
	Reason string
}

func (c *Console) flavorsPage(w http.ResponseWriter, r *http.Request) {
	v := &flavorsView{AZ: r.URL.Query().Get("az")}
	for _, az := range c.Catalog.AZs() {
		v.AZs = append(v.AZs, az.Name)
	}
	if v.AZ != "" && !slices.Contains(v.AZs, v.AZ) {
		c.fail(w, r, http.StatusBadRequest, "Ecsd.BadRequest", fmt.Sprintf("Unknown availability zone %q (known: %s).", v.AZ, strings.Join(v.AZs, ", ")))
		return
	}
	fams := c.families()
	for _, fam := range fams {
		fv := familyView{Family: fam.Family}
		for _, f := range fam.Flavors {
			row := flavorView{Flavor: f}
			for _, az := range v.AZs {
				st := f.SaleStatus(az)
				if c.Faults != nil && c.Faults.SoldOut(f.ID, az) {
					st = ecs.SaleSellout
				}
				row.Sale = append(row.Sale, saleView{AZ: az, Status: st})
			}
			fv.Flavors = append(fv.Flavors, row)
		}
		// Compatibility of the family's first flavor with a representative
		// of every other family, ignoring sale status (which is per AZ).
		src := fam.Flavors[0]
		for _, other := range fams {
			if other.Family == fam.Family {
				fv.Compat = append(fv.Compat, compatView{Family: other.Family, OK: true})
				continue
			}
			err := c.Catalog.CheckResize(src, other.Flavors[0], "", true)
			cv := compatView{Family: other.Family, OK: err == nil}
			if err != nil && (ecs.ErrorCode(err) == ecs.CodeFlavorAbandoned || ecs.ErrorCode(err) == ecs.CodeInsufficientCap) {
				cv.OK = true // a sale matter of that one flavor, not of the family
			} else if err != nil {
				cv.Reason = reasonOf(err)
			}
			fv.Compat = append(fv.Compat, cv)
		}
		v.Families = append(v.Families, fv)
	}
	c.renderPage(w, r, http.StatusOK, "flavors", &page{Title: "Flavors", Nav: "flavors", Watch: "faults", Data: v})
}

// reasonOf returns the explanation of a resize refusal without its
// "flavor A cannot be changed to B: " preamble.
func reasonOf(err error) string {
	msg := ecs.ErrorMessage(err)
	if _, after, ok := strings.Cut(msg, "cannot be changed to "); ok {
		if _, reason, ok := strings.Cut(after, ": "); ok {
			return reason
		}
	}
	return msg
}

type clockView struct {
	Managed  bool
	Now      time.Time
	NowMilli int64
	Speed    float64
	Paused   bool
	Sleepers int
}

func (c *Console) clockView() *clockView {
	if c.Clock == nil {
		return &clockView{}
	}
	st := c.Clock.State()
	now := c.Clock.Now()
	return &clockView{Managed: true, Now: now, NowMilli: now.UnixMilli(), Speed: st.Speed, Paused: st.Paused, Sleepers: c.Clock.Waiters()}
}

func (c *Console) clockPage(w http.ResponseWriter, r *http.Request) {
	c.renderPage(w, r, http.StatusOK, "clock", &page{Title: "Clock", Nav: "clock", Watch: "clock", Data: c.clockView()})
}

type faultsView struct {
	Enabled bool
	Rules   []fault.Rule
}

func (c *Console) faultsPage(w http.ResponseWriter, r *http.Request) {
	v := &faultsView{Enabled: c.Faults != nil}
	if c.Faults != nil {
		rules, err := c.Faults.List(r.Context())
		if err != nil {
			c.failErr(w, r, err)
			return
		}
		v.Rules = rules
	}
	c.renderPage(w, r, http.StatusOK, "faults", &page{Title: "Fault rules", Nav: "faults", Watch: "faults", Data: v})
}
