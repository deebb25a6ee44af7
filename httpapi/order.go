package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// errNoOrders is the internal error of the order routes when no order
// service is wired.
var errNoOrders = errors.New("httpapi: no order service")

// changeChargeMode serves ChangeServerChargeMode. A dry run that passes is
// answered 202 with no body.
func (s *Server) changeChargeMode(w http.ResponseWriter, r *http.Request, body []byte) error {
	if s.Orders == nil {
		return errNoOrders
	}
	req, err := decodeChangeChargeMode(body, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	orderID, err := s.Orders.ChangeChargeMode(r.Context(), req)
	if err != nil {
		return err
	}
	if req.DryRun {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	writeJSON(w, http.StatusOK, orderIDResult{OrderID: orderID})
	return nil
}

// authedBSS wraps a BSS route. BSS is a global service: the SDK's global
// credentials sign the call and send X-Domain-Id instead of X-Project-Id,
// and the path names no project. The tenant is the owner of the access
// key; an X-Domain-Id that is not its account is refused. Errors leave in
// BSS's format, {"error_code","error_msg"}.
func (s *Server) authedBSS(op string, h apiFunc) http.Handler {
	return s.authed(op, func(w http.ResponseWriter, r *http.Request, body []byte) error {
		t := tenantFrom(r.Context())
		if d := r.Header.Get("X-Domain-Id"); d != "" && t != nil && d != t.DomainID {
			s.writeBSSError(w, r, &ecs.Error{Code: "CBC.0150", Status: http.StatusForbidden,
				Message: "The X-Domain-Id header " + d + " does not belong to the caller's credentials."})
			return nil
		}
		if s.Orders == nil {
			s.writeBSSError(w, r, errNoOrders)
			return nil
		}
		if err := h(w, r, body); err != nil {
			s.writeBSSError(w, r, err)
		}
		return nil
	})
}

// writeBSSError is writeError in BSS's envelope. ECS validation errors
// (Ecs.0005) become CBC.0100; an internal error is logged and answered
// CBC.0999 without detail.
func (s *Server) writeBSSError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := ecs.ErrorCode(err), ecs.ErrorMessage(err)
	status := StatusOf(err)
	switch {
	case code == "" || code == ecs.CodeInternal:
		s.Logger.Error("internal error", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		code, msg, status = "CBC.0999", "System error. Request ID: "+requestIDFrom(r.Context()), http.StatusInternalServerError
	case code == ecs.CodeBadRequest:
		code = "CBC.0100"
	}
	writeJSON(w, status, bssError{Code: code, Message: msg})
}

// showOrder serves ShowCustomerOrderDetails.
func (s *Server) showOrder(w http.ResponseWriter, r *http.Request, _ []byte) error {
	t := tenantFrom(r.Context())
	o, err := s.Orders.FindOrder(r.Context(), t.ProjectID, r.PathValue("order_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newOrderDetails(o, t))
	return nil
}

// payOrder serves PayOrders. Coupons and discounts are not modelled:
// use_coupon and use_discount must be "NO" (or absent). A paid order is
// answered 204.
func (s *Server) payOrder(w http.ResponseWriter, r *http.Request, body []byte) error {
	var req payOrderWire
	if err := decodeBody(body, &req); err != nil {
		return err
	}
	id, err := orderIDField(req.OrderID)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"use_coupon", req.UseCoupon}, {"use_discount", req.UseDiscount}} {
		if f.v != nil && *f.v != "NO" && *f.v != "" {
			if *f.v == "YES" {
				return invalidField(f.name, `"YES" is not supported by ecsd, which has no coupons or discounts`)
			}
			return invalidField(f.name, `must be "YES" or "NO"`)
		}
	}
	if err := s.Orders.PayOrder(r.Context(), tenantFrom(r.Context()).ProjectID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cancelOrder serves CancelCustomerOrder; a cancelled order is answered
// 204.
func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, body []byte) error {
	var req cancelOrderWire
	if err := decodeBody(body, &req); err != nil {
		return err
	}
	id, err := orderIDField(req.OrderID)
	if err != nil {
		return err
	}
	if err := s.Orders.CancelOrder(r.Context(), tenantFrom(r.Context()).ProjectID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func orderIDField(id *string) (string, error) {
	if id == nil {
		return "", missingField("order_id")
	}
	if strings.TrimSpace(*id) == "" {
		return "", invalidField("order_id", "must be a non-empty string")
	}
	return requireID("order_id", *id)
}

// querySubscriptions serves ListPayPerUseCustomerResources (the SDK's name
// for POST /v2/orders/suscriptions/resources/query, spelled so): the
// caller's yearly/monthly servers.
func (s *Server) querySubscriptions(w http.ResponseWriter, r *http.Request, body []byte) error {
	if s.Subscriptions == nil {
		return errNoOrders
	}
	t := tenantFrom(r.Context())
	f, ecsOnly, err := decodeQueryResources(body, t.ProjectID)
	if err != nil {
		return err
	}
	out := queryResourcesResult{Data: []orderInstance{}}
	if ecsOnly {
		subs, total, err := s.Subscriptions.FindSubscriptions(r.Context(), f)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			out.Data = append(out.Data, newOrderInstance(sub, t.ProjectName))
		}
		out.TotalCount = total
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unsubscribe serves CancelResourcesSubscription: the servers are deleted
// as DeleteServers deletes them, volumes included, and the refund order is
// answered. Only unsubscribe_type 1 (the resources themselves) is served.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, body []byte) error {
	if s.Subscriptions == nil {
		return errNoOrders
	}
	var req unsubscribeWire
	if err := decodeBody(body, &req); err != nil {
		return err
	}
	if len(req.ResourceIDs) == 0 {
		return missingField("resource_ids")
	}
	for i, id := range req.ResourceIDs {
		if _, err := requireID(fmt.Sprintf("resource_ids[%d]", i), id); err != nil {
			return err
		}
	}
	if req.UnsubscribeType == nil {
		return missingField("unsubscribe_type")
	}
	if *req.UnsubscribeType != 1 {
		return invalidField("unsubscribe_type", fmt.Sprintf("only 1 (unsubscribe the resources) is supported by ecsd, got %d", *req.UnsubscribeType))
	}
	res, err := s.Subscriptions.Unsubscribe(r.Context(), tenantFrom(r.Context()).ProjectID, req.ResourceIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, unsubscribeResult{OrderIDs: []string{res.OrderID}, FailResourceInfos: []any{}})
	return nil
}
