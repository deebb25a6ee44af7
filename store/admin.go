package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// This file holds what the test-control API needs of the store: the list of
// tenants, the removal of a project (or of everything) for reset and tenant
// deletion, and the export and import of the whole state as a Snapshot.

// Tenants returns every tenant with its quota, oldest first.
func (d *DB) Tenants(ctx context.Context, tx *sql.Tx) ([]*ecs.Tenant, []ecs.Quota, error) {
	rows, err := d.query(ctx, tx, `SELECT `+tenantColumns+` FROM tenants ORDER BY created_at, access_key`)
	if err != nil {
		return nil, nil, fmt.Errorf("store: tenants: %w", err)
	}
	defer rows.Close()
	var ts []*ecs.Tenant
	var qs []ecs.Quota
	for rows.Next() {
		t, q, err := scanTenant(rows)
		if err != nil {
			return nil, nil, err
		}
		ts, qs = append(ts, t), append(qs, q)
	}
	return ts, qs, rows.Err()
}

// ServerCount returns how many live servers a project has.
func (d *DB) ServerCount(ctx context.Context, tx *sql.Tx, projectID string) (int, error) {
	var n int
	if err := d.queryRow(ctx, tx, `SELECT count(*) FROM servers WHERE project_id = ? AND deleted = 0`, projectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count servers of %s: %w", projectID, err)
	}
	return n, nil
}

// projectTables are deleted by project_id, in this order (subnets before
// the VPCs they reference).
var projectTables = []string{"servers", "volumes", "ports", "orders", "client_tokens", "server_actions", "security_groups", "subnets", "vpcs"}

// DeleteProject deletes, in tx, every row of a project: its servers
// (deleted ones too), its jobs with their River jobs and phases, its
// history, client tokens and network, and with dropTenant its tenant and
// the tenant's IAM tokens. It
// returns what lives on outside the database: the IDs of the live servers
// (whose driver instances must go) and of the unfinished jobs (whose
// running workers must stop). A project that has no rows is not an error.
func (d *DB) DeleteProject(ctx context.Context, tx *sql.Tx, projectID string, dropTenant bool) (serverIDs, jobIDs []string, err error) {
	if serverIDs, jobIDs, err = d.removed(ctx, tx, `project_id = ?`, projectID); err != nil {
		return nil, nil, err
	}
	stmts := []string{
		`DELETE FROM river_job WHERE ` + d.dialect.jsonText("args", "job_id") + ` IN (SELECT id FROM jobs WHERE project_id = ?)`,
		`DELETE FROM job_phases WHERE job_id IN (SELECT id FROM jobs WHERE project_id = ?)`,
		`DELETE FROM jobs WHERE project_id = ?`,
	}
	for _, t := range projectTables {
		stmts = append(stmts, `DELETE FROM `+t+` WHERE project_id = ?`)
	}
	if dropTenant {
		// The tenant's IAM tokens go with it, or they would work again
		// for a tenant re-created with the same project ID.
		stmts = append(stmts, `DELETE FROM tenants WHERE project_id = ?`, `DELETE FROM tokens WHERE project_id = ?`)
	}
	for _, q := range stmts {
		if _, err := d.exec(ctx, tx, q, projectID); err != nil {
			return nil, nil, fmt.Errorf("store: delete project %s: %w", projectID, err)
		}
	}
	return serverIDs, jobIDs, nil
}

// DeleteAll deletes, in tx, every tenant and everything of every project,
// all River jobs and every fault rule. The hosts and the settings (the
// clock) stay. It returns what DeleteProject returns, for every project.
func (d *DB) DeleteAll(ctx context.Context, tx *sql.Tx) (serverIDs, jobIDs []string, err error) {
	if serverIDs, jobIDs, err = d.removed(ctx, tx, `1 = 1`); err != nil {
		return nil, nil, err
	}
	for _, t := range []string{"river_job", "job_phases", "jobs", "servers", "volumes", "ports", "orders", "client_tokens", "server_actions",
		"security_groups", "subnets", "vpcs", "tenants", "tokens", "fault_rules"} {
		if _, err := d.exec(ctx, tx, `DELETE FROM `+t); err != nil {
			return nil, nil, fmt.Errorf("store: delete all %s: %w", t, err)
		}
	}
	return serverIDs, jobIDs, nil
}

// removed returns the live servers and unfinished single-server jobs of
// the rows matching cond.
func (d *DB) removed(ctx context.Context, tx *sql.Tx, cond string, args ...any) (serverIDs, jobIDs []string, err error) {
	if serverIDs, err = d.queryStrings(ctx, tx, `SELECT id FROM servers WHERE deleted = 0 AND `+cond+` ORDER BY seq`, args...); err != nil {
		return nil, nil, err
	}
	jobIDs, err = d.queryStrings(ctx, tx, `SELECT id FROM jobs WHERE status NOT IN ('SUCCESS', 'FAIL') AND server_id <> '' AND `+cond+` ORDER BY seq`, args...)
	return serverIDs, jobIDs, err
}

func (d *DB) queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := d.query(ctx, tx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// IsEmpty reports whether the store has never held a server or a job: the
// first start of a data directory, or a store that was fully reset.
func (d *DB) IsEmpty(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	if err := d.queryRow(ctx, tx, `SELECT (SELECT count(*) FROM servers) + (SELECT count(*) FROM jobs)`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: count rows: %w", err)
	}
	return n == 0, nil
}

// --- snapshots -------------------------------------------------------------------

// Snapshot format: Format names the document, Version its layout. Import
// refuses another format and any version it does not know; a later ecsd that
// changes the layout raises SnapshotVersion and upgrades older documents.
const (
	SnapshotFormat  = "ecsd-snapshot"
	SnapshotVersion = 1
)

// Snapshot is the whole state of an ecsd store as one JSON document. It is
// the export format, not a storage model: every table of ecsd has its list,
// rows in insertion order, times in RFC 3339 (UTC, nanoseconds) and zero
// times left out. River's own tables are not part of it: after an import
// the node enqueues the unfinished jobs again.
type Snapshot struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	ExportedAt time.Time `json:"exported_at"`
	// Clock is the virtual clock's state (settings key "clock"), if saved.
	Clock json.RawMessage `json:"clock,omitempty"`
	// Settings are the other settings, verbatim.
	Settings map[string]string `json:"settings,omitempty"`

	Tenants        []SnapshotTenant        `json:"tenants"`
	VPCs           []SnapshotVPC           `json:"vpcs"`
	Subnets        []SnapshotSubnet        `json:"subnets"`
	SecurityGroups []SnapshotSecurityGroup `json:"security_groups"`
	Hosts          []SnapshotHost          `json:"hosts"`
	Servers        []SnapshotServer        `json:"servers"`
	// Jobs are every job, sub-jobs included (they have a parent_id).
	Jobs []SnapshotJob `json:"jobs"`
	// FaultRules are the rows of fault_rules, column by column, verbatim.
	FaultRules    []map[string]json.RawMessage `json:"fault_rules"`
	ServerActions []SnapshotAction             `json:"server_actions"`
	JobPhases     []SnapshotPhase              `json:"job_phases"`
	ClientTokens  []SnapshotClientToken        `json:"client_tokens"`
	// Orders are the BSS orders of yearly/monthly servers. The field came
	// after version 1 was published; a version-1 document without it
	// imports with no orders, so the version stays 1.
	Orders []SnapshotOrder `json:"orders"`
	// Volumes and Ports are the EVS disks and VPC ports of servers; like
	// Orders, they came later and an older document imports without them.
	Volumes []SnapshotVolume `json:"volumes"`
	Ports   []SnapshotPort   `json:"ports"`
}

// SnapshotQuota is a project's quota; -1 is unlimited.
type SnapshotQuota struct {
	Instances int `json:"instances"`
	Cores     int `json:"cores"`
	RAM       int `json:"ram"` // MiB
}

// SnapshotTenant is a row of tenants.
type SnapshotTenant struct {
	AccessKey   string        `json:"access_key"`
	SecretKey   string        `json:"secret_key"`
	ProjectID   string        `json:"project_id"`
	ProjectName string        `json:"project_name"`
	DomainID    string        `json:"domain_id"`
	Quota       SnapshotQuota `json:"quota"`
	CreatedAt   time.Time     `json:"created_at,omitzero"`
}

// SnapshotVPC is a row of vpcs.
type SnapshotVPC struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	Name      string    `json:"name"`
	CIDR      string    `json:"cidr"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// SnapshotSubnet is a row of subnets; NextHost is the host number the next
// port gets.
type SnapshotSubnet struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	VPCID     string    `json:"vpc_id"`
	Name      string    `json:"name"`
	CIDR      string    `json:"cidr"`
	GatewayIP string    `json:"gateway_ip"`
	AZ        string    `json:"az"`
	NextHost  int       `json:"next_host"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// SnapshotSecurityGroup is a row of security_groups.
type SnapshotSecurityGroup struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	VPCID       string    `json:"vpc_id"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// SnapshotHost is a row of hosts.
type SnapshotHost struct {
	ID    string `json:"id"`
	AZ    string `json:"az"`
	VCPUs int    `json:"vcpus"`
	RAMMB int    `json:"ram_mb"`
	Arch  string `json:"arch"`
}

// SnapshotServer is a row of servers, deleted ones included.
type SnapshotServer struct {
	ID             string            `json:"id"`
	ProjectID      string            `json:"project_id"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	FlavorID       string            `json:"flavor_id"`
	ImageID        string            `json:"image_id"`
	AZ             string            `json:"az"`
	HostID         string            `json:"host_id"`
	VMState        string            `json:"vm_state"`
	TaskState      string            `json:"task_state"`
	Status         string            `json:"status"`
	PowerState     int               `json:"power_state"`
	ChargingMode   string            `json:"charging_mode"`
	OrderID        string            `json:"order_id"`
	VPCID          string            `json:"vpc_id"`
	SubnetID       string            `json:"subnet_id"`
	PortID         string            `json:"port_id"`
	IPAddress      string            `json:"ip_address"`
	MACAddress     string            `json:"mac_address"`
	SecurityGroups []string          `json:"security_groups"`
	KeyName        string            `json:"key_name"`
	UserData       string            `json:"user_data"`
	Metadata       map[string]string `json:"metadata"`
	Tags           []string          `json:"tags"`
	RootVolumeID   string            `json:"root_volume_id"`
	RootVolumeType string            `json:"root_volume_type"`
	RootVolumeSize int               `json:"root_volume_size"`
	ResizeFlavorID string            `json:"resize_flavor_id"`
	ResizeHostID   string            `json:"resize_host_id"`
	CPUThreads     int               `json:"cpu_threads"`
	Locked         bool              `json:"locked"`
	Frozen         bool              `json:"frozen"`
	FaultCode      int               `json:"fault_code"`
	FaultMessage   string            `json:"fault_message"`
	CreatedAt      time.Time         `json:"created_at,omitzero"`
	UpdatedAt      time.Time         `json:"updated_at,omitzero"`
	LaunchedAt     time.Time         `json:"launched_at,omitzero"`
	Deleted        bool              `json:"deleted"`
}

// SnapshotJob is a row of jobs.
type SnapshotJob struct {
	ID         string          `json:"id"`
	ProjectID  string          `json:"project_id"`
	ParentID   string          `json:"parent_id"`
	Type       string          `json:"type"`
	Status     string          `json:"status"`
	ServerID   string          `json:"server_id"`
	Phase      string          `json:"phase"`
	Params     json.RawMessage `json:"params,omitempty"`
	ErrorCode  string          `json:"error_code"`
	FailReason string          `json:"fail_reason"`
	BeginTime  time.Time       `json:"begin_time,omitzero"`
	EndTime    time.Time       `json:"end_time,omitzero"`
}

// SnapshotAction is a row of server_actions.
type SnapshotAction struct {
	ProjectID  string    `json:"project_id"`
	ServerID   string    `json:"server_id"`
	Action     string    `json:"action"`
	RequestID  string    `json:"request_id"`
	JobID      string    `json:"job_id"`
	StartTime  time.Time `json:"start_time,omitzero"`
	FinishTime time.Time `json:"finish_time,omitzero"`
	Result     string    `json:"result"`
	ErrorCode  string    `json:"error_code"`
	Message    string    `json:"message"`
}

// SnapshotPhase is a row of job_phases.
type SnapshotPhase struct {
	JobID     string    `json:"job_id"`
	Phase     string    `json:"phase"`
	StartTime time.Time `json:"start_time,omitzero"`
	EndTime   time.Time `json:"end_time,omitzero"`
}

// SnapshotClientToken is a row of client_tokens.
type SnapshotClientToken struct {
	ProjectID string          `json:"project_id"`
	Token     string          `json:"token"`
	Response  json.RawMessage `json:"response"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
}

// SnapshotOrder is a row of orders. Amount is in CNY (negative for a
// refund); PeriodEnd, PaidAt and CancelledAt are left out when zero.
type SnapshotOrder struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id"`
	Type        int       `json:"type"`
	Status      int       `json:"status"`
	Amount      float64   `json:"amount"`
	Currency    string    `json:"currency"`
	FlavorID    string    `json:"flavor_id"`
	PeriodType  string    `json:"period_type"`
	PeriodNum   int       `json:"period_num"`
	PeriodEnd   time.Time `json:"period_end,omitzero"`
	ServerIDs   []string  `json:"server_ids"`
	JobID       string    `json:"job_id"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
}

// snapshotTables are the tables a Snapshot covers, in insertion order;
// Import empties them (and river_job) in the reverse order.
var snapshotTables = []string{"settings", "tenants", "vpcs", "subnets", "security_groups", "hosts", "servers",
	"jobs", "fault_rules", "server_actions", "job_phases", "client_tokens", "orders", "volumes", "ports"}

// clockSetting is the settings key of the virtual clock's state.
const clockSetting = "clock"

// Export returns the whole state, read in one transaction, stamped with
// the wall time.
func (d *DB) Export(ctx context.Context) (*Snapshot, error) {
	tx, err := d.beginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	defer tx.Rollback()
	s := &Snapshot{Format: SnapshotFormat, Version: SnapshotVersion, ExportedAt: time.Now().UTC()}
	for _, step := range []struct {
		name string
		fn   func(context.Context, *sql.Tx, *Snapshot) error
	}{
		{"settings", d.exportSettings}, {"tenants", d.exportTenants}, {"network", d.exportNetwork},
		{"hosts", d.exportHosts}, {"servers", d.exportServers}, {"jobs", d.exportJobs},
		{"fault_rules", d.exportFaultRules}, {"history", d.exportHistory}, {"client_tokens", d.exportClientTokens},
		{"orders", d.exportOrders},
		{"volumes", d.exportVolumes},
		{"ports", d.exportPorts},
	} {
		if err := step.fn(ctx, tx, s); err != nil {
			return nil, fmt.Errorf("store: export %s: %w", step.name, err)
		}
	}
	return s, nil
}

// Import replaces the whole state with s, in one transaction: it empties
// every ecsd table and River's job table, then inserts the snapshot's rows.
// It refuses a document of another format or version before changing
// anything. Its errors read "import: …" (control shows them to the client).
// The caller re-enqueues the unfinished jobs (UnfinishedJobs) and
// restores what lives outside the database.
func (d *DB) Import(ctx context.Context, s *Snapshot) error {
	if s.Format != SnapshotFormat {
		return fmt.Errorf("import: not an ecsd snapshot (format %q, want %q)", s.Format, SnapshotFormat)
	}
	if s.Version != SnapshotVersion {
		return fmt.Errorf("import: snapshot version %d is not supported (this ecsd reads version %d)", s.Version, SnapshotVersion)
	}
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback()
	tables := append([]string{"river_job"}, snapshotTables...)
	slices.Reverse(tables[1:])
	for _, t := range tables {
		if _, err := d.exec(ctx, tx, `DELETE FROM `+t); err != nil {
			return fmt.Errorf("import: empty %s: %w", t, err)
		}
	}
	for _, step := range []struct {
		name string
		fn   func(context.Context, *sql.Tx, *Snapshot) error
	}{
		{"settings", d.importSettings}, {"tenants", d.importTenants}, {"network", d.importNetwork},
		{"hosts", d.importHosts}, {"servers", d.importServers}, {"jobs", d.importJobs},
		{"fault_rules", d.importFaultRules}, {"history", d.importHistory}, {"client_tokens", d.importClientTokens},
		{"orders", d.importOrders},
		{"volumes", d.importVolumes},
		{"ports", d.importPorts},
	} {
		if err := step.fn(ctx, tx, s); err != nil {
			return fmt.Errorf("import %s: %w", step.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	return nil
}

func (d *DB) exportSettings(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	rows, err := d.query(ctx, tx, `SELECT key, value FROM settings ORDER BY key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if k == clockSetting && json.Valid([]byte(v)) {
			s.Clock = json.RawMessage(v)
			continue
		}
		if s.Settings == nil {
			s.Settings = map[string]string{}
		}
		s.Settings[k] = v
	}
	return rows.Err()
}

func (d *DB) importSettings(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	put := func(k, v string) error {
		_, err := d.exec(ctx, tx, `INSERT INTO settings (key, value) VALUES (?, ?)`, k, v)
		return err
	}
	if len(s.Clock) > 0 {
		if err := put(clockSetting, string(s.Clock)); err != nil {
			return err
		}
	}
	for k, v := range s.Settings {
		if k == clockSetting && len(s.Clock) > 0 {
			continue
		}
		if err := put(k, v); err != nil {
			return fmt.Errorf("setting %q: %w", k, err)
		}
	}
	return nil
}

func (d *DB) exportTenants(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	rows, err := d.query(ctx, tx, `SELECT access_key, secret_key, project_id, project_name, domain_id,
		quota_instances, quota_cores, quota_ram, created_at FROM tenants ORDER BY created_at, access_key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.Tenants = []SnapshotTenant{}
	for rows.Next() {
		var t SnapshotTenant
		var created int64
		if err := rows.Scan(&t.AccessKey, &t.SecretKey, &t.ProjectID, &t.ProjectName, &t.DomainID,
			&t.Quota.Instances, &t.Quota.Cores, &t.Quota.RAM, &created); err != nil {
			return err
		}
		t.CreatedAt = fromNanos(created)
		s.Tenants = append(s.Tenants, t)
	}
	return rows.Err()
}

func (d *DB) importTenants(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, t := range s.Tenants {
		if _, err := d.exec(ctx, tx, `INSERT INTO tenants (access_key, secret_key, project_id, project_name,
			domain_id, quota_instances, quota_cores, quota_ram, created_at) VALUES (?,?,?,?,?,?,?,?,?)`,
			t.AccessKey, t.SecretKey, t.ProjectID, t.ProjectName, t.DomainID, t.Quota.Instances, t.Quota.Cores,
			t.Quota.RAM, toNanos(t.CreatedAt)); err != nil {
			return fmt.Errorf("tenants[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportNetwork(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.VPCs, s.Subnets, s.SecurityGroups = []SnapshotVPC{}, []SnapshotSubnet{}, []SnapshotSecurityGroup{}
	err := d.eachRow(ctx, tx, `SELECT id, project_id, name, cidr, created_at FROM vpcs ORDER BY `+d.dialect.rowid, func(r *sql.Rows) error {
		var v SnapshotVPC
		var created int64
		if err := r.Scan(&v.ID, &v.ProjectID, &v.Name, &v.CIDR, &created); err != nil {
			return err
		}
		v.CreatedAt = fromNanos(created)
		s.VPCs = append(s.VPCs, v)
		return nil
	})
	if err != nil {
		return err
	}
	err = d.eachRow(ctx, tx, `SELECT id, project_id, vpc_id, name, cidr, gateway_ip, az, next_host, created_at
		FROM subnets ORDER BY `+d.dialect.rowid, func(r *sql.Rows) error {
		var v SnapshotSubnet
		var created int64
		if err := r.Scan(&v.ID, &v.ProjectID, &v.VPCID, &v.Name, &v.CIDR, &v.GatewayIP, &v.AZ, &v.NextHost, &created); err != nil {
			return err
		}
		v.CreatedAt = fromNanos(created)
		s.Subnets = append(s.Subnets, v)
		return nil
	})
	if err != nil {
		return err
	}
	return d.eachRow(ctx, tx, `SELECT id, project_id, name, description, vpc_id, created_at FROM security_groups ORDER BY `+d.dialect.rowid, func(r *sql.Rows) error {
		var g SnapshotSecurityGroup
		var created int64
		if err := r.Scan(&g.ID, &g.ProjectID, &g.Name, &g.Description, &g.VPCID, &created); err != nil {
			return err
		}
		g.CreatedAt = fromNanos(created)
		s.SecurityGroups = append(s.SecurityGroups, g)
		return nil
	})
}

func (d *DB) importNetwork(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, v := range s.VPCs {
		if _, err := d.exec(ctx, tx, `INSERT INTO vpcs (id, project_id, name, cidr, created_at) VALUES (?,?,?,?,?)`,
			v.ID, v.ProjectID, v.Name, v.CIDR, toNanos(v.CreatedAt)); err != nil {
			return fmt.Errorf("vpcs[%d]: %w", i, err)
		}
	}
	for i, v := range s.Subnets {
		if _, err := d.exec(ctx, tx, `INSERT INTO subnets (id, project_id, vpc_id, name, cidr, gateway_ip, az, next_host, created_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, v.ID, v.ProjectID, v.VPCID, v.Name, v.CIDR, v.GatewayIP, v.AZ, v.NextHost,
			toNanos(v.CreatedAt)); err != nil {
			return fmt.Errorf("subnets[%d]: %w", i, err)
		}
	}
	for i, g := range s.SecurityGroups {
		if _, err := d.exec(ctx, tx, `INSERT INTO security_groups (id, project_id, name, description, vpc_id, created_at)
			VALUES (?,?,?,?,?,?)`, g.ID, g.ProjectID, g.Name, g.Description, g.VPCID, toNanos(g.CreatedAt)); err != nil {
			return fmt.Errorf("security_groups[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportHosts(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	hosts, err := d.Hosts(ctx, tx, "")
	if err != nil {
		return err
	}
	s.Hosts = make([]SnapshotHost, 0, len(hosts))
	for _, h := range hosts {
		s.Hosts = append(s.Hosts, SnapshotHost{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	return nil
}

func (d *DB) importHosts(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, h := range s.Hosts {
		if _, err := d.exec(ctx, tx, `INSERT INTO hosts (id, az, vcpus, ram_mb, arch) VALUES (?,?,?,?,?)`,
			h.ID, h.AZ, h.VCPUs, h.RAMMB, h.Arch); err != nil {
			return fmt.Errorf("hosts[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportServers(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.Servers = []SnapshotServer{}
	return d.eachRow(ctx, tx, `SELECT `+serverColumns+`, status, deleted FROM servers ORDER BY seq`, func(r *sql.Rows) error {
		var status string
		var deleted int
		srv, err := scanServer(extraScanner{r, []any{&status, &deleted}})
		if err != nil {
			return err
		}
		s.Servers = append(s.Servers, SnapshotServer{
			ID: srv.ID, ProjectID: srv.ProjectID, Name: srv.Name, Description: srv.Description,
			FlavorID: srv.FlavorID, ImageID: srv.ImageID, AZ: srv.AvailabilityZone, HostID: srv.HostID,
			VMState: srv.VMState, TaskState: srv.TaskState, Status: status, PowerState: srv.PowerState,
			ChargingMode: srv.ChargingMode, OrderID: srv.OrderID, VPCID: srv.VPCID, SubnetID: srv.SubnetID,
			PortID: srv.PortID, IPAddress: srv.IPAddress, MACAddress: srv.MACAddress,
			SecurityGroups: nonNil(srv.SecurityGroups), KeyName: srv.KeyName, UserData: srv.UserData,
			Metadata: srv.Metadata, Tags: nonNil(srv.Tags), RootVolumeID: srv.RootVolumeID,
			RootVolumeType: srv.RootVolumeType, RootVolumeSize: srv.RootVolumeSize,
			ResizeFlavorID: srv.ResizeFlavorID, ResizeHostID: srv.ResizeHostID, CPUThreads: srv.CPUThreads,
			Locked: srv.Locked, Frozen: srv.Frozen, FaultCode: srv.FaultCode, FaultMessage: srv.FaultMessage,
			CreatedAt: srv.Created, UpdatedAt: srv.Updated, LaunchedAt: srv.LaunchedAt, Deleted: deleted != 0,
		})
		return nil
	})
}

// extraScanner scans a row whose trailing columns go to extra.
type extraScanner struct {
	r     scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.r.Scan(append(dest, e.extra...)...) }

func (d *DB) importServers(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, v := range s.Servers {
		srv := &ecs.Server{
			ID: v.ID, ProjectID: v.ProjectID, Name: v.Name, Description: v.Description,
			FlavorID: v.FlavorID, ImageID: v.ImageID, AvailabilityZone: v.AZ, HostID: v.HostID,
			VMState: v.VMState, TaskState: v.TaskState, PowerState: v.PowerState,
			ChargingMode: v.ChargingMode, OrderID: v.OrderID, VPCID: v.VPCID, SubnetID: v.SubnetID,
			PortID: v.PortID, IPAddress: v.IPAddress, MACAddress: v.MACAddress,
			SecurityGroups: v.SecurityGroups, KeyName: v.KeyName, UserData: v.UserData,
			Metadata: v.Metadata, Tags: v.Tags, RootVolumeID: v.RootVolumeID,
			RootVolumeType: v.RootVolumeType, RootVolumeSize: v.RootVolumeSize,
			ResizeFlavorID: v.ResizeFlavorID, ResizeHostID: v.ResizeHostID, CPUThreads: v.CPUThreads,
			Locked: v.Locked, Frozen: v.Frozen, FaultCode: v.FaultCode, FaultMessage: v.FaultMessage,
			Created: v.CreatedAt, Updated: v.UpdatedAt, LaunchedAt: v.LaunchedAt,
		}
		args, err := serverArgs(srv)
		if err != nil {
			return fmt.Errorf("servers[%d]: %w", i, err)
		}
		status := v.Status
		if status == "" {
			status = srv.Status()
		}
		_, err = d.exec(ctx, tx, `INSERT INTO servers (`+serverColumns+`, status, deleted)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			append(args, status, boolInt(v.Deleted))...)
		if err != nil {
			return fmt.Errorf("servers[%d] (%s): %w", i, v.ID, err)
		}
	}
	return nil
}

func (d *DB) exportJobs(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.Jobs = []SnapshotJob{}
	return d.eachRow(ctx, tx, `SELECT `+jobColumns+` FROM jobs ORDER BY seq`, func(r *sql.Rows) error {
		j, err := scanJob(r)
		if err != nil {
			return err
		}
		s.Jobs = append(s.Jobs, SnapshotJob{ID: j.ID, ProjectID: j.ProjectID, ParentID: j.ParentID, Type: j.Type,
			Status: j.Status, ServerID: j.ServerID, Phase: j.Phase, Params: rawJSON(j.Params),
			ErrorCode: j.ErrorCode, FailReason: j.FailReason, BeginTime: j.BeginTime, EndTime: j.EndTime})
		return nil
	})
}

func (d *DB) importJobs(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, v := range s.Jobs {
		j := &ecs.Job{ID: v.ID, ProjectID: v.ProjectID, ParentID: v.ParentID, Type: v.Type, Status: v.Status,
			ServerID: v.ServerID, Phase: v.Phase, Params: textJSON(v.Params), ErrorCode: v.ErrorCode,
			FailReason: v.FailReason, BeginTime: v.BeginTime, EndTime: v.EndTime}
		if err := d.InsertJob(ctx, tx, j); err != nil {
			return fmt.Errorf("jobs[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportFaultRules(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.FaultRules = []map[string]json.RawMessage{}
	rows, err := d.query(ctx, tx, `SELECT * FROM fault_rules ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make(map[string]json.RawMessage, len(cols))
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			raw, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("column %s: %w", c, err)
			}
			row[c] = raw
		}
		s.FaultRules = append(s.FaultRules, row)
	}
	return rows.Err()
}

func (d *DB) importFaultRules(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	if len(s.FaultRules) == 0 {
		return nil
	}
	known, err := d.tableColumns(ctx, tx, "fault_rules")
	if err != nil {
		return err
	}
	for i, row := range s.FaultRules {
		var cols []string
		var args []any
		for _, c := range slices.Sorted(maps.Keys(row)) {
			if !slices.Contains(known, c) {
				return fmt.Errorf("fault_rules[%d]: unknown column %q", i, c)
			}
			v, err := rawValue(row[c])
			if err != nil {
				return fmt.Errorf("fault_rules[%d].%s: %w", i, c, err)
			}
			cols, args = append(cols, c), append(args, v)
		}
		if len(cols) == 0 {
			continue
		}
		if _, err := d.exec(ctx, tx, `INSERT INTO fault_rules (`+strings.Join(cols, ", ")+`) VALUES (`+
			placeholders(len(cols))+`)`, args...); err != nil {
			return fmt.Errorf("fault_rules[%d]: %w", i, err)
		}
	}
	if d.dialect.name == EnginePostgres {
		// The rows came with their seq: move the identity past them.
		if _, err := d.exec(ctx, tx, `SELECT setval(pg_get_serial_sequence('fault_rules', 'seq'),
			(SELECT coalesce(max(seq), 0) + 1 FROM fault_rules), false)`); err != nil {
			return fmt.Errorf("fault_rules: %w", err)
		}
	}
	return nil
}

// rawValue decodes one verbatim column value: null, an integer, a float or
// a string.
func rawValue(raw json.RawMessage) (any, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		return x.Float64()
	case bool:
		return boolInt(x), nil
	}
	return nil, fmt.Errorf("unsupported value %s", raw)
}

func (d *DB) tableColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	return d.queryStrings(ctx, tx, d.dialect.tableColumns, table)
}

func (d *DB) exportHistory(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.ServerActions, s.JobPhases = []SnapshotAction{}, []SnapshotPhase{}
	err := d.eachRow(ctx, tx, `SELECT project_id, server_id, action, request_id, job_id, start_time, finish_time,
		result, error_code, message FROM server_actions ORDER BY seq`, func(r *sql.Rows) error {
		var a SnapshotAction
		var start, finish int64
		if err := r.Scan(&a.ProjectID, &a.ServerID, &a.Action, &a.RequestID, &a.JobID, &start, &finish,
			&a.Result, &a.ErrorCode, &a.Message); err != nil {
			return err
		}
		a.StartTime, a.FinishTime = fromNanos(start), fromNanos(finish)
		s.ServerActions = append(s.ServerActions, a)
		return nil
	})
	if err != nil {
		return err
	}
	return d.eachRow(ctx, tx, `SELECT job_id, phase, start_time, end_time FROM job_phases ORDER BY seq`, func(r *sql.Rows) error {
		var p SnapshotPhase
		var start, end int64
		if err := r.Scan(&p.JobID, &p.Phase, &start, &end); err != nil {
			return err
		}
		p.StartTime, p.EndTime = fromNanos(start), fromNanos(end)
		s.JobPhases = append(s.JobPhases, p)
		return nil
	})
}

func (d *DB) importHistory(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, a := range s.ServerActions {
		if err := d.InsertAction(ctx, tx, &ecs.Action{ProjectID: a.ProjectID, ServerID: a.ServerID, Action: a.Action,
			RequestID: a.RequestID, JobID: a.JobID, StartTime: a.StartTime, FinishTime: a.FinishTime,
			Result: a.Result, ErrorCode: a.ErrorCode, Message: a.Message}); err != nil {
			return fmt.Errorf("server_actions[%d]: %w", i, err)
		}
	}
	for i, p := range s.JobPhases {
		if _, err := d.exec(ctx, tx, `INSERT INTO job_phases (job_id, phase, start_time, end_time) VALUES (?,?,?,?)`,
			p.JobID, p.Phase, toNanos(p.StartTime), toNanos(p.EndTime)); err != nil {
			return fmt.Errorf("job_phases[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportClientTokens(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.ClientTokens = []SnapshotClientToken{}
	return d.eachRow(ctx, tx, `SELECT project_id, token, response, created_at FROM client_tokens ORDER BY `+d.dialect.rowid, func(r *sql.Rows) error {
		var c SnapshotClientToken
		var resp string
		var created int64
		if err := r.Scan(&c.ProjectID, &c.Token, &resp, &created); err != nil {
			return err
		}
		c.Response, c.CreatedAt = rawJSON(resp), fromNanos(created)
		s.ClientTokens = append(s.ClientTokens, c)
		return nil
	})
}

func (d *DB) importClientTokens(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, c := range s.ClientTokens {
		if _, err := d.exec(ctx, tx, `INSERT INTO client_tokens (project_id, token, response, created_at) VALUES (?,?,?,?)`,
			c.ProjectID, c.Token, textJSON(c.Response), toNanos(c.CreatedAt)); err != nil {
			return fmt.Errorf("client_tokens[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportOrders(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.Orders = []SnapshotOrder{}
	return d.eachRow(ctx, tx, `SELECT `+orderColumns+` FROM orders ORDER BY seq`, func(r *sql.Rows) error {
		o, err := scanOrder(r)
		if err != nil {
			return err
		}
		s.Orders = append(s.Orders, SnapshotOrder{ID: o.ID, ProjectID: o.ProjectID, Type: o.Type, Status: o.Status,
			Amount: o.Amount, Currency: o.Currency, FlavorID: o.FlavorID, PeriodType: o.PeriodType,
			PeriodNum: o.PeriodNum, PeriodEnd: o.PeriodEnd, ServerIDs: nonNil(o.ServerIDs), JobID: o.JobID,
			CreatedAt: o.Created, PaidAt: o.Paid, CancelledAt: o.Cancelled})
		return nil
	})
}

func (d *DB) importOrders(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, v := range s.Orders {
		o := &ecs.Order{ID: v.ID, ProjectID: v.ProjectID, Type: v.Type, Status: v.Status, Amount: v.Amount,
			Currency: v.Currency, FlavorID: v.FlavorID, PeriodType: v.PeriodType, PeriodNum: v.PeriodNum,
			PeriodEnd: v.PeriodEnd, ServerIDs: v.ServerIDs, JobID: v.JobID, Created: v.CreatedAt, Paid: v.PaidAt,
			Cancelled: v.CancelledAt}
		if err := d.InsertOrder(ctx, tx, o); err != nil {
			return fmt.Errorf("orders[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) eachRow(ctx context.Context, tx *sql.Tx, q string, fn func(*sql.Rows) error) error {
	rows, err := d.query(ctx, tx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// rawJSON embeds a column holding JSON text in the document as JSON; text
// that is not JSON is embedded as a JSON string.
func rawJSON(text string) json.RawMessage {
	if text == "" {
		return nil
	}
	if json.Valid([]byte(text)) {
		return json.RawMessage(text)
	}
	b, _ := json.Marshal(text)
	return b
}

// textJSON is the inverse of rawJSON.
func textJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
