package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsd-dev/ecsd/fault"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

func TestFaultRules(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		reopen := reopener(t, e)
		db, err := reopen()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { db.Close() }()

		counted := fault.Rule{ID: "f-00000001", Match: fault.Match{Phase: "resize_migrating", ServerID: "srv-1", FlavorID: "s6.large.2"},
			Probability: 0.5, Count: 2, CreatedAt: testTime,
			Action: fault.Action{Type: fault.ActionFailJob, ErrorCode: "Ecs.0319", FailReason: "no room"}}
		unlimited := fault.Rule{ID: "f-00000002", Match: fault.Match{Operation: "ShowJob"}, Probability: 1,
			CreatedAt: testTime.Add(time.Second), Action: fault.Action{Type: fault.ActionLatency, Delay: fault.Duration(250 * time.Millisecond)}}
		market := fault.Rule{ID: "f-00000003", Probability: 1, CreatedAt: testTime.Add(2 * time.Second),
			Action: fault.Action{Type: fault.ActionCapacity, HostID: "cn-north-4a-x86-01", VCPUs: 8, RAMMB: 16384}}
		for _, r := range []fault.Rule{counted, unlimited, market} {
			if err := db.InsertFaultRule(ctx, r); err != nil {
				t.Fatalf("InsertFaultRule %s: %v", r.ID, err)
			}
		}
		if err := db.InsertFaultRule(ctx, counted); err == nil {
			t.Error("InsertFaultRule with a duplicate ID succeeded")
		}

		want := func(rules ...fault.Rule) {
			t.Helper()
			got, err := db.FaultRules(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rules, got); diff != "" {
				t.Errorf("FaultRules (-want +got):\n%s", diff)
			}
		}
		want(counted, unlimited, market)

		// A counted rule fires Count times, then no more; an unlimited one
		// fires on and on; an unknown one never.
		for i, wantFired := range []bool{true, true, false, false} {
			if ok, err := db.FireFaultRule(ctx, counted.ID); err != nil || ok != wantFired {
				t.Errorf("FireFaultRule(counted) #%d = %v, %v; want %v", i+1, ok, err, wantFired)
			}
		}
		for range 5 {
			if ok, err := db.FireFaultRule(ctx, unlimited.ID); err != nil || !ok {
				t.Fatalf("FireFaultRule(unlimited) = %v, %v; want true", ok, err)
			}
		}
		if ok, err := db.FireFaultRule(ctx, "f-unknown"); err != nil || ok {
			t.Errorf("FireFaultRule(unknown) = %v, %v; want false", ok, err)
		}
		counted.Fired, unlimited.Fired = 2, 5
		want(counted, unlimited, market)

		// The rules and their counts survive a restart.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if db, err = reopen(); err != nil {
			t.Fatal(err)
		}
		want(counted, unlimited, market)
		if ok, err := db.FireFaultRule(ctx, counted.ID); err != nil || ok {
			t.Errorf("FireFaultRule(exhausted) after a restart = %v, %v; want false", ok, err)
		}

		if ok, err := db.DeleteFaultRule(ctx, unlimited.ID); err != nil || !ok {
			t.Errorf("DeleteFaultRule = %v, %v; want true", ok, err)
		}
		if ok, err := db.DeleteFaultRule(ctx, unlimited.ID); err != nil || ok {
			t.Errorf("DeleteFaultRule again = %v, %v; want false", ok, err)
		}
		want(counted, market)
		if err := db.DeleteFaultRules(ctx); err != nil {
			t.Fatal(err)
		}
		want()
	})
}

// reopener returns a function that opens one and the same new database of
// engine e each time it is called, as a restarted node opens its store.
// The caller closes what it opens.
func reopener(t *testing.T, e storetest.Engine) func() (*store.DB, error) {
	t.Helper()
	if e.Name == store.EnginePostgres {
		u := storetest.PostgresURL(t)
		return func() (*store.DB, error) { return store.OpenPostgres(t.Context(), u, storetest.PostgresOptions) }
	}
	dir := storetest.DataDir(t)
	return func() (*store.DB, error) { return store.OpenSQLite(t.Context(), dir) }
}
