package worker_test

import (
	"strings"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/worker"
)

func TestProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		profile   string
		overrides map[string]time.Duration
		// check runs on the result of a valid profile.
		check   func(t *testing.T, tm worker.Timing)
		wantErr string
	}{
		{
			name: "instant has no delays", profile: worker.ProfileInstant,
			check: func(t *testing.T, tm worker.Timing) {
				for _, p := range worker.Phases {
					if tm[p] != 0 {
						t.Errorf("%s = %s, want 0", p, tm[p])
					}
				}
			},
		},
		{
			name: "fast delays every phase, a resize about a quarter second", profile: worker.ProfileFast,
			check: func(t *testing.T, tm worker.Timing) {
				requireEveryPhase(t, tm)
				resize := tm[ecs.TaskResizePrep] + tm[ecs.TaskResizeMigrating] + tm[ecs.TaskResizeMigrated] + tm[ecs.TaskResizeFinish]
				if resize < 100*time.Millisecond || resize > time.Second {
					t.Errorf("fast resize takes %s, want about a quarter of a second", resize)
				}
			},
		},
		{
			name: "the empty name is fast", profile: "",
			check: func(t *testing.T, tm worker.Timing) {
				fast, err := worker.Profile(worker.ProfileFast, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tm.String() != fast.String() {
					t.Errorf("Profile(\"\") = %s, want fast %s", tm, fast)
				}
			},
		},
		{
			name: "realistic takes tens of seconds", profile: worker.ProfileRealistic,
			check: func(t *testing.T, tm worker.Timing) {
				requireEveryPhase(t, tm)
				if tm[ecs.TaskSpawning] < 10*time.Second {
					t.Errorf("realistic spawning = %s", tm[ecs.TaskSpawning])
				}
			},
		},
		{
			name: "overrides replace single phases", profile: worker.ProfileFast,
			overrides: map[string]time.Duration{ecs.TaskResizeMigrating: 3 * time.Second, ecs.TaskSpawning: 0},
			check: func(t *testing.T, tm worker.Timing) {
				if tm[ecs.TaskResizeMigrating] != 3*time.Second || tm[ecs.TaskSpawning] != 0 {
					t.Errorf("overridden phases: migrating %s spawning %s", tm[ecs.TaskResizeMigrating], tm[ecs.TaskSpawning])
				}
				if tm[ecs.TaskResizePrep] != 50*time.Millisecond {
					t.Errorf("an untouched phase changed: resize_prep %s", tm[ecs.TaskResizePrep])
				}
			},
		},
		{
			name: "overrides on instant", profile: worker.ProfileInstant,
			overrides: map[string]time.Duration{ecs.TaskPoweringOn: time.Minute},
			check: func(t *testing.T, tm worker.Timing) {
				if got := tm.String(); got != "powering-on=1m0s" {
					t.Errorf("String() = %q, want powering-on=1m0s", got)
				}
			},
		},
		{name: "unknown profile", profile: "ludicrous", wantErr: "unknown timing profile"},
		{name: "unknown phase", profile: worker.ProfileFast, overrides: map[string]time.Duration{"resize_confirm": time.Second}, wantErr: "unknown timing phase"},
		{name: "task state that is no phase", profile: worker.ProfileFast, overrides: map[string]time.Duration{ecs.TaskMigrating: time.Second}, wantErr: "unknown timing phase"},
		{name: "negative duration", profile: worker.ProfileInstant, overrides: map[string]time.Duration{ecs.TaskDeleting: -time.Second}, wantErr: "negative duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm, err := worker.Profile(tc.profile, tc.overrides)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Profile = %v, %v; want an error containing %q", tm, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Profile: %v", err)
			}
			tc.check(t, tm)
		})
	}
}

// TestProfileIsACopy checks that changing a returned Timing does not change
// the next one.
func TestProfileIsACopy(t *testing.T) {
	t.Parallel()
	a, err := worker.Profile(worker.ProfileFast, nil)
	if err != nil {
		t.Fatal(err)
	}
	a[ecs.TaskSpawning] = time.Hour
	b, err := worker.Profile(worker.ProfileFast, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b[ecs.TaskSpawning] == time.Hour {
		t.Error("Profile returned a shared map")
	}
}

func TestTimingString(t *testing.T) {
	t.Parallel()
	tm := worker.Timing{ecs.TaskResizePrep: time.Second, ecs.TaskDeleting: 0, ecs.TaskNetworking: 20 * time.Millisecond}
	if got, want := tm.String(), "networking=20ms resize_prep=1s"; got != want {
		t.Errorf("String() = %q, want %q (sorted, zero phases left out)", got, want)
	}
	if got := (worker.Timing{}).String(); got != "" {
		t.Errorf("empty Timing String() = %q", got)
	}
}

func requireEveryPhase(t *testing.T, tm worker.Timing) {
	t.Helper()
	for _, p := range worker.Phases {
		if tm[p] <= 0 {
			t.Errorf("phase %s has no duration", p)
		}
	}
	if len(tm) != len(worker.Phases) {
		t.Errorf("timing has %d phases, Phases lists %d", len(tm), len(worker.Phases))
	}
}

func TestEveryPhase(t *testing.T) {
	t.Parallel()
	tm := worker.EveryPhase(time.Millisecond)
	if len(tm) != len(worker.Phases) {
		t.Fatalf("EveryPhase has %d phases, want %d", len(tm), len(worker.Phases))
	}
	for _, p := range worker.Phases {
		if tm[p] != time.Millisecond {
			t.Errorf("phase %s lasts %s, want 1ms", p, tm[p])
		}
	}
}
