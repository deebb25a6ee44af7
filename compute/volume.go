package compute

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// ResourceStore is the persistence of the volumes and ports servers own.
type ResourceStore interface {
	InsertVolume(ctx context.Context, tx *sql.Tx, v *ecs.Volume) error
	VolumeByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Volume, error)
	ServerVolumes(ctx context.Context, tx *sql.Tx, serverID string) ([]*ecs.Volume, error)
	VolumesOfServers(ctx context.Context, tx *sql.Tx, projectID string, serverIDs []string) (map[string][]*ecs.Volume, error)
	SetVolumesDeleteOnTermination(ctx context.Context, tx *sql.Tx, serverID string, del bool) error
	InsertPort(ctx context.Context, tx *sql.Tx, p *ecs.Port) error
	FindPorts(ctx context.Context, tx *sql.Tx, f ecs.PortFilter) ([]*ecs.Port, error)
}

var _ ecs.ResourceService = (*Service)(nil)

// Device names of a server's disks: the system disk is vda, data disks
// follow in order.
func deviceName(i int) string { return "/dev/vd" + string(rune('a'+i)) }

// insertServerResources stores the system disk, the data disks and the port
// of a new server.
func (s *Service) insertServerResources(ctx context.Context, tx *sql.Tx, srv *ecs.Server, data []ecs.VolumeSpec, now time.Time) error {
	root := &ecs.Volume{
		ID: srv.RootVolumeID, ProjectID: srv.ProjectID, Name: srv.Name + "-volume-0000",
		AvailabilityZone: srv.AvailabilityZone, VolumeType: srv.RootVolumeType, SizeGB: srv.RootVolumeSize,
		Bootable: true, ImageID: srv.ImageID, Status: ecs.VolumeInUse, ServerID: srv.ID, Device: deviceName(0),
		BootIndex: 0, DeleteOnTermination: true, Created: now, Updated: now,
	}
	if err := s.Store.InsertVolume(ctx, tx, root); err != nil {
		return err
	}
	for i, d := range data {
		v := &ecs.Volume{
			ID: NewUUID(), ProjectID: srv.ProjectID, Name: fmt.Sprintf("%s-volume-%04d", srv.Name, i+1),
			AvailabilityZone: srv.AvailabilityZone, VolumeType: d.VolumeType, SizeGB: d.SizeGB,
			Status: ecs.VolumeInUse, ServerID: srv.ID, Device: deviceName(i + 1), BootIndex: -1,
			Created: now, Updated: now,
		}
		if err := s.Store.InsertVolume(ctx, tx, v); err != nil {
			return err
		}
	}
	return s.Store.InsertPort(ctx, tx, &ecs.Port{
		ID: srv.PortID, ProjectID: srv.ProjectID, NetworkID: srv.SubnetID, SubnetID: srv.SubnetID,
		IPAddress: srv.IPAddress, MACAddress: srv.MACAddress, DeviceID: srv.ID,
		DeviceOwner: "compute:" + srv.AvailabilityZone, Status: "ACTIVE", SecurityGroups: srv.SecurityGroups,
		AvailabilityZone: srv.AvailabilityZone, Created: now,
	})
}

// FindVolumeByID implements ecs.ResourceService.
func (s *Service) FindVolumeByID(ctx context.Context, projectID, id string) (*ecs.Volume, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) (*ecs.Volume, error) {
		return s.Store.VolumeByID(ctx, tx, projectID, id)
	})
}

// ServerVolumes implements ecs.ResourceService.
func (s *Service) ServerVolumes(ctx context.Context, projectID, serverID string) ([]*ecs.Volume, error) {
	var out []*ecs.Volume
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.Store.ServerByID(ctx, tx, projectID, serverID); err != nil {
			return err
		}
		var err error
		out, err = s.Store.ServerVolumes(ctx, tx, serverID)
		return err
	})
	return out, err
}

// VolumesOfServers implements ecs.ResourceService: one query for a page of
// servers.
func (s *Service) VolumesOfServers(ctx context.Context, projectID string, serverIDs []string) (map[string][]*ecs.Volume, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) (map[string][]*ecs.Volume, error) {
		return s.Store.VolumesOfServers(ctx, tx, projectID, serverIDs)
	})
}

// FindPortByID implements ecs.ResourceService.
func (s *Service) FindPortByID(ctx context.Context, projectID, id string) (*ecs.Port, error) {
	ports, err := s.FindPorts(ctx, ecs.PortFilter{ProjectID: projectID, ID: id})
	if err != nil {
		return nil, err
	}
	if len(ports) == 0 {
		return nil, ecs.PortNotFound(id)
	}
	return ports[0], nil
}

// FindPorts implements ecs.ResourceService.
func (s *Service) FindPorts(ctx context.Context, f ecs.PortFilter) ([]*ecs.Port, error) {
	return inReadTxValue(ctx, s, func(tx *sql.Tx) ([]*ecs.Port, error) {
		return s.Store.FindPorts(ctx, tx, f)
	})
}

// FindSubnetByID implements ecs.ResourceService. A missing subnet is
// Ecs.0038 with HTTP 404.
func (s *Service) FindSubnetByID(ctx context.Context, projectID, id string) (*ecs.Subnet, error) {
	var sn *ecs.Subnet
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		sn, err = s.Store.SubnetByID(ctx, tx, projectID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sn == nil {
		return nil, &ecs.Error{Code: ecs.CodeSubnetNotFound, Message: "Subnet " + id + " could not be found.", Status: 404}
	}
	return sn, nil
}

// editServer loads a live server, applies fn and writes it back.
func (s *Service) editServer(ctx context.Context, projectID, id string, fn func(srv *ecs.Server) error) (*ecs.Server, error) {
	var srv *ecs.Server
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if srv, err = s.Store.ServerByID(ctx, tx, projectID, id); err != nil {
			return err
		}
		if err := fn(srv); err != nil {
			return err
		}
		srv.Updated = s.now()
		return s.Store.UpdateServer(ctx, tx, srv)
	})
	return srv, err
}

// UpdateServer implements ecs.ResourceService. The hostname is accepted
// but not kept: ecsd derives it from the name.
func (s *Service) UpdateServer(ctx context.Context, projectID, id string, upd ecs.ServerUpdate) (*ecs.Server, error) {
	return s.editServer(ctx, projectID, id, func(srv *ecs.Server) error {
		if upd.Name != nil {
			srv.Name = *upd.Name
		}
		if upd.Description != nil {
			srv.Description = *upd.Description
		}
		return nil
	})
}

// MergeServerMetadata implements ecs.ResourceService.
func (s *Service) MergeServerMetadata(ctx context.Context, projectID, id string, md map[string]string) (map[string]string, error) {
	srv, err := s.editServer(ctx, projectID, id, func(srv *ecs.Server) error {
		if srv.Metadata == nil {
			srv.Metadata = map[string]string{}
		}
		maps.Copy(srv.Metadata, md)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return srv.Metadata, nil
}

// maxServerTags is how many tags a server may carry.
const maxServerTags = 10

func tagKey(t string) string { k, _, _ := strings.Cut(t, "="); return k }

// AddServerTags implements ecs.ResourceService.
func (s *Service) AddServerTags(ctx context.Context, projectID, id string, tags []string) ([]string, error) {
	srv, err := s.editServer(ctx, projectID, id, func(srv *ecs.Server) error {
		for _, t := range tags {
			srv.Tags = slices.DeleteFunc(srv.Tags, func(old string) bool { return tagKey(old) == tagKey(t) })
			srv.Tags = append(srv.Tags, t)
		}
		if len(srv.Tags) > maxServerTags {
			return ecs.Errorf(ecs.CodeBadRequest, "A server may have at most %d tags.", maxServerTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return srv.Tags, nil
}

// DeleteServerTags implements ecs.ResourceService.
func (s *Service) DeleteServerTags(ctx context.Context, projectID, id string, keys []string) ([]string, error) {
	srv, err := s.editServer(ctx, projectID, id, func(srv *ecs.Server) error {
		srv.Tags = slices.DeleteFunc(srv.Tags, func(t string) bool { return slices.Contains(keys, tagKey(t)) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return srv.Tags, nil
}

// AvailabilityZones implements ecs.ResourceService.
func (s *Service) AvailabilityZones(context.Context) ([]ecs.AvailabilityZone, error) {
	return s.Catalog.AZs(), nil
}
