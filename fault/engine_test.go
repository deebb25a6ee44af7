package fault_test

import (
	"errors"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

var testTime = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

// newEngine returns a loaded engine over a private database.
func newEngine(t *testing.T) (*fault.Engine, *store.DB) {
	t.Helper()
	db := storetest.NewDB(t)
	e := &fault.Engine{Store: db, Names: names, Now: func() time.Time { return testTime }}
	if err := e.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e, db
}

func mustAdd(t *testing.T, e *fault.Engine, r fault.Rule) fault.Rule {
	t.Helper()
	got, err := e.Add(t.Context(), r)
	if err != nil {
		t.Fatalf("Add(%+v): %v", r, err)
	}
	return got
}

// fired returns the Fired count of each listed rule by ID.
func fired(t *testing.T, e *fault.Engine) map[string]int {
	t.Helper()
	rules, err := e.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rules {
		out[r.ID] = r.Fired
	}
	return out
}

func TestEngineAddListDelete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, _ := newEngine(t)

	if rules, err := e.List(ctx); err != nil || rules == nil || len(rules) != 0 {
		t.Fatalf("List on an empty store = %v, %v; want an empty, non-nil list", rules, err)
	}
	r := mustAdd(t, e, fault.Rule{ID: "mine", Fired: 7, Match: fault.Match{Operation: "ShowJob"},
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(time.Millisecond)}})
	if !regexp.MustCompile(`^f-[0-9a-f]{8}$`).MatchString(r.ID) || r.Fired != 0 || r.Probability != 1 || !r.CreatedAt.Equal(testTime) {
		t.Errorf("Add = %+v; want a new f-xxxxxxxx ID, fired 0, probability 1, created at %s", r, testTime)
	}
	if _, err := e.Add(ctx, fault.Rule{Action: fault.Action{Type: "explode"}}); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Add(invalid) = %v, want ErrInvalid", err)
	}
	r2 := mustAdd(t, e, fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.large.2"}})
	rules, err := e.List(ctx)
	if err != nil || len(rules) != 2 || rules[0].ID != r.ID || rules[1].ID != r2.ID {
		t.Fatalf("List = %+v, %v; want the two rules, oldest first", rules, err)
	}
	if err := e.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete(ctx, r.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Delete(deleted) = %v, want ErrNotFound", err)
	}
	if err := e.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if rules, _ := e.List(ctx); len(rules) != 0 {
		t.Errorf("List after Clear = %+v", rules)
	}
}

func TestEngineRequest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, _ := newEngine(t)

	showOne := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "ShowServer", ServerID: "srv-1"}, Count: 1,
		Action: fault.Action{Type: fault.ActionError, HTTPStatus: 503, Code: "Ecs.0615", Message: "try later"}})
	anyOfP := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "*", ProjectID: "p-2"},
		Action: fault.Action{Type: fault.ActionError, Code: "Ecs.0000"}})
	slow := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "ShowServer"},
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(2 * time.Second)}})
	slower := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "*"}, Count: 1,
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(3 * time.Second)}})
	phase := mustAdd(t, e, fault.Rule{Match: fault.Match{Phase: "resize_migrating"},
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(time.Hour / 20)}})

	tests := []struct {
		name      string
		op        fault.OpRequest
		wantDelay time.Duration
		wantCode  string
		wantHTTP  int
		wantMsg   string
	}{
		{"error and both latencies", fault.OpRequest{Operation: "ShowServer", ProjectID: "p-1", ServerID: "srv-1"},
			5 * time.Second, "Ecs.0615", 503, "try later"},
		{"both counted rules are spent", fault.OpRequest{Operation: "ShowServer", ProjectID: "p-1", ServerID: "srv-1"},
			2 * time.Second, "", 0, ""},
		{"other server: latency only", fault.OpRequest{Operation: "ShowServer", ProjectID: "p-1", ServerID: "srv-2"},
			2 * time.Second, "", 0, ""},
		{"other operation: nothing", fault.OpRequest{Operation: "ShowJob", ProjectID: "p-1"}, 0, "", 0, ""},
		{"project filter, default message and status", fault.OpRequest{Operation: "ShowJob", ProjectID: "p-2"},
			0, "Ecs.0000", 0, "The request failed (fault rule " + anyOfP.ID + ")."},
	}
	for _, tt := range tests {
		delay, err := e.Request(ctx, tt.op)
		if delay != tt.wantDelay {
			t.Errorf("%s: delay %s, want %s", tt.name, delay, tt.wantDelay)
		}
		var ee *ecs.Error
		switch {
		case tt.wantCode == "" && err != nil:
			t.Errorf("%s: error %v, want none", tt.name, err)
		case tt.wantCode == "":
		case !errors.As(err, &ee) || ee.Code != tt.wantCode || ee.Status != tt.wantHTTP || ee.Message != tt.wantMsg:
			t.Errorf("%s: error %#v, want %s/%d %q", tt.name, err, tt.wantCode, tt.wantHTTP, tt.wantMsg)
		}
	}
	want := map[string]int{showOne.ID: 1, anyOfP.ID: 1, slow.ID: 3, slower.ID: 1, phase.ID: 0}
	if got := fired(t, e); !mapsEqual(got, want) {
		t.Errorf("fired = %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestEnginePhase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, _ := newEngine(t)

	// Only the oldest matching fail_job fires; latency rules add up.
	first := mustAdd(t, e, fault.Rule{Match: fault.Match{Phase: "resize_migrating", FlavorID: "s6.xlarge.2", AZ: "cn-north-4a"}, Count: 1,
		Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: "Ecs.0319", FailReason: "no room"}})
	second := mustAdd(t, e, fault.Rule{Match: fault.Match{Phase: "*"},
		Action: fault.Action{Type: fault.ActionFailJob}})
	lat := mustAdd(t, e, fault.Rule{Match: fault.Match{Phase: "resize_migrating", ServerID: "srv-1"},
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(time.Second)}})
	opRule := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "*"},
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(time.Minute)}})

	resize := fault.PhaseEvent{Phase: "resize_migrating", ProjectID: "p", ServerID: "srv-1",
		FlavorID: "s6.large.2", TargetFlavorID: "s6.xlarge.2", AZ: "cn-north-4a"}
	delay, fail, err := e.Phase(ctx, resize)
	if err != nil || delay != time.Second || fail == nil || fail.Code != "Ecs.0319" || fail.Message != "no room" {
		t.Fatalf("Phase #1 = %s, %+v, %v; want 1s and the first rule's failure", delay, fail, err)
	}
	// The first rule is spent: the catch-all fires, with empty code and
	// reason for the runner's defaults.
	delay, fail, err = e.Phase(ctx, resize)
	if err != nil || delay != time.Second || fail == nil || fail.Code != "" || fail.Message != "" {
		t.Fatalf("Phase #2 = %s, %+v, %v; want 1s and an empty failure", delay, fail, err)
	}
	if err := e.Delete(ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	// The filters: other flavor, other AZ, other server.
	for _, ev := range []fault.PhaseEvent{
		{Phase: "resize_migrating", ServerID: "srv-2", FlavorID: "s6.large.2", AZ: "cn-north-4a"},
		{Phase: "resize_migrating", ServerID: "srv-2", FlavorID: "s6.xlarge.2", AZ: "cn-north-4b"},
		{Phase: "resize_prep", ServerID: "srv-1", FlavorID: "s6.xlarge.2", AZ: "cn-north-4a"},
	} {
		if delay, fail, err := e.Phase(ctx, ev); delay != 0 || fail != nil || err != nil {
			t.Errorf("Phase(%+v) = %s, %+v, %v; want nothing", ev, delay, fail, err)
		}
	}
	want := map[string]int{first.ID: 1, lat.ID: 2, opRule.ID: 0}
	if got := fired(t, e); !mapsEqual(got, want) {
		t.Errorf("fired = %v, want %v", got, want)
	}
}

func TestEngineProbability(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, _ := newEngine(t)
	var rolls []float64
	var mu sync.Mutex
	e.Rand = func() float64 {
		mu.Lock()
		defer mu.Unlock()
		v := rolls[0]
		rolls = rolls[1:]
		return v
	}
	r := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "ShowJob"}, Probability: 0.5, Count: 2,
		Action: fault.Action{Type: fault.ActionError, Code: "Ecs.0615"}})
	// A missed roll does not use up the count.
	rolls = []float64{0.7, 0.49, 0.5, 0.0, 0.1}
	var got []bool
	for range 5 {
		_, err := e.Request(ctx, fault.OpRequest{Operation: "ShowJob"})
		got = append(got, err != nil)
	}
	want := []bool{false, true, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fired per call = %v, want %v", got, want)
		}
	}
	if len(rolls) != 1 {
		t.Errorf("%d rolls left, want 1: an exhausted rule is not rolled for", len(rolls))
	}
	if n := fired(t, e)[r.ID]; n != 2 {
		t.Errorf("fired %d, want 2", n)
	}
}

// TestEngineConcurrentCount fires a counted rule from many goroutines (run
// with -race): it fires exactly its count.
func TestEngineConcurrentCount(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, db := newEngine(t)
	const count, callers = 5, 40
	r := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "*"}, Count: count,
		Action: fault.Action{Type: fault.ActionError, Code: "Ecs.0615"}})
	// A second engine on the same store (as after a restart with a stale
	// cache) competes for the same count.
	other := &fault.Engine{Store: db}
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var errs atomic.Int32
	var wg sync.WaitGroup
	for i := range callers {
		eng := e
		if i%2 == 1 {
			eng = other
		}
		wg.Go(func() {
			_, err := eng.Request(ctx, fault.OpRequest{Operation: "ShowJob"})
			var ee *ecs.Error
			switch {
			case errors.As(err, &ee):
				errs.Add(1)
			case err != nil:
				t.Errorf("Request: %v", err)
			}
		})
	}
	wg.Wait()
	if n := errs.Load(); n != count {
		t.Errorf("%d calls failed, want exactly %d", n, count)
	}
	if n := fired(t, e)[r.ID]; n != count {
		t.Errorf("fired %d, want %d", n, count)
	}
}

func TestEngineMarket(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, db := newEngine(t)
	const host = "cn-north-4a-x86-01"

	soldA := mustAdd(t, e, fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.large.2", AZ: "cn-north-4a"}})
	mustAdd(t, e, fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.xlarge.2"}})
	cap1 := mustAdd(t, e, fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: host, VCPUs: 10, RAMMB: 1024}})
	mustAdd(t, e, fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: host, VCPUs: 2}})

	check := func(e *fault.Engine, wantLargeA, wantXLarge bool, wantVCPUs, wantRAM int) {
		t.Helper()
		for _, c := range []struct {
			flavor, az string
			want       bool
		}{
			{"s6.large.2", "cn-north-4a", wantLargeA},
			{"s6.large.2", "cn-north-4b", false},
			{"s6.large.2", "", false},
			{"s6.xlarge.2", "cn-north-4b", wantXLarge},
			{"s6.xlarge.2", "", wantXLarge},
		} {
			if got := e.SoldOut(c.flavor, c.az); got != c.want {
				t.Errorf("SoldOut(%s, %q) = %v, want %v", c.flavor, c.az, got, c.want)
			}
		}
		if v, r := e.TakenCapacity(host); v != wantVCPUs || r != wantRAM {
			t.Errorf("TakenCapacity = %d, %d; want %d, %d", v, r, wantVCPUs, wantRAM)
		}
		if v, r := e.TakenCapacity("cn-north-4b-x86-01"); v != 0 || r != 0 {
			t.Errorf("TakenCapacity(other host) = %d, %d; want 0, 0", v, r)
		}
	}
	check(e, true, true, 12, 1024)

	// Market rules do not fire on events.
	if d, err := e.Request(ctx, fault.OpRequest{Operation: "ShowJob"}); d != 0 || err != nil {
		t.Errorf("Request = %s, %v; want nothing", d, err)
	}

	// A new engine on the same store (a restart) loads the same market.
	restarted := &fault.Engine{Store: db}
	if err := restarted.Load(ctx); err != nil {
		t.Fatal(err)
	}
	check(restarted, true, true, 12, 1024)

	if err := e.Delete(ctx, soldA.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete(ctx, cap1.ID); err != nil {
		t.Fatal(err)
	}
	check(e, false, true, 2, 0)
	if err := e.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	check(e, false, false, 0, 0)
}

// TestEngineRestart checks that counts survive a restart: an exhausted rule
// stays exhausted for a new engine on the same store.
func TestEngineRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, db := newEngine(t)
	r := mustAdd(t, e, fault.Rule{Match: fault.Match{Operation: "ShowServer"}, Count: 1,
		Action: fault.Action{Type: fault.ActionError, HTTPStatus: http.StatusServiceUnavailable, Code: "Ecs.0615"}})
	if _, err := e.Request(ctx, fault.OpRequest{Operation: "ShowServer"}); err == nil {
		t.Fatal("the rule did not fire")
	}
	restarted := &fault.Engine{Store: db}
	if err := restarted.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := restarted.Request(ctx, fault.OpRequest{Operation: "ShowServer"}); err != nil {
		t.Errorf("an exhausted rule fired after a restart: %v", err)
	}
	if n := fired(t, restarted)[r.ID]; n != 1 {
		t.Errorf("fired %d after a restart, want 1", n)
	}
}

// TestEngineMatchesPhase: the runner asks, from the cache, whether any rule
// could fire for a phase (MatchesPhase) or whether any event rule exists
// at all (HasEventRules), so that it consults the store only then.
func TestEngineMatchesPhase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e, _ := newEngine(t)
	resize := fault.PhaseEvent{Phase: "resize_migrating", ServerID: "srv-1", FlavorID: "s6.large.2", AZ: "cn-north-4a"}
	if e.HasEventRules() || e.MatchesPhase(resize) {
		t.Fatal("an engine without rules reports rules")
	}
	r := mustAdd(t, e, fault.Rule{Match: fault.Match{Phase: "resize_migrating", ServerID: "srv-1"}, Count: 1,
		Action: fault.Action{Type: fault.ActionFailJob}})
	if !e.HasEventRules() || !e.MatchesPhase(resize) {
		t.Error("a matching phase rule is not reported")
	}
	other := resize
	other.ServerID = "srv-2"
	if e.MatchesPhase(other) {
		t.Error("a rule of another server matches")
	}
	// Spent by its one firing: no longer reported.
	if _, fail, err := e.Phase(ctx, resize); err != nil || fail == nil {
		t.Fatalf("Phase = %v, %v; want the rule's failure", fail, err)
	}
	if e.HasEventRules() || e.MatchesPhase(resize) {
		t.Errorf("rule %s is spent but still reported", r.ID)
	}
}
