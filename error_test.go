package ecs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

func TestErrorCodeAndMessage(t *testing.T) {
	t.Parallel()
	notFound := ecs.Errorf(ecs.CodeServerNotFound, "Instance[%s] could not be found.", "abc")
	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
	}{
		{"nil", nil, "", "Internal error."},
		{"plain error", errors.New("disk on fire at /var/lib/ecsd"), "", "Internal error."},
		{"sentinel", io.ErrUnexpectedEOF, "", "Internal error."},
		{"bare *Error", notFound, ecs.CodeServerNotFound, "Instance[abc] could not be found."},
		{"wrapped once", fmt.Errorf("resize abc: %w", notFound), ecs.CodeServerNotFound, "Instance[abc] could not be found."},
		{
			"wrapped twice",
			fmt.Errorf("tx: %w", fmt.Errorf("resize abc: %w", notFound)),
			ecs.CodeServerNotFound, "Instance[abc] could not be found.",
		},
		{
			"outermost *Error wins",
			&ecs.Error{Code: ecs.CodeBusy, Message: "busy", Status: 409},
			ecs.CodeBusy, "busy",
		},
		{
			"joined with a plain error",
			errors.Join(errors.New("rollback failed"), notFound),
			ecs.CodeServerNotFound, "Instance[abc] could not be found.",
		},
		{
			"first *Error of a join",
			errors.Join(ecs.Errorf(ecs.CodeQuota, "quota"), notFound),
			ecs.CodeQuota, "quota",
		},
		{"wrapped with %v loses the code", fmt.Errorf("resize: %v", notFound), "", "Internal error."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ecs.ErrorCode(tc.err); got != tc.wantCode {
				t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.wantCode)
			}
			if got := ecs.ErrorMessage(tc.err); got != tc.wantMessage {
				t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.wantMessage)
			}
		})
	}
}

func TestErrorf(t *testing.T) {
	t.Parallel()
	err := ecs.Errorf(ecs.CodeInsufficientCap, "flavor %s in %s", "s6.large.2", "cn-north-4b")
	want := &ecs.Error{Code: "Ecs.0319", Message: "flavor s6.large.2 in cn-north-4b"}
	if *err != *want {
		t.Errorf("Errorf = %+v, want %+v", err, want)
	}
	if got, wantText := err.Error(), "Ecs.0319: flavor s6.large.2 in cn-north-4b"; got != wantText {
		t.Errorf("Error() = %q, want %q", got, wantText)
	}
	var target *ecs.Error
	if !errors.As(fmt.Errorf("outer: %w", err), &target) || target != err {
		t.Errorf("errors.As did not find the *ecs.Error through a wrap")
	}
	if err.Status != 0 {
		t.Errorf("Errorf sets Status %d, want 0 (the transport derives it)", err.Status)
	}
}

func TestRealClock(t *testing.T) {
	t.Parallel()
	var c ecs.Clock = ecs.RealClock{}
	before := time.Now()
	now := c.Now()
	if now.Location() != time.UTC {
		t.Errorf("Now() location = %v, want UTC", now.Location())
	}
	if now.Before(before.Add(-time.Second)) || now.After(time.Now().Add(time.Second)) {
		t.Errorf("Now() = %v, not close to the wall clock %v", now, before)
	}

	ctx := t.Context()
	if err := c.Sleep(ctx, 0); err != nil {
		t.Errorf("Sleep(0) = %v, want nil", err)
	}
	if err := c.Sleep(ctx, -time.Second); err != nil {
		t.Errorf("Sleep(-1s) = %v, want nil", err)
	}
	if err := c.Sleep(ctx, time.Microsecond); err != nil {
		t.Errorf("Sleep(1µs) = %v, want nil", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Sleep(cancelled, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(1h) on a cancelled context = %v, want context.Canceled", err)
	}
	if err := c.Sleep(cancelled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(0) on a cancelled context = %v, want context.Canceled", err)
	}
}
