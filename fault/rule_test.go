package fault_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsd-dev/ecsd/fault"
)

// names are the names the validation tests accept.
var names = fault.Names{
	Operations: []string{"CreatePostPaidServers", "ResizePostPaidServer", "ShowServer", "ShowJob"},
	Phases:     []string{"spawning", "powering-off", "resize_prep", "resize_migrating"},
	Flavor:     func(id string) bool { return slices.Contains([]string{"s6.large.2", "s6.xlarge.2"}, id) },
	AZs:        []string{"cn-north-4a", "cn-north-4b"},
	Hosts:      []string{"cn-north-4a-x86-01"},
}

func TestValidate(t *testing.T) {
	t.Parallel()
	errAction := fault.Action{Type: fault.ActionError, Code: "Ecs.0319", HTTPStatus: 400}
	latency := fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(time.Second)}
	failJob := fault.Action{Type: fault.ActionFailJob, ErrorCode: "Ecs.0319", FailReason: "no room"}
	soldOut := fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.large.2", AZ: "cn-north-4a"}
	capacity := fault.Action{Type: fault.ActionCapacity, HostID: "cn-north-4a-x86-01", VCPUs: 96}
	op := fault.Match{Operation: "ShowServer"}
	ph := fault.Match{Phase: "resize_migrating"}

	tests := []struct {
		name string
		rule fault.Rule
		want string // "" = valid, else a part of the error
	}{
		{"error", fault.Rule{Match: op, Action: errAction}, ""},
		{"error on any operation, code's own status", fault.Rule{Match: fault.Match{Operation: "*", ProjectID: "p"},
			Action: fault.Action{Type: fault.ActionError, Code: "Ecs.0615", Message: "boom"}}, ""},
		{"latency on an operation", fault.Rule{Match: op, Action: latency, Probability: 0.5, Count: 3}, ""},
		{"latency on a phase", fault.Rule{Match: fault.Match{Phase: "*", AZ: "cn-north-4b"}, Action: latency}, ""},
		{"fail_job", fault.Rule{Match: fault.Match{Phase: "resize_migrating", ServerID: "s", FlavorID: "s6.xlarge.2"}, Action: failJob, Count: 1}, ""},
		{"fail_job with defaults", fault.Rule{Match: ph, Action: fault.Action{Type: fault.ActionFailJob}}, ""},
		{"sold_out", fault.Rule{Action: soldOut}, ""},
		{"sold_out everywhere", fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.large.2"}}, ""},
		{"capacity", fault.Rule{Action: capacity, Probability: 1}, ""},

		{"no type", fault.Rule{Match: op}, `needs "type"`},
		{"unknown type", fault.Rule{Match: op, Action: fault.Action{Type: "explode"}}, `unknown action type "explode"`},
		{"probability above 1", fault.Rule{Match: op, Action: errAction, Probability: 1.5}, "probability must be in (0, 1]"},
		{"negative probability", fault.Rule{Match: op, Action: errAction, Probability: -0.1}, "probability must be in (0, 1]"},
		{"negative count", fault.Rule{Match: op, Action: errAction, Count: -1}, "count must be 0"},
		{"error without operation", fault.Rule{Match: ph, Action: errAction}, "needs match.operation"},
		{"error without code", fault.Rule{Match: op, Action: fault.Action{Type: fault.ActionError}}, `needs "code"`},
		{"error with a bad status", fault.Rule{Match: op, Action: fault.Action{Type: fault.ActionError, Code: "Ecs.0319", HTTPStatus: 302}}, "http_status must be in 400–599"},
		{"error with a delay", fault.Rule{Match: op, Action: fault.Action{Type: fault.ActionError, Code: "Ecs.0319", Delay: 1}}, "does not take delay"},
		{"both operation and phase", fault.Rule{Match: fault.Match{Operation: "ShowJob", Phase: "spawning"}, Action: latency}, "not both"},
		{"latency without match", fault.Rule{Action: latency}, "needs match.operation (an API call) or match.phase"},
		{"latency without delay", fault.Rule{Match: op, Action: fault.Action{Type: fault.ActionLatency}}, `needs "delay"`},
		{"latency too long", fault.Rule{Match: op, Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(6 * time.Minute)}}, "at most 5m0s"},
		{"fail_job without phase", fault.Rule{Match: op, Action: failJob}, "needs match.phase"},
		{"fail_job with a code field of error", fault.Rule{Match: ph, Action: fault.Action{Type: fault.ActionFailJob, Code: "Ecs.0319"}}, "does not take code"},
		{"unknown operation", fault.Rule{Match: fault.Match{Operation: "ResizeServers"}, Action: errAction}, `unknown operation "ResizeServers"`},
		{"unknown phase", fault.Rule{Match: fault.Match{Phase: "resize_confirm"}, Action: failJob}, `unknown phase "resize_confirm"`},
		{"flavor filter on an operation", fault.Rule{Match: fault.Match{Operation: "ShowJob", FlavorID: "s6.large.2"}, Action: latency}, "filter job phases only"},
		{"unknown flavor filter", fault.Rule{Match: fault.Match{Phase: "spawning", FlavorID: "s9.huge"}, Action: latency}, `"s9.huge" is not in the catalogue`},
		{"unknown AZ filter", fault.Rule{Match: fault.Match{Phase: "spawning", AZ: "mars-1a"}, Action: latency}, `"mars-1a" does not exist`},
		{"sold_out with a match", fault.Rule{Match: op, Action: soldOut}, "takes no match"},
		{"sold_out with a count", fault.Rule{Action: soldOut, Count: 1}, `remove "count"`},
		{"sold_out by chance", fault.Rule{Action: soldOut, Probability: 0.5}, `remove "probability"`},
		{"sold_out without flavor", fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, AZ: "cn-north-4a"}}, `needs "flavor_id"`},
		{"sold_out of an unknown flavor", fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "x"}}, `flavor "x" is not in the catalogue`},
		{"sold_out in an unknown AZ", fault.Rule{Action: fault.Action{Type: fault.ActionSoldOut, FlavorID: "s6.large.2", AZ: "x"}}, `availability zone "x" does not exist`},
		{"capacity without host", fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, VCPUs: 1}}, `needs "host_id"`},
		{"capacity on an unknown host", fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: "h", VCPUs: 1}}, `host "h" does not exist`},
		{"capacity of nothing", fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: "cn-north-4a-x86-01"}}, "not both 0"},
		{"negative capacity", fault.Rule{Action: fault.Action{Type: fault.ActionCapacity, HostID: "cn-north-4a-x86-01", VCPUs: -1, RAMMB: 5}}, "0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.rule.Validate(names)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("Validate = nil, want an error with %q", tt.want)
			case !errors.Is(err, fault.ErrInvalid) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate = %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}

	// Without names, any non-empty operation and phase are accepted.
	for _, r := range []fault.Rule{
		{Match: fault.Match{Operation: "SomethingNew"}, Action: errAction},
		{Match: fault.Match{Phase: "some_phase"}, Action: failJob},
	} {
		if err := r.Validate(fault.Names{}); err != nil {
			t.Errorf("Validate(%+v) without names = %v", r.Match, err)
		}
	}
}

func TestRuleJSON(t *testing.T) {
	t.Parallel()
	in := `{"match":{"phase":"resize_migrating","server_id":"s-1"},"count":1,
		"action":{"type":"fail_job","error_code":"Ecs.0319","fail_reason":"no room"}}`
	var r fault.Rule
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	want := fault.Rule{Match: fault.Match{Phase: "resize_migrating", ServerID: "s-1"}, Count: 1,
		Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: "Ecs.0319", FailReason: "no room"}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}

	lat := fault.Rule{ID: "f-0a1b2c3d", Match: fault.Match{Operation: "ShowJob"}, Probability: 0.25,
		Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(1500 * time.Millisecond)},
		Fired:  2, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	b, err := json.Marshal(lat)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"id":"f-0a1b2c3d","match":{"operation":"ShowJob"},"probability":0.25,"count":0,` +
		`"action":{"type":"latency","delay":"1.5s"},"fired":2,"created_at":"2025-01-02T03:04:05Z"}`
	if string(b) != wantJSON {
		t.Errorf("encoded\n%s\nwant\n%s", b, wantJSON)
	}
	var back fault.Rule
	if err := json.Unmarshal(b, &back); err != nil || !cmp.Equal(back, lat) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, lat)
	}

	// An explicit probability 0 is refused rather than read as 1 (a Go
	// zero is omitted, hence 1); bad durations and unknown fields are
	// refused.
	if b, _ := json.Marshal(fault.Rule{}); strings.Contains(string(b), "probability") {
		t.Errorf("a zero probability is encoded: %s", b)
	}
	for _, bad := range []string{
		`{"probability":0,"match":{"operation":"ShowJob"},"action":{"type":"error","code":"Ecs.0615"}}`,
		`{"match":{"operation":"ShowJob"},"action":{"type":"latency","delay":5}}`,
		`{"match":{"operation":"ShowJob"},"action":{"type":"latency","delay":"soon"}}`,
		`{"match":{"operation":"ShowJob","servers":["s-1"]},"action":{"type":"latency","delay":"1s"}}`,
	} {
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}
