package fault

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Store keeps the rules. Implementations must make FireFaultRule atomic: it
// is what bounds a counted rule's firings under concurrency.
type Store interface {
	// InsertFaultRule stores a new rule (ID, CreatedAt and Count set).
	InsertFaultRule(ctx context.Context, r Rule) error
	// DeleteFaultRule deletes a rule and reports whether it existed.
	DeleteFaultRule(ctx context.Context, id string) (bool, error)
	// DeleteFaultRules deletes every rule.
	DeleteFaultRules(ctx context.Context) error
	// FaultRules returns every rule with its Fired count, oldest first.
	FaultRules(ctx context.Context) ([]Rule, error)
	// FireFaultRule counts one firing of a rule, in one atomic step, if the
	// rule exists and is not exhausted, and reports whether it did.
	FireFaultRule(ctx context.Context, id string) (bool, error)
}

// OpRequest is an authenticated API call.
type OpRequest struct {
	Operation string // SDK operation name, e.g. "ResizePostPaidServer"
	ProjectID string // the caller's project
	ServerID  string // the path's server_id, if any
}

// PhaseEvent is a job entering a phase.
type PhaseEvent struct {
	Phase     string // task state, e.g. "resize_migrating"
	ProjectID string
	ServerID  string
	FlavorID  string // the server's flavor
	// TargetFlavorID is the flavor a resize goes to ("" for other jobs);
	// a rule's match.flavor_id matches it as well as FlavorID.
	TargetFlavorID string
	AZ             string
}

// Engine evaluates the rules. Set Store (and optionally Names, Rand, Now),
// call Load once, then use it from any goroutine.
type Engine struct {
	Store Store
	// Names are the names Add accepts (see Names); zero accepts any.
	Names Names
	// Rand returns a number in [0, 1) for probabilities; it must be safe
	// for concurrent use. Nil means math/rand/v2's Float64.
	Rand func() float64
	// Now stamps new rules; nil means time.Now.
	Now func() time.Time

	// mu serialises the changes (Add, Delete, Clear, Load), so that each
	// reload of the cache reflects every change before it.
	mu sync.Mutex
	// cacheMu guards the cache below.
	cacheMu sync.RWMutex
	events  []*cached // event rules, oldest first
	soldOut map[[2]string]bool
	taken   map[string][2]int
}

// cached is an event rule as the engine holds it in memory; mu guards
// Fired and spent.
type cached struct {
	Rule
	mu    sync.Mutex
	spent bool // known to be exhausted: no need to ask the store
}

func (c *cached) isSpent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spent
}

// Load (re)reads the rules from the store into the cache. Call it at start
// and whenever the table changed behind the engine's back (a reset, an
// imported snapshot).
func (e *Engine) Load(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reload(ctx)
}

func (e *Engine) reload(ctx context.Context) error {
	rules, err := e.Store.FaultRules(ctx)
	if err != nil {
		return fmt.Errorf("fault rules: %w", err)
	}
	var events []*cached
	soldOut := map[[2]string]bool{}
	taken := map[string][2]int{}
	for _, r := range rules {
		switch r.Action.Type {
		case ActionSoldOut:
			soldOut[[2]string{r.Action.FlavorID, r.Action.AZ}] = true
		case ActionCapacity:
			t := taken[r.Action.HostID]
			taken[r.Action.HostID] = [2]int{t[0] + r.Action.VCPUs, t[1] + r.Action.RAMMB}
		default:
			events = append(events, &cached{Rule: r, spent: r.exhausted()})
		}
	}
	e.cacheMu.Lock()
	e.events, e.soldOut, e.taken = events, soldOut, taken
	e.cacheMu.Unlock()
	return nil
}

// Add validates r, gives it an ID and stores it. Its ID, Fired and
// CreatedAt are ignored; Probability 0 becomes 1. A rule that is not valid
// is refused with an error wrapping ErrInvalid.
func (e *Engine) Add(ctx context.Context, r Rule) (Rule, error) {
	r.ID, r.Fired, r.CreatedAt = "", 0, time.Time{}
	if err := r.Validate(e.Names); err != nil {
		return Rule{}, err
	}
	if r.Probability == 0 {
		r.Probability = 1
	}
	r.ID = newID()
	r.CreatedAt = e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.Store.InsertFaultRule(ctx, r); err != nil {
		return Rule{}, fmt.Errorf("add fault rule: %w", err)
	}
	return r, e.reload(ctx)
}

// List returns every rule, oldest first, with its Fired count.
func (e *Engine) List(ctx context.Context) ([]Rule, error) {
	rules, err := e.Store.FaultRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("fault rules: %w", err)
	}
	if rules == nil {
		rules = []Rule{}
	}
	return rules, nil
}

// Delete deletes a rule; ErrNotFound when there is none with that ID.
func (e *Engine) Delete(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ok, err := e.Store.DeleteFaultRule(ctx, id)
	if err != nil {
		return fmt.Errorf("delete fault rule %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return e.reload(ctx)
}

// Clear deletes every rule.
func (e *Engine) Clear(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.Store.DeleteFaultRules(ctx); err != nil {
		return fmt.Errorf("clear fault rules: %w", err)
	}
	return e.reload(ctx)
}

// Request applies the rules to an API call. It returns the summed delay of
// the latency rules that fire and, if an error rule fires (the oldest
// matching one that does), its *ecs.Error with Status set to the rule's
// http_status. A store failure is returned as a plain error.
func (e *Engine) Request(ctx context.Context, op OpRequest) (time.Duration, error) {
	var delay time.Duration
	var injected *ecs.Error
	for _, c := range e.candidates(func(r *Rule) bool { return r.matchesRequest(op) }) {
		a := c.Action
		if a.Type == ActionError && injected != nil {
			continue // only one error answers
		}
		fired, err := e.fire(ctx, c)
		if err != nil {
			return 0, err
		}
		if !fired {
			continue
		}
		switch a.Type {
		case ActionLatency:
			delay += time.Duration(a.Delay)
		case ActionError:
			msg := a.Message
			if msg == "" {
				msg = fmt.Sprintf("The request failed (fault rule %s).", c.ID)
			}
			injected = &ecs.Error{Code: a.Code, Message: msg, Status: a.HTTPStatus}
		}
	}
	if injected != nil {
		return delay, injected
	}
	return delay, nil
}

// Phase applies the rules to a job entering a phase. It returns the summed
// delay of the latency rules that fire and, if a fail_job rule fires (the
// oldest matching one that does), the failure as an *ecs.Error: Code is the
// rule's error_code and Message its fail_reason, either of which may be
// empty (the caller then uses its defaults). err is a store failure.
func (e *Engine) Phase(ctx context.Context, ev PhaseEvent) (delay time.Duration, fail *ecs.Error, err error) {
	for _, c := range e.candidates(func(r *Rule) bool { return r.matchesPhase(ev) }) {
		a := c.Action
		if a.Type == ActionFailJob && fail != nil {
			continue
		}
		fired, err := e.fire(ctx, c)
		if err != nil {
			return 0, nil, err
		}
		if !fired {
			continue
		}
		switch a.Type {
		case ActionLatency:
			delay += time.Duration(a.Delay)
		case ActionFailJob:
			fail = &ecs.Error{Code: a.ErrorCode, Message: a.FailReason}
		}
	}
	return delay, fail, nil
}

// MatchesPhase reports whether any live rule matches a job entering a
// phase, from the cache alone: when it says no, Phase would neither delay
// nor fail the job, nor write to the store.
func (e *Engine) MatchesPhase(ev PhaseEvent) bool {
	return e.anyLive(func(r *Rule) bool { return r.matchesPhase(ev) })
}

// HasEventRules reports, from the cache, whether any live event rule
// (a request's or a phase's) exists.
func (e *Engine) HasEventRules() bool {
	return e.anyLive(func(*Rule) bool { return true })
}

// anyLive reports whether a live event rule satisfies match.
func (e *Engine) anyLive(match func(r *Rule) bool) bool {
	e.cacheMu.RLock()
	defer e.cacheMu.RUnlock()
	return slices.ContainsFunc(e.events, func(c *cached) bool { return !c.isSpent() && match(&c.Rule) })
}

// SoldOut reports whether a sold_out rule marks flavorID sold out in az
// (a rule without an AZ marks it sold out everywhere). It reads only the
// cache.
func (e *Engine) SoldOut(flavorID, az string) bool {
	e.cacheMu.RLock()
	defer e.cacheMu.RUnlock()
	return e.soldOut[[2]string{flavorID, ""}] || (az != "" && e.soldOut[[2]string{flavorID, az}])
}

// TakenCapacity returns the vCPUs and memory the capacity rules take away
// from a host. It reads only the cache.
func (e *Engine) TakenCapacity(hostID string) (vcpus, ramMB int) {
	e.cacheMu.RLock()
	defer e.cacheMu.RUnlock()
	t := e.taken[hostID]
	return t[0], t[1]
}

// candidates returns the live event rules that match, oldest first.
func (e *Engine) candidates(match func(r *Rule) bool) []*cached {
	e.cacheMu.RLock()
	defer e.cacheMu.RUnlock()
	var out []*cached
	for _, c := range e.events {
		if !c.isSpent() && match(&c.Rule) {
			out = append(out, c)
		}
	}
	return out
}

// fire rolls the rule's probability and, on success, counts the firing in
// the store, which refuses it when a counted rule is exhausted.
func (e *Engine) fire(ctx context.Context, c *cached) (bool, error) {
	if p := c.Probability; p < 1 && e.rand() >= p {
		return false, nil
	}
	ok, err := e.Store.FireFaultRule(ctx, c.ID)
	if err != nil {
		return false, fmt.Errorf("fire fault rule %s: %w", c.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.Fired++ // the cache's own count; the store's is the truth
	}
	if !ok || c.exhausted() {
		c.spent = true // exhausted, or deleted meanwhile
	}
	return ok, nil
}

func (r *Rule) matchesRequest(op OpRequest) bool {
	m := r.Match
	return m.Operation != "" && (m.Operation == AnyOperation || m.Operation == op.Operation) &&
		(m.ServerID == "" || m.ServerID == op.ServerID) &&
		(m.ProjectID == "" || m.ProjectID == op.ProjectID)
}

func (r *Rule) matchesPhase(ev PhaseEvent) bool {
	m := r.Match
	return m.Phase != "" && (m.Phase == AnyPhase || m.Phase == ev.Phase) &&
		(m.ServerID == "" || m.ServerID == ev.ServerID) &&
		(m.ProjectID == "" || m.ProjectID == ev.ProjectID) &&
		(m.FlavorID == "" || m.FlavorID == ev.FlavorID || m.FlavorID == ev.TargetFlavorID) &&
		(m.AZ == "" || m.AZ == ev.AZ)
}

func (e *Engine) rand() float64 {
	if e.Rand != nil {
		return e.Rand()
	}
	return rand.Float64()
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// newID returns "f-" and 8 random hex digits.
func newID() string {
	var b [4]byte
	_, _ = crand.Read(b[:])
	return "f-" + hex.EncodeToString(b[:])
}
