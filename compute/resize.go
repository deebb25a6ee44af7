package compute

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// ResizeServer implements ecs.ServerService. The checks run in the order the
// design fixes (each with its Huawei code): server exists → billing mode →
// lock, freeze, task in progress and status → target flavor (exists,
// differs, on sale in the server's AZ, in the resize list, fits the image) →
// cpu_options → quota → capacity. A dry run stops there. Otherwise the
// server's task state, the resize reservation and the job commit together.
func (s *Service) ResizeServer(ctx context.Context, req *ecs.ResizeRequest) (string, error) {
	res, err := s.resizeServer(ctx, req)
	if err != nil {
		return "", err
	}
	return res.JobID, nil
}

// resizeServer is ResizeServer. A yearly/monthly server (v1.1 only) gets
// an order for the price difference over the rest of its period: an
// upgrade that is not auto-paid leaves the job in PENDING_PAYMENT (the
// server keeps its task state, so it stays busy, and the target stays
// reserved) until PayOrder or CancelOrder; a downgrade is a refund order,
// completed at once.
func (s *Service) resizeServer(ctx context.Context, req *ecs.ResizeRequest) (*ecs.ResizeResult, error) {
	res := &ecs.ResizeResult{}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		srv, err := s.Store.ServerByID(ctx, tx, req.ProjectID, req.ServerID)
		if err != nil {
			return err
		}
		switch {
		case srv.ChargingMode == ecs.ChargingSpot:
			return ecs.Errorf(ecs.CodeChargingNotAllowed, "Instance[%s] is a spot server; spot servers cannot be resized.", srv.ID)
		case srv.ChargingMode == ecs.ChargingPrePaid && req.APIVersion == "v1":
			return ecs.Errorf(ecs.CodeChargingNotAllowed,
				"Instance[%s] is billed yearly/monthly; resize it with POST /v1.1/{project_id}/cloudservers/{server_id}/resize.", srv.ID)
		}
		cur, next, err := s.checkResize(srv, req.FlavorID, req.WithStop, req.CPUThreads)
		if err != nil {
			return err
		}
		if srv.ChargingMode == ecs.ChargingPrePaid {
			if err := s.checkNoPendingOrder(ctx, tx, srv); err != nil {
				return err
			}
		}
		limits, err := s.limits(ctx, tx, req.ProjectID)
		if err != nil {
			return err
		}
		if err := checkQuota(limits, false, 0, next.VCPUs-cur.VCPUs, next.RAMMB-cur.RAMMB); err != nil {
			return err
		}
		usage, err := s.usageInAZ(ctx, tx, srv.AvailabilityZone)
		if err != nil {
			return err
		}
		host := placeResize(usage, srv, cur, next)
		if host == "" {
			return ecs.Errorf(ecs.CodeInsufficientCap,
				"Insufficient capacity for flavor %s in availability zone %s; choose another flavor.", next.ID, srv.AvailabilityZone)
		}
		var order *ecs.Order
		if srv.ChargingMode == ecs.ChargingPrePaid {
			if order, err = s.resizeOrder(ctx, tx, srv, cur.ID, next.ID, req.AutoPay); err != nil {
				return err
			}
		}
		if req.DryRun {
			return nil
		}

		wasRunning := srv.VMState == ecs.VMActive
		params := ResizeParams{
			FlavorID: next.ID, OldFlavorID: cur.ID, HostID: host, OldHostID: srv.HostID,
			WasRunning: wasRunning, CPUThreads: req.CPUThreads, OldCPUThreads: srv.CPUThreads,
		}
		read := srv.Clone()
		srv.ResizeFlavorID, srv.ResizeHostID = next.ID, host
		srv.TaskState = ecs.TaskResizePrep
		if wasRunning {
			srv.TaskState = ecs.TaskPoweringOff
		}
		srv.Updated = s.now()
		if err := s.Store.UpdateServerFrom(ctx, tx, read, srv); err != nil {
			return err
		}
		job := newJob(req.ProjectID, "", ecs.JobResizeServer, srv.ID, params, s.now())
		held := order != nil && order.Status == ecs.OrderPendingPayment
		if held {
			job.Status = ecs.JobPendingPayment
		}
		if err := s.Store.InsertJob(ctx, tx, job); err != nil {
			return err
		}
		if err := s.recordAction(ctx, tx, job); err != nil {
			return err
		}
		if !held {
			if err := s.Queue.Enqueue(ctx, tx, job); err != nil {
				return err
			}
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

// checkResize holds the per-server checks of a resize, shared by
// ResizeServer and BatchResizeServers: state (lock, freeze, task, power) →
// target flavor (exists, differs, in the resize list, on sale in the
// server's AZ, sold for its billing mode, fits its image) → cpu_options. It
// returns the current and the target flavor.
func (s *Service) checkResize(srv *ecs.Server, flavorID string, withStop bool, cpuThreads int) (*ecs.Flavor, *ecs.Flavor, error) {
	if err := checkResizableState(srv, withStop); err != nil {
		return nil, nil, err
	}
	cur, ok := s.Catalog.Flavor(srv.FlavorID)
	if !ok {
		return nil, nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s of Instance[%s] is no longer in the catalogue.", srv.FlavorID, srv.ID)
	}
	next, ok := s.Catalog.Flavor(flavorID)
	if !ok {
		return nil, nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", flavorID)
	}
	if next.ID == cur.ID {
		return nil, nil, ecs.Errorf(ecs.CodeSameFlavor, "Instance[%s] already has flavor %s.", srv.ID, cur.ID)
	}
	img, _ := s.Catalog.Image(srv.ImageID)
	if err := s.Catalog.CheckResize(cur, next, srv.AvailabilityZone, xenDriversReady(img)); err != nil {
		return nil, nil, err
	}
	if s.soldOut(next.ID, srv.AvailabilityZone) {
		return nil, nil, ecs.Errorf(ecs.CodeInsufficientCap, "flavor %s cannot be changed to %s: %s is not on sale in %s (sellout)",
			cur.ID, next.ID, next.ID, srv.AvailabilityZone)
	}
	if err := chargeError(next, srv.ChargingMode); err != nil {
		return nil, nil, err
	}
	if img != nil {
		if err := s.Catalog.ImageFits(img, next); err != nil {
			return nil, nil, err
		}
	}
	if cpuThreads != 0 {
		if err := checkCPUThreads(next, cpuThreads); err != nil {
			return nil, nil, err
		}
	}
	return cur, next, nil
}

// checkResizableState refuses locked, frozen, busy and wrongly powered
// servers.
func checkResizableState(srv *ecs.Server, withStop bool) error {
	switch {
	case srv.Locked:
		return ecs.Errorf(ecs.CodeLocked, "Instance[%s] is locked.", srv.ID)
	case srv.Frozen:
		return ecs.Errorf(ecs.CodeFrozen, "Instance[%s] is frozen; its specifications cannot be changed.", srv.ID)
	case srv.Busy():
		return busyError(srv)
	}
	switch srv.Status() {
	case ecs.StatusShutoff:
		return nil
	case ecs.StatusActive:
		if withStop {
			return nil
		}
		return ecs.Errorf(ecs.CodeStateConflict,
			"Instance[%s] is ACTIVE; stop it first or resize with mode withStopServer.", srv.ID)
	}
	return ecs.Errorf(ecs.CodeStateConflict, "Instance[%s] in status %s cannot be resized.", srv.ID, srv.Status())
}

// xenDriversReady reports whether a server built from img can move from a
// Xen flavor to a KVM one: its image must carry the KVM drivers.
func xenDriversReady(img *ecs.Image) bool { return img != nil && img.SupportsKVM }

// checkCPUThreads validates cpu_options.hw:cpu_threads against a flavor: it
// may not exceed the flavor's threads, and turning hyper-threading off needs
// a dedicated flavor with two threads per core.
func checkCPUThreads(f *ecs.Flavor, threads int) error {
	if threads != 1 && threads != 2 {
		return ecs.Errorf(ecs.CodeBadRequest, "cpu_options.hw:cpu_threads must be 1 or 2.")
	}
	if max := f.CPUThreads(); max == 0 || threads > max {
		return ecs.Errorf(ecs.CodeBadRequest, "Flavor %s does not support cpu_options.hw:cpu_threads %d.", f.ID, threads)
	}
	if threads == 1 && (f.ExtraSpecs["hw:cpu_policy"] != "dedicated" || f.CPUThreads() != 2) {
		return ecs.Errorf(ecs.CodeBadRequest,
			"Flavor %s does not allow turning hyper-threading off: it needs hw:cpu_policy dedicated and hw:cpu_threads 2.", f.ID)
	}
	return nil
}

// ResizeFlavors implements ecs.ServerService.
func (s *Service) ResizeFlavors(ctx context.Context, req *ecs.ResizeFlavorsRequest) ([]*ecs.Flavor, error) {
	var src *ecs.Flavor
	var img *ecs.Image
	az, mode := "", ""
	switch {
	case req.InstanceID != "":
		srv, err := s.FindServerByID(ctx, req.ProjectID, req.InstanceID)
		if err != nil {
			return nil, err
		}
		f, ok := s.Catalog.Flavor(srv.FlavorID)
		if !ok {
			return nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", srv.FlavorID)
		}
		src, az, mode = f, srv.AvailabilityZone, srv.ChargingMode
		img, _ = s.Catalog.Image(srv.ImageID)
	case req.SourceFlavorID != "":
		f, ok := s.Catalog.Flavor(req.SourceFlavorID)
		if !ok {
			return nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", req.SourceFlavorID)
		}
		src = f
	case req.SourceFlavorName != "":
		for _, f := range s.Catalog.Flavors() {
			if f.Name == req.SourceFlavorName {
				src = f
				break
			}
		}
		if src == nil {
			return nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", req.SourceFlavorName)
		}
	default:
		return nil, ecs.Errorf(ecs.CodeBadRequest, "One of instance_uuid, source_flavor_id and source_flavor_name is required.")
	}
	var out []*ecs.Flavor
	for _, f := range s.Catalog.ResizeTargets(src, az) {
		if img != nil && s.Catalog.ImageFits(img, f) != nil {
			continue
		}
		if mode != "" && chargeError(f, mode) != nil {
			continue
		}
		if s.soldOut(f.ID, az) {
			continue
		}
		out = append(out, f)
	}
	sortFlavors(out, req.SortKey, req.SortDir)
	if req.Marker != "" {
		i := -1
		for k, f := range out {
			if f.ID == req.Marker {
				i = k
				break
			}
		}
		if i < 0 {
			return nil, ecs.Errorf(ecs.CodeBadRequest, "marker %s is not a flavor of this list.", req.Marker)
		}
		out = out[i+1:]
	}
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	return out, nil
}

func sortFlavors(fs []*ecs.Flavor, key, dir string) {
	less := func(a, b *ecs.Flavor) int { return strings.Compare(a.ID, b.ID) }
	switch key {
	case "name":
		less = func(a, b *ecs.Flavor) int { return strings.Compare(a.Name, b.Name) }
	case "memory_mb":
		less = func(a, b *ecs.Flavor) int { return a.RAMMB - b.RAMMB }
	case "vcpus":
		less = func(a, b *ecs.Flavor) int { return a.VCPUs - b.VCPUs }
	}
	sort.SliceStable(fs, func(i, j int) bool {
		c := less(fs[i], fs[j])
		if c == 0 {
			c = strings.Compare(fs[i].ID, fs[j].ID)
		}
		if dir == "desc" {
			return c > 0
		}
		return c < 0
	})
}
