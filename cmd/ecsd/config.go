package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
)

// Config is ecsd's configuration. DefaultConfig returns the built-in
// defaults; Load layers a config file, environment variables and flags over
// them, in that order of increasing precedence.
//
// Config holds only plain values: main converts them into the types of the
// packages it wires (driver, worker timing, flavor catalogue, tenants).
type Config struct {
	// Listen is the address the API serves on, host:port. Flag --listen, env
	// ECSD_LISTEN, file key listen.
	Listen string
	// DataDir is the directory of the database and the drivers' state. A
	// relative path is relative to the working directory, not to the config
	// file. Flag --data, env ECSD_DATA, file key data_dir.
	DataDir string
	// Database is a PostgreSQL URL (postgres://… or postgresql://…) that
	// several nodes may share; empty selects SQLite in DataDir. Flag
	// --database, env ECSD_DATABASE, file key database.
	Database string
	// DatabaseMaxConns bounds the PostgreSQL connection pool of this node.
	// Flag --database-max-conns, env ECSD_DATABASE_MAX_CONNS, file key
	// database_max_conns.
	DatabaseMaxConns string
	// NodeID names this node among the nodes sharing a PostgreSQL database
	// (default: host name and a random suffix). Flag --node-id, env
	// ECSD_NODE_ID, file key node_id.
	NodeID string
	// NodeTimeout is how long a node may miss its heartbeats before the
	// other nodes take over its jobs (PostgreSQL only). Flag --node-timeout,
	// env ECSD_NODE_TIMEOUT, file key node_timeout.
	NodeTimeout string
	// Ephemeral keeps all state in memory; DataDir is then unused. Flag
	// --ephemeral, env ECSD_EPHEMERAL, file key ephemeral.
	Ephemeral bool
	// ConfigFile is the config file that was read, or "" if none. Flag
	// --config, env ECSD_CONFIG.
	ConfigFile string
	// Region is the region ecsd emulates, e.g. cn-north-4. Flag --region,
	// env ECSD_REGION, file key region.
	Region string
	// Timing sets how long simulated operations take.
	Timing TimingConfig
	// Driver names the compute driver (the driver registry's name, e.g. sim).
	// Flag --driver, env ECSD_DRIVER, file key driver.
	Driver string
	// QEMU configures the qemu driver.
	QEMU QEMUConfig
	// AdminToken opens the control API (/_ecsd/) to callers presenting it
	// as a bearer token; without it only loopback clients may use it. Flag
	// --admin-token, env ECSD_ADMIN_TOKEN, file key admin_token.
	AdminToken string
	// Seed is a seed document (YAML or JSON: tenants, quotas, servers)
	// loaded at the first start, into an empty store, and re-applied by
	// every reset. A relative path is relative to the working directory.
	// Flag --seed, env ECSD_SEED, file key seed.
	Seed string
	// Log configures the logger.
	Log LogConfig
	// DevTenant turns on the built-in development tenant (ecs.DevTenant),
	// whose credentials are public. Flag --no-dev-tenant, env
	// ECSD_DEV_TENANT, file key dev_tenant.
	DevTenant bool
	// AllowRemoteDev allows a non-loopback Listen address while DevTenant is
	// on. Flag --allow-remote-dev, env ECSD_ALLOW_REMOTE_DEV, file key
	// allow_remote_dev.
	AllowRemoteDev bool
	// DefaultQuota is the quota of every project without its own, -1 meaning
	// unlimited. File key quota.
	DefaultQuota ecs.Quota
	// TenantConfigs are the tenants declared in the config file, besides the
	// development tenant. File key tenants. See Tenants and QuotaFor.
	TenantConfigs []TenantConfig
	// Flavors override the built-in flavor catalogue, in order. File key
	// flavors.
	Flavors []FlavorConfig
	// Hosts are the simulated hosts; empty means the catalogue's defaults.
	// File key hosts.
	Hosts []HostConfig

	// origins maps a setting (its file key, or "config") to where its value
	// came from, e.g. "flag --listen"; Validate names it in errors.
	origins map[string]string
}

// TimingConfig sets how long simulated operations take.
type TimingConfig struct {
	// Profile is fast, realistic or instant. Flag --timing, env ECSD_TIMING,
	// file key timing.profile.
	Profile string
	// Phases overrides the profile's duration of individual phases, keyed by
	// phase name (e.g. "resize_prep", "spawning"). The names are not checked
	// here: the worker knows them. File key timing.phases, whose values are Go
	// duration strings such as "250ms".
	Phases map[string]time.Duration
}

// QEMUConfig configures the qemu driver (docs/drivers.md). Empty paths
// mean none; the numbers are kept as text, as given, and Validate checks
// them.
type QEMUConfig struct {
	// Binary is the QEMU system emulator. Flag --qemu-binary, env
	// ECSD_QEMU_BINARY, file key qemu.binary.
	Binary string
	// Kernel and Initrd boot every machine into a Linux kernel. Flags
	// --qemu-kernel and --qemu-initrd, env ECSD_QEMU_KERNEL and
	// ECSD_QEMU_INITRD, file keys qemu.kernel and qemu.initrd.
	Kernel, Initrd string
	// MemoryScale divides a flavor's RAM into the guest's memory (a whole
	// number from 1 to 1024). Flag --qemu-memory-scale, env
	// ECSD_QEMU_MEMORY_SCALE, file key qemu.memory_scale.
	MemoryScale string
	// Overcommit multiplies the machine's CPUs and memory into the hosts'
	// capacity (a number above 0, at most 100). Flag --qemu-overcommit, env
	// ECSD_QEMU_OVERCOMMIT, file key qemu.overcommit.
	Overcommit string
	// Accel is the accelerator: auto (KVM when /dev/kvm opens, else TCG),
	// kvm or tcg. Flag --qemu-accel, env ECSD_QEMU_ACCEL, file key
	// qemu.accel.
	Accel string
}

// LogConfig configures the logger.
type LogConfig struct {
	// Level is debug, info, warn or error. Flag --log-level, env
	// ECSD_LOG_LEVEL, file key log.level.
	Level string
	// Format is text or json. Flag --log-format, env ECSD_LOG_FORMAT, file
	// key log.format.
	Format string
}

// TenantConfig is a tenant declared in the config file: an access key with
// its one project.
type TenantConfig struct {
	AccessKey   string // 1–128 characters
	SecretKey   string // at least 16 characters
	ProjectID   string // 32 lowercase hex characters
	ProjectName string // non-empty, e.g. the region
	DomainID    string // 32 lowercase hex characters
	// Quota is the project's own quota, or nil for Config.DefaultQuota.
	// Fields the file leaves out are taken from the file's default quota.
	Quota *ecs.Quota
	// DomainName is the account name IAM password users log in to (""
	// = the domain ID); Users are the password users (file key users:
	// [{name, password}]), who may obtain IAM tokens.
	DomainName string
	Users      []ecs.User
}

// Tenant returns t as a domain tenant.
func (t TenantConfig) Tenant() ecs.Tenant {
	return ecs.Tenant{
		ProjectID:   t.ProjectID,
		ProjectName: t.ProjectName,
		DomainID:    t.DomainID,
		AccessKey:   t.AccessKey,
		SecretKey:   t.SecretKey,
	}
}

// FlavorConfig overrides one entry of the flavor catalogue: it adds a flavor,
// changes one (zero VCPUs, RAMMB and Family keep the catalogue's values;
// ExtraSpecs are merged into the flavor's, an empty value deleting the key)
// or, with Remove and no other field, removes it. The catalogue checks the
// IDs and families.
type FlavorConfig struct {
	ID         string
	VCPUs      int
	RAMMB      int // file key ram, in MiB
	Family     string
	ExtraSpecs map[string]string
	Remove     bool
}

// HostConfig is one simulated host.
type HostConfig struct {
	ID    string
	AZ    string // availability zone, e.g. cn-north-4a
	VCPUs int
	RAMMB int    // file key ram, in MiB
	Arch  string // x86_64 (the default in the file) or arm64
}

// Timing profiles, log levels and formats, and host architectures that
// Validate accepts.
var (
	timingProfiles = []string{"fast", "realistic", "instant"}
	logLevels      = []string{"debug", "info", "warn", "error"}
	logFormats     = []string{"text", "json"}
	hostArches     = []string{"x86_64", "arm64"}
)

// DefaultConfig returns the built-in configuration: loopback listener, a
// ./ecsd-data directory, region cn-north-4, the fast timing profile, the sim
// driver, info-level text logs, the development tenant on and
// ecs.DefaultQuota.
func DefaultConfig() Config {
	return Config{
		Listen:           "127.0.0.1:8787",
		DataDir:          "./ecsd-data",
		DatabaseMaxConns: "20",
		NodeTimeout:      "10s",
		Region:           "cn-north-4",
		Timing:           TimingConfig{Profile: "fast"},
		Driver:           "sim",
		QEMU:             QEMUConfig{Binary: "qemu-system-x86_64", MemoryScale: "16", Overcommit: "4", Accel: "auto"},
		Log:              LogConfig{Level: "info", Format: "text"},
		DevTenant:        true,
		DefaultQuota:     ecs.DefaultQuota,
	}
}

// A setting is a scalar that a flag and an environment variable set, and
// (unless key is "config") a config file key too.
type setting struct {
	key     string // file key; also the origin key
	flag    string // flag name, used with two dashes in the docs
	arg     string // usage placeholder of a string flag
	env     string
	help    string
	str     func(*Config) *string // a string setting, or
	boolean func(*Config) *bool   // a boolean setting
	// negated reports that the flag sets the opposite of the env var and the
	// file key (--no-dev-tenant against ECSD_DEV_TENANT and dev_tenant).
	negated bool
}

// settings lists the flags and environment variables, in usage order.
var settings = []setting{
	{
		key: "config", flag: "config", arg: "FILE", env: "ECSD_CONFIG",
		help: "read settings from FILE: YAML if .yaml or .yml, JSON if .json, else either",
		str:  func(c *Config) *string { return &c.ConfigFile },
	},
	{
		key: "listen", flag: "listen", arg: "ADDR", env: "ECSD_LISTEN",
		help: "serve the API on ADDR (host:port)",
		str:  func(c *Config) *string { return &c.Listen },
	},
	{
		key: "data_dir", flag: "data", arg: "DIR", env: "ECSD_DATA",
		help: "keep the database and driver state in DIR",
		str:  func(c *Config) *string { return &c.DataDir },
	},
	{
		key: "database", flag: "database", arg: "URL", env: "ECSD_DATABASE",
		help: "keep state in the PostgreSQL database URL (postgres://...), which several nodes may share, instead of SQLite in the data directory",
		str:  func(c *Config) *string { return &c.Database },
	},
	{
		key: "database_max_conns", flag: "database-max-conns", arg: "N", env: "ECSD_DATABASE_MAX_CONNS",
		help: "at most N connections to PostgreSQL from this node",
		str:  func(c *Config) *string { return &c.DatabaseMaxConns },
	},
	{
		key: "node_id", flag: "node-id", arg: "ID", env: "ECSD_NODE_ID",
		help: "this node's name among the nodes sharing a PostgreSQL database (default: host name and a random suffix)",
		str:  func(c *Config) *string { return &c.NodeID },
	},
	{
		key: "node_timeout", flag: "node-timeout", arg: "DURATION", env: "ECSD_NODE_TIMEOUT",
		help: "with PostgreSQL, how long a node may miss heartbeats before other nodes finish its jobs",
		str:  func(c *Config) *string { return &c.NodeTimeout },
	},
	{
		key: "ephemeral", flag: "ephemeral", env: "ECSD_EPHEMERAL",
		help:    "keep all state in memory and write nothing to the data directory",
		boolean: func(c *Config) *bool { return &c.Ephemeral },
	},
	{
		key: "region", flag: "region", arg: "REGION", env: "ECSD_REGION",
		help: "region to emulate",
		str:  func(c *Config) *string { return &c.Region },
	},
	{
		key: "timing.profile", flag: "timing", arg: "PROFILE", env: "ECSD_TIMING",
		help: "duration of simulated operations: " + strings.Join(timingProfiles, ", "),
		str:  func(c *Config) *string { return &c.Timing.Profile },
	},
	{
		key: "driver", flag: "driver", arg: "NAME", env: "ECSD_DRIVER",
		help: "compute driver",
		str:  func(c *Config) *string { return &c.Driver },
	},
	{
		key: "qemu.binary", flag: "qemu-binary", arg: "PATH", env: "ECSD_QEMU_BINARY",
		help: "with --driver qemu, the QEMU system emulator to run",
		str:  func(c *Config) *string { return &c.QEMU.Binary },
	},
	{
		key: "qemu.kernel", flag: "qemu-kernel", arg: "FILE", env: "ECSD_QEMU_KERNEL",
		help: "with --driver qemu, boot every machine into this Linux kernel (default: firmware only, no disk)",
		str:  func(c *Config) *string { return &c.QEMU.Kernel },
	},
	{
		key: "qemu.initrd", flag: "qemu-initrd", arg: "FILE", env: "ECSD_QEMU_INITRD",
		help: "with --qemu-kernel, the initial RAM disk of the machines",
		str:  func(c *Config) *string { return &c.QEMU.Initrd },
	},
	{
		key: "qemu.memory_scale", flag: "qemu-memory-scale", arg: "N", env: "ECSD_QEMU_MEMORY_SCALE",
		help: "with --driver qemu, a guest gets its flavor's RAM divided by N (at least 128 MiB)",
		str:  func(c *Config) *string { return &c.QEMU.MemoryScale },
	},
	{
		key: "qemu.overcommit", flag: "qemu-overcommit", arg: "RATIO", env: "ECSD_QEMU_OVERCOMMIT",
		help: "with --driver qemu, the hosts' capacity is this machine's CPUs and memory times RATIO",
		str:  func(c *Config) *string { return &c.QEMU.Overcommit },
	},
	{
		key: "qemu.accel", flag: "qemu-accel", arg: "ACCEL", env: "ECSD_QEMU_ACCEL",
		help: "with --driver qemu, the accelerator: auto (KVM if /dev/kvm opens, else TCG), kvm or tcg",
		str:  func(c *Config) *string { return &c.QEMU.Accel },
	},
	{
		key: "admin_token", flag: "admin-token", arg: "TOKEN", env: "ECSD_ADMIN_TOKEN",
		help: "token that opens the control API (/_ecsd/) to non-loopback callers",
		str:  func(c *Config) *string { return &c.AdminToken },
	},
	{
		key: "seed", flag: "seed", arg: "FILE", env: "ECSD_SEED",
		help: "load the seed document FILE (YAML or JSON) into an empty store at start; a reset returns to it",
		str:  func(c *Config) *string { return &c.Seed },
	},
	{
		key: "log.level", flag: "log-level", arg: "LEVEL", env: "ECSD_LOG_LEVEL",
		help: "log level: " + strings.Join(logLevels, ", "),
		str:  func(c *Config) *string { return &c.Log.Level },
	},
	{
		key: "log.format", flag: "log-format", arg: "FORMAT", env: "ECSD_LOG_FORMAT",
		help: "log format: " + strings.Join(logFormats, ", "),
		str:  func(c *Config) *string { return &c.Log.Format },
	},
	{
		key: "dev_tenant", flag: "no-dev-tenant", env: "ECSD_DEV_TENANT", negated: true,
		help:    "turn off the development tenant, whose published credentials are otherwise accepted",
		boolean: func(c *Config) *bool { return &c.DevTenant },
	},
	{
		key: "allow_remote_dev", flag: "allow-remote-dev", env: "ECSD_ALLOW_REMOTE_DEV",
		help:    "allow a non-loopback listen address while the development tenant is on",
		boolean: func(c *Config) *bool { return &c.AllowRemoteDev },
	},
}

// set stores raw, a flag's or env var's value, in c.
func (s setting) set(c *Config, raw string, fromFlag bool) error {
	if s.str != nil {
		*s.str(c) = raw
		return nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return fmt.Errorf("invalid boolean %q (want true or false)", raw)
	}
	if fromFlag && s.negated {
		b = !b
	}
	*s.boolean(c) = b
	return nil
}

// Load returns the configuration that args (the command line without the
// program name), the environment read through getenv and the config file
// read through readFile describe, validated. Each setting takes, in
// increasing precedence, its default, the config file's value, the
// environment variable's and the flag's; an empty environment variable is
// unset. The config file is --config, else ECSD_CONFIG, else none.
//
// Load returns flag.ErrHelp for -h or --help, the flag package's errors for
// bad flags, and otherwise errors that name the offending setting and its
// origin, such as "config file ecsd.yaml: tenants[1].project_id: must be 32
// lowercase hex characters". It has no side effects: main passes os.Args[1:],
// os.Getenv and os.ReadFile.
func Load(args []string, getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	fs := flag.NewFlagSet("ecsd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	flags := make(map[string]string)
	for _, s := range settings {
		if s.boolean != nil {
			fs.BoolFunc(s.flag, s.help, func(v string) error {
				if _, err := strconv.ParseBool(v); err != nil {
					return errors.New("want true or false")
				}
				flags[s.flag] = v
				return nil
			})
		} else {
			fs.Func(s.flag, s.help, func(v string) error {
				flags[s.flag] = v
				return nil
			})
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: ecsd takes flags only", fs.Arg(0))
	}

	c := DefaultConfig()
	path, origin := getenv("ECSD_CONFIG"), "env ECSD_CONFIG"
	if v, ok := flags["config"]; ok {
		path, origin = v, "flag --config"
	}
	if path != "" {
		data, err := readFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", origin, err)
		}
		f, err := parseFile(path, data)
		if err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := c.applyFile(path, f); err != nil {
			return Config{}, err
		}
	}
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v, false); err != nil {
				return Config{}, fmt.Errorf("env %s: %w", s.env, err)
			}
			c.setOrigin(s.key, "env "+s.env)
		}
	}
	for _, s := range settings {
		if v, ok := flags[s.flag]; ok {
			if err := s.set(&c, v, true); err != nil {
				return Config{}, fmt.Errorf("flag --%s: %w", s.flag, err)
			}
			c.setOrigin(s.key, "flag --"+s.flag)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Usage writes ecsd's usage to w: every flag with its environment variable,
// config file key and default, then the settings only the file can hold.
func Usage(w io.Writer) {
	def := DefaultConfig()
	var b strings.Builder
	b.WriteString(`Usage: ecsd [flags]

ecsd emulates the Huawei Cloud ECS API. Each setting takes, in increasing
precedence, its default, its config file key, its environment variable and
its flag.

Flags:
`)
	for _, s := range settings {
		name := "--" + s.flag
		if s.arg != "" {
			name += " " + s.arg
		}
		fmt.Fprintf(&b, "  %s\n        %s", name, s.help)
		if s.str != nil && *s.str(&def) != "" {
			fmt.Fprintf(&b, " (default %q)", *s.str(&def))
		}
		b.WriteString("\n        ")
		switch {
		case s.boolean == nil:
			fmt.Fprintf(&b, "env %s", s.env)
		case s.negated:
			fmt.Fprintf(&b, "env %s=false", s.env)
		default:
			fmt.Fprintf(&b, "env %s=true", s.env)
		}
		if s.key != "config" {
			fmt.Fprintf(&b, ", config file key %s", s.key)
			if s.negated {
				fmt.Fprintf(&b, ": false")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(`  -h, --help
        print this help

Config file only (see the example configuration, cmd/ecsd/testdata/example.yaml):
  timing.phases   map of phase name to Go duration ("250ms") overriding the profile
  quota           default project quota {instances, cores, ram (MiB)}; -1 is unlimited
  tenants         list of {access_key, secret_key, project_id, project_name,
                  domain_id, quota, domain_name, users: [{name, password}]},
                  accepted besides the development tenant
  flavors         flavor catalogue overrides: {id, vcpus, ram, family,
                  extra_specs, remove}
  hosts           simulated hosts {id, az, vcpus, ram, arch}; default: built-in
`)
	io.WriteString(w, b.String())
}

// Validate reports every invalid setting of c, each naming the setting and
// where its value came from, joined with errors.Join; nil if c is valid.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", c.origin(key), fmt.Sprintf(format, args...)))
	}

	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "invalid address %q: want host:port, e.g. 127.0.0.1:8787", c.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		bad("listen", "invalid port %q in %q: want 0–65535", port, c.Listen)
	} else if c.DevTenant && !c.AllowRemoteDev && !isLoopback(host) {
		bad("listen", "%q is not a loopback address and the development tenant, whose credentials are public, is on: "+
			"turn it off (--no-dev-tenant, ECSD_DEV_TENANT=false or dev_tenant: false) "+
			"or allow this (--allow-remote-dev, ECSD_ALLOW_REMOTE_DEV=true or allow_remote_dev: true)", c.Listen)
	}
	if !c.Ephemeral && c.DataDir == "" && c.Database == "" {
		bad("data_dir", "must not be empty unless ephemeral or database is set")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		bad("database", "want a PostgreSQL URL (postgres://user:password@host:port/name), not %q", store.RedactURL(c.Database))
	}
	if c.Database != "" && c.Ephemeral {
		bad("ephemeral", "cannot be combined with database: PostgreSQL state is never ephemeral")
	}
	if n, err := strconv.Atoi(c.DatabaseMaxConns); err != nil || n < 2 || n > 1000 {
		bad("database_max_conns", "invalid %q: want a whole number from 2 to 1000", c.DatabaseMaxConns)
	}
	if d, err := time.ParseDuration(c.NodeTimeout); err != nil || d < time.Second || d > time.Hour {
		bad("node_timeout", "invalid %q: want a duration from 1s to 1h, e.g. 10s", c.NodeTimeout)
	}
	if len(c.NodeID) > 100 {
		bad("node_id", "must be at most 100 characters")
	}
	if !regionRE.MatchString(c.Region) {
		bad("region", "invalid region %q: want a name such as cn-north-4", c.Region)
	}
	if !slices.Contains(timingProfiles, c.Timing.Profile) {
		bad("timing.profile", "unknown timing profile %q: want one of %s", c.Timing.Profile, strings.Join(timingProfiles, ", "))
	}
	for _, name := range sortedKeys(c.Timing.Phases) {
		if name == "" {
			bad("timing.phases", "empty phase name")
		} else if d := c.Timing.Phases[name]; d < 0 {
			errs = append(errs, fmt.Errorf("%s.%s: negative duration %s", c.origin("timing.phases"), name, d))
		}
	}
	if c.Driver == "" {
		bad("driver", "must not be empty")
	}
	if c.Driver == "qemu" && c.Database != "" {
		bad("driver", "the qemu driver runs machines on this host only and cannot share a database with other nodes: use SQLite (--data) with it")
	}
	if c.QEMU.Binary == "" {
		bad("qemu.binary", "must not be empty")
	}
	if c.QEMU.Initrd != "" && c.QEMU.Kernel == "" {
		bad("qemu.initrd", "needs qemu.kernel")
	}
	if n, err := strconv.Atoi(c.QEMU.MemoryScale); err != nil || n < 1 || n > 1024 {
		bad("qemu.memory_scale", "invalid %q: want a whole number from 1 to 1024", c.QEMU.MemoryScale)
	}
	if r, err := strconv.ParseFloat(c.QEMU.Overcommit, 64); err != nil || !(r > 0 && r <= 100) {
		bad("qemu.overcommit", "invalid %q: want a number above 0 and at most 100, e.g. 4 or 1.5", c.QEMU.Overcommit)
	}
	if !slices.Contains([]string{"auto", "kvm", "tcg"}, c.QEMU.Accel) {
		bad("qemu.accel", "unknown accelerator %q: want auto, kvm or tcg", c.QEMU.Accel)
	}
	if !slices.Contains(logLevels, c.Log.Level) {
		bad("log.level", "unknown log level %q: want one of %s", c.Log.Level, strings.Join(logLevels, ", "))
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		bad("log.format", "unknown log format %q: want one of %s", c.Log.Format, strings.Join(logFormats, ", "))
	}
	errs = append(errs, validQuota(c.origin("quota"), c.DefaultQuota)...)

	// Tenants, checked against each other and the development tenant.
	ak := make(map[string]string)  // access key -> holder
	pid := make(map[string]string) // project ID -> holder
	if c.DevTenant {
		ak[ecs.DevTenant.AccessKey] = "the development tenant (turn it off to reuse its credentials)"
		pid[ecs.DevTenant.ProjectID] = "the development tenant (turn it off to reuse its credentials)"
	}
	domains := make(map[string]string)
	for i, t := range c.TenantConfigs {
		at := fmt.Sprintf("%s[%d]", c.origin("tenants"), i)
		tbad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s.%s: %s", at, field, fmt.Sprintf(format, args...)))
		}
		switch n := len(t.AccessKey); {
		case n == 0:
			tbad("access_key", "must not be empty")
		case n > 128:
			tbad("access_key", "must be at most 128 characters, not %d", n)
		case ak[t.AccessKey] != "":
			tbad("access_key", "%q is already used by %s", t.AccessKey, ak[t.AccessKey])
		default:
			ak[t.AccessKey] = fmt.Sprintf("tenants[%d]", i)
		}
		if n := len(t.SecretKey); n < 16 {
			tbad("secret_key", "must be at least 16 characters, not %d", n)
		}
		switch {
		case !hex32RE.MatchString(t.ProjectID):
			tbad("project_id", "must be 32 lowercase hex characters")
		case pid[t.ProjectID] != "":
			tbad("project_id", "%q is already used by %s", t.ProjectID, pid[t.ProjectID])
		default:
			pid[t.ProjectID] = fmt.Sprintf("tenants[%d]", i)
		}
		if t.ProjectName == "" {
			tbad("project_name", "must not be empty")
		}
		if !hex32RE.MatchString(t.DomainID) {
			tbad("domain_id", "must be 32 lowercase hex characters")
		}
		if t.Quota != nil {
			errs = append(errs, validQuota(at+".quota", *t.Quota)...)
		}
		if len(t.Users) > 0 && t.DomainName == "" {
			tbad("domain_name", "must be set when the tenant declares users")
		}
		if t.DomainName != "" && (domains[t.DomainName] != "" || (c.DevTenant && t.DomainName == DevDomainName)) {
			tbad("domain_name", "%q is already used by another tenant", t.DomainName)
		}
		domains[t.DomainName] = fmt.Sprintf("tenants[%d]", i)
		users := make(map[string]bool)
		for j, u := range t.Users {
			switch {
			case u.Name == "":
				tbad(fmt.Sprintf("users[%d].name", j), "must not be empty")
			case users[u.Name]:
				tbad(fmt.Sprintf("users[%d].name", j), "%q is declared twice", u.Name)
			}
			users[u.Name] = true
			if n := len(u.Password); n < 8 {
				tbad(fmt.Sprintf("users[%d].password", j), "must be at least 8 characters, not %d", n)
			}
		}
	}

	ids := make(map[string]int)
	for i, f := range c.Flavors {
		at := fmt.Sprintf("%s[%d]", c.origin("flavors"), i)
		fbad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s%s", at, fmt.Sprintf(format, args...)))
		}
		if f.ID == "" {
			fbad(".id: must not be empty")
		} else if j, dup := ids[f.ID]; dup {
			fbad(".id: %q already appears in flavors[%d]", f.ID, j)
		} else {
			ids[f.ID] = i
		}
		if f.Remove {
			if f.VCPUs != 0 || f.RAMMB != 0 || f.Family != "" || f.ExtraSpecs != nil {
				fbad(": remove: true takes no other field than id")
			}
			continue
		}
		if f.VCPUs < 0 {
			fbad(".vcpus: must not be negative")
		}
		if f.RAMMB < 0 {
			fbad(".ram: must not be negative")
		}
		for _, k := range sortedKeys(f.ExtraSpecs) {
			if k == "" {
				fbad(".extra_specs: empty key")
			}
		}
	}

	clear(ids)
	for i, h := range c.Hosts {
		at := fmt.Sprintf("%s[%d]", c.origin("hosts"), i)
		hbad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s%s", at, fmt.Sprintf(format, args...)))
		}
		if h.ID == "" {
			hbad(".id: must not be empty")
		} else if j, dup := ids[h.ID]; dup {
			hbad(".id: %q already appears in hosts[%d]", h.ID, j)
		} else {
			ids[h.ID] = i
		}
		if h.AZ == "" {
			hbad(".az: must not be empty")
		}
		if h.VCPUs <= 0 {
			hbad(".vcpus: must be positive")
		}
		if h.RAMMB <= 0 {
			hbad(".ram: must be positive")
		}
		if !slices.Contains(hostArches, h.Arch) {
			hbad(".arch: unknown architecture %q: want one of %s", h.Arch, strings.Join(hostArches, ", "))
		}
	}
	return errors.Join(errs...)
}

var (
	regionRE = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)
	hex32RE  = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// validQuota checks that each limit of q is -1 (unlimited) or not negative.
func validQuota(at string, q ecs.Quota) []error {
	var errs []error
	for _, l := range []struct {
		key string
		v   int
	}{{"instances", q.Instances}, {"cores", q.Cores}, {"ram", q.RAMMB}} {
		if l.v < -1 {
			errs = append(errs, fmt.Errorf("%s.%s: must be -1 (unlimited) or at least 0, not %d", at, l.key, l.v))
		}
	}
	return errs
}

// isLoopback reports whether the listen host reaches only this machine:
// localhost or a loopback IP. The empty host (all interfaces) is not.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Tenants returns the tenants ecsd accepts: the development tenant first when
// it is on, then the configured ones in file order. The development tenant's
// project name is the configured region.
func (c Config) Tenants() []ecs.Tenant {
	ts := make([]ecs.Tenant, 0, len(c.TenantConfigs)+1)
	if c.DevTenant {
		dev := ecs.DevTenant
		dev.ProjectName = c.Region
		ts = append(ts, dev)
	}
	for _, t := range c.TenantConfigs {
		ts = append(ts, t.Tenant())
	}
	return ts
}

// QuotaFor returns the quota of project projectID: its tenant's own quota if
// it has one, else DefaultQuota (also for the development tenant and for
// projects c does not know).
func (c Config) QuotaFor(projectID string) ecs.Quota {
	for _, t := range c.TenantConfigs {
		if t.ProjectID == projectID && t.Quota != nil {
			return *t.Quota
		}
	}
	return c.DefaultQuota
}

// NewLogger returns a logger writing to w at l's level in l's format. l must
// be valid (Config.Validate).
func (l LogConfig) NewLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// origin returns where setting key got its value, for error messages: e.g.
// "flag --listen", "env ECSD_LISTEN", "config file ecsd.yaml: listen", or
// just the key for a default.
func (c Config) origin(key string) string {
	if o, ok := c.origins[key]; ok {
		return o
	}
	return key
}

func (c *Config) setOrigin(key, origin string) {
	if c.origins == nil {
		c.origins = make(map[string]string)
	}
	c.origins[key] = origin
}

// fileConfig is the config file's schema. Pointers and nil slices or maps
// are keys the file leaves out.
type fileConfig struct {
	Listen         *string      `yaml:"listen" json:"listen"`
	DataDir        *string      `yaml:"data_dir" json:"data_dir"`
	Database       *string      `yaml:"database" json:"database"`
	DBMaxConns     *int         `yaml:"database_max_conns" json:"database_max_conns"`
	NodeID         *string      `yaml:"node_id" json:"node_id"`
	NodeTimeout    *string      `yaml:"node_timeout" json:"node_timeout"`
	Ephemeral      *bool        `yaml:"ephemeral" json:"ephemeral"`
	Region         *string      `yaml:"region" json:"region"`
	Timing         *fileTiming  `yaml:"timing" json:"timing"`
	Driver         *string      `yaml:"driver" json:"driver"`
	AdminToken     *string      `yaml:"admin_token" json:"admin_token"`
	Seed           *string      `yaml:"seed" json:"seed"`
	Log            *fileLog     `yaml:"log" json:"log"`
	QEMU           *fileQEMU    `yaml:"qemu" json:"qemu"`
	DevTenant      *bool        `yaml:"dev_tenant" json:"dev_tenant"`
	AllowRemoteDev *bool        `yaml:"allow_remote_dev" json:"allow_remote_dev"`
	Quota          *fileQuota   `yaml:"quota" json:"quota"`
	Tenants        []fileTenant `yaml:"tenants" json:"tenants"`
	Flavors        []fileFlavor `yaml:"flavors" json:"flavors"`
	Hosts          []fileHost   `yaml:"hosts" json:"hosts"`
}

type fileTiming struct {
	Profile *string           `yaml:"profile" json:"profile"`
	Phases  map[string]string `yaml:"phases" json:"phases"`
}

type fileLog struct {
	Level  *string `yaml:"level" json:"level"`
	Format *string `yaml:"format" json:"format"`
}

type fileQEMU struct {
	Binary      *string  `yaml:"binary" json:"binary"`
	Kernel      *string  `yaml:"kernel" json:"kernel"`
	Initrd      *string  `yaml:"initrd" json:"initrd"`
	MemoryScale *int     `yaml:"memory_scale" json:"memory_scale"`
	Overcommit  *float64 `yaml:"overcommit" json:"overcommit"`
	Accel       *string  `yaml:"accel" json:"accel"`
}

// The file's quota and tenants have the seed document's format; a tenant
// of the file may also declare its IAM account name and password users.
type (
	fileQuota  = seed.Limits
	fileTenant struct {
		seed.Tenant `yaml:",inline"`
		DomainName  string     `yaml:"domain_name" json:"domain_name"`
		Users       []fileUser `yaml:"users" json:"users"`
	}
	fileUser struct {
		Name     string `yaml:"name" json:"name"`
		Password string `yaml:"password" json:"password"`
	}
)

type fileFlavor struct {
	ID         string            `yaml:"id" json:"id"`
	VCPUs      int               `yaml:"vcpus" json:"vcpus"`
	RAM        int               `yaml:"ram" json:"ram"`
	Family     string            `yaml:"family" json:"family"`
	ExtraSpecs map[string]string `yaml:"extra_specs" json:"extra_specs"`
	Remove     bool              `yaml:"remove" json:"remove"`
}

type fileHost struct {
	ID    string `yaml:"id" json:"id"`
	AZ    string `yaml:"az" json:"az"`
	VCPUs int    `yaml:"vcpus" json:"vcpus"`
	RAM   int    `yaml:"ram" json:"ram"`
	Arch  string `yaml:"arch" json:"arch"`
}

// applyFile sets in c the settings that f, read from path, holds.
func (c *Config) applyFile(path string, f *fileConfig) error {
	at := func(key string) string { return "config file " + path + ": " + key }
	str := func(dst, v *string, key string) {
		if v != nil {
			*dst = *v
			c.setOrigin(key, at(key))
		}
	}
	boolean := func(dst, v *bool, key string) {
		if v != nil {
			*dst = *v
			c.setOrigin(key, at(key))
		}
	}
	str(&c.Listen, f.Listen, "listen")
	str(&c.DataDir, f.DataDir, "data_dir")
	str(&c.Database, f.Database, "database")
	str(&c.NodeID, f.NodeID, "node_id")
	str(&c.NodeTimeout, f.NodeTimeout, "node_timeout")
	if f.DBMaxConns != nil {
		n := strconv.Itoa(*f.DBMaxConns)
		str(&c.DatabaseMaxConns, &n, "database_max_conns")
	}
	boolean(&c.Ephemeral, f.Ephemeral, "ephemeral")
	str(&c.Region, f.Region, "region")
	str(&c.Driver, f.Driver, "driver")
	str(&c.AdminToken, f.AdminToken, "admin_token")
	str(&c.Seed, f.Seed, "seed")
	boolean(&c.DevTenant, f.DevTenant, "dev_tenant")
	boolean(&c.AllowRemoteDev, f.AllowRemoteDev, "allow_remote_dev")
	if f.Log != nil {
		str(&c.Log.Level, f.Log.Level, "log.level")
		str(&c.Log.Format, f.Log.Format, "log.format")
	}
	if f.QEMU != nil {
		str(&c.QEMU.Binary, f.QEMU.Binary, "qemu.binary")
		str(&c.QEMU.Kernel, f.QEMU.Kernel, "qemu.kernel")
		str(&c.QEMU.Initrd, f.QEMU.Initrd, "qemu.initrd")
		str(&c.QEMU.Accel, f.QEMU.Accel, "qemu.accel")
		if f.QEMU.MemoryScale != nil {
			n := strconv.Itoa(*f.QEMU.MemoryScale)
			str(&c.QEMU.MemoryScale, &n, "qemu.memory_scale")
		}
		if f.QEMU.Overcommit != nil {
			r := strconv.FormatFloat(*f.QEMU.Overcommit, 'g', -1, 64)
			str(&c.QEMU.Overcommit, &r, "qemu.overcommit")
		}
	}
	if f.Timing != nil {
		str(&c.Timing.Profile, f.Timing.Profile, "timing.profile")
		if f.Timing.Phases != nil {
			c.Timing.Phases = make(map[string]time.Duration, len(f.Timing.Phases))
			for _, name := range sortedKeys(f.Timing.Phases) {
				v := f.Timing.Phases[name]
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("%s.%s: invalid duration %q: want a Go duration such as \"250ms\" or \"2s\"", at("timing.phases"), name, v)
				}
				c.Timing.Phases[name] = d
			}
			c.setOrigin("timing.phases", at("timing.phases"))
		}
	}
	if f.Quota != nil {
		c.DefaultQuota = f.Quota.Over(c.DefaultQuota)
		c.setOrigin("quota", at("quota"))
	}
	if f.Tenants != nil {
		c.TenantConfigs = make([]TenantConfig, 0, len(f.Tenants))
		for _, t := range f.Tenants {
			tc := TenantConfig{
				AccessKey:   t.AccessKey,
				SecretKey:   t.SecretKey,
				ProjectID:   t.ProjectID,
				ProjectName: t.ProjectName,
				DomainID:    t.DomainID,
				DomainName:  t.DomainName,
			}
			for _, u := range t.Users {
				tc.Users = append(tc.Users, ecs.User{Name: u.Name, Password: u.Password})
			}
			if t.Quota != nil {
				q := t.Quota.Over(c.DefaultQuota)
				tc.Quota = &q
			}
			c.TenantConfigs = append(c.TenantConfigs, tc)
		}
		c.setOrigin("tenants", at("tenants"))
	}
	if f.Flavors != nil {
		c.Flavors = make([]FlavorConfig, 0, len(f.Flavors))
		for _, fl := range f.Flavors {
			c.Flavors = append(c.Flavors, FlavorConfig{
				ID:         fl.ID,
				VCPUs:      fl.VCPUs,
				RAMMB:      fl.RAM,
				Family:     fl.Family,
				ExtraSpecs: fl.ExtraSpecs,
				Remove:     fl.Remove,
			})
		}
		c.setOrigin("flavors", at("flavors"))
	}
	if f.Hosts != nil {
		c.Hosts = make([]HostConfig, 0, len(f.Hosts))
		for _, h := range f.Hosts {
			if h.Arch == "" {
				h.Arch = "x86_64"
			}
			c.Hosts = append(c.Hosts, HostConfig{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAM, Arch: h.Arch})
		}
		c.setOrigin("hosts", at("hosts"))
	}
	return nil
}

// parseFile decodes a config file: YAML for .yaml and .yml, JSON for .json,
// else JSON if it parses as JSON, else YAML. Unknown keys are errors. An
// empty file is an empty configuration.
func parseFile(path string, data []byte) (*fileConfig, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return parseYAML(data)
	case ".json":
		return parseJSON(data)
	}
	f, err := parseJSON(data)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return parseYAML(data)
	}
	return f, err
}

func parseJSON(data []byte) (*fileConfig, error) {
	var f fileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err == io.EOF {
		return &f, nil
	} else if err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the top-level JSON object")
	}
	return &f, nil
}

// jsonError rewrites a JSON decoding error in the file's terms: line
// numbers, keys, no Go type names. It wraps a *json.SyntaxError.
func jsonError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("line %d: invalid JSON: %w", lineAt(data, syntax.Offset), err)
	case errors.As(err, &typ):
		at := typ.Field
		if at == "" {
			at = "top level"
		}
		at = strings.ReplaceAll(at, ".Tenant.", ".") // a file tenant embeds the seed's
		return fmt.Errorf("line %d: %s: cannot use a JSON %s as %s", lineAt(data, typ.Offset), at, typ.Value, typeName(typ.Type.String()))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if k, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Errorf("unknown key %s", k)
	}
	return errors.New(msg)
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

func parseYAML(data []byte) (*fileConfig, error) {
	var f fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err == io.EOF {
		return &f, nil
	} else if err != nil {
		return nil, yamlError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		return nil, errors.New("more than one YAML document")
	}
	return &f, nil
}

var (
	yamlUnknownRE = regexp.MustCompile(`^(line \d+): field (.*) not found in type \S+$`)
	yamlIntoRE    = regexp.MustCompile(` into (\S+)$`)
)

// yamlError rewrites a YAML decoding error in the file's terms: unknown
// keys, no Go type names.
func yamlError(err error) error {
	var typ *yaml.TypeError
	if !errors.As(err, &typ) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(typ.Errors))
	for i, m := range typ.Errors {
		if s := yamlUnknownRE.FindStringSubmatch(m); s != nil {
			m = fmt.Sprintf("%s: unknown key %q", s[1], s[2])
		} else if s := yamlIntoRE.FindStringSubmatchIndex(m); s != nil {
			m = m[:s[2]] + typeName(m[s[2]:s[3]])
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

// typeName names Go type t, as the decoders print it, in the file's terms.
func typeName(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "main."):
		return "a mapping"
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case t == "bool":
		return "a boolean"
	case t == "string":
		return "a string"
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// The development tenant's IAM account and its one password user, as
// documented (README, docs/terraform.md).
const (
	DevDomainName   = "ecsd-dev"
	DevUserName     = "ecsd-dev"
	DevUserPassword = "ecsdDevPassword0001"
)

// AccountOf returns the IAM account name and password users of project
// projectID: the development user for the development tenant, the file's
// declaration for a configured tenant.
func (c Config) AccountOf(projectID string) (string, []ecs.User) {
	if c.DevTenant && projectID == ecs.DevTenant.ProjectID {
		return DevDomainName, []ecs.User{{Name: DevUserName, Password: DevUserPassword}}
	}
	for _, t := range c.TenantConfigs {
		if t.ProjectID == projectID {
			return t.DomainName, t.Users
		}
	}
	return "", nil
}
