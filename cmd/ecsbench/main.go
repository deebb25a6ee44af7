// Command ecsbench measures ecsd: it starts a node in-process (or targets
// one with --url), drives it with concurrent clients that sign requests as
// the Huawei SDK does, and prints, per scenario, requests per second,
// latency p50/p99/p99.9, CPU seconds and peak RSS, next to the limits of
// the same machine: a bare net/http server answering the same bytes and the
// raw commit rate of the store's engine with ecsd's durability settings
// (SQLite by default; PostgreSQL with --database).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"
)

// Scenarios in the order they run.
var allScenarios = []string{"read", "write-dryrun", "write", "lifecycle", "scale", "startup"}

// Config is the benchmark's settings.
type Config struct {
	URL              string // "" = start a node in-process
	PID              int    // with URL: the target's process, metered instead of this one
	AdminToken       string
	Clients          int
	LifecycleClients int
	Duration         time.Duration
	Scenarios        []string
	Smoke            bool
	Ephemeral        bool
	Database         string // PostgreSQL URL of the in-process node and of the startup scenario's ecsd; "" = SQLite
	DatabaseAsIs     bool   // use Database itself rather than a fresh database beside it (startup still makes its own)
	Servers          int    // scale: servers to seed
	Projects         int    // scale: projects they spread over
	Output           string
	ECSD             string // the ecsd binary of the startup scenario; "" = go build ./cmd/ecsd
	StartupRuns      int
	CPUProfile       string // write a CPU profile of the whole run (in-process node included)
}

// DefaultConfig is the full run.
func DefaultConfig() Config {
	return Config{Clients: 16, LifecycleClients: 1, Duration: 10 * time.Second, Scenarios: allScenarios,
		Servers: 100_000, Projects: 100, Output: "table", StartupRuns: 5}
}

// Load parses args over DefaultConfig; --smoke shrinks durations and sizes
// (flags given explicitly still win).
func Load(args []string) (Config, error) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("ecsbench", flag.ContinueOnError)
	fs.StringVar(&c.URL, "url", "", "target a running ecsd instead of starting one in-process")
	fs.StringVar(&c.AdminToken, "admin-token", "", "control API token of the --url ecsd")
	fs.IntVar(&c.PID, "pid", 0, "with --url: the ecsd process whose CPU time and peak RSS the results give (default: this client process)")
	fs.IntVar(&c.Clients, "clients", c.Clients, "concurrent clients")
	fs.IntVar(&c.LifecycleClients, "lifecycle-clients", c.LifecycleClients, "concurrent clients of the lifecycle scenario")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "duration of each scenario")
	scen := fs.String("scenario", strings.Join(allScenarios, ","), "scenarios to run: "+strings.Join(allScenarios, ","))
	fs.BoolVar(&c.Smoke, "smoke", false, "about a second per scenario with tiny sizes (CI)")
	fs.BoolVar(&c.Ephemeral, "ephemeral", false, "in-memory store for the in-process node (default: a temp data dir)")
	fs.StringVar(&c.Database, "database", "", "run the in-process node and the startup scenario's cmd/ecsd on PostgreSQL: fresh databases, created and dropped on this postgres:// URL's server")
	fs.BoolVar(&c.DatabaseAsIs, "database-as-is", false, "with --database: run the in-process node on the URL's database itself (not dropped); the startup scenario still creates fresh databases, so needs a role allowed to")
	fs.IntVar(&c.Servers, "servers", c.Servers, "scale: servers to seed")
	fs.IntVar(&c.Projects, "projects", c.Projects, "scale: projects the servers spread over")
	fs.StringVar(&c.Output, "o", c.Output, "output: table or json")
	fs.StringVar(&c.ECSD, "ecsd", "", "ecsd binary for the startup scenario (default: go build ./cmd/ecsd)")
	fs.IntVar(&c.StartupRuns, "startup-runs", c.StartupRuns, "startup: runs per database")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Smoke {
		if !set["duration"] {
			c.Duration = time.Second
		}
		if !set["servers"] {
			c.Servers = 2_000
		}
		if !set["projects"] {
			c.Projects = 10
		}
		if !set["startup-runs"] {
			c.StartupRuns = 1
		}
	}
	c.Scenarios = nil
	for s := range strings.SplitSeq(*scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ok := false
		for _, a := range allScenarios {
			ok = ok || a == s
		}
		if !ok {
			return c, fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(allScenarios, ","))
		}
		c.Scenarios = append(c.Scenarios, s)
	}
	switch {
	case c.Clients < 1 || c.LifecycleClients < 1:
		return c, errors.New("--clients and --lifecycle-clients must be at least 1")
	case c.Projects < 1 || c.Servers < c.Projects:
		return c, errors.New("--servers must be at least --projects, and --projects at least 1")
	case c.Servers/c.Projects > 250*250:
		// A seed adds /24 subnets to a project's 192.168.0.0/16 VPC as
		// they fill up.
		return c, errors.New("at most 62,500 servers per project: raise --projects")
	case c.Database != "" && (c.URL != "" || c.Ephemeral):
		return c, errors.New("--database runs the in-process node on PostgreSQL: not with --url or --ephemeral")
	case c.PID != 0 && c.URL == "":
		return c, errors.New("--pid names the process of the --url ecsd: it needs --url")
	case c.DatabaseAsIs && c.Database == "":
		return c, errors.New("--database-as-is needs --database")
	case c.Output != "table" && c.Output != "json":
		return c, fmt.Errorf("-o %q: want table or json", c.Output)
	}
	return c, nil
}

func main() {
	cfg, err := Load(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecsbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ecsbench:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "ecsbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	b := &Bench{Config: cfg, Log: os.Stderr}
	defer b.Close()
	res, err := b.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecsbench:", err)
		os.Exit(1)
	}
	if err := Print(os.Stdout, cfg.Output, b.Machine(), res); err != nil {
		fmt.Fprintln(os.Stderr, "ecsbench:", err)
		os.Exit(1)
	}
}

// logf prints progress to the log writer.
func (b *Bench) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, "ecsbench: "+format+"\n", args...)
	}
}
