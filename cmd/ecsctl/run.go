package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ecssdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	ecsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/region"
	vpcsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2"
	vpcregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/region"
)

// Exit codes scripts can rely on (docs/ecsctl.md).
const (
	exitOK         = 0
	exitRefused    = 1 // the API answered with an error
	exitUsage      = 2
	exitJobFailed  = 3
	exitConnection = 4 // no answer: connection refused, timeout
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// app is one ecsctl invocation: its settings, SDK clients and output.
type app struct {
	cfg    Config
	ecs    *ecssdk.EcsClient
	vpc    *vpcsdk.VpcClient
	out    *printer
	stderr io.Writer
}

// run runs ecsctl with args (without the program name) and returns the
// exit code. It writes results to stdout and diagnostics to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecsctl: %v\n", err)
		fmt.Fprintln(stderr, "run 'ecsctl help' for the commands and settings")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	a := &app{cfg: cfg, out: newPrinter(stdout, stderr, cfg.Output, isTerminal(stdout)), stderr: stderr}
	if err := a.connect(); err != nil {
		return report(stderr, err)
	}
	return report(stderr, a.dispatch(ctx))
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// report prints err (if any) and returns its exit code.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) {
		fmt.Fprintf(stderr, "ecsctl: %s: %s (HTTP %d, request %s)\n", se.ErrorCode, se.ErrorMessage, se.StatusCode, se.RequestId)
	} else {
		fmt.Fprintf(stderr, "ecsctl: %v\n", err)
	}
	return code
}

// exitCode maps an error to the exit code of docs/ecsctl.md.
func exitCode(err error) int {
	var ee *exitError
	var se *sdkerr.ServiceResponseError
	var ue *UsageError
	var ce *sdkerr.ConnectionError
	var te *sdkerr.RequestTimeoutError
	var ne net.Error
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &se):
		return exitRefused
	case errors.As(err, &ce), errors.As(err, &te), errors.As(err, &ne),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return exitConnection
	default:
		// The SDK reports transport failures as plain errors too.
		return exitConnection
	}
}

// endpoints returns the ECS and VPC endpoints of cfg: the --endpoint for
// both (ecsd serves both), else the SDK's regional endpoints.
func endpoints(cfg Config) (ecsURL, vpcURL string, err error) {
	if cfg.Endpoint != "" {
		return cfg.Endpoint, cfg.Endpoint, nil
	}
	er, err := ecsregion.SafeValueOf(cfg.Region)
	if err != nil {
		return "", "", usagef("unknown region %q: %v (give --endpoint)", cfg.Region, err)
	}
	vr, err := vpcregion.SafeValueOf(cfg.Region)
	if err != nil {
		return "", "", usagef("unknown region %q for VPC: %v (give --endpoint)", cfg.Region, err)
	}
	return er.Endpoints[0], vr.Endpoints[0], nil
}

// connect builds the SDK clients. The SDK panics on some bad settings;
// that is a usage error.
func (a *app) connect() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = usagef("bad settings: %v", r)
		}
	}()
	ecsURL, vpcURL, err := endpoints(a.cfg)
	if err != nil {
		return err
	}
	cred := basic.NewCredentialsBuilder().WithAk(a.cfg.AK).WithSk(a.cfg.SK)
	if a.cfg.ProjectID != "" {
		cred = cred.WithProjectId(a.cfg.ProjectID)
	}
	auth, err := cred.SafeBuild()
	if err != nil {
		return usagef("credentials: %v", err)
	}
	httpCfg := func() *config.HttpConfig {
		return config.DefaultHttpConfig().WithTimeout(a.cfg.Timeout)
	}
	eb := ecssdk.EcsClientBuilder().WithEndpoint(ecsURL).WithCredential(auth).WithHttpConfig(httpCfg())
	vb := vpcsdk.VpcClientBuilder().WithEndpoint(vpcURL).WithCredential(auth).WithHttpConfig(httpCfg())
	if a.cfg.Endpoint == "" {
		// With a region and no project ID the SDK asks IAM for the project.
		er, _ := ecsregion.SafeValueOf(a.cfg.Region)
		vr, _ := vpcregion.SafeValueOf(a.cfg.Region)
		eb = ecssdk.EcsClientBuilder().WithRegion(er).WithCredential(auth).WithHttpConfig(httpCfg())
		vb = vpcsdk.VpcClientBuilder().WithRegion(vr).WithCredential(auth).WithHttpConfig(httpCfg())
	}
	ec, err := eb.SafeBuild()
	if err != nil {
		return connErr(err)
	}
	vc, err := vb.SafeBuild()
	if err != nil {
		return connErr(err)
	}
	a.ecs, a.vpc = ecssdk.NewEcsClient(ec), vpcsdk.NewVpcClient(vc)
	return nil
}

func connErr(err error) error { return &exitError{code: exitConnection, err: err} }

// dispatch runs the command of a.cfg.
func (a *app) dispatch(ctx context.Context) error {
	switch a.cfg.Command {
	case "servers list":
		return a.serversList(ctx)
	case "servers show":
		return a.serversShow(ctx)
	case "servers create":
		return a.serversCreate(ctx)
	case "servers delete":
		return a.serversDelete(ctx)
	case "start", "stop", "reboot":
		return a.power(ctx)
	case "flavors list":
		return a.flavorsList(ctx)
	case "resize":
		return a.resize(ctx)
	case "jobs show":
		return a.jobsShow(ctx)
	}
	return usagef("unknown command %q", a.cfg.Command)
}

// call runs one SDK request, giving up when ctx ends (the SDK takes no
// context; its own HTTP timeout bounds the abandoned request).
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, &exitError{code: exitConnection, err: fmt.Errorf("gave up: %w", ctx.Err())}
	}
}
