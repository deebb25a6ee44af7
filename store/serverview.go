package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// A server's view: its row, its security groups and its volumes.
//
// As three statements in a read transaction, a view is five round trips
// to PostgreSQL (BEGIN, three queries, COMMIT): 400 µs in
// BenchmarkServerView, against 225–254 µs for one statement that brings
// the security groups and the volumes as two more columns, each a JSON
// array of rows (dialect.jsonRows) that scanJSONRows turns back into what
// SecurityGroups and VolumesOfServers return, through the same scan
// functions. One statement sees one committed state by itself, so it
// needs no transaction. On SQLite, where a statement is a call rather
// than a round trip, building and parsing the JSON costs what the two
// statements it saves cost (three statements 39–45 µs, one 43–48 µs), so
// SQLite keeps the three; the tests run both ways on both engines.

// ServerView returns the live server id of projectID ("" for any project),
// the project's security groups among those it names (oldest first, as
// SecurityGroups orders them) and its volumes (in VolumesOfServers'
// order), read from one committed state outside the caller's
// transactions. A server that does not exist is CodeServerNotFound, as in
// ServerByID.
func (d *DB) ServerView(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error) {
	if d.dialect.name == EngineSQLite {
		return d.serverViewInTx(ctx, projectID, id)
	}
	return d.serverViewOneStatement(ctx, projectID, id)
}

// serverViewOneStatement is ServerView as one statement.
func (d *DB) serverViewOneStatement(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error) {
	q, args := d.serverViewQuery(projectID, id)
	pool := d.reader
	if pool == nil {
		pool = d.db // an ephemeral SQLite store's one connection
	}
	var sgs, vols string
	srv, err := scanServer(extraColumns{d.queryRow(ctx, pool, q, args...), []any{&sgs, &vols}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, ecs.Errorf(ecs.CodeServerNotFound, "Instance[%s] could not be found.", id)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: server %s: %w", id, err)
	}
	groups, err := scanJSONRows(sgs, scanSecurityGroup)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: security groups of server %s: %w", id, err)
	}
	volumes, err := scanJSONRows(vols, scanVolume)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: volumes of server %s: %w", id, err)
	}
	return srv, groups, volumes, nil
}

// serverViewInTx is ServerView as three statements in a read transaction.
func (d *DB) serverViewInTx(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error) {
	tx, err := d.BeginReadTx(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	srv, err := d.ServerByID(ctx, tx, projectID, id)
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := d.SecurityGroups(ctx, tx, projectID)
	if err != nil {
		return nil, nil, nil, err
	}
	var groups []*ecs.SecurityGroup
	for _, g := range all {
		if slices.Contains(srv.SecurityGroups, g.ID) {
			groups = append(groups, g)
		}
	}
	vols, err := d.VolumesOfServers(ctx, tx, projectID, []string{srv.ID})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, nil, fmt.Errorf("store: commit: %w", err)
	}
	return srv, groups, vols[srv.ID], nil
}

// serverViewQuery is ServerView's statement and its arguments. Its
// conditions are those of ServerByID, SecurityGroups (restricted to the
// server's) and VolumesOfServers, so that the planners use the same
// indexes.
func (d *DB) serverViewQuery(projectID, id string) (string, []any) {
	q := serverViewSQL[d.dialect]
	args := []any{projectID, projectID, id}
	if projectID != "" {
		q += ` AND project_id = ?`
		args = append(args, projectID)
	}
	return q, args
}

// serverViewSQL is ServerView's statement on each engine, built once.
var serverViewSQL = map[*dialect]string{
	sqliteDialect:   buildServerViewSQL(sqliteDialect),
	postgresDialect: buildServerViewSQL(postgresDialect),
}

func buildServerViewSQL(dl *dialect) string {
	return `SELECT ` + serverColumns + `,
		(SELECT ` + dl.jsonRows(qualify("g", securityGroupColumns), "g.created_at, g.id") + `
			FROM security_groups g WHERE g.project_id = ? AND g.id IN (` + dl.jsonElements("servers.security_groups") + `)),
		(SELECT ` + dl.jsonRows(qualify("v", volumeColumns), "v.boot_index DESC, v.device, v.seq") + `
			FROM volumes v WHERE v.server_id = servers.id AND v.server_id <> '' AND v.project_id || '' = ?)
		FROM servers WHERE id = ? AND deleted = 0`
}

// qualify prefixes each of a comma-separated list of columns with table.
func qualify(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// extraColumns scans a row whose last columns go to extra, after those
// the wrapped scan asks for.
type extraColumns struct {
	row   scanner
	extra []any
}

func (e extraColumns) Scan(dest ...any) error {
	return e.row.Scan(append(dest, e.extra...)...)
}

// scanJSONRows decodes a dialect.jsonRows aggregate, one scan per row.
func scanJSONRows[T any](data string, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := parseJSONRows(data)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, r := range rows {
		v, err := scan(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// jsonRow is a row of a jsonRows aggregate: its values in order, each a
// JSON string (decoded) or an integer (its literal).
type jsonRow []jsonValue

type jsonValue struct {
	text   string
	number bool
}

// Scan stores the row's values in dest, which may be *string (a JSON
// string), *int or *int64 (a JSON integer): the destinations the store's
// scan functions give.
func (r jsonRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("json row: %d values, %d destinations", len(r), len(dest))
	}
	for i, d := range dest {
		v := r[i]
		var err error
		switch d := d.(type) {
		case *string:
			if v.number {
				return fmt.Errorf("json row: value %d is a number, not a string", i)
			}
			*d = v.text
		case *int64:
			*d, err = v.int64()
		case *int:
			var n int64
			n, err = v.int64()
			*d = int(n)
		default:
			return fmt.Errorf("json row: cannot scan into %T", d)
		}
		if err != nil {
			return fmt.Errorf("json row: value %d: %w", i, err)
		}
	}
	return nil
}

// int64 is the value of an integer.
func (v jsonValue) int64() (int64, error) {
	if !v.number {
		return 0, errors.New("a string, not an integer")
	}
	return strconv.ParseInt(v.text, 10, 64)
}

// parseJSONRows parses a JSON array of arrays of strings and integers,
// with or without whitespace between tokens (SQLite writes none,
// PostgreSQL's json a space after each comma and a newline between rows).
func parseJSONRows(data string) ([]jsonRow, error) {
	p := jsonRowsParser{data: data}
	rows, err := p.rows()
	if err != nil {
		return nil, fmt.Errorf("json rows at byte %d: %w", p.i, err)
	}
	return rows, nil
}

type jsonRowsParser struct {
	data string
	i    int
}

var errJSONRows = errors.New("not an array of arrays of strings and integers")

func (p *jsonRowsParser) rows() ([]jsonRow, error) {
	var rows []jsonRow
	err := p.array(func() error {
		var r jsonRow
		err := p.array(func() error {
			v, err := p.value()
			r = append(r, v)
			return err
		})
		rows = append(rows, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, p.end()
}

// array parses a JSON array, each element with elem.
func (p *jsonRowsParser) array(elem func() error) error {
	if !p.consume('[') {
		return errJSONRows
	}
	if p.consume(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if p.consume(']') {
			return nil
		}
		if !p.consume(',') {
			return errJSONRows
		}
	}
}

func (p *jsonRowsParser) value() (jsonValue, error) {
	p.space()
	if p.i >= len(p.data) {
		return jsonValue{}, errJSONRows
	}
	if p.data[p.i] == '"' {
		if s, next, ok := scanJSONString(p.data, p.i); ok {
			p.i = next
			return jsonValue{text: s}, nil
		}
		// Escapes, control characters or invalid UTF-8: encoding/json
		// decodes the literal.
		end := p.i + 1
		for end < len(p.data) && p.data[end] != '"' {
			if p.data[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(p.data) {
			return jsonValue{}, errJSONRows
		}
		var s string
		if err := json.Unmarshal([]byte(p.data[p.i:end+1]), &s); err != nil {
			return jsonValue{}, err
		}
		p.i = end + 1
		return jsonValue{text: s}, nil
	}
	start := p.i
	if p.data[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		p.i++
	}
	if p.i == start || p.data[p.i-1] == '-' {
		return jsonValue{}, errJSONRows
	}
	return jsonValue{text: p.data[start:p.i], number: true}, nil
}

// consume skips whitespace and then c, reporting whether c was there.
func (p *jsonRowsParser) consume(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonRowsParser) space() {
	for p.i < len(p.data) && (p.data[p.i] == ' ' || p.data[p.i] == '\n' || p.data[p.i] == '\t' || p.data[p.i] == '\r') {
		p.i++
	}
}

// end fails unless only whitespace is left.
func (p *jsonRowsParser) end() error {
	p.space()
	if p.i != len(p.data) {
		return errJSONRows
	}
	return nil
}
