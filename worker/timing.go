package worker

import (
	"fmt"
	"sort"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Timing gives how long each phase of a job lasts, keyed by task state.
// Phases not listed take no time.
type Timing map[string]time.Duration

// Timing profile names.
const (
	ProfileInstant   = "instant"
	ProfileFast      = "fast"
	ProfileRealistic = "realistic"
)

// Phases lists every phase a job walks through, in the order a reader meets
// them; a timing override may name only these.
var Phases = []string{
	ecs.TaskScheduling, ecs.TaskBlockDeviceMap, ecs.TaskNetworking, ecs.TaskSpawning,
	ecs.TaskPoweringOff, ecs.TaskPoweringOn,
	ecs.TaskRebooting, ecs.TaskRebootPending, ecs.TaskRebootStarted,
	ecs.TaskRebootingHard, ecs.TaskRebootPendingHard, ecs.TaskRebootStartedHard,
	ecs.TaskDeleting,
	ecs.TaskResizePrep, ecs.TaskResizeMigrating, ecs.TaskResizeMigrated, ecs.TaskResizeFinish,
	ecs.TaskResizeConfirming, ecs.TaskResizeReverting,
}

// Profile returns a named timing profile: instant (no delay, for bulk tests),
// fast (the default: a resize takes about a quarter of a second, long enough
// for a poller to see RUNNING and the intermediate task states) or realistic
// (durations like the real cloud's, tens of seconds). overrides replace
// single phases.
func Profile(name string, overrides map[string]time.Duration) (Timing, error) {
	var base Timing
	switch name {
	case ProfileInstant:
		base = Timing{}
	case ProfileFast, "":
		base = Timing{
			ecs.TaskScheduling: 20 * time.Millisecond, ecs.TaskBlockDeviceMap: 20 * time.Millisecond,
			ecs.TaskNetworking: 20 * time.Millisecond, ecs.TaskSpawning: 40 * time.Millisecond,
			ecs.TaskPoweringOff: 50 * time.Millisecond, ecs.TaskPoweringOn: 50 * time.Millisecond,
			ecs.TaskRebooting: 20 * time.Millisecond, ecs.TaskRebootPending: 20 * time.Millisecond,
			ecs.TaskRebootStarted: 20 * time.Millisecond, ecs.TaskRebootingHard: 10 * time.Millisecond,
			ecs.TaskRebootPendingHard: 10 * time.Millisecond, ecs.TaskRebootStartedHard: 10 * time.Millisecond,
			ecs.TaskDeleting:   40 * time.Millisecond,
			ecs.TaskResizePrep: 50 * time.Millisecond, ecs.TaskResizeMigrating: 100 * time.Millisecond,
			ecs.TaskResizeMigrated: 50 * time.Millisecond, ecs.TaskResizeFinish: 50 * time.Millisecond,
			ecs.TaskResizeConfirming: 20 * time.Millisecond, ecs.TaskResizeReverting: 100 * time.Millisecond,
		}
	case ProfileRealistic:
		base = Timing{
			ecs.TaskScheduling: 2 * time.Second, ecs.TaskBlockDeviceMap: 8 * time.Second,
			ecs.TaskNetworking: 3 * time.Second, ecs.TaskSpawning: 20 * time.Second,
			ecs.TaskPoweringOff: 8 * time.Second, ecs.TaskPoweringOn: 12 * time.Second,
			ecs.TaskRebooting: 3 * time.Second, ecs.TaskRebootPending: 3 * time.Second,
			ecs.TaskRebootStarted: 6 * time.Second, ecs.TaskRebootingHard: 2 * time.Second,
			ecs.TaskRebootPendingHard: 2 * time.Second, ecs.TaskRebootStartedHard: 4 * time.Second,
			ecs.TaskDeleting:   6 * time.Second,
			ecs.TaskResizePrep: 4 * time.Second, ecs.TaskResizeMigrating: 15 * time.Second,
			ecs.TaskResizeMigrated: 3 * time.Second, ecs.TaskResizeFinish: 6 * time.Second,
			ecs.TaskResizeConfirming: 2 * time.Second, ecs.TaskResizeReverting: 15 * time.Second,
		}
	default:
		return nil, fmt.Errorf("unknown timing profile %q (want instant, fast or realistic)", name)
	}
	for phase, d := range overrides {
		if !isPhase(phase) {
			return nil, fmt.Errorf("unknown timing phase %q (known: %v)", phase, Phases)
		}
		if d < 0 {
			return nil, fmt.Errorf("timing phase %s: negative duration %s", phase, d)
		}
		base[phase] = d
	}
	return base, nil
}

// EveryPhase returns a timing in which every phase lasts d. A clock that
// holds phases (a test's) sees every phase with a d > 0; phases that take
// no time are not waited for at all.
func EveryPhase(d time.Duration) Timing {
	t := make(Timing, len(Phases))
	for _, p := range Phases {
		t[p] = d
	}
	return t
}

func isPhase(p string) bool {
	for _, q := range Phases {
		if q == p {
			return true
		}
	}
	return false
}

// String lists the non-zero phases, for logs.
func (t Timing) String() string {
	keys := make([]string, 0, len(t))
	for k, d := range t {
		if d > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += k + "=" + t[k].String()
	}
	return s
}
