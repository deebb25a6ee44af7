package compute_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
)

func TestFindSubscriptions(t *testing.T) {
	t.Parallel()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	inUse := b.prePaidServer(t, p, "s6.small.1")
	building := b.prePaidServer(t, p, "s6.small.1")
	b.inTx(t, func(tx *sql.Tx) error {
		building.VMState, building.TaskState = ecs.VMBuilding, ecs.TaskSpawning
		return b.db.UpdateServer(t.Context(), tx, building)
	})
	b.mustInsertServer(t, p, nil) // pay-per-use: not a subscription
	deleting := b.prePaidServer(t, p, "s6.small.1")
	b.inTx(t, func(tx *sql.Tx) error {
		deleting.TaskState = ecs.TaskDeleting
		return b.db.UpdateServer(t.Context(), tx, deleting)
	})
	other := b.newProject(t, ecs.DefaultQuota)
	b.prePaidServer(t, other, "s6.small.1")

	cases := []struct {
		name      string
		f         ecs.SubscriptionFilter
		want      []string
		wantTotal int
	}{
		{"all", ecs.SubscriptionFilter{ProjectID: p}, []string{inUse.ID, building.ID}, 2},
		{"by order", ecs.SubscriptionFilter{ProjectID: p, OrderID: building.OrderID}, []string{building.ID}, 1},
		{"by resource", ecs.SubscriptionFilter{ProjectID: p, ResourceIDs: []string{inUse.ID, deleting.ID}}, []string{inUse.ID}, 1},
		{"in use", ecs.SubscriptionFilter{ProjectID: p, Statuses: []int{ecs.SubscriptionInUse}}, []string{inUse.ID}, 1},
		{"initializing", ecs.SubscriptionFilter{ProjectID: p, Statuses: []int{ecs.SubscriptionInitializing}}, []string{building.ID}, 1},
		{"limit", ecs.SubscriptionFilter{ProjectID: p, Limit: 1}, []string{inUse.ID}, 2},
		{"offset", ecs.SubscriptionFilter{ProjectID: p, Offset: 1, Limit: 5}, []string{building.ID}, 2},
		{"offset past the end", ecs.SubscriptionFilter{ProjectID: p, Offset: 9}, []string{}, 2},
		{"another project's order", ecs.SubscriptionFilter{ProjectID: other, OrderID: inUse.OrderID}, []string{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			subs, total, err := b.svc.FindSubscriptions(t.Context(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, s := range subs {
				ids = append(ids, s.ServerID)
			}
			if !cmp.Equal(ids, tc.want) || total != tc.wantTotal {
				t.Errorf("FindSubscriptions = %v (total %d), want %v (total %d)", ids, total, tc.want, tc.wantTotal)
			}
			for _, s := range subs {
				if s.ProjectID != p || s.OrderID == "" || s.FlavorID != "s6.small.1" ||
					!s.Expires.Equal(clockStart.Add(15*24*time.Hour)) {
					t.Errorf("subscription %+v, want the order's period end %v", s, clockStart.Add(15*24*time.Hour))
				}
				wantStatus := ecs.SubscriptionInUse
				if s.ServerID == building.ID {
					wantStatus = ecs.SubscriptionInitializing
				}
				if s.Status != wantStatus {
					t.Errorf("%s status %d, want %d", s.ServerID, s.Status, wantStatus)
				}
			}
		})
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	srv := b.prePaidServer(t, p, "s6.small.1")
	data := &ecs.Volume{ID: "data-" + srv.ID, ProjectID: p, Name: "d", AvailabilityZone: "cn-north-4a", VolumeType: "SSD",
		SizeGB: 10, Status: ecs.VolumeInUse, ServerID: srv.ID, Device: "/dev/vdb", BootIndex: -1}
	b.inTx(t, func(tx *sql.Tx) error { return b.db.InsertVolume(ctx, tx, data) })
	postPaid := b.mustInsertServer(t, p, nil)
	busy := b.prePaidServer(t, p, "s6.small.1")
	b.inTx(t, func(tx *sql.Tx) error {
		busy.TaskState = ecs.TaskPoweringOn
		return b.db.UpdateServer(ctx, tx, busy)
	})
	other := b.newProject(t, ecs.DefaultQuota)

	refused := []struct {
		name    string
		project string
		ids     []string
		code    string
	}{
		{"pay-per-use", p, []string{srv.ID, postPaid.ID}, ecs.CodeChargingNotAllowed},
		{"unknown", p, []string{"6d8c3d3a-0000-4000-8000-000000000000"}, ecs.CodeServerNotFound},
		{"busy", p, []string{srv.ID, busy.ID}, ecs.CodeBusy},
		{"another project's server", other, []string{srv.ID}, ecs.CodeServerNotFound},
	}
	for _, tc := range refused {
		before := b.snapshot(t, p)
		_, err := b.svc.Unsubscribe(ctx, tc.project, tc.ids)
		if ecs.ErrorCode(err) != tc.code {
			t.Errorf("%s: Unsubscribe = %v, want %s", tc.name, err, tc.code)
		}
		b.requireUnchanged(t, p, before)
	}

	res, err := b.svc.Unsubscribe(ctx, p, []string{srv.ID})
	if err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if res.OrderID == "" || res.JobID == "" {
		t.Fatalf("result %+v, want an order and a job", res)
	}
	o, err := b.svc.FindOrder(ctx, p, res.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Type != ecs.OrderTypeUnsubscribe || o.Status != ecs.OrderCompleted || o.Amount >= 0 ||
		!cmp.Equal(o.ServerIDs, []string{srv.ID}) {
		t.Errorf("order %+v, want a completed unsubscribe refund for %s", o, srv.ID)
	}
	if got := b.server(t, srv.ID); got.TaskState != ecs.TaskDeleting {
		t.Errorf("server task %q, want deleting", got.TaskState)
	}
	b.inTx(t, func(tx *sql.Tx) error {
		v, err := b.db.VolumeByID(ctx, tx, p, data.ID)
		if err != nil {
			return err
		}
		if !v.DeleteOnTermination {
			t.Error("unsubscribing kept the data disk (delete_on_termination false)")
		}
		return nil
	})
	if j := b.job(t, res.JobID); j.Type != ecs.JobDeleteServer {
		t.Errorf("job %s, want %s", j.Type, ecs.JobDeleteServer)
	}
	if subs, total, err := b.svc.FindSubscriptions(ctx, ecs.SubscriptionFilter{ProjectID: p, ResourceIDs: []string{srv.ID}}); err != nil || total != 0 {
		t.Errorf("subscriptions after unsubscribing: %v %d %v, want none", subs, total, err)
	}
	// A second unsubscribe of the same server is refused: it is busy.
	if _, err := b.svc.Unsubscribe(ctx, p, []string{srv.ID}); ecs.ErrorCode(err) != ecs.CodeBusy {
		t.Errorf("second Unsubscribe = %v, want %s", err, ecs.CodeBusy)
	}
}
