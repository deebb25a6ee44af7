package ecsdtest_test

import (
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/fault"
)

// The tests of this file are the documentation of ecsdtest: each one is a
// complete test of the kind a user of ecsd writes.

func resize(t *testing.T, env *ecsdtest.Env, id, flavor string, withStop bool) string {
	t.Helper()
	opt := &model.ResizePostPaidServerOption{FlavorRef: flavor}
	if withStop {
		mode := "withStopServer"
		opt.Mode = &mode
	}
	resp, err := env.ECS.ResizePostPaidServer(&model.ResizePostPaidServerRequest{
		ServerId: id, Body: &model.ResizePostPaidServerRequestBody{Resize: opt}})
	if err != nil {
		t.Fatalf("resize: %v", err)
	}
	return *resp.JobId
}

func show(t *testing.T, env *ecsdtest.Env, id string) *model.ServerDetail {
	t.Helper()
	resp, err := env.ECS.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	return resp.Server
}

// A resize from start to end: one call to New gives an ecsd, a tenant and
// an SDK client.
func TestExample_resize(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t)
	id := env.CreateServer(t, "web", "s6.large.2")
	env.StopServer(t, id)
	env.MustSucceed(t, resize(t, env, id, "c7.xlarge.2", false))
	if s := show(t, env, id); s.Flavor.Id != "c7.xlarge.2" || s.Status != "SHUTOFF" {
		t.Fatalf("after the resize: %s %s", s.Flavor.Id, s.Status)
	}
}

// A resize that fails half-way: a fault rule fails the next resize of one
// server at resize_migrating with Ecs.0319, and the server comes back on its
// old flavor, running again, exactly as after a real failure.
func TestExample_faultRollsBack(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t)
	id := env.CreateServer(t, "db", "s6.large.2")
	if _, err := env.Control.AddFault(fault.Rule{
		Match:  fault.Match{Phase: "resize_migrating", ServerID: id},
		Count:  1,
		Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: "Ecs.0319", FailReason: "Insufficient resources on the target host."},
	}); err != nil {
		t.Fatal(err)
	}
	job := env.WaitJob(t, resize(t, env, id, "c7.xlarge.2", true))
	if job.Status.Value() != "FAIL" || *job.ErrorCode != "Ecs.0319" {
		t.Fatalf("job %s %v, want FAIL Ecs.0319", job.Status.Value(), job.ErrorCode)
	}
	if s := show(t, env, id); s.Flavor.Id != "s6.large.2" || s.Status != "ACTIVE" {
		t.Fatalf("after the failed resize: %s %s, want s6.large.2 ACTIVE", s.Flavor.Id, s.Status)
	}
	// The rule fired once; the next resize goes through.
	env.MustSucceed(t, resize(t, env, id, "c7.xlarge.2", true))
	rules, err := env.Control.Faults()
	if err != nil || len(rules) != 1 || rules[0].Fired != 1 {
		t.Fatalf("rules %+v (%v), want one that fired once", rules, err)
	}
}

// Time on demand: with the realistic timing profile a resize takes about
// half a minute of ecsd's clock; at x1000 it takes a few tens of
// milliseconds of the test's.
func TestExample_fastClock(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t, ecsdtest.WithTiming("realistic"))
	if err := env.Control.SetSpeed(1000); err != nil {
		t.Fatal(err)
	}
	id := env.CreateServer(t, "app", "s6.large.2")
	env.StopServer(t, id)
	start := time.Now()
	job := env.MustSucceed(t, resize(t, env, id, "s6.xlarge.2", false))
	begin, _ := time.Parse("2006-01-02T15:04:05.000Z", *job.BeginTime)
	end, _ := time.Parse("2006-01-02T15:04:05.000Z", *job.EndTime)
	if virtual := end.Sub(begin); virtual < 25*time.Second {
		t.Fatalf("the resize took %v of ecsd's clock, want the realistic ~28 s", virtual)
	}
	if wall := time.Since(start); wall > 10*time.Second {
		t.Fatalf("the resize took %v of wall time at x1000", wall)
	}
}

// Stopping time in the middle of a job: with the clock paused, a resize
// stays in its first phase until the test advances the clock.
func TestExample_pauseAndAdvance(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t, ecsdtest.WithTiming("realistic"))
	if err := env.Control.SetSpeed(1000); err != nil {
		t.Fatal(err)
	}
	id := env.CreateServer(t, "batch", "s6.large.2")
	env.StopServer(t, id)
	if err := env.Control.Pause(); err != nil {
		t.Fatal(err)
	}
	jobID := resize(t, env, id, "s6.xlarge.2", false)
	waitFor(t, func() bool { st, _ := env.Control.Clock(); return st.Sleepers > 0 })
	if s := show(t, env, id); s.Status != "RESIZE" || s.OSEXTSTStaskState != "resize_prep" {
		t.Fatalf("paused: %s/%s, want RESIZE/resize_prep", s.Status, s.OSEXTSTStaskState)
	}
	// One hour of ecsd's time is more than every phase needs.
	if err := env.Control.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := env.Control.Resume(); err != nil {
		t.Fatal(err)
	}
	env.MustSucceed(t, jobID)
	phases, err := env.Control.JobPhases(jobID)
	if err != nil || len(phases) != 4 || phases[0].Phase != "resize_prep" {
		t.Fatalf("phases %+v (%v)", phases, err)
	}
}

// Isolation: every tenant is its own project and sees only its servers.
func TestExample_tenantsAreIsolated(t *testing.T) {
	t.Parallel()
	env := ecsdtest.New(t)
	_, other := env.NewTenant(t)
	id := env.CreateServer(t, "mine", "s6.small.1")
	list, err := other.ListServersDetails(&model.ListServersDetailsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if *list.Count != 0 {
		t.Fatalf("the other tenant sees %d servers", *list.Count)
	}
	if _, err := other.ShowServer(&model.ShowServerRequest{ServerId: id}); err == nil {
		t.Fatal("the other tenant can read the server")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
