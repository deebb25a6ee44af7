package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ecsd-dev/ecsd/fault"
)

var _ fault.Store = (*DB)(nil)

// InsertFaultRule stores a new fault rule. The rule column holds the rule as
// JSON; the id, fired and created_at columns are authoritative over it, and
// remaining counts down from the rule's Count (-1 = without limit).
func (d *DB) InsertFaultRule(ctx context.Context, r fault.Rule) error {
	r.Fired = 0
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: encode fault rule %s: %w", r.ID, err)
	}
	remaining := r.Count
	if remaining == 0 {
		remaining = -1
	}
	if _, err := d.exec(ctx, d.db, `INSERT INTO fault_rules (id, rule, remaining, fired, created_at) VALUES (?,?,?,0,?)`,
		r.ID, string(b), remaining, toNanos(r.CreatedAt)); err != nil {
		return fmt.Errorf("store: insert fault rule %s: %w", r.ID, err)
	}
	return nil
}

// DeleteFaultRule deletes a fault rule and reports whether it existed.
func (d *DB) DeleteFaultRule(ctx context.Context, id string) (bool, error) {
	res, err := d.exec(ctx, d.db, `DELETE FROM fault_rules WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("store: delete fault rule %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: delete fault rule %s: %w", id, err)
	}
	return n > 0, nil
}

// DeleteFaultRules deletes every fault rule.
func (d *DB) DeleteFaultRules(ctx context.Context) error {
	if _, err := d.exec(ctx, d.db, `DELETE FROM fault_rules`); err != nil {
		return fmt.Errorf("store: delete fault rules: %w", err)
	}
	return nil
}

// FaultRules returns every fault rule with its fired count, oldest first.
func (d *DB) FaultRules(ctx context.Context) ([]fault.Rule, error) {
	rows, err := d.query(ctx, d.db, `SELECT id, rule, fired, created_at FROM fault_rules ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: fault rules: %w", err)
	}
	defer rows.Close()
	var out []fault.Rule
	for rows.Next() {
		var id, body string
		var fired int
		var created int64
		if err := rows.Scan(&id, &body, &fired, &created); err != nil {
			return nil, fmt.Errorf("store: fault rules: %w", err)
		}
		var r fault.Rule
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, fmt.Errorf("store: decode fault rule %s: %w", id, err)
		}
		r.ID, r.Fired, r.CreatedAt = id, fired, fromNanos(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: fault rules: %w", err)
	}
	return out, nil
}

// FireFaultRule counts one firing of a fault rule, in one statement: fired
// goes up and remaining down, unless remaining is already 0. It reports
// whether the rule fired (false for an exhausted or unknown rule).
func (d *DB) FireFaultRule(ctx context.Context, id string) (bool, error) {
	res, err := d.exec(ctx, d.db, `UPDATE fault_rules SET fired = fired + 1,
		remaining = CASE WHEN remaining > 0 THEN remaining - 1 ELSE remaining END
		WHERE id = ? AND remaining != 0`, id)
	if err != nil {
		return false, fmt.Errorf("store: fire fault rule %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: fire fault rule %s: %w", id, err)
	}
	return n == 1, nil
}
