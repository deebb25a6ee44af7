package main

import (
	"context"
	"fmt"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

// flavorRow is one line of `flavors list`.
type flavorRow struct {
	ID     string `json:"id"`
	VCPUs  string `json:"vcpus"`
	RAM    int32  `json:"ram"` // MB
	Type   string `json:"performance_type"`
	Status string `json:"status"`
	AZ     string `json:"availability_zones"`
}

func specs(e *model.FlavorExtraSpec) (typ, status, az string) {
	if e == nil {
		return "", "", ""
	}
	return deref(e.Ecsperformancetype), deref(e.Condoperationstatus), deref(e.Condoperationaz)
}

func flavorTable(rows []flavorRow) ([]string, [][]string) {
	out := make([][]string, len(rows))
	for i, f := range rows {
		out[i] = []string{f.ID, f.VCPUs, fmt.Sprintf("%g", float64(f.RAM)/1024), orDash(f.Type), orDash(f.Status), orDash(f.AZ)}
	}
	return []string{"ID", "VCPUS", "RAM_GIB", "TYPE", "STATUS", "AZ"}, out
}

func (a *app) flavorsList(ctx context.Context) error {
	var rows []flavorRow
	var raw any
	if id := a.cfg.ResizableTo; id != "" {
		resp, err := call(ctx, func() (*model.ListResizeFlavorsResponse, error) {
			return a.ecs.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &id})
		})
		if err != nil {
			return err
		}
		list := []model.ListResizeFlavorsResult{}
		if resp.Flavors != nil {
			list = *resp.Flavors
		}
		raw = list
		for _, f := range list {
			t, s, az := specs(f.ExtraSpecs)
			rows = append(rows, flavorRow{f.Id, f.Vcpus, f.Ram, t, s, az})
		}
	} else {
		req := &model.ListFlavorsRequest{}
		if a.cfg.AZ != "" {
			req.AvailabilityZone = &a.cfg.AZ
		}
		resp, err := call(ctx, func() (*model.ListFlavorsResponse, error) { return a.ecs.ListFlavors(req) })
		if err != nil {
			return err
		}
		list := []model.Flavor{}
		if resp.Flavors != nil {
			list = *resp.Flavors
		}
		raw = list
		for _, f := range list {
			t, s, az := specs(f.OsExtraSpecs)
			rows = append(rows, flavorRow{f.Id, f.Vcpus, f.Ram, t, s, az})
		}
	}
	if a.out.json() {
		return a.out.JSON(raw)
	}
	h, r := flavorTable(rows)
	return a.out.Table(h, r)
}
