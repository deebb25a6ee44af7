package httpapi

import (
	"fmt"
	"strconv"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// changeChargeModeWire is SDK ChangeServerChargeModeRequestBody.
type changeChargeModeWire struct {
	ServerIDs      []string               `json:"server_ids"`
	ChargeMode     *string                `json:"charge_mode"`
	PrepaidOptions *chargeModePrepaidWire `json:"prepaid_options"`
	DryRun         *bool                  `json:"dry_run"`
}

// chargeModePrepaidWire is SDK ChangeServerChargeModePrepaidOption:
// period_num is a string, auto_pay and auto_renew booleans.
type chargeModePrepaidWire struct {
	IncludeDataDisks *bool   `json:"include_data_disks"`
	IncludePublicIPs *bool   `json:"include_publicips"`
	PeriodType       *string `json:"period_type"`
	PeriodNum        *string `json:"period_num"`
	AutoPay          *bool   `json:"auto_pay"`
	AutoRenew        *bool   `json:"auto_renew"`
}

// decodeChangeChargeMode reads a change-charge-mode body. Shapes are
// checked here; ranges (period_num, server count) by the service.
func decodeChangeChargeMode(body []byte, projectID string) (*ecs.ChangeChargeModeRequest, error) {
	var w changeChargeModeWire
	if err := decodeBody(body, &w); err != nil {
		return nil, err
	}
	req := &ecs.ChangeChargeModeRequest{ProjectID: projectID}
	if w.ServerIDs == nil {
		return nil, missingField("server_ids")
	}
	for i, id := range w.ServerIDs {
		if _, err := requireID(fmt.Sprintf("server_ids[%d]", i), id); err != nil {
			return nil, err
		}
	}
	req.ServerIDs = w.ServerIDs
	if w.ChargeMode == nil {
		return nil, missingField("charge_mode")
	}
	if *w.ChargeMode != "prePaid" {
		return nil, invalidField("charge_mode", fmt.Sprintf(`must be "prePaid", got %q`, *w.ChargeMode))
	}
	req.ChargeMode = *w.ChargeMode
	p := w.PrepaidOptions
	if p == nil {
		return nil, missingField("prepaid_options")
	}
	if p.PeriodType == nil {
		return nil, missingField("prepaid_options.period_type")
	}
	if *p.PeriodType != ecs.PeriodMonth && *p.PeriodType != ecs.PeriodYear {
		return nil, invalidField("prepaid_options.period_type", fmt.Sprintf(`must be "month" or "year", got %q`, *p.PeriodType))
	}
	req.PeriodType = *p.PeriodType
	if p.PeriodNum == nil {
		return nil, missingField("prepaid_options.period_num")
	}
	n, err := strconv.Atoi(*p.PeriodNum)
	maxPeriod := 9
	if req.PeriodType == ecs.PeriodYear {
		maxPeriod = 3
	}
	if err != nil || n < 1 || n > maxPeriod {
		return nil, invalidField("prepaid_options.period_num",
			fmt.Sprintf("must be a string holding an integer between 1 and %d for period_type %q, got %q", maxPeriod, req.PeriodType, *p.PeriodNum))
	}
	req.PeriodNum = n
	req.AutoPay = p.AutoPay != nil && *p.AutoPay
	req.AutoRenew = p.AutoRenew != nil && *p.AutoRenew
	req.DryRun = w.DryRun != nil && *w.DryRun
	return req, nil
}

// orderIDResult is SDK ChangeServerChargeModeResponse.
type orderIDResult struct {
	OrderID string `json:"order_id"`
}

// payOrderWire is SDK PayCustomerOrderV3Req.
type payOrderWire struct {
	OrderID     *string `json:"order_id"`
	UseCoupon   *string `json:"use_coupon"`
	UseDiscount *string `json:"use_discount"`
}

// cancelOrderWire is SDK CancelCustomerOrderReq.
type cancelOrderWire struct {
	OrderID *string `json:"order_id"`
}

// BSS constants of ECS orders.
const (
	bssServiceTypeCode  = "hws.service.type.ec2"
	bssServiceTypeName  = "Elastic Cloud Server"
	bssResourceTypeCode = "hws.resource.type.vm"
	bssTimeFormat       = "2006-01-02T15:04:05Z"
	// bssPaymentWindow is how long an order may stay unpaid
	// (pending_payment_end_time); ecsd does not expire orders itself.
	bssPaymentWindow = 15 * 24 * time.Hour
)

// orderDetails is SDK ShowCustomerOrderDetailsResponse.
type orderDetails struct {
	TotalCount     int             `json:"total_count"`
	OrderInfo      orderInfo       `json:"order_info"`
	OrderLineItems []orderLineItem `json:"order_line_items"`
}

// orderInfo is SDK CustomerOrderV3.
type orderInfo struct {
	OrderID               string  `json:"order_id"`
	CustomerID            string  `json:"customer_id"`
	ServiceTypeCode       string  `json:"service_type_code"`
	ServiceTypeName       string  `json:"service_type_name"`
	SourceType            int     `json:"source_type"`
	Status                int     `json:"status"`
	OrderType             int     `json:"order_type"`
	AmountAfterDiscount   float64 `json:"amount_after_discount"`
	OfficialAmount        float64 `json:"official_amount"`
	MeasureID             int     `json:"measure_id"`
	CreateTime            string  `json:"create_time"`
	PaymentTime           *string `json:"payment_time"`
	Currency              string  `json:"currency"`
	UserName              string  `json:"user_name"`
	PendingPaymentEndTime *string `json:"pending_payment_end_time,omitempty"`
}

// orderLineItem is SDK OrderLineItemEntityV2.
type orderLineItem struct {
	OrderLineItemID     string  `json:"order_line_item_id"`
	ServiceTypeCode     string  `json:"service_type_code"`
	ServiceTypeName     string  `json:"service_type_name"`
	ProductID           string  `json:"product_id"`
	ProductSpecDesc     string  `json:"product_spec_desc"`
	PeriodType          *int    `json:"period_type"`
	PeriodNum           *int    `json:"period_num"`
	EffectiveTime       string  `json:"effective_time"`
	ExpireTime          string  `json:"expire_time"`
	SubscriptionNum     int     `json:"subscription_num"`
	AmountAfterDiscount float64 `json:"amount_after_discount"`
	OfficialAmount      float64 `json:"official_amount"`
	Currency            string  `json:"currency"`
	CategoryCode        string  `json:"category_code"`
	ProductOwnerService string  `json:"product_owner_service"`
	CommercialResource  string  `json:"commercial_resource"`
	OrderID             string  `json:"order_id"`
}

// newOrderDetails returns the ShowCustomerOrderDetails body of o: one line
// item for the order's servers.
func newOrderDetails(o *ecs.Order, t *ecs.Tenant) orderDetails {
	info := orderInfo{
		OrderID: o.ID, CustomerID: t.DomainID, ServiceTypeCode: bssServiceTypeCode, ServiceTypeName: bssServiceTypeName,
		SourceType: 1, Status: o.Status, OrderType: o.Type, AmountAfterDiscount: o.Amount, OfficialAmount: o.Amount,
		MeasureID: 1, CreateTime: o.Created.UTC().Format(bssTimeFormat), Currency: o.Currency, UserName: t.ProjectName,
	}
	if !o.Paid.IsZero() {
		info.PaymentTime = ptr(o.Paid.UTC().Format(bssTimeFormat))
	}
	if o.Status == ecs.OrderPendingPayment {
		info.PendingPaymentEndTime = ptr(o.Created.Add(bssPaymentWindow).UTC().Format(bssTimeFormat))
	}
	item := orderLineItem{
		OrderLineItemID: o.ID + "-000001", ServiceTypeCode: bssServiceTypeCode, ServiceTypeName: bssServiceTypeName,
		ProductID: "ecsd-product-" + o.FlavorID, ProductSpecDesc: o.FlavorID,
		EffectiveTime: o.Created.UTC().Format(bssTimeFormat), ExpireTime: o.PeriodEnd.UTC().Format(bssTimeFormat),
		SubscriptionNum: max(len(o.ServerIDs), 1), AmountAfterDiscount: o.Amount, OfficialAmount: o.Amount,
		Currency: o.Currency, CategoryCode: bssResourceTypeCode, ProductOwnerService: bssServiceTypeCode,
		CommercialResource: bssResourceTypeCode, OrderID: o.ID,
	}
	switch o.PeriodType {
	case ecs.PeriodMonth:
		item.PeriodType, item.PeriodNum = ptr(2), ptr(o.PeriodNum)
	case ecs.PeriodYear:
		item.PeriodType, item.PeriodNum = ptr(3), ptr(o.PeriodNum)
	}
	return orderDetails{TotalCount: 1, OrderInfo: info, OrderLineItems: []orderLineItem{item}}
}

// bssError is the BSS error body: error_code and error_msg.
type bssError struct {
	Code    string `json:"error_code"`
	Message string `json:"error_msg"`
}

// queryResourcesWire is SDK bss QueryResourcesReq.
type queryResourcesWire struct {
	ResourceIDs      []string `json:"resource_ids"`
	OrderID          *string  `json:"order_id"`
	OnlyMainResource *int     `json:"only_main_resource"`
	StatusList       []int    `json:"status_list"`
	Offset           *int     `json:"offset"`
	Limit            *int     `json:"limit"`
	ServiceTypeCode  *string  `json:"service_type_code"`
}

// decodeQueryResources reads a subscription query; the filter's project is
// the caller's. It reports false when the query cannot match ECS servers
// (another service type).
func decodeQueryResources(body []byte, projectID string) (ecs.SubscriptionFilter, bool, error) {
	var w queryResourcesWire
	f := ecs.SubscriptionFilter{ProjectID: projectID, Limit: 10}
	if err := decodeBody(body, &w); err != nil {
		return f, false, err
	}
	if w.OrderID != nil {
		f.OrderID = *w.OrderID
	}
	f.ResourceIDs, f.Statuses = w.ResourceIDs, w.StatusList
	if w.OnlyMainResource != nil && *w.OnlyMainResource != 0 && *w.OnlyMainResource != 1 {
		return f, false, invalidField("only_main_resource", "must be 0 or 1")
	}
	if w.Offset != nil {
		if *w.Offset < 0 {
			return f, false, invalidField("offset", "must be at least 0")
		}
		f.Offset = *w.Offset
	}
	if w.Limit != nil {
		if *w.Limit < 1 || *w.Limit > 500 {
			return f, false, invalidField("limit", "must be between 1 and 500")
		}
		f.Limit = *w.Limit
	}
	ecsOnly := w.ServiceTypeCode == nil || *w.ServiceTypeCode == "" || *w.ServiceTypeCode == bssServiceTypeCode
	return f, ecsOnly, nil
}

// orderInstance is SDK bss OrderInstanceV2.
type orderInstance struct {
	ID               string `json:"id"`
	ResourceID       string `json:"resource_id"`
	ResourceName     string `json:"resource_name"`
	RegionCode       string `json:"region_code"`
	ServiceTypeCode  string `json:"service_type_code"`
	ResourceTypeCode string `json:"resource_type_code"`
	ResourceTypeName string `json:"resource_type_name"`
	ServiceTypeName  string `json:"service_type_name"`
	ResourceSpecCode string `json:"resource_spec_code"`
	ProjectID        string `json:"project_id"`
	ProductID        string `json:"product_id"`
	ParentResourceID string `json:"parent_resource_id"`
	IsMainResource   int    `json:"is_main_resource"`
	Status           int    `json:"status"`
	EffectiveTime    string `json:"effective_time"`
	ExpireTime       string `json:"expire_time"`
	ExpirePolicy     int    `json:"expire_policy"`
	ProductSpecDesc  string `json:"product_spec_desc"`
	UpdateTime       string `json:"update_time"`
}

// queryResourcesResult is SDK ListPayPerUseCustomerResourcesResponse.
type queryResourcesResult struct {
	Data       []orderInstance `json:"data"`
	TotalCount int             `json:"total_count"`
}

// newOrderInstance returns a subscription as BSS lists it; region is the
// tenant's region.
func newOrderInstance(s *ecs.Subscription, region string) orderInstance {
	return orderInstance{
		ID: s.ServerID, ResourceID: s.ServerID, ResourceName: s.ServerName, RegionCode: region,
		ServiceTypeCode: bssServiceTypeCode, ResourceTypeCode: bssResourceTypeCode, ResourceTypeName: "Cloud Server",
		ServiceTypeName: bssServiceTypeName, ResourceSpecCode: s.FlavorID + ".linux", ProjectID: s.ProjectID,
		ProductID: "ecsd-product-" + s.FlavorID, IsMainResource: 1, Status: s.Status,
		EffectiveTime: s.Effective.UTC().Format(bssTimeFormat), ExpireTime: s.Expires.UTC().Format(bssTimeFormat),
		ProductSpecDesc: s.FlavorID, UpdateTime: s.Updated.UTC().Format(bssTimeFormat),
	}
}

// unsubscribeWire is SDK bss UnsubscribeResourcesReq.
type unsubscribeWire struct {
	ResourceIDs     []string `json:"resource_ids"`
	UnsubscribeType *int     `json:"unsubscribe_type"`
}

// unsubscribeResult is SDK CancelResourcesSubscriptionResponse.
type unsubscribeResult struct {
	OrderIDs          []string `json:"order_ids"`
	FailResourceInfos []any    `json:"fail_resource_infos"`
}
