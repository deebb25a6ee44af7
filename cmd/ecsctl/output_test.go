package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	g := newProgress(&b, true, start)
	g.Update("RUNNING resize_prep", start.Add(1500*time.Millisecond))
	g.Update("RUNNING resize_prep", start.Add(1600*time.Millisecond))
	g.Done()
	got := b.String()
	if strings.Contains(got, "\n") || strings.Count(got, "\r") != 3 || !strings.Contains(got, "RUNNING resize_prep  1.5s") {
		t.Fatalf("terminal progress %q", got)
	}
}

func TestProgressPlain(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.Local)
	g := newProgress(&b, false, start)
	for i, p := range []string{"INIT", "RUNNING resize_prep", "RUNNING resize_prep", "RUNNING resize_migrating"} {
		g.Update(p, start.Add(time.Duration(i)*time.Second))
	}
	g.Done()
	want := "12:00:00 INIT\n12:00:01 RUNNING resize_prep\n12:00:03 RUNNING resize_migrating\n"
	if b.String() != want {
		t.Fatalf("plain progress\n%q\nwant\n%q", b.String(), want)
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newPrinter(&b, &b, outputTable, false)
	if err := p.Table(serverHeader, [][]string{{"id-1", "web", "ACTIVE", "-", "s6.large.2", "cn-north-4a", "postPaid"}}); err != nil {
		t.Fatal(err)
	}
	want := "ID    NAME  STATUS  TASK  FLAVOR      AZ           BILLING\n" +
		"id-1  web   ACTIVE  -     s6.large.2  cn-north-4a  postPaid\n"
	if b.String() != want {
		t.Fatalf("table\n%s\nwant\n%s", b.String(), want)
	}
}

func TestBilling(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"0": "postPaid", "": "postPaid", "1": "prePaid", "2": "spot", "prePaid": "prePaid"} {
		if got := billing(in); got != want {
			t.Errorf("billing(%q) = %q, want %q", in, got, want)
		}
	}
}
