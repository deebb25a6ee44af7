package httpapi

import (
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// Realistic domain values for the wire tests.

const (
	testProjectID = "0123456789abcdef0123456789abcdef"
	testServerID  = "0f58c8dc-4a78-42e6-9811-565679de8e9e"
	testVPCID     = "140fd038-c4ae-4c32-ac07-34b525eb6b95"
	testSubnetID  = "5e6f9a3c-7b1d-4a2e-9c8f-0d1e2f3a4b5c"
	testImageID   = "abe65701-8a26-40ec-b381-c10498ca3745"
	testSGID      = "be4204e7-0b04-4e14-9782-c5f574917fdf"
	testUserID    = "05498fe56b8010d41f7fc01e280b6666"
)

var testTime = time.Date(2025, time.March, 4, 5, 6, 7, 891_000_000, time.UTC)

func testFlavor() *ecs.Flavor {
	return &ecs.Flavor{
		ID: "s6.large.2", Name: "s6.large.2", VCPUs: 2, RAMMB: 4096, Family: "s6",
		ExtraSpecs: map[string]string{
			"ecs:performancetype":          "normal",
			"ecs:generation":               "s6",
			"ecs:virtualization_env_types": "CloudCompute",
			"resource_type":                "IOoptimizedS6",
			"hw:numa_nodes":                "1",
			"hw:cpu_threads":               "2",
			"instance_vnic:type":           "enhanced",
			"quota:max_rate":               "1500",
			"cond:operation:az":            "cn-north-4a(normal), cn-north-4b(sellout), cn-north-4c(normal)",
		},
	}
}

func testGPUFlavor() *ecs.Flavor {
	return &ecs.Flavor{
		ID: "pi2.2xlarge.4", Name: "pi2.2xlarge.4", VCPUs: 8, RAMMB: 32768, Family: "pi2",
		ExtraSpecs: map[string]string{
			"ecs:performancetype":          "gpu",
			"ecs:virtualization_env_types": "CloudCompute",
			"pci_passthrough:alias":        "nvidia-t4:1",
		},
		GPUs: []ecs.GPU{{Name: "nvidia-t4", Count: 1, MemoryMB: 16384}},
	}
}

func testImage() *ecs.Image {
	return &ecs.Image{
		ID: testImageID, Name: "Ubuntu 22.04 server 64bit(40GB)", OSType: "Linux",
		OSVersion: "Ubuntu 22.04 server 64bit", Platform: "Ubuntu", Architecture: "x86_64",
		MinDiskGB: 40, SizeBytes: 2_471_493_632, Created: testTime, SupportsKVM: true,
	}
}

// testServer returns a running pay-per-use server.
func testServer() *ecs.Server {
	return &ecs.Server{
		ID: testServerID, ProjectID: testProjectID, Name: "ecs-test", Description: "test server",
		FlavorID: "s6.large.2", ImageID: testImageID, AvailabilityZone: "cn-north-4a", HostID: "x86-01",
		VMState: ecs.VMActive, TaskState: ecs.TaskNone, PowerState: ecs.PowerRunning,
		ChargingMode: ecs.ChargingPostPaid,
		VPCID:        testVPCID, SubnetID: testSubnetID, PortID: "4b5fe243-2f5f-4c68-9eb2-8af3a5368bea",
		IPAddress: "192.168.0.219", MACAddress: "fa:16:3e:09:31:dc",
		SecurityGroups: []string{testSGID, "0a1b2c3d-0000-0000-0000-000000000000"},
		KeyName:        "KeyPair-test", UserData: "IyEvYmluL2Jhc2gK",
		Metadata:     map[string]string{"owner": "team-a", "charging_mode": "spoofed"},
		Tags:         []string{"env=dev"},
		RootVolumeID: "2f5b14ed-2889-4d92-aeab-f03771f827a5", RootVolumeType: "SSD", RootVolumeSize: 40,
		Created: testTime.Add(-time.Hour), Updated: testTime, LaunchedAt: testTime.Add(-50 * time.Minute),
	}
}

func testView(s *ecs.Server) serverView {
	return serverView{
		Server: s, Flavor: testFlavor(), Image: testImage(), UserID: testUserID,
		SecurityGroups: []*ecs.SecurityGroup{{ID: testSGID, ProjectID: testProjectID, Name: "default"}},
	}
}

// testServers returns servers in the states the tests cover, by name.
func testServers() map[string]*ecs.Server {
	running := testServer()

	stopped := testServer()
	stopped.VMState, stopped.PowerState = ecs.VMStopped, ecs.PowerShutdown

	resizing := testServer()
	resizing.VMState, resizing.TaskState, resizing.PowerState = ecs.VMStopped, ecs.TaskResizeMigrating, ecs.PowerShutdown
	resizing.CPUThreads = 2

	building := testServer()
	building.VMState, building.TaskState, building.PowerState = ecs.VMBuilding, ecs.TaskSpawning, ecs.PowerNoState
	building.HostID, building.IPAddress, building.PortID, building.MACAddress = "", "", "", ""
	building.RootVolumeID, building.LaunchedAt = "", time.Time{}
	building.Metadata, building.Tags, building.SecurityGroups = nil, nil, nil

	failed := testServer()
	failed.VMState, failed.PowerState = ecs.VMError, ecs.PowerShutdown
	failed.FaultCode, failed.FaultMessage = 500, "No valid host was found."

	prepaid := testServer()
	prepaid.ChargingMode, prepaid.OrderID, prepaid.Locked = ecs.ChargingPrePaid, "CS1711152257C60TL", true

	spot := testServer()
	spot.ChargingMode, spot.Frozen = ecs.ChargingSpot, true

	return map[string]*ecs.Server{
		"running": running, "stopped": stopped, "resizing": resizing, "building": building,
		"error": failed, "prepaid": prepaid, "spot": spot,
	}
}

func testJobs() map[string]*ecs.Job {
	single := &ecs.Job{
		ID: "ff80808288d41e1b018990260955686a", ProjectID: testProjectID, Type: ecs.JobResizeServer,
		Status: ecs.JobRunning, ServerID: testServerID, BeginTime: testTime,
	}
	singleDone := *single
	singleDone.Status, singleDone.EndTime = ecs.JobSuccess, testTime.Add(time.Minute)
	singleFail := singleDone
	singleFail.Status, singleFail.ErrorCode, singleFail.FailReason = ecs.JobFail, ecs.CodeResizeFailed, "resize failed"

	sub := func(id, server, status string) *ecs.Job {
		j := &ecs.Job{
			ID: id, ProjectID: testProjectID, ParentID: "2c9eb2c5544cbf6101544f0602af2b4f",
			Type: ecs.JobCreateSingleServer, Status: status, ServerID: server, BeginTime: testTime,
		}
		if status == ecs.JobSuccess || status == ecs.JobFail {
			j.EndTime = testTime.Add(3 * time.Minute)
		}
		if status == ecs.JobFail {
			j.ErrorCode, j.FailReason = ecs.CodeInsufficientCap, "insufficient capacity for flavor s6.large.2"
		}
		return j
	}
	batch := &ecs.Job{
		ID: "2c9eb2c5544cbf6101544f0602af2b4f", ProjectID: testProjectID, Type: ecs.JobCreateServer,
		Status: ecs.JobFail, BeginTime: testTime, EndTime: testTime.Add(4 * time.Minute),
		ErrorCode: ecs.CodeInsufficientCap, FailReason: "1 of 2 servers failed",
		SubJobs: []*ecs.Job{
			sub("2c9eb2c5544cbf6101544f0635672b60", testServerID, ecs.JobSuccess),
			sub("2c9eb2c5544cbf6101544f0635672b61", "bae51750-0089-41a1-9b18-5c777978ff6d", ecs.JobFail),
		},
	}
	batchInit := &ecs.Job{
		ID: "2c9eb2c5544cbf6101544f0602af2b50", ProjectID: testProjectID, Type: ecs.JobBatchStop,
		Status: ecs.JobInit, BeginTime: testTime,
	}
	pending := &ecs.Job{
		ID: "2c9eb2c5544cbf6101544f0602af2b51", ProjectID: testProjectID, Type: ecs.JobCreateServer,
		Status: "PENDING_PAYMENT", BeginTime: testTime,
		SubJobs: []*ecs.Job{sub("2c9eb2c5544cbf6101544f0635672b62", testServerID, "PENDING_PAYMENT")},
	}
	return map[string]*ecs.Job{
		"single running": single, "single success": &singleDone, "single fail": &singleFail,
		"batch partial fail": batch, "batch init": batchInit, "pending payment": pending,
	}
}

func testLimits() *ecs.Limits {
	return &ecs.Limits{
		Quota:              ecs.DefaultQuota,
		InstancesUsed:      3,
		CoresUsed:          10,
		RAMUsedMB:          20480,
		SpotInstancesUsed:  1,
		SpotCoresUsed:      2,
		SpotRAMUsedMB:      4096,
		SecurityGroupsUsed: 2,
	}
}
