package ecs_test

import (
	"fmt"

	ecs "github.com/ecsd-dev/ecsd"
)

// A resize of a running server with mode=withStopServer, as a poller of
// GET /v1/{project_id}/cloudservers/{server_id} sees it: the status stays
// ACTIVE while the server powers off, reads RESIZE while the phases run,
// SHUTOFF while it powers on again, and only then ACTIVE.
func ExampleStatus() {
	steps := []struct{ vm, task string }{
		{ecs.VMActive, ecs.TaskNone},
		{ecs.VMActive, ecs.TaskPoweringOff},
		{ecs.VMStopped, ecs.TaskResizePrep},
		{ecs.VMStopped, ecs.TaskResizeMigrating},
		{ecs.VMStopped, ecs.TaskResizeMigrated},
		{ecs.VMStopped, ecs.TaskResizeFinish},
		{ecs.VMStopped, ecs.TaskPoweringOn},
		{ecs.VMActive, ecs.TaskNone},
		{ecs.VMActive, ecs.TaskResizePrep}, // not in the published table
	}
	for _, s := range steps {
		task := s.task
		if task == ecs.TaskNone {
			task = "null"
		}
		fmt.Printf("%-7s %-16s → %s\n", s.vm, task, ecs.Status(s.vm, s.task))
	}
	// Output:
	// active  null             → ACTIVE
	// active  powering-off     → ACTIVE
	// stopped resize_prep      → RESIZE
	// stopped resize_migrating → RESIZE
	// stopped resize_migrated  → RESIZE
	// stopped resize_finish    → RESIZE
	// stopped powering-on      → SHUTOFF
	// active  null             → ACTIVE
	// active  resize_prep      → UNKNOWN
}
