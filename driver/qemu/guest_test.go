package qemu_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// guestInit is the init of the test guest: it prints what the guest sees of
// its machine on the serial console, then idles.
const guestInit = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "ecsd-guest: cpus=$(/bin/busybox nproc) memtotal_kb=$(/bin/busybox awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
while true; do /bin/busybox sleep 3600; done
`

// guestLine matches the line guestInit prints.
var guestLine = regexp.MustCompile(`ecsd-guest: cpus=(\d+) memtotal_kb=(\d+)`)

// guestReport returns the CPU count and memory the last guest boot
// reported in a console log; ok is false if none did.
func guestReport(console string) (cpus, memKB int, ok bool) {
	all := guestLine.FindAllStringSubmatch(console, -1)
	if len(all) == 0 {
		return 0, 0, false
	}
	m := all[len(all)-1]
	cpus, _ = strconv.Atoi(m[1])
	memKB, _ = strconv.Atoi(m[2])
	return cpus, memKB, true
}

// guestKernel returns the kernel of $ECSD_QEMU_KERNEL and an initrd built
// for it from busybox, or skips the test.
func guestKernel(t *testing.T) (kernel, initrd string) {
	t.Helper()
	kernel = os.Getenv("ECSD_QEMU_KERNEL")
	if kernel == "" {
		t.Skip("ECSD_QEMU_KERNEL is not set: set it to a Linux kernel (export ECSD_QEMU_KERNEL=$(.ci/qemu-kernel)) to boot a guest")
	}
	if _, err := os.Stat(kernel); err != nil {
		t.Fatalf("ECSD_QEMU_KERNEL: %v", err)
	}
	return kernel, buildInitrd(t)
}

// buildInitrd writes an initramfs (an uncompressed newc cpio archive) with
// a static busybox and guestInit, and returns its path.
func buildInitrd(t *testing.T) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not found: install Debian's busybox-static package to boot a guest")
	}
	if out, _ := exec.Command("file", "-L", bb).Output(); bytes.Contains(out, []byte("dynamically linked")) {
		t.Skipf("%s is dynamically linked: install Debian's busybox-static package to boot a guest", bb)
	}
	busybox, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	var w cpioWriter
	w.dir("bin")
	w.dir("dev")
	w.dir("proc")
	w.dir("sys")
	w.node("dev/console", 0o20600, 5, 1)
	w.file("bin/busybox", 0o755, busybox)
	w.file("init", 0o755, []byte(guestInit))
	path := filepath.Join(t.TempDir(), "initrd.cpio")
	if err := os.WriteFile(path, w.close(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cpioWriter writes the "newc" cpio format the kernel unpacks as its
// initramfs.
type cpioWriter struct {
	buf bytes.Buffer
	ino int
}

func (w *cpioWriter) dir(name string) { w.entry(name, 0o40755, nil, 0, 0) }
func (w *cpioWriter) file(name string, perm int, data []byte) {
	w.entry(name, 0o100000|perm, data, 0, 0)
}
func (w *cpioWriter) node(name string, mode, major, minor int) {
	w.entry(name, mode, nil, major, minor)
}

func (w *cpioWriter) entry(name string, mode int, data []byte, rmajor, rminor int) {
	w.ino++
	nlink := 1
	if mode&0o40000 != 0 {
		nlink = 2
	}
	fmt.Fprintf(&w.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		w.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	w.buf.WriteString(name)
	w.buf.WriteByte(0)
	w.pad()
	w.buf.Write(data)
	w.pad()
}

func (w *cpioWriter) pad() {
	for w.buf.Len()%4 != 0 {
		w.buf.WriteByte(0)
	}
}

func (w *cpioWriter) close() []byte {
	w.ino = -1
	w.entry("TRAILER!!!", 0, nil, 0, 0)
	return w.buf.Bytes()
}
