package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// env returns a getenv over the given name=value pairs.
func env(pairs ...string) func(string) string {
	m := make(map[string]string)
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// files returns a readFile over in-memory files, falling back to the disk
// for paths under testdata/.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		if strings.HasPrefix(name, "testdata/") {
			return os.ReadFile(name)
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

// plain returns c without its record of origins, for comparison.
func plain(c Config) Config {
	c.origins = nil
	return c
}

// mustEqual fails t if got and want differ, ignoring origins.
func mustEqual(t *testing.T, got, want Config) {
	t.Helper()
	if !reflect.DeepEqual(plain(got), plain(want)) {
		t.Fatalf("config mismatch\n got: %+v\nwant: %+v", plain(got), plain(want))
	}
}

// with returns DefaultConfig changed by edit.
func with(edit func(*Config)) Config {
	c := DefaultConfig()
	if edit != nil {
		edit(&c)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8787"},
		{"data_dir", c.DataDir, "./ecsd-data"},
		{"ephemeral", c.Ephemeral, false},
		{"config", c.ConfigFile, ""},
		{"region", c.Region, "cn-north-4"},
		{"timing.profile", c.Timing.Profile, "fast"},
		{"timing.phases", len(c.Timing.Phases), 0},
		{"driver", c.Driver, "sim"},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"dev_tenant", c.DevTenant, true},
		{"allow_remote_dev", c.AllowRemoteDev, false},
		{"seed", c.Seed, ""},
		{"quota", c.DefaultQuota, ecs.DefaultQuota},
		{"tenants", len(c.TenantConfigs), 0},
		{"flavors", len(c.Flavors), 0},
		{"hosts", len(c.Hosts), 0},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	got, err := Load(nil, env(), files(nil))
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	mustEqual(t, got, DefaultConfig())
}

func TestLoadFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		want Config
	}{
		{"listen", []string{"--listen", "localhost:9000"}, with(func(c *Config) { c.Listen = "localhost:9000" })},
		{"listen single dash and =", []string{"-listen=127.0.0.2:1"}, with(func(c *Config) { c.Listen = "127.0.0.2:1" })},
		{"listen last wins", []string{"--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2"}, with(func(c *Config) { c.Listen = "127.0.0.1:2" })},
		{"data", []string{"--data", "/tmp/x"}, with(func(c *Config) { c.DataDir = "/tmp/x" })},
		{"ephemeral", []string{"--ephemeral"}, with(func(c *Config) { c.Ephemeral = true })},
		{"ephemeral=false", []string{"--ephemeral=false"}, with(nil)},
		{"ephemeral without data dir", []string{"--ephemeral", "--data="}, with(func(c *Config) { c.Ephemeral, c.DataDir = true, "" })},
		{"config", []string{"--config", "empty.yaml"}, with(func(c *Config) { c.ConfigFile = "empty.yaml" })},
		{"config empty", []string{"--config="}, with(nil)},
		{"region", []string{"--region", "ap-southeast-1"}, with(func(c *Config) { c.Region = "ap-southeast-1" })},
		{"timing", []string{"--timing", "realistic"}, with(func(c *Config) { c.Timing.Profile = "realistic" })},
		{"timing instant", []string{"--timing=instant"}, with(func(c *Config) { c.Timing.Profile = "instant" })},
		{"driver", []string{"--driver", "qemu"}, with(func(c *Config) { c.Driver = "qemu" })},
		{"qemu", []string{"--qemu-binary", "/opt/qemu", "--qemu-kernel", "vmlinuz", "--qemu-initrd", "initrd.img", "--qemu-memory-scale", "8", "--qemu-overcommit", "1.5", "--qemu-accel", "tcg"},
			with(func(c *Config) {
				c.QEMU = QEMUConfig{Binary: "/opt/qemu", Kernel: "vmlinuz", Initrd: "initrd.img", MemoryScale: "8", Overcommit: "1.5", Accel: "tcg"}
			})},
		{"log-level", []string{"--log-level", "debug"}, with(func(c *Config) { c.Log.Level = "debug" })},
		{"log-format", []string{"--log-format", "json"}, with(func(c *Config) { c.Log.Format = "json" })},
		{"no-dev-tenant", []string{"--no-dev-tenant"}, with(func(c *Config) { c.DevTenant = false })},
		{"no-dev-tenant=false", []string{"--no-dev-tenant=false"}, with(nil)},
		{"no-dev-tenant allows remote listen", []string{"--no-dev-tenant", "--listen", ":8787"}, with(func(c *Config) { c.DevTenant, c.Listen = false, ":8787" })},
		{"allow-remote-dev", []string{"--allow-remote-dev"}, with(func(c *Config) { c.AllowRemoteDev = true })},
		{"allow-remote-dev with remote listen", []string{"--allow-remote-dev", "--listen", "0.0.0.0:8787"}, with(func(c *Config) { c.AllowRemoteDev, c.Listen = true, "0.0.0.0:8787" })},
		{"args end at --", []string{"--driver", "x", "--"}, with(func(c *Config) { c.Driver = "x" })},
		{"seed", []string{"--seed", "fixtures/world.yaml"}, with(func(c *Config) { c.Seed = "fixtures/world.yaml" })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tt.args, env(), files(map[string]string{"empty.yaml": ""}))
			if err != nil {
				t.Fatalf("Load(%q) = %v", tt.args, err)
			}
			mustEqual(t, got, tt.want)
		})
	}
}

func TestLoadEnv(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		env  []string
		want Config
	}{
		{"ECSD_LISTEN", []string{"ECSD_LISTEN=[::1]:9000"}, with(func(c *Config) { c.Listen = "[::1]:9000" })},
		{"ECSD_DATA", []string{"ECSD_DATA=/srv/ecsd"}, with(func(c *Config) { c.DataDir = "/srv/ecsd" })},
		{"ECSD_EPHEMERAL", []string{"ECSD_EPHEMERAL=true"}, with(func(c *Config) { c.Ephemeral = true })},
		{"ECSD_EPHEMERAL=0", []string{"ECSD_EPHEMERAL=0"}, with(nil)},
		{"ECSD_CONFIG", []string{"ECSD_CONFIG=empty.json"}, with(func(c *Config) { c.ConfigFile = "empty.json" })},
		{"ECSD_REGION", []string{"ECSD_REGION=la-south-2"}, with(func(c *Config) { c.Region = "la-south-2" })},
		{"ECSD_TIMING", []string{"ECSD_TIMING=instant"}, with(func(c *Config) { c.Timing.Profile = "instant" })},
		{"ECSD_DRIVER", []string{"ECSD_DRIVER=qemu"}, with(func(c *Config) { c.Driver = "qemu" })},
		{"ECSD_LOG_LEVEL", []string{"ECSD_LOG_LEVEL=warn"}, with(func(c *Config) { c.Log.Level = "warn" })},
		{"ECSD_LOG_FORMAT", []string{"ECSD_LOG_FORMAT=json"}, with(func(c *Config) { c.Log.Format = "json" })},
		{"ECSD_DEV_TENANT", []string{"ECSD_DEV_TENANT=false"}, with(func(c *Config) { c.DevTenant = false })},
		{"ECSD_DEV_TENANT=true", []string{"ECSD_DEV_TENANT=true"}, with(nil)},
		{"ECSD_ALLOW_REMOTE_DEV", []string{"ECSD_ALLOW_REMOTE_DEV=1", "ECSD_LISTEN=:8787"}, with(func(c *Config) { c.AllowRemoteDev, c.Listen = true, ":8787" })},
		{"ECSD_SEED", []string{"ECSD_SEED=/srv/seed.json"}, with(func(c *Config) { c.Seed = "/srv/seed.json" })},
		{"empty is unset", []string{"ECSD_LISTEN=", "ECSD_EPHEMERAL=", "ECSD_DEV_TENANT=", "ECSD_SEED="}, with(nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(nil, env(tt.env...), files(map[string]string{"empty.json": ""}))
			if err != nil {
				t.Fatalf("Load(env %q) = %v", tt.env, err)
			}
			mustEqual(t, got, tt.want)
		})
	}
}

// fullConfig is what testdata/full.{yaml,json,conf,cfg} describe.
func fullConfig(file string) Config {
	return Config{
		Listen:    "[::1]:9000",
		DataDir:   "/var/lib/ecsd",
		Ephemeral: true,
		// A database URL cannot be combined with ephemeral; database is
		// tested on its own.
		DatabaseMaxConns: "8",
		NodeID:           "node-a",
		NodeTimeout:      "30s",
		ConfigFile:       file,
		Region:           "ap-southeast-1",
		Timing: TimingConfig{
			Profile: "realistic",
			Phases:  map[string]time.Duration{"resize_prep": 250 * time.Millisecond, "spawning": 3 * time.Second},
		},
		Driver:         "qemu",
		QEMU:           DefaultConfig().QEMU,
		Log:            LogConfig{Level: "debug", Format: "json"},
		DevTenant:      false,
		AllowRemoteDev: true,
		DefaultQuota:   ecs.Quota{Instances: 5, Cores: -1, RAMMB: ecs.DefaultQuota.RAMMB},
		TenantConfigs: []TenantConfig{
			{
				AccessKey: "AK1", SecretKey: "secretsecretsecret",
				ProjectID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ProjectName: "ap-southeast-1",
				DomainID: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
				Quota:    &ecs.Quota{Instances: 2, Cores: -1, RAMMB: ecs.DefaultQuota.RAMMB},
			},
			{
				AccessKey: "AK2", SecretKey: "secretsecretsecret",
				ProjectID: "cccccccccccccccccccccccccccccccc", ProjectName: "ap-southeast-1_b",
				DomainID: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
			},
		},
		Flavors: []FlavorConfig{
			{ID: "x1.large.2", VCPUs: 2, RAMMB: 4096, Family: "x1", ExtraSpecs: map[string]string{"ecs:performancetype": "normal"}},
			{ID: "s6.small.1", Remove: true},
		},
		Hosts: []HostConfig{
			{ID: "h1", AZ: "ap-southeast-1a", VCPUs: 64, RAMMB: 262144, Arch: "arm64"},
			{ID: "h2", AZ: "ap-southeast-1b", VCPUs: 32, RAMMB: 131072, Arch: "x86_64"},
		},
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		env  []string
	}{
		{"yaml by flag", []string{"--config", "testdata/full.yaml"}, nil},
		{"yaml by env", nil, []string{"ECSD_CONFIG=testdata/full.yaml"}},
		{"json by flag", []string{"--config", "testdata/full.json"}, nil},
		{"json by env", nil, []string{"ECSD_CONFIG=testdata/full.json"}},
		{"unknown extension, JSON", []string{"--config", "testdata/full.conf"}, nil},
		{"unknown extension, YAML", []string{"--config", "testdata/full.cfg"}, nil},
		{"flag beats env for the file", []string{"--config", "testdata/full.json"}, []string{"ECSD_CONFIG=missing.yaml"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tt.args, env(tt.env...), files(nil))
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			mustEqual(t, got, fullConfig(got.ConfigFile))
			if !strings.HasPrefix(got.ConfigFile, "testdata/full.") {
				t.Errorf("ConfigFile = %q", got.ConfigFile)
			}
		})
	}
}

func TestLoadFileEmptyAndPartial(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, file, body string
		want             Config
	}{
		{"empty yaml", "e.yaml", "", with(func(c *Config) { c.ConfigFile = "e.yaml" })},
		{"comments only", "e.yml", "# nothing\n", with(func(c *Config) { c.ConfigFile = "e.yml" })},
		{"empty json", "e.json", "", with(func(c *Config) { c.ConfigFile = "e.json" })},
		{"empty object", "e.json", "{}", with(func(c *Config) { c.ConfigFile = "e.json" })},
		{"null values are unset", "e.yaml", "listen: null\nlog:\n", with(func(c *Config) { c.ConfigFile = "e.yaml" })},
		{"one log key", "e.yaml", "log:\n  format: json\n", with(func(c *Config) { c.ConfigFile, c.Log.Format = "e.yaml", "json" })},
		{"seed", "e.yaml", "seed: world.yaml\n", with(func(c *Config) { c.ConfigFile, c.Seed = "e.yaml", "world.yaml" })},
		{"seed in JSON", "e.json", `{"seed": "world.json"}`, with(func(c *Config) { c.ConfigFile, c.Seed = "e.json", "world.json" })},
		{"partial quota keeps other limits", "e.yaml", "quota: {ram: -1}\n", with(func(c *Config) {
			c.ConfigFile = "e.yaml"
			c.DefaultQuota.RAMMB = -1
		})},
		{"tenant quota takes the file's default quota", "e.yaml", `
quota: {instances: 7, cores: 70}
tenants:
  - {access_key: K, secret_key: 0123456789abcdef, project_id: dddddddddddddddddddddddddddddddd,
     project_name: p, domain_id: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee, quota: {cores: 3}}
`, with(func(c *Config) {
			c.ConfigFile = "e.yaml"
			c.DefaultQuota = ecs.Quota{Instances: 7, Cores: 70, RAMMB: ecs.DefaultQuota.RAMMB}
			c.TenantConfigs = []TenantConfig{{
				AccessKey: "K", SecretKey: "0123456789abcdef", ProjectID: "dddddddddddddddddddddddddddddddd",
				ProjectName: "p", DomainID: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
				Quota: &ecs.Quota{Instances: 7, Cores: 3, RAMMB: ecs.DefaultQuota.RAMMB},
			}}
		})},
		{"zero phase", "e.yaml", "timing: {phases: {spawning: \"0\"}}\n", with(func(c *Config) {
			c.ConfigFile = "e.yaml"
			c.Timing.Phases = map[string]time.Duration{"spawning": 0}
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load([]string{"--config", tt.file}, env(), files(map[string]string{tt.file: tt.body}))
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			mustEqual(t, got, tt.want)
		})
	}
}

func TestExampleConfig(t *testing.T) {
	t.Parallel()
	c, err := Load([]string{"--config", "testdata/example.yaml"}, env(), os.ReadFile)
	if err != nil {
		t.Fatalf("testdata/example.yaml: %v", err)
	}
	d := DefaultConfig()
	// The example documents the defaults of every scalar setting.
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, d.Listen},
		{"data_dir", c.DataDir, d.DataDir},
		{"ephemeral", c.Ephemeral, d.Ephemeral},
		{"region", c.Region, d.Region},
		{"driver", c.Driver, d.Driver},
		{"qemu", c.QEMU, d.QEMU},
		{"admin_token", c.AdminToken, d.AdminToken},
		{"seed", c.Seed, d.Seed},
		{"timing.profile", c.Timing.Profile, d.Timing.Profile},
		{"log", c.Log, d.Log},
		{"dev_tenant", c.DevTenant, d.DevTenant},
		{"allow_remote_dev", c.AllowRemoteDev, d.AllowRemoteDev},
		{"quota", c.DefaultQuota, d.DefaultQuota},
		{"phases", len(c.Timing.Phases), 4},
		{"tenants", len(c.TenantConfigs), 2},
		{"flavors", len(c.Flavors), 3},
		{"hosts", len(c.Hosts), 2},
		{"all tenants", len(c.Tenants()), 3},
		{"team-a users", len(c.TenantConfigs[0].Users), 1},
		{"team-a domain name", c.TenantConfigs[0].DomainName, "team-a"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got := c.Timing.Phases["powering-off"]; got != 500*time.Millisecond {
		t.Errorf("phases[powering-off] = %v", got)
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	const file = "p.yaml"
	body := "listen: 127.0.0.1:1\nregion: cn-east-3\ntiming: {profile: realistic}\ndev_tenant: false\nephemeral: true\n"
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want Config
	}{
		{"file beats default", []string{"--config", file}, nil, with(func(c *Config) {
			c.ConfigFile, c.Listen, c.Region, c.Timing.Profile, c.DevTenant, c.Ephemeral = file, "127.0.0.1:1", "cn-east-3", "realistic", false, true
		})},
		{"env beats file", []string{"--config", file}, []string{"ECSD_LISTEN=127.0.0.1:2", "ECSD_TIMING=instant", "ECSD_DEV_TENANT=true", "ECSD_EPHEMERAL=false"}, with(func(c *Config) {
			c.ConfigFile, c.Listen, c.Region, c.Timing.Profile = file, "127.0.0.1:2", "cn-east-3", "instant"
		})},
		{"flag beats env and file", []string{"--config", file, "--listen", "127.0.0.1:3", "--timing", "fast", "--no-dev-tenant", "--ephemeral"},
			[]string{"ECSD_LISTEN=127.0.0.1:2", "ECSD_TIMING=instant", "ECSD_DEV_TENANT=true", "ECSD_EPHEMERAL=false"}, with(func(c *Config) {
				c.ConfigFile, c.Listen, c.Region, c.DevTenant, c.Ephemeral = file, "127.0.0.1:3", "cn-east-3", false, true
			})},
		{"flag beats env without file", []string{"--driver", "a"}, []string{"ECSD_DRIVER=b", "ECSD_LOG_LEVEL=error"}, with(func(c *Config) {
			c.Driver, c.Log.Level = "a", "error"
		})},
		{"false flag beats true env", []string{"--allow-remote-dev=false"}, []string{"ECSD_ALLOW_REMOTE_DEV=true"}, with(nil)},
		{"no-dev-tenant=false beats env", []string{"--no-dev-tenant=false"}, []string{"ECSD_DEV_TENANT=false"}, with(nil)},
		{"env file name", nil, []string{"ECSD_CONFIG=" + file, "ECSD_REGION=eu-west-101"}, with(func(c *Config) {
			c.ConfigFile, c.Listen, c.Region, c.Timing.Profile, c.DevTenant, c.Ephemeral = file, "127.0.0.1:1", "eu-west-101", "realistic", false, true
		})},
		{"empty --config beats ECSD_CONFIG", []string{"--config="}, []string{"ECSD_CONFIG=" + file}, with(nil)},
		{"seed: flag beats env", []string{"--config", file, "--seed", "flag.yaml"}, []string{"ECSD_SEED=env.yaml"}, with(func(c *Config) {
			c.ConfigFile, c.Listen, c.Region, c.Timing.Profile, c.DevTenant, c.Ephemeral, c.Seed = file, "127.0.0.1:1", "cn-east-3", "realistic", false, true, "flag.yaml"
		})},
		{"seed from env beside a file", []string{"--config", file}, []string{"ECSD_SEED=env.yaml"}, with(func(c *Config) {
			c.ConfigFile, c.Listen, c.Region, c.Timing.Profile, c.DevTenant, c.Ephemeral, c.Seed = file, "127.0.0.1:1", "cn-east-3", "realistic", false, true, "env.yaml"
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tt.args, env(tt.env...), files(map[string]string{file: body}))
			if err != nil {
				t.Fatalf("Load = %v", err)
			}
			mustEqual(t, got, tt.want)
		})
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"--listen", "127.0.0.1:1", "-h"}} {
		if _, err := Load(args, env(), files(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%q) = %v, want flag.ErrHelp", args, err)
		}
	}
}

const (
	okTenant = "  - {access_key: %s, secret_key: 0123456789abcdef, project_id: %s, project_name: p, domain_id: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee}\n"
	pidA     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pidB     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		file string // body of c.yaml, read with --config c.yaml when set
		want []string
	}{
		// Flags and environment.
		{name: "unknown flag", args: []string{"--port", "1"}, want: []string{"flag provided but not defined: -port"}},
		{name: "flag without value", args: []string{"--listen"}, want: []string{"flag needs an argument: -listen"}},
		{name: "bad boolean flag", args: []string{"--ephemeral=maybe"}, want: []string{`invalid boolean value "maybe" for -ephemeral`}},
		{name: "positional argument", args: []string{"serve"}, want: []string{`unexpected argument "serve"`}},
		{name: "bad boolean env", env: []string{"ECSD_EPHEMERAL=maybe"}, want: []string{`env ECSD_EPHEMERAL: invalid boolean "maybe"`}},
		{name: "bad dev tenant env", env: []string{"ECSD_DEV_TENANT=off"}, want: []string{`env ECSD_DEV_TENANT: invalid boolean "off"`}},
		{name: "missing file by flag", args: []string{"--config", "nope.yaml"}, want: []string{"flag --config: open nope.yaml:", "not exist"}},
		{name: "missing file by env", env: []string{"ECSD_CONFIG=nope.json"}, want: []string{"env ECSD_CONFIG: open nope.json:"}},

		// File syntax and schema.
		{name: "yaml syntax", file: "listen: [\n", want: []string{"config file c.yaml: ", "line"}},
		{name: "yaml unknown key", file: "listen: 127.0.0.1:1\nlisten_addr: x\n", want: []string{`config file c.yaml: line 2: unknown key "listen_addr"`}},
		{name: "yaml nested unknown key", file: "tenants:\n  - access_key: k\n    secret: s\n", want: []string{`config file c.yaml: line 3: unknown key "secret"`}},
		{name: "yaml wrong type", file: "ephemeral: [1]\n", want: []string{"config file c.yaml: line 1: cannot unmarshal !!seq into a boolean"}},
		{name: "yaml wrong quota type", file: "quota: {cores: many}\n", want: []string{"config file c.yaml: line 1: cannot unmarshal !!str `many` into an integer"}},
		{name: "yaml two documents", file: "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n", want: []string{"config file c.yaml: more than one YAML document"}},
		{name: "yaml duplicate key", file: "region: a-b\nregion: c-d\n", want: []string{`config file c.yaml: `, `"region" already defined`}},
		{name: "bad duration", file: "timing:\n  phases:\n    spawning: fast\n", want: []string{`config file c.yaml: timing.phases.spawning: invalid duration "fast"`}},
		{name: "duration without unit", file: "timing: {phases: {spawning: 250}}\n", want: []string{`config file c.yaml: timing.phases.spawning: invalid duration "250"`}},

		// Validation, each naming its origin.
		{name: "listen from flag", args: []string{"--listen", "nowhere"}, want: []string{`flag --listen: invalid address "nowhere"`}},
		{name: "listen from env", env: []string{"ECSD_LISTEN=127.0.0.1"}, want: []string{`env ECSD_LISTEN: invalid address "127.0.0.1"`}},
		{name: "listen from file", file: "listen: 127.0.0.1:http\n", want: []string{`config file c.yaml: listen: invalid port "http"`}},
		{name: "port out of range", args: []string{"--listen", "127.0.0.1:65536"}, want: []string{`flag --listen: invalid port "65536"`}},
		{name: "empty data dir", args: []string{"--data", ""}, want: []string{"flag --data: must not be empty unless ephemeral or database is set"}},
		{name: "empty data dir in file", file: "data_dir: ''\n", want: []string{"config file c.yaml: data_dir: must not be empty"}},
		{name: "database not postgres", args: []string{"--database", "mysql://u:secret@h/db"}, want: []string{`flag --database: want a PostgreSQL URL (postgres://user:password@host:port/name), not "mysql://u:xxxxx@h/db"`}},
		{name: "database and ephemeral", args: []string{"--ephemeral", "--database", "postgres://h/db"}, want: []string{"flag --ephemeral: cannot be combined with database"}},
		{name: "database pool", env: []string{"ECSD_DATABASE_MAX_CONNS=1"}, want: []string{`env ECSD_DATABASE_MAX_CONNS: invalid "1": want a whole number from 2 to 1000`}},
		{name: "node timeout", file: "node_timeout: 10\n", want: []string{`config file c.yaml: node_timeout: invalid "10": want a duration from 1s to 1h`}},
		{name: "region", env: []string{"ECSD_REGION=North 4"}, want: []string{`env ECSD_REGION: invalid region "North 4"`}},
		{name: "empty region", file: "region: ''\n", want: []string{`config file c.yaml: region: invalid region ""`}},
		{name: "timing profile flag", args: []string{"--timing", "slow"}, want: []string{`flag --timing: unknown timing profile "slow": want one of fast, realistic, instant`}},
		{name: "timing profile env", env: []string{"ECSD_TIMING=Fast"}, want: []string{`env ECSD_TIMING: unknown timing profile "Fast"`}},
		{name: "timing profile file", file: "timing: {profile: slow}\n", want: []string{`config file c.yaml: timing.profile: unknown timing profile "slow"`}},
		{name: "negative phase", file: "timing: {phases: {resize_prep: -1s}}\n", want: []string{"config file c.yaml: timing.phases.resize_prep: negative duration -1s"}},
		{name: "empty phase name", file: "timing: {phases: {'': 1s}}\n", want: []string{"config file c.yaml: timing.phases: empty phase name"}},
		{name: "empty driver", args: []string{"--driver="}, want: []string{"flag --driver: must not be empty"}},
		{name: "qemu and postgres", args: []string{"--driver", "qemu", "--database", "postgres://h/db"}, want: []string{"flag --driver: the qemu driver runs machines on this host only"}},
		{name: "qemu initrd alone", env: []string{"ECSD_QEMU_INITRD=initrd.img"}, want: []string{"env ECSD_QEMU_INITRD: needs qemu.kernel"}},
		{name: "qemu memory scale", args: []string{"--qemu-memory-scale", "0"}, want: []string{`flag --qemu-memory-scale: invalid "0": want a whole number from 1 to 1024`}},
		{name: "qemu memory scale file", file: "qemu: {memory_scale: 2000}\n", want: []string{`config file c.yaml: qemu.memory_scale: invalid "2000"`}},
		{name: "qemu overcommit", env: []string{"ECSD_QEMU_OVERCOMMIT=lots"}, want: []string{`env ECSD_QEMU_OVERCOMMIT: invalid "lots": want a number above 0`}},
		{name: "qemu overcommit file", file: "qemu: {overcommit: -1}\n", want: []string{`config file c.yaml: qemu.overcommit: invalid "-1"`}},
		{name: "qemu accel", file: "qemu: {accel: hvf}\n", want: []string{`config file c.yaml: qemu.accel: unknown accelerator "hvf"`}},
		{name: "qemu empty binary", file: "qemu: {binary: ''}\n", want: []string{"config file c.yaml: qemu.binary: must not be empty"}},
		{name: "log level", args: []string{"--log-level", "trace"}, want: []string{`flag --log-level: unknown log level "trace"`}},
		{name: "log level file", file: "log: {level: warning}\n", want: []string{`config file c.yaml: log.level: unknown log level "warning"`}},
		{name: "log format", env: []string{"ECSD_LOG_FORMAT=logfmt"}, want: []string{`env ECSD_LOG_FORMAT: unknown log format "logfmt"`}},
		{name: "default quota", file: "quota: {instances: -2, cores: -1, ram: -3}\n", want: []string{
			"config file c.yaml: quota.instances: must be -1 (unlimited) or at least 0, not -2",
			"config file c.yaml: quota.ram: must be -1 (unlimited) or at least 0, not -3",
		}},
		{name: "tenant quota", file: "tenants:\n  - {access_key: K, secret_key: 0123456789abcdef, project_id: " + pidA + ", project_name: p, domain_id: " + pidB + ", quota: {cores: -5}}\n", want: []string{
			"config file c.yaml: tenants[0].quota.cores: must be -1 (unlimited) or at least 0, not -5",
		}},
		{name: "users without domain name", file: "tenants:\n  - {access_key: K, secret_key: 0123456789abcdef, project_id: " + pidA + ", project_name: p, domain_id: " + pidB + ", users: [{name: u, password: longenough}]}\n", want: []string{
			"config file c.yaml: tenants[0].domain_name: must be set when the tenant declares users",
		}},
		{name: "user problems", file: "tenants:\n  - {access_key: K, secret_key: 0123456789abcdef, project_id: " + pidA + ", project_name: p, domain_id: " + pidB + ", domain_name: d, users: [{name: u, password: short}, {name: u, password: longenough}, {name: '', password: longenough}]}\n", want: []string{
			"config file c.yaml: tenants[0].users[0].password: must be at least 8 characters, not 5",
			`config file c.yaml: tenants[0].users[1].name: "u" is declared twice`,
			"config file c.yaml: tenants[0].users[2].name: must not be empty",
		}},
		{name: "domain name taken by the dev tenant", file: "tenants:\n  - {access_key: K, secret_key: 0123456789abcdef, project_id: " + pidA + ", project_name: p, domain_id: " + pidB + ", domain_name: ecsd-dev}\n", want: []string{
			`config file c.yaml: tenants[0].domain_name: "ecsd-dev" is already used by another tenant`,
		}},
		{name: "tenant project id", args: []string{"--config", "testdata/bad-tenant.yaml"}, want: []string{
			"config file testdata/bad-tenant.yaml: tenants[1].project_id: must be 32 lowercase hex characters",
		}},
		{name: "tenant empty access key", file: "tenants:\n" + fmt.Sprintf(okTenant, "''", pidA), want: []string{"config file c.yaml: tenants[0].access_key: must not be empty"}},
		{name: "tenant long access key", file: "tenants:\n" + fmt.Sprintf(okTenant, strings.Repeat("k", 129), pidA), want: []string{"config file c.yaml: tenants[0].access_key: must be at most 128 characters, not 129"}},
		{name: "tenant short secret key", file: "tenants:\n  - {access_key: K, secret_key: short, project_id: " + pidA + ", project_name: p, domain_id: " + pidB + "}\n", want: []string{
			"config file c.yaml: tenants[0].secret_key: must be at least 16 characters, not 5",
		}},
		{name: "tenant missing fields", file: "tenants:\n  - {access_key: K}\n", want: []string{
			"config file c.yaml: tenants[0].secret_key: must be at least 16 characters, not 0",
			"config file c.yaml: tenants[0].project_id: must be 32 lowercase hex characters",
			"config file c.yaml: tenants[0].project_name: must not be empty",
			"config file c.yaml: tenants[0].domain_id: must be 32 lowercase hex characters",
		}},
		{name: "tenant short project id", file: "tenants:\n" + fmt.Sprintf(okTenant, "K", "abc"), want: []string{"config file c.yaml: tenants[0].project_id: must be 32 lowercase hex characters"}},
		{name: "tenant bad domain id", file: "tenants:\n  - {access_key: K, secret_key: 0123456789abcdef, project_id: " + pidA + ", project_name: p, domain_id: " + strings.Repeat("g", 32) + "}\n", want: []string{
			"config file c.yaml: tenants[0].domain_id: must be 32 lowercase hex characters",
		}},
		{name: "duplicate access key", file: "tenants:\n" + fmt.Sprintf(okTenant, "K", pidA) + fmt.Sprintf(okTenant, "K", pidB), want: []string{
			`config file c.yaml: tenants[1].access_key: "K" is already used by tenants[0]`,
		}},
		{name: "duplicate project id", file: "tenants:\n" + fmt.Sprintf(okTenant, "K1", pidA) + fmt.Sprintf(okTenant, "K2", pidA), want: []string{
			`config file c.yaml: tenants[1].project_id: "` + pidA + `" is already used by tenants[0]`,
		}},
		{name: "dev tenant's access key", file: "tenants:\n" + fmt.Sprintf(okTenant, ecs.DevTenant.AccessKey, pidA), want: []string{
			`config file c.yaml: tenants[0].access_key: "` + ecs.DevTenant.AccessKey + `" is already used by the development tenant`,
		}},
		{name: "dev tenant's project id", file: "tenants:\n" + fmt.Sprintf(okTenant, "K", ecs.DevTenant.ProjectID), want: []string{
			`config file c.yaml: tenants[0].project_id: "` + ecs.DevTenant.ProjectID + `" is already used by the development tenant`,
		}},
		{name: "flavor without id", file: "flavors:\n  - {vcpus: 2}\n", want: []string{"config file c.yaml: flavors[0].id: must not be empty"}},
		{name: "duplicate flavor", file: "flavors:\n  - {id: a}\n  - {id: a, remove: true}\n", want: []string{`config file c.yaml: flavors[1].id: "a" already appears in flavors[0]`}},
		{name: "flavor negative", file: "flavors:\n  - {id: a, vcpus: -1, ram: -1}\n", want: []string{
			"config file c.yaml: flavors[0].vcpus: must not be negative",
			"config file c.yaml: flavors[0].ram: must not be negative",
		}},
		{name: "flavor remove with fields", file: "flavors:\n  - {id: a, extra_specs: {}, remove: true}\n", want: []string{"config file c.yaml: flavors[0]: remove: true takes no other field than id"}},
		{name: "flavor empty extra spec key", file: "flavors:\n  - {id: a, extra_specs: {'': x}}\n", want: []string{"config file c.yaml: flavors[0].extra_specs: empty key"}},
		{name: "host fields", file: "hosts:\n  - {arch: ppc64le}\n", want: []string{
			"config file c.yaml: hosts[0].id: must not be empty",
			"config file c.yaml: hosts[0].az: must not be empty",
			"config file c.yaml: hosts[0].vcpus: must be positive",
			"config file c.yaml: hosts[0].ram: must be positive",
			`config file c.yaml: hosts[0].arch: unknown architecture "ppc64le": want one of x86_64, arm64`,
		}},
		{name: "duplicate host", file: "hosts:\n  - {id: h, az: a, vcpus: 1, ram: 1}\n  - {id: h, az: a, vcpus: 1, ram: 1}\n", want: []string{`config file c.yaml: hosts[1].id: "h" already appears in hosts[0]`}},

		// Development tenant and loopback.
		{name: "remote listen flag", args: []string{"--listen", ":8787"}, want: []string{`flag --listen: ":8787" is not a loopback address`, "--no-dev-tenant", "--allow-remote-dev"}},
		{name: "remote listen env", env: []string{"ECSD_LISTEN=0.0.0.0:8787"}, want: []string{`env ECSD_LISTEN: "0.0.0.0:8787" is not a loopback address`}},
		{name: "remote listen file", file: "listen: 192.168.1.5:8787\n", want: []string{`config file c.yaml: listen: "192.168.1.5:8787" is not a loopback address`}},
		{name: "dev tenant back on by flag", file: "listen: ':1'\ndev_tenant: false\n", args: []string{"--no-dev-tenant=false"}, want: []string{`config file c.yaml: listen: ":1" is not a loopback address`}},

		// Several problems are all reported.
		{name: "all errors", args: []string{"--timing", "x", "--log-format", "y"}, want: []string{"flag --timing: unknown", "\nflag --log-format: unknown"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", "c.yaml"}, args...)
			}
			_, err := Load(args, env(tt.env...), files(map[string]string{"c.yaml": tt.file}))
			if err == nil {
				t.Fatalf("Load(%q) succeeded, want an error containing %q", args, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadFileErrorsJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, file, body, want string
	}{
		{"unknown key", "testdata/unknown-key.json", "", `config file testdata/unknown-key.json: unknown key "colour"`},
		{"unknown key yaml", "testdata/unknown-key.yaml", "", `config file testdata/unknown-key.yaml: line 4: unknown key "colour"`},
		{"syntax", "c.json", "{\n\"listen\": \n}", "config file c.json: line 3: invalid JSON"},
		{"wrong type", "c.json", "{\n  \"tenants\": [{\"quota\": {\"cores\": \"many\"}}]\n}", "config file c.json: line 2: tenants.quota.cores: cannot use a JSON string as an integer"},
		{"top level array", "c.json", "[]", "config file c.json: line 1: top level: cannot use a JSON array as a mapping"},
		{"trailing data", "c.json", "{} {}", "config file c.json: unexpected data after the top-level JSON object"},
		{"sniffed JSON unknown key", "c.conf", `{"listen_addr": "x"}`, `config file c.conf: unknown key "listen_addr"`},
		{"sniffed YAML unknown key", "c.conf", "listen_addr: x\n", `config file c.conf: line 1: unknown key "listen_addr"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := map[string]string{}
			if tt.body != "" {
				mem[tt.file] = tt.body
			}
			_, err := Load([]string{"--config", tt.file}, env(), files(mem))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidateLoopback(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		listen   string
		loopback bool
	}{
		{"127.0.0.1:8787", true},
		{"127.1.2.3:8787", true},
		{"localhost:8787", true},
		{"LocalHost:0", true},
		{"[::1]:8787", true},
		{":8787", false},
		{"0.0.0.0:8787", false},
		{"[::]:8787", false},
		{"10.0.0.1:8787", false},
		{"example.com:8787", false},
		{"[::ffff:127.0.0.1]:8787", true},
	} {
		for _, dev := range []bool{true, false} {
			for _, allow := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/dev=%v/allow=%v", tt.listen, dev, allow), func(t *testing.T) {
					t.Parallel()
					c := with(func(c *Config) { c.Listen, c.DevTenant, c.AllowRemoteDev = tt.listen, dev, allow })
					err := c.Validate()
					if wantErr := dev && !allow && !tt.loopback; wantErr != (err != nil) {
						t.Fatalf("Validate() = %v, want error: %v", err, wantErr)
					}
					if err != nil && !strings.HasPrefix(err.Error(), "listen: ") {
						t.Errorf("Validate() = %q, want it to name listen", err)
					}
				})
			}
		}
	}
}

func TestValidateOK(t *testing.T) {
	t.Parallel()
	q := ecs.Quota{Instances: -1, Cores: 0, RAMMB: -1}
	for _, tt := range []struct {
		name string
		c    Config
	}{
		{"defaults", DefaultConfig()},
		{"ephemeral without data dir", with(func(c *Config) { c.Ephemeral, c.DataDir = true, "" })},
		{"unlimited quota", with(func(c *Config) { c.DefaultQuota = q })},
		{"port 0", with(func(c *Config) { c.Listen = "127.0.0.1:0" })},
		{"dev tenant off reuses its credentials", with(func(c *Config) {
			c.DevTenant = false
			c.TenantConfigs = []TenantConfig{{
				AccessKey: ecs.DevTenant.AccessKey, SecretKey: ecs.DevTenant.SecretKey,
				ProjectID: ecs.DevTenant.ProjectID, ProjectName: "p", DomainID: ecs.DevTenant.DomainID, Quota: &q,
			}}
		})},
		{"same domain, two projects", with(func(c *Config) {
			c.TenantConfigs = []TenantConfig{
				{AccessKey: "A", SecretKey: "0123456789abcdef", ProjectID: pidA, ProjectName: "p", DomainID: pidB},
				{AccessKey: "B", SecretKey: "0123456789abcdef", ProjectID: pidB, ProjectName: "p", DomainID: pidB},
			}
		})},
		{"free-form phase names", with(func(c *Config) {
			c.Timing.Phases = map[string]time.Duration{"anything-at_all": time.Second}
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

func TestTenants(t *testing.T) {
	t.Parallel()
	a := TenantConfig{AccessKey: "A", SecretKey: "0123456789abcdef", ProjectID: pidA, ProjectName: "cn-north-4", DomainID: pidB}
	b := TenantConfig{AccessKey: "B", SecretKey: "fedcba9876543210", ProjectID: pidB, ProjectName: "cn-north-4_b", DomainID: pidB}
	toTenant := func(t TenantConfig) ecs.Tenant {
		return ecs.Tenant{ProjectID: t.ProjectID, ProjectName: t.ProjectName, DomainID: t.DomainID, AccessKey: t.AccessKey, SecretKey: t.SecretKey}
	}
	devIn := func(region string) ecs.Tenant {
		d := ecs.DevTenant
		d.ProjectName = region
		return d
	}
	for _, tt := range []struct {
		name string
		c    Config
		want []ecs.Tenant
	}{
		{"default: dev tenant only", DefaultConfig(), []ecs.Tenant{ecs.DevTenant}},
		{"dev first, then in order", with(func(c *Config) { c.TenantConfigs = []TenantConfig{b, a} }), []ecs.Tenant{ecs.DevTenant, toTenant(b), toTenant(a)}},
		{"dev off", with(func(c *Config) { c.DevTenant, c.TenantConfigs = false, []TenantConfig{a} }), []ecs.Tenant{toTenant(a)}},
		{"none", with(func(c *Config) { c.DevTenant = false }), []ecs.Tenant{}},
		{"dev project name follows region", with(func(c *Config) { c.Region = "ap-southeast-1" }), []ecs.Tenant{devIn("ap-southeast-1")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.Tenants(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Tenants() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQuotaFor(t *testing.T) {
	t.Parallel()
	c, err := Load([]string{"--config", "testdata/full.yaml"}, env(), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	def := ecs.Quota{Instances: 5, Cores: -1, RAMMB: ecs.DefaultQuota.RAMMB}
	for _, tt := range []struct {
		name, project string
		want          ecs.Quota
	}{
		{"own quota", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ecs.Quota{Instances: 2, Cores: -1, RAMMB: ecs.DefaultQuota.RAMMB}},
		{"no own quota", "cccccccccccccccccccccccccccccccc", def},
		{"dev tenant", ecs.DevTenant.ProjectID, def},
		{"unknown project", "ffffffffffffffffffffffffffffffff", def},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := c.QuotaFor(tt.project); got != tt.want {
				t.Fatalf("QuotaFor(%s) = %+v, want %+v", tt.project, got, tt.want)
			}
		})
	}
	if got := DefaultConfig().QuotaFor(ecs.DevTenant.ProjectID); got != ecs.DefaultQuota {
		t.Errorf("default QuotaFor(dev) = %+v, want ecs.DefaultQuota", got)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, s := range settings {
		for _, w := range []string{"--" + s.flag, s.env} {
			if !strings.Contains(out, w) {
				t.Errorf("usage lacks %q", w)
			}
		}
	}
	for _, w := range []string{`(default "127.0.0.1:8787")`, "ECSD_DEV_TENANT=false", "--help", "tenants", "flavors", "hosts", "timing.phases", "quota"} {
		if !strings.Contains(out, w) {
			t.Errorf("usage lacks %q", w)
		}
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		log       LogConfig
		debug     bool
		jsonShape bool
	}{
		{LogConfig{Level: "debug", Format: "text"}, true, false},
		{LogConfig{Level: "info", Format: "json"}, false, true},
		{LogConfig{Level: "error", Format: "text"}, false, false},
	} {
		var b bytes.Buffer
		l := tt.log.NewLogger(&b)
		if got := l.Enabled(t.Context(), slog.LevelDebug); got != tt.debug {
			t.Errorf("%+v: debug enabled = %v", tt.log, got)
		}
		l.Error("boom")
		if got := strings.HasPrefix(b.String(), "{"); got != tt.jsonShape {
			t.Errorf("%+v: wrote %q", tt.log, b.String())
		}
	}
}

func TestNodeConfig(t *testing.T) {
	t.Parallel()
	c := with(func(c *Config) {
		c.DefaultQuota = ecs.Quota{Instances: 1, Cores: 2, RAMMB: 3}
		c.Seed = "world.yaml"
	})
	nc := c.Node()
	if nc.DefaultQuota == nil || *nc.DefaultQuota != c.DefaultQuota {
		t.Errorf("node DefaultQuota = %v, want %v", nc.DefaultQuota, c.DefaultQuota)
	}
	if nc.Seed != nil {
		t.Error("Node() read the seed file; main does")
	}
	q := with(func(c *Config) {
		c.QEMU = QEMUConfig{Binary: "qemu", Kernel: "k", Initrd: "i", MemoryScale: "8", Overcommit: "2.5", Accel: "kvm"}
	}).Node()
	if q.QEMUBinary != "qemu" || q.QEMUKernel != "k" || q.QEMUInitrd != "i" || q.QEMUMemoryScale != 8 || q.QEMUOvercommit != 2.5 || q.QEMUAccel != "kvm" {
		t.Errorf("node QEMU settings = %q %q %q %d %g", q.QEMUBinary, q.QEMUKernel, q.QEMUInitrd, q.QEMUMemoryScale, q.QEMUOvercommit)
	}
}

// TestSeedFlag starts ecsd with --seed: the servers exist at once in the
// states the document asks for; a restart with the same flag does not load
// the document a second time (the store is not empty).
func TestSeedFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	t.Parallel()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	path := filepath.Join(root, "world.yaml")
	doc := `servers:
  - {project_id: ` + ecs.DevTenant.ProjectID + `, name: up, flavor: s6.large.2, image: Ubuntu 22.04 server 64bit(40GB)}
  - {project_id: ` + ecs.DevTenant.ProjectID + `, name: down, flavor: s6.small.1, image: Ubuntu 22.04 server 64bit(40GB), status: SHUTOFF}
  - {project_id: ` + ecs.DevTenant.ProjectID + `, name: bad, flavor: s6.small.1, image: Ubuntu 22.04 server 64bit(40GB), status: ERROR}
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(url string) {
		t.Helper()
		resp, err := sdkClient(url).ListServersDetails(&model.ListServersDetailsRequest{})
		if err != nil {
			t.Fatalf("ListServersDetails: %v", err)
		}
		got := map[string]string{}
		for _, s := range *resp.Servers {
			got[s.Name] = s.Status + "/" + s.Flavor.Id
		}
		want := map[string]string{"up": "ACTIVE/s6.large.2", "down": "SHUTOFF/s6.small.1", "bad": "ERROR/s6.small.1"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("servers %v, want %v", got, want)
		}
	}
	p := startProcess(t, data, "--seed", path)
	check(p.URL)
	p.terminate(t)
	p = startProcess(t, data, "--seed", path)
	check(p.URL)
	p.terminate(t)
}
