package ecs_test

import (
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
)

// statusCase is one (vm_state, task_state) pair and the status it maps to.
type statusCase struct {
	vm, task, want string
}

// documentedStatuses is every row of the mapping table of reference §H
// ("ECS statuses and transitions"), one case per task state of a row; the
// empty task state is the table's null.
var documentedStatuses = []statusCase{
	// building | scheduling / block_device_mapping / networking / spawning / null | BUILD
	{vm: ecs.VMBuilding, task: ecs.TaskScheduling, want: ecs.StatusBuild},
	{vm: ecs.VMBuilding, task: ecs.TaskBlockDeviceMap, want: ecs.StatusBuild},
	{vm: ecs.VMBuilding, task: ecs.TaskNetworking, want: ecs.StatusBuild},
	{vm: ecs.VMBuilding, task: ecs.TaskSpawning, want: ecs.StatusBuild},
	{vm: ecs.VMBuilding, task: ecs.TaskNone, want: ecs.StatusBuild},
	// active | rebooting / reboot_pending / reboot_started | REBOOT
	{vm: ecs.VMActive, task: ecs.TaskRebooting, want: ecs.StatusReboot},
	{vm: ecs.VMActive, task: ecs.TaskRebootPending, want: ecs.StatusReboot},
	{vm: ecs.VMActive, task: ecs.TaskRebootStarted, want: ecs.StatusReboot},
	// active | rebooting_hard / reboot_pending_hard / reboot_started_hard | HARD_REBOOT
	{vm: ecs.VMActive, task: ecs.TaskRebootingHard, want: ecs.StatusHardReboot},
	{vm: ecs.VMActive, task: ecs.TaskRebootPendingHard, want: ecs.StatusHardReboot},
	{vm: ecs.VMActive, task: ecs.TaskRebootStartedHard, want: ecs.StatusHardReboot},
	// active | rebuilding / rebuild_block_device_mapping / rebuild_spawning | REBUILD
	{vm: ecs.VMActive, task: "rebuilding", want: "REBUILD"},
	{vm: ecs.VMActive, task: "rebuild_block_device_mapping", want: "REBUILD"},
	{vm: ecs.VMActive, task: "rebuild_spawning", want: "REBUILD"},
	// active | migrating | MIGRATING
	{vm: ecs.VMActive, task: "migrating", want: "MIGRATING"},
	// active | powering-off / deleting / null | ACTIVE
	{vm: ecs.VMActive, task: ecs.TaskPoweringOff, want: ecs.StatusActive},
	{vm: ecs.VMActive, task: ecs.TaskDeleting, want: ecs.StatusActive},
	{vm: ecs.VMActive, task: ecs.TaskNone, want: ecs.StatusActive},
	// stopped | resize_prep / resize_migrating / resize_migrated / resize_finish | RESIZE
	{vm: ecs.VMStopped, task: ecs.TaskResizePrep, want: ecs.StatusResize},
	{vm: ecs.VMStopped, task: ecs.TaskResizeMigrating, want: ecs.StatusResize},
	{vm: ecs.VMStopped, task: ecs.TaskResizeMigrated, want: ecs.StatusResize},
	{vm: ecs.VMStopped, task: ecs.TaskResizeFinish, want: ecs.StatusResize},
	// stopped | rebuilding / rebuild_block_device_mapping / rebuild_spawning | REBUILD
	{vm: ecs.VMStopped, task: "rebuilding", want: "REBUILD"},
	{vm: ecs.VMStopped, task: "rebuild_block_device_mapping", want: "REBUILD"},
	{vm: ecs.VMStopped, task: "rebuild_spawning", want: "REBUILD"},
	// stopped | powering-on / deleting / null | SHUTOFF
	{vm: ecs.VMStopped, task: ecs.TaskPoweringOn, want: ecs.StatusShutoff},
	{vm: ecs.VMStopped, task: ecs.TaskDeleting, want: ecs.StatusShutoff},
	{vm: ecs.VMStopped, task: ecs.TaskNone, want: ecs.StatusShutoff},
	// resized | resize_reverting | REVERT_RESIZE
	{vm: ecs.VMResized, task: ecs.TaskResizeReverting, want: ecs.StatusRevertResize},
	// resized | null | VERIFY_RESIZE
	{vm: ecs.VMResized, task: ecs.TaskNone, want: ecs.StatusVerifyResize},
	// error | rebuilding / rebuild_block_device_mapping / rebuild_spawning | REBUILD
	{vm: ecs.VMError, task: "rebuilding", want: "REBUILD"},
	{vm: ecs.VMError, task: "rebuild_block_device_mapping", want: "REBUILD"},
	{vm: ecs.VMError, task: "rebuild_spawning", want: "REBUILD"},
	// error | deleting / null | ERROR
	{vm: ecs.VMError, task: ecs.TaskDeleting, want: ecs.StatusError},
	{vm: ecs.VMError, task: ecs.TaskNone, want: ecs.StatusError},
	// deleted | null | DELETED
	{vm: ecs.VMDeleted, task: ecs.TaskNone, want: ecs.StatusDeleted},
	// shelved | shelving / shelving_image_pending_upload / shelving_image_uploading / unshelving / null | SHELVED
	{vm: "shelved", task: "shelving", want: "SHELVED"},
	{vm: "shelved", task: "shelving_image_pending_upload", want: "SHELVED"},
	{vm: "shelved", task: "shelving_image_uploading", want: "SHELVED"},
	{vm: "shelved", task: "unshelving", want: "SHELVED"},
	{vm: "shelved", task: ecs.TaskNone, want: "SHELVED"},
	// shelved_offloaded | shelving_offloading / unshelving / null | SHELVED_OFFLOADED
	{vm: "shelved_offloaded", task: "shelving_offloading", want: "SHELVED_OFFLOADED"},
	{vm: "shelved_offloaded", task: "unshelving", want: "SHELVED_OFFLOADED"},
	{vm: "shelved_offloaded", task: ecs.TaskNone, want: "SHELVED_OFFLOADED"},
}

// undocumentedStatuses are combinations outside the table: they must be
// UNKNOWN, never a plausible-looking status.
var undocumentedStatuses = []statusCase{
	{vm: "", task: "", want: ecs.StatusUnknown},
	{vm: "", task: ecs.TaskScheduling, want: ecs.StatusUnknown},
	{vm: "paused", task: ecs.TaskNone, want: ecs.StatusUnknown},
	{vm: "ACTIVE", task: ecs.TaskNone, want: ecs.StatusUnknown}, // states are lower case
	{vm: ecs.VMActive, task: "POWERING-OFF", want: ecs.StatusUnknown},
	{vm: ecs.VMActive, task: "null", want: ecs.StatusUnknown}, // null is the empty string, not the word
	// building only takes the build phases.
	{vm: ecs.VMBuilding, task: ecs.TaskDeleting, want: ecs.StatusUnknown},
	{vm: ecs.VMBuilding, task: ecs.TaskPoweringOn, want: ecs.StatusUnknown},
	{vm: ecs.VMBuilding, task: ecs.TaskResizePrep, want: ecs.StatusUnknown},
	// active never carries resize or power-on phases: a running server is
	// stopped (vm_state stopped) before its resize phases start.
	{vm: ecs.VMActive, task: ecs.TaskPoweringOn, want: ecs.StatusUnknown},
	{vm: ecs.VMActive, task: ecs.TaskResizePrep, want: ecs.StatusUnknown},
	{vm: ecs.VMActive, task: ecs.TaskResizeMigrating, want: ecs.StatusUnknown},
	{vm: ecs.VMActive, task: ecs.TaskResizeFinish, want: ecs.StatusUnknown},
	{vm: ecs.VMActive, task: ecs.TaskResizeReverting, want: ecs.StatusUnknown},
	{vm: ecs.VMActive, task: ecs.TaskScheduling, want: ecs.StatusUnknown},
	// stopped cannot reboot or power off.
	{vm: ecs.VMStopped, task: ecs.TaskRebooting, want: ecs.StatusUnknown},
	{vm: ecs.VMStopped, task: ecs.TaskRebootingHard, want: ecs.StatusUnknown},
	{vm: ecs.VMStopped, task: ecs.TaskPoweringOff, want: ecs.StatusUnknown},
	{vm: ecs.VMStopped, task: ecs.TaskResizeReverting, want: ecs.StatusUnknown},
	{vm: ecs.VMStopped, task: ecs.TaskSpawning, want: ecs.StatusUnknown},
	// resized has only the confirm/revert pair.
	{vm: ecs.VMResized, task: ecs.TaskResizePrep, want: ecs.StatusUnknown},
	{vm: ecs.VMResized, task: ecs.TaskDeleting, want: ecs.StatusUnknown},
	{vm: ecs.VMResized, task: ecs.TaskPoweringOn, want: ecs.StatusUnknown},
	// error can only be deleted (or rebuilt).
	{vm: ecs.VMError, task: ecs.TaskPoweringOn, want: ecs.StatusUnknown},
	{vm: ecs.VMError, task: ecs.TaskRebooting, want: ecs.StatusUnknown},
	{vm: ecs.VMError, task: ecs.TaskResizePrep, want: ecs.StatusUnknown},
	// deleted takes no task at all.
	{vm: ecs.VMDeleted, task: ecs.TaskDeleting, want: ecs.StatusUnknown},
	{vm: ecs.VMDeleted, task: ecs.TaskPoweringOff, want: ecs.StatusUnknown},
	// shelved states take only their own tasks.
	{vm: "shelved", task: ecs.TaskDeleting, want: ecs.StatusUnknown},
	{vm: "shelved_offloaded", task: "shelving", want: ecs.StatusUnknown},
}

func TestStatus(t *testing.T) {
	t.Parallel()
	for _, group := range []struct {
		name  string
		cases []statusCase
	}{
		{"documented", documentedStatuses},
		{"undocumented", undocumentedStatuses},
	} {
		for _, tc := range group.cases {
			t.Run(group.name+"/"+tc.vm+"+"+taskName(tc.task), func(t *testing.T) {
				t.Parallel()
				got := ecs.Status(tc.vm, tc.task)
				if got != tc.want {
					t.Errorf("Status(%q, %q) = %q, want %q", tc.vm, tc.task, got, tc.want)
				}
			})
		}
	}
}

// TestStatusEveryTaskState checks that every task state constant that ecsd
// defines maps to a documented status with at least one vm_state, so that
// no phase of a job can show UNKNOWN.
func TestStatusEveryTaskState(t *testing.T) {
	t.Parallel()
	vms := []string{ecs.VMBuilding, ecs.VMActive, ecs.VMStopped, ecs.VMResized, ecs.VMError, ecs.VMDeleted}
	tasks := []string{
		ecs.TaskNone, ecs.TaskScheduling, ecs.TaskBlockDeviceMap, ecs.TaskNetworking, ecs.TaskSpawning,
		ecs.TaskRebooting, ecs.TaskRebootPending, ecs.TaskRebootStarted, ecs.TaskRebootingHard,
		ecs.TaskRebootPendingHard, ecs.TaskRebootStartedHard, ecs.TaskResizePrep, ecs.TaskResizeMigrating,
		ecs.TaskResizeMigrated, ecs.TaskResizeFinish, ecs.TaskResizeReverting, ecs.TaskPoweringOff,
		ecs.TaskPoweringOn, ecs.TaskDeleting,
	}
	for _, task := range tasks {
		known := false
		for _, vm := range vms {
			if ecs.Status(vm, task) != ecs.StatusUnknown {
				known = true
			}
		}
		if !known {
			t.Errorf("task state %q is UNKNOWN with every vm_state", task)
		}
	}
}

func TestServerStatusAndBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vm, task   string
		wantStatus string
		wantBusy   bool
	}{
		{ecs.VMActive, ecs.TaskNone, ecs.StatusActive, false},
		{ecs.VMActive, ecs.TaskPoweringOff, ecs.StatusActive, true},
		{ecs.VMStopped, ecs.TaskResizeMigrating, ecs.StatusResize, true},
		{ecs.VMStopped, ecs.TaskNone, ecs.StatusShutoff, false},
		{ecs.VMError, ecs.TaskNone, ecs.StatusError, false},
	}
	for _, tc := range tests {
		s := &ecs.Server{VMState: tc.vm, TaskState: tc.task}
		if got := s.Status(); got != tc.wantStatus {
			t.Errorf("Server{%s, %q}.Status() = %q, want %q", tc.vm, tc.task, got, tc.wantStatus)
		}
		if got := s.Busy(); got != tc.wantBusy {
			t.Errorf("Server{%s, %q}.Busy() = %v, want %v", tc.vm, tc.task, got, tc.wantBusy)
		}
	}
}

func TestJobDone(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]bool{
		ecs.JobInit: false, ecs.JobRunning: false, ecs.JobSuccess: true, ecs.JobFail: true, "": false,
	} {
		if got := (&ecs.Job{Status: status}).Done(); got != want {
			t.Errorf("Job{Status: %q}.Done() = %v, want %v", status, got, want)
		}
	}
}

func taskName(task string) string {
	if task == "" {
		return "null"
	}
	return task
}
