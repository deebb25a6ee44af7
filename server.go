package ecs

import (
	"context"
	"maps"
	"slices"
	"time"
)

// VM states (OS-EXT-STS:vm_state).
const (
	VMBuilding = "building"
	VMActive   = "active"
	VMStopped  = "stopped"
	VMResized  = "resized"
	VMError    = "error"
	VMDeleted  = "deleted"
	// Shelved states exist in the published mapping; ecsd does not shelve.
	VMShelved          = "shelved"
	VMShelvedOffloaded = "shelved_offloaded"
)

// Task states (OS-EXT-STS:task_state). The empty string is "no task" and is
// sent as null.
const (
	TaskNone              = ""
	TaskScheduling        = "scheduling"
	TaskBlockDeviceMap    = "block_device_mapping"
	TaskNetworking        = "networking"
	TaskSpawning          = "spawning"
	TaskRebooting         = "rebooting"
	TaskRebootPending     = "reboot_pending"
	TaskRebootStarted     = "reboot_started"
	TaskRebootingHard     = "rebooting_hard"
	TaskRebootPendingHard = "reboot_pending_hard"
	TaskRebootStartedHard = "reboot_started_hard"
	TaskResizePrep        = "resize_prep"
	TaskResizeMigrating   = "resize_migrating"
	TaskResizeMigrated    = "resize_migrated"
	TaskResizeFinish      = "resize_finish"
	TaskResizeReverting   = "resize_reverting"
	TaskPoweringOff       = "powering-off"
	TaskPoweringOn        = "powering-on"
	TaskDeleting          = "deleting"
	// TaskResizeConfirming is ecsd's task state while a Nova confirmResize
	// job runs (Nova and Huawei publish none); the status stays
	// VERIFY_RESIZE until the job ends.
	TaskResizeConfirming = "resize_confirming"
	// Task states of operations ecsd does not perform (rebuild, live
	// migration, shelving), kept so that Status follows the whole mapping.
	TaskRebuilding             = "rebuilding"
	TaskRebuildBlockDeviceMap  = "rebuild_block_device_mapping"
	TaskRebuildSpawning        = "rebuild_spawning"
	TaskMigrating              = "migrating"
	TaskShelving               = "shelving"
	TaskShelvingImagePending   = "shelving_image_pending_upload"
	TaskShelvingImageUploading = "shelving_image_uploading"
	TaskShelvingOffloading     = "shelving_offloading"
	TaskUnshelving             = "unshelving"
)

// Power states (OS-EXT-STS:power_state).
const (
	PowerNoState  = 0
	PowerRunning  = 1
	PowerShutdown = 4
)

// Server statuses (status), derived from vm_state and task_state.
const (
	StatusBuild        = "BUILD"
	StatusReboot       = "REBOOT"
	StatusHardReboot   = "HARD_REBOOT"
	StatusResize       = "RESIZE"
	StatusActive       = "ACTIVE"
	StatusShutoff      = "SHUTOFF"
	StatusRevertResize = "REVERT_RESIZE"
	StatusVerifyResize = "VERIFY_RESIZE"
	StatusError        = "ERROR"
	StatusDeleted      = "DELETED"
	StatusRebuild      = "REBUILD"
	StatusMigrating    = "MIGRATING"
	StatusShelved      = "SHELVED"
	StatusShelvedOff   = "SHELVED_OFFLOADED"
	StatusUnknown      = "UNKNOWN"
)

// Billing modes, as in metadata.charging_mode.
const (
	ChargingPostPaid = "0" // pay-per-use
	ChargingPrePaid  = "1" // yearly/monthly
	ChargingSpot     = "2" // spot
)

// Status maps a vm_state and task_state to the API status, following the
// published mapping table (reference §H). Combinations outside it are UNKNOWN.
func Status(vmState, taskState string) string {
	rebuilding := taskState == TaskRebuilding || taskState == TaskRebuildBlockDeviceMap || taskState == TaskRebuildSpawning
	switch vmState {
	case VMBuilding:
		switch taskState {
		case TaskScheduling, TaskBlockDeviceMap, TaskNetworking, TaskSpawning, TaskNone:
			return StatusBuild
		}
	case VMActive:
		switch taskState {
		case TaskRebooting, TaskRebootPending, TaskRebootStarted:
			return StatusReboot
		case TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard:
			return StatusHardReboot
		case TaskMigrating:
			return StatusMigrating
		case TaskPoweringOff, TaskDeleting, TaskNone:
			return StatusActive
		}
		if rebuilding {
			return StatusRebuild
		}
	case VMStopped:
		switch taskState {
		case TaskResizePrep, TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish:
			return StatusResize
		case TaskPoweringOn, TaskDeleting, TaskNone:
			return StatusShutoff
		}
		if rebuilding {
			return StatusRebuild
		}
	case VMResized:
		switch taskState {
		case TaskResizeReverting:
			return StatusRevertResize
		case TaskNone, TaskResizeConfirming:
			return StatusVerifyResize
		}
	case VMError:
		switch taskState {
		case TaskDeleting, TaskNone:
			return StatusError
		}
		if rebuilding {
			return StatusRebuild
		}
	case VMDeleted:
		if taskState == TaskNone {
			return StatusDeleted
		}
	case VMShelved:
		switch taskState {
		case TaskShelving, TaskShelvingImagePending, TaskShelvingImageUploading, TaskUnshelving, TaskNone:
			return StatusShelved
		}
	case VMShelvedOffloaded:
		switch taskState {
		case TaskShelvingOffloading, TaskUnshelving, TaskNone:
			return StatusShelvedOff
		}
	}
	return StatusUnknown
}

// Server is an elastic cloud server.
type Server struct {
	ID          string
	ProjectID   string
	Name        string
	Description string

	FlavorID         string
	ImageID          string
	AvailabilityZone string
	HostID           string // simulated host the server is placed on

	VMState    string
	TaskState  string
	PowerState int

	ChargingMode string // ChargingPostPaid, ChargingPrePaid or ChargingSpot
	OrderID      string // for yearly/monthly servers

	VPCID      string
	SubnetID   string
	PortID     string
	IPAddress  string
	MACAddress string

	SecurityGroups []string // security group IDs
	KeyName        string
	UserData       string
	Metadata       map[string]string // user metadata
	Tags           []string          // "key=value" strings

	RootVolumeID   string
	RootVolumeType string
	RootVolumeSize int

	// ResizeFlavorID and ResizeHostID reserve the target of a resize in
	// progress, so that quota and capacity count it until the job ends.
	ResizeFlavorID string
	ResizeHostID   string

	CPUThreads int // cpu_options hw:cpu_threads, 0 when unset
	Locked     bool
	Frozen     bool

	// Fault is set when the server is in ERROR.
	FaultCode    int
	FaultMessage string

	Created    time.Time
	Updated    time.Time
	LaunchedAt time.Time // zero until first started
}

// Status returns the server's API status.
func (s *Server) Status() string { return Status(s.VMState, s.TaskState) }

// Busy reports whether an operation is in progress on the server.
func (s *Server) Busy() bool { return s.TaskState != TaskNone }

// Clone returns a copy of s that shares no slice or map with it.
func (s *Server) Clone() *Server {
	c := *s
	c.SecurityGroups = slices.Clone(s.SecurityGroups)
	c.Tags = slices.Clone(s.Tags)
	c.Metadata = maps.Clone(s.Metadata)
	return &c
}

// ServerFilter selects servers of one project. Nil fields do not filter.
type ServerFilter struct {
	ProjectID        string
	IDs              []string // exact IDs; when set, other filters are ignored by the v1 list
	Name             *string  // regular-expression-like fuzzy match: '.' matches any char
	Status           *string
	FlavorID         *string
	ImageID          *string
	AvailabilityZone *string // exact
	AZContains       *string // fuzzy
	ChargingMode     *string
	IP               *string // fuzzy
	IPEq             *string // exact
	Tags             []string
	NotTags          []string
	KeyName          *string
	LaunchedSince    *time.Time

	Marker *string // ID of the last server of the previous page
	Offset int     // number of servers to skip (after Marker)
	Limit  int     // 0 = no limit
}

// ServerGroup counts the live servers that hold the same resources: what
// quota and capacity checks add up, without reading every server. Fields a
// grouping does not use are empty.
type ServerGroup struct {
	HostID         string // the host it runs on (capacity)
	FlavorID       string
	ChargingMode   string // (quota)
	ResizeFlavorID string // the target of a resize in progress, or ""
	ResizeHostID   string // the host that resize reserves, or "" (capacity)
	Count          int
}

// ServerService creates, reads and changes servers. Every mutating method
// commits the state change and the job that carries it in one transaction and
// returns the job's ID.
type ServerService interface {
	CreateServers(ctx context.Context, req *CreateServersRequest) (*CreateServersResult, error)
	FindServerByID(ctx context.Context, projectID, id string) (*Server, error)
	// FindServers returns one page of servers and the total count that match
	// filter without pagination.
	FindServers(ctx context.Context, filter ServerFilter) ([]*Server, int, error)
	DeleteServers(ctx context.Context, req *DeleteServersRequest) (jobID string, err error)
	ActOnServers(ctx context.Context, req *ServerActionRequest) (jobID string, err error)
	// ResizeServer validates a resize and, unless req.DryRun, starts it.
	// A dry run that passes returns "" and nil.
	ResizeServer(ctx context.Context, req *ResizeRequest) (jobID string, err error)
	// ResizeFlavors lists the flavors a server or flavor may change to.
	ResizeFlavors(ctx context.Context, req *ResizeFlavorsRequest) ([]*Flavor, error)
	// NovaResizeServer starts a Nova-style resize (POST /v2.1/.../action
	// "resize"): the same checks as ResizeServer, but running servers are
	// accepted and the job ends in VERIFY_RESIZE, keeping the old flavor
	// and host reserved until ConfirmResize or RevertResize.
	NovaResizeServer(ctx context.Context, req *ResizeRequest) (jobID string, err error)
	// ConfirmResize and RevertResize end a Nova resize; a server not in
	// VERIFY_RESIZE is refused with a 409 *Error.
	ConfirmResize(ctx context.Context, projectID, serverID string) (jobID string, err error)
	RevertResize(ctx context.Context, projectID, serverID string) (jobID string, err error)
}

// ServerDetails are servers together with what their responses show
// besides the server itself, all read from one snapshot of the store.
type ServerDetails struct {
	Servers []*Server
	// Total counts the servers that match the filter without pagination
	// (1 for a single server).
	Total int
	// SecurityGroups are the project's security groups.
	SecurityGroups []*SecurityGroup
	// Volumes are the servers' attached volumes keyed by server ID, system
	// disk first, then by device.
	Volumes map[string][]*Volume
}

// ServerDetailService reads servers with their security groups and volumes
// in one read of the store (one read transaction), for the responses that
// show them.
type ServerDetailService interface {
	// FindServerDetail returns the server id of the project; a missing
	// server is the *Error that FindServerByID returns.
	FindServerDetail(ctx context.Context, projectID, id string) (*ServerDetails, error)
	// FindServerDetails is FindServers (filter.ProjectID's servers) with
	// their security groups and volumes.
	FindServerDetails(ctx context.Context, filter ServerFilter) (*ServerDetails, error)
}

// CreateServersRequest asks for Count identical servers.
type CreateServersRequest struct {
	ProjectID        string
	ClientToken      string
	Name             string
	Description      string
	ImageID          string
	FlavorID         string
	VPCID            string
	SubnetIDs        []string
	SecurityGroups   []string
	AvailabilityZone string
	Count            int
	IsAutoRename     bool
	KeyName          string
	UserData         string
	AdminPass        string
	Metadata         map[string]string
	Tags             []string
	RootVolumeType   string
	RootVolumeSize   int
	DataVolumes      []VolumeSpec // attached as /dev/vdb, /dev/vdc, ...
	CPUThreads       int
	ChargingMode     string // ChargingPostPaid, ChargingPrePaid or ChargingSpot
	SpotPrice        string
	// Yearly/monthly order settings (v1.1, ChargingPrePaid only).
	PeriodType string // month or year
	PeriodNum  int
	AutoRenew  bool
	AutoPay    bool
	DryRun     bool
}

// CreateServersResult is what a create returns: the job and the new IDs.
type CreateServersResult struct {
	JobID     string
	OrderID   string
	ServerIDs []string
}

// DeleteServersRequest deletes servers by ID.
type DeleteServersRequest struct {
	ProjectID      string
	ServerIDs      []string
	DeletePublicIP bool
	DeleteVolume   bool
}

// Server actions of POST /v1/{project_id}/cloudservers/action.
const (
	ActionStart  = "start"
	ActionStop   = "stop"
	ActionReboot = "reboot"
)

// ServerActionRequest starts, stops or reboots servers.
type ServerActionRequest struct {
	ProjectID string
	Action    string // ActionStart, ActionStop or ActionReboot
	Hard      bool   // type HARD for stop and reboot
	ServerIDs []string
}

// ResizeRequest changes a server's flavor.
type ResizeRequest struct {
	ProjectID   string
	ServerID    string
	FlavorID    string
	WithStop    bool // mode=withStopServer
	CPUThreads  int  // cpu_options hw:cpu_threads, 0 when absent
	DryRun      bool
	APIVersion  string // "v1" or "v1.1": v1 refuses yearly/monthly servers
	AutoPay     bool   // v1.1 extendparam.isAutoPay
	DedicatedID string // v1.1 dedicated_host_id
}

// ResizeFlavorsRequest asks which flavors a resize may target. At least one
// of InstanceID, SourceFlavorID and SourceFlavorName is required; the first
// one set wins.
type ResizeFlavorsRequest struct {
	ProjectID        string
	InstanceID       string
	SourceFlavorID   string
	SourceFlavorName string
	SortKey          string // flavorid (default), name, memory_mb, vcpus, root_gb
	SortDir          string // asc (default) or desc
	Limit            int
	Marker           string
}
