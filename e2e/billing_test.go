package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/node"
)

// bss is a tenant's BSS client. The SDK's bss/v2 package cannot be built
// here (its models import github.com/shopspring/decimal, which this module
// does not require), so calls are raw requests shaped exactly as the SDK
// sends them with global credentials: signed with SDK-HMAC-SHA256, with
// X-Domain-Id and no X-Project-Id, and no project in the path.
type bss struct{ a *account }

func (c bss) call(t *testing.T, method, path string, body any) rawResponse {
	t.Helper()
	var b []byte
	if body != nil {
		b = sdkJSON(t, body)
	}
	r := c.a.newRaw(t, method, path, b)
	r.Header.Del("X-Project-Id")
	r.Header.Set("X-Domain-Id", c.a.tenant.DomainID)
	c.a.sign(r, b, time.Now())
	return c.a.do(t, r)
}

// bssOrder is the part of SDK ShowCustomerOrderDetailsResponse the tests read.
type bssOrder struct {
	TotalCount *int32 `json:"total_count"`
	OrderInfo  *struct {
		OrderID             *string  `json:"order_id"`
		CustomerID          *string  `json:"customer_id"`
		Status              *int32   `json:"status"`
		OrderType           *int32   `json:"order_type"`
		AmountAfterDiscount *float64 `json:"amount_after_discount"`
		Currency            *string  `json:"currency"`
		PaymentTime         *string  `json:"payment_time"`
	} `json:"order_info"`
	OrderLineItems *[]struct {
		OrderID *string `json:"order_id"`
	} `json:"order_line_items"`
}

func (c bss) show(t *testing.T, id string) *bssOrder {
	t.Helper()
	r := c.call(t, http.MethodGet, "/v2/orders/customer-orders/details/"+id, nil)
	if r.status != http.StatusOK {
		t.Fatalf("ShowCustomerOrderDetails %s: HTTP %d %s", id, r.status, r.body)
	}
	var o bssOrder
	decodeSDK(t, r.body, &o)
	if o.OrderInfo == nil || o.OrderInfo.Status == nil || o.OrderInfo.OrderID == nil || *o.OrderInfo.OrderID != id ||
		str(o.OrderInfo.CustomerID) != c.a.tenant.DomainID {
		t.Fatalf("order %s: %s", id, r.body)
	}
	return &o
}

func (c bss) pay(t *testing.T, id string) rawResponse {
	t.Helper()
	return c.call(t, http.MethodPost, "/v3/orders/customer-orders/pay", map[string]any{"order_id": id, "use_coupon": "NO", "use_discount": "NO"})
}

func (c bss) cancel(t *testing.T, id string) rawResponse {
	t.Helper()
	return c.call(t, http.MethodPut, "/v2/orders/customer-orders/cancel", map[string]any{"order_id": id})
}

// wantOK checks a 204 answer to a pay or cancel call.
func (r rawResponse) wantOK(t *testing.T) {
	t.Helper()
	if r.status != http.StatusNoContent {
		t.Fatalf("HTTP %d %s, want 204", r.status, r.body)
	}
}

// wantBSSError checks an answer in BSS's error format.
func (r rawResponse) wantBSSError(t *testing.T, status int, code string) {
	t.Helper()
	r.wantRequestID(t)
	var e struct {
		Code    *string `json:"error_code"`
		Message *string `json:"error_msg"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != status || str(e.Code) != code || str(e.Message) == "" {
		t.Fatalf("HTTP %d %s, want %d with error_code %s and an error_msg", r.status, r.body, status, code)
	}
}

// createPrePaid creates yearly/monthly servers through v1.1.
func (a *account) createPrePaid(t *testing.T, name, flavor string, autoPay bool) *model.CreateServersResponse {
	t.Helper()
	ext := &model.PrePaidServerExtendParam{
		ChargingMode: ptr(model.GetPrePaidServerExtendParamChargingModeEnum().PRE_PAID),
		PeriodType:   ptr(model.GetPrePaidServerExtendParamPeriodTypeEnum().MONTH),
		PeriodNum:    ptr(int32(1)),
	}
	if autoPay {
		ext.IsAutoPay = ptr(model.GetPrePaidServerExtendParamIsAutoPayEnum().TRUE)
	}
	resp, err := a.client.CreateServers(&model.CreateServersRequest{Body: &model.CreateServersRequestBody{
		Server: a.prePaidServer(name, flavor, ext),
	}})
	if err != nil {
		t.Fatalf("CreateServers prePaid: %v", err)
	}
	if resp.OrderId == nil || resp.JobId == nil || resp.ServerIds == nil || len(*resp.ServerIds) != 1 {
		t.Fatalf("CreateServers prePaid: order_id %v job_id %v serverIds %v, want all three", resp.OrderId, resp.JobId, resp.ServerIds)
	}
	return resp
}

func jobStatus(t *testing.T, a *account, jobID string) string {
	t.Helper()
	resp, err := a.client.ShowJob(&model.ShowJobRequest{JobId: jobID})
	if err != nil {
		t.Fatalf("ShowJob %s: %v", jobID, err)
	}
	return resp.Status.Value()
}

func TestBilling(t *testing.T) {
	t.Parallel()
	other := testTenant(7, ecs.DefaultQuota)
	b := setupWith(t, options{tenants: []node.TenantQuota{other}})
	bssc := bss{b.account}
	otherBSS := bss{b.login(t, other.Tenant)}

	t.Run("prepaid create with auto-pay", func(t *testing.T) {
		resp := b.createPrePaid(t, "auto", "s6.small.1", true)
		b.wantJob(t, *resp.JobId, "SUCCESS")
		o := bssc.show(t, *resp.OrderId)
		if *o.OrderInfo.Status != 5 || *o.OrderInfo.OrderType != 1 || *o.OrderInfo.AmountAfterDiscount != 50.4 ||
			*o.OrderInfo.Currency != "CNY" || o.OrderInfo.PaymentTime == nil {
			t.Errorf("order_info %+v, want completed new purchase of 50.40 CNY", o.OrderInfo)
		}
		if o.OrderLineItems == nil || len(*o.OrderLineItems) != 1 || *o.TotalCount != 1 {
			t.Errorf("order_line_items %v, want one", o.OrderLineItems)
		}
		s := b.show(t, (*resp.ServerIds)[0])
		if s.Metadata["charging_mode"] != "1" || s.Metadata["metering.order_id"] != *resp.OrderId {
			t.Errorf("metadata %v, want charging_mode 1 and metering.order_id %s", s.Metadata, *resp.OrderId)
		}
	})

	t.Run("pending payment then pay", func(t *testing.T) {
		resp := b.createPrePaid(t, "manual", "s6.small.1", false)
		if got := jobStatus(t, b.account, *resp.JobId); got != ecs.JobPendingPayment {
			t.Fatalf("job %s before payment, want PENDING_PAYMENT", got)
		}
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 6 || o.OrderInfo.PaymentTime != nil {
			t.Errorf("order_info %+v, want status 6 (pending payment), unpaid", o.OrderInfo)
		}
		// Another tenant can neither see nor pay it.
		otherBSS.call(t, http.MethodGet, "/v2/orders/customer-orders/details/"+*resp.OrderId, nil).
			wantBSSError(t, http.StatusNotFound, compute.CodeOrderNotFound)
		otherBSS.pay(t, *resp.OrderId).wantBSSError(t, http.StatusNotFound, compute.CodeOrderNotFound)
		otherBSS.cancel(t, *resp.OrderId).wantBSSError(t, http.StatusNotFound, compute.CodeOrderNotFound)
		if got := jobStatus(t, b.account, *resp.JobId); got != ecs.JobPendingPayment {
			t.Fatalf("job %s after the other tenant's calls, want PENDING_PAYMENT", got)
		}

		bssc.pay(t, *resp.OrderId).wantOK(t)
		b.wantJob(t, *resp.JobId, "SUCCESS")
		b.wantServer(t, (*resp.ServerIds)[0], "ACTIVE", 1, "s6.small.1")
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 5 {
			t.Errorf("order status %d after payment, want 5", *o.OrderInfo.Status)
		}
		// Paying twice and cancelling a paid order are refused.
		bssc.pay(t, *resp.OrderId).wantBSSError(t, http.StatusBadRequest, compute.CodeOrderNotPayable)
		bssc.cancel(t, *resp.OrderId).wantBSSError(t, http.StatusBadRequest, compute.CodeOrderNotCancel)
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 5 {
			t.Errorf("order status %d after the refused calls, want 5", *o.OrderInfo.Status)
		}
	})

	t.Run("pending payment then cancel", func(t *testing.T) {
		resp := b.createPrePaid(t, "cancelled", "s6.small.1", false)
		bssc.cancel(t, *resp.OrderId).wantOK(t)
		job := b.wantJob(t, *resp.JobId, "FAIL")
		if str(job.ErrorCode) != ecs.CodeOrderCancelled {
			t.Errorf("job error_code %s, want %s", str(job.ErrorCode), ecs.CodeOrderCancelled)
		}
		_, err := b.client.ShowServer(&model.ShowServerRequest{ServerId: (*resp.ServerIds)[0]})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 4 {
			t.Errorf("order status %d, want 4 (cancelled)", *o.OrderInfo.Status)
		}
		bssc.pay(t, *resp.OrderId).wantBSSError(t, http.StatusBadRequest, compute.CodeOrderNotPayable)
		bssc.cancel(t, *resp.OrderId).wantBSSError(t, http.StatusBadRequest, compute.CodeOrderNotCancel)
	})

	t.Run("resize upgrade and downgrade", func(t *testing.T) {
		resp := b.createPrePaid(t, "resized", "s6.small.1", true)
		id := (*resp.ServerIds)[0]
		b.wantJob(t, *resp.JobId, "SUCCESS")
		b.mustStop(t, id)
		dry := true
		r, err := b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "s6.xlarge.2"}, DryRun: &dry,
		}})
		if err != nil || r.HttpStatusCode != http.StatusAccepted {
			t.Fatalf("dry run: %v %v", err, r)
		}
		r, err = b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "s6.xlarge.2"},
		}})
		if err != nil || r.OrderId == nil || r.JobId == nil {
			t.Fatalf("ResizeServer: %v %v, want order_id and job_id", err, r)
		}
		if got := jobStatus(t, b.account, *r.JobId); got != ecs.JobPendingPayment {
			t.Fatalf("resize job %s, want PENDING_PAYMENT", got)
		}
		o := bssc.show(t, *r.OrderId)
		// 211.68 CNY a month more, for the month bought (30 or 31 days, minus
		// the seconds since): close to a month's difference.
		if amt := *o.OrderInfo.AmountAfterDiscount; *o.OrderInfo.Status != 6 || *o.OrderInfo.OrderType != 3 || amt < 200 || amt > 220 {
			t.Errorf("upgrade order %+v, want pending change of about 211.68", o.OrderInfo)
		}
		_, err = b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "s6.large.2"},
		}})
		wantSDKError(t, err, http.StatusConflict, ecs.CodeBusy)
		bssc.pay(t, *r.OrderId).wantOK(t)
		b.wantJob(t, *r.JobId, "SUCCESS")
		b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")

		r, err = b.client.ResizeServer(&model.ResizeServerRequest{ServerId: id, Body: &model.ResizeServerRequestBody{
			Resize: &model.ResizePrePaidServerOption{FlavorRef: "s6.small.1"},
		}})
		if err != nil || r.OrderId == nil || r.JobId == nil {
			t.Fatalf("downgrade: %v %v", err, r)
		}
		o = bssc.show(t, *r.OrderId)
		if amt := *o.OrderInfo.AmountAfterDiscount; *o.OrderInfo.Status != 5 || amt > -200 || amt < -220 {
			t.Errorf("downgrade order %+v, want a completed refund of about -211.68", o.OrderInfo)
		}
		b.wantJob(t, *r.JobId, "SUCCESS")
		b.wantServer(t, id, "SHUTOFF", 4, "s6.small.1")
	})

	t.Run("change charge mode", func(t *testing.T) {
		id := b.mustCreateStopped(t, "to-prepaid", "s6.small.1", "")
		body := &model.ChangeServerChargeModeRequestBody{ServerIds: []string{id}, ChargeMode: "prePaid",
			PrepaidOptions: &model.ChangeServerChargeModePrepaidOption{PeriodType: "month", PeriodNum: "2"}}
		resp, err := b.client.ChangeServerChargeMode(&model.ChangeServerChargeModeRequest{Body: body})
		if err != nil || resp.OrderId == nil {
			t.Fatalf("ChangeServerChargeMode: %v %v", err, resp)
		}
		o := bssc.show(t, *resp.OrderId)
		if *o.OrderInfo.Status != 6 || *o.OrderInfo.OrderType != 11 || *o.OrderInfo.AmountAfterDiscount != 100.8 {
			t.Errorf("order_info %+v, want pending type 11 of 100.80", o.OrderInfo)
		}
		if s := b.show(t, id); s.Metadata["charging_mode"] != "0" {
			t.Errorf("charging_mode %q before payment, want 0", s.Metadata["charging_mode"])
		}
		bssc.pay(t, *resp.OrderId).wantOK(t)
		s := b.show(t, id)
		if s.Metadata["charging_mode"] != "1" || s.Metadata["metering.order_id"] != *resp.OrderId {
			t.Errorf("metadata %v, want charging_mode 1 on order %s", s.Metadata, *resp.OrderId)
		}
		_, err = b.client.ChangeServerChargeMode(&model.ChangeServerChargeModeRequest{Body: body})
		wantCode(t, err, ecs.CodeChargingNotAllowed)
		body.PrepaidOptions.PeriodNum = "10"
		_, err = b.client.ChangeServerChargeMode(&model.ChangeServerChargeModeRequest{Body: body})
		wantCode(t, err, ecs.CodeBadRequest)
	})

	t.Run("bad BSS input", func(t *testing.T) {
		bssc.pay(t, "").wantBSSError(t, http.StatusBadRequest, "CBC.0100")
		bssc.call(t, http.MethodPost, "/v3/orders/customer-orders/pay", map[string]any{"order_id": "CS1", "use_coupon": "YES", "use_discount": "NO"}).
			wantBSSError(t, http.StatusBadRequest, "CBC.0100")
		bssc.pay(t, "CS000000000000NOPE0").wantBSSError(t, http.StatusNotFound, compute.CodeOrderNotFound)
		// An X-Domain-Id of another account is refused.
		r := bssc.a.newRaw(t, http.MethodGet, "/v2/orders/customer-orders/details/CS1", nil)
		r.Header.Del("X-Project-Id")
		r.Header.Set("X-Domain-Id", other.Tenant.DomainID)
		bssc.a.sign(r, nil, time.Now())
		bssc.a.do(t, r).wantBSSError(t, http.StatusForbidden, "CBC.0150")
	})
}
