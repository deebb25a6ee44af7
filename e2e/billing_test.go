package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	bsssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/node"
)

// bss is a tenant's BSS client: the official bss/v2 SDK client with global
// credentials (AK/SK and the tenant's domain ID), so requests are signed
// with SDK-HMAC-SHA256, carry X-Domain-Id and no project, and answers are
// decoded by the SDK's own models. raw keeps the account for the requests
// the SDK cannot send (a foreign X-Domain-Id) and for reading BSS's error
// envelope as it is on the wire.
type bss struct {
	a      *account
	client *bsssdk.BssClient
}

func (b *bundle) bss(a *account) bss {
	auth := global.NewCredentialsBuilder().WithAk(a.tenant.AccessKey).WithSk(a.tenant.SecretKey).
		WithDomainId(a.tenant.DomainID).Build()
	httpCfg := config.DefaultHttpConfig().WithTimeout(30 * time.Second).WithHttpTransport(b.transport)
	return bss{a: a, client: bsssdk.NewBssClient(bsssdk.BssClientBuilder().WithEndpoint(b.url).
		WithCredential(auth).WithHttpConfig(httpCfg).Build())}
}

// call sends a raw request shaped as the SDK sends it with global
// credentials.
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

func (c bss) showErr(id string) (*bssmodel.ShowCustomerOrderDetailsResponse, error) {
	return c.client.ShowCustomerOrderDetails(&bssmodel.ShowCustomerOrderDetailsRequest{OrderId: id})
}

// show returns an order's details, decoded by the SDK, and checks the
// fields every order has.
func (c bss) show(t *testing.T, id string) *bssmodel.ShowCustomerOrderDetailsResponse {
	t.Helper()
	o, err := c.showErr(id)
	if err != nil {
		t.Fatalf("ShowCustomerOrderDetails %s: %v", id, err)
	}
	if o.HttpStatusCode != http.StatusOK || o.OrderInfo == nil || o.OrderInfo.Status == nil || o.OrderInfo.OrderType == nil ||
		o.OrderInfo.AmountAfterDiscount == nil || str(o.OrderInfo.OrderId) != id ||
		str(o.OrderInfo.CustomerId) != c.a.tenant.DomainID || str(o.OrderInfo.Currency) != "CNY" || o.OrderInfo.CreateTime == nil {
		t.Fatalf("order %s: HTTP %d %v", id, o.HttpStatusCode, o)
	}
	if o.TotalCount == nil || *o.TotalCount != 1 || o.OrderLineItems == nil || len(*o.OrderLineItems) != 1 {
		t.Fatalf("order %s: total_count %v, line items %v; want one", id, o.TotalCount, o.OrderLineItems)
	}
	item := (*o.OrderLineItems)[0]
	if str(item.OrderId) != id || item.SubscriptionNum == nil || *item.SubscriptionNum < 1 || item.AmountAfterDiscount == nil ||
		*item.AmountAfterDiscount != *o.OrderInfo.AmountAfterDiscount || item.ExpireTime == nil {
		t.Fatalf("order %s: line item %v", id, item)
	}
	return o
}

func (c bss) pay(id string) error {
	resp, err := c.client.PayOrders(&bssmodel.PayOrdersRequest{Body: &bssmodel.PayCustomerOrderV3Req{
		OrderId: id, UseCoupon: "NO", UseDiscount: "NO"}})
	if err == nil && resp.HttpStatusCode != http.StatusNoContent {
		return fmt.Errorf("PayOrders: HTTP %d, want 204", resp.HttpStatusCode)
	}
	return err
}

func (c bss) cancel(id string) error {
	resp, err := c.client.CancelCustomerOrder(&bssmodel.CancelCustomerOrderRequest{Body: &bssmodel.CancelCustomerOrderReq{OrderId: id}})
	if err == nil && resp.HttpStatusCode != http.StatusNoContent {
		return fmt.Errorf("CancelCustomerOrder: HTTP %d, want 204", resp.HttpStatusCode)
	}
	return err
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
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
	bssc := b.bss(b.account)
	otherBSS := b.bss(b.login(t, other.Tenant))

	t.Run("prepaid create with auto-pay", func(t *testing.T) {
		resp := b.createPrePaid(t, "auto", "s6.small.1", true)
		b.wantJob(t, *resp.JobId, "SUCCESS")
		o := bssc.show(t, *resp.OrderId)
		if *o.OrderInfo.Status != 5 || *o.OrderInfo.OrderType != 1 || *o.OrderInfo.AmountAfterDiscount != 50.4 ||
			*o.OrderInfo.Currency != "CNY" || o.OrderInfo.PaymentTime == nil {
			t.Errorf("order_info %+v, want completed new purchase of 50.40 CNY", o.OrderInfo)
		}
		if item := (*o.OrderLineItems)[0]; item.PeriodType == nil || *item.PeriodType != 2 || *item.PeriodNum != 1 || *item.SubscriptionNum != 1 {
			t.Errorf("order line item %v, want 1 month (period_type 2) of one server", item)
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
		_, err := otherBSS.showErr(*resp.OrderId)
		wantSDKError(t, err, http.StatusNotFound, compute.CodeOrderNotFound)
		wantSDKError(t, otherBSS.pay(*resp.OrderId), http.StatusNotFound, compute.CodeOrderNotFound)
		wantSDKError(t, otherBSS.cancel(*resp.OrderId), http.StatusNotFound, compute.CodeOrderNotFound)
		if got := jobStatus(t, b.account, *resp.JobId); got != ecs.JobPendingPayment {
			t.Fatalf("job %s after the other tenant's calls, want PENDING_PAYMENT", got)
		}

		mustOK(t, bssc.pay(*resp.OrderId))
		b.wantJob(t, *resp.JobId, "SUCCESS")
		b.wantServer(t, (*resp.ServerIds)[0], "ACTIVE", 1, "s6.small.1")
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 5 {
			t.Errorf("order status %d after payment, want 5", *o.OrderInfo.Status)
		}
		// Paying twice and cancelling a paid order are refused.
		wantSDKError(t, bssc.pay(*resp.OrderId), http.StatusBadRequest, compute.CodeOrderNotPayable)
		wantSDKError(t, bssc.cancel(*resp.OrderId), http.StatusBadRequest, compute.CodeOrderNotCancel)
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 5 {
			t.Errorf("order status %d after the refused calls, want 5", *o.OrderInfo.Status)
		}
	})

	t.Run("pending payment then cancel", func(t *testing.T) {
		resp := b.createPrePaid(t, "cancelled", "s6.small.1", false)
		mustOK(t, bssc.cancel(*resp.OrderId))
		job := b.wantJob(t, *resp.JobId, "FAIL")
		if str(job.ErrorCode) != ecs.CodeOrderCancelled {
			t.Errorf("job error_code %s, want %s", str(job.ErrorCode), ecs.CodeOrderCancelled)
		}
		_, err := b.client.ShowServer(&model.ShowServerRequest{ServerId: (*resp.ServerIds)[0]})
		wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 4 {
			t.Errorf("order status %d, want 4 (cancelled)", *o.OrderInfo.Status)
		}
		wantSDKError(t, bssc.pay(*resp.OrderId), http.StatusBadRequest, compute.CodeOrderNotPayable)
		wantSDKError(t, bssc.cancel(*resp.OrderId), http.StatusBadRequest, compute.CodeOrderNotCancel)
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
		mustOK(t, bssc.pay(*r.OrderId))
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

	t.Run("batch upgrade waits for payment", func(t *testing.T) {
		var ids []string
		for _, name := range []string{"batch-a", "batch-b"} {
			resp := b.createPrePaid(t, name, "s6.small.1", true)
			b.wantJob(t, *resp.JobId, "SUCCESS")
			ids = append(ids, (*resp.ServerIds)[0])
		}
		for _, id := range ids {
			b.mustStop(t, id)
		}
		resp, err := b.batchResize("s6.xlarge.2", false, ids...)
		if err != nil || resp.JobId == nil || resp.OrderId == nil {
			t.Fatalf("BatchResizeServers: %v (%+v), want job_id and order_id", err, resp)
		}
		if got := jobStatus(t, b.account, *resp.JobId); got != ecs.JobPendingPayment {
			t.Fatalf("batch job %s before payment, want PENDING_PAYMENT", got)
		}
		o := bssc.show(t, *resp.OrderId)
		// One order for both: twice about a month's 211.68 difference.
		if amt := *o.OrderInfo.AmountAfterDiscount; *o.OrderInfo.Status != 6 || *o.OrderInfo.OrderType != 3 || amt < 400 || amt > 440 ||
			*(*o.OrderLineItems)[0].SubscriptionNum != 2 {
			t.Errorf("order %v / %v, want one pending change of about 423.36 for 2 servers", o.OrderInfo, (*o.OrderLineItems)[0])
		}
		for _, id := range ids {
			if s := b.show(t, id); s.Flavor.Id != "s6.small.1" || s.OSEXTSTStaskState != "resize_prep" {
				t.Errorf("server %s before payment: flavor %s task %q, want s6.small.1 in resize_prep", id, s.Flavor.Id, s.OSEXTSTStaskState)
			}
		}
		mustOK(t, bssc.pay(*resp.OrderId))
		job := b.wantJob(t, *resp.JobId, "SUCCESS")
		subs := subJobs(t, job, 2)
		for _, id := range ids {
			if s, ok := subs[id]; !ok || s.Status.Value() != "SUCCESS" {
				t.Errorf("sub-job of %s: %+v", id, s)
			}
			b.wantServer(t, id, "SHUTOFF", 4, "s6.xlarge.2")
		}
		if o := bssc.show(t, *resp.OrderId); *o.OrderInfo.Status != 5 {
			t.Errorf("order status %d after payment, want 5", *o.OrderInfo.Status)
		}
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
		mustOK(t, bssc.pay(*resp.OrderId))
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
		wantSDKError(t, bssc.pay(""), http.StatusBadRequest, "CBC.0100")
		_, err := bssc.client.PayOrders(&bssmodel.PayOrdersRequest{Body: &bssmodel.PayCustomerOrderV3Req{
			OrderId: "CS1", UseCoupon: "YES", UseDiscount: "NO"}})
		wantSDKError(t, err, http.StatusBadRequest, "CBC.0100")
		wantSDKError(t, bssc.pay("CS000000000000NOPE0"), http.StatusNotFound, compute.CodeOrderNotFound)
		// The envelope on the wire is BSS's error_code/error_msg.
		bssc.call(t, http.MethodPost, "/v3/orders/customer-orders/pay", map[string]any{"order_id": "CS1", "use_coupon": "YES", "use_discount": "NO"}).
			wantBSSError(t, http.StatusBadRequest, "CBC.0100")
		bssc.call(t, http.MethodGet, "/v2/orders/customer-orders/details/CS000000000000NOPE0", nil).
			wantBSSError(t, http.StatusNotFound, compute.CodeOrderNotFound)
		// An X-Domain-Id of another account is refused.
		r := bssc.a.newRaw(t, http.MethodGet, "/v2/orders/customer-orders/details/CS1", nil)
		r.Header.Del("X-Project-Id")
		r.Header.Set("X-Domain-Id", other.Tenant.DomainID)
		bssc.a.sign(r, nil, time.Now())
		bssc.a.do(t, r).wantBSSError(t, http.StatusForbidden, "CBC.0150")
	})
}
