package main

import (
	"context"
	"fmt"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

func (a *app) resize(ctx context.Context) error {
	id, flavor := a.cfg.Args[0], a.cfg.Args[1]
	opt := &model.ResizePostPaidServerOption{FlavorRef: flavor}
	if a.cfg.WithStop {
		mode := "withStopServer"
		opt.Mode = &mode
	}
	body := &model.ResizePostPaidServerRequestBody{Resize: opt}
	if a.cfg.DryRun {
		body.DryRun = &a.cfg.DryRun
	}
	resp, err := call(ctx, func() (*model.ResizePostPaidServerResponse, error) {
		return a.ecs.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id, Body: body})
	})
	if err != nil {
		return err
	}
	if a.cfg.DryRun {
		if a.out.json() {
			return a.out.JSON(map[string]any{"dry_run": true, "server_id": id, "flavor": flavor, "ok": true})
		}
		_, err := fmt.Fprintf(a.out.w, "dry run: server %s may be resized to %s\n", id, flavor)
		return err
	}
	return a.afterJob(ctx, deref(resp.JobId), id, resp)
}
