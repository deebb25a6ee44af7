package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	ecs "github.com/ecsd-dev/ecsd"
)

const orderColumns = `id, project_id, type, status, amount, currency, flavor_id, period_type,
	period_num, period_end, server_ids, job_id, created_at, paid_at, cancelled_at`

// InsertOrder adds an order row.
func (d *DB) InsertOrder(ctx context.Context, tx *sql.Tx, o *ecs.Order) error {
	ids, err := json.Marshal(nonNil(o.ServerIDs))
	if err != nil {
		return err
	}
	_, err = d.exec(ctx, tx, `INSERT INTO orders (`+orderColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		o.ID, o.ProjectID, o.Type, o.Status, o.Amount, o.Currency, o.FlavorID, o.PeriodType,
		o.PeriodNum, toNanos(o.PeriodEnd), string(ids), o.JobID, toNanos(o.Created), toNanos(o.Paid), toNanos(o.Cancelled))
	if err != nil {
		return fmt.Errorf("store: insert order %s: %w", o.ID, err)
	}
	return nil
}

// UpdateOrder writes an order's mutable columns: status, job and times.
func (d *DB) UpdateOrder(ctx context.Context, tx *sql.Tx, o *ecs.Order) error {
	_, err := d.exec(ctx, tx, `UPDATE orders SET status = ?, job_id = ?, paid_at = ?, cancelled_at = ? WHERE id = ?`,
		o.Status, o.JobID, toNanos(o.Paid), toNanos(o.Cancelled), o.ID)
	if err != nil {
		return fmt.Errorf("store: update order %s: %w", o.ID, err)
	}
	return nil
}

// OrderByID returns an order of a project, or nil and no error when the
// project has no such order.
func (d *DB) OrderByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Order, error) {
	o, err := scanOrder(d.queryRow(ctx, tx,
		`SELECT `+orderColumns+` FROM orders WHERE id = ? AND project_id = ?`, id, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: order %s: %w", id, err)
	}
	return o, nil
}

// PendingOrdersOfServer returns the orders of a project that await payment
// and name the server.
func (d *DB) PendingOrdersOfServer(ctx context.Context, tx *sql.Tx, projectID, serverID string) ([]*ecs.Order, error) {
	rows, err := d.query(ctx, tx, `SELECT `+orderColumns+` FROM orders
		WHERE project_id = ? AND status = ? AND `+d.dialect.jsonArrayHas("orders.server_ids")+`
		ORDER BY seq`, projectID, ecs.OrderPendingPayment, serverID)
	if err != nil {
		return nil, fmt.Errorf("store: pending orders of %s: %w", serverID, err)
	}
	defer rows.Close()
	var out []*ecs.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pending orders of %s: %w", serverID, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func scanOrder(row scanner) (*ecs.Order, error) {
	var o ecs.Order
	var ids string
	var end, created, paid, cancelled int64
	if err := row.Scan(&o.ID, &o.ProjectID, &o.Type, &o.Status, &o.Amount, &o.Currency, &o.FlavorID,
		&o.PeriodType, &o.PeriodNum, &end, &ids, &o.JobID, &created, &paid, &cancelled); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &o.ServerIDs); err != nil {
		return nil, fmt.Errorf("server_ids of %s: %w", o.ID, err)
	}
	o.PeriodEnd, o.Created, o.Paid, o.Cancelled = fromNanos(end), fromNanos(created), fromNanos(paid), fromNanos(cancelled)
	return &o, nil
}
