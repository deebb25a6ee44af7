package ecs

import (
	"context"
	"time"
)

// Volume statuses (EVS).
const (
	VolumeInUse     = "in-use"
	VolumeAvailable = "available"
)

// Not-found codes of the EVS and VPC slices. Huawei publishes no code for
// these; ecsd answers them with HTTP 404 (docs/compatibility.md).
const (
	CodeVolumeNotFound = "EVS.5404"
	CodePortNotFound   = "VPC.0404"
)

// VolumeNotFound returns the error for a missing volume.
func VolumeNotFound(id string) *Error {
	return &Error{Code: CodeVolumeNotFound, Message: "Volume " + id + " could not be found.", Status: 404}
}

// PortNotFound returns the error for a missing port.
func PortNotFound(id string) *Error {
	return &Error{Code: CodePortNotFound, Message: "Port " + id + " could not be found.", Status: 404}
}

// Volume is an EVS disk: a server's system disk (Bootable, BootIndex 0) or
// one of its data disks. A detached volume has an empty ServerID.
type Volume struct {
	ID                  string
	ProjectID           string
	Name                string
	AvailabilityZone    string
	VolumeType          string // SATA, SAS, SSD, GPSSD, ...
	SizeGB              int
	Bootable            bool
	ImageID             string // the image a system disk was made from
	Status              string // VolumeInUse or VolumeAvailable
	ServerID            string
	Device              string // /dev/vda, /dev/vdb, ...
	BootIndex           int    // 0 for the system disk, -1 otherwise
	DeleteOnTermination bool
	Created             time.Time
	Updated             time.Time
}

// VolumeSpec asks for one data disk at server creation.
type VolumeSpec struct {
	VolumeType string
	SizeGB     int
}

// Port is a VPC port: a server NIC. NetworkID is the subnet's ID, as in
// Huawei's VPC v1 API.
type Port struct {
	ID               string
	ProjectID        string
	NetworkID        string
	SubnetID         string
	IPAddress        string
	MACAddress       string
	DeviceID         string // the server's ID
	DeviceOwner      string // compute:<az>
	Status           string // ACTIVE
	SecurityGroups   []string
	AvailabilityZone string
	Created          time.Time
}

// PortFilter selects ports of one project. Empty fields do not filter.
type PortFilter struct {
	ProjectID string
	ID        string
	DeviceID  string
	NetworkID string
	Limit     int // 0 = no limit
}

// ServerUpdate changes a server's name, description or hostname; nil
// fields stay as they are.
type ServerUpdate struct {
	Name        *string
	Description *string
	Hostname    *string
}

// ResourceService reads the volumes and ports that servers own and edits a
// server's name, metadata and tags. A missing volume, port or server is a
// not-found *Error.
type ResourceService interface {
	FindVolumeByID(ctx context.Context, projectID, id string) (*Volume, error)
	// ServerVolumes returns the volumes attached to a server, system disk
	// first, then by device.
	ServerVolumes(ctx context.Context, projectID, serverID string) ([]*Volume, error)
	// VolumesOfServers returns the volumes of several servers of the
	// project at once, keyed by server ID.
	VolumesOfServers(ctx context.Context, projectID string, serverIDs []string) (map[string][]*Volume, error)
	FindPortByID(ctx context.Context, projectID, id string) (*Port, error)
	FindPorts(ctx context.Context, f PortFilter) ([]*Port, error)
	FindSubnetByID(ctx context.Context, projectID, id string) (*Subnet, error)
	// UpdateServer applies upd and returns the server.
	UpdateServer(ctx context.Context, projectID, id string, upd ServerUpdate) (*Server, error)
	// MergeServerMetadata adds or replaces user metadata keys and returns
	// the server's whole user metadata.
	MergeServerMetadata(ctx context.Context, projectID, id string, md map[string]string) (map[string]string, error)
	// AddServerTags adds "key=value" tags, replacing a tag of the same
	// key; DeleteServerTags removes the tags of the given keys. Both return
	// the server's tags.
	AddServerTags(ctx context.Context, projectID, id string, tags []string) ([]string, error)
	DeleteServerTags(ctx context.Context, projectID, id string, keys []string) ([]string, error)
	// AvailabilityZones lists the region's AZs.
	AvailabilityZones(ctx context.Context) ([]AvailabilityZone, error)
}
