package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	ecs "github.com/ecsd-dev/ecsd"
)

// EnsureTenant creates or updates a tenant and gives its project the default
// network every Huawei project starts with: a VPC, a subnet and a security
// group, with IDs derived from the project ID so that they are the same on
// every run.
func (s *Service) EnsureTenant(ctx context.Context, t ecs.Tenant, q ecs.Quota) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.ensureTenant(ctx, tx, t, q) })
}

// ensureTenant is EnsureTenant inside the caller's transaction.
func (s *Service) ensureTenant(ctx context.Context, tx *sql.Tx, t ecs.Tenant, q ecs.Quota) error {
	now := s.now()
	if err := s.Store.UpsertTenant(ctx, tx, &t, q, now); err != nil {
		return err
	}
	vpcs, err := s.Store.VPCs(ctx, tx, t.ProjectID)
	if err != nil || len(vpcs) > 0 {
		return err
	}
	vpc := &ecs.VPC{ID: DerivedUUID(t.ProjectID + "/vpc"), ProjectID: t.ProjectID, Name: "vpc-default", CIDR: "192.168.0.0/16", Created: now}
	subnet := &ecs.Subnet{ID: DerivedUUID(t.ProjectID + "/subnet"), ProjectID: t.ProjectID, VPCID: vpc.ID,
		Name: "subnet-default", CIDR: "192.168.0.0/24", GatewayIP: "192.168.0.1", Created: now}
	sg := &ecs.SecurityGroup{ID: DerivedUUID(t.ProjectID + "/sg"), ProjectID: t.ProjectID, Name: "default",
		Description: "Default security group", VPCID: "", Created: now}
	if err := s.Store.InsertVPC(ctx, tx, vpc); err != nil {
		return err
	}
	if err := s.Store.InsertSubnet(ctx, tx, subnet); err != nil {
		return err
	}
	return s.Store.InsertSecurityGroup(ctx, tx, sg)
}

// SetHosts replaces the simulated hosts.
func (s *Service) SetHosts(ctx context.Context, hosts []ecs.Host) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.Store.ReplaceHosts(ctx, tx, hosts) })
}

// FindTenantByAccessKey implements ecs.TenantService.
func (s *Service) FindTenantByAccessKey(ctx context.Context, ak string) (*ecs.Tenant, error) {
	t, _, err := s.Store.ReadTenantByAccessKey(ctx, ak)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ecs.Errorf(ecs.CodeForbidden, "access key %s is unknown", ak)
	}
	return t, err
}

// Limits implements ecs.TenantService.
func (s *Service) Limits(ctx context.Context, projectID string) (*ecs.Limits, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) (*ecs.Limits, error) {
		return s.limits(ctx, tx, projectID)
	})
}

func (s *Service) limits(ctx context.Context, tx *sql.Tx, projectID string) (*ecs.Limits, error) {
	_, q, err := s.Store.TenantByProject(ctx, tx, projectID)
	if err != nil {
		return nil, fmt.Errorf("limits of %s: %w", projectID, err)
	}
	groups, err := s.Store.ProjectUsage(ctx, tx, projectID)
	if err != nil {
		return nil, err
	}
	sgs, err := s.Store.SecurityGroups(ctx, tx, projectID)
	if err != nil {
		return nil, err
	}
	l := &ecs.Limits{Quota: q, SecurityGroupsUsed: len(sgs)}
	for _, g := range groups {
		cpus, ram := s.reservedShape(g.FlavorID, g.ResizeFlavorID)
		if g.ChargingMode == ecs.ChargingSpot {
			l.SpotInstancesUsed += g.Count
			l.SpotCoresUsed += g.Count * cpus
			l.SpotRAMUsedMB += g.Count * ram
			continue
		}
		l.InstancesUsed += g.Count
		l.CoresUsed += g.Count * cpus
		l.RAMUsedMB += g.Count * ram
	}
	return l, nil
}

// reservedShape is what a server of flavorID holds against quota and
// capacity: its flavor, or the larger of its flavor and its resize target
// (resizeFlavorID) while a resize is in progress.
func (s *Service) reservedShape(flavorID, resizeFlavorID string) (vcpus, ramMB int) {
	if f, ok := s.Catalog.Flavor(flavorID); ok {
		vcpus, ramMB = f.VCPUs, f.RAMMB
	}
	if resizeFlavorID != "" {
		if f, ok := s.Catalog.Flavor(resizeFlavorID); ok {
			vcpus, ramMB = max(vcpus, f.VCPUs), max(ramMB, f.RAMMB)
		}
	}
	return vcpus, ramMB
}

// FindJobByID implements ecs.JobService.
func (s *Service) FindJobByID(ctx context.Context, projectID, id string) (*ecs.Job, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) (*ecs.Job, error) {
		return s.Store.JobByID(ctx, tx, projectID, id)
	})
}

// FindFlavors implements ecs.FlavorService.
func (s *Service) FindFlavors(ctx context.Context, f ecs.FlavorFilter) ([]*ecs.Flavor, error) {
	var out []*ecs.Flavor
	for _, fl := range s.Catalog.Flavors() {
		if f.ID != nil && fl.ID != *f.ID {
			continue
		}
		if f.AvailabilityZone != nil && (!fl.OnSale(*f.AvailabilityZone) || s.soldOut(fl.ID, *f.AvailabilityZone)) {
			continue
		}
		if f.Marker != nil && fl.ID <= *f.Marker {
			continue
		}
		out = append(out, fl)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// FindFlavorByID implements ecs.FlavorService.
func (s *Service) FindFlavorByID(ctx context.Context, id string) (*ecs.Flavor, error) {
	if f, ok := s.Catalog.Flavor(id); ok {
		return f, nil
	}
	return nil, ecs.Errorf(ecs.CodeFlavorNotFound, "Flavor %s could not be found.", id)
}

// FindVPCs implements ecs.NetworkService.
func (s *Service) FindVPCs(ctx context.Context, projectID string) ([]*ecs.VPC, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) ([]*ecs.VPC, error) {
		return s.Store.VPCs(ctx, tx, projectID)
	})
}

// FindSubnets implements ecs.NetworkService.
func (s *Service) FindSubnets(ctx context.Context, projectID, vpcID string) ([]*ecs.Subnet, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) ([]*ecs.Subnet, error) {
		return s.Store.Subnets(ctx, tx, projectID, vpcID)
	})
}

// FindSecurityGroups implements ecs.NetworkService.
func (s *Service) FindSecurityGroups(ctx context.Context, projectID string) ([]*ecs.SecurityGroup, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) ([]*ecs.SecurityGroup, error) {
		return s.Store.SecurityGroups(ctx, tx, projectID)
	})
}

// FindImages implements ecs.ImageService.
func (s *Service) FindImages(ctx context.Context) ([]*ecs.Image, error) {
	imgs := append([]*ecs.Image(nil), s.Catalog.Images()...)
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].Name < imgs[j].Name })
	return imgs, nil
}

// Reconcile clears the task state and resize reservation of every server
// that has an operation in progress but no unfinished job to carry it: a
// state the transactional design never produces, so each one is logged.
// Call it at start-up, after interrupted jobs have been made available
// again. It returns how many servers it repaired.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	n := 0
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		busy, err := s.Store.BusyServers(ctx, tx)
		if err != nil || len(busy) == 0 {
			return err
		}
		jobs, err := s.Store.UnfinishedJobs(ctx, tx)
		if err != nil {
			return err
		}
		live := make(map[string]bool, len(jobs))
		for _, j := range jobs {
			live[j.ServerID] = true
		}
		for _, srv := range busy {
			if live[srv.ID] {
				continue
			}
			s.Logger.Warn("server had a task but no job; clearing it", "server_id", srv.ID, "task_state", srv.TaskState)
			srv.TaskState, srv.ResizeFlavorID, srv.ResizeHostID = ecs.TaskNone, "", ""
			if srv.VMState == ecs.VMBuilding {
				srv.VMState, srv.FaultCode, srv.FaultMessage = ecs.VMError, 500, "Instance creation was interrupted."
			}
			srv.Updated = s.now()
			if err := s.Store.UpdateServer(ctx, tx, srv); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
