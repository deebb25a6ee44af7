// Command ecsctl is the command line of ecsd, and of the real Huawei Cloud
// ECS: it is built on the official Go SDK (services/ecs/v2), so the same
// commands work against both. See docs/ecsctl.md.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
