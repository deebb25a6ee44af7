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

// serverColumnNames are serverColumns one by one.
var serverColumnNames = func() []string {
	names := strings.Split(serverColumns, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
	}
	return names
}()

// updateServerSQL writes every column but id, and the status.
var updateServerSQL = `UPDATE servers SET ` + strings.Join(serverColumnNames[1:], " = ?, ") +
	` = ?, status = ? WHERE id = ? AND deleted = 0`

// UpdateServer writes every column of an existing server row.
func (d *DB) UpdateServer(ctx context.Context, tx *sql.Tx, s *ecs.Server) error {
	args, err := serverArgs(s)
	if err != nil {
		return err
	}
	args = append(args[1:], s.Status(), s.ID)
	return d.updateServer(ctx, tx, s.ID, updateServerSQL, args)
}

func (d *DB) updateServer(ctx context.Context, tx *sql.Tx, id, query string, args []any) error {
	res, err := d.exec(ctx, tx, query, args...)
	if err != nil {
		return fmt.Errorf("store: update server %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update server %s: %w", id, sql.ErrNoRows)
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
	was, now := serverValues(old), serverValues(s)
	var set strings.Builder
	var args []any
	for i := 1; i < len(now); i++ { // not the id
		if sameValue(was[i], now[i]) {
			continue
		}
		v, err := columnArg(now[i])
		if err != nil {
			return err
		}
		set.WriteString(serverColumnNames[i])
		set.WriteString(" = ?, ")
		args = append(args, v)
	}
	if old.Status() != s.Status() {
		set.WriteString("status = ?, ")
		args = append(args, s.Status())
	}
	if set.Len() == 0 {
		return nil
	}
	query := `UPDATE servers SET ` + strings.TrimSuffix(set.String(), ", ") + ` WHERE id = ? AND deleted = 0`
	return d.updateServer(ctx, tx, s.ID, query, append(args, s.ID))
}

// serverValues returns the column values of s in serverColumns order, the
// JSON columns (security groups, metadata, tags) as their Go values, which
// columnArg encodes.
func serverValues(s *ecs.Server) []any {
	return []any{s.ID, s.ProjectID, s.Name, s.Description, s.FlavorID, s.ImageID,
		s.AvailabilityZone, s.HostID, s.VMState, s.TaskState, s.PowerState, s.ChargingMode,
		s.OrderID, s.VPCID, s.SubnetID, s.PortID, s.IPAddress, s.MACAddress, s.SecurityGroups, s.KeyName,
		s.UserData, s.Metadata, s.Tags, s.RootVolumeID, s.RootVolumeType, s.RootVolumeSize,
		s.ResizeFlavorID, s.ResizeHostID, s.CPUThreads, boolInt(s.Locked), boolInt(s.Frozen),
		s.FaultCode, s.FaultMessage, toNanos(s.Created), toNanos(s.Updated), toNanos(s.LaunchedAt)}
}

// columnArg is the argument that stores v: JSON for the JSON columns (a nil
// list as [], a nil map as {}), v itself otherwise.
func columnArg(v any) (any, error) {
	var b []byte
	var err error
	switch v := v.(type) {
	case []string:
		b, err = json.Marshal(nonNil(v))
	case map[string]string:
		if v == nil {
			v = map[string]string{}
		}
		b, err = json.Marshal(v)
	default:
		return v, nil
	}
	return string(b), err
}

// sameValue reports whether two values of serverValues store the same.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case []string:
		b := b.([]string)
		return slices.Equal(a, b) && (a == nil) == (b == nil)
	case map[string]string:
		return maps.Equal(a, b.(map[string]string))
	}
	return a == b
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

// serverArgs returns the arguments that store s, in serverColumns order.
func serverArgs(s *ecs.Server) ([]any, error) {
	args := serverValues(s)
	for i, v := range args {
		a, err := columnArg(v)
		if err != nil {
			return nil, err
		}
		args[i] = a
	}
	return args, nil
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
