// Package ecs holds ecsd's domain: servers, flavors, jobs, tenants, quotas, the
// status state machine, the error type and the service contracts that the
// transport layer consumes. It imports only the standard library.
//
// Implementations live in sibling packages named after their technology:
// compute (the rules), store (storage), worker (River jobs), driver (the
// hypervisor seam) and httpapi (the Huawei wire format). Only cmd/ wires them.
package ecs

import (
	"context"
	"time"
)

// Clock is the one source of time in ecsd. The control API can later replace the
// real clock with one that runs faster, pauses or jumps.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d of this clock's time, or until ctx is done, in which case
	// it returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is a Clock that follows the wall clock.
type RealClock struct{}

// Now returns time.Now in UTC.
func (RealClock) Now() time.Time { return time.Now().UTC() }

// Sleep waits for d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
