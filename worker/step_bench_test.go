package worker_test

import (
	"context"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/driver/sim"
	"github.com/ecsd-dev/ecsd/store/storetest"
	"github.com/ecsd-dev/ecsd/worker"
)

// BenchmarkResizeStep measures one resize of a stopped server through the
// state machine, on a real on-disk SQLite store with instant phases:
// "accept" is compute.ResizeServer (rules, the server's state change and
// the job row in one transaction; the queue is a no-op), and "run" is
// worker.Runner.Run of that job (load, plan, a transaction per phase, the
// driver's resize, the final state). Each iteration resizes between two
// flavors.
func BenchmarkResizeStep(b *testing.B) {
	ctx := context.Background()
	db := storetest.NewDB(b)
	drv := sim.New(sim.Options{})
	svc := &compute.Service{Store: db, Queue: &fakeQueue{}, Catalog: cat, Clock: ecs.RealClock{}, Logger: discard}
	runner := &worker.Runner{Store: db, Driver: drv, Flavors: cat, Clock: ecs.RealClock{}, Timing: worker.Timing{}, Logger: discard}
	p := ecs.DevTenant.ProjectID
	if err := svc.EnsureTenant(ctx, ecs.DevTenant, ecs.Quota{Instances: -1, Cores: -1, RAMMB: -1}); err != nil {
		b.Fatal(err)
	}
	var hosts []ecs.Host
	for _, h := range cat.Hosts() {
		hosts = append(hosts, ecs.Host{ID: h.ID, AZ: h.AZ, VCPUs: h.VCPUs, RAMMB: h.RAMMB, Arch: h.Arch})
	}
	if err := svc.SetHosts(ctx, hosts); err != nil {
		b.Fatal(err)
	}
	run := func(jobID string) {
		if err := runner.Run(ctx, jobID, false, nil); err != nil {
			b.Fatal(err)
		}
	}
	// runAll runs a batch job's sub-jobs, or the job itself.
	runAll := func(jobID string) {
		job, err := svc.FindJobByID(ctx, "", jobID)
		if err != nil {
			b.Fatal(err)
		}
		if len(job.SubJobs) == 0 {
			run(jobID)
		}
		for _, sub := range job.SubJobs {
			run(sub.ID)
		}
	}
	res, err := svc.CreateServers(ctx, &ecs.CreateServersRequest{
		ProjectID: p, Name: "bench", ImageID: imageUbuntu22, FlavorID: "s6.small.1", Count: 1,
		VPCID: compute.DerivedUUID(p + "/vpc"), SubnetIDs: []string{compute.DerivedUUID(p + "/subnet")},
		ChargingMode: ecs.ChargingPostPaid, AvailabilityZone: "cn-north-4a",
	})
	if err != nil {
		b.Fatal(err)
	}
	runAll(res.JobID)
	id := res.ServerIDs[0]
	stop, err := svc.ActOnServers(ctx, &ecs.ServerActionRequest{ProjectID: p, Action: ecs.ActionStop, ServerIDs: []string{id}})
	if err != nil {
		b.Fatal(err)
	}
	runAll(stop)

	// The server goes back and forth between two flavors, counted across
	// the sub-benchmarks and their runs (-count), so that each resize
	// asks for the flavor the server does not have.
	flavors := [2]string{"s6.medium.2", "s6.small.1"}
	resizes := 0
	accept := func() string {
		jobID, err := svc.ResizeServer(ctx, &ecs.ResizeRequest{ProjectID: p, ServerID: id, FlavorID: flavors[resizes%2], APIVersion: "v1"})
		if err != nil {
			b.Fatal(err)
		}
		resizes++
		return jobID
	}
	b.Run("accept+run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			run(accept())
		}
	})
	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			jobID := accept()
			b.StartTimer()
			run(jobID)
		}
	})
}
