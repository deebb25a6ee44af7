// Package compute implements ecsd's services: the rules of the ECS API
// (validation in the documented order, quotas, capacity, the state machine)
// on top of a Store. Every mutating method runs in one transaction that
// writes the rows and enqueues the job that carries the change on, so that a
// crash either loses the whole request or none of it.
package compute

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Store is the persistence compute needs. Methods that take a *sql.Tx run in
// the caller's transaction.
type Store interface {
	// BeginTx starts a read-write transaction; ecsd's read-write
	// transactions run one at a time.
	BeginTx(ctx context.Context) (*sql.Tx, error)
	// BeginReadTx starts a read-only transaction, which does not wait for
	// the writers: it sees everything committed before it began, and
	// writing in it fails.
	BeginReadTx(ctx context.Context) (*sql.Tx, error)
	// Savepoint marks a point in tx that RollbackToSavepoint undoes the
	// work back to, and ReleaseSavepoint forgets (one at a time).
	Savepoint(ctx context.Context, tx *sql.Tx) error
	ReleaseSavepoint(ctx context.Context, tx *sql.Tx) error
	RollbackToSavepoint(ctx context.Context, tx *sql.Tx) error
	// ReadTenantByAccessKey reads a tenant by access key in one statement
	// of its own, outside any transaction (a read-only one's view).
	ReadTenantByAccessKey(ctx context.Context, ak string) (*ecs.Tenant, ecs.Quota, error)

	InsertServer(ctx context.Context, tx *sql.Tx, s *ecs.Server) error
	UpdateServer(ctx context.Context, tx *sql.Tx, s *ecs.Server) error
	// UpdateServerFrom writes only the columns of s that differ from old,
	// the server as read in tx.
	UpdateServerFrom(ctx context.Context, tx *sql.Tx, old, s *ecs.Server) error
	MarkServerDeleted(ctx context.Context, tx *sql.Tx, id string, at time.Time) error
	ServerByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Server, error)
	// ServerView reads a live server with its security groups and volumes
	// in one statement of its own, outside any transaction.
	ServerView(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error)
	FindServers(ctx context.Context, tx *sql.Tx, f ecs.ServerFilter) ([]*ecs.Server, int, error)
	ServersInProject(ctx context.Context, tx *sql.Tx, projectID string) ([]*ecs.Server, error)
	// ProjectUsage counts a project's live servers by flavor, resize
	// target and charging mode (quota).
	ProjectUsage(ctx context.Context, tx *sql.Tx, projectID string) ([]ecs.ServerGroup, error)
	// HostUsage counts an AZ's live servers by host, flavor, resize target
	// and resize host (capacity).
	HostUsage(ctx context.Context, tx *sql.Tx, az string) ([]ecs.ServerGroup, error)
	BusyServers(ctx context.Context, tx *sql.Tx) ([]*ecs.Server, error)

	InsertJob(ctx context.Context, tx *sql.Tx, j *ecs.Job) error
	UpdateJob(ctx context.Context, tx *sql.Tx, j *ecs.Job) error
	JobByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Job, error)
	SubJobs(ctx context.Context, tx *sql.Tx, parentID string) ([]*ecs.Job, error)
	UnfinishedJobs(ctx context.Context, tx *sql.Tx) ([]*ecs.Job, error)

	UpsertTenant(ctx context.Context, tx *sql.Tx, t *ecs.Tenant, q ecs.Quota, now time.Time) error
	TenantByAccessKey(ctx context.Context, tx *sql.Tx, ak string) (*ecs.Tenant, ecs.Quota, error)
	TenantByProject(ctx context.Context, tx *sql.Tx, projectID string) (*ecs.Tenant, ecs.Quota, error)

	InsertVPC(ctx context.Context, tx *sql.Tx, v *ecs.VPC) error
	InsertSubnet(ctx context.Context, tx *sql.Tx, s *ecs.Subnet) error
	InsertSecurityGroup(ctx context.Context, tx *sql.Tx, g *ecs.SecurityGroup) error
	VPCs(ctx context.Context, tx *sql.Tx, projectID string) ([]*ecs.VPC, error)
	Subnets(ctx context.Context, tx *sql.Tx, projectID, vpcID string) ([]*ecs.Subnet, error)
	SubnetByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Subnet, error)
	NextHostNumber(ctx context.Context, tx *sql.Tx, subnetID string) (int, error)
	SecurityGroups(ctx context.Context, tx *sql.Tx, projectID string) ([]*ecs.SecurityGroup, error)

	ReplaceHosts(ctx context.Context, tx *sql.Tx, hosts []ecs.Host) error
	Hosts(ctx context.Context, tx *sql.Tx, az string) ([]ecs.Host, error)

	InsertAction(ctx context.Context, tx *sql.Tx, a *ecs.Action) error
	Actions(ctx context.Context, tx *sql.Tx, projectID, serverID string) ([]*ecs.Action, error)
	Phases(ctx context.Context, tx *sql.Tx, jobID string) ([]*ecs.PhaseEvent, error)

	ClientToken(ctx context.Context, tx *sql.Tx, projectID, token string) (string, error)
	PutClientToken(ctx context.Context, tx *sql.Tx, projectID, token, response string, nanos int64) error

	OrderStore
	ResourceStore
	TokenStore
}

// Queue enqueues the execution of a job inside the caller's transaction.
type Queue interface {
	Enqueue(ctx context.Context, tx *sql.Tx, jobs ...*ecs.Job) error
}

// TxObserver is implemented by a Queue that wants to know when each
// transaction of the Service ends (e.g. to wake its workers after the
// commit of a transaction that enqueued jobs).
type TxObserver interface {
	TxDone(tx *sql.Tx, committed bool)
}

// Catalog is the flavor and image catalogue compute consults. It may be
// replaced while in use (catalog.Live): each call then reads one whole
// catalogue, the old or the new.
type Catalog interface {
	Flavor(id string) (*ecs.Flavor, bool)
	Flavors() []*ecs.Flavor
	Image(id string) (*ecs.Image, bool)
	Images() []*ecs.Image
	AZs() []ecs.AvailabilityZone
	CheckResize(src, dst *ecs.Flavor, az string, xenDriversReady bool) error
	ResizeTargets(src *ecs.Flavor, az string) []*ecs.Flavor
	ImageFits(img *ecs.Image, f *ecs.Flavor) error
}

// Market is what fault injection does to the market: flavors sold out in
// an availability zone and capacity taken away from hosts. Both are read on
// every placement and must be cheap.
type Market interface {
	// SoldOut reports whether flavorID is sold out in az.
	SoldOut(flavorID, az string) bool
	// TakenCapacity returns the vCPUs and memory unavailable on a host.
	TakenCapacity(hostID string) (vcpus, ramMB int)
}

// Service implements ecs.ServerService, ecs.JobService, ecs.TenantService,
// ecs.FlavorService, ecs.NetworkService and ecs.ImageService. It is safe for
// concurrent use.
type Service struct {
	Store   Store
	Queue   Queue
	Catalog Catalog
	Clock   ecs.Clock
	Logger  *slog.Logger
	// Market, when set, adds injected faults (sold-out flavors, taken
	// capacity) to the catalogue's sale status and the hosts' usage.
	Market Market
	// Accounts are the tenants' IAM accounts and password users
	// (IdentityService); nil means no password user can log in.
	Accounts []ecs.Account

	group *groupCommit // made on first use (groupOf)
}

var (
	_ ecs.ServerService  = (*Service)(nil)
	_ ecs.JobService     = (*Service)(nil)
	_ ecs.TenantService  = (*Service)(nil)
	_ ecs.FlavorService  = (*Service)(nil)
	_ ecs.NetworkService = (*Service)(nil)
	_ ecs.ImageService   = (*Service)(nil)

	_ ecs.ServerDetailService = (*Service)(nil)
)

// inTx runs fn in a transaction and commits when it returns nil: its
// work is committed, or none of it. Concurrent calls share transactions
// (group commit, groupCommit). fn's ctx has ctx's values but not its
// cancellation: fn must use it, not ctx.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.groupOf().do(ctx, s, fn)
}

// InTx runs fn as inTx does, in a transaction shared with concurrent
// requests (group commit): for work outside the Service that may join
// them (the runner's jobs).
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.inTx(ctx, fn)
}

// inOwnTx runs fn in a transaction of its own and commits when it returns
// nil.
func (s *Service) inOwnTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.Store.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	obs, _ := s.Queue.(TxObserver)
	if err := fn(ctx, tx); err != nil {
		if obs != nil {
			obs.TxDone(tx, false)
		}
		return err
	}
	err = tx.Commit()
	if obs != nil {
		obs.TxDone(tx, err == nil)
	}
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inReadTx runs fn, which only reads, in a read-only transaction
// (Store.BeginReadTx): it does not queue behind the writers, and sees what
// committed before it began, so a read that follows a write of the same
// request (its transaction committed) sees it.
func (s *Service) inReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.Store.BeginReadTx(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inReadTxValue is inReadTx returning fn's value.
func inReadTxValue[T any](ctx context.Context, s *Service, fn func(tx *sql.Tx) (T, error)) (T, error) {
	var v T
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

// withCatalog returns a copy of s that consults cat (and shares its
// transactions).
func (s *Service) withCatalog(cat Catalog) *Service {
	s.groupOf()
	c := *s
	c.Catalog = cat
	return &c
}

// soldOut reports whether an injected fault sells flavorID out in az.
func (s *Service) soldOut(flavorID, az string) bool {
	return s.Market != nil && s.Market.SoldOut(flavorID, az)
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return formatUUID(b)
}

// DerivedUUID returns a stable version-5-style UUID for a name, so that the
// default network of a project has the same IDs on every ecsd.
func DerivedUUID(name string) string {
	sum := sha1.Sum([]byte("ecsd:" + name))
	var b [16]byte
	copy(b[:], sum[:16])
	b[6] = (b[6] & 0x0f) | 0x50
	b[8] = (b[8] & 0x3f) | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// NewJobID returns a job ID in the 32-hex-character form Huawei uses.
func NewJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
