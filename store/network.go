package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	ecs "github.com/ecsd-dev/ecsd"
)

// InsertVPC adds a VPC.
func (d *DB) InsertVPC(ctx context.Context, tx *sql.Tx, v *ecs.VPC) error {
	_, err := d.exec(ctx, tx, `INSERT INTO vpcs (id, project_id, name, cidr, created_at) VALUES (?,?,?,?,?)`,
		v.ID, v.ProjectID, v.Name, v.CIDR, v.Created.UnixNano())
	if err != nil {
		return fmt.Errorf("store: insert vpc: %w", err)
	}
	return nil
}

// InsertSubnet adds a subnet.
func (d *DB) InsertSubnet(ctx context.Context, tx *sql.Tx, s *ecs.Subnet) error {
	_, err := d.exec(ctx, tx, `INSERT INTO subnets (id, project_id, vpc_id, name, cidr, gateway_ip, az, next_host, created_at)
		VALUES (?,?,?,?,?,?,?,?,?)`, s.ID, s.ProjectID, s.VPCID, s.Name, s.CIDR, s.GatewayIP, s.AZ, 10, s.Created.UnixNano())
	if err != nil {
		return fmt.Errorf("store: insert subnet: %w", err)
	}
	return nil
}

// InsertSecurityGroup adds a security group.
func (d *DB) InsertSecurityGroup(ctx context.Context, tx *sql.Tx, g *ecs.SecurityGroup) error {
	_, err := d.exec(ctx, tx, `INSERT INTO security_groups (id, project_id, name, description, vpc_id, created_at)
		VALUES (?,?,?,?,?,?)`, g.ID, g.ProjectID, g.Name, g.Description, g.VPCID, g.Created.UnixNano())
	if err != nil {
		return fmt.Errorf("store: insert security group: %w", err)
	}
	return nil
}

// VPCs returns a project's VPCs, oldest first.
func (d *DB) VPCs(ctx context.Context, tx *sql.Tx, projectID string) ([]*ecs.VPC, error) {
	rows, err := d.query(ctx, tx, `SELECT id, project_id, name, cidr, created_at FROM vpcs WHERE project_id = ? ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: vpcs: %w", err)
	}
	defer rows.Close()
	var out []*ecs.VPC
	for rows.Next() {
		var v ecs.VPC
		var created int64
		if err := rows.Scan(&v.ID, &v.ProjectID, &v.Name, &v.CIDR, &created); err != nil {
			return nil, err
		}
		v.Created = fromNanos(created)
		out = append(out, &v)
	}
	return out, rows.Err()
}

const subnetColumns = `id, project_id, vpc_id, name, cidr, gateway_ip, az, created_at`

// Subnets returns a project's subnets, optionally of one VPC.
func (d *DB) Subnets(ctx context.Context, tx *sql.Tx, projectID, vpcID string) ([]*ecs.Subnet, error) {
	q := `SELECT ` + subnetColumns + ` FROM subnets WHERE project_id = ?`
	args := []any{projectID}
	if vpcID != "" {
		q += ` AND vpc_id = ?`
		args = append(args, vpcID)
	}
	rows, err := d.query(ctx, tx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: subnets: %w", err)
	}
	defer rows.Close()
	var out []*ecs.Subnet
	for rows.Next() {
		s, err := scanSubnet(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SubnetByID returns a subnet of the project, or nil when there is none.
func (d *DB) SubnetByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Subnet, error) {
	s, err := scanSubnet(d.queryRow(ctx, tx, `SELECT `+subnetColumns+` FROM subnets WHERE id = ? AND project_id = ?`, id, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: subnet %s: %w", id, err)
	}
	return s, nil
}

// NextHostNumber reserves the next host number of a subnet for a new port
// and returns it.
func (d *DB) NextHostNumber(ctx context.Context, tx *sql.Tx, subnetID string) (int, error) {
	var n int
	err := d.queryRow(ctx, tx, `UPDATE subnets SET next_host = next_host + 1 WHERE id = ? RETURNING next_host - 1`, subnetID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: allocate address in %s: %w", subnetID, err)
	}
	return n, nil
}

func scanSubnet(row scanner) (*ecs.Subnet, error) {
	var s ecs.Subnet
	var created int64
	if err := row.Scan(&s.ID, &s.ProjectID, &s.VPCID, &s.Name, &s.CIDR, &s.GatewayIP, &s.AZ, &created); err != nil {
		return nil, err
	}
	s.Created = fromNanos(created)
	return &s, nil
}

// SecurityGroups returns a project's security groups.
func (d *DB) SecurityGroups(ctx context.Context, tx *sql.Tx, projectID string) ([]*ecs.SecurityGroup, error) {
	rows, err := d.query(ctx, tx, `SELECT `+securityGroupColumns+`
		FROM security_groups WHERE project_id = ? ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("store: security groups: %w", err)
	}
	defer rows.Close()
	var out []*ecs.SecurityGroup
	for rows.Next() {
		g, err := scanSecurityGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// securityGroupColumns are the columns scanSecurityGroup reads.
const securityGroupColumns = `id, project_id, name, description, vpc_id, created_at`

func scanSecurityGroup(row scanner) (*ecs.SecurityGroup, error) {
	var g ecs.SecurityGroup
	var created int64
	if err := row.Scan(&g.ID, &g.ProjectID, &g.Name, &g.Description, &g.VPCID, &created); err != nil {
		return nil, err
	}
	g.Created = fromNanos(created)
	return &g, nil
}

// ReplaceHosts makes the hosts table equal to hosts (IDs, AZs, capacity).
// Hosts that still carry servers are kept even when absent from hosts.
func (d *DB) ReplaceHosts(ctx context.Context, tx *sql.Tx, hosts []ecs.Host) error {
	if _, err := d.exec(ctx, tx, `DELETE FROM hosts WHERE id NOT IN (SELECT host_id FROM servers WHERE deleted = 0)`); err != nil {
		return fmt.Errorf("store: hosts: %w", err)
	}
	for _, h := range hosts {
		_, err := d.exec(ctx, tx, `INSERT INTO hosts (id, az, vcpus, ram_mb, arch) VALUES (?,?,?,?,?)
			ON CONFLICT (id) DO UPDATE SET az = excluded.az, vcpus = excluded.vcpus, ram_mb = excluded.ram_mb, arch = excluded.arch`,
			h.ID, h.AZ, h.VCPUs, h.RAMMB, h.Arch)
		if err != nil {
			return fmt.Errorf("store: host %s: %w", h.ID, err)
		}
	}
	return nil
}

// Hosts returns the simulated hosts of an AZ ("" = all), by ID.
func (d *DB) Hosts(ctx context.Context, tx *sql.Tx, az string) ([]ecs.Host, error) {
	q := `SELECT id, az, vcpus, ram_mb, arch FROM hosts`
	var args []any
	if az != "" {
		q += ` WHERE az = ?`
		args = append(args, az)
	}
	rows, err := d.query(ctx, tx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	defer rows.Close()
	var out []ecs.Host
	for rows.Next() {
		var h ecs.Host
		if err := rows.Scan(&h.ID, &h.AZ, &h.VCPUs, &h.RAMMB, &h.Arch); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// ClientToken returns the stored result of a create call made with token, or
// "" when there is none.
func (d *DB) ClientToken(ctx context.Context, tx *sql.Tx, projectID, token string) (string, error) {
	var resp string
	err := d.queryRow(ctx, tx, `SELECT response FROM client_tokens WHERE project_id = ? AND token = ?`, projectID, token).Scan(&resp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: client token: %w", err)
	}
	return resp, nil
}

// PutClientToken records the result of a create call made with token.
func (d *DB) PutClientToken(ctx context.Context, tx *sql.Tx, projectID, token, response string, nanos int64) error {
	_, err := d.exec(ctx, tx, `INSERT INTO client_tokens (project_id, token, response, created_at) VALUES (?,?,?,?)`,
		projectID, token, response, nanos)
	if err != nil {
		return fmt.Errorf("store: client token: %w", err)
	}
	return nil
}
