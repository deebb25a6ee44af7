package main

import (
	"bytes"
	"encoding/json"
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
	for _, args := range [][]string{{"--scenario", "nope"}, {"--clients", "0"}, {"-o", "xml"}, {"--servers", "100000", "--projects", "1"}} {
		if _, err := Load(args); err == nil {
			t.Errorf("Load(%q): no error", args)
		}
	}
}

// TestSmoke runs every scenario briefly with tiny sizes: the harness works
// end to end. It asserts no speed.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ecsd and builds cmd/ecsd")
	}
	c, err := Load([]string{"--smoke", "--duration", "200ms", "--servers", "40", "--projects", "2", "--clients", "2", "--lifecycle-clients", "1"})
	if err != nil {
		t.Fatal(err)
	}
	b := &Bench{Config: c}
	defer b.Close()
	res, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"baseline/bare-http", "read/show-server", "read/show-job", "write/resize-dry-run", "baseline/sqlite-commit",
		"write/resize", "lifecycle/resize-to-success", "scale/seed", "scale/list-page", "scale/filter-status",
		"scale/filter-flavor", "startup/empty-db", "startup/40-servers"}
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
	var out bytes.Buffer
	if err := Print(&out, "json", b.Machine(), res); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("-o json is not JSON: %s", out.String())
	}
}
