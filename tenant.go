package ecs

import "context"

// Tenant is an account with one project: the holder of an access key.
type Tenant struct {
	ProjectID   string
	ProjectName string // also the region, e.g. cn-north-4
	DomainID    string
	AccessKey   string
	SecretKey   string
}

// The built-in development tenant: fixed, documented credentials so that a
// first run works with no set-up.
var DevTenant = Tenant{
	ProjectID:   "000000000000000000000000000ec5d1",
	ProjectName: "cn-north-4",
	DomainID:    "000000000000000000000000000ec5d0",
	AccessKey:   "ECSDDEVACCESSKEY0001",
	SecretKey:   "ecsdDevSecretKey000000000000000000000000",
}

// Quota is a project's limits; -1 means unlimited.
type Quota struct {
	Instances int
	Cores     int
	RAMMB     int
}

// DefaultQuota is the quota of a project that declares none.
var DefaultQuota = Quota{Instances: 100, Cores: 400, RAMMB: 1638400}

// Limits is a project's quota together with its usage.
type Limits struct {
	Quota
	InstancesUsed int
	CoresUsed     int
	RAMUsedMB     int
	// Spot counters.
	SpotInstancesUsed  int
	SpotCoresUsed      int
	SpotRAMUsedMB      int
	SecurityGroupsUsed int
}

// TenantService finds tenants and their limits.
type TenantService interface {
	// FindTenantByAccessKey returns the tenant holding ak, or an *Error.
	FindTenantByAccessKey(ctx context.Context, ak string) (*Tenant, error)
	// Limits returns the project's quota and usage.
	Limits(ctx context.Context, projectID string) (*Limits, error)
}
