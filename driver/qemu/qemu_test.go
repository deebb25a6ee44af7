package qemu_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/drivertest"
	"github.com/ecsd-dev/ecsd/driver/qemu"
	"github.com/ecsd-dev/ecsd/internal/poll"
)

var (
	_ driver.Driver    = (*qemu.Driver)(nil)
	_ driver.Describer = (*qemu.Driver)(nil)
)

var (
	small = driver.Shape{FlavorID: "s6.small.1", VCPUs: 1, RAMMB: 1024}
	large = driver.Shape{FlavorID: "s6.large.2", VCPUs: 2, RAMMB: 4096}
)

// requireQEMU skips the test when QEMU is not installed.
func requireQEMU(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath(qemu.DefaultBinary); err != nil {
		tb.Skipf("%s not found: install Debian's qemu-system-x86 package to run the QEMU driver tests", qemu.DefaultBinary)
	}
}

// newDriver returns a QEMU driver on a fresh directory (opts.Dir if set);
// every QEMU process of the directory is killed when the test ends. The
// accelerator is $ECSD_QEMU_ACCEL unless opts sets one.
func newDriver(tb testing.TB, opts qemu.Options) *qemu.Driver {
	tb.Helper()
	requireQEMU(tb)
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
		tb.Cleanup(func() { killMachines(tb, opts.Dir) })
	}
	if opts.Accel == "" {
		// ECSD_QEMU_ACCEL=tcg runs the tests as CI without KVM does.
		opts.Accel = os.Getenv("ECSD_QEMU_ACCEL")
	}
	d, err := qemu.New(opts)
	if err != nil {
		tb.Fatalf("qemu.New: %v", err)
	}
	return d
}

// killMachines kills every QEMU process whose command line names dir (their
// pid files are in it) and waits until they are gone.
func killMachines(tb testing.TB, dir string) {
	tb.Helper()
	for _, pid := range machinesIn(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	poll.For(tb, 10*time.Second, "the QEMU processes of "+dir+" to exit", func() bool { return len(machinesIn(dir)) == 0 })
}

// machinesIn returns the live (not zombie) processes whose command line
// names dir.
func machinesIn(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmd, []byte(dir+"/")) || !bytes.Contains(cmd, []byte("-pidfile")) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := bytes.LastIndexByte(stat, ')'); err != nil || i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func TestDriver(t *testing.T) {
	t.Parallel()
	drivertest.Run(t, func(t *testing.T) driver.Driver { return newDriver(t, qemu.Options{}) })
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	d := newDriver(t, qemu.Options{})
	if got := d.Name(); got != "qemu" {
		t.Errorf("Name() = %q, want qemu", got)
	}
	if got, want := d.Capabilities(), (driver.Capabilities{ColdResize: true, Persistent: true}); got != want {
		t.Errorf("Capabilities() = %+v, want %+v", got, want)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "kernel")
	if err := os.WriteFile(file, []byte("not really"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts qemu.Options
		want string
	}{
		{"missing binary", qemu.Options{Binary: "no-such-qemu-binary"}, "no-such-qemu-binary not found"},
		{"scale", qemu.Options{MemoryScale: -2}, "memory scale"},
		{"floor", qemu.Options{MinMemoryMB: 8}, "minimum guest memory"},
		{"overcommit", qemu.Options{Overcommit: -1}, "overcommit"},
		{"accel", qemu.Options{Accel: "hvf"}, "unknown accelerator"},
		{"initrd without kernel", qemu.Options{Initrd: file}, "needs a kernel"},
		{"missing kernel", qemu.Options{Kernel: filepath.Join(dir, "nope")}, "no such file"},
		{"kernel is a directory", qemu.Options{Kernel: dir}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = dir
			_, err := qemu.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%+v) = %v, want an error containing %q", tt.opts, err, tt.want)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	d := newDriver(t, qemu.Options{})
	ctx := t.Context()
	for _, id := range []string{"", "../escape", "a/b", ".hidden", strings.Repeat("x", 129)} {
		if err := d.Create(ctx, driver.Instance{ID: id, Shape: small}); err == nil {
			t.Errorf("Create(%q): got nil error", id)
		}
	}
	if err := d.Create(ctx, driver.Instance{ID: "i-zero"}); err == nil {
		t.Error("Create with a zero shape: got nil error")
	}
	if _, err := d.Inspect(ctx, "i-zero"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Inspect i-zero: got %v, want ErrNotFound", err)
	}
	mustCreate(t, d, "i-stop", small, false)
	if err := d.Resize(ctx, "i-stop", driver.Shape{FlavorID: "x", VCPUs: 0, RAMMB: 512}); err == nil {
		t.Error("Resize to zero vCPUs: got nil error")
	}
	requireState(t, d, "i-stop", driver.PowerStopped, small)
	if err := d.Recover(ctx, []driver.Instance{{ID: "i-ok", Shape: small}, {ID: "bad/id", Shape: small}}); err == nil {
		t.Error("Recover with a bad ID: got nil error")
	}
	if _, err := d.Inspect(ctx, "i-ok"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Inspect i-ok after a rejected Recover: got %v, want ErrNotFound", err)
	}
}

func mustCreate(tb testing.TB, d *qemu.Driver, id string, s driver.Shape, running bool) {
	tb.Helper()
	if err := d.Create(tb.Context(), driver.Instance{ID: id, Shape: s, Running: running}); err != nil {
		tb.Fatalf("Create %s: %v", id, err)
	}
}

func requireState(tb testing.TB, d *qemu.Driver, id, power string, s driver.Shape) {
	tb.Helper()
	got, err := d.Inspect(tb.Context(), id)
	if err != nil {
		tb.Fatalf("Inspect %s: %v", id, err)
	}
	if want := (driver.State{Power: power, Shape: s}); got != want {
		tb.Fatalf("Inspect %s = %+v, want %+v", id, got, want)
	}
}

func mustDescribe(tb testing.TB, d *qemu.Driver, id string) driver.Details {
	tb.Helper()
	det, err := d.Describe(tb.Context(), id)
	if err != nil {
		tb.Fatalf("Describe %s: %v", id, err)
	}
	return det
}

// requireMachine checks, through Describe (that is, QMP), that the machine
// of id runs with the vCPUs and the scaled memory of s, and returns its pid.
func requireMachine(tb testing.TB, d *qemu.Driver, id string, s driver.Shape) int {
	tb.Helper()
	det := mustDescribe(tb, d, id)
	if det.Status != "running" || det.VCPUs != s.VCPUs || det.MemoryMB != d.MemoryMB(s.RAMMB) {
		tb.Fatalf("Describe %s = status %q, %d vCPUs, %d MiB; want running, %d vCPUs, %d MiB",
			id, det.Status, det.VCPUs, det.MemoryMB, s.VCPUs, d.MemoryMB(s.RAMMB))
	}
	pid, err := strconv.Atoi(det.Extra["pid"])
	if err != nil || pid <= 0 {
		tb.Fatalf("Describe %s: pid %q", id, det.Extra["pid"])
	}
	return pid
}

func TestMemoryScale(t *testing.T) {
	t.Parallel()
	d := newDriver(t, qemu.Options{MemoryScale: 32, MinMemoryMB: 64})
	for _, tt := range []struct{ ram, want int }{{1024, 64}, {2048, 64}, {4096, 128}, {4097, 129}, {65536, 2048}} {
		if got := d.MemoryMB(tt.ram); got != tt.want {
			t.Errorf("MemoryMB(%d) = %d, want %d", tt.ram, got, tt.want)
		}
	}
	d = newDriver(t, qemu.Options{})
	if got := d.MemoryMB(4096); got != 256 {
		t.Errorf("default MemoryMB(4096) = %d, want 256", got)
	}
	if got := d.MemoryMB(1024); got != 128 {
		t.Errorf("default MemoryMB(1024) = %d, want the floor 128", got)
	}
}

// TestResizeChangesTheMachine resizes a stopped instance and checks over
// QMP that the relaunched machine has the new shape, and the old one after
// a resize back.
func TestResizeChangesTheMachine(t *testing.T) {
	t.Parallel()
	d := newDriver(t, qemu.Options{})
	ctx := t.Context()
	mustCreate(t, d, "i-1", small, true)
	requireMachine(t, d, "i-1", small)
	if err := d.Stop(ctx, "i-1", false); err != nil {
		t.Fatal(err)
	}
	if det := mustDescribe(t, d, "i-1"); det.Status != "stopped" || det.VCPUs != 0 || det.Extra["pid"] != "" {
		t.Fatalf("Describe of a stopped instance = %+v", det)
	}
	start := time.Now()
	if err := d.Resize(ctx, "i-1", large); err != nil {
		t.Fatal(err)
	}
	t.Logf("resize (proof launch) took %s", time.Since(start))
	start = time.Now()
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("start took %s", time.Since(start))
	requireMachine(t, d, "i-1", large)
	if err := d.Stop(ctx, "i-1", true); err != nil {
		t.Fatal(err)
	}
	if err := d.Resize(ctx, "i-1", small); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	requireMachine(t, d, "i-1", small)
}

// liar writes a QEMU wrapper that always gives the machine one vCPU,
// whatever it is asked for: a hypervisor that does not do what it is told.
func liar(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qemu-liar")
	script := `#!/bin/sh
n=$#
while [ $n -gt 0 ]; do
	a=$1; shift; n=$((n-1))
	case $a in -smp) shift; n=$((n-1)); set -- "$@" -smp 1 ;; *) set -- "$@" "$a" ;; esac
done
exec ` + qemu.DefaultBinary + ` "$@"
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestShapeMismatchFails checks that a machine that does not get the shape
// asked for fails the launch, leaves no process and changes nothing.
func TestShapeMismatchFails(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	dir := t.TempDir()
	t.Cleanup(func() { killMachines(t, dir) })
	d := newDriver(t, qemu.Options{Dir: dir, Binary: liar(t)})
	ctx := t.Context()

	err := d.Create(ctx, driver.Instance{ID: "i-big", Shape: large, Running: true})
	if err == nil || !strings.Contains(err.Error(), "has 1 vCPUs") {
		t.Fatalf("Create of a 2-vCPU machine on a lying QEMU: got %v, want a shape mismatch", err)
	}
	if _, err := d.Inspect(ctx, "i-big"); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("Inspect after a failed Create: got %v, want ErrNotFound", err)
	}

	mustCreate(t, d, "i-1", small, true) // one vCPU: the lie is the truth
	requireMachine(t, d, "i-1", small)
	if err := d.Stop(ctx, "i-1", true); err != nil {
		t.Fatal(err)
	}
	err = d.Resize(ctx, "i-1", large)
	if err == nil || !strings.Contains(err.Error(), "has 1 vCPUs") {
		t.Fatalf("Resize on a lying QEMU: got %v, want a shape mismatch", err)
	}
	requireState(t, d, "i-1", driver.PowerStopped, small)
	if pids := machinesIn(dir); len(pids) != 0 {
		t.Fatalf("QEMU processes left after failed launches: %v", pids)
	}
}

// TestRecover restarts the driver on the same directory, as a restarted
// ecsd does: running machines are re-attached (same process), machines of
// deleted servers are removed, a machine that died is reported stopped.
func TestRecover(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	dir := t.TempDir()
	t.Cleanup(func() { killMachines(t, dir) })
	ctx := t.Context()
	d1 := newDriver(t, qemu.Options{Dir: dir})
	mustCreate(t, d1, "i-run", small, true)
	mustCreate(t, d1, "i-stop", small, false)
	mustCreate(t, d1, "i-orphan", small, true)
	mustCreate(t, d1, "i-dies", small, true)
	runPID := requireMachine(t, d1, "i-run", small)
	orphanPID := requireMachine(t, d1, "i-orphan", small)
	diesPID := requireMachine(t, d1, "i-dies", small)
	// The machine dies while no ecsd watches.
	if err := syscall.Kill(diesPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	d2 := newDriver(t, qemu.Options{Dir: dir})
	err := d2.Recover(ctx, []driver.Instance{
		{ID: "i-run", Shape: small, Running: true},
		{ID: "i-stop", Shape: large, Running: false}, // resized while away
		{ID: "i-dies", Shape: small, Running: true},
		{ID: "i-new", Shape: small, Running: true}, // never seen
	})
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if pid := requireMachine(t, d2, "i-run", small); pid != runPID {
		t.Errorf("i-run: pid %d after Recover, want the same process %d", pid, runPID)
	}
	requireState(t, d2, "i-run", driver.PowerRunning, small)
	requireState(t, d2, "i-stop", driver.PowerStopped, large)
	requireState(t, d2, "i-dies", driver.PowerStopped, small)
	requireState(t, d2, "i-new", driver.PowerRunning, small)
	if _, err := os.Stat(filepath.Join(dir, "i-orphan")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the orphan's directory: %v, want it removed", err)
	}
	for _, pid := range machinesIn(dir) {
		if pid == orphanPID {
			t.Errorf("the orphan's machine (pid %d) still runs", pid)
		}
	}
	// Recovered machines are operated as before.
	if err := d2.Stop(ctx, "i-run", false); err != nil {
		t.Fatal(err)
	}
	if err := d2.Start(ctx, "i-stop"); err != nil {
		t.Fatal(err)
	}
	requireMachine(t, d2, "i-stop", large)
	if err := d2.Start(ctx, "i-dies"); err != nil {
		t.Fatal(err)
	}
	requireMachine(t, d2, "i-dies", small)
}

// TestRebootHardKeepsProcess checks that a HARD reboot resets the machine
// in place and a SOFT one relaunches it.
func TestReboot(t *testing.T) {
	t.Parallel()
	d := newDriver(t, qemu.Options{})
	ctx := t.Context()
	mustCreate(t, d, "i-1", small, true)
	pid := requireMachine(t, d, "i-1", small)
	if err := d.Reboot(ctx, "i-1", true); err != nil {
		t.Fatal(err)
	}
	if got := requireMachine(t, d, "i-1", small); got != pid {
		t.Errorf("pid after a HARD reboot = %d, want the same %d", got, pid)
	}
	if err := d.Reboot(ctx, "i-1", false); err != nil {
		t.Fatal(err)
	}
	if got := requireMachine(t, d, "i-1", small); got == pid {
		t.Errorf("pid after a SOFT reboot = %d, want a new process", got)
	}
}

// TestCloseOfTemporaryDriver checks that a driver without a directory of
// its own kills its machines and removes its files on Close.
func TestCloseOfTemporaryDriver(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	d, err := qemu.New(qemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := d.Dir()
	t.Cleanup(func() { killMachines(t, dir) })
	if d.Capabilities().Persistent {
		t.Error("a driver on a temporary directory says its instances are persistent")
	}
	mustCreate(t, d, "i-1", small, true)
	if n := len(machinesIn(dir)); n != 1 {
		t.Fatalf("%d machines run, want 1", n)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if pids := machinesIn(dir); len(pids) != 0 {
		t.Errorf("machines left after Close: %v", pids)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory after Close: %v, want it removed", err)
	}
}

// TestCancelledLaunchLeavesNothing cancels a Start while QEMU launches.
func TestCancelledLaunchLeavesNothing(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	dir := t.TempDir()
	t.Cleanup(func() { killMachines(t, dir) })
	d := newDriver(t, qemu.Options{Dir: dir})
	mustCreate(t, d, "i-1", small, false)
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if err := d.Start(ctx, "i-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start with an expired context: got %v, want DeadlineExceeded", err)
	}
	requireState(t, d, "i-1", driver.PowerStopped, small)
	if pids := machinesIn(dir); len(pids) != 0 {
		t.Fatalf("machines left: %v", pids)
	}
}
