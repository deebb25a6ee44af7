package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ecsd-dev/ecsd/clock"
	"github.com/ecsd-dev/ecsd/seed"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/worker"
)

// This file is what a node does when it shares a PostgreSQL database with
// other nodes (docs/operations.md): it keeps a heartbeat in the store,
// finishes the jobs of nodes whose heartbeat stopped, and follows the
// test-control state (fault rules, the virtual clock, flavor overrides)
// that the other nodes change.

// Cluster timings. A node beats every NodeTimeout/5; the jobs of a node
// silent for NodeTimeout go back to the queue; a control-state change made
// through another node is in force here within syncInterval.
const (
	defaultNodeTimeout = 10 * time.Second
	syncInterval       = 250 * time.Millisecond
)

// openStore opens the configured store: PostgreSQL when Config.Database is
// set, else SQLite in Config.DataDir (in memory when it is empty).
func (m *Node) openStore(ctx context.Context) (*store.DB, error) {
	if m.Config.Database == "" {
		return store.OpenSQLite(ctx, m.Config.DataDir)
	}
	db, err := store.OpenPostgres(ctx, m.Config.Database, store.PostgresOptions{MaxOpenConns: m.Config.DatabaseMaxConns})
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL %s: %w", store.RedactURL(m.Config.Database), err)
	}
	return db, nil
}

// shared reports whether the node's store is shared with other nodes.
func (m *Node) shared() bool { return m.DB.Engine() == store.EnginePostgres }

// storeName describes the store for the banner and the health check,
// without a password.
func (m *Node) storeName() string {
	switch {
	case m.shared():
		return "postgres " + store.RedactURL(m.Config.Database)
	case m.DB.Path() == "":
		return "sqlite in memory (ephemeral)"
	default:
		return "sqlite " + m.DB.Path()
	}
}

// defaultNodeID returns the host name with a random suffix: a restarted
// process is a new node, and its predecessor's jobs are rescued.
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "ecsd"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// recoverJobs makes the River jobs that a previous process left running
// available again, before this node's River client starts. On SQLite the
// data directory's lock guarantees that the previous process is gone. On
// PostgreSQL, other nodes may be working their jobs: only the jobs of
// nodes that stopped beating (or of an earlier process with this node's
// ID) are rescued; then the node registers under its ID.
func (m *Node) recoverJobs(ctx context.Context) (int64, error) {
	if !m.shared() {
		return m.DB.RescueInterruptedJobs(ctx)
	}
	if err := m.DB.UnregisterNode(ctx, m.NodeID); err != nil {
		return 0, err
	}
	n, err := m.DB.RescueJobsOfDeadNodes(ctx, m.nodeTimeout())
	if err != nil {
		return 0, err
	}
	return n, m.DB.RegisterNode(ctx, m.NodeID)
}

func (m *Node) nodeTimeout() time.Duration {
	if m.Config.NodeTimeout > 0 {
		return m.Config.NodeTimeout
	}
	return defaultNodeTimeout
}

// cluster runs a shared-database node's background duties until closed.
type cluster struct {
	node    *Node
	runner  *worker.Runner
	timeout time.Duration

	overridesSeen latest // the overrides setting last put in force here
	// orphans are the River jobs seen running for this node at the last
	// beat while its runner did not work them.
	orphans map[int64]bool

	stop chan struct{}
	done chan struct{}
}

// startCluster starts the background duties of a shared-database node.
func (m *Node) startCluster(runner *worker.Runner) {
	c := &cluster{node: m, runner: runner, timeout: m.nodeTimeout(),
		stop: make(chan struct{}), done: make(chan struct{})}
	seen, _ := m.DB.Setting(context.Background(), seed.OverridesSetting)
	c.overridesSeen.swap(seen)
	m.cluster = c
	go c.run()
}

// run beats, rescues and follows the control state until close. A node
// rescues the jobs of others only once it has itself beaten without a
// failure for a whole timeout: after a database outage every node's
// heartbeat is stale, and the first to reconnect must not take over the
// jobs of nodes that are still reconnecting.
func (c *cluster) run() {
	defer close(c.done)
	m := c.node
	beat := time.NewTicker(max(c.timeout/5, 100*time.Millisecond))
	defer beat.Stop()
	follow := time.NewTicker(syncInterval)
	defer follow.Stop()
	healthy, healthySince := true, time.Now()
	for {
		select {
		case <-c.stop:
			return
		case <-beat.C:
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			err := m.DB.Heartbeat(ctx, m.NodeID)
			switch {
			case errors.Is(err, store.ErrNodeNotRegistered):
				// Another node took this one for dead and may be running
				// its jobs: stop them here, then rejoin.
				jobs := c.runner.Running()
				m.Logger.Warn("another node took this node for dead; abandoning its jobs and registering again",
					"node_id", m.NodeID, "jobs", len(jobs))
				c.runner.Abandon(ctx, jobs)
				if err := m.DB.RegisterNode(ctx, m.NodeID); err != nil {
					m.Logger.Warn("register node", "node_id", m.NodeID, "err", err)
				}
				healthy, healthySince = true, time.Now()
			case err != nil:
				if healthy {
					m.Logger.Warn("heartbeat failed; is the database reachable?", "node_id", m.NodeID, "err", err)
				}
				healthy = false
			case !healthy:
				m.Logger.Info("heartbeat restored", "node_id", m.NodeID)
				healthy, healthySince = true, time.Now()
			case time.Since(healthySince) >= c.timeout:
				c.requeueOrphans(ctx)
				n, err := m.DB.RescueJobsOfDeadNodes(ctx, c.timeout)
				if err != nil {
					m.Logger.Warn("rescue the jobs of dead nodes", "err", err)
				} else if n > 0 {
					m.Logger.Info("took over the jobs of nodes that stopped", "jobs", n)
				}
			}
			cancel()
		case <-follow.C:
			if !healthy {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			if err := c.follow(ctx); err != nil {
				m.Logger.Warn("follow the control state of other nodes", "err", err)
			}
			cancel()
		}
	}
}

// requeueOrphans makes available again the River jobs that River has
// running for this node while its runner has not worked them for two
// beats in a row. An attempt that ended while the database was unreachable
// leaves such a job behind: River could not record the end, and no other
// node rescues the job of a live node. (A job fetched an instant ago has
// not reached the runner yet: hence the second beat.)
func (c *cluster) requeueOrphans(ctx context.Context) {
	m := c.node
	running, err := m.DB.RunningJobsOf(ctx, m.NodeID)
	if err != nil {
		m.Logger.Warn("look for orphaned jobs", "err", err)
		return
	}
	working := map[string]bool{}
	for _, id := range c.runner.Running() {
		working[id] = true
	}
	seen := map[int64]bool{}
	var requeue []int64
	for _, j := range running {
		if j.JobID == "" || working[j.JobID] {
			continue
		}
		if c.orphans[j.ID] {
			requeue = append(requeue, j.ID)
		} else {
			seen[j.ID] = true
		}
	}
	c.orphans = seen
	if n, err := m.DB.RequeueJobs(ctx, m.NodeID, requeue); err != nil {
		m.Logger.Warn("requeue orphaned jobs", "err", err)
	} else if n > 0 {
		m.Logger.Info("requeued jobs whose last attempt ended while the database was unreachable", "jobs", n)
	}
}

// close stops the background duties, waits for them and unregisters the
// node, so that the others need not wait for its heartbeat to go stale.
func (c *cluster) close(ctx context.Context) error {
	close(c.stop)
	<-c.done
	return c.node.DB.UnregisterNode(ctx, c.node.NodeID)
}

// follow puts in force the fault rules, clock and flavor overrides that
// the store holds, which another node may have changed.
func (c *cluster) follow(ctx context.Context) error {
	m := c.node
	if err := m.Faults.Load(ctx); err != nil {
		return err
	}
	if m.VClock != nil {
		// A change made here after the read below wins over what was
		// read (RestoreAt), so that a stale read cannot undo it.
		version := m.VClock.Version()
		saved, err := m.DB.Setting(ctx, clockSetting)
		if err != nil {
			return err
		}
		if saved != "" && saved != m.clockSaved.get() {
			var st clock.State
			if err := json.Unmarshal([]byte(saved), &st); err != nil {
				return fmt.Errorf("clock state: %w", err)
			}
			m.clockSaved.set(saved)
			if _, err := m.VClock.RestoreAt(version, st); err != nil {
				return err
			}
		}
	}
	overrides, err := m.DB.Setting(ctx, seed.OverridesSetting)
	if err != nil {
		return err
	}
	if c.overridesSeen.swap(overrides) {
		return m.Overrides.Restore(ctx)
	}
	return nil
}

// latest holds the last value of a setting that a node saved or put in
// force, so that it neither saves back what it just read nor restores
// what it just saved.
type latest struct {
	mu    sync.Mutex
	value string
}

// get returns the value recorded last.
func (l *latest) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.value
}

// set records v.
func (l *latest) set(v string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.value = v
}

// swap records v and reports whether it differs from the value before.
func (l *latest) swap(v string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := v != l.value
	l.value = v
	return changed
}
