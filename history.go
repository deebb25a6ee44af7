package ecs

import (
	"context"
	"time"
)

// Action is one request that changed a server, as the history shows it
// (like Nova's instance actions).
type Action struct {
	ProjectID  string
	ServerID   string
	Action     string // create, delete, start, stop, reboot, resize
	RequestID  string
	JobID      string
	StartTime  time.Time
	FinishTime time.Time // zero while the job runs
	Result     string    // "" while running, JobSuccess or JobFail
	ErrorCode  string
	Message    string
}

// PhaseEvent is one phase of a job, with its start and end.
type PhaseEvent struct {
	JobID     string
	Phase     string
	StartTime time.Time
	EndTime   time.Time // zero while the phase runs
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the API request's ID, so that
// what the request causes can be traced back to it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
