package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ecsd-dev/ecsd/signature"
)

// Tenant is the identity a client signs its requests with.
type Tenant struct {
	AccessKey, SecretKey, ProjectID string
}

// Client sends SDK-signed requests over one keep-alive transport.
type Client struct {
	Base   string
	HTTP   *http.Client
	Tenant Tenant
}

// newHTTPClient returns a keep-alive client for n concurrent callers.
func newHTTPClient(n int) *http.Client {
	tr := &http.Transport{MaxIdleConns: n * 2, MaxIdleConnsPerHost: n * 2, IdleConnTimeout: time.Minute}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Do signs and sends a request the way the Go SDK does (User-Agent,
// X-Project-Id, X-Sdk-Date; a JSON body ends in "\n") and returns the
// status and the response body.
func (c *Client) Do(ctx context.Context, method, path string, in []byte) (int, []byte, error) {
	var body io.Reader = http.NoBody
	if in != nil {
		body = bytes.NewReader(in)
	}
	r, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return 0, nil, err
	}
	r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	r.Header.Set("X-Project-Id", c.Tenant.ProjectID)
	if in != nil {
		r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	signature.Sign(r, in, c.Tenant.AccessKey, c.Tenant.SecretKey, time.Now())
	resp, err := c.HTTP.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// Result is one scenario's figures.
type Result struct {
	Scenario  string  `json:"scenario"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	CPUsec    float64 `json:"cpu_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// Baseline names the result this one is compared to, and Ratio is
	// RPS / the baseline's RPS.
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	Note     string  `json:"note,omitempty"`
	FirstErr string  `json:"first_error,omitempty"`
	// IdleRSSMB is the idle RSS of the started process (startup only).
	IdleRSSMB float64 `json:"idle_rss_mb,omitempty"`
}

// Op is one operation of client number id; it returns an error for a
// failed call.
type Op func(ctx context.Context, id, i int) error

// meter measures the CPU time and peak RSS of the metered process around
// a run: this one, or with --url and --pid the target ecsd (meterPID).
type meter struct {
	cpu0 time.Duration
}

// meterPID is the /proc name of the metered process: "self" or a pid.
var meterPID = "self"

func cpuTime() time.Duration {
	if meterPID != "self" {
		return procCPU(meterPID)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on
// Linux whatever the kernel's HZ).
const clockTicks = 100

// procCPU returns the user and system CPU time of process pid from
// /proc/<pid>/stat (0 if it cannot be read).
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted after its closing parenthesis; utime and stime are the
	// 14th and 15th fields of the line, the 12th and 13th after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// startMeter resets the peak RSS (VmHWM) of the metered process, where
// Linux allows it, and notes its CPU time.
func startMeter() meter {
	_ = os.WriteFile("/proc/"+meterPID+"/clear_refs", []byte("5"), 0)
	return meter{cpu0: cpuTime()}
}

func (m meter) fill(r *Result) {
	r.CPUsec = (cpuTime() - m.cpu0).Seconds()
	r.PeakRSSMB = procStatusMB(meterPID, "VmHWM")
}

// procStatusMB reads a kB field of /proc/<pid>/status in MB (0 if absent).
func procStatusMB(pid, field string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// drive runs op from clients goroutines for d (or, when count > 0, until
// count operations were started) and returns the latency figures. Every
// client completes at least one operation, however slow, so that a short
// run on a slow machine still measures something; operations in flight at
// the end of the run finish and count.
func drive(ctx context.Context, name string, clients int, d time.Duration, count int, op Op) Result {
	m := startMeter()
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, clients)
	var errs atomic.Int64
	var started atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	t0 := time.Now()
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && (i == 0 || time.Now().Before(deadline)); i++ {
				if count > 0 && started.Add(1) > int64(count) {
					return
				}
				s := time.Now()
				err := op(ctx, id, i)
				if ctx.Err() != nil && err != nil {
					return // the whole run was cancelled
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lats[id] = append(lats[id], time.Since(s))
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	r := summarize(name, slices.Concat(lats...), el)
	r.Errors = int(errs.Load())
	if e, ok := firstErr.Load().(string); ok {
		r.FirstErr = e
	}
	m.fill(&r)
	return r
}

func summarize(name string, all []time.Duration, el time.Duration) Result {
	slices.Sort(all)
	r := Result{Scenario: name, Requests: len(all), Seconds: el.Seconds()}
	if el > 0 {
		r.RPS = float64(len(all)) / el.Seconds()
	}
	r.P50ms, r.P99ms, r.P999ms = pct(all, 0.50), pct(all, 0.99), pct(all, 0.999)
	return r
}

func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)) * q)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i]) / float64(time.Millisecond)
}

// expect returns an error unless status is want.
func expect(status int, body []byte, err error, want int) error {
	if err != nil {
		return err
	}
	if status != want {
		if len(body) > 200 {
			body = body[:200]
		}
		return fmt.Errorf("status %d, want %d: %s", status, want, body)
	}
	return nil
}
