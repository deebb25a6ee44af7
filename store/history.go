package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// InsertAction records an action taken on a server.
func (d *DB) InsertAction(ctx context.Context, tx *sql.Tx, a *ecs.Action) error {
	_, err := d.exec(ctx, tx, `INSERT INTO server_actions (project_id, server_id, action, request_id, job_id,
		start_time, finish_time, result, error_code, message) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		a.ProjectID, a.ServerID, a.Action, a.RequestID, a.JobID, toNanos(a.StartTime), toNanos(a.FinishTime),
		a.Result, a.ErrorCode, a.Message)
	if err != nil {
		return fmt.Errorf("store: insert action: %w", err)
	}
	return nil
}

// FinishActions closes the actions of a job (or sub-job) with its result.
func (d *DB) FinishActions(ctx context.Context, tx *sql.Tx, jobID, result, code, message string, at time.Time) error {
	_, err := d.exec(ctx, tx, `UPDATE server_actions SET finish_time = ?, result = ?, error_code = ?, message = ?
		WHERE job_id = ? AND result = ''`, at.UnixNano(), result, code, message, jobID)
	if err != nil {
		return fmt.Errorf("store: finish actions of %s: %w", jobID, err)
	}
	return nil
}

// Actions returns the actions of a server (deleted ones included), oldest
// first. An empty projectID matches any project.
func (d *DB) Actions(ctx context.Context, tx *sql.Tx, projectID, serverID string) ([]*ecs.Action, error) {
	q := `SELECT project_id, server_id, action, request_id, job_id, start_time, finish_time, result, error_code, message
		FROM server_actions WHERE server_id = ?`
	args := []any{serverID}
	if projectID != "" {
		q += ` AND project_id = ?`
		args = append(args, projectID)
	}
	rows, err := d.query(ctx, tx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: actions of %s: %w", serverID, err)
	}
	defer rows.Close()
	var out []*ecs.Action
	for rows.Next() {
		var a ecs.Action
		var start, finish int64
		if err := rows.Scan(&a.ProjectID, &a.ServerID, &a.Action, &a.RequestID, &a.JobID, &start, &finish,
			&a.Result, &a.ErrorCode, &a.Message); err != nil {
			return nil, err
		}
		a.StartTime, a.FinishTime = fromNanos(start), fromNanos(finish)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// StartPhase closes the job's running phase, if any, and opens phase.
// Entering the phase the job is already in changes nothing, so a resumed
// job does not record its phase twice.
func (d *DB) StartPhase(ctx context.Context, tx *sql.Tx, jobID, phase string, at time.Time) error {
	var cur string
	err := d.queryRow(ctx, tx, `SELECT phase FROM job_phases WHERE job_id = ? AND end_time = 0 ORDER BY seq DESC LIMIT 1`, jobID).Scan(&cur)
	switch {
	case err == nil && cur == phase:
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: phase of %s: %w", jobID, err)
	}
	if err := d.EndPhase(ctx, tx, jobID, at); err != nil {
		return err
	}
	if _, err := d.exec(ctx, tx, `INSERT INTO job_phases (job_id, phase, start_time, end_time) VALUES (?,?,?,0)`,
		jobID, phase, at.UnixNano()); err != nil {
		return fmt.Errorf("store: start phase %s of %s: %w", phase, jobID, err)
	}
	return nil
}

// EndPhase closes the job's running phase, if any.
func (d *DB) EndPhase(ctx context.Context, tx *sql.Tx, jobID string, at time.Time) error {
	if _, err := d.exec(ctx, tx, `UPDATE job_phases SET end_time = ? WHERE job_id = ? AND end_time = 0`, at.UnixNano(), jobID); err != nil {
		return fmt.Errorf("store: end phase of %s: %w", jobID, err)
	}
	return nil
}

// Phases returns the phases of a job, in order.
func (d *DB) Phases(ctx context.Context, tx *sql.Tx, jobID string) ([]*ecs.PhaseEvent, error) {
	rows, err := d.query(ctx, tx, `SELECT job_id, phase, start_time, end_time FROM job_phases WHERE job_id = ? ORDER BY seq`, jobID)
	if err != nil {
		return nil, fmt.Errorf("store: phases of %s: %w", jobID, err)
	}
	defer rows.Close()
	var out []*ecs.PhaseEvent
	for rows.Next() {
		var p ecs.PhaseEvent
		var start, end int64
		if err := rows.Scan(&p.JobID, &p.Phase, &start, &end); err != nil {
			return nil, err
		}
		p.StartTime, p.EndTime = fromNanos(start), fromNanos(end)
		out = append(out, &p)
	}
	return out, rows.Err()
}

// Setting returns the value of a setting, or "" when unset.
func (d *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := d.queryRow(ctx, d.db, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, nil
}

// PutSetting stores a setting.
func (d *DB) PutSetting(ctx context.Context, key, value string) error {
	_, err := d.exec(ctx, d.db, putSettingSQL, key, value)
	if err != nil {
		return fmt.Errorf("store: put setting %s: %w", key, err)
	}
	return nil
}

// PutSettingTx stores a setting in the caller's transaction.
func (d *DB) PutSettingTx(ctx context.Context, tx *sql.Tx, key, value string) error {
	if _, err := d.exec(ctx, tx, putSettingSQL, key, value); err != nil {
		return fmt.Errorf("store: put setting %s: %w", key, err)
	}
	return nil
}

const putSettingSQL = `INSERT INTO settings (key, value) VALUES (?, ?)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value`
