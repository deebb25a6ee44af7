package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// qmpTimeout bounds a QMP session whose context has no deadline, so that a
// wedged QEMU cannot hang a driver call forever.
const qmpTimeout = 30 * time.Second

// QMPError is an error answered by QEMU's monitor.
type QMPError struct {
	Command string
	Class   string
	Desc    string
}

func (e *QMPError) Error() string {
	return fmt.Sprintf("qmp %s: %s: %s", e.Command, e.Class, e.Desc)
}

// qmpMessage is any message QEMU sends: a greeting, a reply or an event.
type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string `json:"event"`
}

// qmpConn is one QMP session on a unix socket. It is not safe for
// concurrent use; the driver holds an instance's lock while it uses one.
type qmpConn struct {
	conn net.Conn
	r    *bufio.Reader
	stop func() bool
}

// dialQMP connects to the monitor at path, reads the greeting and
// negotiates capabilities. The session ends when ctx is done: pending reads
// and writes then fail.
func dialQMP(ctx context.Context, path string) (*qmpConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: connect %s: %w", path, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(qmpTimeout)
	}
	_ = conn.SetDeadline(deadline)
	q := &qmpConn{conn: conn, r: bufio.NewReader(conn)}
	q.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	greeting, err := q.read()
	if err != nil {
		q.Close()
		return nil, q.ctxErr(ctx, fmt.Errorf("qmp: greeting: %w", err))
	}
	if greeting.QMP == nil {
		q.Close()
		return nil, fmt.Errorf("qmp: %s is not a QMP monitor", path)
	}
	if err := q.execute("qmp_capabilities", nil, nil); err != nil {
		q.Close()
		return nil, q.ctxErr(ctx, err)
	}
	return q, nil
}

// ctxErr prefers the context's error, so that a session cut short by a
// cancelled context reports context.Canceled rather than an I/O timeout.
func (q *qmpConn) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// Close ends the session.
func (q *qmpConn) Close() error {
	q.stop()
	return q.conn.Close()
}

func (q *qmpConn) read() (*qmpMessage, error) {
	line, err := q.r.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var m qmpMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("qmp: bad message %q: %w", line, err)
	}
	return &m, nil
}

// execute runs command with args (nil for none) and decodes its return
// value into out (nil to ignore it). Events read meanwhile are kept for
// waitEvent.
func (q *qmpConn) execute(command string, args, out any) error {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("qmp %s: %w", command, err)
	}
	for {
		m, err := q.read()
		if err != nil {
			return fmt.Errorf("qmp %s: %w", command, err)
		}
		switch {
		case m.Event != "": // asynchronous events (SHUTDOWN, STOP...) are not waited for
		case m.Error != nil:
			return &QMPError{Command: command, Class: m.Error.Class, Desc: m.Error.Desc}
		case m.Return != nil:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(m.Return, out); err != nil {
				return fmt.Errorf("qmp %s: decode reply: %w", command, err)
			}
			return nil
		}
	}
}

// machineInfo is what the driver asks QEMU of a running machine.
type machineInfo struct {
	Status   string // query-status: running, paused, prelaunch, shutdown...
	VCPUs    int    // query-cpus-fast
	MemoryMB int    // query-memory-size-summary base-memory
	KVM      bool   // query-kvm: whether KVM accelerates the machine
}

// query asks QEMU for the machine's run state, CPUs and memory.
func (q *qmpConn) query() (machineInfo, error) {
	var info machineInfo
	var status struct {
		Status string `json:"status"`
	}
	if err := q.execute("query-status", nil, &status); err != nil {
		return info, err
	}
	info.Status = status.Status
	var cpus []json.RawMessage
	if err := q.execute("query-cpus-fast", nil, &cpus); err != nil {
		return info, err
	}
	info.VCPUs = len(cpus)
	var mem struct {
		BaseMemory int64 `json:"base-memory"`
	}
	if err := q.execute("query-memory-size-summary", nil, &mem); err != nil {
		return info, err
	}
	info.MemoryMB = int(mem.BaseMemory >> 20)
	var kvm struct {
		Enabled bool `json:"enabled"`
	}
	if err := q.execute("query-kvm", nil, &kvm); err != nil {
		return info, err
	}
	info.KVM = kvm.Enabled
	return info, nil
}
