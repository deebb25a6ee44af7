package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/fault"
)

// Store is the persistence the runner needs; methods that take a *sql.Tx run
// in the caller's transaction.
type Store interface {
	BeginTx(ctx context.Context) (*sql.Tx, error)
	ServerByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Server, error)
	UpdateServer(ctx context.Context, tx *sql.Tx, s *ecs.Server) error
	UpdateServerFrom(ctx context.Context, tx *sql.Tx, old, s *ecs.Server) error
	MarkServerDeleted(ctx context.Context, tx *sql.Tx, id string, at time.Time) error
	JobByID(ctx context.Context, tx *sql.Tx, projectID, id string) (*ecs.Job, error)
	UpdateJob(ctx context.Context, tx *sql.Tx, j *ecs.Job) error
	SubJobs(ctx context.Context, tx *sql.Tx, parentID string) ([]*ecs.Job, error)
	StartPhase(ctx context.Context, tx *sql.Tx, jobID, phase string, at time.Time) error
	EndPhase(ctx context.Context, tx *sql.Tx, jobID string, at time.Time) error
	FinishActions(ctx context.Context, tx *sql.Tx, jobID, result, code, message string, at time.Time) error
}

// Flavors looks flavors up by ID.
type Flavors interface {
	Flavor(id string) (*ecs.Flavor, bool)
}

// PhaseFaults injects faults into job phases: a delay added to the phase,
// and a failure (Code and Message may be empty for the job's defaults).
// err is a failure to consult the rules, which the queue retries.
type PhaseFaults interface {
	Phase(ctx context.Context, ev fault.PhaseEvent) (delay time.Duration, fail *ecs.Error, err error)
}

// CompleteFunc marks the queue's job complete inside tx, the transaction
// that ends the API job, so that both commit together.
type CompleteFunc func(ctx context.Context, tx *sql.Tx) error

// Runner carries API jobs through their phases: it records each phase (the
// server's task state and the job's phase) before waiting the phase's
// duration and calling the driver, so that after a crash a job resumes at
// the phase it had reached. A driver failure fails the job and rolls the
// server back; a store failure is returned for the queue to retry.
type Runner struct {
	Store   Store
	Driver  driver.Driver
	Flavors Flavors
	Clock   ecs.Clock
	Timing  Timing
	Logger  *slog.Logger
	// running is the work in progress, so that Abandon can stop it.
	running runs
	// Faults, when set, may delay or fail each phase (fault injection).
	Faults PhaseFaults
	// Group, when set, runs work in a transaction shared with other
	// writers (compute.Service.InTx, group commit). A job of an immediate
	// driver whose phases all take no time runs in one, as one of its
	// requests.
	Group func(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error
}

// step is one phase of a job.
type step struct {
	task string // task state shown while the step runs
	// act is the driver call made at the end of the step; an error fails
	// the job.
	act func(ctx context.Context, srv *ecs.Server) error
	// after records what the step changed, in the transaction that enters
	// the next step (or ends the job).
	after func(srv *ecs.Server)
}

// plan is how a job runs: its steps, what success writes, and how a failure
// is undone.
type plan struct {
	steps       []step
	defaultCode string
	// finish sets what success changes on the server, which the runner
	// then writes; deletes says that success deletes the server instead.
	finish  func(srv *ecs.Server)
	deletes bool
	// rollback undoes the driver's work after a failure and sets srv to the
	// state to restore; the runner writes it.
	rollback func(ctx context.Context, srv *ecs.Server)
}

// failure is a driver error that fails the job (as opposed to a store error,
// which the queue retries).
type failure struct {
	code, reason string
}

// Run carries job jobID on from where it stands until it ends. giveUp says
// that the queue will not retry again: a store error then still fails the
// job and rolls it back, so that no server stays in a transitional state.
//
// A job whose rows vanish while it runs (a reset, a tenant deletion or an
// import removed them, River's row included) stops at its next step: Run
// then returns nil, completes nothing and logs no error. So does a job
// that Abandon stops.
func (r *Runner) Run(ctx context.Context, jobID string, giveUp bool, complete CompleteFunc) (err error) {
	ctx, untrack := r.running.track(ctx, jobID)
	defer func() { err = untrack(err, r.Logger) }()
	if r.shareable() {
		// The whole run as one request of a shared transaction. If it
		// needs a commit of its own after all (a phase that waits, a fault
		// rule to consult) or meets any error, its work is rolled back to
		// its savepoint and it runs again on its own transactions.
		err := r.Group(ctx, func(ctx context.Context, tx *sql.Tx) error {
			return r.run(ctx, &txs{store: r.Store, keep: true, tx: tx, shared: true}, jobID, giveUp, complete)
		})
		if !errors.Is(err, errOwnTx) {
			return err
		}
	}
	t := r.txs()
	defer t.abort()
	return r.run(ctx, t, jobID, giveUp, complete)
}

// shareable reports whether a job may run in a shared transaction: the
// driver is immediate, no phase lasts, and no fault rule could fire.
func (r *Runner) shareable() bool {
	if r.Group == nil || !r.Driver.Capabilities().Immediate {
		return false
	}
	for _, d := range r.Timing {
		if d > 0 {
			return false
		}
	}
	if r.Faults != nil {
		c, ok := r.Faults.(cachedRules)
		if !ok || c.HasEventRules() {
			return false
		}
	}
	return true
}

// errOwnTx says that a run in a shared transaction needs transactions of
// its own (see Run).
var errOwnTx = errors.New("worker: the job needs transactions of its own")

// run is Run on t.
func (r *Runner) run(ctx context.Context, t *txs, jobID string, giveUp bool, complete CompleteFunc) error {
	job, srv, err := r.load(ctx, t, jobID)
	if err != nil {
		return err
	}
	if job.Done() {
		return nil
	}
	r.adopt(ctx, job, srv)
	p, err := r.plan(job, srv)
	if err != nil {
		// The job cannot run at all: fail it and release its server.
		r.Logger.Error("job cannot run", "job_id", job.ID, "type", job.Type, "err", err)
		if srv != nil {
			srv.ResizeFlavorID, srv.ResizeHostID = "", ""
		}
		return r.end(ctx, t, job, nil, internalFailure, complete, srv, nil)
	}
	if p == nil { // nothing to do: the server is already where the job leads
		return r.end(ctx, t, job, &plan{}, nil, complete, nil, nil)
	}
	srv, err = r.walk(ctx, t, job, p, srv)
	var f *failure
	switch {
	case err == nil:
		return r.end(ctx, t, job, p, nil, complete, nil, srv)
	case errors.As(err, &f):
	case ctx.Err() != nil || vanished(err):
		return err
	case giveUp:
		r.Logger.Error("job given up after repeated store errors", "job_id", job.ID, "type", job.Type, "err", err)
		f = internalFailure
	default:
		return err
	}
	r.Logger.Info("job failed", "job_id", job.ID, "type", job.Type, "server_id", job.ServerID, "error_code", f.code, "reason", f.reason)
	// The rollback undoes the driver's work and computes the server's
	// restored state; end writes it in the transaction that fails the job,
	// so that a job never ends with its server left behind.
	cur, err := r.server(ctx, t, job)
	if err != nil {
		return err
	}
	if p.rollback != nil {
		p.rollback(ctx, cur)
	}
	return r.end(ctx, t, job, p, f, complete, cur, nil)
}

// adopt gives a driver whose machines live only in its process (sim) the
// machine of srv as the store has it, before a job runs on it. The store
// is the truth of such machines: on a database shared by several nodes,
// another node may have created the machine or run its last jobs, and
// what this process remembers of it may be stale. A job that resumes
// keeps the shape this process's machine has, if it has one: its earlier
// phases may have changed it already; its power state is the store's,
// which each phase records. Drivers with persistent machines find them
// themselves (Recover at start).
func (r *Runner) adopt(ctx context.Context, job *ecs.Job, srv *ecs.Server) {
	if srv == nil || r.Driver.Capabilities().Persistent {
		return
	}
	if srv.VMState == ecs.VMBuilding && srv.PowerState == ecs.PowerNoState {
		return // never spawned: its create job spawns it
	}
	inst, ok := compute.InstanceOf(r.Flavors, srv)
	if !ok {
		return
	}
	if job.Phase != "" {
		if st, err := r.Driver.Inspect(ctx, srv.ID); err == nil {
			inst.Shape = st.Shape
		}
	}
	if err := r.Driver.Recover(ctx, []driver.Instance{inst}); err != nil {
		r.Logger.Warn("adopt machine", "server_id", srv.ID, "err", err)
	}
}

// internalFailure is the client-visible outcome of a job that failed for a
// reason internal to ecsd; the detail is logged, never sent.
var internalFailure = &failure{code: ecs.CodeInternal, reason: "The job failed because of an internal error."}

func (r *Runner) load(ctx context.Context, t *txs, jobID string) (*ecs.Job, *ecs.Server, error) {
	var job *ecs.Job
	var srv *ecs.Server
	err := t.do(ctx, func(tx *sql.Tx) error {
		var err error
		if job, err = r.Store.JobByID(ctx, tx, "", jobID); err != nil {
			return err
		}
		if job.ServerID != "" && !job.Done() {
			srv, err = t.readServer(ctx, job.ServerID)
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load job %s: %w", jobID, err)
	}
	return job, srv, nil
}

func (r *Runner) server(ctx context.Context, t *txs, job *ecs.Job) (*ecs.Server, error) {
	var srv *ecs.Server
	err := t.do(ctx, func(tx *sql.Tx) error {
		if err := t.flush(ctx); err != nil {
			return err
		}
		var err error
		srv, err = t.readServer(ctx, job.ServerID)
		return err
	})
	return srv, err
}

// walk runs the steps from the one the job had reached, on srv as the
// run's transaction has it, and returns the server as the last step left
// it. A step's transaction is committed before the step waits and before
// fault rules that may fire are consulted; otherwise it stays open for the
// next step (see txs), which then goes on from the server as it was left
// instead of reading it again.
func (r *Runner) walk(ctx context.Context, t *txs, job *ecs.Job, p *plan, srv *ecs.Server) (*ecs.Server, error) {
	start := 0
	for i, st := range p.steps {
		if st.task == job.Phase {
			start = i
		}
	}
	for i := start; i < len(p.steps); i++ {
		st := p.steps[i]
		err := t.do(ctx, func(tx *sql.Tx) error {
			if !t.continued || srv == nil {
				var err error
				if _, err = r.Store.JobByID(ctx, tx, "", job.ID); err != nil {
					return err // vanished: see Run
				}
				if srv, err = t.readServer(ctx, job.ServerID); err != nil {
					return err
				}
			}
			if i > 0 && job.Phase == p.steps[i-1].task && p.steps[i-1].after != nil {
				p.steps[i-1].after(srv)
			}
			srv.TaskState = st.task
			srv.Updated = r.Clock.Now()
			if err := r.setPhase(ctx, tx, job, st.task); err != nil {
				return err
			}
			return t.write(ctx, srv, job)
		})
		if err != nil {
			return nil, err
		}
		delay, fail, err := r.phaseFault(ctx, t, job, srv, st.task)
		if err != nil {
			return nil, err
		}
		if wait := r.Timing[st.task] + delay; wait > 0 {
			// The phase is visible while it lasts: commit, then wait.
			if err := t.commit(ctx); err != nil {
				return nil, err
			}
			if err := r.Clock.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		} else if err := ctx.Err(); err != nil {
			return nil, err
		}
		if fail != nil {
			code, reason := fail.Code, fail.Message
			if code == "" {
				code = p.defaultCode
			}
			if reason == "" {
				reason = fmt.Sprintf("%s failed at %s: injected fault.", job.Type, st.task)
			}
			return nil, &failure{code: code, reason: reason}
		}
		if st.act == nil {
			continue
		}
		if err := st.act(ctx, srv); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			code := ecs.ErrorCode(err)
			if code == "" {
				code = p.defaultCode
			}
			return nil, &failure{code: code, reason: fmt.Sprintf("%s failed at %s: %s", job.Type, st.task, causeText(err))}
		}
	}
	return srv, nil
}

// phaseFault asks the fault rules about a job entering a phase. Firing a
// rule is a write of its own, so the job's open transaction is committed
// first, unless the rules say from memory that none can match.
func (r *Runner) phaseFault(ctx context.Context, t *txs, job *ecs.Job, srv *ecs.Server, phase string) (time.Duration, *ecs.Error, error) {
	if r.Faults == nil {
		return 0, nil, nil
	}
	ev := fault.PhaseEvent{Phase: phase, ProjectID: job.ProjectID, ServerID: job.ServerID,
		FlavorID: srv.FlavorID, TargetFlavorID: srv.ResizeFlavorID, AZ: srv.AvailabilityZone}
	if c, ok := r.Faults.(cachedRules); ok && !c.MatchesPhase(ev) {
		return 0, nil, nil
	}
	if err := t.commit(ctx); err != nil {
		return 0, nil, err
	}
	delay, fail, err := r.Faults.Phase(ctx, ev)
	if err != nil {
		return 0, nil, fmt.Errorf("fault rules of job %s at %s: %w", job.ID, phase, err)
	}
	return delay, fail, nil
}

func (f *failure) Error() string { return f.code + ": " + f.reason }

func causeText(err error) string {
	var e *ecs.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// setPhase records the phase a job has entered and marks it (and its
// parent) RUNNING; the caller writes job.
func (r *Runner) setPhase(ctx context.Context, tx *sql.Tx, job *ecs.Job, phase string) error {
	if err := r.Store.StartPhase(ctx, tx, job.ID, phase, r.Clock.Now()); err != nil {
		return err
	}
	job.Phase = phase
	if job.Status == ecs.JobInit {
		job.Status = ecs.JobRunning
		if job.ParentID != "" {
			parent, err := r.Store.JobByID(ctx, tx, "", job.ParentID)
			if err != nil {
				return err
			}
			if parent.Status == ecs.JobInit {
				parent.Status = ecs.JobRunning
				if err := r.Store.UpdateJob(ctx, tx, parent); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// end writes the outcome of a job: on success the last step's changes and
// the plan's finish; on failure the server as the rollback left it
// (restored, with its task state cleared); then the job's status, its
// parent's when it was the last sub-job, and the queue's completion, in one
// transaction.
//
// cur is the server as walk left it, which end uses when the run's
// transaction is still open (nil: read it).
func (r *Runner) end(ctx context.Context, t *txs, job *ecs.Job, p *plan, f *failure, complete CompleteFunc, restored, cur *ecs.Server) error {
	err := t.do(ctx, func(tx *sql.Tx) error {
		// This transaction writes the job, and the server when the job
		// ran on one: what the last phase left to write is superseded.
		if (f != nil && restored != nil) || (job.ServerID != "" && p != nil && f == nil) {
			t.srv = nil
		}
		t.job = nil
		if err := t.flush(ctx); err != nil {
			return err
		}
		now := r.Clock.Now()
		if !t.continued || cur == nil {
			if _, err := r.Store.JobByID(ctx, tx, "", job.ID); err != nil {
				return err // vanished: see Run
			}
			cur = nil
		}
		if f != nil && restored != nil {
			restored.TaskState = ecs.TaskNone
			restored.Updated = now
			if err := r.Store.UpdateServer(ctx, tx, restored); err != nil {
				return err
			}
		}
		if job.ServerID != "" && p != nil && f == nil {
			srv := cur
			if srv == nil {
				var err error
				if srv, err = t.readServer(ctx, job.ServerID); err != nil {
					return err
				}
			}
			if n := len(p.steps); n > 0 && job.Phase == p.steps[n-1].task && p.steps[n-1].after != nil {
				p.steps[n-1].after(srv)
			}
			srv.TaskState = ecs.TaskNone
			srv.Updated = now
			if p.finish != nil {
				p.finish(srv)
			}
			if p.deletes {
				if err := r.Store.MarkServerDeleted(ctx, tx, srv.ID, now); err != nil {
					return err
				}
			} else if err := t.writeServer(ctx, srv); err != nil {
				return err
			}
		}
		job.Status, job.EndTime = ecs.JobSuccess, now
		if f != nil {
			job.Status, job.ErrorCode, job.FailReason = ecs.JobFail, f.code, f.reason
		}
		if err := r.Store.UpdateJob(ctx, tx, job); err != nil {
			return err
		}
		if err := r.Store.EndPhase(ctx, tx, job.ID, now); err != nil {
			return err
		}
		if err := r.Store.FinishActions(ctx, tx, job.ID, job.Status, job.ErrorCode, job.FailReason, now); err != nil {
			return err
		}
		if err := r.endParent(ctx, tx, job, now); err != nil {
			return err
		}
		if complete != nil {
			return complete(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.end(ctx)
}

// endParent ends a batch job once its last sub-job has ended: SUCCESS when
// every sub-job succeeded, else FAIL with the first failure's code.
func (r *Runner) endParent(ctx context.Context, tx *sql.Tx, job *ecs.Job, now time.Time) error {
	if job.ParentID == "" {
		return nil
	}
	parent, err := r.Store.JobByID(ctx, tx, "", job.ParentID)
	if err != nil || parent.Done() {
		return err
	}
	failed := 0
	for _, sub := range parent.SubJobs {
		if sub.ID == job.ID {
			sub = job
		}
		if !sub.Done() {
			return nil
		}
		if sub.Status == ecs.JobFail {
			if failed == 0 {
				parent.ErrorCode, parent.FailReason = sub.ErrorCode, sub.FailReason
			}
			failed++
		}
	}
	parent.Status, parent.EndTime = ecs.JobSuccess, now
	if failed > 0 {
		parent.Status = ecs.JobFail
		if failed > 1 {
			parent.FailReason = fmt.Sprintf("%d of %d sub-jobs failed; first: %s", failed, len(parent.SubJobs), parent.FailReason)
		}
	}
	return r.Store.UpdateJob(ctx, tx, parent)
}

// txs are the transactions of one run. With a driver whose operations are
// immediate (sim without latency), a step that does not wait leaves its
// transaction open for the next one, so that a job in the instant timing
// profile commits once (load, every phase and the end together) instead of
// once per phase: the phases are all recorded, and since none of them
// lasts, no reader could have seen one of them between two commits. A
// phase that lasts is committed before its wait, so it is visible as
// before. With any other driver (qemu, sim with latency) every step
// commits before the driver acts, so that a job resumed after a crash or a
// store error knows the phase it had reached before the machine changed.
// A job of an immediate driver that fails to commit starts over when it is
// retried: its machine lives in this process and is adopted afresh from
// the store (adopt).
type txs struct {
	store Store
	keep  bool
	tx    *sql.Tx
	// shared: tx belongs to a group of requests (Runner.Group); it is
	// neither committed nor rolled back here, and anything that would need
	// either fails with errOwnTx.
	shared bool
	// srv and job are the rows of the last phase, not yet written (write).
	srv *ecs.Server
	job *ecs.Job
	// base is the server as the open transaction last read or wrote it
	// (readServer, writeServer); nil when unknown.
	base *ecs.Server
	// continued says that the last do ran in the transaction of the one
	// before it: what that one read and wrote is still current.
	continued bool
}

func (r *Runner) txs() *txs {
	return &txs{store: r.Store, keep: r.Driver.Capabilities().Immediate}
}

// do runs fn in the open transaction, or in a new one. An error rolls the
// transaction back; without keep, success commits it.
func (t *txs) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if t.shared {
		if t.tx == nil {
			return errOwnTx // an earlier error ended the shared run
		}
		t.continued = true
		if err := fn(t.tx); err != nil {
			t.tx = nil
			return fmt.Errorf("%w: %w", errOwnTx, err)
		}
		return nil
	}
	t.continued = t.tx != nil
	if t.tx == nil {
		tx, err := t.store.BeginTx(ctx)
		if err != nil {
			return err
		}
		t.tx = tx
	}
	if err := fn(t.tx); err != nil {
		t.abort()
		return err
	}
	if !t.keep {
		return t.commit(ctx)
	}
	return nil
}

// write writes a phase's server and job. In a transaction kept open across
// phases only the last phase's rows matter, since no reader sees the
// others: they are written when the transaction commits or the run reads
// the server again (flush), once, instead of at every phase.
func (t *txs) write(ctx context.Context, srv *ecs.Server, job *ecs.Job) error {
	if t.keep {
		t.srv, t.job = srv, job
		return nil
	}
	if err := t.writeServer(ctx, srv); err != nil {
		return err
	}
	return t.store.UpdateJob(ctx, t.tx, job)
}

// readServer reads the server in the open transaction and keeps a copy of
// it as read (base), so that writeServer writes only what changed.
func (t *txs) readServer(ctx context.Context, id string) (*ecs.Server, error) {
	srv, err := t.store.ServerByID(ctx, t.tx, "", id)
	if err != nil {
		return nil, err
	}
	t.base = srv.Clone()
	return srv, nil
}

// writeServer writes srv in the open transaction: only the columns that
// differ from the row as this transaction last read or wrote it, when it
// did.
func (t *txs) writeServer(ctx context.Context, srv *ecs.Server) error {
	var err error
	if t.base != nil && t.base.ID == srv.ID {
		err = t.store.UpdateServerFrom(ctx, t.tx, t.base, srv)
	} else {
		err = t.store.UpdateServer(ctx, t.tx, srv)
	}
	if err != nil {
		return err
	}
	t.base = srv.Clone()
	return nil
}

// flush writes what write left for later.
func (t *txs) flush(ctx context.Context) error {
	srv, job := t.srv, t.job
	t.srv, t.job = nil, nil
	if srv != nil {
		if err := t.writeServer(ctx, srv); err != nil {
			return err
		}
	}
	if job != nil {
		return t.store.UpdateJob(ctx, t.tx, job)
	}
	return nil
}

// commit writes what is left to write and commits the open transaction,
// if any.
func (t *txs) commit(ctx context.Context) error {
	if t.shared {
		return errOwnTx
	}
	if t.tx == nil {
		return nil
	}
	if err := t.flush(ctx); err != nil {
		t.abort()
		return err
	}
	tx := t.tx
	t.tx, t.base = nil, nil
	return tx.Commit()
}

// end ends the run's transactions: it commits the open one, or in a
// shared transaction writes what is left (the group commits).
func (t *txs) end(ctx context.Context) error {
	if t.shared {
		if t.tx == nil {
			return errOwnTx
		}
		if err := t.flush(ctx); err != nil {
			return fmt.Errorf("%w: %w", errOwnTx, err)
		}
		return nil
	}
	return t.commit(ctx)
}

// abort rolls the open transaction back, if any, with what was left to
// write.
func (t *txs) abort() {
	t.srv, t.job, t.base = nil, nil, nil
	if t.shared {
		return
	}
	if t.tx != nil {
		_ = t.tx.Rollback()
		t.tx = nil
	}
}

// cachedRules is implemented by fault rules that can tell from memory
// whether any rule could fire (fault.Engine), so that the runner consults
// them, which may write, only then.
type cachedRules interface {
	MatchesPhase(ev fault.PhaseEvent) bool
	HasEventRules() bool
}

func decodeParams(job *ecs.Job, v any) error {
	if err := json.Unmarshal([]byte(job.Params), v); err != nil {
		return fmt.Errorf("job %s: params: %w", job.ID, err)
	}
	return nil
}

// --- jobs whose rows vanish ---------------------------------------------------

// errAbandoned is the cause of the cancellation of abandoned work.
var errAbandoned = errors.New("worker: job abandoned: its rows were removed")

// vanished reports whether err says that a job's row or its server's row is
// gone: a reset, a tenant deletion or an import removed them while the job
// ran. (The store answers a missing job with a 404 *ecs.Error and a missing
// server with ecs.CodeServerNotFound.)
func vanished(err error) bool {
	var e *ecs.Error
	return errors.As(err, &e) && (e.Status == 404 || e.Code == ecs.CodeServerNotFound)
}

// runs tracks the runs in progress by job ID. The zero value is ready.
type runs struct {
	mu   sync.Mutex
	runs map[string][]*run
}

type run struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// track registers a run of jobID and returns its context and the function
// that ends it, turning the error of an abandoned or vanished job into nil.
func (rs *runs) track(ctx context.Context, jobID string) (context.Context, func(error, *slog.Logger) error) {
	ctx, cancel := context.WithCancelCause(ctx)
	rn := &run{cancel: cancel, done: make(chan struct{})}
	rs.mu.Lock()
	if rs.runs == nil {
		rs.runs = map[string][]*run{}
	}
	rs.runs[jobID] = append(rs.runs[jobID], rn)
	rs.mu.Unlock()
	return ctx, func(err error, logger *slog.Logger) error {
		rs.mu.Lock()
		rs.runs[jobID] = slices.DeleteFunc(rs.runs[jobID], func(x *run) bool { return x == rn })
		if len(rs.runs[jobID]) == 0 {
			delete(rs.runs, jobID)
		}
		rs.mu.Unlock()
		abandoned := errors.Is(context.Cause(ctx), errAbandoned)
		cancel(nil)
		close(rn.done)
		if err != nil && (abandoned || vanished(err)) {
			if logger != nil {
				logger.Debug("job stopped: its rows were removed", "job_id", jobID, "abandoned", abandoned)
			}
			return nil
		}
		return err
	}
}

// Running returns the IDs of the jobs this runner is working now.
func (r *Runner) Running() []string {
	r.running.mu.Lock()
	defer r.running.mu.Unlock()
	ids := make([]string, 0, len(r.running.runs))
	for id := range r.running.runs {
		ids = append(ids, id)
	}
	return ids
}

// Abandon stops the runs of the given jobs, whose rows were removed, and
// waits until they have returned or ctx is done. An abandoned run returns
// nil without writing anything; its driver calls in flight are cancelled.
func (r *Runner) Abandon(ctx context.Context, jobIDs []string) {
	r.running.mu.Lock()
	var runs []*run
	for _, id := range jobIDs {
		runs = append(runs, r.running.runs[id]...)
	}
	r.running.mu.Unlock()
	for _, rn := range runs {
		rn.cancel(errAbandoned)
	}
	for _, rn := range runs {
		select {
		case <-rn.done:
		case <-ctx.Done():
			return
		}
	}
}
