package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/compute"
	"github.com/ecsd-dev/ecsd/signature"
)

// The list page (ListServersDetails, limit=100) as the handler builds and
// writes it: go test -run XXX -bench ListPage -benchmem ./httpapi/

// benchServers returns n realistic servers of the test project: running
// or stopped, with an address, user metadata, tags, two security groups
// and (benchVolumes) a system and a data disk.
func benchServers(n int) []*ecs.Server {
	out := make([]*ecs.Server, n)
	for i := range out {
		s := testServer()
		s.ID = fmt.Sprintf("0f58c8dc-4a78-42e6-9811-%012x", i)
		s.Name = fmt.Sprintf("ecs-bench-%03d", i)
		s.PortID = fmt.Sprintf("4b5fe243-2f5f-4c68-9eb2-%012x", i)
		s.IPAddress = fmt.Sprintf("192.168.%d.%d", i/250, 2+i%250)
		s.MACAddress = fmt.Sprintf("fa:16:3e:09:%02x:%02x", i/256, i%256)
		s.RootVolumeID = fmt.Sprintf("2f5b14ed-2889-4d92-aeab-%012x", i)
		s.Metadata = map[string]string{"owner": "team-a", "env": "prod", "app": fmt.Sprintf("web-%d", i%7)}
		s.Tags = []string{"env=prod", "team=a"}
		if i%4 == 3 {
			s.VMState, s.PowerState = ecs.VMStopped, ecs.PowerShutdown
		}
		out[i] = s
	}
	return out
}

// benchVolumes returns the system and data disk of s.
func benchVolumes(s *ecs.Server) []*ecs.Volume {
	return []*ecs.Volume{
		{ID: s.RootVolumeID, ProjectID: s.ProjectID, AvailabilityZone: s.AvailabilityZone, VolumeType: "SSD", SizeGB: 40,
			Bootable: true, ImageID: s.ImageID, Status: ecs.VolumeInUse, ServerID: s.ID, Device: rootDeviceName,
			BootIndex: 0, DeleteOnTermination: true, Created: s.Created, Updated: s.Updated},
		{ID: "d" + s.RootVolumeID[1:], ProjectID: s.ProjectID, AvailabilityZone: s.AvailabilityZone, VolumeType: "SSD", SizeGB: 100,
			Status: ecs.VolumeInUse, ServerID: s.ID, Device: "/dev/vdb", BootIndex: -1, Created: s.Created, Updated: s.Updated},
	}
}

func benchViews(n int) []serverView {
	servers := benchServers(n)
	views := make([]serverView, n)
	for i, s := range servers {
		v := testView(s)
		v.SecurityGroups = append(v.SecurityGroups, &ecs.SecurityGroup{ID: s.SecurityGroups[1], ProjectID: testProjectID, Name: "web"})
		v.Volumes = benchVolumes(s)
		views[i] = v
	}
	return views
}

// discardWriter is an http.ResponseWriter that counts and drops the body.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header    { return w.h }
func (w *discardWriter) WriteHeader(status int) { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// BenchmarkListPage measures a page of 100 server details: building the
// details (build), encoding and writing them (encode), and both, as
// listServersV1 does after reading the store (page).
func BenchmarkListPage(b *testing.B) {
	views := benchViews(100)
	w := &discardWriter{h: http.Header{}}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]serverDetail, len(views))
			for i, v := range views {
				out[i] = newServerDetail(v)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		body := serverDetailsPage{Count: 100_000, Servers: make([]serverDetail, len(views))}
		for i, v := range views {
			body.Servers[i] = newServerDetail(v)
		}
		w.n = 0
		b.ReportAllocs()
		for b.Loop() {
			writeJSON(w, http.StatusOK, body)
		}
		b.SetBytes(int64(w.n) / int64(b.N))
	})
	b.Run("page", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			page := serverDetailsPage{Count: 100_000, Servers: make([]serverDetail, len(views))}
			for i, v := range views {
				page.Servers[i] = newServerDetail(v)
			}
			writeJSON(w, http.StatusOK, page)
		}
	})
}

// seedBenchServers commits benchServers(n), with their volumes, to the
// store of api, and returns them.
func seedBenchServers(b *testing.B, api *apiBundle, n int) []*ecs.Server {
	ctx := context.Background()
	db := api.db
	tx, err := db.BeginTx(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now()
	servers := benchServers(n)
	for _, s := range servers {
		s.ProjectID, s.FlavorID, s.Created, s.Updated = pid, "s6.small.1", now, now
		s.VPCID, s.SubnetID = compute.DerivedUUID(pid+"/vpc"), compute.DerivedUUID(pid+"/subnet")
		if err := db.InsertServer(ctx, tx, s); err != nil {
			b.Fatal(err)
		}
		for _, v := range benchVolumes(s) {
			if err := db.InsertVolume(ctx, tx, v); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return servers
}

// benchGet returns a function that sends GET path through the handler of
// api, signed like the Go SDK, fails b unless it answers 200 with at
// least minBytes, and benchmarks it.
func benchGet(b *testing.B, api *apiBundle, path string, minBytes int) {
	h := api.handler
	w := &discardWriter{h: http.Header{}}
	get := func() {
		r := httptest.NewRequest("GET", "http://ecsd.test"+path, nil)
		r.Header.Set("X-Project-Id", pid)
		signature.Sign(r, nil, ecs.DevTenant.AccessKey, ecs.DevTenant.SecretKey, time.Now())
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, r)
	}
	get()
	if w.status != http.StatusOK || w.n < minBytes {
		b.Fatalf("GET %s: status %d, %d bytes", path, w.status, w.n)
	}
	b.ReportAllocs()
	for b.Loop() {
		get()
	}
}

// BenchmarkListServersHandler measures GET /v1/{project_id}/cloudservers/
// detail?limit=100 through the whole handler (signature check included)
// over an in-memory SQLite store of 1,000 servers with two volumes each.
func BenchmarkListServersHandler(b *testing.B) {
	api := setupAPI(b)
	seedBenchServers(b, api, 1000)
	benchGet(b, api, "/v1/"+pid+"/cloudservers/detail?limit=100", 100*1000)
}

// BenchmarkShowServerHandler measures GET /v1/{project_id}/cloudservers/
// {server_id} through the whole handler (signature check included) over
// an in-memory SQLite store of 1,000 servers with two volumes each.
func BenchmarkShowServerHandler(b *testing.B) {
	api := setupAPI(b)
	servers := seedBenchServers(b, api, 1000)
	benchGet(b, api, "/v1/"+pid+"/cloudservers/"+servers[500].ID, 1000)
}
