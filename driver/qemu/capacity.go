package qemu

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// HostIDPrefix starts the ID of every host Hosts returns: "qemu-" and the
// availability zone.
const HostIDPrefix = "qemu-"

// Hosts returns the hosts that servers are placed on, one per availability
// zone of azs, each with this machine's capacity: its CPUs times the
// overcommit ratio, and its memory times the overcommit ratio and the
// memory scale (so that it compares with flavors' RAM, which the guests get
// divided by the scale). Every zone sees the whole machine: the capacity
// check is per zone, so servers in several zones share it.
func (d *Driver) Hosts(azs []string) ([]ecs.Host, error) {
	memMB, err := machineMemoryMB()
	if err != nil {
		return nil, err
	}
	return hosts(azs, runtime.NumCPU(), memMB, d.opts.Overcommit, d.opts.MemoryScale), nil
}

func hosts(azs []string, cpus, memMB int, overcommit float64, scale int) []ecs.Host {
	vcpus := max(1, int(float64(cpus)*overcommit))
	ramMB := max(1, int(float64(memMB)*overcommit)*scale)
	out := make([]ecs.Host, 0, len(azs))
	for _, az := range azs {
		out = append(out, ecs.Host{ID: HostIDPrefix + az, AZ: az, VCPUs: vcpus, RAMMB: ramMB, Arch: "x86_64"})
	}
	return out
}

// machineMemoryMB reads MemTotal from /proc/meminfo.
func machineMemoryMB() (int, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("qemu: host memory: %w", err)
	}
	defer f.Close()
	return parseMemTotal(f)
}

func parseMemTotal(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			break
		}
		kb, err := strconv.Atoi(fields[0])
		if err != nil || kb <= 0 {
			break
		}
		return kb / 1024, nil
	}
	return 0, fmt.Errorf("qemu: host memory: no MemTotal in kB in /proc/meminfo")
}
