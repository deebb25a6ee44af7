package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// printer writes command results as a table or as JSON. It does no API
// calls, so every format is testable on its own.
type printer struct {
	w, errw  io.Writer
	format   string
	terminal bool
}

func newPrinter(w, errw io.Writer, format string, terminal bool) *printer {
	return &printer{w: w, errw: errw, format: format, terminal: terminal}
}

func (p *printer) json() bool { return p.format == outputJSON }

// JSON writes v indented.
func (p *printer) JSON(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Table writes a header and rows, aligned.
func (p *printer) Table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// Fields writes name/value pairs, aligned.
func (p *printer) Fields(kv [][2]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	for _, f := range kv {
		fmt.Fprintf(tw, "%s:\t%s\n", f[0], f[1])
	}
	return tw.Flush()
}

// progressWriter is where --wait shows progress: stdout for tables, stderr
// with -o json (so that stdout stays one JSON document).
func (p *printer) progressWriter() io.Writer {
	if p.json() {
		return p.errw
	}
	return p.w
}

var spinnerFrames = []string{"|", "/", "-", `\`}

// progress shows the phase of a job being waited on: a one-line spinner
// redrawn with \r on a terminal, else a plain line each time the phase
// changes.
type progress struct {
	w        io.Writer
	terminal bool
	start    time.Time
	last     string
	frame    int
	drawn    bool
}

func newProgress(w io.Writer, terminal bool, start time.Time) *progress {
	return &progress{w: w, terminal: terminal, start: start}
}

// Update records the current phase (e.g. "RUNNING resize_migrating") at now.
func (g *progress) Update(phase string, now time.Time) {
	if g.terminal {
		g.frame++
		fmt.Fprintf(g.w, "\r%s %s  %s\x1b[K", spinnerFrames[g.frame%len(spinnerFrames)], phase, now.Sub(g.start).Truncate(time.Second/10))
		g.drawn = true
		return
	}
	if phase != g.last {
		fmt.Fprintf(g.w, "%s %s\n", now.Format("15:04:05"), phase)
	}
	g.last = phase
}

// Done ends the spinner's line.
func (g *progress) Done() {
	if g.terminal && g.drawn {
		fmt.Fprint(g.w, "\r\x1b[K")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
