package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The development tenant's published credentials (README, "Development
// credentials"), used when no keys are given at all.
const (
	defaultEndpoint = "http://127.0.0.1:8787"
	devAccessKey    = "ECSDDEVACCESSKEY0001"
	devSecretKey    = "ecsdDevSecretKey000000000000000000000000"
	devProjectID    = "000000000000000000000000000ec5d1"
	defaultImage    = "abe65701-8a26-40ec-b381-c10498ca3745" // Ubuntu 22.04 server 64bit
	defaultTimeout  = 10 * time.Minute
	defaultPoll     = time.Second
	envAccessKey    = "HUAWEICLOUD_SDK_AK"
	envSecretKey    = "HUAWEICLOUD_SDK_SK"
	envProjectID    = "HUAWEICLOUD_SDK_PROJECT_ID"
	outputTable     = "table"
	outputJSON      = "json"
)

// Config is everything one ecsctl invocation needs: where to connect, as
// whom, the command and its options. Load builds it from the command line
// and the environment.
type Config struct {
	Endpoint  string // "" when Region names the SDK's regional endpoint
	Region    string
	ProjectID string
	AK, SK    string
	Output    string // outputTable or outputJSON
	Timeout   time.Duration
	Poll      time.Duration

	Command string   // e.g. "servers list", "resize"
	Args    []string // positional arguments of the command

	// Command options (each command accepts only its own).
	Name, Flavor, Image, VPC, Subnet, AZ string
	Count                                int
	Wait, Hard, WithStop, DryRun         bool
	DeleteVolume                         bool
	ResizableTo                          string
}

// DefaultConfig returns the settings used when nothing is given.
func DefaultConfig() Config {
	return Config{Output: outputTable, Timeout: defaultTimeout, Poll: defaultPoll, Image: defaultImage, Count: 1}
}

// UsageError is a bad command line (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// command describes one command: its positional arguments and options.
type command struct {
	name    string
	args    string // usage of the positional arguments
	minArgs int
	maxArgs int // -1: any number
	flags   func(fs *flag.FlagSet, c *Config)
	help    string
}

func waitFlag(fs *flag.FlagSet, c *Config) {
	fs.BoolVar(&c.Wait, "wait", false, "wait for the job to end")
}

func powerFlags(hard bool) func(fs *flag.FlagSet, c *Config) {
	return func(fs *flag.FlagSet, c *Config) {
		waitFlag(fs, c)
		if hard {
			fs.BoolVar(&c.Hard, "hard", false, "HARD instead of SOFT")
		}
	}
}

var commands = []command{
	{name: "servers list", help: "list the servers of the project"},
	{name: "servers show", args: "ID", minArgs: 1, maxArgs: 1, help: "show one server"},
	{name: "servers create", help: "create pay-per-use servers", flags: func(fs *flag.FlagSet, c *Config) {
		fs.StringVar(&c.Name, "name", "", "server name (required)")
		fs.StringVar(&c.Flavor, "flavor", "", "flavor ID (required)")
		fs.StringVar(&c.Image, "image", c.Image, "image ID")
		fs.StringVar(&c.VPC, "vpc", "", "VPC ID (default: the first VPC)")
		fs.StringVar(&c.Subnet, "subnet", "", "subnet ID (default: the first subnet of the VPC)")
		fs.IntVar(&c.Count, "count", c.Count, "number of servers")
		fs.StringVar(&c.AZ, "az", "", "availability zone (default: chosen by the cloud)")
		waitFlag(fs, c)
	}},
	{name: "servers delete", args: "ID...", minArgs: 1, maxArgs: -1, help: "delete servers", flags: func(fs *flag.FlagSet, c *Config) {
		fs.BoolVar(&c.DeleteVolume, "delete-volume", false, "delete the data volumes too")
		waitFlag(fs, c)
	}},
	{name: "start", args: "ID...", minArgs: 1, maxArgs: -1, help: "start servers", flags: powerFlags(false)},
	{name: "stop", args: "ID...", minArgs: 1, maxArgs: -1, help: "stop servers", flags: powerFlags(true)},
	{name: "reboot", args: "ID...", minArgs: 1, maxArgs: -1, help: "reboot servers", flags: powerFlags(true)},
	{name: "flavors list", help: "list flavors", flags: func(fs *flag.FlagSet, c *Config) {
		fs.StringVar(&c.AZ, "az", "", "only flavors of this availability zone")
		fs.StringVar(&c.ResizableTo, "resizable-to", "", "only flavors the server with this ID may be resized to")
	}},
	{name: "resize", args: "SERVER FLAVOR", minArgs: 2, maxArgs: 2, help: "change a server's flavor", flags: func(fs *flag.FlagSet, c *Config) {
		fs.BoolVar(&c.WithStop, "with-stop", false, "stop a running server first (mode=withStopServer)")
		fs.BoolVar(&c.DryRun, "dry-run", false, "only check the request")
		waitFlag(fs, c)
	}},
	{name: "jobs show", args: "JOB", minArgs: 1, maxArgs: 1, help: "show a job", flags: waitFlag},
}

// aliases maps alternative spellings to command names.
var aliases = map[string]string{"servers start": "start", "servers stop": "stop", "servers reboot": "reboot", "servers resize": "resize"}

// globalFlags declares the settings every command accepts.
func globalFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Endpoint, "endpoint", c.Endpoint, "API endpoint (default "+defaultEndpoint+", or the region's endpoint with --region)")
	fs.StringVar(&c.Region, "region", c.Region, "region, e.g. cn-north-4")
	fs.StringVar(&c.ProjectID, "project-id", c.ProjectID, "project ID (env "+envProjectID+")")
	fs.StringVar(&c.AK, "ak", c.AK, "access key (env "+envAccessKey+")")
	fs.StringVar(&c.SK, "sk", c.SK, "secret key (env "+envSecretKey+")")
	fs.StringVar(&c.Output, "o", c.Output, "output: table or json")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "the longest the command may take, waiting included")
	fs.DurationVar(&c.Poll, "poll", c.Poll, "how often --wait looks at the job")
}

// parseInterleaved parses fs over args, allowing flags after positional
// arguments, and returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Load builds a Config from the command line (args, without the program
// name) and the environment (getenv). Flags win over environment
// variables; with no keys at all it uses the development tenant. It has no
// side effects. A bad command line is a *UsageError; -h or "help" gives
// flag.ErrHelp.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	set := map[string]bool{}
	fs := newFlagSet("ecsctl")
	globalFlags(fs, &c)
	// Settings before the command; the rest is parsed with the command's
	// flags.
	if err := fs.Parse(args); err != nil {
		return c, flagError(err)
	}
	words := fs.Args()
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(words) == 0 {
		return c, usagef("no command given")
	}
	if words[0] == "help" {
		return c, flag.ErrHelp
	}
	// The command is one word (resize, start…) or two (servers list…).
	var cmd *command
	rest := words
	for n := 2; n >= 1 && cmd == nil; n-- {
		if len(words) < n {
			continue
		}
		name := strings.Join(words[:n], " ")
		if a, ok := aliases[name]; ok {
			name = a
		}
		if i := slices.IndexFunc(commands, func(k command) bool { return k.name == name }); i >= 0 {
			cmd, rest = &commands[i], words[n:]
		}
	}
	if cmd == nil {
		return c, usagef("unknown command %q", strings.Join(words[:min(2, len(words))], " "))
	}
	c.Command = cmd.name
	// The command's own flags, plus the global ones again so that they may
	// come after the command.
	cfs := newFlagSet("ecsctl " + cmd.name)
	globalFlags(cfs, &c)
	if cmd.flags != nil {
		cmd.flags(cfs, &c)
	}
	pos, err := parseInterleaved(cfs, rest)
	if err != nil {
		return c, flagError(err)
	}
	cfs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c.Args = pos
	if len(pos) < cmd.minArgs || (cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs) {
		return c, usagef("usage: ecsctl %s %s", cmd.name, cmd.args)
	}

	// The environment fills what the flags left unset.
	fromEnv := func(flagName string, dst *string, env string) {
		if !set[flagName] {
			if v := getenv(env); v != "" {
				*dst = v
			}
		}
	}
	fromEnv("ak", &c.AK, envAccessKey)
	fromEnv("sk", &c.SK, envSecretKey)
	fromEnv("project-id", &c.ProjectID, envProjectID)

	switch {
	case c.AK == "" && c.SK == "":
		c.AK, c.SK = devAccessKey, devSecretKey
		if c.ProjectID == "" {
			c.ProjectID = devProjectID
		}
	case c.AK == "" || c.SK == "":
		return c, usagef("give both an access key and a secret key (--ak/--sk or %s/%s)", envAccessKey, envSecretKey)
	case c.ProjectID == "" && c.Region == "":
		return c, usagef("give the project ID (--project-id or %s), or a --region to look it up", envProjectID)
	}
	if c.Endpoint == "" && c.Region == "" {
		c.Endpoint = defaultEndpoint
	}
	if c.Output != outputTable && c.Output != outputJSON {
		return c, usagef("-o must be table or json, got %q", c.Output)
	}
	if c.Timeout <= 0 || c.Poll <= 0 {
		return c, usagef("--timeout and --poll must be positive")
	}
	if c.Command == "servers create" {
		if c.Name == "" || c.Flavor == "" {
			return c, usagef("servers create needs --name and --flavor")
		}
		if c.Count < 1 {
			return c, usagef("--count must be at least 1")
		}
	}
	return c, nil
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &UsageError{Msg: err.Error()}
}

// usage writes the help text.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ecsctl [settings] COMMAND [options] [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, k := range commands {
		fmt.Fprintf(w, "  %-32s %s\n", strings.TrimSpace(k.name+" "+k.args), k.help)
		if k.flags != nil {
			c := DefaultConfig()
			fs := newFlagSet(k.name)
			k.flags(fs, &c)
			fs.VisitAll(func(f *flag.Flag) {
				fmt.Fprintf(w, "      --%-16s %s\n", f.Name, f.Usage)
			})
		}
	}
	fmt.Fprintln(w, "\nsettings (before or after the command):")
	c := DefaultConfig()
	fs := newFlagSet("ecsctl")
	globalFlags(fs, &c)
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(w, "  %-14s %s\n", dash+f.Name, f.Usage)
	})
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 the API refused the request, 2 usage, 3 a job failed, 4 connection or timeout")
}
