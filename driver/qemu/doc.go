// Package qemu is the driver in which every ECS server is a real virtual
// machine: a qemu-system-x86_64 process (KVM when /dev/kvm is usable, TCG
// otherwise) controlled over QMP on a unix socket.
//
// Each instance has a directory under Options.Dir (ecsd uses <data
// dir>/qemu/<server ID>) holding state.json (its shape and last known
// power state and process), the pid file, QEMU's launch log, the serial
// console log and, when the path is short enough, the QMP socket (else the
// socket lives under $TMPDIR/ecsd-qmp-*). QEMU runs daemonized in its own
// session, so machines outlive ecsd: after a restart, even after kill -9,
// Recover re-attaches to them through their pid files and sockets.
//
// The machine's shape is the flavor's: -smp N,maxcpus=N and the flavor's
// RAM divided by Options.MemoryScale (default 16) with a floor of
// Options.MinMemoryMB (default 128 MiB), so that dozens of servers fit on
// a laptop. Every launch is checked over QMP (query-cpus-fast,
// query-memory-size-summary) and fails unless the machine has exactly that
// shape.
//
// Operations:
//   - Start launches the machine; Create launches it when asked to run.
//   - Stop SOFT sends an ACPI power-down (system_powerdown) and waits up to
//     Options.PowerdownTimeout for the guest to power off, then quits;
//     HARD quits at once. QEMU that ignores quit is killed.
//   - Reboot HARD is QMP system_reset; SOFT is a SOFT stop and a launch.
//   - Resize is cold: a running machine cannot be resized. A stopped one
//     gets the new shape once it is proven: QEMU is launched with it,
//     paused (-S), checked over QMP and quit; the next Start launches and
//     checks it again. A failed proof leaves the old shape.
//   - Delete kills the machine and removes its directory.
//   - Describe (driver.Describer) reports QMP's run state, the vCPUs and
//     memory QEMU reports, the tail of the serial log and the pid.
//
// Hosts turns this machine's CPUs and memory, times an overcommit ratio,
// into the hosts ecsd's capacity checks place servers on.
//
// docs/drivers.md describes the driver for operators.
package qemu
