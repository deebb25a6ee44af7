package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

const serverColumns = `id, project_id, name, description, flavor_id, image_id, az, host_id,
	vm_state, task_state, power_state, charging_mode, order_id, vpc_id, subnet_id, port_id,
	ip_address, mac_address, security_groups, key_name, user_data, metadata, tags,
	root_volume_id, root_volume_type, root_volume_size, resize_flavor_id, resize_host_id,
	cpu_threads, locked, frozen, fault_code, fault_message, created_at, updated_at, launched_at`

// InsertServer adds a new server row.
func (d *DB) InsertServer(ctx context.Context, tx *sql.Tx, s *ecs.Server) error {
	args, err := serverArgs(s)
	if err != nil {
		return err
	}
	_, err = d.exec(ctx, tx, `INSERT INTO servers (`+serverColumns+`, status)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		append(args, s.Status())...)
	if err != nil {
		return fmt.Errorf("store: insert server %s: %w", s.ID, err)
	}
	return nil
}

// UpdateServer writes every column of an existing server row.
func (d *DB) UpdateServer(ctx context.Context, tx *sql.Tx, s *ecs.Server) error {
	args, err := serverArgs(s)
	if err != nil {
		return err
	}
	cols := strings.Split(serverColumns, ",")
	var set strings.Builder
	for i, c := range cols[1:] {
		if i > 0 {
			set.WriteString(", ")
		}
		set.WriteString(strings.TrimSpace(c))
		set.WriteString(" = ?")
	}
	args = append(args[1:], s.Status(), s.ID)
	res, err := d.exec(ctx, tx, `UPDATE servers SET `+set.String()+`, status = ? WHERE id = ? AND deleted = 0`, args...)
	if err != nil {
		return fmt.Errorf("store: update server %s: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update server %s: %w", s.ID, sql.ErrNoRows)
	}
	return nil
}

// UpdateServerFrom writes the columns of s that differ from old, the same
// server as it was read in tx (a copy taken before s was changed), and
// nothing when none differs. It is UpdateServer for the hot paths: an
// UPDATE of every column rewrites every index entry of the row and
// encodes its JSON columns again, three times the cost of one that
// assigns the few columns a state change touches. Like UpdateServer it
// fails with sql.ErrNoRows when the server is gone, unless nothing
// changed.
func (d *DB) UpdateServerFrom(ctx context.Context, tx *sql.Tx, old, s *ecs.Server) error {
	if old == nil || old.ID != s.ID {
		return d.UpdateServer(ctx, tx, s)
	}
	var set strings.Builder
	var args []any
	col := func(name string, v any) {
		if set.Len() > 0 {
			set.WriteString(", ")
		}
		set.WriteString(name)
		set.WriteString(" = ?")
		args = append(args, v)
	}
	changed := func(name string, a, b any) {
		if a != b {
			col(name, b)
		}
	}
	changed("project_id", old.ProjectID, s.ProjectID)
	changed("name", old.Name, s.Name)
	changed("description", old.Description, s.Description)
	changed("flavor_id", old.FlavorID, s.FlavorID)
	changed("image_id", old.ImageID, s.ImageID)
	changed("az", old.AvailabilityZone, s.AvailabilityZone)
	changed("host_id", old.HostID, s.HostID)
	changed("vm_state", old.VMState, s.VMState)
	changed("task_state", old.TaskState, s.TaskState)
	changed("power_state", old.PowerState, s.PowerState)
	changed("charging_mode", old.ChargingMode, s.ChargingMode)
	changed("order_id", old.OrderID, s.OrderID)
	changed("vpc_id", old.VPCID, s.VPCID)
	changed("subnet_id", old.SubnetID, s.SubnetID)
	changed("port_id", old.PortID, s.PortID)
	changed("ip_address", old.IPAddress, s.IPAddress)
	changed("mac_address", old.MACAddress, s.MACAddress)
	if !slices.Equal(old.SecurityGroups, s.SecurityGroups) || (old.SecurityGroups == nil) != (s.SecurityGroups == nil) {
		b, err := json.Marshal(nonNil(s.SecurityGroups))
		if err != nil {
			return err
		}
		col("security_groups", string(b))
	}
	changed("key_name", old.KeyName, s.KeyName)
	changed("user_data", old.UserData, s.UserData)
	if !maps.Equal(old.Metadata, s.Metadata) {
		meta := s.Metadata
		if meta == nil {
			meta = map[string]string{}
		}
		b, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		col("metadata", string(b))
	}
	if !slices.Equal(old.Tags, s.Tags) || (old.Tags == nil) != (s.Tags == nil) {
		b, err := json.Marshal(nonNil(s.Tags))
		if err != nil {
			return err
		}
		col("tags", string(b))
	}
	changed("root_volume_id", old.RootVolumeID, s.RootVolumeID)
	changed("root_volume_type", old.RootVolumeType, s.RootVolumeType)
	changed("root_volume_size", old.RootVolumeSize, s.RootVolumeSize)
	changed("resize_flavor_id", old.ResizeFlavorID, s.ResizeFlavorID)
	changed("resize_host_id", old.ResizeHostID, s.ResizeHostID)
	changed("cpu_threads", old.CPUThreads, s.CPUThreads)
	changed("locked", boolInt(old.Locked), boolInt(s.Locked))
	changed("frozen", boolInt(old.Frozen), boolInt(s.Frozen))
	changed("fault_code", old.FaultCode, s.FaultCode)
	changed("fault_message", old.FaultMessage, s.FaultMessage)
	changed("created_at", toNanos(old.Created), toNanos(s.Created))
	changed("updated_at", toNanos(old.Updated), toNanos(s.Updated))
	changed("launched_at", toNanos(old.LaunchedAt), toNanos(s.LaunchedAt))
	changed("status", old.Status(), s.Status())
	if set.Len() == 0 {
		return nil
	}
	args = append(args, s.ID)
	res, err := d.exec(ctx, tx, `UPDATE servers SET `+set.String()+` WHERE id = ? AND deleted = 0`, args...)
	if err != nil {
		return fmt.Errorf("store: update server %s: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update server %s: %w", s.ID, sql.ErrNoRows)
	}
	return nil
}

// MarkServerDeleted hides a server from every read; its row stays for
// history. Its ports and its volumes marked delete_on_termination go with
// it; its other volumes are detached and become available.
func (d *DB) MarkServerDeleted(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	_, err := d.exec(ctx, tx, `UPDATE servers SET deleted = 1, vm_state = ?, task_state = '', status = ?,
		power_state = 0, updated_at = ? WHERE id = ?`, ecs.VMDeleted, ecs.StatusDeleted, at.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("store: delete server %s: %w", id, err)
	}
	return d.releaseServerResources(ctx, tx, id, at)
}

// ServerByID returns a live server. An empty projectID matches any project.
// A missing server is an ecs.CodeServerNotFound *ecs.Error.
func (d *DB) ServerByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Server, error) {
	q := `SELECT ` + serverColumns + ` FROM servers WHERE id = ? AND deleted = 0`
	args := []any{id}
	if projectID != "" {
		q += ` AND project_id = ?`
		args = append(args, projectID)
	}
	s, err := scanServer(d.queryRow(ctx, tx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ecs.Errorf(ecs.CodeServerNotFound, "Instance[%s] could not be found.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: server %s: %w", id, err)
	}
	return s, nil
}

// FindServers returns one page of live servers matching f, newest first,
// and the number that match without paging.
func (d *DB) FindServers(ctx context.Context, tx *sql.Tx, f ecs.ServerFilter) ([]*ecs.Server, int, error) {
	where := []string{"project_id = ?", "deleted = 0"}
	args := []any{f.ProjectID}
	like := d.dialect.like // case-insensitive, as SQLite's LIKE
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if len(f.IDs) > 0 {
		add("id IN ("+placeholders(len(f.IDs))+")", anys(f.IDs)...)
	}
	if f.Name != nil {
		add(`name `+like+` ? ESCAPE '\'`, "%"+likePattern(*f.Name, true)+"%")
	}
	if f.Status != nil {
		add("status = ?", *f.Status)
	}
	if f.FlavorID != nil {
		add("flavor_id = ?", *f.FlavorID)
	}
	if f.ImageID != nil {
		add("image_id = ?", *f.ImageID)
	}
	if f.AvailabilityZone != nil {
		add("az = ?", *f.AvailabilityZone)
	}
	if f.AZContains != nil {
		add(`az `+like+` ? ESCAPE '\'`, "%"+likePattern(*f.AZContains, false)+"%")
	}
	if f.ChargingMode != nil {
		add("charging_mode = ?", *f.ChargingMode)
	}
	if f.IP != nil {
		add(`ip_address `+like+` ? ESCAPE '\'`, "%"+likePattern(*f.IP, false)+"%")
	}
	if f.IPEq != nil {
		add("ip_address = ?", *f.IPEq)
	}
	if f.KeyName != nil {
		add("key_name = ?", *f.KeyName)
	}
	if f.LaunchedSince != nil {
		add("launched_at >= ? AND launched_at > 0", f.LaunchedSince.UnixNano())
	}
	for _, t := range f.Tags {
		add(`tags `+like+` ? ESCAPE '\'`, "%"+likePattern(jsonString(t), false)+"%")
	}
	for _, t := range f.NotTags {
		add(`tags NOT `+like+` ? ESCAPE '\'`, "%"+likePattern(jsonString(t), false)+"%")
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := d.queryRow(ctx, tx, `SELECT count(*) FROM servers WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count servers: %w", err)
	}
	if f.Marker != nil {
		var seq int64
		err := d.queryRow(ctx, tx, `SELECT seq FROM servers WHERE id = ? AND project_id = ?`, *f.Marker, f.ProjectID).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, ecs.Errorf(ecs.CodeBadRequest, "marker %s not found", *f.Marker)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("store: marker: %w", err)
		}
		cond += " AND seq < ?"
		args = append(args, seq)
	}
	q := `SELECT ` + serverColumns + ` FROM servers WHERE ` + cond + ` ORDER BY seq DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, f.Offset)
	} else if f.Offset > 0 {
		q += fmt.Sprintf(" LIMIT %s OFFSET %d", d.dialect.noLimit, f.Offset)
	}
	rows, err := d.query(ctx, tx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list servers: %w", err)
	}
	defer rows.Close()
	var out []*ecs.Server
	for rows.Next() {
		s, err := scanServer(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list servers: %w", err)
		}
		out = append(out, s)
	}
	return out, total, rows.Err()
}

// ServersInProject returns every live server of a project (for quota).
func (d *DB) ServersInProject(ctx context.Context, tx *sql.Tx, projectID string) ([]*ecs.Server, error) {
	return d.queryServers(ctx, tx, `project_id = ? AND deleted = 0`, projectID)
}

// ServersInAZ returns every live server placed in an AZ (for capacity).
func (d *DB) ServersInAZ(ctx context.Context, tx *sql.Tx, az string) ([]*ecs.Server, error) {
	return d.queryServers(ctx, tx, `az = ? AND deleted = 0`, az)
}

// ProjectUsage counts the live servers of a project by flavor, resize
// target and charging mode (for quota): one row per group, in no order.
// The counts are kept by triggers on servers (project_usage).
func (d *DB) ProjectUsage(ctx context.Context, tx *sql.Tx, projectID string) ([]ecs.ServerGroup, error) {
	rows, err := d.query(ctx, tx, `SELECT flavor_id, resize_flavor_id, charging_mode, count FROM project_usage
		WHERE project_id = ? AND count > 0`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: usage of project %s: %w", projectID, err)
	}
	return scanGroups(rows, func(g *ecs.ServerGroup) []any {
		return []any{&g.FlavorID, &g.ResizeFlavorID, &g.ChargingMode, &g.Count}
	})
}

// HostUsage counts the live servers placed in an AZ by host, flavor and
// resize target and host (for capacity): one row per group, in no order.
// The counts are kept by triggers on servers (az_usage): reading them
// costs the number of groups, not of servers.
func (d *DB) HostUsage(ctx context.Context, tx *sql.Tx, az string) ([]ecs.ServerGroup, error) {
	rows, err := d.query(ctx, tx, `SELECT host_id, flavor_id, resize_flavor_id, resize_host_id, count FROM az_usage
		WHERE az = ? AND count > 0`, az)
	if err != nil {
		return nil, fmt.Errorf("store: usage of az %s: %w", az, err)
	}
	return scanGroups(rows, func(g *ecs.ServerGroup) []any {
		return []any{&g.HostID, &g.FlavorID, &g.ResizeFlavorID, &g.ResizeHostID, &g.Count}
	})
}

func scanGroups(rows *sql.Rows, dest func(g *ecs.ServerGroup) []any) ([]ecs.ServerGroup, error) {
	defer rows.Close()
	var out []ecs.ServerGroup
	for rows.Next() {
		var g ecs.ServerGroup
		if err := rows.Scan(dest(&g)...); err != nil {
			return nil, fmt.Errorf("store: server usage: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: server usage: %w", err)
	}
	return out, nil
}

// BusyServers returns every live server with a task in progress.
func (d *DB) BusyServers(ctx context.Context, tx *sql.Tx) ([]*ecs.Server, error) {
	return d.queryServers(ctx, tx, `task_state <> '' AND deleted = 0`)
}

// AllServers returns every live server.
func (d *DB) AllServers(ctx context.Context, tx *sql.Tx) ([]*ecs.Server, error) {
	return d.queryServers(ctx, tx, `deleted = 0`)
}

func (d *DB) queryServers(ctx context.Context, tx *sql.Tx, cond string, args ...any) ([]*ecs.Server, error) {
	rows, err := d.query(ctx, tx, `SELECT `+serverColumns+` FROM servers WHERE `+cond+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: servers: %w", err)
	}
	defer rows.Close()
	var out []*ecs.Server
	for rows.Next() {
		s, err := scanServer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: servers: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanServer(row scanner) (*ecs.Server, error) {
	var s ecs.Server
	var sgs, meta, tags string
	var locked, frozen int
	var created, updated, launched int64
	err := row.Scan(&s.ID, &s.ProjectID, &s.Name, &s.Description, &s.FlavorID, &s.ImageID,
		&s.AvailabilityZone, &s.HostID, &s.VMState, &s.TaskState, &s.PowerState, &s.ChargingMode,
		&s.OrderID, &s.VPCID, &s.SubnetID, &s.PortID, &s.IPAddress, &s.MACAddress, &sgs, &s.KeyName,
		&s.UserData, &meta, &tags, &s.RootVolumeID, &s.RootVolumeType, &s.RootVolumeSize,
		&s.ResizeFlavorID, &s.ResizeHostID, &s.CPUThreads, &locked, &frozen, &s.FaultCode,
		&s.FaultMessage, &created, &updated, &launched)
	if err != nil {
		return nil, err
	}
	if err := decodeJSONStrings(sgs, &s.SecurityGroups); err != nil {
		return nil, fmt.Errorf("security_groups of %s: %w", s.ID, err)
	}
	if err := decodeJSONStringMap(meta, &s.Metadata); err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", s.ID, err)
	}
	if err := decodeJSONStrings(tags, &s.Tags); err != nil {
		return nil, fmt.Errorf("tags of %s: %w", s.ID, err)
	}
	s.Locked, s.Frozen = locked != 0, frozen != 0
	s.Created, s.Updated, s.LaunchedAt = fromNanos(created), fromNanos(updated), fromNanos(launched)
	return &s, nil
}

func serverArgs(s *ecs.Server) ([]any, error) {
	sgs, err := json.Marshal(nonNil(s.SecurityGroups))
	if err != nil {
		return nil, err
	}
	meta := s.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	tags, err := json.Marshal(nonNil(s.Tags))
	if err != nil {
		return nil, err
	}
	return []any{s.ID, s.ProjectID, s.Name, s.Description, s.FlavorID, s.ImageID,
		s.AvailabilityZone, s.HostID, s.VMState, s.TaskState, s.PowerState, s.ChargingMode,
		s.OrderID, s.VPCID, s.SubnetID, s.PortID, s.IPAddress, s.MACAddress, string(sgs), s.KeyName,
		s.UserData, string(metaJSON), string(tags), s.RootVolumeID, s.RootVolumeType, s.RootVolumeSize,
		s.ResizeFlavorID, s.ResizeHostID, s.CPUThreads, boolInt(s.Locked), boolInt(s.Frozen),
		s.FaultCode, s.FaultMessage, toNanos(s.Created), toNanos(s.Updated), toNanos(s.LaunchedAt)}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// likePattern escapes LIKE wildcards in s; with dotAny, '.' matches any one
// character, as Huawei's fuzzy name filter documents.
func likePattern(s string, dotAny bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '%' || r == '_' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '.' && dotAny:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
