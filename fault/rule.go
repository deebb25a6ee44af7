// Package fault injects failures into ecsd on demand, for tests: rules that
// answer an API call with a Huawei error, delay it, fail a job at a named
// phase (which then rolls back like a driver failure), mark a flavor sold
// out in an availability zone, or take capacity away from a simulated host.
//
// Rules are persistent: the Engine keeps them in a Store (the fault_rules
// table), so a restarted ecsd keeps its faults, and counts their firings
// there atomically, so that a rule with a count never fires more often than
// that, however many requests race for it. The Engine also caches the rules
// in memory, so that the hot paths (every API call, every job phase, every
// placement) touch the database only when a rule actually matches.
//
// The consumers declare the narrow interfaces they call: httpapi asks
// Request for each authenticated API call, worker asks Phase for each job
// phase, and compute asks SoldOut and TakenCapacity (the market rules).
package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Action types.
const (
	// ActionError answers a matching API call with an HTTP status and a
	// Huawei error code, before the call does anything.
	ActionError = "error"
	// ActionLatency delays a matching API call or job phase, on ecsd's
	// clock.
	ActionLatency = "latency"
	// ActionFailJob fails a job at the phase named by Match.Phase; the job
	// rolls back as after a driver failure and ends FAIL with ErrorCode and
	// FailReason.
	ActionFailJob = "fail_job"
	// ActionSoldOut marks a flavor sold out in an availability zone while
	// the rule exists.
	ActionSoldOut = "sold_out"
	// ActionCapacity takes vCPUs and memory away from a simulated host
	// while the rule exists.
	ActionCapacity = "capacity"
)

// AnyOperation and AnyPhase match every API operation or job phase.
const (
	AnyOperation = "*"
	AnyPhase     = "*"
)

// MaxDelay bounds the latency a rule may add.
const MaxDelay = 5 * time.Minute

// ErrInvalid is wrapped by every validation error of a rule.
var ErrInvalid = errors.New("invalid fault rule")

// ErrNotFound is returned when a rule ID names no rule.
var ErrNotFound = errors.New("fault rule not found")

// Rule is one fault-injection rule. Its JSON form is the control API's
// (POST /_ecsd/faults) and the stored one.
type Rule struct {
	// ID is assigned by the Engine ("f-" and 8 hex digits); ignored on Add.
	ID    string `json:"id"`
	Match Match  `json:"match"`
	// Probability is the chance, in (0, 1], that a matching event fires
	// the rule. 0 in Go (an omitted field in JSON) means 1; an explicit
	// JSON 0 is refused.
	Probability float64 `json:"probability,omitempty"`
	// Count is how many times the rule may fire; 0 means without limit. An
	// exhausted rule stays listed, with its Fired count, until deleted.
	Count  int    `json:"count"`
	Action Action `json:"action"`
	// Fired is how often the rule has fired; ignored on Add.
	Fired int `json:"fired"`
	// CreatedAt is when the rule was added, on ecsd's clock; ignored on Add.
	CreatedAt time.Time `json:"created_at"`
}

// Match selects the events a rule applies to. Error rules need Operation,
// fail_job rules need Phase, latency rules need exactly one of the two, and
// the market rules (sold_out, capacity) take no match at all. Empty filters
// match everything.
type Match struct {
	// Operation is an API operation as the SDK names it
	// ("ResizePostPaidServer", "ShowJob", ...) or "*" for every API call.
	Operation string `json:"operation,omitempty"`
	// Phase is a job phase, i.e. the task state a job shows while in it
	// ("resize_migrating", "spawning", "powering-off", ...), or "*".
	Phase string `json:"phase,omitempty"`
	// ServerID is the server of the API call (its path's server_id; batch
	// bodies are not looked into) or of the job.
	ServerID string `json:"server_id,omitempty"`
	// FlavorID (phase rules only) is the server's flavor or the target
	// flavor of its resize.
	FlavorID string `json:"flavor_id,omitempty"`
	// AZ (phase rules only) is the server's availability zone.
	AZ string `json:"availability_zone,omitempty"`
	// ProjectID is the caller's project, or the job's.
	ProjectID string `json:"project_id,omitempty"`
}

// Action is what a rule does when it fires; Type says which fields apply.
type Action struct {
	Type string `json:"type"`

	// error: HTTPStatus (400–599; 0 = the published status of Code), Code
	// (a Huawei error code such as "Ecs.0319") and Message.
	HTTPStatus int    `json:"http_status,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`

	// latency: Delay, a Go duration string in JSON ("250ms", "2s"), at most
	// MaxDelay.
	Delay Duration `json:"delay,omitempty"`

	// fail_job: ErrorCode and FailReason, as the job reports them. An empty
	// ErrorCode is the job's own default code (Ecs.0207 for a resize), an
	// empty FailReason a generic one naming the phase.
	ErrorCode  string `json:"error_code,omitempty"`
	FailReason string `json:"fail_reason,omitempty"`

	// sold_out: FlavorID, sold out in AZ ("" = in every AZ).
	FlavorID string `json:"flavor_id,omitempty"`
	AZ       string `json:"availability_zone,omitempty"`

	// capacity: VCPUs and RAMMB taken away from host HostID.
	HostID string `json:"host_id,omitempty"`
	VCPUs  int    `json:"vcpus,omitempty"`
	RAMMB  int    `json:"ram_mb,omitempty"`
}

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "250ms" or "2s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON implements json.Unmarshaler. It refuses unknown fields,
// and an explicit "probability": 0, which would otherwise read as the
// default 1.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	p := plain{Probability: math.Inf(-1)} // what JSON cannot produce
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	switch {
	case math.IsInf(p.Probability, -1):
		p.Probability = 0
	case p.Probability == 0:
		return fmt.Errorf("%w: probability must be in (0, 1], got 0 (omit it for 1)", ErrInvalid)
	}
	*r = Rule(p)
	return nil
}

// Market reports whether the rule is a market rule (sold_out, capacity):
// a state in force while the rule exists, rather than an event that fires.
func (r *Rule) Market() bool {
	return r.Action.Type == ActionSoldOut || r.Action.Type == ActionCapacity
}

// exhausted reports whether a counted rule has fired its count.
func (r *Rule) exhausted() bool { return r.Count > 0 && r.Fired >= r.Count }

// Names are the names rules may use. A nil list (or a nil Flavor) accepts
// any non-empty name; ecsd sets every one from what it serves, so that a
// typo is refused instead of never matching.
type Names struct {
	Operations []string // API operations, as the SDK names them
	Phases     []string // job phases (task states)
	// Flavor reports whether a flavor is in the catalogue now: a function,
	// as seed documents change the catalogue at run time. It must be safe
	// for concurrent use.
	Flavor func(id string) bool
	AZs    []string
	Hosts  []string
}

// knownFlavor reports whether names accepts flavor id.
func (n Names) knownFlavor(id string) bool { return n.Flavor == nil || n.Flavor(id) }

func known(list []string, name string) bool { return list == nil || slices.Contains(list, name) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks a rule against names and returns an error wrapping
// ErrInvalid that says what is wrong. Probability 0 counts as 1.
func (r *Rule) Validate(names Names) error {
	m, a := r.Match, r.Action
	if r.Probability != 0 && (r.Probability <= 0 || r.Probability > 1 || math.IsNaN(r.Probability)) {
		return invalid("probability must be in (0, 1], got %v", r.Probability)
	}
	if r.Count < 0 {
		return invalid("count must be 0 (without limit) or more, got %d", r.Count)
	}
	if err := a.checkFields(); err != nil {
		return err
	}
	if r.Market() {
		if m != (Match{}) {
			return invalid("a %s rule is in force while it exists and takes no match; remove \"match\"", a.Type)
		}
		if r.Probability != 0 && r.Probability != 1 {
			return invalid("a %s rule does not fire by chance; remove \"probability\"", a.Type)
		}
		if r.Count != 0 {
			return invalid("a %s rule is in force until deleted; remove \"count\"", a.Type)
		}
	} else if err := r.checkMatch(names); err != nil {
		return err
	}
	switch a.Type {
	case ActionError:
		if a.Code == "" {
			return invalid("an error action needs \"code\", a Huawei error code such as \"Ecs.0319\"")
		}
		if strings.ContainsAny(a.Code, " \t\r\n") || len(a.Code) > 64 {
			return invalid("code %q is not an error code such as \"Ecs.0319\"", a.Code)
		}
		if a.HTTPStatus != 0 && (a.HTTPStatus < 400 || a.HTTPStatus > 599) {
			return invalid("http_status must be in 400–599 (or omitted for the code's own status), got %d", a.HTTPStatus)
		}
	case ActionLatency:
		if a.Delay <= 0 || time.Duration(a.Delay) > MaxDelay {
			return invalid("a latency action needs \"delay\", a duration above 0 and at most %s, got %s", MaxDelay, time.Duration(a.Delay))
		}
	case ActionFailJob:
		if strings.ContainsAny(a.ErrorCode, " \t\r\n") || len(a.ErrorCode) > 64 {
			return invalid("error_code %q is not an error code such as \"Ecs.0319\"", a.ErrorCode)
		}
	case ActionSoldOut:
		if a.FlavorID == "" {
			return invalid("a sold_out action needs \"flavor_id\"")
		}
		if !names.knownFlavor(a.FlavorID) {
			return invalid("flavor %q is not in the catalogue", a.FlavorID)
		}
		if a.AZ != "" && !known(names.AZs, a.AZ) {
			return invalid("availability zone %q does not exist (known: %s)", a.AZ, strings.Join(names.AZs, ", "))
		}
	case ActionCapacity:
		if a.HostID == "" {
			return invalid("a capacity action needs \"host_id\"")
		}
		if !known(names.Hosts, a.HostID) {
			return invalid("host %q does not exist (known: %s)", a.HostID, strings.Join(names.Hosts, ", "))
		}
		if a.VCPUs < 0 || a.RAMMB < 0 || a.VCPUs+a.RAMMB == 0 {
			return invalid("a capacity action takes \"vcpus\" and/or \"ram_mb\" (0 or more, not both 0), got %d and %d", a.VCPUs, a.RAMMB)
		}
	}
	return nil
}

// actionFields lists, per action type, the optional fields it uses.
var actionFields = map[string][]string{
	ActionError:    {"http_status", "code", "message"},
	ActionLatency:  {"delay"},
	ActionFailJob:  {"error_code", "fail_reason"},
	ActionSoldOut:  {"flavor_id", "availability_zone"},
	ActionCapacity: {"host_id", "vcpus", "ram_mb"},
}

// checkFields refuses an unknown type and fields of another type.
func (a *Action) checkFields() error {
	allowed, ok := actionFields[a.Type]
	if !ok {
		if a.Type == "" {
			return invalid("action needs \"type\": one of error, latency, fail_job, sold_out, capacity")
		}
		return invalid("unknown action type %q (want error, latency, fail_job, sold_out or capacity)", a.Type)
	}
	set := map[string]bool{
		"http_status": a.HTTPStatus != 0, "code": a.Code != "", "message": a.Message != "",
		"delay": a.Delay != 0, "error_code": a.ErrorCode != "", "fail_reason": a.FailReason != "",
		"flavor_id": a.FlavorID != "", "availability_zone": a.AZ != "",
		"host_id": a.HostID != "", "vcpus": a.VCPUs != 0, "ram_mb": a.RAMMB != 0,
	}
	var extra []string
	for name, isSet := range set {
		if isSet && !slices.Contains(allowed, name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return invalid("a %s action does not take %s (it takes %s)", a.Type, strings.Join(extra, ", "), strings.Join(allowed, ", "))
	}
	return nil
}

// checkMatch checks the match of an event rule (error, latency, fail_job).
func (r *Rule) checkMatch(names Names) error {
	m, typ := r.Match, r.Action.Type
	switch {
	case m.Operation != "" && m.Phase != "":
		return invalid("match takes one of \"operation\" and \"phase\", not both")
	case typ == ActionError && m.Operation == "":
		return invalid("an error rule needs match.operation, an API operation such as \"ResizePostPaidServer\", or \"*\"")
	case typ == ActionFailJob && m.Phase == "":
		return invalid("a fail_job rule needs match.phase, a job phase such as \"resize_migrating\", or \"*\"")
	case m.Operation == "" && m.Phase == "":
		return invalid("a latency rule needs match.operation (an API call) or match.phase (a job phase)")
	}
	if m.Operation != "" {
		if m.Operation != AnyOperation && !known(names.Operations, m.Operation) {
			return invalid("unknown operation %q (known: *, %s)", m.Operation, strings.Join(names.Operations, ", "))
		}
		if m.FlavorID != "" || m.AZ != "" {
			return invalid("match.flavor_id and match.availability_zone filter job phases only; an operation rule takes server_id and project_id")
		}
		return nil
	}
	if m.Phase != AnyPhase && !known(names.Phases, m.Phase) {
		return invalid("unknown phase %q (known: *, %s)", m.Phase, strings.Join(names.Phases, ", "))
	}
	if m.FlavorID != "" && !names.knownFlavor(m.FlavorID) {
		return invalid("match.flavor_id %q is not in the catalogue", m.FlavorID)
	}
	if m.AZ != "" && !known(names.AZs, m.AZ) {
		return invalid("match.availability_zone %q does not exist (known: %s)", m.AZ, strings.Join(names.AZs, ", "))
	}
	return nil
}
