package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	ecs "github.com/ecsd-dev/ecsd"
)

const jobColumns = `id, project_id, parent_id, type, status, server_id, phase, params,
	error_code, fail_reason, begin_time, end_time`

// InsertJob adds a job row (sub-jobs are inserted separately).
func (d *DB) InsertJob(ctx context.Context, tx *sql.Tx, j *ecs.Job) error {
	_, err := d.exec(ctx, tx, `INSERT INTO jobs (`+jobColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		j.ID, j.ProjectID, j.ParentID, j.Type, j.Status, j.ServerID, j.Phase, j.Params,
		j.ErrorCode, j.FailReason, toNanos(j.BeginTime), toNanos(j.EndTime))
	if err != nil {
		return fmt.Errorf("store: insert job %s: %w", j.ID, err)
	}
	return nil
}

// UpdateJob writes a job's mutable columns.
func (d *DB) UpdateJob(ctx context.Context, tx *sql.Tx, j *ecs.Job) error {
	_, err := d.exec(ctx, tx, `UPDATE jobs SET status = ?, phase = ?, params = ?, error_code = ?,
		fail_reason = ?, begin_time = ?, end_time = ? WHERE id = ?`,
		j.Status, j.Phase, j.Params, j.ErrorCode, j.FailReason, toNanos(j.BeginTime), toNanos(j.EndTime), j.ID)
	if err != nil {
		return fmt.Errorf("store: update job %s: %w", j.ID, err)
	}
	return nil
}

// JobByID returns a job with its sub-jobs. An empty projectID matches any
// project. A missing job is an *ecs.Error answered with 404.
func (d *DB) JobByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Job, error) {
	q := `SELECT ` + jobColumns + ` FROM jobs WHERE id = ?`
	args := []any{id}
	if projectID != "" {
		q += ` AND project_id = ?`
		args = append(args, projectID)
	}
	j, err := scanJob(d.queryRow(ctx, tx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &ecs.Error{Code: ecs.CodeBadRequest, Message: fmt.Sprintf("Job[%s] could not be found.", id), Status: 404}
	}
	if err != nil {
		return nil, fmt.Errorf("store: job %s: %w", id, err)
	}
	j.SubJobs, err = d.SubJobs(ctx, tx, j.ID)
	if err != nil {
		return nil, err
	}
	return j, nil
}

// RecentJobs returns the newest top-level jobs (those without a parent),
// newest first, at most limit of them, each with its sub-jobs: of one
// project and with one status, or of every project ("") and any status
// (""). It reads from the newest job back, never the whole table.
func (d *DB) RecentJobs(ctx context.Context, tx *sql.Tx, projectID, status string, limit int) ([]*ecs.Job, error) {
	q := `SELECT ` + jobColumns + ` FROM jobs WHERE parent_id = ''`
	var args []any
	if projectID != "" {
		q += ` AND project_id = ?`
		args = append(args, projectID)
	}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit)
	rows, err := d.query(ctx, tx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: recent jobs: %w", err)
	}
	var out []*ecs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: recent jobs: %w", err)
		}
		out = append(out, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recent jobs: %w", err)
	}
	for _, j := range out {
		if j.SubJobs, err = d.SubJobs(ctx, tx, j.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SubJobs returns the sub-jobs of a job in creation order; a job that is
// not a parent (parentID "") has none.
func (d *DB) SubJobs(ctx context.Context, tx *sql.Tx, parentID string) ([]*ecs.Job, error) {
	// "parent_id <> ''" lets both engines use the partial index jobs_parent
	// for a query prepared with parentID unknown: without it, every job
	// read scanned the whole jobs table.
	rows, err := d.query(ctx, tx, `SELECT `+jobColumns+` FROM jobs WHERE parent_id = ? AND parent_id <> '' ORDER BY seq`, parentID)
	if err != nil {
		return nil, fmt.Errorf("store: sub-jobs of %s: %w", parentID, err)
	}
	defer rows.Close()
	var out []*ecs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: sub-jobs of %s: %w", parentID, err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// UnfinishedJobs returns the jobs that have not ended, oldest first.
func (d *DB) UnfinishedJobs(ctx context.Context, tx *sql.Tx) ([]*ecs.Job, error) {
	// The literals let the planners use the partial index jobs_unfinished
	// (migration 0009), which a condition on parameters cannot.
	rows, err := d.query(ctx, tx, `SELECT `+jobColumns+` FROM jobs WHERE status NOT IN ('`+ecs.JobSuccess+`', '`+ecs.JobFail+`') ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished jobs: %w", err)
	}
	defer rows.Close()
	var out []*ecs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func scanJob(row scanner) (*ecs.Job, error) {
	var j ecs.Job
	var begin, end int64
	if err := row.Scan(&j.ID, &j.ProjectID, &j.ParentID, &j.Type, &j.Status, &j.ServerID, &j.Phase,
		&j.Params, &j.ErrorCode, &j.FailReason, &begin, &end); err != nil {
		return nil, err
	}
	j.BeginTime, j.EndTime = fromNanos(begin), fromNanos(end)
	return &j, nil
}
