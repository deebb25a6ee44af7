package e2e_test

import (
	"net/http"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	imsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// TestSmoke walks one server through its whole life with ecsd's default
// "fast" timing, using the image and network the IMS and VPC SDKs report:
// create, stop, list resize targets, resize, start, delete.
func TestSmoke(t *testing.T) {
	t.Parallel()
	b := setup(t, "fast")

	imgs, err := b.ims.ListImages(&imsmodel.ListImagesRequest{})
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	var imageID string
	for _, img := range *imgs.Images {
		if img.Name == "Ubuntu 22.04 server 64bit(40GB)" {
			imageID = img.Id
		}
	}
	srv := b.server("smoke", "s6.large.2")
	srv.ImageRef = imageID
	id := b.mustCreate(t, srv)[0]
	b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")

	b.mustStop(t, id)
	targets, err := b.client.ListResizeFlavors(&model.ListResizeFlavorsRequest{InstanceUuid: &id})
	if err != nil || len(*targets.Flavors) == 0 {
		t.Fatalf("ListResizeFlavors: %v", err)
	}
	job := b.mustResize(t, id, "c7.xlarge.2")
	wantFinishedJob(t, job, ecs.JobResizeServer, id)
	b.wantServer(t, id, "SHUTOFF", 4, "c7.xlarge.2")

	started, err := b.start(id)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	b.wantJob(t, *started.JobId, "SUCCESS")
	b.wantServer(t, id, "ACTIVE", 1, "c7.xlarge.2")

	del, err := b.client.DeleteServers(&model.DeleteServersRequest{Body: &model.DeleteServersRequestBody{Servers: serverIDs(id)}})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	b.wantJob(t, *del.JobId, "SUCCESS")
	_, err = b.client.ShowServer(&model.ShowServerRequest{ServerId: id})
	wantSDKError(t, err, http.StatusNotFound, ecs.CodeServerNotFound)
}
