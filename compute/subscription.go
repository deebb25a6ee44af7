package compute

import (
	"context"
	"database/sql"
	"slices"

	ecs "github.com/ecsd-dev/ecsd"
)

var _ ecs.SubscriptionService = (*Service)(nil)

// FindSubscriptions implements ecs.SubscriptionService.
func (s *Service) FindSubscriptions(ctx context.Context, f ecs.SubscriptionFilter) ([]*ecs.Subscription, int, error) {
	var all []*ecs.Subscription
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		servers, err := s.Store.ServersInProject(ctx, tx, f.ProjectID)
		if err != nil {
			return err
		}
		for _, srv := range servers {
			if srv.ChargingMode != ecs.ChargingPrePaid || srv.TaskState == ecs.TaskDeleting {
				continue
			}
			if f.OrderID != "" && srv.OrderID != f.OrderID {
				continue
			}
			if len(f.ResourceIDs) > 0 && !slices.Contains(f.ResourceIDs, srv.ID) {
				continue
			}
			sub := &ecs.Subscription{ServerID: srv.ID, ServerName: srv.Name, ProjectID: srv.ProjectID,
				FlavorID: srv.FlavorID, OrderID: srv.OrderID, Status: ecs.SubscriptionInUse,
				Effective: srv.Created, Updated: srv.Updated}
			if srv.VMState == ecs.VMBuilding {
				sub.Status = ecs.SubscriptionInitializing
			}
			if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, sub.Status) {
				continue
			}
			if sub.Expires, err = s.serverPeriodEnd(ctx, tx, srv); err != nil {
				return err
			}
			all = append(all, sub)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	total := len(all)
	page := all[min(f.Offset, total):]
	if f.Limit > 0 && len(page) > f.Limit {
		page = page[:f.Limit]
	}
	return page, total, nil
}

// Unsubscribe implements ecs.SubscriptionService.
func (s *Service) Unsubscribe(ctx context.Context, projectID string, serverIDs []string) (*ecs.UnsubscribeResult, error) {
	var res ecs.UnsubscribeResult
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		servers, err := s.idleServers(ctx, tx, projectID, serverIDs)
		if err != nil {
			return err
		}
		now := s.now()
		o := &ecs.Order{ID: newOrderID(now), ProjectID: projectID, Type: ecs.OrderTypeUnsubscribe,
			Status: ecs.OrderCompleted, Currency: OrderCurrency, Created: now, Paid: now, PeriodEnd: now}
		refund := 0.0
		for _, srv := range servers {
			if srv.ChargingMode != ecs.ChargingPrePaid {
				return ecs.Errorf(ecs.CodeChargingNotAllowed,
					"Server %s is billed pay-per-use; delete it instead of unsubscribing it.", srv.ID)
			}
			if err := s.checkNoPendingOrder(ctx, tx, srv); err != nil {
				return err
			}
			end, err := s.serverPeriodEnd(ctx, tx, srv)
			if err != nil {
				return err
			}
			if monthly, err := s.monthlyPrice(srv.FlavorID); err == nil {
				refund += ResizeAmount(monthly, 0, now, end)
			}
			o.FlavorID = srv.FlavorID
			o.ServerIDs = append(o.ServerIDs, srv.ID)
			srv.TaskState, srv.Updated = ecs.TaskDeleting, now
			if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
				return err
			}
			// Unsubscribing releases what was bought with the server,
			// its data disks included.
			if err := s.Store.SetVolumesDeleteOnTermination(ctx, tx, srv.ID, true); err != nil {
				return err
			}
		}
		o.Amount = cents(refund)
		if err := s.orders().InsertOrder(ctx, tx, o); err != nil {
			return err
		}
		job, err := s.insertBatch(ctx, tx, projectID, ecs.JobDeleteServer, ecs.JobDeleteSingleServer, serverIDs, nil)
		if err != nil {
			return err
		}
		res = ecs.UnsubscribeResult{OrderID: o.ID, JobID: job.ID}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}
