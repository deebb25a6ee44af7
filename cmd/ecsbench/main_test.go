package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	c, err := Load([]string{"--smoke", "--scenario", "read,write", "--clients", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Duration != time.Second || c.Clients != 3 || strings.Join(c.Scenarios, ",") != "read,write" {
		t.Errorf("Load = %+v", c)
	}
	c, err = Load([]string{"--database", "postgres://localhost/x"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Scenarios, allScenarios) {
		t.Errorf("--database: scenarios %q, want all (startup included)", c.Scenarios)
	}
	for _, args := range [][]string{{"--scenario", "nope"}, {"--clients", "0"}, {"-o", "xml"}, {"--servers", "100000", "--projects", "1"},
		{"--database", "postgres://localhost/x", "--ephemeral"},
		{"--database-as-is"}, {"--pid", "123"}} {
		if _, err := Load(args); err == nil {
			t.Errorf("Load(%q): no error", args)
		}
	}
}

// TestMeterProcess meters a process through /proc/<pid> (--url with
// --pid): its CPU time and peak RSS, read from outside; here the process
// is this one, named by its pid rather than "self".
func TestMeterProcess(t *testing.T) {
	saved := meterPID
	meterPID = strconv.Itoa(os.Getpid())
	defer func() { meterPID = saved }()
	m := startMeter()
	start := procCPU(meterPID)
	// Burn CPU until /proc shows 30 ms more (its unit is 10 ms).
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for procCPU(meterPID)-start < 30*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatal("/proc/<pid>/stat showed no CPU time in 10 s of work")
		}
		for i := range 1_000_000 {
			x += i % 7
		}
	}
	var r Result
	m.fill(&r)
	if r.CPUsec < 0.03 || r.CPUsec > 20 {
		t.Errorf("CPU seconds %.3f, want at least the 0.03 burnt (x=%d)", r.CPUsec, x)
	}
	if r.PeakRSSMB <= 0 {
		t.Errorf("peak RSS %.1f MB, want it read from /proc/<pid>/status", r.PeakRSSMB)
	}
	if procCPU("999999999") != 0 {
		t.Error("procCPU of a missing process should be 0")
	}
}

// runBench runs ecsbench with args and returns it (closed when t ends)
// and its results.
func runBench(t *testing.T, args ...string) (*Bench, []Result) {
	t.Helper()
	c, err := Load(args)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bench{Config: c}
	t.Cleanup(func() { b.Close() })
	res, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return b, res
}

// checkResults wants the results of the scenarios named, in order, each
// with requests and no error.
func checkResults(t *testing.T, res []Result, want []string) {
	t.Helper()
	var got []string
	for _, r := range res {
		got = append(got, r.Scenario)
		if r.Errors > 0 || r.Requests == 0 {
			t.Errorf("%s: %d requests, %d errors (%s)", r.Scenario, r.Requests, r.Errors, r.FirstErr)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("scenarios = %q, want %q", got, want)
	}
}

// TestSmoke runs every scenario briefly with tiny sizes: the harness works
// end to end. It asserts no speed.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ecsd and builds cmd/ecsd")
	}
	b, res := runBench(t, "--smoke", "--duration", "200ms", "--servers", "40", "--projects", "2", "--clients", "2", "--lifecycle-clients", "1")
	want := []string{"baseline/bare-http", "read/show-server", "read/show-job", "write/resize-dry-run", "baseline/sqlite-commit",
		"write/resize", "lifecycle/resize-to-success", "scale/seed", "scale/list-page", "scale/list-page-1-client", "scale/filter-status",
		"scale/filter-flavor", "scale/resize-dry-run", "startup/empty-db", "startup/40-servers"}
	checkResults(t, res, want)
	var out bytes.Buffer
	if err := Print(&out, "json", b.Machine(), res); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("-o json is not JSON: %s", out.String())
	}
}

// TestSmokePostgres runs the read, write, lifecycle and startup scenarios
// briefly with the node, and startup's cmd/ecsd, on fresh PostgreSQL
// databases (TEST_DATABASE_URL), and checks that every database made is
// dropped at Close. It asserts no speed.
func TestSmokePostgres(t *testing.T) {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" || testing.Short() {
		t.Skip("needs TEST_DATABASE_URL (e.g. from .ci/postgres)")
	}
	b, res := runBench(t, "--smoke", "--duration", "200ms", "--clients", "2", "--servers", "40", "--projects", "2",
		"--startup-runs", "2", "--scenario", "read,write,lifecycle,startup", "--database", raw)
	want := []string{"baseline/bare-http", "read/show-server", "read/show-job", "baseline/postgres-commit",
		"baseline/postgres-commit-serialized", "write/resize", "lifecycle/resize-to-success", "startup/empty-db", "startup/40-servers"}
	checkResults(t, res, want)
	if m := b.Machine(); !strings.Contains(m, "PostgreSQL") || !strings.Contains(m, "fsync=") {
		t.Errorf("machine line %q does not name the PostgreSQL server and its settings", m)
	}
	for _, r := range res {
		if strings.HasPrefix(r.Scenario, "startup/") && !strings.Contains(r.Note, "on PostgreSQL") {
			t.Errorf("%s: note %q does not name PostgreSQL", r.Scenario, r.Note)
		}
	}
	// The node's fresh database, one per empty-db run and the big one.
	made := slices.Clone(b.pg.made)
	if len(made) != 4 || made[0] != b.pg.fresh {
		t.Errorf("databases made: %q, want the node's fresh one, 2 empty ones and a big one", made)
	}
	b.Close()
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// Every database of this process's ecsbench runs is named
	// ecsbench_<pid>_…; "_" is a LIKE wildcard, hence the escapes.
	rows, err := admin.QueryContext(t.Context(), `SELECT datname FROM pg_database WHERE datname LIKE $1`,
		`ecsbench\_`+strconv.Itoa(os.Getpid())+`\_%`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		t.Errorf("database %s still exists after Close", name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
