package console

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/clock"
)

// event is one server-sent event: Kind is the SSE event name (server, job,
// clock, faults, resync) and Data its JSON.
type event struct {
	Kind string
	Data []byte
}

// serverEvent is the data of a "server" event.
type serverEvent struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	TaskState string `json:"task_state"`
	FlavorID  string `json:"flavor_id"`
	AZ        string `json:"availability_zone"`
	Deleted   bool   `json:"deleted,omitempty"`
	updated   int64
}

// jobEvent is the data of a "job" event.
type jobEvent struct {
	ID        string `json:"id"`
	ParentID  string `json:"parent_id,omitempty"`
	ProjectID string `json:"project_id"`
	ServerID  string `json:"server_id,omitempty"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Phase     string `json:"phase"`
	ErrorCode string `json:"error_code,omitempty"`
}

// snapshot is what the poller compares from one tick to the next.
type snapshot struct {
	servers map[string]serverEvent
	jobs    map[string]jobEvent // unfinished jobs
	clock   clock.State
	faults  string // the rules' IDs and fired counts
}

type subscriber struct {
	ch   chan event
	lost atomic.Bool // events were dropped: the page must resynchronise
	// greeted: the subscriber got its hello, sent after a snapshot taken
	// since it subscribed, so that every later change reaches it.
	greeted bool
}

// hub fans the poller's changes out to the streams. The poller runs while
// there is at least one subscriber; close ends everything.
type hub struct {
	c      *Console
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	polling bool
	closed  bool
	wg      sync.WaitGroup
}

func newHub(c *Console) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{c: c, ctx: ctx, cancel: cancel, subs: map[*subscriber]struct{}{}}
}

// subscribe adds a stream, starting the poller if needed; nil after close.
func (h *hub) subscribe() *subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	s := &subscriber{ch: make(chan event, 256)}
	h.subs[s] = struct{}{}
	if !h.polling {
		h.polling = true
		h.wg.Add(1)
		go h.poll()
	}
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// close stops the poller and ends every stream, and waits for the poller.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
}

// keepPolling reports whether anyone listens; when nobody does, it marks the
// poller stopped (under the lock, so that the next subscribe starts one).
func (h *hub) keepPolling() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 || h.closed {
		h.polling = false
		return false
	}
	return true
}

// broadcast sends evs to the subscribers, and hello to those that joined
// before the snapshot evs come from.
func (h *hub) broadcast(evs []event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.greeted {
			s.greeted = true
			s.ch <- event{Kind: "hello", Data: []byte("{}")} // the first event: the buffer has room
			continue
		}
		for _, ev := range evs {
			select {
			case s.ch <- ev:
			default:
				s.lost.Store(true)
			}
		}
	}
}

// poll reads the store every Poll while anyone listens and broadcasts what
// changed since the previous read.
func (h *hub) poll() {
	defer h.wg.Done()
	t := time.NewTicker(h.c.Poll)
	defer t.Stop()
	var prev *snapshot
	for {
		if !h.keepPolling() {
			return
		}
		// Subscribers that join from here on are greeted after this
		// snapshot or a later one.
		cur, err := h.c.snapshot(h.ctx)
		switch {
		case h.ctx.Err() != nil:
			h.mu.Lock()
			h.polling = false
			h.mu.Unlock()
			return
		case err != nil:
			h.c.Logger.Warn("console: poll the store", "err", err)
		default:
			var evs []event
			if prev != nil {
				evs = h.c.diff(h.ctx, prev, cur)
			}
			h.broadcast(evs)
			prev = cur
		}
		select {
		case <-h.ctx.Done():
		case <-t.C:
		}
	}
}

func (c *Console) snapshot(ctx context.Context) (*snapshot, error) {
	s := &snapshot{servers: map[string]serverEvent{}, jobs: map[string]jobEvent{}}
	err := c.readTx(ctx, func(tx *sql.Tx) error {
		servers, err := c.Store.AllServers(ctx, tx)
		if err != nil {
			return err
		}
		for _, srv := range servers {
			s.servers[srv.ID] = serverEvent{ID: srv.ID, ProjectID: srv.ProjectID, Name: srv.Name, Status: srv.Status(),
				TaskState: srv.TaskState, FlavorID: srv.FlavorID, AZ: srv.AvailabilityZone, updated: srv.Updated.UnixNano()}
		}
		jobs, err := c.Store.UnfinishedJobs(ctx, tx)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			s.jobs[j.ID] = jobEventOf(j)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.Clock != nil {
		s.clock = c.Clock.State()
	}
	if c.Faults != nil {
		rules, err := c.Faults.List(ctx)
		if err != nil {
			return nil, err
		}
		parts := make([]string, 0, len(rules))
		for _, r := range rules {
			parts = append(parts, fmt.Sprintf("%s:%d", r.ID, r.Fired))
		}
		sort.Strings(parts)
		s.faults = strings.Join(parts, ",")
	}
	return s, nil
}

func jobEventOf(j *ecs.Job) jobEvent {
	return jobEvent{ID: j.ID, ParentID: j.ParentID, ProjectID: j.ProjectID, ServerID: j.ServerID, Type: j.Type,
		Status: j.Status, Phase: j.Phase, ErrorCode: j.ErrorCode}
}

// diff returns the events that turn prev into cur. A job that left the
// unfinished set is read once more for its final status.
func (c *Console) diff(ctx context.Context, prev, cur *snapshot) []event {
	var out []event
	add := func(kind string, v any) {
		b, err := json.Marshal(v)
		if err == nil {
			out = append(out, event{Kind: kind, Data: b})
		}
	}
	for id, s := range cur.servers {
		if p, ok := prev.servers[id]; !ok || p != s {
			add("server", s)
		}
	}
	for id, p := range prev.servers {
		if _, ok := cur.servers[id]; !ok {
			p.Deleted, p.Status = true, ecs.StatusDeleted
			add("server", p)
		}
	}
	for id, j := range cur.jobs {
		if p, ok := prev.jobs[id]; !ok || p != j {
			add("job", j)
		}
	}
	var ended []string
	for id := range prev.jobs {
		if _, ok := cur.jobs[id]; !ok {
			ended = append(ended, id)
		}
	}
	if len(ended) > 0 {
		_ = c.readTx(ctx, func(tx *sql.Tx) error {
			for _, id := range ended {
				j, err := c.Store.JobByID(ctx, tx, "", id)
				if err != nil {
					p := prev.jobs[id]
					p.Status = "GONE"
					add("job", p)
					continue
				}
				add("job", jobEventOf(j))
			}
			return nil
		})
	}
	if prev.clock != cur.clock && c.Clock != nil {
		add("clock", c.clockView())
	}
	if prev.faults != cur.faults {
		add("faults", map[string]int{"rules": strings.Count(cur.faults, ":")})
	}
	return out
}

// events serves GET /console/events, the live-update stream.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	sub := c.hub.subscribe()
	if sub == nil {
		w.WriteHeader(http.StatusNoContent) // shutting down: EventSource stops retrying
		return
	}
	defer c.hub.unsubscribe(sub)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 1000\n\n")
	if rc.Flush() != nil {
		return
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-c.hub.ctx.Done():
			return
		case ev := <-sub.ch:
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Kind, ev.Data)
			if err == nil && sub.lost.Swap(false) {
				_, err = fmt.Fprintf(w, "event: resync\ndata: {}\n\n")
			}
		case <-ping.C:
			_, err = fmt.Fprintf(w, ": ping\n\n")
		}
		if err != nil || rc.Flush() != nil {
			return
		}
	}
}
