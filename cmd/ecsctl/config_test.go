package main

import (
	"bytes"
	"errors"
	"flag"
	"reflect"
	"slices"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dev := DefaultConfig()
	dev.Endpoint, dev.AK, dev.SK, dev.ProjectID = defaultEndpoint, devAccessKey, devSecretKey, devProjectID
	with := func(f func(*Config)) Config {
		c := dev
		f(&c)
		return c
	}
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want Config
	}{
		{"defaults: the development tenant on the local ecsd", []string{"servers", "list"}, env(),
			with(func(c *Config) { c.Command = "servers list" })},
		{"flags before and after the command", []string{"-o", "json", "servers", "show", "abc", "--timeout", "1m"}, env(),
			with(func(c *Config) {
				c.Command, c.Args, c.Output, c.Timeout = "servers show", []string{"abc"}, "json", time.Minute
			})},
		{"keys from the environment", []string{"servers", "list"},
			env(envAccessKey, "AK1", envSecretKey, "SK1", envProjectID, "P1"),
			with(func(c *Config) { c.Command, c.AK, c.SK, c.ProjectID = "servers list", "AK1", "SK1", "P1" })},
		{"flags win over the environment", []string{"--ak", "AK2", "--sk", "SK2", "--project-id", "P2", "servers", "list"},
			env(envAccessKey, "AK1", envSecretKey, "SK1", envProjectID, "P1"),
			with(func(c *Config) { c.Command, c.AK, c.SK, c.ProjectID = "servers list", "AK2", "SK2", "P2" })},
		{"a region without an endpoint: the SDK's regional endpoint", []string{"--region", "cn-north-4", "servers", "list"},
			env(envAccessKey, "AK1", envSecretKey, "SK1"),
			with(func(c *Config) {
				c.Command, c.Region, c.Endpoint, c.AK, c.SK, c.ProjectID = "servers list", "cn-north-4", "", "AK1", "SK1", ""
			})},
		{"an endpoint and a region", []string{"--endpoint", "http://h:1", "--region", "cn-north-4", "jobs", "show", "j"}, env(),
			with(func(c *Config) {
				c.Command, c.Args, c.Endpoint, c.Region = "jobs show", []string{"j"}, "http://h:1", "cn-north-4"
			})},
		{"create with options", []string{"servers", "create", "--name", "web", "--flavor", "s6.large.2", "--count", "3", "--az", "cn-north-4a", "--wait"}, env(),
			with(func(c *Config) {
				c.Command, c.Name, c.Flavor, c.Count, c.AZ, c.Wait = "servers create", "web", "s6.large.2", 3, "cn-north-4a", true
			})},
		{"resize with options between the arguments", []string{"resize", "srv", "--with-stop", "c7.large.2", "--dry-run", "--wait"}, env(),
			with(func(c *Config) {
				c.Command, c.Args, c.WithStop, c.DryRun, c.Wait = "resize", []string{"srv", "c7.large.2"}, true, true, true
			})},
		{"stop several, hard", []string{"stop", "a", "b", "--hard", "--wait"}, env(),
			with(func(c *Config) { c.Command, c.Args, c.Hard, c.Wait = "stop", []string{"a", "b"}, true, true })},
		{"servers stop is stop", []string{"servers", "stop", "a"}, env(),
			with(func(c *Config) { c.Command, c.Args = "stop", []string{"a"} })},
		{"flavors resizable to a server", []string{"flavors", "list", "--resizable-to", "srv"}, env(),
			with(func(c *Config) { c.Command, c.ResizableTo = "flavors list", "srv" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(tc.args, tc.env)
			if err != nil {
				t.Fatalf("Load(%q): %v", tc.args, err)
			}
			if !equalConfig(got, tc.want) {
				t.Fatalf("Load(%q)\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
}

func equalConfig(a, b Config) bool {
	if !slices.Equal(a.Args, b.Args) {
		return false
	}
	a.Args, b.Args = nil, nil
	return reflect.DeepEqual(a, b)
}

func TestLoadUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  func(string) string
	}{
		{"no command", nil, env()},
		{"unknown command", []string{"servers", "explode"}, env()},
		{"unknown flag", []string{"servers", "list", "--nope"}, env()},
		{"flag of another command", []string{"servers", "list", "--hard"}, env()},
		{"missing argument", []string{"servers", "show"}, env()},
		{"too many arguments", []string{"resize", "a", "b", "c"}, env()},
		{"bad output", []string{"-o", "yaml", "servers", "list"}, env()},
		{"bad timeout", []string{"--timeout", "soon", "servers", "list"}, env()},
		{"create without a flavor", []string{"servers", "create", "--name", "x"}, env()},
		{"create with count 0", []string{"servers", "create", "--name", "x", "--flavor", "f", "--count", "0"}, env()},
		{"AK without SK", []string{"--ak", "A", "servers", "list"}, env()},
		{"SK from env without AK", []string{"servers", "list"}, env(envSecretKey, "S")},
		{"keys without a project or region", []string{"--ak", "A", "--sk", "S", "servers", "list"}, env()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.args, tc.env)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Load(%q) = %v, want a usage error", tc.args, err)
			}
			if code := run(t.Context(), tc.args, &bytes.Buffer{}, &bytes.Buffer{}, tc.env); code != exitUsage {
				t.Fatalf("run(%q) = %d, want %d", tc.args, code, exitUsage)
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"servers", "list", "-h"}} {
		if _, err := Load(args, env()); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%q) = %v, want flag.ErrHelp", args, err)
		}
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	e, v, err := endpoints(Config{Region: "cn-north-4"})
	if err != nil || e != "https://ecs.cn-north-4.myhuaweicloud.com" || v != "https://vpc.cn-north-4.myhuaweicloud.com" {
		t.Fatalf("endpoints(cn-north-4) = %s, %s, %v", e, v, err)
	}
	if _, _, err := endpoints(Config{Region: "xx-nowhere-9"}); exitCode(err) != exitUsage {
		t.Fatalf("endpoints(unknown region) = %v, want a usage error", err)
	}
	if e, v, _ := endpoints(Config{Endpoint: "http://h", Region: "cn-north-4"}); e != "http://h" || v != "http://h" {
		t.Fatalf("an --endpoint must win over the region: %s %s", e, v)
	}
}
