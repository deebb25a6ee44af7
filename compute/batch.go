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
// spot server (Ecs.0704) → one billing mode, pay-per-use only for now → one
// availability zone → one current flavor → the per-server checks of
// ResizeServer (checkResize) for each → quota for the total vCPU/RAM delta →
// capacity for all of them together, each placement reserving its room
// before the next. Then every server's task state and reservation, the
// parent job and one resizeServer sub-job per server commit together.
func (s *Service) BatchResizeServers(ctx context.Context, req *ecs.BatchResizeRequest) (string, error) {
	if err := checkBatchShape(req); err != nil {
		return "", err
	}
	var jobID string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
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
		job, err := s.insertBatch(ctx, tx, req.ProjectID, ecs.JobBatchResize, ecs.JobResizeServer, req.ServerIDs, params)
		if err != nil {
			return err
		}
		jobID = job.ID
		return nil
	})
	return jobID, err
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
// share: no spot server, one billing mode (pay-per-use: yearly/monthly
// batches need orders, not supported yet), one AZ, one current flavor.
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
	if first.ChargingMode == ecs.ChargingPrePaid {
		return ecs.Errorf(ecs.CodeChargingNotAllowed,
			"Instance[%s] is billed yearly/monthly; batch resize of yearly/monthly servers is not supported by this version of ecsd yet.", first.ID)
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
