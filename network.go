package ecs

import (
	"context"
	"time"
)

// AvailabilityZone is one AZ of the region.
type AvailabilityZone struct {
	Name      string
	Available bool
}

// Image is a public image of the IMS slice.
type Image struct {
	ID           string
	Name         string
	OSType       string // Linux or Windows
	OSVersion    string // __os_version
	Platform     string // __platform, e.g. Ubuntu
	Architecture string // x86_64 or aarch64
	MinDiskGB    int
	MinRAMMB     int
	SizeBytes    int64
	Created      time.Time
	// Virtualization lists hypervisors the image supports; Xen-era flavors
	// need "xen" (support_xen in IMS).
	SupportsXen bool
	SupportsKVM bool
}

// VPC is a virtual private cloud of a project.
type VPC struct {
	ID        string
	ProjectID string
	Name      string
	CIDR      string
	Created   time.Time
}

// Subnet is a subnet of a VPC.
type Subnet struct {
	ID        string
	ProjectID string
	VPCID     string
	Name      string
	CIDR      string
	GatewayIP string
	AZ        string
	Created   time.Time
}

// SecurityGroup is a security group of a project.
type SecurityGroup struct {
	ID          string
	ProjectID   string
	Name        string
	Description string
	VPCID       string
	Created     time.Time
}

// NetworkService reads a project's VPCs, subnets and security groups.
type NetworkService interface {
	FindVPCs(ctx context.Context, projectID string) ([]*VPC, error)
	FindSubnets(ctx context.Context, projectID string, vpcID string) ([]*Subnet, error)
	FindSecurityGroups(ctx context.Context, projectID string) ([]*SecurityGroup, error)
}

// ImageService reads the public image catalogue.
type ImageService interface {
	FindImages(ctx context.Context) ([]*Image, error)
}

// Host is a hypervisor host of an availability zone, with its capacity.
type Host struct {
	ID    string
	AZ    string
	VCPUs int
	RAMMB int
	Arch  string // x86_64 or arm64
}
