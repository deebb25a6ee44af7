package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/fault"
)

// The console's JSON endpoints. Each acts through Services under the
// project of what it touches; the request's context carries the request ID
// the HTTP server gave it (X-Request-Id), which the history records.

// createRequest is the body of POST /console/api/servers.
type createRequest struct {
	ProjectID        string `json:"project_id"`
	Name             string `json:"name"`
	FlavorID         string `json:"flavor_id"`
	ImageID          string `json:"image_id"`
	AvailabilityZone string `json:"availability_zone"`
	Count            int    `json:"count"`
}

// maxCreate bounds the servers one console request creates.
const maxCreate = 20

func (c *Console) badRequest(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	c.fail(w, r, http.StatusBadRequest, "Ecsd.BadRequest", fmt.Sprintf(format, args...))
}

func (c *Console) apiCreate(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !c.decodeJSON(w, r, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.ProjectID == "":
		c.badRequest(w, r, "Choose a project.")
		return
	case req.Name == "" || utf8.RuneCountInString(req.Name) > 64:
		c.badRequest(w, r, "A name of 1 to 64 characters is required.")
		return
	case req.FlavorID == "":
		c.badRequest(w, r, "Choose a flavor.")
		return
	case req.ImageID == "":
		c.badRequest(w, r, "Choose an image.")
		return
	case req.Count < 0 || req.Count > maxCreate:
		c.badRequest(w, r, "Count must be between 1 and %d.", maxCreate)
		return
	}
	projects, err := c.projects(r.Context())
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if !slices.ContainsFunc(projects, func(p project) bool { return p.ID == req.ProjectID }) {
		c.badRequest(w, r, "Project %s does not exist.", req.ProjectID)
		return
	}
	res, err := c.Services.CreateServers(r.Context(), &ecs.CreateServersRequest{
		ProjectID: req.ProjectID, Name: req.Name, FlavorID: req.FlavorID, ImageID: req.ImageID,
		AvailabilityZone: req.AvailabilityZone, Count: max(req.Count, 1),
		VPCID:        compute.DerivedUUID(req.ProjectID + "/vpc"),
		SubnetIDs:    []string{compute.DerivedUUID(req.ProjectID + "/subnet")},
		ChargingMode: ecs.ChargingPostPaid,
	})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"job_id": res.JobID, "server_ids": res.ServerIDs})
}

// actionRequest is the body of POST /console/api/servers/{id}/action.
type actionRequest struct {
	Action string `json:"action"` // start, stop, reboot or delete
	Hard   bool   `json:"hard"`
}

// server finds a live server of any project, answering 404 when there is
// none.
func (c *Console) server(w http.ResponseWriter, r *http.Request) (*ecs.Server, bool) {
	srv, err := c.Services.FindServerByID(r.Context(), "", r.PathValue("id"))
	if err != nil {
		c.failErr(w, r, err)
		return nil, false
	}
	return srv, true
}

func (c *Console) apiAction(w http.ResponseWriter, r *http.Request) {
	var req actionRequest
	if !c.decodeJSON(w, r, &req) {
		return
	}
	if !slices.Contains([]string{ecs.ActionStart, ecs.ActionStop, ecs.ActionReboot, "delete"}, req.Action) {
		c.badRequest(w, r, "Unknown action %q: use start, stop, reboot or delete.", req.Action)
		return
	}
	srv, ok := c.server(w, r)
	if !ok {
		return
	}
	var jobID string
	var err error
	if req.Action == "delete" {
		jobID, err = c.Services.DeleteServers(r.Context(), &ecs.DeleteServersRequest{
			ProjectID: srv.ProjectID, ServerIDs: []string{srv.ID}, DeleteVolume: true})
	} else {
		jobID, err = c.Services.ActOnServers(r.Context(), &ecs.ServerActionRequest{
			ProjectID: srv.ProjectID, Action: req.Action, Hard: req.Hard, ServerIDs: []string{srv.ID}})
	}
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"job_id": jobID})
}

// resizeOptions is the body of GET /console/api/servers/{id}/resize.
type resizeOptions struct {
	ServerID string         `json:"server_id"`
	Name     string         `json:"name"`
	Status   string         `json:"status"`
	Flavor   flavorBrief    `json:"flavor"`
	AZ       string         `json:"availability_zone"`
	NeedStop bool           `json:"needs_stop"` // ACTIVE: the resize stops and restarts it
	Blocked  string         `json:"blocked,omitempty"`
	Allowed  []flavorBrief  `json:"allowed"`
	Refused  []refusedBrief `json:"refused"`
}

type flavorBrief struct {
	ID     string `json:"id"`
	Family string `json:"family"`
	VCPUs  int    `json:"vcpus"`
	RAMMB  int    `json:"ram_mb"`
}

type refusedBrief struct {
	flavorBrief
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func brief(f *ecs.Flavor) flavorBrief {
	return flavorBrief{ID: f.ID, Family: f.Family, VCPUs: f.VCPUs, RAMMB: f.RAMMB}
}

// apiResizeOptions lists the flavors a server may change to (those of the
// resize_flavors API) and, for every other flavor, why not.
func (c *Console) apiResizeOptions(w http.ResponseWriter, r *http.Request) {
	srv, ok := c.server(w, r)
	if !ok {
		return
	}
	cur, ok := c.Catalog.Flavor(srv.FlavorID)
	if !ok {
		c.fail(w, r, http.StatusConflict, ecs.CodeFlavorNotFound, fmt.Sprintf("Flavor %s of the server is no longer in the catalogue.", srv.FlavorID))
		return
	}
	targets, err := c.Services.ResizeFlavors(r.Context(), &ecs.ResizeFlavorsRequest{ProjectID: srv.ProjectID, InstanceID: srv.ID})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	out := resizeOptions{ServerID: srv.ID, Name: srv.Name, Status: srv.Status(), Flavor: brief(cur), AZ: srv.AvailabilityZone,
		NeedStop: srv.Status() == ecs.StatusActive, Allowed: []flavorBrief{}, Refused: []refusedBrief{}}
	switch {
	case srv.ChargingMode == ecs.ChargingSpot:
		out.Blocked = "Spot servers cannot be resized."
	case srv.ChargingMode == ecs.ChargingPrePaid:
		out.Blocked = "Yearly/monthly servers are resized through an order (the v1.1 API); the console resizes pay-per-use servers."
	case srv.Busy():
		out.Blocked = fmt.Sprintf("The server is busy (%s); wait for the running job to end.", srv.TaskState)
	case srv.Status() != ecs.StatusActive && srv.Status() != ecs.StatusShutoff:
		out.Blocked = fmt.Sprintf("A server in status %s cannot be resized.", srv.Status())
	}
	allowed := map[string]bool{}
	for _, f := range targets {
		allowed[f.ID] = true
		out.Allowed = append(out.Allowed, brief(f))
	}
	img, _ := c.Catalog.Image(srv.ImageID)
	for _, f := range c.Catalog.Flavors() {
		if allowed[f.ID] || f.ID == cur.ID {
			continue
		}
		rb := refusedBrief{flavorBrief: brief(f)}
		err := c.Catalog.CheckResize(cur, f, srv.AvailabilityZone, img != nil && img.SupportsKVM)
		switch {
		case err != nil:
			rb.Code, rb.Reason = ecs.ErrorCode(err), reasonOf(err)
		case img != nil && c.Catalog.ImageFits(img, f) != nil:
			err := c.Catalog.ImageFits(img, f)
			rb.Code, rb.Reason = ecs.ErrorCode(err), ecs.ErrorMessage(err)
		case c.Faults != nil && c.Faults.SoldOut(f.ID, srv.AvailabilityZone):
			rb.Code, rb.Reason = ecs.CodeInsufficientCap, fmt.Sprintf("%s is sold out in %s (fault rule)", f.ID, srv.AvailabilityZone)
		case !f.SoldFor(srv.ChargingMode):
			rb.Code, rb.Reason = ecs.CodeChargingNotAllowed, fmt.Sprintf("%s is not sold as %s", f.ID, billingLabel(srv.ChargingMode))
		default:
			rb.Code, rb.Reason = ecs.CodeBadRequest, "not offered as a resize target of this server"
		}
		out.Refused = append(out.Refused, rb)
	}
	writeJSON(w, http.StatusOK, out)
}

// resizeRequest is the body of POST /console/api/servers/{id}/resize.
type resizeRequest struct {
	FlavorID string `json:"flavor_id"`
	DryRun   bool   `json:"dry_run"`
	// WithStop resizes an ACTIVE server by stopping it first
	// (mode=withStopServer).
	WithStop bool `json:"with_stop"`
}

func (c *Console) apiResize(w http.ResponseWriter, r *http.Request) {
	var req resizeRequest
	if !c.decodeJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.FlavorID) == "" {
		c.badRequest(w, r, "Choose the flavor to change to.")
		return
	}
	srv, ok := c.server(w, r)
	if !ok {
		return
	}
	jobID, err := c.Services.ResizeServer(r.Context(), &ecs.ResizeRequest{ProjectID: srv.ProjectID, ServerID: srv.ID,
		FlavorID: req.FlavorID, WithStop: req.WithStop, DryRun: req.DryRun, APIVersion: "v1"})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if req.DryRun {
		writeJSON(w, http.StatusOK, map[string]any{"dry_run": true,
			"message": fmt.Sprintf("Dry run passed: %s may change from %s to %s (status, flavor rules, quota and capacity checked).",
				srv.Name, srv.FlavorID, req.FlavorID)})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"job_id": jobID})
}

// jobJSON is a job as GET /console/api/jobs/{id} shows it.
type jobJSON struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	Status     string      `json:"status"`
	Phase      string      `json:"phase"`
	ServerID   string      `json:"server_id,omitempty"`
	ErrorCode  string      `json:"error_code,omitempty"`
	FailReason string      `json:"fail_reason,omitempty"`
	BeginTime  time.Time   `json:"begin_time"`
	EndTime    *time.Time  `json:"end_time,omitempty"`
	Progress   []phaseStep `json:"progress"`
	SubJobs    []jobJSON   `json:"sub_jobs,omitempty"`
}

func toJobJSON(j *ecs.Job) jobJSON {
	out := jobJSON{ID: j.ID, Type: j.Type, Status: j.Status, Phase: j.Phase, ServerID: j.ServerID,
		ErrorCode: j.ErrorCode, FailReason: j.FailReason, BeginTime: j.BeginTime, Progress: progress(j)}
	if out.Progress == nil {
		out.Progress = []phaseStep{}
	}
	if !j.EndTime.IsZero() {
		t := j.EndTime
		out.EndTime = &t
	}
	for _, s := range j.SubJobs {
		out.SubJobs = append(out.SubJobs, toJobJSON(s))
	}
	return out
}

func (c *Console) apiJob(w http.ResponseWriter, r *http.Request) {
	job, err := c.Services.FindJobByID(r.Context(), "", r.PathValue("id"))
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toJobJSON(job))
}

// clockRequest is the body of POST /console/api/clock; the fields apply in
// this order: advance, speed, paused.
type clockRequest struct {
	Advance string   `json:"advance"` // a Go duration, e.g. "90s"
	Speed   *float64 `json:"speed"`
	Paused  *bool    `json:"paused"`
}

func (c *Console) apiClock(w http.ResponseWriter, r *http.Request) {
	if c.Clock == nil {
		c.fail(w, r, http.StatusConflict, "Ecsd.NoClock", "This ecsd runs on a clock the console does not manage.")
		return
	}
	var req clockRequest
	if !c.decodeJSON(w, r, &req) {
		return
	}
	var adv time.Duration
	if req.Advance != "" {
		d, err := time.ParseDuration(strings.TrimSpace(req.Advance))
		if err != nil || d <= 0 {
			c.badRequest(w, r, "Advance by a positive duration such as 90s, 5m or 1h30m (got %q).", req.Advance)
			return
		}
		adv = d
	}
	if req.Speed != nil && (*req.Speed <= 0 || *req.Speed > clock.MaxSpeed) {
		c.badRequest(w, r, "Speed must be above 0 and at most %g.", float64(clock.MaxSpeed))
		return
	}
	var err error
	if adv > 0 {
		err = c.Clock.Advance(adv)
	}
	if err == nil && req.Speed != nil {
		err = c.Clock.SetSpeed(*req.Speed)
	}
	if err != nil {
		c.badRequest(w, r, "%s", capitalize(err.Error())+".")
		return
	}
	if req.Paused != nil {
		if *req.Paused {
			c.Clock.Pause()
		} else {
			c.Clock.Resume()
		}
	}
	writeJSON(w, http.StatusOK, c.clockView())
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (c *Console) apiAddFault(w http.ResponseWriter, r *http.Request) {
	if c.Faults == nil {
		c.fail(w, r, http.StatusConflict, "Ecsd.NoFaults", "This ecsd has no fault engine.")
		return
	}
	var rule fault.Rule
	if !c.decodeJSON(w, r, &rule) {
		return
	}
	added, err := c.Faults.Add(r.Context(), rule)
	switch {
	case errors.Is(err, fault.ErrInvalid):
		c.badRequest(w, r, "%s", capitalize(err.Error())+".")
	case err != nil:
		c.failErr(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, added)
	}
}

func (c *Console) apiDeleteFault(w http.ResponseWriter, r *http.Request) {
	if c.Faults == nil {
		c.fail(w, r, http.StatusConflict, "Ecsd.NoFaults", "This ecsd has no fault engine.")
		return
	}
	id := r.PathValue("id")
	err := c.Faults.Delete(r.Context(), id)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		c.fail(w, r, http.StatusNotFound, "Ecsd.NotFound", "No fault rule "+id+".")
	case err != nil:
		c.failErr(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
