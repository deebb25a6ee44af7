package qemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ecsd-dev/ecsd/driver"
)

// Files of an instance, in its directory <Dir>/<instance ID>/.
const (
	stateFile  = "state.json" // the record
	pidFile    = "qemu.pid"   // written by QEMU (-pidfile)
	serialFile = "serial.log" // the guest's serial console
	launchLog  = "qemu.log"   // QEMU's own messages at launch
	socketFile = "qmp.sock"   // the QMP monitor, unless the path is too long
)

// maxSerialLog is the size beyond which the serial log is emptied at the
// next launch, so that a machine rebooted often does not fill the disk.
const maxSerialLog = 1 << 20

// maxSocketPath is the longest unix socket path Linux accepts (108 bytes
// with the terminating NUL), with a margin.
const maxSocketPath = 100

// record is the state of an instance kept on disk (state.json), so that a
// restarted ecsd finds its machines again.
type record struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	ImageID string `json:"image_id,omitempty"`
	HostID  string `json:"host_id,omitempty"`
	// Shape is the instance's shape: the one the running machine was
	// launched and checked with, or the one the next launch uses.
	Shape shape `json:"shape"`
	// Running is the power state ecsd last left the machine in; a machine
	// found dead while Running is true stopped behind ecsd's back.
	Running bool `json:"running"`
	// PID is the QEMU process of the running machine, 0 when stopped.
	PID int `json:"pid,omitempty"`
	// Socket is the QMP socket's path.
	Socket string `json:"socket"`
	// MemoryMB is the guest memory of the running machine.
	MemoryMB int       `json:"memory_mb,omitempty"`
	Updated  time.Time `json:"updated"`
}

// shape is driver.Shape with JSON names.
type shape struct {
	FlavorID string `json:"flavor_id"`
	VCPUs    int    `json:"vcpus"`
	RAMMB    int    `json:"ram_mb"`
}

func shapeOf(s driver.Shape) shape {
	return shape{FlavorID: s.FlavorID, VCPUs: s.VCPUs, RAMMB: s.RAMMB}
}
func (s shape) shape() driver.Shape {
	return driver.Shape{FlavorID: s.FlavorID, VCPUs: s.VCPUs, RAMMB: s.RAMMB}
}

// instanceDir returns the directory of instance id.
func (d *Driver) instanceDir(id string) string { return filepath.Join(d.dir, id) }

// socketPath returns where the QMP socket of instance id lives: in its
// directory, or, when that path is too long for a unix socket, in a short
// directory under the system's temporary directory named after a hash of
// the data directory.
func (d *Driver) socketPath(id string) string {
	p := filepath.Join(d.instanceDir(id), socketFile)
	if len(p) <= maxSocketPath {
		return p
	}
	h := sha256.Sum256([]byte(d.dir))
	hi := sha256.Sum256([]byte(id))
	return filepath.Join(os.TempDir(), "ecsd-qmp-"+hex.EncodeToString(h[:6]), hex.EncodeToString(hi[:8])+".sock")
}

// save writes rec to its instance directory atomically.
func (d *Driver) save(rec *record) error {
	rec.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	dir := d.instanceDir(rec.ID)
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("qemu: save state of %s: %w", rec.ID, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("qemu: save state of %s: %w", rec.ID, err)
	}
	return nil
}

// load reads the record of the instance in directory dir.
func load(dir string) (*record, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("qemu: %s: %w", filepath.Join(dir, stateFile), err)
	}
	if rec.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("qemu: %s: id %q does not match its directory", filepath.Join(dir, stateFile), rec.ID)
	}
	return &rec, nil
}

// alive reports whether pid is a live (not zombie) QEMU process of the
// machine whose QMP socket is socket: the socket path on its command line
// guards against a recycled pid.
func alive(pid int, socket string) bool {
	if pid <= 0 {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain them.
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return bytes.Contains(cmdline, []byte("path="+escapeOpt(socket)+",server=on"))
}

// waitExit waits until the process is gone, for at most timeout or until
// ctx is done; it reports whether the process is gone.
func waitExit(ctx context.Context, pid int, socket string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	delay := 2 * time.Millisecond
	for alive(pid, socket) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		delay = min(2*delay, 50*time.Millisecond)
	}
	return true
}

// readPID reads the pid file QEMU wrote in dir; 0 if there is none.
func readPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// memoryMB is the guest memory, in MiB, of a flavor with ramMB of RAM.
func (d *Driver) memoryMB(ramMB int) int {
	m := (ramMB + d.opts.MemoryScale - 1) / d.opts.MemoryScale
	return max(m, d.opts.MinMemoryMB)
}

// args returns QEMU's command line for rec's shape; paused starts the
// machine with its CPUs stopped (-S).
func (d *Driver) args(rec *record, memMB int, paused bool) []string {
	dir := d.instanceDir(rec.ID)
	a := []string{
		"-name", "ecsd-" + rec.ID + ",process=ecsd-vm",
		"-machine", d.opts.Machine,
	}
	for _, acc := range d.accels {
		a = append(a, "-accel", acc)
	}
	a = append(a,
		"-nodefaults", "-no-user-config", "-display", "none",
		"-smp", fmt.Sprintf("%d,maxcpus=%d", rec.Shape.VCPUs, rec.Shape.VCPUs),
		"-m", strconv.Itoa(memMB),
		"-chardev", "socket,id=qmp0,path="+escapeOpt(rec.Socket)+",server=on,wait=off",
		"-mon", "chardev=qmp0,mode=control",
		"-chardev", "file,id=serial0,path="+escapeOpt(filepath.Join(dir, serialFile))+",append=on",
		"-serial", "chardev:serial0",
		"-pidfile", filepath.Join(dir, pidFile),
		"-daemonize",
	)
	if d.opts.Kernel != "" {
		a = append(a, "-kernel", d.opts.Kernel, "-append", d.opts.Append)
		if d.opts.Initrd != "" {
			a = append(a, "-initrd", d.opts.Initrd)
		}
	}
	if paused {
		a = append(a, "-S")
	}
	return a
}

// escapeOpt escapes a value of a QEMU option list (commas are doubled).
func escapeOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// launch starts the machine of rec with its shape and checks over QMP that
// it has that shape. Unless paused, the machine runs and rec records its
// process (the caller saves rec). With paused, the machine is launched with
// its CPUs stopped, checked and quit again: a proof that the shape boots.
// On failure no process is left behind.
func (d *Driver) launch(ctx context.Context, rec *record, paused bool) (machineInfo, error) {
	dir := d.instanceDir(rec.ID)
	rec.Socket = d.socketPath(rec.ID)
	if err := os.MkdirAll(filepath.Dir(rec.Socket), 0o700); err != nil {
		return machineInfo{}, fmt.Errorf("qemu: %w", err)
	}
	_ = os.Remove(rec.Socket)
	_ = os.Remove(filepath.Join(dir, pidFile))
	if fi, err := os.Stat(filepath.Join(dir, serialFile)); err == nil && fi.Size() > maxSerialLog {
		_ = os.Truncate(filepath.Join(dir, serialFile), 0)
	}
	memMB := d.memoryMB(rec.Shape.RAMMB)
	logf, err := os.Create(filepath.Join(dir, launchLog))
	if err != nil {
		return machineInfo{}, fmt.Errorf("qemu: %w", err)
	}
	defer logf.Close()

	// With -daemonize the command returns once the machine is set up and
	// its monitor listens; the machine runs on in its own session, so
	// that it outlives ecsd.
	cmd := exec.CommandContext(ctx, d.opts.Binary, d.args(rec, memMB, paused)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = time.Second
	start := time.Now()
	runErr := cmd.Run()
	pid := readPID(dir)
	fail := func(err error) (machineInfo, error) {
		d.kill(pid, rec.Socket)
		_ = os.Remove(rec.Socket)
		_ = os.Remove(filepath.Join(dir, pidFile))
		if ctx.Err() != nil {
			return machineInfo{}, fmt.Errorf("qemu: launch %s: %w (%v)", rec.ID, ctx.Err(), err)
		}
		return machineInfo{}, fmt.Errorf("qemu: launch %s: %w", rec.ID, err)
	}
	if runErr != nil {
		out, _ := os.ReadFile(filepath.Join(dir, launchLog))
		return fail(fmt.Errorf("%s: %v: %s", d.opts.Binary, runErr, strings.TrimSpace(lastLines(string(out), 5))))
	}
	if pid == 0 {
		return fail(errors.New("QEMU wrote no pid file"))
	}
	q, err := dialQMP(ctx, rec.Socket)
	if err != nil {
		return fail(err)
	}
	defer q.Close()
	info, err := q.query()
	if err != nil {
		return fail(err)
	}
	if info.VCPUs != rec.Shape.VCPUs || info.MemoryMB != memMB {
		return fail(fmt.Errorf("the machine has %d vCPUs and %d MiB, want %d vCPUs and %d MiB",
			info.VCPUs, info.MemoryMB, rec.Shape.VCPUs, memMB))
	}
	d.logger.Debug("qemu: launched", "id", rec.ID, "pid", pid, "vcpus", info.VCPUs, "memory_mb", info.MemoryMB,
		"kvm", info.KVM, "paused", paused, "took", time.Since(start))
	if paused {
		d.quit(ctx, q, pid, rec.Socket)
		_ = os.Remove(rec.Socket)
		_ = os.Remove(filepath.Join(dir, pidFile))
		return info, nil
	}
	rec.PID, rec.MemoryMB = pid, memMB
	return info, nil
}

// quit asks QEMU to exit through the open session q and waits for it,
// killing it if it lingers.
func (d *Driver) quit(ctx context.Context, q *qmpConn, pid int, socket string) {
	_ = q.execute("quit", nil, nil)
	if !waitExit(ctx, pid, socket, 10*time.Second) {
		d.kill(pid, socket)
	}
}

// terminate stops the machine now: QMP quit, then SIGKILL if QEMU does not
// exit. It returns once the process is gone (or ctx is done).
func (d *Driver) terminate(ctx context.Context, pid int, socket string) error {
	if !alive(pid, socket) {
		return nil
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if q, err := dialQMP(qctx, socket); err == nil {
		d.quit(qctx, q, pid, socket)
		q.Close()
	}
	if alive(pid, socket) {
		d.kill(pid, socket)
	}
	if alive(pid, socket) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("qemu: process %d does not exit", pid)
	}
	return nil
}

// kill sends SIGKILL to the machine's process, if it is still the
// machine's, and waits for it to go.
func (d *Driver) kill(pid int, socket string) {
	if !alive(pid, socket) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitExit(context.Background(), pid, socket, 10*time.Second)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tail returns the last limit bytes of the file at path, starting at a
// line boundary, with carriage returns removed; "" if it cannot be read.
func tail(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, fi.Size()-limit)
	buf := make([]byte, fi.Size()-off)
	n, _ := f.ReadAt(buf, off)
	buf = buf[:n]
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return strings.ReplaceAll(string(buf), "\r", "")
}
