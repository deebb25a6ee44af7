package ecs

import (
	"context"
	"time"
)

// JobPendingPayment is the status of a yearly/monthly create or resize job
// whose order awaits payment (reference §D). Its work starts when the order
// is paid; a cancelled order ends it FAIL with CodeOrderCancelled.
const JobPendingPayment = "PENDING_PAYMENT"

// Order statuses, as BSS's CustomerOrderV3.status numbers them.
const (
	OrderPendingApproval = 1
	OrderPendingRefund   = 2
	OrderProcessing      = 3
	OrderCancelled       = 4
	OrderCompleted       = 5
	OrderPendingPayment  = 6
)

// Order types, as BSS's CustomerOrderV3.order_type numbers them.
const (
	OrderTypeNew       = 1  // a purchase (yearly/monthly create)
	OrderTypeChange    = 3  // a change of specifications: upgrade or (refund) downgrade
	OrderTypeToPrePaid = 11 // pay-per-use to yearly/monthly
)

// Periods of a yearly/monthly subscription.
const (
	PeriodMonth = "month"
	PeriodYear  = "year"
)

// CodeOrderCancelled is the error_code of a job whose order was cancelled
// before it was paid (ecsd's choice, docs/compatibility.md).
const CodeOrderCancelled = "Ecs.0637"

// Order is a BSS customer order behind a yearly/monthly purchase, a resize
// of a yearly/monthly server, or a change from pay-per-use to
// yearly/monthly. Amount is negative for a refund (a downgrade).
type Order struct {
	ID        string
	ProjectID string
	Type      int // OrderTypeXxx
	Status    int // OrderXxx
	Amount    float64
	Currency  string
	FlavorID  string // the flavor bought (the target flavor of a resize)
	// PeriodType and PeriodNum are the subscription bought (new purchases
	// and charge-mode changes); PeriodEnd is when it ends, also for a
	// change order (the end of the period the change applies to).
	PeriodType string
	PeriodNum  int
	PeriodEnd  time.Time
	ServerIDs  []string
	JobID      string // the job the payment releases, "" if none
	Created    time.Time
	Paid       time.Time // zero until paid (or, for a refund, completed)
	Cancelled  time.Time // zero unless cancelled
}

// ChangeChargeModeRequest turns pay-per-use servers into yearly/monthly
// ones (POST /v1/{project_id}/cloudservers/actions/change-charge-mode).
type ChangeChargeModeRequest struct {
	ProjectID  string
	ServerIDs  []string
	ChargeMode string // "prePaid", the only target mode
	PeriodType string // PeriodMonth or PeriodYear
	PeriodNum  int
	AutoPay    bool
	AutoRenew  bool
	DryRun     bool
}

// ResizeResult is what a v1.1 resize returns: the job, and the order of a
// yearly/monthly server ("" for pay-per-use).
type ResizeResult struct {
	JobID   string
	OrderID string
}

// OrderService manages the orders of yearly/monthly servers. An order of
// another project is not found.
type OrderService interface {
	// FindOrder returns an order of the project.
	FindOrder(ctx context.Context, projectID, orderID string) (*Order, error)
	// PayOrder pays a pending order and starts the job it holds back.
	PayOrder(ctx context.Context, projectID, orderID string) error
	// CancelOrder cancels a pending order: its job fails and what it
	// reserved (servers being created, a resize target) is released.
	CancelOrder(ctx context.Context, projectID, orderID string) error
	// ResizeServerOrder is ServerService.ResizeServer that also returns
	// the order of a yearly/monthly server.
	ResizeServerOrder(ctx context.Context, req *ResizeRequest) (*ResizeResult, error)
	// ChangeChargeMode turns pay-per-use servers into yearly/monthly ones
	// through an order; it returns the order ID ("" for a dry run).
	ChangeChargeMode(ctx context.Context, req *ChangeChargeModeRequest) (string, error)
}
