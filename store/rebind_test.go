package store

import "testing"

func TestRebindDollar(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ? AND b IN (?,?)`, `SELECT * FROM t WHERE a = $1 AND b IN ($2,$3)`},
		{`UPDATE t SET a = ? WHERE b LIKE ? ESCAPE '\'`, `UPDATE t SET a = $1 WHERE b LIKE $2 ESCAPE '\'`},
		{`SELECT '?', 'it''s ?', "odd?col" FROM t WHERE a = ?`, `SELECT '?', 'it''s ?', "odd?col" FROM t WHERE a = $1`},
		{"SELECT a -- is it ?\nFROM t WHERE a = ?", "SELECT a -- is it ?\nFROM t WHERE a = $1"},
		{`SELECT json_extract(args, '$.job_id') FROM t WHERE x = ?`, `SELECT json_extract(args, '$.job_id') FROM t WHERE x = $1`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
		{`SELECT ? -- tail ?`, `SELECT $1 -- tail ?`},
	} {
		if got := rebindDollar(tt.in); got != tt.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRebindCache(t *testing.T) {
	t.Parallel()
	d := &DB{dialect: postgresDialect}
	q := `SELECT a FROM t WHERE b = ?`
	if got := d.Rebind(q); got != `SELECT a FROM t WHERE b = $1` {
		t.Fatalf("Rebind = %q", got)
	}
	if got := d.Rebind(q); got != `SELECT a FROM t WHERE b = $1` || d.reboundCount.Load() != 1 {
		t.Errorf("second Rebind = %q, cache holds %d; want the cached query, 1", got, d.reboundCount.Load())
	}
	s := &DB{dialect: sqliteDialect}
	if got := s.Rebind(q); got != q {
		t.Errorf("Rebind on SQLite = %q, want the query unchanged", got)
	}
}
