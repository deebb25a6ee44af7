package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"
)

// serverRow is one line of `servers list`.
func serverRow(s model.ServerDetail) []string {
	flavor := ""
	if s.Flavor != nil {
		flavor = s.Flavor.Id
	}
	return []string{s.Id, s.Name, s.Status, orDash(s.OSEXTSTStaskState), flavor, s.OSEXTAZavailabilityZone, billing(s.Metadata["charging_mode"])}
}

var serverHeader = []string{"ID", "NAME", "STATUS", "TASK", "FLAVOR", "AZ", "BILLING"}

// billing names a charging_mode metadata value.
func billing(mode string) string {
	switch mode {
	case "0", "postPaid", "":
		return "postPaid"
	case "1", "prePaid":
		return "prePaid"
	case "2", "spot":
		return "spot"
	}
	return mode
}

func (a *app) serversList(ctx context.Context) error {
	var all []model.ServerDetail
	for page := int32(1); ; page++ {
		limit := int32(100)
		resp, err := call(ctx, func() (*model.ListServersDetailsResponse, error) {
			return a.ecs.ListServersDetails(&model.ListServersDetailsRequest{Limit: &limit, Offset: &page})
		})
		if err != nil {
			return err
		}
		var got []model.ServerDetail
		if resp.Servers != nil {
			got = *resp.Servers
		}
		all = append(all, got...)
		if len(got) < int(limit) || (resp.Count != nil && len(all) >= int(*resp.Count)) {
			break
		}
	}
	if a.out.json() {
		if all == nil {
			all = []model.ServerDetail{}
		}
		return a.out.JSON(all)
	}
	rows := make([][]string, len(all))
	for i, s := range all {
		rows[i] = serverRow(s)
	}
	return a.out.Table(serverHeader, rows)
}

func (a *app) serversShow(ctx context.Context) error {
	id := a.cfg.Args[0]
	resp, err := call(ctx, func() (*model.ShowServerResponse, error) {
		return a.ecs.ShowServer(&model.ShowServerRequest{ServerId: id})
	})
	if err != nil {
		return err
	}
	if resp.Server == nil {
		return fmt.Errorf("server %s: empty answer", id)
	}
	if a.out.json() {
		return a.out.JSON(resp.Server)
	}
	return a.out.Fields(serverFields(*resp.Server))
}

// serverFields is `servers show` as a table.
func serverFields(s model.ServerDetail) [][2]string {
	r := serverRow(s)
	image := ""
	if s.Image != nil {
		image = s.Image.Id
	}
	var addrs []string
	nets := make([]string, 0, len(s.Addresses))
	for n := range s.Addresses {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	for _, n := range nets {
		for _, ad := range s.Addresses[n] {
			addrs = append(addrs, ad.Addr)
		}
	}
	return [][2]string{
		{"id", r[0]}, {"name", r[1]}, {"status", r[2]}, {"task_state", r[3]},
		{"power_state", fmt.Sprint(s.OSEXTSTSpowerState)}, {"flavor", r[4]}, {"az", r[5]}, {"billing", r[6]},
		{"image", orDash(image)}, {"vpc", orDash(s.Metadata["vpc_id"])}, {"addresses", orDash(strings.Join(addrs, ", "))},
		{"created", orDash(s.Created)}, {"updated", orDash(s.Updated)},
	}
}

// network finds the VPC and subnet of a new server: those given, else the
// first the VPC API lists.
func (a *app) network(ctx context.Context) (vpc, subnet string, err error) {
	vpc, subnet = a.cfg.VPC, a.cfg.Subnet
	if vpc != "" && subnet != "" {
		return vpc, subnet, nil
	}
	if vpc == "" && subnet == "" {
		vpcs, err := call(ctx, func() (*vpcmodel.ListVpcsResponse, error) {
			return a.vpc.ListVpcs(&vpcmodel.ListVpcsRequest{})
		})
		if err != nil {
			return "", "", err
		}
		if vpcs.Vpcs == nil || len(*vpcs.Vpcs) == 0 {
			return "", "", &exitError{code: exitRefused, err: fmt.Errorf("the project has no VPC: give --vpc and --subnet")}
		}
		vpc = (*vpcs.Vpcs)[0].Id
	}
	req := &vpcmodel.ListSubnetsRequest{}
	if vpc != "" {
		req.VpcId = &vpc
	}
	subnets, err := call(ctx, func() (*vpcmodel.ListSubnetsResponse, error) { return a.vpc.ListSubnets(req) })
	if err != nil {
		return "", "", err
	}
	if subnets.Subnets != nil {
		for _, s := range *subnets.Subnets {
			if subnet == "" || s.Id == subnet {
				return s.VpcId, s.Id, nil
			}
		}
	}
	if subnet != "" {
		return "", "", &exitError{code: exitRefused, err: fmt.Errorf("subnet %s not found: give --vpc too", subnet)}
	}
	return "", "", &exitError{code: exitRefused, err: fmt.Errorf("VPC %s has no subnet: give --subnet", vpc)}
}

func (a *app) serversCreate(ctx context.Context) error {
	vpc, subnet, err := a.network(ctx)
	if err != nil {
		return err
	}
	c := a.cfg
	server := &model.PostPaidServer{
		Name: c.Name, FlavorRef: c.Flavor, ImageRef: c.Image, Vpcid: vpc,
		Nics:       []model.PostPaidServerNic{{SubnetId: &subnet}},
		RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
	}
	if c.Count > 1 {
		n := int32(c.Count)
		server.Count = &n
	}
	if c.AZ != "" {
		server.AvailabilityZone = &c.AZ
	}
	resp, err := call(ctx, func() (*model.CreatePostPaidServersResponse, error) {
		return a.ecs.CreatePostPaidServers(&model.CreatePostPaidServersRequest{
			Body: &model.CreatePostPaidServersRequestBody{Server: server}})
	})
	if err != nil {
		return err
	}
	var ids []string
	if resp.ServerIds != nil {
		ids = *resp.ServerIds
	}
	jobID := deref(resp.JobId)
	if !a.cfg.Wait {
		if a.out.json() {
			return a.out.JSON(resp)
		}
		fmt.Fprintf(a.out.w, "job %s accepted\n", jobID)
		for _, id := range ids {
			fmt.Fprintf(a.out.w, "server %s\n", id)
		}
		return nil
	}
	single := ""
	if len(ids) == 1 {
		single = ids[0]
	}
	job, err := a.waitJob(ctx, jobID, single)
	if err != nil {
		return err
	}
	if err := a.finishJob(job); err != nil {
		return err
	}
	if !a.out.json() {
		for _, id := range ids {
			fmt.Fprintf(a.out.w, "server %s\n", id)
		}
	}
	return nil
}

func serverIDs(ids []string) []model.ServerId {
	out := make([]model.ServerId, len(ids))
	for i, id := range ids {
		out[i] = model.ServerId{Id: id}
	}
	return out
}

func single(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return ""
}

func (a *app) serversDelete(ctx context.Context) error {
	ids := a.cfg.Args
	body := &model.DeleteServersRequestBody{Servers: serverIDs(ids)}
	if a.cfg.DeleteVolume {
		body.DeleteVolume = &a.cfg.DeleteVolume
	}
	resp, err := call(ctx, func() (*model.DeleteServersResponse, error) {
		return a.ecs.DeleteServers(&model.DeleteServersRequest{Body: body})
	})
	if err != nil {
		return err
	}
	return a.afterJob(ctx, deref(resp.JobId), single(ids), resp)
}

// power runs start, stop or reboot.
func (a *app) power(ctx context.Context) error {
	ids := a.cfg.Args
	var jobID *string
	var accepted any
	var err error
	switch a.cfg.Command {
	case "start":
		var r *model.BatchStartServersResponse
		r, err = call(ctx, func() (*model.BatchStartServersResponse, error) {
			return a.ecs.BatchStartServers(&model.BatchStartServersRequest{Body: &model.BatchStartServersRequestBody{
				OsStart: &model.BatchStartServersOption{Servers: serverIDs(ids)}}})
		})
		if err == nil {
			jobID, accepted = r.JobId, r
		}
	case "stop":
		typ := model.GetBatchStopServersOptionTypeEnum().SOFT
		if a.cfg.Hard {
			typ = model.GetBatchStopServersOptionTypeEnum().HARD
		}
		var r *model.BatchStopServersResponse
		r, err = call(ctx, func() (*model.BatchStopServersResponse, error) {
			return a.ecs.BatchStopServers(&model.BatchStopServersRequest{Body: &model.BatchStopServersRequestBody{
				OsStop: &model.BatchStopServersOption{Servers: serverIDs(ids), Type: &typ}}})
		})
		if err == nil {
			jobID, accepted = r.JobId, r
		}
	case "reboot":
		typ := model.GetBatchRebootSeversOptionTypeEnum().SOFT
		if a.cfg.Hard {
			typ = model.GetBatchRebootSeversOptionTypeEnum().HARD
		}
		var r *model.BatchRebootServersResponse
		r, err = call(ctx, func() (*model.BatchRebootServersResponse, error) {
			return a.ecs.BatchRebootServers(&model.BatchRebootServersRequest{Body: &model.BatchRebootServersRequestBody{
				Reboot: &model.BatchRebootSeversOption{Servers: serverIDs(ids), Type: typ}}})
		})
		if err == nil {
			jobID, accepted = r.JobId, r
		}
	}
	if err != nil {
		return err
	}
	return a.afterJob(ctx, deref(jobID), single(ids), accepted)
}
