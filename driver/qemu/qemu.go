package qemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/ecsd-dev/ecsd/driver"
)

// Name is the driver's registry name.
const Name = "qemu"

// Defaults of Options.
const (
	DefaultBinary      = "qemu-system-x86_64"
	DefaultMemoryScale = 16
	DefaultMinMemoryMB = 128
	DefaultOvercommit  = 4.0
	DefaultMachine     = "q35"
	DefaultAppend      = "console=ttyS0 quiet panic=-1"
	// DefaultPowerdownTimeout is how long a SOFT stop or reboot of a
	// machine that boots a kernel waits for the guest to power off.
	DefaultPowerdownTimeout = 10 * time.Second
)

var (
	errNotRunning = errors.New("instance is not running")
	errRunning    = errors.New("instance is running; stop it before a resize")
)

var (
	_ driver.Driver    = (*Driver)(nil)
	_ driver.Describer = (*Driver)(nil)
)

// Options configures a Driver. The zero value of every field but Dir means
// its default.
type Options struct {
	// Dir is where instances keep their state, sockets, pid files and
	// serial logs, one directory per instance (ecsd uses <data dir>/qemu).
	// Empty means a fresh temporary directory, which Close removes after
	// killing its machines: the instances then live no longer than the
	// driver.
	Dir string
	// Binary is the QEMU system emulator, a path or a name looked up in
	// PATH; default qemu-system-x86_64.
	Binary string
	// Kernel and Initrd, when Kernel is set, boot every machine into that
	// Linux kernel (-kernel, -initrd) with Append as its command line
	// (default DefaultAppend). Without Kernel a machine runs its firmware
	// and finds nothing to boot, which is enough to prove its shape.
	Kernel, Initrd, Append string
	// MemoryScale divides a flavor's RAM into the guest's memory (default
	// 16: a 4 GiB flavor gets 256 MiB), never below MinMemoryMB (default
	// 128 MiB, what a Debian kernel needs to boot).
	MemoryScale int
	MinMemoryMB int
	// Overcommit multiplies the machine's CPUs and memory into the capacity
	// Hosts reports (default 4).
	Overcommit float64
	// Accel is "kvm", "tcg" or "auto" (also ""; the default): KVM when
	// /dev/kvm can be opened, falling back to TCG if QEMU cannot use it;
	// TCG otherwise. Nested KVM is not always able to boot a kernel: force
	// tcg there.
	Accel string
	// Machine is QEMU's machine type (default q35).
	Machine string
	// PowerdownTimeout is how long a SOFT stop or reboot waits, after an
	// ACPI power-down request, for the guest to power off before the
	// machine is stopped by force. Zero means DefaultPowerdownTimeout when
	// a kernel boots and no wait at all without one (firmware alone does
	// not act on ACPI requests); negative means no wait.
	PowerdownTimeout time.Duration
	// Logger receives the driver's log; nil discards it.
	Logger *slog.Logger
}

// Driver runs every instance as a qemu-system process controlled over QMP.
// It is safe for concurrent use; calls for one instance are serialised.
type Driver struct {
	opts   Options
	dir    string
	temp   bool     // dir is the driver's own, removed by Close
	accels []string // -accel values, in order of preference
	logger *slog.Logger

	mu  sync.Mutex
	vms map[string]*vm
}

// vm is one instance. lock (a one-slot channel, so that waiting for it
// honours a context) guards rec and gone.
type vm struct {
	lock chan struct{}
	rec  *record
	gone bool // deleted: the entry is stale
}

func newVM(rec *record) *vm {
	v := &vm{lock: make(chan struct{}, 1), rec: rec}
	v.lock <- struct{}{} // returned locked
	return v
}

func (v *vm) unlock() { <-v.lock }

// New checks opts and returns a driver with no instances; Recover makes it
// aware of the instances of an earlier run.
func New(opts Options) (*Driver, error) {
	if opts.Binary == "" {
		opts.Binary = DefaultBinary
	}
	bin, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("qemu: %s not found (install Debian's qemu-system-x86 package, or set the QEMU binary): %w", opts.Binary, err)
	}
	opts.Binary = bin
	if opts.MemoryScale == 0 {
		opts.MemoryScale = DefaultMemoryScale
	}
	if opts.MemoryScale < 1 {
		return nil, fmt.Errorf("qemu: memory scale must be at least 1, not %d", opts.MemoryScale)
	}
	if opts.MinMemoryMB == 0 {
		opts.MinMemoryMB = DefaultMinMemoryMB
	}
	if opts.MinMemoryMB < 16 {
		return nil, fmt.Errorf("qemu: minimum guest memory must be at least 16 MiB, not %d", opts.MinMemoryMB)
	}
	if opts.Overcommit == 0 {
		opts.Overcommit = DefaultOvercommit
	}
	if opts.Overcommit < 0 || opts.Overcommit > 1000 {
		return nil, fmt.Errorf("qemu: overcommit must be positive (and sane), not %g", opts.Overcommit)
	}
	if opts.Machine == "" {
		opts.Machine = DefaultMachine
	}
	if opts.Append == "" {
		opts.Append = DefaultAppend
	}
	if opts.Initrd != "" && opts.Kernel == "" {
		return nil, errors.New("qemu: an initrd needs a kernel")
	}
	for _, f := range []string{opts.Kernel, opts.Initrd} {
		if f == "" {
			continue
		}
		if fi, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		} else if fi.IsDir() {
			return nil, fmt.Errorf("qemu: %s is a directory, not a file", f)
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		}
		if f == opts.Kernel {
			opts.Kernel = abs
		} else {
			opts.Initrd = abs
		}
	}
	if opts.PowerdownTimeout == 0 && opts.Kernel != "" {
		opts.PowerdownTimeout = DefaultPowerdownTimeout
	}
	d := &Driver{opts: opts, logger: opts.Logger, vms: map[string]*vm{}}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	switch opts.Accel {
	case "", "auto":
		d.accels = []string{"tcg"}
		if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
			f.Close()
			d.accels = []string{"kvm", "tcg"}
		}
	case "kvm", "tcg":
		d.accels = []string{opts.Accel}
	default:
		return nil, fmt.Errorf("qemu: unknown accelerator %q: want auto, kvm or tcg", opts.Accel)
	}
	if opts.Dir == "" {
		if d.dir, err = os.MkdirTemp("", "ecsd-qemu-"); err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		}
		d.temp = true
	} else {
		if d.dir, err = filepath.Abs(opts.Dir); err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		}
		if err := os.MkdirAll(d.dir, 0o700); err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		}
	}
	return d, nil
}

// Name implements driver.Driver.
func (d *Driver) Name() string { return Name }

// Capabilities implements driver.Driver: cold resize, and instances that
// outlive ecsd.
func (d *Driver) Capabilities() driver.Capabilities {
	return driver.Capabilities{ColdResize: true, Persistent: !d.temp}
}

// Dir returns the directory of the instances' state.
func (d *Driver) Dir() string { return d.dir }

// MemoryMB returns the guest memory, in MiB, of a flavor with ramMB of RAM.
func (d *Driver) MemoryMB(ramMB int) int { return d.memoryMB(ramMB) }

// Close releases the driver. With a directory of its own (Options.Dir
// empty) it kills every machine and removes the directory; otherwise the
// machines keep running for the next ecsd to re-attach.
func (d *Driver) Close() error {
	if !d.temp {
		return nil
	}
	d.mu.Lock()
	vms := d.vms
	d.vms = map[string]*vm{}
	d.mu.Unlock()
	var errs []error
	for _, v := range vms {
		v.lock <- struct{}{}
		if !v.gone {
			errs = append(errs, d.terminate(context.Background(), v.rec.PID, v.rec.Socket))
			_ = os.Remove(v.rec.Socket)
			v.gone = true
		}
		v.unlock()
	}
	errs = append(errs, os.RemoveAll(d.dir))
	return errors.Join(errs...)
}

// idRE is what an instance ID may look like: it names a directory.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("qemu: invalid instance ID %q: want 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

func checkShape(s driver.Shape) error {
	if s.VCPUs < 1 || s.VCPUs > 255 {
		return fmt.Errorf("qemu: invalid shape %+v: vCPUs must be 1-255", s)
	}
	if s.RAMMB < 1 {
		return fmt.Errorf("qemu: invalid shape %+v: RAM must be positive", s)
	}
	return nil
}

func notFound(id string) error { return fmt.Errorf("qemu: instance %s: %w", id, driver.ErrNotFound) }

// acquire returns instance id locked, or ErrNotFound.
func (d *Driver) acquire(ctx context.Context, id string) (*vm, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	v := d.vms[id]
	d.mu.Unlock()
	if v == nil {
		return nil, notFound(id)
	}
	select {
	case v.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if v.gone {
		v.unlock()
		return nil, notFound(id)
	}
	if err := ctx.Err(); err != nil {
		v.unlock()
		return nil, err
	}
	return v, nil
}

// running reports whether v's machine runs, noting in its record a
// machine that died behind ecsd's back.
func (d *Driver) running(v *vm) bool {
	rec := v.rec
	if rec.PID != 0 && alive(rec.PID, rec.Socket) {
		return true
	}
	if rec.PID != 0 || rec.Running {
		d.logger.Warn("qemu: machine stopped outside ecsd", "id", rec.ID, "pid", rec.PID)
		rec.PID, rec.MemoryMB, rec.Running = 0, 0, false
		_ = os.Remove(rec.Socket)
		if err := d.save(rec); err != nil {
			d.logger.Error("qemu: save state", "id", rec.ID, "err", err)
		}
	}
	return false
}

// Create implements driver.Driver.
func (d *Driver) Create(ctx context.Context, inst driver.Instance) error {
	if err := checkID(inst.ID); err != nil {
		return err
	}
	if err := checkShape(inst.Shape); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	if _, ok := d.vms[inst.ID]; ok {
		d.mu.Unlock()
		v, err := d.acquire(ctx, inst.ID)
		if errors.Is(err, driver.ErrNotFound) {
			return d.Create(ctx, inst) // deleted meanwhile
		}
		if err != nil {
			return err
		}
		v.unlock()
		return nil
	}
	rec := &record{ID: inst.ID, Name: inst.Name, ImageID: inst.ImageID, HostID: inst.HostID,
		Shape: shapeOf(inst.Shape), Socket: d.socketPath(inst.ID)}
	v := newVM(rec)
	d.vms[inst.ID] = v
	d.mu.Unlock()
	defer v.unlock()

	err := d.create(ctx, v, inst.Running)
	if err != nil {
		v.gone = true
		d.mu.Lock()
		delete(d.vms, inst.ID)
		d.mu.Unlock()
		_ = os.RemoveAll(d.instanceDir(inst.ID))
	}
	return err
}

// create makes v's directory, clearing what an earlier, forgotten
// instance of the same ID left there, and launches the machine if running.
func (d *Driver) create(ctx context.Context, v *vm, running bool) error {
	dir := d.instanceDir(v.rec.ID)
	if old, err := load(dir); err == nil {
		d.logger.Warn("qemu: removing a stale instance", "id", old.ID, "pid", old.PID)
		if err := d.terminate(ctx, old.PID, old.Socket); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	if running {
		if _, err := d.launch(ctx, v.rec, false); err != nil {
			return err
		}
		v.rec.Running = true
	}
	return d.save(v.rec)
}

// Start implements driver.Driver: it launches the machine with the
// instance's shape and checks the shape over QMP.
func (d *Driver) Start(ctx context.Context, id string) error {
	v, err := d.acquire(ctx, id)
	if err != nil {
		return err
	}
	defer v.unlock()
	return d.start(ctx, v)
}

func (d *Driver) start(ctx context.Context, v *vm) error {
	if d.running(v) {
		return nil
	}
	if _, err := d.launch(ctx, v.rec, false); err != nil {
		return err
	}
	v.rec.Running = true
	if err := d.save(v.rec); err != nil {
		_ = d.terminate(context.Background(), v.rec.PID, v.rec.Socket)
		v.rec.PID, v.rec.Running = 0, false
		return err
	}
	return nil
}

// Stop implements driver.Driver. SOFT (hard false) sends an ACPI
// power-down request and waits up to the power-down timeout for the guest
// to power off, then stops the machine by force; HARD stops it at once.
func (d *Driver) Stop(ctx context.Context, id string, hard bool) error {
	v, err := d.acquire(ctx, id)
	if err != nil {
		return err
	}
	defer v.unlock()
	return d.stop(ctx, v, hard)
}

func (d *Driver) stop(ctx context.Context, v *vm, hard bool) error {
	rec := v.rec
	if !d.running(v) {
		return nil
	}
	if !hard && d.opts.PowerdownTimeout > 0 {
		if err := d.powerdown(ctx, rec); err != nil {
			return err
		}
	}
	if err := d.terminate(ctx, rec.PID, rec.Socket); err != nil {
		return fmt.Errorf("qemu: stop %s: %w", rec.ID, err)
	}
	_ = os.Remove(rec.Socket)
	_ = os.Remove(filepath.Join(d.instanceDir(rec.ID), pidFile))
	rec.PID, rec.MemoryMB, rec.Running = 0, 0, false
	return d.save(rec)
}

// powerdown asks the guest to power off and waits for the machine to exit,
// at most the power-down timeout. A guest that does not comply is not an
// error: the caller then stops the machine by force.
func (d *Driver) powerdown(ctx context.Context, rec *record) error {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	q, err := dialQMP(qctx, rec.Socket)
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("qemu: stop %s: %w", rec.ID, err)
	}
	err = q.execute("system_powerdown", nil, nil)
	q.Close()
	cancel()
	if err != nil {
		return fmt.Errorf("qemu: stop %s: %w", rec.ID, err)
	}
	if !waitExit(ctx, rec.PID, rec.Socket, d.opts.PowerdownTimeout) {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.logger.Info("qemu: guest ignored the power-down request; stopping it by force",
			"id", rec.ID, "timeout", d.opts.PowerdownTimeout)
	}
	return nil
}

// Reboot implements driver.Driver. HARD resets the machine (QMP
// system_reset); SOFT stops it as a SOFT Stop does and launches it again,
// so that a guest that honours ACPI shuts down cleanly.
func (d *Driver) Reboot(ctx context.Context, id string, hard bool) error {
	v, err := d.acquire(ctx, id)
	if err != nil {
		return err
	}
	defer v.unlock()
	if !d.running(v) {
		return fmt.Errorf("qemu: reboot %s: %w", id, errNotRunning)
	}
	if !hard {
		if err := d.stop(ctx, v, false); err != nil {
			return err
		}
		return d.start(ctx, v)
	}
	q, err := dialQMP(ctx, v.rec.Socket)
	if err != nil {
		return fmt.Errorf("qemu: reboot %s: %w", id, err)
	}
	defer q.Close()
	if err := q.execute("system_reset", nil, nil); err != nil {
		return fmt.Errorf("qemu: reboot %s: %w", id, err)
	}
	return nil
}

// Resize implements driver.Driver. A stopped instance gets the new shape
// only once it is proven: the machine is launched with it, paused (-S),
// checked over QMP and quit. The next Start launches it with the shape and
// checks it again. A running instance cannot be resized.
func (d *Driver) Resize(ctx context.Context, id string, s driver.Shape) error {
	v, err := d.acquire(ctx, id)
	if err != nil {
		return err
	}
	defer v.unlock()
	if shapeOf(s) == v.rec.Shape {
		return nil
	}
	if err := checkShape(s); err != nil {
		return err
	}
	if d.running(v) {
		return fmt.Errorf("qemu: resize %s: %w", id, errRunning)
	}
	trial := *v.rec
	trial.Shape = shapeOf(s)
	if _, err := d.launch(ctx, &trial, true); err != nil {
		return fmt.Errorf("qemu: resize %s to %d vCPUs, %d MiB: %w", id, s.VCPUs, s.RAMMB, err)
	}
	old := v.rec.Shape
	v.rec.Shape = trial.Shape
	if err := d.save(v.rec); err != nil {
		v.rec.Shape = old
		return err
	}
	return nil
}

// Delete implements driver.Driver: it kills the machine and removes the
// instance's files.
func (d *Driver) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v, err := d.acquire(ctx, id)
	if errors.Is(err, driver.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer v.unlock()
	if err := d.terminate(ctx, v.rec.PID, v.rec.Socket); err != nil {
		return fmt.Errorf("qemu: delete %s: %w", id, err)
	}
	_ = os.Remove(v.rec.Socket)
	if err := os.RemoveAll(d.instanceDir(id)); err != nil {
		return fmt.Errorf("qemu: delete %s: %w", id, err)
	}
	v.gone = true
	d.mu.Lock()
	if d.vms[id] == v {
		delete(d.vms, id)
	}
	d.mu.Unlock()
	return nil
}

// Inspect implements driver.Driver. The power state is the process's: a
// machine that died is reported stopped.
func (d *Driver) Inspect(ctx context.Context, id string) (driver.State, error) {
	v, err := d.acquire(ctx, id)
	if err != nil {
		return driver.State{}, err
	}
	defer v.unlock()
	st := driver.State{Power: driver.PowerStopped, Shape: v.rec.Shape.shape()}
	if d.running(v) {
		st.Power = driver.PowerRunning
	}
	return st, nil
}

// Describe implements driver.Describer: QEMU's own view of a running
// machine (QMP run state, vCPUs, memory), the serial console's tail and
// the process.
func (d *Driver) Describe(ctx context.Context, id string) (driver.Details, error) {
	v, err := d.acquire(ctx, id)
	if err != nil {
		return driver.Details{}, err
	}
	defer v.unlock()
	rec := v.rec
	det := driver.Details{
		Status:     "stopped",
		ConsoleLog: tail(filepath.Join(d.instanceDir(id), serialFile), 8<<10),
		Extra: map[string]string{
			"dir":          d.instanceDir(id),
			"qmp_socket":   rec.Socket,
			"memory_scale": fmt.Sprintf("1/%d (at least %d MiB)", d.opts.MemoryScale, d.opts.MinMemoryMB),
			"boot":         "firmware only",
		},
	}
	if d.opts.Kernel != "" {
		det.Extra["boot"] = "kernel " + d.opts.Kernel
	}
	if !d.running(v) {
		return det, nil
	}
	det.Extra["pid"] = strconv.Itoa(rec.PID)
	q, err := dialQMP(ctx, rec.Socket)
	if err != nil {
		return det, fmt.Errorf("qemu: describe %s: %w", id, err)
	}
	defer q.Close()
	info, err := q.query()
	if err != nil {
		return det, fmt.Errorf("qemu: describe %s: %w", id, err)
	}
	det.Status, det.VCPUs, det.MemoryMB = info.Status, info.VCPUs, info.MemoryMB
	det.Extra["accelerator"] = "tcg"
	if info.KVM {
		det.Extra["accelerator"] = "kvm"
	}
	return det, nil
}

// Recover implements driver.Driver. For each instance of insts it finds
// the machine an earlier ecsd left in its directory: a live one is
// re-attached (its pid file and command line identify it), a dead one is
// reported stopped, whatever insts says (the server stopped outside ecsd).
// An instance with no directory is created as Instance.Running asks.
// Machines left in the directory by an earlier ecsd for instances that are
// not in insts (their servers were deleted meanwhile) are killed and their
// files removed; instances this driver already manages are kept, so that a
// call with some instances only leaves the others alone. An instance that
// cannot be launched is logged and left stopped.
func (d *Driver) Recover(ctx context.Context, insts []driver.Instance) error {
	for _, inst := range insts {
		if err := checkID(inst.ID); err != nil {
			return err
		}
		if err := checkShape(inst.Shape); err != nil {
			return fmt.Errorf("qemu: recover %s: %w", inst.ID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	want := make(map[string]driver.Instance, len(insts))
	for _, inst := range insts {
		want[inst.ID] = inst
	}

	// Orphans: on disk or in memory, but no longer in the store.
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("qemu: recover: %w", err)
	}
	for _, e := range entries {
		if _, ok := want[e.Name()]; ok || !e.IsDir() {
			continue
		}
		d.mu.Lock()
		_, known := d.vms[e.Name()]
		d.mu.Unlock()
		if known {
			continue // this driver's own: only Delete removes it
		}
		if err := d.removeOrphan(ctx, e.Name()); err != nil {
			return err
		}
	}

	var errs []error
	for _, inst := range insts {
		if err := d.recover(ctx, inst); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		d.logger.Error("qemu: some instances could not be recovered; they are stopped", "err", errors.Join(errs...))
	}
	return nil
}

// removeOrphan kills the machine a directory of no known instance holds
// and removes the directory.
func (d *Driver) removeOrphan(ctx context.Context, name string) error {
	dir := d.instanceDir(name)
	if rec, err := load(dir); err == nil {
		d.logger.Info("qemu: removing the machine of a deleted server", "id", rec.ID, "pid", rec.PID)
		if err := d.terminate(ctx, rec.PID, rec.Socket); err != nil {
			return fmt.Errorf("qemu: recover: %w", err)
		}
		_ = os.Remove(rec.Socket)
	} else if !errors.Is(err, os.ErrNotExist) {
		d.logger.Warn("qemu: removing an unreadable instance directory", "dir", dir, "err", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("qemu: recover: %w", err)
	}
	return nil
}

// recover brings one instance of the store under the driver's management.
func (d *Driver) recover(ctx context.Context, inst driver.Instance) error {
	d.mu.Lock()
	v, known := d.vms[inst.ID]
	if !known {
		v = newVM(nil)
		d.vms[inst.ID] = v
	}
	d.mu.Unlock()
	if known {
		var err error
		if v, err = d.acquire(ctx, inst.ID); errors.Is(err, driver.ErrNotFound) {
			return d.recover(ctx, inst)
		} else if err != nil {
			return err
		}
	}
	defer v.unlock()

	if v.rec == nil {
		rec, err := load(d.instanceDir(inst.ID))
		switch {
		case err == nil:
			v.rec = rec
		case !errors.Is(err, os.ErrNotExist):
			d.logger.Warn("qemu: unreadable instance state; starting afresh", "id", inst.ID, "err", err)
			fallthrough
		default:
			// Never seen (or its state is lost): make it as asked.
			v.rec = &record{ID: inst.ID, Name: inst.Name, ImageID: inst.ImageID, HostID: inst.HostID,
				Shape: shapeOf(inst.Shape), Socket: d.socketPath(inst.ID)}
			if err := d.create(ctx, v, inst.Running); err != nil {
				v.rec.PID, v.rec.Running = 0, false
				if mkErr := os.MkdirAll(d.instanceDir(inst.ID), 0o700); mkErr == nil {
					_ = d.save(v.rec)
				}
				return fmt.Errorf("qemu: recover %s: %w", inst.ID, err)
			}
			return nil
		}
	}
	rec := v.rec
	rec.Name, rec.ImageID, rec.HostID = inst.Name, inst.ImageID, inst.HostID
	if d.running(v) {
		if rec.Shape != shapeOf(inst.Shape) {
			d.logger.Warn("qemu: a running machine's shape differs from its server's flavor; keeping the machine's",
				"id", rec.ID, "machine", rec.Shape, "flavor", inst.Shape)
		}
		d.logger.Info("qemu: re-attached a running machine", "id", rec.ID, "pid", rec.PID)
		rec.Running = true
	} else {
		// A stopped machine takes its server's shape; the next launch
		// checks it.
		rec.Shape = shapeOf(inst.Shape)
	}
	return d.save(rec)
}
