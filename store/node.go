package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// This file holds the registry of ecsd nodes that share a database. Each
// node registers under the ID that its River client uses (river.Config.ID),
// beats its heart while it runs, and any node may rescue the River jobs of
// the nodes whose heart stopped. Every time is the database's own clock,
// never a node's, so that nodes with skewed clocks agree on who is dead.

// ErrNodeNotRegistered is returned by Heartbeat when the node has no row:
// it never registered, or another node found its heartbeat stale, rescued
// its jobs and removed it. A node that meets it must stop working the jobs
// it holds (others may be running them) and register again.
var ErrNodeNotRegistered = errors.New("store: node is not registered (presumed dead by another node)")

// Node is a registered ecsd node.
type Node struct {
	ID          string
	StartedAt   time.Time // when it registered, by the database's clock
	HeartbeatAt time.Time // its last heartbeat, by the database's clock
}

// RegisterNode records that the node id has started, or restarted, now:
// call it before the node's River client (whose Config.ID must be id)
// fetches any job, so that no job is fetched by a node that others would
// take for dead.
func (d *DB) RegisterNode(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("store: register node: empty ID")
	}
	_, err := d.db.ExecContext(ctx, d.q(`INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, `+d.dialect.now+`, `+d.dialect.now+`)
		ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`), id)
	if err != nil {
		return fmt.Errorf("store: register node %s: %w", id, err)
	}
	return nil
}

// Heartbeat records that the node id is alive now. It returns an error
// wrapping ErrNodeNotRegistered when the node has no row (see there).
func (d *DB) Heartbeat(ctx context.Context, id string) error {
	res, err := d.db.ExecContext(ctx, d.q(`UPDATE nodes SET heartbeat_at = `+d.dialect.now+` WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: heartbeat of node %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: heartbeat of node %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("heartbeat of node %s: %w", id, ErrNodeNotRegistered)
	}
	return nil
}

// UnregisterNode removes the node id, as a node that stops cleanly does
// once its River client has stopped. Jobs still marked running by it are
// then rescued by the next RescueJobsOfDeadNodes of any node.
func (d *DB) UnregisterNode(ctx context.Context, id string) error {
	if _, err := d.db.ExecContext(ctx, d.q(`DELETE FROM nodes WHERE id = ?`), id); err != nil {
		return fmt.Errorf("store: unregister node %s: %w", id, err)
	}
	return nil
}

// Nodes returns the registered nodes, by ID.
func (d *DB) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, `+d.dialect.epochMillis("started_at")+`, `+
		d.dialect.epochMillis("heartbeat_at")+` FROM nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var n Node
		var started, beat int64
		if err := rows.Scan(&n.ID, &started, &beat); err != nil {
			return nil, fmt.Errorf("store: nodes: %w", err)
		}
		n.StartedAt, n.HeartbeatAt = time.UnixMilli(started).UTC(), time.UnixMilli(beat).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// RescueJobsOfDeadNodes makes the River jobs of dead nodes available
// again, to be fetched by any live node, and returns how many it rescued.
// A node is dead when its last heartbeat is older than staleAfter by the
// database's clock; its row is removed (so that its own next Heartbeat
// fails). A job is rescued when River has it running and the client that
// last fetched it (the last entry of attempted_by) is not a registered
// node: a dead one, or one that never registered. It is rescued as it is,
// attempt and attempted_by kept, scheduled now; River counts the next
// fetch as the next attempt. Any node may call it at any time, concurrently
// with others: each job is rescued once.
func (d *DB) RescueJobsOfDeadNodes(ctx context.Context, staleAfter time.Duration) (int64, error) {
	if staleAfter <= 0 {
		return 0, fmt.Errorf("store: rescue jobs of dead nodes: staleAfter %v is not positive", staleAfter)
	}
	// Read committed on PostgreSQL (the pool's default): each UPDATE
	// re-checks its row after waiting for a concurrent writer, so that a
	// job River finished meanwhile, or a node that beat its heart
	// meanwhile, is left alone, and two rescuers never both rescue a job.
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: rescue jobs of dead nodes: %w", err)
	}
	defer tx.Rollback()
	stale, arg := d.dialect.before("heartbeat_at", staleAfter)
	if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM nodes WHERE `+stale), arg); err != nil {
		return 0, fmt.Errorf("store: remove dead nodes: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = `+d.dialect.now+`
		WHERE state = 'running' AND coalesce(`+d.dialect.lastAttempt+`, '') NOT IN (SELECT id FROM nodes)`)
	if err != nil {
		return 0, fmt.Errorf("store: rescue jobs of dead nodes: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: rescue jobs of dead nodes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: rescue jobs of dead nodes: %w", err)
	}
	return n, nil
}

// RunningJob is a River job that River has running for a node.
type RunningJob struct {
	ID    int64  // River's job ID
	JobID string // the API job it carries ("" for other kinds)
}

// RunningJobsOf returns the River jobs that River has running and that
// node id fetched last.
func (d *DB) RunningJobsOf(ctx context.Context, id string) ([]RunningJob, error) {
	rows, err := d.db.QueryContext(ctx, d.q(`SELECT id, coalesce(`+d.dialect.jsonText("args", "job_id")+`, '')
		FROM river_job WHERE state = 'running' AND `+d.dialect.lastAttempt+` = ? ORDER BY id`), id)
	if err != nil {
		return nil, fmt.Errorf("store: running jobs of node %s: %w", id, err)
	}
	defer rows.Close()
	var out []RunningJob
	for rows.Next() {
		var j RunningJob
		if err := rows.Scan(&j.ID, &j.JobID); err != nil {
			return nil, fmt.Errorf("store: running jobs of node %s: %w", id, err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// RequeueJobs makes the given River jobs available again, scheduled now,
// if River still has them running for node id: jobs that the node no
// longer works although River never learnt that they ended (the database
// was unreachable when their attempt ended). It returns how many it
// requeued.
func (d *DB) RequeueJobs(ctx context.Context, id string, riverIDs []int64) (int64, error) {
	if len(riverIDs) == 0 {
		return 0, nil
	}
	args := make([]any, 0, len(riverIDs)+1)
	args = append(args, id)
	marks := make([]string, len(riverIDs))
	for i, rid := range riverIDs {
		marks[i] = "?"
		args = append(args, rid)
	}
	res, err := d.db.ExecContext(ctx, d.q(`UPDATE river_job SET state = 'available', scheduled_at = `+d.dialect.now+`
		WHERE state = 'running' AND `+d.dialect.lastAttempt+` = ? AND id IN (`+strings.Join(marks, ", ")+`)`), args...)
	if err != nil {
		return 0, fmt.Errorf("store: requeue jobs of node %s: %w", id, err)
	}
	return res.RowsAffected()
}
