package compute

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// CreateServers implements ecs.ServerService. It validates the request
// (image, flavor, AZ and sale status, network, quota, capacity, in that
// order), then stores
// the servers in BUILD with one createSingleServer sub-job each. A repeated
// X-Client-Token returns the first call's result.
func (s *Service) CreateServers(ctx context.Context, req *ecs.CreateServersRequest) (*ecs.CreateServersResult, error) {
	var res *ecs.CreateServersResult
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if req.ClientToken != "" && !req.DryRun {
			prev, err := s.Store.ClientToken(ctx, tx, req.ProjectID, req.ClientToken)
			if err != nil {
				return err
			}
			if prev != "" {
				res = &ecs.CreateServersResult{}
				return json.Unmarshal([]byte(prev), res)
			}
		}
		var err error
		res, err = s.createServers(ctx, tx, req)
		if err != nil || req.DryRun || req.ClientToken == "" {
			return err
		}
		return s.Store.PutClientToken(ctx, tx, req.ProjectID, req.ClientToken, mustJSON(res), s.now().UnixNano())
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) createServers(ctx context.Context, tx *sql.Tx, req *ecs.CreateServersRequest) (*ecs.CreateServersResult, error) {
	img, ok := s.Catalog.Image(req.ImageID)
	if !ok {
		return nil, ecs.Errorf(ecs.CodeImageNotFound, "Image %s could not be found.", req.ImageID)
	}
	flavor, ok := s.Catalog.Flavor(req.FlavorID)
	if !ok {
		return nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", req.FlavorID)
	}
	if err := s.Catalog.ImageFits(img, flavor); err != nil {
		return nil, err
	}
	if err := chargeError(flavor, req.ChargingMode); err != nil {
		return nil, err
	}
	if req.CPUThreads != 0 {
		if err := checkCPUThreads(flavor, req.CPUThreads); err != nil {
			return nil, err
		}
	}
	count := max(req.Count, 1)
	azs, err := s.saleAZs(req.AvailabilityZone, flavor, req.ChargingMode)
	if err != nil {
		return nil, err
	}
	subnets := make([]*ecs.Subnet, 0, len(req.SubnetIDs))
	for _, id := range req.SubnetIDs {
		sn, err := s.Store.SubnetByID(ctx, tx, req.ProjectID, id)
		if err != nil {
			return nil, err
		}
		if sn == nil {
			return nil, ecs.Errorf(ecs.CodeSubnetNotFound, "Subnet %s could not be found.", id)
		}
		if sn.VPCID != req.VPCID {
			return nil, ecs.Errorf(ecs.CodeVPCMismatch, "vpcid %s differs from the VPC %s of subnet %s.", req.VPCID, sn.VPCID, id)
		}
		subnets = append(subnets, sn)
	}
	if len(subnets) == 0 {
		return nil, ecs.Errorf(ecs.CodeBadRequest, "nics must contain at least one subnet.")
	}
	sgIDs, err := s.securityGroups(ctx, tx, req.ProjectID, req.SecurityGroups)
	if err != nil {
		return nil, err
	}
	limits, err := s.limits(ctx, tx, req.ProjectID)
	if err != nil {
		return nil, err
	}
	spot := req.ChargingMode == ecs.ChargingSpot
	if err := checkQuota(limits, spot, count, count*flavor.VCPUs, count*flavor.RAMMB); err != nil {
		return nil, err
	}
	az, hosts, err := s.placeInAZs(ctx, tx, azs, flavor, count)
	if err != nil {
		return nil, err
	}
	if req.DryRun {
		return &ecs.CreateServersResult{}, nil
	}

	now := s.now()
	res := &ecs.CreateServersResult{}
	var order *ecs.Order
	if req.ChargingMode == ecs.ChargingPrePaid {
		if order, err = s.newPurchaseOrder(ctx, tx, req, count); err != nil {
			return nil, err
		}
		res.OrderID = order.ID
	}
	size := req.RootVolumeSize
	if size == 0 {
		size = img.MinDiskGB
	}
	for i := range count {
		name := req.Name
		if count > 1 {
			name = fmt.Sprintf("%s-%04d", req.Name, i+1)
		}
		ip, err := s.allocateIP(ctx, tx, subnets[0])
		if err != nil {
			return nil, err
		}
		srv := &ecs.Server{
			ID: NewUUID(), ProjectID: req.ProjectID, Name: name, Description: req.Description,
			FlavorID: flavor.ID, ImageID: img.ID, AvailabilityZone: az, HostID: hosts[i],
			VMState: ecs.VMBuilding, TaskState: ecs.TaskScheduling, PowerState: ecs.PowerNoState,
			ChargingMode: req.ChargingMode, OrderID: res.OrderID,
			VPCID: req.VPCID, SubnetID: subnets[0].ID, PortID: NewUUID(), IPAddress: ip, MACAddress: newMAC(),
			SecurityGroups: sgIDs, KeyName: req.KeyName, UserData: req.UserData,
			Metadata: req.Metadata, Tags: req.Tags,
			RootVolumeID: NewUUID(), RootVolumeType: req.RootVolumeType, RootVolumeSize: size,
			CPUThreads: req.CPUThreads, Created: now, Updated: now,
		}
		if err := s.Store.InsertServer(ctx, tx, srv); err != nil {
			return nil, err
		}
		if err := s.insertServerResources(ctx, tx, srv, req.DataVolumes, now); err != nil {
			return nil, err
		}
		res.ServerIDs = append(res.ServerIDs, srv.ID)
	}
	var job *ecs.Job
	if order != nil && order.Status == ecs.OrderPendingPayment {
		// Manual payment: the job waits in PENDING_PAYMENT (PayOrder
		// enqueues its sub-jobs, CancelOrder fails it).
		job, err = s.insertHeldBatch(ctx, tx, req.ProjectID, ecs.JobCreateServer, ecs.JobCreateSingleServer, res.ServerIDs, nil)
	} else {
		job, err = s.insertBatch(ctx, tx, req.ProjectID, ecs.JobCreateServer, ecs.JobCreateSingleServer, res.ServerIDs, nil)
	}
	if err != nil {
		return nil, err
	}
	res.JobID = job.ID
	if order != nil {
		order.ServerIDs, order.JobID = res.ServerIDs, job.ID
		if err := s.orders().InsertOrder(ctx, tx, order); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// saleAZs returns the AZs a create may use: the requested one, or every AZ
// of the region where the flavor is on sale, in order. It refuses an unknown
// AZ and a flavor on sale in none of them.
func (s *Service) saleAZs(want string, f *ecs.Flavor, mode string) ([]string, error) {
	var out []string
	var saleErr error
	known := false
	for _, az := range s.Catalog.AZs() {
		if want != "" && az.Name != want {
			continue
		}
		known = true
		err := saleError(f, az.Name)
		if err == nil && s.soldOut(f.ID, az.Name) {
			err = ecs.Errorf(ecs.CodeInsufficientCap, "Flavor %s is sold out in availability zone %s.", f.ID, az.Name)
		}
		if err == nil && mode == ecs.ChargingSpot && !f.OnSpotSale(az.Name) {
			err = ecs.Errorf(ecs.CodeBadRequest, "Flavor %s is not sold as spot in availability zone %s (cond:spot:operation:status %s).",
				f.ID, az.Name, f.SpotSaleStatus(az.Name))
		}
		if err != nil {
			saleErr = err
			continue
		}
		out = append(out, az.Name)
	}
	switch {
	case !known:
		return nil, ecs.Errorf(ecs.CodeBadRequest, "Availability zone %s does not exist.", want)
	case len(out) == 0:
		return nil, saleErr
	}
	return out, nil
}

// placeInAZs returns the first AZ of azs with room for count servers of f,
// and a host per server.
func (s *Service) placeInAZs(ctx context.Context, tx *sql.Tx, azs []string, f *ecs.Flavor, count int) (string, []string, error) {
	return s.placeInAZsCached(ctx, tx, azs, f, count, nil)
}

// placeInAZsCached is placeInAZs with the host usage of each AZ kept in
// cache (when not nil) across calls in one transaction: the usage is read
// from the store the first time an AZ is consulted, and the servers placed
// are added to it.
func (s *Service) placeInAZsCached(ctx context.Context, tx *sql.Tx, azs []string, f *ecs.Flavor, count int, cache map[string][]*hostUsage) (string, []string, error) {
	for _, az := range azs {
		usage, ok := cache[az]
		if !ok {
			var err error
			if usage, err = s.usageInAZ(ctx, tx, az); err != nil {
				return "", nil, err
			}
			if cache != nil {
				cache[az] = usage
			}
		}
		saved := make([][2]int, len(usage))
		for i, u := range usage {
			saved[i] = [2]int{u.vcpus, u.ramMB}
		}
		if hosts := place(usage, f, count); hosts != nil {
			return az, hosts, nil
		}
		for i, u := range usage { // place filled some hosts before it failed
			u.vcpus, u.ramMB = saved[i][0], saved[i][1]
		}
	}
	where := "availability zone " + azs[0]
	if len(azs) > 1 {
		where = "any availability zone (" + strings.Join(azs, ", ") + ")"
	}
	return "", nil, ecs.Errorf(ecs.CodeInsufficientCap,
		"Insufficient capacity for %d server(s) of flavor %s in %s; choose another flavor or availability zone.", count, f.ID, where)
}

// chargeError refuses a flavor that is not sold with a billing mode.
func chargeError(f *ecs.Flavor, mode string) error {
	if f.SoldFor(mode) {
		return nil
	}
	names := map[string]string{ecs.ChargingPostPaid: "pay-per-use", ecs.ChargingPrePaid: "yearly/monthly", ecs.ChargingSpot: "spot"}
	return ecs.Errorf(ecs.CodeBadRequest, "Flavor %s is not sold %s (cond:operation:charge %s).",
		f.ID, names[mode], f.ExtraSpecs["cond:operation:charge"])
}

// saleError tells why f cannot be bought in az, or returns nil.
func saleError(f *ecs.Flavor, az string) error {
	switch f.SaleStatus(az) {
	case ecs.SaleAbandon:
		return ecs.Errorf(ecs.CodeFlavorAbandoned, "Flavor %s is abandoned.", f.ID)
	case ecs.SaleSellout:
		return ecs.Errorf(ecs.CodeInsufficientCap, "Flavor %s is sold out in availability zone %s.", f.ID, az)
	}
	if !f.OnSale(az) {
		return ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s is not available in availability zone %s.", f.ID, az)
	}
	return nil
}

func (s *Service) securityGroups(ctx context.Context, tx *sql.Tx, projectID string, ids []string) ([]string, error) {
	all, err := s.Store.SecurityGroups(ctx, tx, projectID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		for _, g := range all {
			if g.Name == "default" {
				return []string{g.ID}, nil
			}
		}
		return nil, nil
	}
	for _, id := range ids {
		if !slices.ContainsFunc(all, func(g *ecs.SecurityGroup) bool { return g.ID == id }) {
			return nil, ecs.Errorf(ecs.CodeNetworkInvalid, "Security group %s could not be found.", id)
		}
	}
	return ids, nil
}

// allocateIP takes the next free address of a subnet.
func (s *Service) allocateIP(ctx context.Context, tx *sql.Tx, sn *ecs.Subnet) (string, error) {
	prefix, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return "", fmt.Errorf("subnet %s: cidr %q: %w", sn.ID, sn.CIDR, err)
	}
	n, err := s.Store.NextHostNumber(ctx, tx, sn.ID)
	if err != nil {
		return "", err
	}
	addr := prefix.Masked().Addr()
	for range n {
		addr = addr.Next()
	}
	if !prefix.Contains(addr.Next()) {
		return "", ecs.Errorf(codeSubnetFull, "Subnet %s has no free IP address left.", sn.ID)
	}
	return addr.String(), nil
}

// codeSubnetFull is the error code of a subnet with no free address.
const codeSubnetFull = "Ecs.0012"

func newMAC() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
}

// FindServerByID implements ecs.ServerService.
func (s *Service) FindServerByID(ctx context.Context, projectID, id string) (*ecs.Server, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) (*ecs.Server, error) {
		return s.Store.ServerByID(ctx, tx, projectID, id)
	})
}

// FindServerDetail implements ecs.ServerDetailService.
// The server, its security groups and its volumes are one statement.
func (s *Service) FindServerDetail(ctx context.Context, projectID, id string) (*ecs.ServerDetails, error) {
	srv, sgs, vols, err := s.Store.ServerView(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return &ecs.ServerDetails{Servers: []*ecs.Server{srv}, Total: 1, SecurityGroups: sgs,
		Volumes: map[string][]*ecs.Volume{srv.ID: vols}}, nil
}

// FindServerDetails implements ecs.ServerDetailService.
func (s *Service) FindServerDetails(ctx context.Context, f ecs.ServerFilter) (*ecs.ServerDetails, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) (*ecs.ServerDetails, error) {
		servers, n, err := s.Store.FindServers(ctx, tx, f)
		if err != nil {
			return nil, err
		}
		d := &ecs.ServerDetails{Servers: servers, Total: n}
		return d, s.serverDetails(ctx, tx, f.ProjectID, d)
	})
}

// serverDetails reads the project's security groups and the volumes of
// d.Servers into d.
func (s *Service) serverDetails(ctx context.Context, tx *sql.Tx, projectID string, d *ecs.ServerDetails) error {
	var err error
	if d.SecurityGroups, err = s.Store.SecurityGroups(ctx, tx, projectID); err != nil {
		return err
	}
	ids := make([]string, len(d.Servers))
	for i, srv := range d.Servers {
		ids[i] = srv.ID
	}
	d.Volumes, err = s.Store.VolumesOfServers(ctx, tx, projectID, ids)
	return err
}

// FindServers implements ecs.ServerService.
func (s *Service) FindServers(ctx context.Context, f ecs.ServerFilter) ([]*ecs.Server, int, error) {
	var out []*ecs.Server
	var n int
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, n, err = s.Store.FindServers(ctx, tx, f)
		return err
	})
	return out, n, err
}

// DeleteServers implements ecs.ServerService. Every server must exist and be
// idle; otherwise nothing is deleted.
func (s *Service) DeleteServers(ctx context.Context, req *ecs.DeleteServersRequest) (string, error) {
	var jobID string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		servers, err := s.idleServers(ctx, tx, req.ProjectID, req.ServerIDs)
		if err != nil {
			return err
		}
		for _, srv := range servers {
			if srv.ChargingMode == ecs.ChargingPrePaid {
				return ecs.Errorf(ecs.CodeChargingNotAllowed,
					"Server %s is billed yearly/monthly; unsubscribe it instead of deleting it.", srv.ID)
			}
		}
		for _, srv := range servers {
			srv.TaskState = ecs.TaskDeleting
			srv.Updated = s.now()
			if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
				return err
			}
			if err := s.Store.SetVolumesDeleteOnTermination(ctx, tx, srv.ID, req.DeleteVolume); err != nil {
				return err
			}
		}
		job, err := s.insertBatch(ctx, tx, req.ProjectID, ecs.JobDeleteServer, ecs.JobDeleteSingleServer, req.ServerIDs, nil)
		if err != nil {
			return err
		}
		jobID = job.ID
		return nil
	})
	return jobID, err
}

// idleServers loads servers of a project, refusing unknown and busy ones.
func (s *Service) idleServers(ctx context.Context, tx *sql.Tx, projectID string, ids []string) ([]*ecs.Server, error) {
	out := make([]*ecs.Server, 0, len(ids))
	for _, id := range ids {
		srv, err := s.Store.ServerByID(ctx, tx, projectID, id)
		if err != nil {
			return nil, err
		}
		if srv.Busy() {
			return nil, busyError(srv)
		}
		out = append(out, srv)
	}
	return out, nil
}

func busyError(srv *ecs.Server) error {
	return &ecs.Error{Code: ecs.CodeBusy, Status: 409, Message: fmt.Sprintf(
		"Instance[%s] is busy with task %s; retry when the running operation has finished.", srv.ID, srv.TaskState)}
}

// ActOnServers implements ecs.ServerService: batch start, stop and reboot.
// Starting a running server or stopping a stopped one succeeds without
// change; rebooting a stopped one, or acting on a server in ERROR, is
// refused and nothing is done.
func (s *Service) ActOnServers(ctx context.Context, req *ecs.ServerActionRequest) (string, error) {
	var jobID string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		servers, err := s.idleServers(ctx, tx, req.ProjectID, req.ServerIDs)
		if err != nil {
			return err
		}
		params := make([]any, len(servers))
		for i, srv := range servers {
			p := ActionParams{Hard: req.Hard}
			task, noop, err := actionTask(req.Action, req.Hard, srv)
			if err != nil {
				return err
			}
			p.Noop = noop
			params[i] = p
			if noop {
				continue
			}
			srv.TaskState = task
			srv.Updated = s.now()
			if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
				return err
			}
		}
		typ, sub := ecs.JobBatchStart, ecs.JobStartServer
		switch req.Action {
		case ecs.ActionStop:
			typ, sub = ecs.JobBatchStop, ecs.JobStopServer
		case ecs.ActionReboot:
			typ, sub = ecs.JobBatchReboot, ecs.JobRebootServer
		}
		job, err := s.insertBatch(ctx, tx, req.ProjectID, typ, sub, req.ServerIDs, params)
		if err != nil {
			return err
		}
		jobID = job.ID
		return nil
	})
	return jobID, err
}

// actionTask returns the task state an action starts with, or noop when the
// server is already where the action leads.
func actionTask(action string, hard bool, srv *ecs.Server) (task string, noop bool, err error) {
	if srv.Locked {
		return "", false, ecs.Errorf(ecs.CodeLocked, "Instance[%s] is locked.", srv.ID)
	}
	status := srv.Status()
	switch action {
	case ecs.ActionStart:
		switch status {
		case ecs.StatusActive:
			return "", true, nil
		case ecs.StatusShutoff:
			return ecs.TaskPoweringOn, false, nil
		}
	case ecs.ActionStop:
		switch status {
		case ecs.StatusShutoff:
			return "", true, nil
		case ecs.StatusActive:
			return ecs.TaskPoweringOff, false, nil
		}
	case ecs.ActionReboot:
		if status == ecs.StatusActive {
			if hard {
				return ecs.TaskRebootingHard, false, nil
			}
			return ecs.TaskRebooting, false, nil
		}
	default:
		return "", false, ecs.Errorf(ecs.CodeBadRequest, "Unsupported action %q.", action)
	}
	return "", false, ecs.Errorf(ecs.CodeStateConflict, "Instance[%s] in status %s cannot %s.", srv.ID, status, action)
}
