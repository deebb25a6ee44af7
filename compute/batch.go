package compute

import (
	"context"
	"database/sql"

	ecs "github.com/ecsd-dev/ecsd"
)

var _ ecs.BatchResizeService = (*Service)(nil)

// BatchResizeServers implements ecs.BatchResizeService. The whole request is
// refused when any check fails, so nothing is half-made. In order: shape
// (1 to ecs.MaxBatchResize servers, no duplicates, a target flavor) → every
// server exists in the project (Ecs.0114 for the first that does not) → no
// spot server (Ecs.0704) → one billing mode → one availability zone → one
// current flavor → the per-server checks of ResizeServer (checkResize) for
// each, and for yearly/monthly servers no order pending payment (Ecs.0603)
// → quota for the total vCPU/RAM delta → capacity for all of them together,
// each placement reserving its room before the next. Then every server's
// task state and reservation, the parent job, one resizeServer sub-job per
// server and, for yearly/monthly servers, the order commit together.
//
// Yearly/monthly servers get one order for the summed price difference
// (changeOrder, as a single resize prices it). A batch upgrade cannot be
// auto-paid: its order awaits payment, the parent job is PENDING_PAYMENT
// and its sub-jobs wait in INIT until PayOrder enqueues them (CancelOrder
// fails them and releases every server). A downgrade's refund order is
// completed at once and the sub-jobs run.
func (s *Service) BatchResizeServers(ctx context.Context, req *ecs.BatchResizeRequest) (*ecs.ResizeResult, error) {
	if err := checkBatchShape(req); err != nil {
		return nil, err
	}
	res := &ecs.ResizeResult{}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		servers := make([]*ecs.Server, len(req.ServerIDs))
		for i, id := range req.ServerIDs {
			srv, err := s.Store.ServerByID(ctx, tx, req.ProjectID, id)
			if err != nil {
				return err
			}
			servers[i] = srv
		}
		if err := checkBatchMembers(servers); err != nil {
			return err
		}
		curs, nexts := make([]*ecs.Flavor, len(servers)), make([]*ecs.Flavor, len(servers))
		dCPU, dRAM := 0, 0
		for i, srv := range servers {
			cur, next, err := s.checkResize(srv, req.FlavorID, req.WithStop, req.CPUThreads)
			if err != nil {
				return err
			}
			if srv.ChargingMode == ecs.ChargingPrePaid {
				if err := s.checkNoPendingOrder(ctx, tx, srv); err != nil {
					return err
				}
			}
			curs[i], nexts[i] = cur, next
			dCPU += next.VCPUs - cur.VCPUs
			dRAM += next.RAMMB - cur.RAMMB
		}
		limits, err := s.limits(ctx, tx, req.ProjectID)
		if err != nil {
			return err
		}
		if err := checkQuota(limits, false, 0, dCPU, dRAM); err != nil {
			return err
		}
		az := servers[0].AvailabilityZone
		usage, err := s.usageInAZ(ctx, tx, az)
		if err != nil {
			return err
		}
		hosts := placeBatchResize(usage, servers, curs[0], nexts[0])
		if hosts == nil {
			return ecs.Errorf(ecs.CodeInsufficientCap,
				"Insufficient capacity for %d servers of flavor %s in availability zone %s; choose another flavor or fewer servers.",
				len(servers), req.FlavorID, az)
		}

		var order *ecs.Order
		if servers[0].ChargingMode == ecs.ChargingPrePaid {
			if order, err = s.changeOrder(ctx, tx, servers, curs[0].ID, nexts[0].ID, false); err != nil {
				return err
			}
		}

		params := make([]any, len(servers))
		for i, srv := range servers {
			wasRunning := srv.VMState == ecs.VMActive
			params[i] = ResizeParams{
				FlavorID: nexts[i].ID, OldFlavorID: curs[i].ID, HostID: hosts[i], OldHostID: srv.HostID,
				WasRunning: wasRunning, CPUThreads: req.CPUThreads, OldCPUThreads: srv.CPUThreads,
			}
			srv.ResizeFlavorID, srv.ResizeHostID = nexts[i].ID, hosts[i]
			srv.TaskState = ecs.TaskResizePrep
			if wasRunning {
				srv.TaskState = ecs.TaskPoweringOff
			}
			srv.Updated = s.now()
			if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
				return err
			}
		}
		var job *ecs.Job
		if order != nil && order.Status == ecs.OrderPendingPayment {
			job, err = s.insertHeldBatch(ctx, tx, req.ProjectID, ecs.JobBatchResize, ecs.JobResizeServer, req.ServerIDs, params)
		} else {
			job, err = s.insertBatch(ctx, tx, req.ProjectID, ecs.JobBatchResize, ecs.JobResizeServer, req.ServerIDs, params)
		}
		if err != nil {
			return err
		}
		res.JobID = job.ID
		if order != nil {
			order.JobID = job.ID
			if err := s.orders().InsertOrder(ctx, tx, order); err != nil {
				return err
			}
			res.OrderID = order.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// checkBatchShape checks what needs no stored state: the number of servers,
// duplicates and the target flavor's presence.
func checkBatchShape(req *ecs.BatchResizeRequest) error {
	switch n := len(req.ServerIDs); {
	case n == 0:
		return ecs.Errorf(ecs.CodeBadRequest, "resize.servers must name at least one server.")
	case n > ecs.MaxBatchResize:
		return ecs.Errorf(ecs.CodeBadRequest, "resize.servers names %d servers; at most %d may be resized in one batch.", n, ecs.MaxBatchResize)
	}
	if req.FlavorID == "" {
		return ecs.Errorf(ecs.CodeBadRequest, "resize.flavorRef is required.")
	}
	seen := make(map[string]bool, len(req.ServerIDs))
	for _, id := range req.ServerIDs {
		if id == "" {
			return ecs.Errorf(ecs.CodeBadRequest, "resize.servers[].id must not be empty.")
		}
		if seen[id] {
			return ecs.Errorf(ecs.CodeBadRequest, "resize.servers names server %s more than once.", id)
		}
		seen[id] = true
	}
	return nil
}

// checkBatchMembers checks the conditions the servers of one batch must
// share: no spot server, one billing mode, one AZ, one current flavor.
// ecsd has no dedicated hosts, so no server can be on one.
func checkBatchMembers(servers []*ecs.Server) error {
	first := servers[0]
	for _, srv := range servers {
		if srv.ChargingMode == ecs.ChargingSpot {
			return ecs.Errorf(ecs.CodeChargingNotAllowed, "Instance[%s] is a spot server; spot servers cannot be resized.", srv.ID)
		}
	}
	for _, srv := range servers[1:] {
		switch {
		case srv.ChargingMode != first.ChargingMode:
			return ecs.Errorf(ecs.CodeBadRequest,
				"All servers of a batch resize must have the same billing mode; Instance[%s] and Instance[%s] differ.", first.ID, srv.ID)
		case srv.AvailabilityZone != first.AvailabilityZone:
			return ecs.Errorf(ecs.CodeBadRequest,
				"All servers of a batch resize must be in the same availability zone; Instance[%s] is in %s, Instance[%s] in %s.",
				first.ID, first.AvailabilityZone, srv.ID, srv.AvailabilityZone)
		case srv.FlavorID != first.FlavorID:
			return ecs.Errorf(ecs.CodeBadRequest,
				"All servers of a batch resize must have the same flavor; Instance[%s] has %s, Instance[%s] has %s.",
				first.ID, first.FlavorID, srv.ID, srv.FlavorID)
		}
	}
	return nil
}

// placeBatchResize places the resize of each server from cur to next, in
// order, reserving each placement in usage before the next one (so two
// servers never count on the same free room). It returns one host per
// server, or nil when one of them does not fit.
func placeBatchResize(usage []*hostUsage, servers []*ecs.Server, cur, next *ecs.Flavor) []string {
	hosts := make([]string, len(servers))
	for i, srv := range servers {
		h := placeResize(usage, srv, cur, next)
		if h == "" {
			return nil
		}
		for _, u := range usage {
			if u.host.ID != h {
				continue
			}
			if h == srv.HostID {
				u.vcpus += max(0, next.VCPUs-cur.VCPUs)
				u.ramMB += max(0, next.RAMMB-cur.RAMMB)
			} else {
				u.vcpus += next.VCPUs
				u.ramMB += next.RAMMB
			}
		}
		hosts[i] = h
	}
	return hosts
}
