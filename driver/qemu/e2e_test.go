package qemu_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/driver"
	"github.com/ecsd-dev/ecsd/driver/qemu"
	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/internal/ecsdproc"
	"github.com/ecsd-dev/ecsd/internal/poll"
	"github.com/ecsd-dev/ecsd/node"
)

const azA = "cn-north-4a"

// startNode runs an in-process ecsd with the qemu driver (ephemeral store:
// its machines live in a temporary directory that closing the node
// removes) and returns it with the driver.
func startNode(t *testing.T, edit func(*node.Config)) (*ecsdtest.Env, *qemu.Driver) {
	t.Helper()
	requireQEMU(t)
	env := ecsdtest.New(t, ecsdtest.WithNodeConfig(func(c *node.Config) {
		c.Driver = "qemu"
		if edit != nil {
			edit(c)
		}
	}))
	d, ok := env.Node.Driver.(*qemu.Driver)
	if !ok {
		t.Fatalf("node driver is %T, want *qemu.Driver", env.Node.Driver)
	}
	dir := d.Dir()
	t.Cleanup(func() { killMachines(t, dir) })
	return env, d
}

// createServer creates a server of flavor in zone A and waits for it.
func createServer(t *testing.T, env *ecsdtest.Env, name, flavor string) string {
	t.Helper()
	subnet, az := env.SubnetID(), azA
	resp, err := env.ECS.CreatePostPaidServers(&model.CreatePostPaidServersRequest{Body: &model.CreatePostPaidServersRequestBody{
		Server: &model.PostPaidServer{
			Name: name, ImageRef: ecsdtest.ImageUbuntu, FlavorRef: flavor, Vpcid: env.VPCID(), AvailabilityZone: &az,
			Nics:       []model.PostPaidServerNic{{SubnetId: &subnet}},
			RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
		},
	}})
	if err != nil {
		t.Fatalf("create server: %v", err)
	}
	env.MustSucceed(t, *resp.JobId)
	return (*resp.ServerIds)[0]
}

func resize(t *testing.T, env *ecsdtest.Env, id, flavor string) *model.ShowJobResponse {
	t.Helper()
	resp, err := env.ECS.ResizePostPaidServer(&model.ResizePostPaidServerRequest{ServerId: id,
		Body: &model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{FlavorRef: flavor}}})
	if err != nil {
		t.Fatalf("resize %s to %s: %v", id, flavor, err)
	}
	return env.WaitJob(t, *resp.JobId)
}

func startServer(t *testing.T, env *ecsdtest.Env, id string) {
	t.Helper()
	resp, err := env.ECS.BatchStartServers(&model.BatchStartServersRequest{Body: &model.BatchStartServersRequestBody{
		OsStart: &model.BatchStartServersOption{Servers: []model.ServerId{{Id: id}}},
	}})
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	env.MustSucceed(t, *resp.JobId)
}

func showServer(t *testing.T, env *ecsdtest.Env, id string) *model.ServerDetail {
	t.Helper()
	resp, err := env.ECS.ShowServer(&model.ShowServerRequest{ServerId: id})
	if err != nil {
		t.Fatalf("show %s: %v", id, err)
	}
	return resp.Server
}

func wantServer(t *testing.T, env *ecsdtest.Env, id, status, flavor string) {
	t.Helper()
	s := showServer(t, env, id)
	if s.Status != status || s.Flavor.Id != flavor || s.OSEXTSTStaskState != "" {
		t.Fatalf("server %s: %s, flavor %s, task %q; want %s, %s, no task", id, s.Status, s.Flavor.Id, s.OSEXTSTStaskState, status, flavor)
	}
}

// TestResizeThroughSDK is the scenario: a 1-vCPU server is stopped,
// resized to a 2-vCPU flavor with more memory and started, and QEMU reports
// the new shape. With $ECSD_QEMU_KERNEL the guest boots Linux and its own
// console reports 2 CPUs.
func TestResizeThroughSDK(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	var kernel, initrd string
	if os.Getenv("ECSD_QEMU_KERNEL") != "" {
		kernel, initrd = guestKernel(t)
	} else {
		t.Log("ECSD_QEMU_KERNEL is not set: firmware-only machines, the guest's own report is not checked")
	}
	env, d := startNode(t, func(c *node.Config) {
		c.QEMUKernel, c.QEMUInitrd = kernel, initrd
		if kernel != "" {
			// What CI has; nested KVM may fail to boot a kernel.
			c.QEMUAccel = "tcg"
		}
		// The test guest does not act on ACPI power-down requests.
		c.QEMUPowerdownTimeout = 200 * time.Millisecond
	})
	start := time.Now()
	id := createServer(t, env, "vm-resize", "s6.small.1")
	t.Logf("create through the API took %s", time.Since(start))
	requireMachine(t, d, id, driver.Shape{VCPUs: 1, RAMMB: 1024})

	start = time.Now()
	env.StopServer(t, id)
	wantServer(t, env, id, "SHUTOFF", "s6.small.1")
	t.Logf("stop took %s", time.Since(start))
	start = time.Now()
	if job := resize(t, env, id, "s6.large.2"); job.Status.Value() != "SUCCESS" {
		t.Fatalf("resize job %s: %s %v", *job.JobId, job.Status.Value(), job.FailReason)
	}
	t.Logf("resize (stopped) took %s", time.Since(start))
	wantServer(t, env, id, "SHUTOFF", "s6.large.2")
	start = time.Now()
	startServer(t, env, id)
	t.Logf("start took %s", time.Since(start))
	wantServer(t, env, id, "ACTIVE", "s6.large.2")

	det := mustDescribe(t, d, id)
	if det.Status != "running" || det.VCPUs != 2 || det.MemoryMB != 256 {
		t.Fatalf("QMP reports %q, %d vCPUs, %d MiB; want running, 2 vCPUs, 256 MiB (4096 MiB / 16)", det.Status, det.VCPUs, det.MemoryMB)
	}
	if kernel == "" {
		return
	}
	var cpus, memKB int
	var console string
	defer func() {
		if t.Failed() {
			t.Logf("the guest's console ends with:\n%s", console)
		}
	}()
	poll.For(t, 3*time.Minute, "the guest to report 2 CPUs on its console", func() bool {
		console = mustDescribe(t, d, id).ConsoleLog
		var ok bool
		cpus, memKB, ok = guestReport(console)
		return ok && cpus == 2
	})
	// The kernel keeps some memory for itself; what it reports lies between
	// the old machine's 128 MiB and the new one's 256 MiB.
	if memKB <= 128*1024 || memKB > 256*1024 {
		t.Fatalf("the guest reports MemTotal %d kB, want between 128 and 256 MiB", memKB)
	}
	t.Logf("the guest reports %d CPUs and %d kB after the resize", cpus, memKB)
}

// TestResizeFailureRollsBack runs ecsd on a QEMU that gives every machine
// one vCPU: the resize to two fails its QMP check, the job fails and the
// server is back on its old flavor.
func TestResizeFailureRollsBack(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	env, d := startNode(t, func(c *node.Config) { c.QEMUBinary = liar(t) })
	id := createServer(t, env, "vm-rollback", "s6.small.1")
	env.StopServer(t, id)
	job := resize(t, env, id, "s6.large.2")
	if job.Status.Value() != "FAIL" {
		t.Fatalf("resize on a lying QEMU: job %s, want FAIL", job.Status.Value())
	}
	wantServer(t, env, id, "SHUTOFF", "s6.small.1")
	st, err := d.Inspect(t.Context(), id)
	if err != nil || st.Shape.VCPUs != 1 || st.Power != driver.PowerStopped {
		t.Fatalf("Inspect after the rollback = %+v, %v; want stopped with 1 vCPU", st, err)
	}
	startServer(t, env, id)
	requireMachine(t, d, id, driver.Shape{VCPUs: 1, RAMMB: 1024})
}

// TestHostsFromTheMachine checks the capacity the node places servers on.
func TestHostsFromTheMachine(t *testing.T) {
	t.Parallel()
	env, _ := startNode(t, func(c *node.Config) { c.QEMUOvercommit = 2 })
	hosts, err := env.Node.Driver.(*qemu.Driver).Hosts([]string{azA, "cn-north-4b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[0].AZ != azA || hosts[0].VCPUs < 2 || hosts[0].Arch != "x86_64" {
		t.Fatalf("Hosts = %+v", hosts)
	}
}

// --- kill -9 ---------------------------------------------------------------

func TestMain(m *testing.M) {
	code := m.Run()
	ecsdproc.Remove()
	os.Exit(code)
}

// startECSD runs the ecsd binary with the qemu driver on data and waits
// for its banner.
func startECSD(t *testing.T, data string) *ecsdproc.Process {
	t.Helper()
	p, err := ecsdproc.Start(t, data, data+".log", time.Minute, "--driver", "qemu", "--timing", "instant")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// machinePID returns the pid the driver's state file records for a
// server's machine (0 when stopped), and its QMP socket.
func machinePID(t *testing.T, data, id string) (int, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "qemu", id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		PID    int    `json:"pid"`
		Socket string `json:"socket"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st.PID, st.Socket
}

func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

// qmpCPUs asks the machine's QMP monitor how many vCPUs it has.
func qmpCPUs(t *testing.T, socket string) int {
	t.Helper()
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		t.Fatalf("QMP: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var cpus []json.RawMessage
	for i, cmd := range []string{"", "qmp_capabilities", "query-cpus-fast"} {
		if cmd != "" {
			fmt.Fprintf(conn, `{"execute": %q}`+"\n", cmd)
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				t.Fatalf("QMP: %v", err)
			}
			var m struct {
				QMP, Return json.RawMessage
				Event       string
			}
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("QMP: %v", err)
			}
			if m.Event != "" {
				continue
			}
			if i == 2 {
				if err := json.Unmarshal(m.Return, &cpus); err != nil {
					t.Fatalf("QMP: %s: %v", line, err)
				}
			}
			break
		}
	}
	return len(cpus)
}

// TestKillNine kills ecsd with SIGKILL while its machines run: a restarted
// ecsd re-attaches to the machine that survived (same process, operable)
// and shows the server whose machine died meanwhile as SHUTOFF.
func TestKillNine(t *testing.T) {
	t.Parallel()
	requireQEMU(t)
	data := filepath.Join(t.TempDir(), "data")
	t.Cleanup(func() { killMachines(t, data) })

	p := startECSD(t, data)
	env := &ecsdtest.Env{URL: p.URL, Tenant: ecs.DevTenant, ECS: ecsdtest.Client(p.URL, ecs.DevTenant)}
	keep := createServer(t, env, "vm-keep", "s6.small.1")
	dies := createServer(t, env, "vm-dies", "s6.small.1")
	keepPID, socket := machinePID(t, data, keep)
	diesPID, _ := machinePID(t, data, dies)
	if !processAlive(keepPID) || !processAlive(diesPID) {
		t.Fatalf("machines %d and %d do not run", keepPID, diesPID)
	}

	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()
	if !processAlive(keepPID) {
		t.Fatal("the machine died with ecsd")
	}
	// One machine dies while ecsd is down.
	if err := syscall.Kill(diesPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	poll.For(t, 10*time.Second, "the machine to die", func() bool { return !processAlive(diesPID) })

	start := time.Now()
	p = startECSD(t, data)
	t.Logf("restart took %s", time.Since(start))
	env = &ecsdtest.Env{URL: p.URL, Tenant: ecs.DevTenant, ECS: ecsdtest.Client(p.URL, ecs.DevTenant)}
	wantServer(t, env, keep, "ACTIVE", "s6.small.1")
	wantServer(t, env, dies, "SHUTOFF", "s6.small.1")
	if pid, _ := machinePID(t, data, keep); pid != keepPID || !processAlive(pid) {
		t.Fatalf("after the restart the machine is pid %d (alive %v), want the same %d", pid, processAlive(pid), keepPID)
	}
	if n := qmpCPUs(t, socket); n != 1 {
		t.Fatalf("QMP reports %d vCPUs, want 1", n)
	}

	// The re-attached machine is operated as before.
	env.StopServer(t, keep)
	if processAlive(keepPID) {
		t.Fatal("the machine still runs after the stop")
	}
	startServer(t, env, keep)
	pid, socket := machinePID(t, data, keep)
	if pid == keepPID || !processAlive(pid) || qmpCPUs(t, socket) != 1 {
		t.Fatalf("after the start: pid %d (was %d), alive %v", pid, keepPID, processAlive(pid))
	}
	startServer(t, env, dies)
	wantServer(t, env, dies, "ACTIVE", "s6.small.1")
}
