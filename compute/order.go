package compute

import (
	"context"
	"crypto/rand"
	"database/sql"
	"math"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// OrderStore is the persistence of orders. Its methods run in the caller's
// transaction.
type OrderStore interface {
	InsertOrder(ctx context.Context, tx *sql.Tx, o *ecs.Order) error
	UpdateOrder(ctx context.Context, tx *sql.Tx, o *ecs.Order) error
	// OrderByID returns nil and no error when the project has no such order.
	OrderByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Order, error)
	PendingOrdersOfServer(ctx context.Context, tx *sql.Tx, projectID, serverID string) ([]*ecs.Order, error)
	FinishActions(ctx context.Context, tx *sql.Tx, jobID, result, code, message string, at time.Time) error
}

// Pricer is the price list: the illustrative hourly and monthly prices of a
// flavor in CNY (catalog.Catalog.Price).
type Pricer interface {
	Price(flavorID string) (hourly, monthly float64, ok bool)
}

// BSS error codes ecsd answers order operations with (docs/compatibility.md).
const (
	CodeOrderBadRequest = "CBC.0100"     // invalid parameter
	CodeOrderNotFound   = "CBC.30000010" // no such order in the caller's account
	CodeOrderNotPayable = "CBC.30000067" // the order's status does not allow payment
	CodeOrderNotCancel  = "CBC.30000068" // the order's status does not allow cancellation
)

// OrderCurrency is the currency of every order.
const OrderCurrency = "CNY"

// monthDuration is the length of the month the resize difference is
// prorated over.
const monthDuration = 30 * 24 * time.Hour

var _ ecs.OrderService = (*Service)(nil)

func (s *Service) orders() OrderStore { return s.Store }

func (s *Service) monthlyPrice(flavorID string) (float64, error) {
	p, ok := s.Catalog.(Pricer)
	if !ok {
		return 0, ecs.Errorf(ecs.CodeInternal, "The price list is not available.")
	}
	_, monthly, ok := p.Price(flavorID)
	if !ok {
		return 0, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s has no price.", flavorID)
	}
	return monthly, nil
}

// PeriodEnd returns when a subscription of num periods of typ bought at
// start ends.
func PeriodEnd(start time.Time, typ string, num int) time.Time {
	if typ == ecs.PeriodYear {
		return start.AddDate(num, 0, 0)
	}
	return start.AddDate(0, num, 0)
}

// PeriodAmount is what num periods of typ cost at a monthly price: a year
// is charged ten months.
func PeriodAmount(monthly float64, typ string, num int) float64 {
	months := float64(num)
	if typ == ecs.PeriodYear {
		months = 10 * float64(num)
	}
	return cents(monthly * months)
}

// ResizeAmount is the price difference of a change from a flavor of monthly
// price from to one of price to, prorated over the time left until end
// (30-day months): positive for an upgrade, negative (a refund) for a
// downgrade, zero once the period has ended.
func ResizeAmount(from, to float64, now, end time.Time) float64 {
	left := end.Sub(now)
	if left <= 0 {
		return 0
	}
	return cents((to - from) * float64(left) / float64(monthDuration))
}

func cents(x float64) float64 { return math.Round(x*100) / 100 }

const orderIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newOrderID returns an order ID as BSS forms them: "CS", the time as
// yymmddhhmmss, and five random upper-case letters or digits.
func newOrderID(now time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	out := []byte("CS" + now.UTC().Format("060102150405"))
	for _, c := range b {
		out = append(out, orderIDAlphabet[int(c)%len(orderIDAlphabet)])
	}
	return string(out)
}

func orderNotFound(id string) error {
	return &ecs.Error{Code: CodeOrderNotFound, Status: 404, Message: "The order " + id + " does not exist."}
}

// insertHeldBatch is insertBatch for a job whose order awaits payment: the
// parent job is PENDING_PAYMENT and its sub-jobs (with params[i], if
// params is not nil) wait in INIT, not enqueued.
func (s *Service) insertHeldBatch(ctx context.Context, tx *sql.Tx, projectID, typ, subType string, servers []string, params []any) (*ecs.Job, error) {
	now := s.now()
	parent := newJob(projectID, "", typ, "", nil, now)
	parent.Status = ecs.JobPendingPayment
	if err := s.Store.InsertJob(ctx, tx, parent); err != nil {
		return nil, err
	}
	for i, id := range servers {
		var p any
		if params != nil {
			p = params[i]
		}
		sub := newJob(projectID, parent.ID, subType, id, p, now)
		if err := s.Store.InsertJob(ctx, tx, sub); err != nil {
			return nil, err
		}
		if err := s.recordAction(ctx, tx, sub); err != nil {
			return nil, err
		}
		parent.SubJobs = append(parent.SubJobs, sub)
	}
	return parent, nil
}

// newPurchaseOrder stores the order of a yearly/monthly create.
func (s *Service) newPurchaseOrder(ctx context.Context, tx *sql.Tx, req *ecs.CreateServersRequest, count int) (*ecs.Order, error) {
	monthly, err := s.monthlyPrice(req.FlavorID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	o := &ecs.Order{
		ID: newOrderID(now), ProjectID: req.ProjectID, Type: ecs.OrderTypeNew, Status: ecs.OrderPendingPayment,
		Amount: cents(PeriodAmount(monthly, req.PeriodType, req.PeriodNum) * float64(count)), Currency: OrderCurrency,
		FlavorID: req.FlavorID, PeriodType: req.PeriodType, PeriodNum: req.PeriodNum,
		PeriodEnd: PeriodEnd(now, req.PeriodType, req.PeriodNum), Created: now,
	}
	if req.AutoPay {
		o.Status, o.Paid = ecs.OrderCompleted, now
	}
	return o, nil
}

// serverPeriodEnd returns when the subscription of a yearly/monthly server
// ends: the period end of its order, or 30 days from now when ecsd has no
// order for it (e.g. a server of a seed document).
func (s *Service) serverPeriodEnd(ctx context.Context, tx *sql.Tx, srv *ecs.Server) (time.Time, error) {
	if srv.OrderID != "" {
		o, err := s.orders().OrderByID(ctx, tx, srv.ProjectID, srv.OrderID)
		if err != nil {
			return time.Time{}, err
		}
		if o != nil && !o.PeriodEnd.IsZero() {
			return o.PeriodEnd, nil
		}
	}
	return s.now().Add(monthDuration), nil
}

// resizeOrder prices the resize of a yearly/monthly server from cur to
// next. An upgrade is pending payment unless autoPay; a downgrade (a
// refund) or a change of no cost is completed at once.
func (s *Service) resizeOrder(ctx context.Context, tx *sql.Tx, srv *ecs.Server, cur, next string, autoPay bool) (*ecs.Order, error) {
	return s.changeOrder(ctx, tx, []*ecs.Server{srv}, cur, next, autoPay)
}

// changeOrder prices the resize of yearly/monthly servers (all of flavor
// cur) to next: one type-3 order for the sum of each server's prorated
// difference (ResizeAmount over the rest of its own period), whose period
// end is the latest of theirs. An upgrade is pending payment unless
// autoPay; a downgrade (a refund) or a change of no cost is completed at
// once.
func (s *Service) changeOrder(ctx context.Context, tx *sql.Tx, servers []*ecs.Server, cur, next string, autoPay bool) (*ecs.Order, error) {
	from, err := s.monthlyPrice(cur)
	if err != nil {
		return nil, err
	}
	to, err := s.monthlyPrice(next)
	if err != nil {
		return nil, err
	}
	now := s.now()
	o := &ecs.Order{
		ID: newOrderID(now), ProjectID: servers[0].ProjectID, Type: ecs.OrderTypeChange, Status: ecs.OrderPendingPayment,
		Currency: OrderCurrency, FlavorID: next, Created: now,
	}
	total := 0.0
	for _, srv := range servers {
		end, err := s.serverPeriodEnd(ctx, tx, srv)
		if err != nil {
			return nil, err
		}
		total += ResizeAmount(from, to, now, end)
		if end.After(o.PeriodEnd) {
			o.PeriodEnd = end
		}
		o.ServerIDs = append(o.ServerIDs, srv.ID)
	}
	o.Amount = cents(total)
	if autoPay || o.Amount <= 0 {
		o.Status, o.Paid = ecs.OrderCompleted, now
	}
	return o, nil
}

// checkNoPendingOrder refuses (Ecs.0603, 409) a yearly/monthly server that
// has an order awaiting payment.
func (s *Service) checkNoPendingOrder(ctx context.Context, tx *sql.Tx, srv *ecs.Server) error {
	pending, err := s.orders().PendingOrdersOfServer(ctx, tx, srv.ProjectID, srv.ID)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return &ecs.Error{Code: ecs.CodeBusy, Status: 409, Message: "Instance[" + srv.ID +
			"] has the order " + pending[0].ID + " pending payment; pay or cancel it first."}
	}
	return nil
}

// FindOrder implements ecs.OrderService.
func (s *Service) FindOrder(ctx context.Context, projectID, orderID string) (*ecs.Order, error) {
	var o *ecs.Order
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = s.orders().OrderByID(ctx, tx, projectID, orderID)
		if err == nil && o == nil {
			err = orderNotFound(orderID)
		}
		return err
	})
	return o, err
}

// PayOrder implements ecs.OrderService. A completed order (paid twice) and
// a cancelled one are refused with CodeOrderNotPayable and nothing changes.
// Paying releases the order's job in the same transaction: a create's
// sub-jobs are enqueued (the job turns RUNNING), a resize job is enqueued
// (it turns INIT, then RUNNING), and a charge-mode change turns its servers
// yearly/monthly.
func (s *Service) PayOrder(ctx context.Context, projectID, orderID string) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, err := s.pendingOrder(ctx, tx, projectID, orderID, CodeOrderNotPayable,
			"has already been paid", "has been cancelled and cannot be paid")
		if err != nil {
			return err
		}
		o.Status, o.Paid = ecs.OrderCompleted, s.now()
		if err := s.orders().UpdateOrder(ctx, tx, o); err != nil {
			return err
		}
		switch o.Type {
		case ecs.OrderTypeToPrePaid:
			return s.applyPrePaid(ctx, tx, o)
		case ecs.OrderTypeNew, ecs.OrderTypeChange:
			return s.releaseJob(ctx, tx, o)
		}
		return nil
	})
}

// pendingOrder loads an order of the project that awaits payment. An
// unknown order is not found; a completed or cancelled one is refused with
// code and the matching message (completedMsg, cancelledMsg), as is any
// other order not pending payment.
func (s *Service) pendingOrder(ctx context.Context, tx *sql.Tx, projectID, orderID, code, completedMsg, cancelledMsg string) (*ecs.Order, error) {
	o, err := s.orders().OrderByID(ctx, tx, projectID, orderID)
	switch {
	case err != nil:
		return nil, err
	case o == nil:
		return nil, orderNotFound(orderID)
	case o.Status == ecs.OrderCompleted:
		return nil, ecs.Errorf(code, "The order %s %s.", orderID, completedMsg)
	case o.Status == ecs.OrderCancelled:
		return nil, ecs.Errorf(code, "The order %s %s.", orderID, cancelledMsg)
	case o.Status != ecs.OrderPendingPayment:
		return nil, ecs.Errorf(code, "The order %s is not pending payment.", orderID)
	}
	return o, nil
}

// releaseJob starts the job an order held back.
func (s *Service) releaseJob(ctx context.Context, tx *sql.Tx, o *ecs.Order) error {
	if o.JobID == "" {
		return nil
	}
	job, err := s.Store.JobByID(ctx, tx, o.ProjectID, o.JobID)
	if err != nil {
		return err
	}
	if job.Status != ecs.JobPendingPayment {
		return nil
	}
	if len(job.SubJobs) > 0 {
		job.Status = ecs.JobRunning
		if err := s.Store.UpdateJob(ctx, tx, job); err != nil {
			return err
		}
		return s.Queue.Enqueue(ctx, tx, job.SubJobs...)
	}
	job.Status = ecs.JobInit
	if err := s.Store.UpdateJob(ctx, tx, job); err != nil {
		return err
	}
	return s.Queue.Enqueue(ctx, tx, job)
}

// CancelOrder implements ecs.OrderService. A paid order is refused with
// CodeOrderNotCancel, as is one already cancelled, and nothing changes.
// Cancelling fails the held job with CodeOrderCancelled and releases what
// the order reserved: the servers of a create are deleted, a resize's
// target flavor and host are given back and the server's task cleared.
func (s *Service) CancelOrder(ctx context.Context, projectID, orderID string) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		o, err := s.pendingOrder(ctx, tx, projectID, orderID, CodeOrderNotCancel,
			"has been paid and cannot be cancelled", "has already been cancelled")
		if err != nil {
			return err
		}
		now := s.now()
		o.Status, o.Cancelled = ecs.OrderCancelled, now
		if err := s.orders().UpdateOrder(ctx, tx, o); err != nil {
			return err
		}
		if o.JobID == "" {
			return nil
		}
		job, err := s.Store.JobByID(ctx, tx, o.ProjectID, o.JobID)
		if err != nil {
			return err
		}
		if job.Status != ecs.JobPendingPayment {
			return nil
		}
		reason := "The order " + o.ID + " was cancelled before it was paid."
		jobs := job.SubJobs
		if len(jobs) == 0 {
			jobs = []*ecs.Job{job}
		}
		for _, j := range jobs {
			if err := s.releaseServer(ctx, tx, o, j.ServerID, now); err != nil {
				return err
			}
			if j != job {
				if err := s.failJob(ctx, tx, j, reason, now); err != nil {
					return err
				}
			}
		}
		return s.failJob(ctx, tx, job, reason, now)
	})
}

// releaseServer gives back what a cancelled order reserved on a server.
func (s *Service) releaseServer(ctx context.Context, tx *sql.Tx, o *ecs.Order, serverID string, now time.Time) error {
	switch o.Type {
	case ecs.OrderTypeNew:
		return s.Store.MarkServerDeleted(ctx, tx, serverID, now)
	case ecs.OrderTypeChange:
		srv, err := s.Store.ServerByID(ctx, tx, o.ProjectID, serverID)
		if err != nil {
			return err
		}
		srv.TaskState, srv.ResizeFlavorID, srv.ResizeHostID, srv.Updated = ecs.TaskNone, "", "", now
		return s.Store.UpdateServer(ctx, tx, srv)
	}
	return nil
}

func (s *Service) failJob(ctx context.Context, tx *sql.Tx, j *ecs.Job, reason string, now time.Time) error {
	j.Status, j.ErrorCode, j.FailReason, j.EndTime = ecs.JobFail, ecs.CodeOrderCancelled, reason, now
	if err := s.Store.UpdateJob(ctx, tx, j); err != nil {
		return err
	}
	if j.ServerID == "" {
		return nil
	}
	return s.orders().FinishActions(ctx, tx, j.ID, ecs.JobFail, j.ErrorCode, reason, now)
}

// ResizeServerOrder implements ecs.OrderService.
func (s *Service) ResizeServerOrder(ctx context.Context, req *ecs.ResizeRequest) (*ecs.ResizeResult, error) {
	return s.resizeServer(ctx, req)
}

// ChangeChargeMode implements ecs.OrderService. Every server must exist, be
// pay-per-use, idle, ACTIVE or SHUTOFF and have no order pending; otherwise
// nothing changes. The order (type 11) costs the yearly/monthly price of
// each server's flavor for the period; with AutoPay it is completed and
// the servers turn yearly/monthly at once, otherwise when it is paid.
func (s *Service) ChangeChargeMode(ctx context.Context, req *ecs.ChangeChargeModeRequest) (string, error) {
	if err := validateChangeChargeMode(req); err != nil {
		return "", err
	}
	var orderID string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		total := 0.0
		var flavor string
		for _, id := range req.ServerIDs {
			srv, err := s.Store.ServerByID(ctx, tx, req.ProjectID, id)
			if err != nil {
				return err
			}
			switch srv.ChargingMode {
			case ecs.ChargingPrePaid:
				return ecs.Errorf(ecs.CodeChargingNotAllowed, "Instance[%s] is already billed yearly/monthly.", srv.ID)
			case ecs.ChargingSpot:
				return ecs.Errorf(ecs.CodeChargingNotAllowed, "Instance[%s] is a spot server; its billing mode cannot be changed.", srv.ID)
			}
			if srv.Busy() {
				return busyError(srv)
			}
			if st := srv.Status(); st != ecs.StatusActive && st != ecs.StatusShutoff {
				return ecs.Errorf(ecs.CodeStateConflict, "Instance[%s] in status %s cannot change its billing mode.", srv.ID, st)
			}
			if err := s.checkNoPendingOrder(ctx, tx, srv); err != nil {
				return err
			}
			monthly, err := s.monthlyPrice(srv.FlavorID)
			if err != nil {
				return err
			}
			total += PeriodAmount(monthly, req.PeriodType, req.PeriodNum)
			if flavor == "" {
				flavor = srv.FlavorID
			}
		}
		if req.DryRun {
			return nil
		}
		now := s.now()
		o := &ecs.Order{
			ID: newOrderID(now), ProjectID: req.ProjectID, Type: ecs.OrderTypeToPrePaid, Status: ecs.OrderPendingPayment,
			Amount: cents(total), Currency: OrderCurrency, FlavorID: flavor, PeriodType: req.PeriodType,
			PeriodNum: req.PeriodNum, PeriodEnd: PeriodEnd(now, req.PeriodType, req.PeriodNum),
			ServerIDs: req.ServerIDs, Created: now,
		}
		if req.AutoPay {
			o.Status, o.Paid = ecs.OrderCompleted, now
		}
		if err := s.orders().InsertOrder(ctx, tx, o); err != nil {
			return err
		}
		orderID = o.ID
		if req.AutoPay {
			return s.applyPrePaid(ctx, tx, o)
		}
		return nil
	})
	return orderID, err
}

func validateChangeChargeMode(req *ecs.ChangeChargeModeRequest) error {
	switch {
	case len(req.ServerIDs) == 0:
		return ecs.Errorf(ecs.CodeBadRequest, "server_ids must name at least one server.")
	case len(req.ServerIDs) > 100:
		return ecs.Errorf(ecs.CodeBadRequest, "server_ids may name at most 100 servers.")
	case req.ChargeMode != "prePaid":
		return ecs.Errorf(ecs.CodeBadRequest, "charge_mode must be \"prePaid\", got %q.", req.ChargeMode)
	case req.PeriodType != ecs.PeriodMonth && req.PeriodType != ecs.PeriodYear:
		return ecs.Errorf(ecs.CodeBadRequest, "prepaid_options.period_type must be \"month\" or \"year\", got %q.", req.PeriodType)
	case req.PeriodType == ecs.PeriodMonth && (req.PeriodNum < 1 || req.PeriodNum > 9):
		return ecs.Errorf(ecs.CodeBadRequest, "prepaid_options.period_num must be between 1 and 9 for period_type month.")
	case req.PeriodType == ecs.PeriodYear && (req.PeriodNum < 1 || req.PeriodNum > 3):
		return ecs.Errorf(ecs.CodeBadRequest, "prepaid_options.period_num must be between 1 and 3 for period_type year.")
	}
	seen := map[string]bool{}
	for _, id := range req.ServerIDs {
		if seen[id] {
			return ecs.Errorf(ecs.CodeBadRequest, "server_ids names %s twice.", id)
		}
		seen[id] = true
	}
	return nil
}

// applyPrePaid turns the servers of a completed charge-mode order
// yearly/monthly, with the order as metering.order_id.
func (s *Service) applyPrePaid(ctx context.Context, tx *sql.Tx, o *ecs.Order) error {
	for _, id := range o.ServerIDs {
		srv, err := s.Store.ServerByID(ctx, tx, o.ProjectID, id)
		if ecs.ErrorCode(err) == ecs.CodeServerNotFound {
			continue // deleted while the order was pending
		}
		if err != nil {
			return err
		}
		srv.ChargingMode, srv.OrderID, srv.Updated = ecs.ChargingPrePaid, o.ID, s.now()
		if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
			return err
		}
	}
	return nil
}
