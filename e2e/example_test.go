package e2e_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	ecs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
)

// runREADMEExample is the example of README.md, "Use it from the Go SDK":
// create a server, stop it, resize it, wait for the job and print the new
// flavor. The lines between README-BEGIN and README-END appear in README.md
// verbatim, as the body of run(endpoint); TestREADMEContainsExample
// checks it.
func runREADMEExample(endpoint string) error {
	// README-BEGIN
	auth := basic.NewCredentialsBuilder().
		WithAk("ECSDDEVACCESSKEY0001").
		WithSk("ecsdDevSecretKey000000000000000000000000").
		WithProjectId("000000000000000000000000000ec5d1").
		Build()
	client := ecs.NewEcsClient(ecs.EcsClientBuilder().
		WithEndpoint(endpoint). // e.g. "http://127.0.0.1:8787"
		WithCredential(auth).
		Build())

	// wait polls a job until it ends.
	wait := func(jobID *string) error {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			job, err := client.ShowJob(&model.ShowJobRequest{JobId: *jobID})
			if err != nil {
				return err
			}
			switch job.Status.Value() {
			case "SUCCESS":
				return nil
			case "FAIL":
				return fmt.Errorf("job %s failed: %s", *jobID, *job.FailReason)
			}
		}
		return fmt.Errorf("job %s is still running", *jobID)
	}

	// Create a pay-per-use server in the project's default VPC and subnet.
	subnetID := "35b7666f-2899-5f31-b82d-cbf77c72dd06"
	created, err := client.CreatePostPaidServers(&model.CreatePostPaidServersRequest{
		Body: &model.CreatePostPaidServersRequestBody{Server: &model.PostPaidServer{
			Name:       "web-1",
			ImageRef:   "abe65701-8a26-40ec-b381-c10498ca3745", // Ubuntu 22.04
			FlavorRef:  "s6.large.2",
			Vpcid:      "33abb464-28c4-5bc2-8051-dc3201c93de7",
			Nics:       []model.PostPaidServerNic{{SubnetId: &subnetID}},
			RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
		}},
	})
	if err != nil {
		return err
	}
	if err := wait(created.JobId); err != nil {
		return err
	}
	serverID := (*created.ServerIds)[0]

	// Stop it, then give it twice the vCPUs and memory.
	stopped, err := client.BatchStopServers(&model.BatchStopServersRequest{
		Body: &model.BatchStopServersRequestBody{OsStop: &model.BatchStopServersOption{
			Servers: []model.ServerId{{Id: serverID}},
		}},
	})
	if err != nil {
		return err
	}
	if err := wait(stopped.JobId); err != nil {
		return err
	}
	resized, err := client.ResizePostPaidServer(&model.ResizePostPaidServerRequest{
		ServerId: serverID,
		Body: &model.ResizePostPaidServerRequestBody{
			Resize: &model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2"},
		},
	})
	if err != nil {
		return err
	}
	if err := wait(resized.JobId); err != nil {
		return err
	}

	server, err := client.ShowServer(&model.ShowServerRequest{ServerId: serverID})
	if err != nil {
		return err
	}
	fmt.Println(server.Server.Name, server.Server.Status, server.Server.Flavor.Id) // web-1 SHUTOFF s6.xlarge.2
	// README-END
	return nil
}

// TestREADMEExample runs the README's example against a node and checks its
// outcome through the SDK.
func TestREADMEExample(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	// The example names the development tenant's default network by ID.
	if b.vpcID != "33abb464-28c4-5bc2-8051-dc3201c93de7" || b.subnetID != "35b7666f-2899-5f31-b82d-cbf77c72dd06" {
		t.Fatalf("the development tenant's network is %s/%s; update the README example", b.vpcID, b.subnetID)
	}
	if err := runREADMEExample(b.url); err != nil {
		t.Fatalf("README example: %v", err)
	}
	resp, err := b.client.ListServersDetails(&model.ListServersDetailsRequest{Name: ptr("web-1")})
	if err != nil || *resp.Count != 1 {
		t.Fatalf("after the example: %v, %v servers named web-1", err, resp)
	}
	b.wantServer(t, (*resp.Servers)[0].Id, "SHUTOFF", 4, "s6.xlarge.2")
}

// readmeSnippet returns the lines of example_test.go between README-BEGIN
// and README-END, indented as in runREADMEExample (README.md shows them as
// the body of a function too).
func readmeSnippet(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatalf("read example_test.go: %v", err)
	}
	text := string(src)
	begin := strings.Index(text, "// README-BEGIN\n")
	end := strings.Index(text, "// README-END")
	if begin < 0 || end < begin {
		t.Fatal("example_test.go lacks the README-BEGIN/README-END markers")
	}
	body := text[begin+len("// README-BEGIN\n") : end]
	body = body[:strings.LastIndex(body, "\n")+1] // drop the indentation of the END line
	return body
}

// TestREADMEContainsExample checks that README.md shows the example of
// runREADMEExample verbatim. It skips while README.md does not exist, or
// still has the <!-- README-EXAMPLE --> placeholder instead of the code.
func TestREADMEContainsExample(t *testing.T) {
	t.Parallel()
	snippet := readmeSnippet(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	if strings.Contains(string(readme), snippet) {
		return
	}
	t.Fatalf("README.md does not contain the example of e2e/example_test.go verbatim; it should contain:\n%s", snippet)
}
