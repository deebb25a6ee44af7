// Command ecsd runs the Huawei Cloud ECS emulator: one HTTP port serving the
// ECS API (and the VPC and IMS slices around it) on an embedded SQLite
// database, with River working the asynchronous jobs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/catalog"
	"github.com/ecsd-dev/ecsd/node"
	"github.com/ecsd-dev/ecsd/seed"
)

// Version is ecsd's version, set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := Load(os.Args[1:], os.Getenv, os.ReadFile)
	if errors.Is(err, flag.ErrHelp) {
		Usage(os.Stdout)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecsd:", err)
		os.Exit(2)
	}
	nc := cfg.Node()
	if cfg.Seed != "" {
		if nc.Seed, err = seed.ReadFile(cfg.Seed); err != nil {
			fmt.Fprintln(os.Stderr, "ecsd:", err)
			os.Exit(2)
		}
	}
	m := node.New(nc, cfg.Log.NewLogger(os.Stderr), os.Stdout)
	if err := m.Run(ctx); err != nil {
		m.Close()
		fmt.Fprintln(os.Stderr, "ecsd:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "ecsd:", err)
		os.Exit(1)
	}
}

// Node returns the node settings c resolves to.
func (c Config) Node() node.Config {
	nc := node.Config{
		Listen: c.Listen, DataDir: c.DataDir, Region: c.Region,
		Timing: c.Timing.Profile, PhaseOverrides: c.Timing.Phases,
		Driver: c.Driver, DevTenant: c.DevTenant, Version: Version, AdminToken: c.AdminToken,
	}
	if c.Ephemeral {
		nc.DataDir = ""
	}
	// Validate checked these.
	nc.Database, nc.NodeID = c.Database, c.NodeID
	nc.DatabaseMaxConns, _ = strconv.Atoi(c.DatabaseMaxConns)
	nc.NodeTimeout, _ = time.ParseDuration(c.NodeTimeout)
	nc.QEMUBinary, nc.QEMUKernel, nc.QEMUInitrd = c.QEMU.Binary, c.QEMU.Kernel, c.QEMU.Initrd
	nc.QEMUAccel = c.QEMU.Accel
	nc.QEMUMemoryScale, _ = strconv.Atoi(c.QEMU.MemoryScale)
	nc.QEMUOvercommit, _ = strconv.ParseFloat(c.QEMU.Overcommit, 64)
	q := c.DefaultQuota
	nc.DefaultQuota = &q
	for _, t := range c.Tenants() {
		tq := node.TenantQuota{Tenant: t, Quota: c.QuotaFor(t.ProjectID)}
		tq.DomainName, tq.Users = c.AccountOf(t.ProjectID)
		nc.Tenants = append(nc.Tenants, tq)
	}
	for _, f := range c.Flavors {
		nc.Flavors = append(nc.Flavors, f.override())
	}
	for _, h := range c.Hosts {
		nc.Hosts = append(nc.Hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	return nc
}

// override converts a configured flavor to the catalogue's override form:
// zero numbers and an empty family leave the catalogue's values.
func (f FlavorConfig) override() catalog.FlavorOverride {
	o := catalog.FlavorOverride{ID: f.ID, ExtraSpecs: f.ExtraSpecs, Remove: f.Remove}
	if f.VCPUs != 0 {
		o.VCPUs = &f.VCPUs
	}
	if f.RAMMB != 0 {
		o.RAMMB = &f.RAMMB
	}
	if f.Family != "" {
		o.Family = &f.Family
	}
	return o
}
