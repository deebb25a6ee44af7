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

// OrderTypeUnsubscribe is the BSS order_type of an unsubscription (the
// refund of a yearly/monthly server's remaining period).
const OrderTypeUnsubscribe = 4

// Subscription statuses, as BSS's OrderInstanceV2.status numbers them.
const (
	SubscriptionInitializing = 1 // the server is being created
	SubscriptionInUse        = 2
)

// Subscription is a yearly/monthly server as BSS lists it: a subscribed
// resource.
type Subscription struct {
	ServerID   string
	ServerName string
	ProjectID  string
	FlavorID   string
	OrderID    string // the purchase order
	Status     int    // SubscriptionXxx
	Effective  time.Time
	Expires    time.Time
	Updated    time.Time
}

// SubscriptionFilter selects a project's subscriptions (BSS
// ListPayPerUseCustomerResources). Empty fields select all.
type SubscriptionFilter struct {
	ProjectID   string
	OrderID     string
	ResourceIDs []string
	Statuses    []int
	Offset      int
	Limit       int // 0 = no limit
}

// UnsubscribeResult is what unsubscribing servers returns: the refund
// order and the job that deletes the servers.
type UnsubscribeResult struct {
	OrderID string
	JobID   string
}

// SubscriptionService lists and ends the subscriptions of yearly/monthly
// servers.
type SubscriptionService interface {
	// FindSubscriptions returns the project's yearly/monthly servers that
	// match f, a page of them, and how many match in all.
	FindSubscriptions(ctx context.Context, f SubscriptionFilter) ([]*Subscription, int, error)
	// Unsubscribe ends the subscription of yearly/monthly servers: a
	// completed refund order, and the servers are deleted as DeleteServers
	// deletes them (with their volumes). A server that is unknown, not
	// yearly/monthly, busy or with an order pending payment refuses the
	// whole request.
	Unsubscribe(ctx context.Context, projectID string, serverIDs []string) (*UnsubscribeResult, error)
}
