package compute_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
)

func TestNovaResizeServer(t *testing.T) {
	t.Parallel()
	b := setup(t)

	tests := []struct {
		name     string
		server   func(s *ecs.Server)
		flavor   string
		wantCode string
		wantTask string
		running  bool
	}{
		{name: "stopped server", flavor: "s6.large.4", wantTask: ecs.TaskResizePrep},
		{name: "running server (Nova stops it)", server: running, flavor: "s6.large.4", wantTask: ecs.TaskPoweringOff, running: true},
		{name: "same flavor", flavor: "s6.small.1", wantCode: ecs.CodeSameFlavor},
		{name: "unknown flavor", flavor: "no.such.flavor", wantCode: ecs.CodeFlavorNotFound},
		{name: "spot", server: func(s *ecs.Server) { s.ChargingMode = ecs.ChargingSpot }, flavor: "s6.large.4", wantCode: ecs.CodeChargingNotAllowed},
		{name: "yearly/monthly", server: func(s *ecs.Server) { s.ChargingMode = ecs.ChargingPrePaid }, flavor: "s6.large.4", wantCode: ecs.CodeChargingNotAllowed},
		{name: "locked", server: func(s *ecs.Server) { s.Locked = true }, flavor: "s6.large.4", wantCode: ecs.CodeLocked},
		{name: "busy", server: func(s *ecs.Server) { s.TaskState = ecs.TaskPoweringOn }, flavor: "s6.large.4", wantCode: ecs.CodeBusy},
		{name: "in VERIFY_RESIZE", server: func(s *ecs.Server) {
			s.VMState, s.FlavorID, s.ResizeFlavorID, s.ResizeHostID = ecs.VMResized, "s6.medium.2", "s6.small.1", s.HostID
		}, flavor: "s6.large.4", wantCode: ecs.CodeStateConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := b.newProject(t, ecs.DefaultQuota)
			srv := b.mustInsertServer(t, p, tc.server)
			before := b.snapshot(t, p)
			jobID, err := b.svc.NovaResizeServer(t.Context(), &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: tc.flavor, APIVersion: "v2.1"})
			if tc.wantCode != "" {
				requireCode(t, err, tc.wantCode)
				b.requireUnchanged(t, p, before)
				return
			}
			if err != nil {
				t.Fatalf("NovaResizeServer: %v", err)
			}
			job := b.job(t, jobID)
			if job.Type != ecs.JobNovaResize || job.ServerID != srv.ID {
				t.Errorf("job %+v, want a %s job of %s", job, ecs.JobNovaResize, srv.ID)
			}
			var params compute.ResizeParams
			if err := json.Unmarshal([]byte(job.Params), &params); err != nil {
				t.Fatal(err)
			}
			if params.FlavorID != tc.flavor || params.OldFlavorID != "s6.small.1" || params.WasRunning != tc.running || params.HostID == "" {
				t.Errorf("params %+v", params)
			}
			s := b.server(t, srv.ID)
			if s.TaskState != tc.wantTask || s.ResizeFlavorID != tc.flavor || s.FlavorID != "s6.small.1" {
				t.Errorf("server task %q reserved %q flavor %s; want %q, %q, s6.small.1", s.TaskState, s.ResizeFlavorID, s.FlavorID, tc.wantTask, tc.flavor)
			}
		})
	}

	t.Run("quota", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.Quota{Instances: 10, Cores: 1, RAMMB: 1024})
		srv := b.mustInsertServer(t, p, nil)
		_, err := b.svc.NovaResizeServer(t.Context(), &ecs.ResizeRequest{ProjectID: p, ServerID: srv.ID, FlavorID: "s6.large.4"})
		requireCode(t, err, ecs.CodeQuota)
	})
}

func TestConfirmRevertAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	verify := func(power int) func(s *ecs.Server) {
		return func(s *ecs.Server) {
			s.VMState, s.PowerState = ecs.VMResized, power
			s.FlavorID, s.HostID = "s6.large.4", "cn-north-4a-x86-02"
			s.ResizeFlavorID, s.ResizeHostID = "s6.small.1", "cn-north-4a-x86-01"
		}
	}

	t.Run("confirm", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.DefaultQuota)
		srv := b.mustInsertServer(t, p, verify(ecs.PowerRunning))
		jobID, err := b.svc.ConfirmResize(t.Context(), p, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j := b.job(t, jobID); j.Type != ecs.JobConfirmResize {
			t.Errorf("job type %s", j.Type)
		}
		s := b.server(t, srv.ID)
		if s.TaskState != ecs.TaskResizeConfirming || s.Status() != ecs.StatusVerifyResize {
			t.Errorf("confirming: %s/%s", s.Status(), s.TaskState)
		}
	})

	t.Run("revert", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.DefaultQuota)
		srv := b.mustInsertServer(t, p, verify(ecs.PowerRunning))
		jobID, err := b.svc.RevertResize(t.Context(), p, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		j := b.job(t, jobID)
		var params compute.RevertParams
		if err := json.Unmarshal([]byte(j.Params), &params); err != nil {
			t.Fatal(err)
		}
		want := compute.RevertParams{FlavorID: "s6.small.1", HostID: "cn-north-4a-x86-01", NewFlavorID: "s6.large.4", NewHostID: "cn-north-4a-x86-02", WasRunning: true}
		if j.Type != ecs.JobRevertResize || params != want {
			t.Errorf("job %s params %+v, want %s %+v", j.Type, params, ecs.JobRevertResize, want)
		}
		if s := b.server(t, srv.ID); s.Status() != ecs.StatusRevertResize {
			t.Errorf("reverting: %s", s.Status())
		}
	})

	t.Run("refused unless VERIFY_RESIZE", func(t *testing.T) {
		t.Parallel()
		p := b.newProject(t, ecs.DefaultQuota)
		for _, mutate := range []func(s *ecs.Server){nil, running, func(s *ecs.Server) { s.VMState = ecs.VMError }} {
			srv := b.mustInsertServer(t, p, mutate)
			before := b.snapshot(t, p)
			for _, call := range []func() (string, error){
				func() (string, error) { return b.svc.ConfirmResize(t.Context(), p, srv.ID) },
				func() (string, error) { return b.svc.RevertResize(t.Context(), p, srv.ID) },
			} {
				_, err := call()
				var e *ecs.Error
				if !errors.As(err, &e) || e.Code != ecs.CodeStateConflict || e.Status != http.StatusConflict {
					t.Errorf("server %s: err %v, want a 409 %s", srv.Status(), err, ecs.CodeStateConflict)
				}
			}
			b.requireUnchanged(t, p, before)
		}
	})
}
