package compute_test

import (
	"database/sql"
	"sync"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

// fixedClock is a clock that stands still.
type fixedClock struct {
	ecs.RealClock // Sleep
	mu            sync.Mutex
	t             time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var clockStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// setupBilling is setup with a fixed clock at clockStart.
func setupBilling(t *testing.T) (*testBundle, *fixedClock) {
	t.Helper()
	b := setup(t)
	c := &fixedClock{t: clockStart}
	b.svc.Clock = c
	return b, c
}

func TestPeriodAndResizeAmounts(t *testing.T) {
	t.Parallel()
	if got := compute.PeriodEnd(clockStart, ecs.PeriodMonth, 2); !got.Equal(clockStart.AddDate(0, 2, 0)) {
		t.Errorf("PeriodEnd(month, 2) = %v", got)
	}
	if got := compute.PeriodEnd(clockStart, ecs.PeriodYear, 1); !got.Equal(clockStart.AddDate(1, 0, 0)) {
		t.Errorf("PeriodEnd(year, 1) = %v", got)
	}
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"3 months", compute.PeriodAmount(50.4, ecs.PeriodMonth, 3), 151.2},
		{"a year is ten months", compute.PeriodAmount(50.4, ecs.PeriodYear, 1), 504},
		{"upgrade, half a month left", compute.ResizeAmount(50.4, 262.08, clockStart, clockStart.Add(15*24*time.Hour)), 105.84},
		{"downgrade is a refund", compute.ResizeAmount(262.08, 50.4, clockStart, clockStart.Add(15*24*time.Hour)), -105.84},
		{"two months left", compute.ResizeAmount(100, 130, clockStart, clockStart.Add(60*24*time.Hour)), 60},
		{"period over", compute.ResizeAmount(100, 130, clockStart, clockStart.Add(-time.Hour)), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestPrePaidCreatePendingThenPay(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.ChargingMode, r.PeriodType, r.PeriodNum, r.Count = ecs.ChargingPrePaid, ecs.PeriodMonth, 3, 2
	}))
	if res.OrderID == "" || res.JobID == "" || len(res.ServerIDs) != 2 {
		t.Fatalf("result %+v, want an order, a job and two servers", res)
	}
	if j := b.job(t, res.JobID); j.Status != ecs.JobPendingPayment || len(j.SubJobs) != 2 {
		t.Fatalf("job %s with %d sub-jobs, want PENDING_PAYMENT with 2", j.Status, len(j.SubJobs))
	}
	if n := len(b.queue.Jobs(p)); n != 0 {
		t.Fatalf("%d jobs enqueued before payment, want 0", n)
	}
	o, err := b.svc.FindOrder(ctx, p, res.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	// s6.small.1 costs 50.40 a month: 3 months × 2 servers.
	if o.Status != ecs.OrderPendingPayment || o.Type != ecs.OrderTypeNew || o.Amount != 302.4 || o.Currency != "CNY" {
		t.Errorf("order %+v, want pending, new purchase, 302.40 CNY", o)
	}
	if !o.PeriodEnd.Equal(clockStart.AddDate(0, 3, 0)) {
		t.Errorf("period end %v, want %v", o.PeriodEnd, clockStart.AddDate(0, 3, 0))
	}

	other := b.newProject(t, ecs.DefaultQuota)
	requireCode(t, b.svc.PayOrder(ctx, other, res.OrderID), compute.CodeOrderNotFound)
	requireCode(t, b.svc.CancelOrder(ctx, other, res.OrderID), compute.CodeOrderNotFound)
	if _, err := b.svc.FindOrder(ctx, other, res.OrderID); ecs.ErrorCode(err) != compute.CodeOrderNotFound {
		t.Errorf("FindOrder by another project: %v", err)
	}

	if err := b.svc.PayOrder(ctx, p, res.OrderID); err != nil {
		t.Fatalf("PayOrder: %v", err)
	}
	if j := b.job(t, res.JobID); j.Status != ecs.JobRunning {
		t.Errorf("job after payment %s, want RUNNING", j.Status)
	}
	if n := len(b.queue.Jobs(p)); n != 2 {
		t.Errorf("%d sub-jobs enqueued after payment, want 2", n)
	}
	before := b.snapshot(t, p)
	requireCode(t, b.svc.PayOrder(ctx, p, res.OrderID), compute.CodeOrderNotPayable)
	requireCode(t, b.svc.CancelOrder(ctx, p, res.OrderID), compute.CodeOrderNotCancel)
	b.requireUnchanged(t, p, before)
	if n := len(b.queue.Jobs(p)); n != 2 {
		t.Errorf("%d sub-jobs enqueued after the refused calls, want 2", n)
	}
	if o, _ := b.svc.FindOrder(ctx, p, res.OrderID); o.Status != ecs.OrderCompleted || !o.Paid.Equal(clockStart) {
		t.Errorf("order %+v, want completed, paid at %v", o, clockStart)
	}
}

func TestPrePaidCreateAutoPay(t *testing.T) {
	t.Parallel()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.ChargingMode, r.PeriodType, r.PeriodNum, r.AutoPay = ecs.ChargingPrePaid, ecs.PeriodYear, 1, true
	}))
	o, err := b.svc.FindOrder(t.Context(), p, res.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != ecs.OrderCompleted || o.Amount != 504 || o.JobID != res.JobID {
		t.Errorf("order %+v, want completed, 504.00, job %s", o, res.JobID)
	}
	if j := b.job(t, res.JobID); j.Status != ecs.JobInit {
		t.Errorf("job %s, want INIT", j.Status)
	}
	if n := len(b.queue.Jobs(p)); n != 1 {
		t.Errorf("%d jobs enqueued, want 1", n)
	}
}

func TestPrePaidCreateCancel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	res := b.mustCreate(t, createRequest(p, func(r *ecs.CreateServersRequest) {
		r.ChargingMode, r.PeriodType, r.PeriodNum, r.Count = ecs.ChargingPrePaid, ecs.PeriodMonth, 1, 2
	}))
	if err := b.svc.CancelOrder(ctx, p, res.OrderID); err != nil {
		t.Fatalf("CancelOrder: %v", err)
	}
	j := b.job(t, res.JobID)
	if j.Status != ecs.JobFail || j.ErrorCode != ecs.CodeOrderCancelled || j.EndTime.IsZero() {
		t.Errorf("job %s %s ended %v, want FAIL %s", j.Status, j.ErrorCode, j.EndTime, ecs.CodeOrderCancelled)
	}
	for _, sub := range j.SubJobs {
		if sub.Status != ecs.JobFail {
			t.Errorf("sub-job %s, want FAIL", sub.Status)
		}
	}
	for _, id := range res.ServerIDs {
		if _, err := b.svc.FindServerByID(ctx, p, id); ecs.ErrorCode(err) != ecs.CodeServerNotFound {
			t.Errorf("server %s after cancel: %v, want not found", id, err)
		}
	}
	if l, err := b.svc.Limits(ctx, p); err != nil || l.InstancesUsed != 0 || l.CoresUsed != 0 {
		t.Errorf("limits after cancel: %+v, %v; want nothing used", l, err)
	}
	if n := len(b.queue.Jobs(p)); n != 0 {
		t.Errorf("%d jobs enqueued, want 0", n)
	}
	before := b.snapshot(t, p)
	requireCode(t, b.svc.PayOrder(ctx, p, res.OrderID), compute.CodeOrderNotPayable)
	requireCode(t, b.svc.CancelOrder(ctx, p, res.OrderID), compute.CodeOrderNotCancel)
	b.requireUnchanged(t, p, before)
}

// prePaidServer inserts a stopped yearly/monthly server of flavor whose
// order ends in 15 days.
func (b *testBundle) prePaidServer(t *testing.T, p, flavor string) *ecs.Server {
	t.Helper()
	orderID := "CS250301120000" + compute.NewJobID()[:5]
	srv := b.mustInsertServer(t, p, func(s *ecs.Server) {
		s.ChargingMode, s.OrderID, s.FlavorID = ecs.ChargingPrePaid, orderID, flavor
	})
	b.inTx(t, func(tx *sql.Tx) error {
		return b.db.InsertOrder(t.Context(), tx, &ecs.Order{
			ID: orderID, ProjectID: p, Type: ecs.OrderTypeNew, Status: ecs.OrderCompleted, Amount: 1, Currency: "CNY",
			FlavorID: flavor, PeriodType: ecs.PeriodMonth, PeriodNum: 1, PeriodEnd: clockStart.Add(15 * 24 * time.Hour),
			ServerIDs: []string{srv.ID}, Created: clockStart, Paid: clockStart,
		})
	})
	return srv
}

func TestResizePrePaid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)

	t.Run("upgrade waits for payment", func(t *testing.T) {
		srv := b.prePaidServer(t, p, "s6.small.1")
		req := &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2", APIVersion: "v1.1"}
		dry := *req
		dry.DryRun = true
		if res, err := b.svc.ResizeServerOrder(ctx, &dry); err != nil || res.JobID != "" || res.OrderID != "" {
			t.Fatalf("dry run: %+v, %v", res, err)
		}
		res, err := b.svc.ResizeServerOrder(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		o, err := b.svc.FindOrder(ctx, p, res.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		// (262.08 − 50.40) × 15/30 days.
		if o.Status != ecs.OrderPendingPayment || o.Type != ecs.OrderTypeChange || o.Amount != 105.84 || o.JobID != res.JobID {
			t.Errorf("order %+v, want pending change of 105.84 for job %s", o, res.JobID)
		}
		if j := b.job(t, res.JobID); j.Status != ecs.JobPendingPayment {
			t.Errorf("job %s, want PENDING_PAYMENT", j.Status)
		}
		if s := b.server(t, srv.ID); !s.Busy() || s.ResizeFlavorID != "s6.xlarge.2" {
			t.Errorf("server task %q reserving %q, want busy reserving s6.xlarge.2", s.TaskState, s.ResizeFlavorID)
		}
		_, err = b.svc.ResizeServerOrder(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.large.2", APIVersion: "v1.1"})
		requireCode(t, err, ecs.CodeBusy)
		if err := b.svc.PayOrder(ctx, p, res.OrderID); err != nil {
			t.Fatal(err)
		}
		if j := b.job(t, res.JobID); j.Status != ecs.JobInit {
			t.Errorf("job after payment %s, want INIT", j.Status)
		}
		if !containsJob(b.queue.Jobs(p), res.JobID) {
			t.Errorf("job %s not enqueued after payment", res.JobID)
		}
	})

	t.Run("cancelled upgrade releases the server", func(t *testing.T) {
		srv := b.prePaidServer(t, p, "s6.small.1")
		res, err := b.svc.ResizeServerOrder(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2", APIVersion: "v1.1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.svc.CancelOrder(ctx, p, res.OrderID); err != nil {
			t.Fatal(err)
		}
		if j := b.job(t, res.JobID); j.Status != ecs.JobFail || j.ErrorCode != ecs.CodeOrderCancelled {
			t.Errorf("job %s %s, want FAIL %s", j.Status, j.ErrorCode, ecs.CodeOrderCancelled)
		}
		if s := b.server(t, srv.ID); s.Busy() || s.ResizeFlavorID != "" || s.FlavorID != "s6.small.1" {
			t.Errorf("server %+v, want idle on s6.small.1", s)
		}
		if containsJob(b.queue.Jobs(p), res.JobID) {
			t.Errorf("job %s enqueued", res.JobID)
		}
	})

	t.Run("auto-paid upgrade runs at once", func(t *testing.T) {
		srv := b.prePaidServer(t, p, "s6.large.2")
		res, err := b.svc.ResizeServerOrder(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2", APIVersion: "v1.1", AutoPay: true})
		if err != nil {
			t.Fatal(err)
		}
		o, _ := b.svc.FindOrder(ctx, p, res.OrderID)
		// (262.08 − 131.04) / 2.
		if o.Status != ecs.OrderCompleted || o.Amount != 65.52 {
			t.Errorf("order %+v, want completed 65.52", o)
		}
		if !containsJob(b.queue.Jobs(p), res.JobID) {
			t.Errorf("job %s not enqueued", res.JobID)
		}
	})

	t.Run("downgrade is a refund, completed at once", func(t *testing.T) {
		srv := b.prePaidServer(t, p, "s6.xlarge.2")
		res, err := b.svc.ResizeServerOrder(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.small.1", APIVersion: "v1.1"})
		if err != nil {
			t.Fatal(err)
		}
		o, _ := b.svc.FindOrder(ctx, p, res.OrderID)
		if o.Status != ecs.OrderCompleted || o.Amount != -105.84 {
			t.Errorf("order %+v, want completed refund of -105.84", o)
		}
		if !containsJob(b.queue.Jobs(p), res.JobID) {
			t.Errorf("job %s not enqueued", res.JobID)
		}
		requireCode(t, b.svc.PayOrder(ctx, p, res.OrderID), compute.CodeOrderNotPayable)
	})

	t.Run("v1 still refuses yearly/monthly", func(t *testing.T) {
		srv := b.prePaidServer(t, p, "s6.medium.2")
		_, err := b.svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.xlarge.2", APIVersion: "v1"})
		requireCode(t, err, ecs.CodeChargingNotAllowed)
	})
}

func TestChangeChargeMode(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, _ := setupBilling(t)
	p := b.newProject(t, ecs.DefaultQuota)
	srv := b.mustInsertServer(t, p, nil)
	req := &ecs.ChangeChargeModeRequest{ProjectID: p, ServerIDs: []string{srv.ID}, ChargeMode: "prePaid", PeriodType: ecs.PeriodMonth, PeriodNum: 2}
	id, err := b.svc.ChangeChargeMode(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := b.svc.FindOrder(ctx, p, id)
	if o.Status != ecs.OrderPendingPayment || o.Type != ecs.OrderTypeToPrePaid || o.Amount != 100.8 {
		t.Errorf("order %+v, want pending type 11 of 100.80", o)
	}
	if s := b.server(t, srv.ID); s.ChargingMode != ecs.ChargingPostPaid {
		t.Errorf("charging mode before payment %q", s.ChargingMode)
	}
	_, err = b.svc.ChangeChargeMode(ctx, req)
	requireCode(t, err, ecs.CodeBusy)
	if err := b.svc.PayOrder(ctx, p, id); err != nil {
		t.Fatal(err)
	}
	if s := b.server(t, srv.ID); s.ChargingMode != ecs.ChargingPrePaid || s.OrderID != id {
		t.Errorf("server charging %q order %q, want yearly/monthly on %s", s.ChargingMode, s.OrderID, id)
	}
	_, err = b.svc.ChangeChargeMode(ctx, req)
	requireCode(t, err, ecs.CodeChargingNotAllowed)

	auto := b.mustInsertServer(t, p, nil)
	id2, err := b.svc.ChangeChargeMode(ctx, &ecs.ChangeChargeModeRequest{ProjectID: p, ServerIDs: []string{auto.ID},
		ChargeMode: "prePaid", PeriodType: ecs.PeriodYear, PeriodNum: 1, AutoPay: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := b.server(t, auto.ID); s.ChargingMode != ecs.ChargingPrePaid || s.OrderID != id2 {
		t.Errorf("auto-paid: server charging %q order %q", s.ChargingMode, s.OrderID)
	}
	_, err = b.svc.ChangeChargeMode(ctx, &ecs.ChangeChargeModeRequest{ProjectID: p, ServerIDs: []string{srv.ID}, ChargeMode: "prePaid", PeriodType: "week", PeriodNum: 1})
	requireCode(t, err, ecs.CodeBadRequest)
}

func containsJob(jobs []*ecs.Job, id string) bool {
	for _, j := range jobs {
		if j.ID == id {
			return true
		}
	}
	return false
}
