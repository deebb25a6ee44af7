// Package ecsdproc runs the ecsd binary as a child process, for the tests
// that need a real process (kill -9, restarts, several nodes, QEMU
// machines that outlive it).
package ecsdproc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

var (
	binMu  sync.Mutex
	binDir string
)

// Build builds cmd/ecsd once per test binary and returns its path; Remove
// deletes it.
var Build = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ecsd-bin-")
	if err != nil {
		return "", err
	}
	binMu.Lock()
	binDir = dir
	binMu.Unlock()
	bin := filepath.Join(dir, "ecsd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ecsd-dev/ecsd/cmd/ecsd").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// Remove deletes what Build built; call it from TestMain after m.Run.
func Remove() {
	binMu.Lock()
	defer binMu.Unlock()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
}

// Process is ecsd running as a child process.
type Process struct {
	Cmd *exec.Cmd
	URL string   // its API, from its banner
	Log *os.File // its standard error
}

var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// Start runs the ecsd binary on dataDir, listening on a free loopback port,
// with the extra flags args and its standard error appended to logPath, and
// waits up to timeout for its banner. The process is killed when tb ends.
// It may be called from any goroutine: it returns its errors.
func Start(tb testing.TB, dataDir, logPath string, timeout time.Duration, args ...string) (*Process, error) {
	bin, err := Build()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"--data", dataDir, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Process{Cmd: cmd, Log: logf}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case p.URL = <-found:
	case <-time.After(timeout):
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("ecsd did not start within %s; its log:\n%s", timeout, log)
	}
	return p, nil
}
