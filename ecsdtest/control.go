package ecsdtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/control"
	"github.com/ecsd-dev/ecsd/fault"
)

// do sends a control request with a JSON body (nil for none) and decodes the
// JSON answer into out (nil to ignore it).
func (c *Control) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.raw(method, path, "application/json", body, out)
}

func (c *Control) raw(method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	return json.Unmarshal(b, out)
}

// Clock is the state of ecsd's virtual clock.
type Clock = control.ClockState

// Clock returns the clock's state.
func (c *Control) Clock() (Clock, error) {
	var st Clock
	err := c.do("GET", "/_ecsd/clock", nil, &st)
	return st, err
}

func (c *Control) setClock(change map[string]any) (Clock, error) {
	var st Clock
	err := c.do("POST", "/_ecsd/clock", change, &st)
	return st, err
}

// SetSpeed makes virtual time run f times as fast as the wall clock.
func (c *Control) SetSpeed(f float64) error {
	_, err := c.setClock(map[string]any{"speed": f})
	return err
}

// Pause stops virtual time: jobs wait in their current phase.
func (c *Control) Pause() error {
	_, err := c.setClock(map[string]any{"paused": true})
	return err
}

// Resume lets virtual time run again.
func (c *Control) Resume() error {
	_, err := c.setClock(map[string]any{"paused": false})
	return err
}

// Advance moves virtual time forward by d.
func (c *Control) Advance(d time.Duration) error {
	_, err := c.setClock(map[string]any{"advance": d.String()})
	return err
}

// AddFault adds a fault-injection rule and returns it with its ID.
func (c *Control) AddFault(r fault.Rule) (fault.Rule, error) {
	var out fault.Rule
	err := c.do("POST", "/_ecsd/faults", r, &out)
	return out, err
}

// Faults lists the rules with how often each fired.
func (c *Control) Faults() ([]fault.Rule, error) {
	var out struct {
		Faults []fault.Rule `json:"faults"`
	}
	err := c.do("GET", "/_ecsd/faults", nil, &out)
	return out.Faults, err
}

// DeleteFault deletes one rule.
func (c *Control) DeleteFault(id string) error { return c.do("DELETE", "/_ecsd/faults/"+id, nil, nil) }

// ClearFaults deletes every rule.
func (c *Control) ClearFaults() error { return c.do("DELETE", "/_ecsd/faults", nil, nil) }

// tenantView is a tenant as the control API shows it.
type tenantView struct {
	AccessKey   string `json:"access_key"`
	SecretKey   string `json:"secret_key"`
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name"`
	DomainID    string `json:"domain_id"`
}

// CreateTenant creates a tenant with generated keys and project.
func (c *Control) CreateTenant() (ecs.Tenant, error) {
	var v tenantView
	if err := c.do("POST", "/_ecsd/tenants", map[string]any{}, &v); err != nil {
		return ecs.Tenant{}, err
	}
	return ecs.Tenant{AccessKey: v.AccessKey, SecretKey: v.SecretKey, ProjectID: v.ProjectID,
		ProjectName: v.ProjectName, DomainID: v.DomainID}, nil
}

// DeleteTenant deletes a tenant and everything of its project.
func (c *Control) DeleteTenant(projectID string) error {
	return c.do("DELETE", "/_ecsd/tenants/"+projectID, nil, nil)
}

// Reset puts one project ("" = everything) back to its seeded state.
func (c *Control) Reset(projectID string) error {
	body := map[string]any{}
	if projectID != "" {
		body["project_id"] = projectID
	}
	return c.do("POST", "/_ecsd/reset", body, nil)
}

// Seed loads a seed document (YAML or JSON, docs/testing.md).
func (c *Control) Seed(doc []byte) error {
	return c.raw("POST", "/_ecsd/seed", "application/yaml", bytes.NewReader(doc), nil)
}

// Export returns a snapshot of the whole state.
func (c *Control) Export() ([]byte, error) {
	var b []byte
	err := c.do("GET", "/_ecsd/snapshot", nil, &b)
	return b, err
}

// Import replaces the whole state with a snapshot.
func (c *Control) Import(snapshot []byte) error {
	return c.raw("POST", "/_ecsd/snapshot", "application/json", bytes.NewReader(snapshot), nil)
}

// Action is one entry of a server's history; Phase one phase of a job.
type (
	Action = control.Action
	Phase  = control.Phase
)

// ServerHistory returns the actions taken on a server, oldest first.
func (c *Control) ServerHistory(serverID string) ([]Action, error) {
	var out struct {
		Actions []Action `json:"actions"`
	}
	err := c.do("GET", "/_ecsd/servers/"+serverID+"/history", nil, &out)
	return out.Actions, err
}

// JobPhases returns the phases a job went through.
func (c *Control) JobPhases(jobID string) ([]Phase, error) {
	var out struct {
		Phases []Phase `json:"phases"`
	}
	err := c.do("GET", "/_ecsd/jobs/"+jobID+"/history", nil, &out)
	return out.Phases, err
}
