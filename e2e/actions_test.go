package e2e_test

import (
	"net/http"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// TestBatchActions covers BatchStartServers, BatchStopServers (SOFT and
// HARD) and BatchRebootServers (SOFT and HARD): one sub-job per server, the
// final statuses and power states, the no-op and the refusals.
func TestBatchActions(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	pair := b.server("act", "s6.large.2")
	pair.Count = ptr(int32(2))
	ids := b.mustCreate(t, pair)

	want := func(t *testing.T, status string, power int32) {
		t.Helper()
		for _, id := range ids {
			b.wantServer(t, id, status, power, "s6.large.2")
		}
	}
	// run waits for an action's job and checks its type and sub-jobs.
	run := func(t *testing.T, jobID *string, err error, typ, sub string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if jobID == nil || len(*jobID) != 32 {
			t.Fatalf("%s: job_id %v", typ, jobID)
		}
		job := b.wantJob(t, *jobID, "SUCCESS")
		if str(job.JobType) != typ {
			t.Errorf("job_type %s, want %s", str(job.JobType), typ)
		}
		for _, s := range wantSubJobs(t, job, sub, ids...) {
			if s.Status.Value() != "SUCCESS" || s.ErrorCode != nil || s.EndTime == nil {
				t.Errorf("sub-job %s: status %s error_code %s end_time %s", str(s.JobId), s.Status.Value(), str(s.ErrorCode), str(s.EndTime))
			}
		}
	}

	// Each step starts from where the previous one left the servers.
	t.Run("start a running server changes nothing", func(t *testing.T) {
		jobID, err := jobOf(b.start(ids...))
		run(t, jobID, err, ecs.JobBatchStart, ecs.JobStartServer)
		want(t, "ACTIVE", 1)
	})
	t.Run("stop SOFT", func(t *testing.T) {
		jobID, err := jobOf(b.stop(false, ids...))
		run(t, jobID, err, ecs.JobBatchStop, ecs.JobStopServer)
		want(t, "SHUTOFF", 4)
	})
	t.Run("stop a stopped server changes nothing", func(t *testing.T) {
		jobID, err := jobOf(b.stop(true, ids...))
		run(t, jobID, err, ecs.JobBatchStop, ecs.JobStopServer)
		want(t, "SHUTOFF", 4)
	})
	t.Run("reboot a stopped server is refused", func(t *testing.T) {
		_, err := b.reboot(false, ids...)
		wantCode(t, err, ecs.CodeStateConflict)
		want(t, "SHUTOFF", 4)
	})
	t.Run("start", func(t *testing.T) {
		jobID, err := jobOf(b.start(ids...))
		run(t, jobID, err, ecs.JobBatchStart, ecs.JobStartServer)
		want(t, "ACTIVE", 1)
	})
	t.Run("reboot SOFT", func(t *testing.T) {
		jobID, err := jobOf(b.reboot(false, ids...))
		run(t, jobID, err, ecs.JobBatchReboot, ecs.JobRebootServer)
		want(t, "ACTIVE", 1)
	})
	t.Run("reboot HARD", func(t *testing.T) {
		jobID, err := jobOf(b.reboot(true, ids...))
		run(t, jobID, err, ecs.JobBatchReboot, ecs.JobRebootServer)
		want(t, "ACTIVE", 1)
	})
	t.Run("stop HARD", func(t *testing.T) {
		jobID, err := jobOf(b.stop(true, ids...))
		run(t, jobID, err, ecs.JobBatchStop, ecs.JobStopServer)
		want(t, "SHUTOFF", 4)
	})
	t.Run("an unknown server fails the whole batch", func(t *testing.T) {
		_, err := b.start(ids[0], unknownID)
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		want(t, "SHUTOFF", 4)
	})
	t.Run("duplicate and empty server lists", func(t *testing.T) {
		_, err := b.start(ids[0], ids[0])
		wantCode(t, err, ecs.CodeBadRequest)
		_, err = b.start()
		wantCode(t, err, ecs.CodeBadRequest)
	})
}

// TestBatchActionStates holds each action in each of its phases with the
// "fast" profile: powering-off keeps ACTIVE, powering-on keeps SHUTOFF, a
// soft reboot shows REBOOT and a hard one HARD_REBOOT.
func TestBatchActionStates(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")
	id := b.mustCreateOne(t, "watched", "s6.large.2", "")

	b.gate.Hold()
	for _, tc := range []struct {
		name   string
		act    func() (*string, error)
		phases []phase
		status string
		power  int32
	}{
		{"stop SOFT", func() (*string, error) { return jobOf(b.stop(false, id)) },
			[]phase{{"ACTIVE", ecs.TaskPoweringOff}}, "SHUTOFF", 4},
		{"start", func() (*string, error) { return jobOf(b.start(id)) },
			[]phase{{"SHUTOFF", ecs.TaskPoweringOn}}, "ACTIVE", 1},
		{"reboot SOFT", func() (*string, error) { return jobOf(b.reboot(false, id)) },
			[]phase{{"REBOOT", ecs.TaskRebooting}, {"REBOOT", ecs.TaskRebootPending}, {"REBOOT", ecs.TaskRebootStarted}}, "ACTIVE", 1},
		{"reboot HARD", func() (*string, error) { return jobOf(b.reboot(true, id)) },
			[]phase{{"HARD_REBOOT", ecs.TaskRebootingHard}, {"HARD_REBOOT", ecs.TaskRebootPendingHard}, {"HARD_REBOOT", ecs.TaskRebootStartedHard}}, "ACTIVE", 1},
		{"stop HARD", func() (*string, error) { return jobOf(b.stop(true, id)) },
			[]phase{{"ACTIVE", ecs.TaskPoweringOff}}, "SHUTOFF", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobID, err := tc.act()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			job := b.stepThrough(t, b.gate, id, *jobID, tc.phases, nil)
			if job.Status.Value() != "SUCCESS" {
				t.Fatalf("job ended %s", job.Status.Value())
			}
			b.wantServer(t, id, tc.status, tc.power, "s6.large.2")
		})
	}
}

// jobOf returns the job ID of an action's response.
func jobOf[R interface {
	*model.BatchStartServersResponse | *model.BatchStopServersResponse | *model.BatchRebootServersResponse
}](r R, err error) (*string, error) {
	if err != nil {
		return nil, err
	}
	switch v := any(r).(type) {
	case *model.BatchStartServersResponse:
		return v.JobId, nil
	case *model.BatchStopServersResponse:
		return v.JobId, nil
	case *model.BatchRebootServersResponse:
		return v.JobId, nil
	}
	return nil, nil
}
