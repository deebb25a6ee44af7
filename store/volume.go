package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

const volumeColumns = `id, project_id, name, az, volume_type, size, bootable, image_id, status,
	server_id, device, boot_index, delete_on_termination, created_at, updated_at`

// InsertVolume adds a volume row.
func (d *DB) InsertVolume(ctx context.Context, tx *sql.Tx, v *ecs.Volume) error {
	_, err := d.exec(ctx, tx, `INSERT INTO volumes (`+volumeColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		v.ID, v.ProjectID, v.Name, v.AvailabilityZone, v.VolumeType, v.SizeGB, boolInt(v.Bootable), v.ImageID,
		v.Status, v.ServerID, v.Device, v.BootIndex, boolInt(v.DeleteOnTermination), toNanos(v.Created), toNanos(v.Updated))
	if err != nil {
		return fmt.Errorf("store: insert volume %s: %w", v.ID, err)
	}
	return nil
}

// VolumeByID returns a volume of a project; a missing one is
// ecs.VolumeNotFound.
func (d *DB) VolumeByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Volume, error) {
	v, err := scanVolume(d.queryRow(ctx, tx, `SELECT `+volumeColumns+` FROM volumes WHERE id = ? AND project_id = ?`, id, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ecs.VolumeNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: volume %s: %w", id, err)
	}
	return v, nil
}

// ServerVolumes returns the volumes attached to a server, system disk
// first, then in device order.
func (d *DB) ServerVolumes(ctx context.Context, tx *sql.Tx, serverID string) ([]*ecs.Volume, error) {
	rows, err := d.query(ctx, tx, `SELECT `+volumeColumns+` FROM volumes WHERE server_id = ? AND server_id <> ''
		ORDER BY boot_index DESC, device, seq`, serverID)
	if err != nil {
		return nil, fmt.Errorf("store: volumes of %s: %w", serverID, err)
	}
	defer rows.Close()
	var out []*ecs.Volume
	for rows.Next() {
		v, err := scanVolume(rows)
		if err != nil {
			return nil, fmt.Errorf("store: volumes of %s: %w", serverID, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VolumesOfServers returns the volumes attached to each of a project's
// servers, keyed by server ID, each list ordered as ServerVolumes orders it.
func (d *DB) VolumesOfServers(ctx context.Context, tx *sql.Tx, projectID string, serverIDs []string) (map[string][]*ecs.Volume, error) {
	out := make(map[string][]*ecs.Volume, len(serverIDs))
	if len(serverIDs) == 0 {
		return out, nil
	}
	// "project_id || ''" keeps SQLite's planner, which has no statistics,
	// from reading every volume of the project through volumes_project
	// rather than the page's through volumes_server.
	rows, err := d.query(ctx, tx, `SELECT `+volumeColumns+` FROM volumes WHERE server_id IN (`+
		placeholders(len(serverIDs))+`) AND server_id <> '' AND project_id || '' = ?
		ORDER BY server_id, boot_index DESC, device, seq`,
		append(anys(serverIDs), projectID)...)
	if err != nil {
		return nil, fmt.Errorf("store: volumes of servers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVolume(rows)
		if err != nil {
			return nil, fmt.Errorf("store: volumes of servers: %w", err)
		}
		out[v.ServerID] = append(out[v.ServerID], v)
	}
	return out, rows.Err()
}

// SetVolumesDeleteOnTermination sets whether deleting a server deletes its
// data disks (its system disk is always deleted).
func (d *DB) SetVolumesDeleteOnTermination(ctx context.Context, tx *sql.Tx, serverID string, del bool) error {
	_, err := d.exec(ctx, tx, `UPDATE volumes SET delete_on_termination = ? WHERE server_id = ? AND server_id <> '' AND bootable = 0`,
		boolInt(del), serverID)
	if err != nil {
		return fmt.Errorf("store: volumes of %s: %w", serverID, err)
	}
	return nil
}

// releaseServerResources deletes a deleted server's ports and the volumes
// deleted with it, and detaches the others (they become available).
func (d *DB) releaseServerResources(ctx context.Context, tx *sql.Tx, serverID string, at time.Time) error {
	// "<> ''" lets the partial indexes volumes_server and ports_device
	// serve these statements, prepared with the server unknown.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM volumes WHERE server_id = ? AND server_id <> '' AND (delete_on_termination = 1 OR bootable = 1)`, []any{serverID}},
		{`UPDATE volumes SET server_id = '', device = '', status = '` + ecs.VolumeAvailable + `', updated_at = ?
			WHERE server_id = ? AND server_id <> ''`, []any{at.UnixNano(), serverID}},
		{`DELETE FROM ports WHERE device_id = ? AND device_id <> ''`, []any{serverID}},
	} {
		if _, err := d.exec(ctx, tx, q.sql, q.args...); err != nil {
			return fmt.Errorf("store: release resources of %s: %w", serverID, err)
		}
	}
	return nil
}

func scanVolume(row scanner) (*ecs.Volume, error) {
	var v ecs.Volume
	var bootable, dot int
	var created, updated int64
	if err := row.Scan(&v.ID, &v.ProjectID, &v.Name, &v.AvailabilityZone, &v.VolumeType, &v.SizeGB, &bootable,
		&v.ImageID, &v.Status, &v.ServerID, &v.Device, &v.BootIndex, &dot, &created, &updated); err != nil {
		return nil, err
	}
	v.Bootable, v.DeleteOnTermination = bootable != 0, dot != 0
	v.Created, v.Updated = fromNanos(created), fromNanos(updated)
	return &v, nil
}

const portColumns = `id, project_id, network_id, subnet_id, ip_address, mac_address, device_id,
	device_owner, status, security_groups, az, created_at`

// InsertPort adds a port row.
func (d *DB) InsertPort(ctx context.Context, tx *sql.Tx, p *ecs.Port) error {
	sgs, err := json.Marshal(nonNil(p.SecurityGroups))
	if err != nil {
		return err
	}
	_, err = d.exec(ctx, tx, `INSERT INTO ports (`+portColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		p.ID, p.ProjectID, p.NetworkID, p.SubnetID, p.IPAddress, p.MACAddress, p.DeviceID, p.DeviceOwner,
		p.Status, string(sgs), p.AvailabilityZone, toNanos(p.Created))
	if err != nil {
		return fmt.Errorf("store: insert port %s: %w", p.ID, err)
	}
	return nil
}

// FindPorts returns the ports matching f, oldest first.
func (d *DB) FindPorts(ctx context.Context, tx *sql.Tx, f ecs.PortFilter) ([]*ecs.Port, error) {
	return d.queryPorts(ctx, tx, f, false)
}

// allPorts returns every port of every project, oldest first.
func (d *DB) allPorts(ctx context.Context, tx *sql.Tx) ([]*ecs.Port, error) {
	return d.queryPorts(ctx, tx, ecs.PortFilter{}, true)
}

func (d *DB) queryPorts(ctx context.Context, tx *sql.Tx, f ecs.PortFilter, all bool) ([]*ecs.Port, error) {
	q := `SELECT ` + portColumns + ` FROM ports WHERE (project_id = ? OR ?)`
	args := []any{f.ProjectID, all}
	for _, c := range []struct{ col, v string }{{"id", f.ID}, {"device_id", f.DeviceID}, {"network_id", f.NetworkID}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := d.query(ctx, tx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: ports: %w", err)
	}
	defer rows.Close()
	var out []*ecs.Port
	for rows.Next() {
		var p ecs.Port
		var sgs string
		var created int64
		if err := rows.Scan(&p.ID, &p.ProjectID, &p.NetworkID, &p.SubnetID, &p.IPAddress, &p.MACAddress,
			&p.DeviceID, &p.DeviceOwner, &p.Status, &sgs, &p.AvailabilityZone, &created); err != nil {
			return nil, fmt.Errorf("store: ports: %w", err)
		}
		if err := json.Unmarshal([]byte(sgs), &p.SecurityGroups); err != nil {
			return nil, fmt.Errorf("store: security_groups of port %s: %w", p.ID, err)
		}
		p.Created = fromNanos(created)
		out = append(out, &p)
	}
	return out, rows.Err()
}

// SnapshotVolume is a row of volumes.
type SnapshotVolume struct {
	ID                  string    `json:"id"`
	ProjectID           string    `json:"project_id"`
	Name                string    `json:"name"`
	AZ                  string    `json:"az"`
	VolumeType          string    `json:"volume_type"`
	SizeGB              int       `json:"size"`
	Bootable            bool      `json:"bootable"`
	ImageID             string    `json:"image_id"`
	Status              string    `json:"status"`
	ServerID            string    `json:"server_id"`
	Device              string    `json:"device"`
	BootIndex           int       `json:"boot_index"`
	DeleteOnTermination bool      `json:"delete_on_termination"`
	CreatedAt           time.Time `json:"created_at,omitzero"`
	UpdatedAt           time.Time `json:"updated_at,omitzero"`
}

// SnapshotPort is a row of ports.
type SnapshotPort struct {
	ID             string    `json:"id"`
	ProjectID      string    `json:"project_id"`
	NetworkID      string    `json:"network_id"`
	SubnetID       string    `json:"subnet_id"`
	IPAddress      string    `json:"ip_address"`
	MACAddress     string    `json:"mac_address"`
	DeviceID       string    `json:"device_id"`
	DeviceOwner    string    `json:"device_owner"`
	Status         string    `json:"status"`
	SecurityGroups []string  `json:"security_groups"`
	AZ             string    `json:"az"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
}

func (d *DB) exportVolumes(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	s.Volumes = []SnapshotVolume{}
	return d.eachRow(ctx, tx, `SELECT `+volumeColumns+` FROM volumes ORDER BY seq`, func(r *sql.Rows) error {
		v, err := scanVolume(r)
		if err != nil {
			return err
		}
		s.Volumes = append(s.Volumes, SnapshotVolume{ID: v.ID, ProjectID: v.ProjectID, Name: v.Name,
			AZ: v.AvailabilityZone, VolumeType: v.VolumeType, SizeGB: v.SizeGB, Bootable: v.Bootable,
			ImageID: v.ImageID, Status: v.Status, ServerID: v.ServerID, Device: v.Device, BootIndex: v.BootIndex,
			DeleteOnTermination: v.DeleteOnTermination, CreatedAt: v.Created, UpdatedAt: v.Updated})
		return nil
	})
}

func (d *DB) importVolumes(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, v := range s.Volumes {
		if err := d.InsertVolume(ctx, tx, &ecs.Volume{ID: v.ID, ProjectID: v.ProjectID, Name: v.Name,
			AvailabilityZone: v.AZ, VolumeType: v.VolumeType, SizeGB: v.SizeGB, Bootable: v.Bootable,
			ImageID: v.ImageID, Status: v.Status, ServerID: v.ServerID, Device: v.Device, BootIndex: v.BootIndex,
			DeleteOnTermination: v.DeleteOnTermination, Created: v.CreatedAt, Updated: v.UpdatedAt}); err != nil {
			return fmt.Errorf("volumes[%d]: %w", i, err)
		}
	}
	return nil
}

func (d *DB) exportPorts(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	ports, err := d.allPorts(ctx, tx)
	if err != nil {
		return err
	}
	s.Ports = make([]SnapshotPort, 0, len(ports))
	for _, p := range ports {
		s.Ports = append(s.Ports, SnapshotPort{ID: p.ID, ProjectID: p.ProjectID, NetworkID: p.NetworkID,
			SubnetID: p.SubnetID, IPAddress: p.IPAddress, MACAddress: p.MACAddress, DeviceID: p.DeviceID,
			DeviceOwner: p.DeviceOwner, Status: p.Status, SecurityGroups: nonNil(p.SecurityGroups),
			AZ: p.AvailabilityZone, CreatedAt: p.Created})
	}
	return nil
}

func (d *DB) importPorts(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	for i, p := range s.Ports {
		if err := d.InsertPort(ctx, tx, &ecs.Port{ID: p.ID, ProjectID: p.ProjectID, NetworkID: p.NetworkID,
			SubnetID: p.SubnetID, IPAddress: p.IPAddress, MACAddress: p.MACAddress, DeviceID: p.DeviceID,
			DeviceOwner: p.DeviceOwner, Status: p.Status, SecurityGroups: p.SecurityGroups,
			AvailabilityZone: p.AZ, Created: p.CreatedAt}); err != nil {
			return fmt.Errorf("ports[%d]: %w", i, err)
		}
	}
	return nil
}
