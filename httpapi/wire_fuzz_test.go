package httpapi

import (
	"errors"
	"net/url"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// Fuzz targets: the decoders and query parsers must never panic, and every
// error they return must be an *ecs.Error with code Ecs.0005.

// Decoder selectors of FuzzDecode.
const (
	fuzzResizeV1 = iota
	fuzzResizeV11
	fuzzCreateV1
	fuzzCreateV11
	fuzzAction
	fuzzDelete
	fuzzDecoders
)

func FuzzDecode(f *testing.F) {
	ids := []model.ServerId{{Id: testServerID}, {Id: "bae51750-0089-41a1-9b18-5c777978ff6d"}}
	stop := model.GetBatchStopServersOptionTypeEnum()
	reboot := model.GetBatchRebootSeversOptionTypeEnum()
	seeds := []struct {
		kind uint8
		body []byte
	}{
		{fuzzResizeV1, sdkResizeV1(f)},
		{fuzzResizeV1, sdkBody(f, model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2"}})},
		{fuzzResizeV11, sdkResizeV11(f)},
		{fuzzCreateV1, sdkCreateV1Minimal(f)},
		{fuzzCreateV1, sdkCreateV1Full(f)},
		{fuzzCreateV11, sdkCreateV11Prepaid(f)},
		{fuzzCreateV11, sdkCreateV1Minimal(f)},
		{fuzzAction, sdkBody(f, model.BatchStartServersRequestBody{OsStart: &model.BatchStartServersOption{Servers: ids}})},
		{fuzzAction, sdkBody(f, model.BatchStopServersRequestBody{OsStop: &model.BatchStopServersOption{Servers: ids, Type: &stop.HARD}})},
		{fuzzAction, sdkBody(f, model.BatchRebootServersRequestBody{Reboot: &model.BatchRebootSeversOption{Servers: ids, Type: reboot.SOFT}})},
		{fuzzDelete, sdkBody(f, model.DeleteServersRequestBody{Servers: ids, DeletePublicip: bp(true), DeleteVolume: bp(true)})},
		{fuzzDelete, []byte(`{"servers":[{"id":"a"},{"id":"a"}]}`)},
		{fuzzAction, []byte(`{"os-start":{"servers":[]},"reboot":null}`)},
		{fuzzCreateV11, []byte(`{"server":{"extendparam":{"chargingMode":"prePaid","periodType":"year","periodNum":4}}}`)},
		{fuzzResizeV11, []byte(`{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":1e400}}}`)},
		{fuzzResizeV1, []byte(``)},
		{fuzzResizeV1, []byte(`null`)},
		{fuzzCreateV1, []byte("\xff\xfe{")},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.body)
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		var err error
		switch kind % fuzzDecoders {
		case fuzzResizeV1, fuzzResizeV11:
			version := map[uint8]string{fuzzResizeV1: apiV1, fuzzResizeV11: apiV11}[kind%fuzzDecoders]
			var r *ecs.ResizeRequest
			if r, err = decodeResize(body, testProjectID, testServerID, version); err == nil {
				if r.FlavorID == "" || r.ServerID != testServerID || r.APIVersion != version || r.CPUThreads < 0 || r.CPUThreads > 2 {
					t.Fatalf("accepted an invalid resize: %+v", r)
				}
			}
		case fuzzCreateV1, fuzzCreateV11:
			version := map[uint8]string{fuzzCreateV1: apiV1, fuzzCreateV11: apiV11}[kind%fuzzDecoders]
			var r *ecs.CreateServersRequest
			if r, err = decodeCreateServers(body, testProjectID, version); err == nil {
				if r.Name == "" || r.ImageID == "" || r.FlavorID == "" || r.VPCID == "" || len(r.SubnetIDs) == 0 ||
					r.Count < 1 || r.Count > maxCreateCount || r.RootVolumeType == "" || len(r.Tags) > maxTags ||
					len(r.Metadata) > maxMetadata || r.ChargingMode == "" {
					t.Fatalf("accepted an invalid create: %+v", r)
				}
			}
		case fuzzAction:
			var r *ecs.ServerActionRequest
			if r, err = decodeServerAction(body, testProjectID); err == nil {
				if len(r.ServerIDs) == 0 || len(r.ServerIDs) > maxActionServers || r.Action == "" {
					t.Fatalf("accepted an invalid action: %+v", r)
				}
			}
		case fuzzDelete:
			var r *ecs.DeleteServersRequest
			if r, err = decodeDeleteServers(body, testProjectID); err == nil {
				if len(r.ServerIDs) == 0 || len(r.ServerIDs) > maxActionServers {
					t.Fatalf("accepted an invalid delete: %+v", r)
				}
			}
		}
		if err != nil {
			assertBadRequest(t, err)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, q := range []string{
		"", "offset=0&limit=10", "offset=3&limit=1000&status=active&server_id=a,b",
		"limit=100&expect-fields=market_info&expect-fields=addresses,key_name&launched_since=2013-06-09T06:42:18Z",
		"charging_mode=prePaid&in_recycle_bin=true", "instance_uuid=i&sort_key=sort_key&sort_dir=desc",
		"source_flavor_id=s6.large.2&limit=0", "availability_zone=cn-north-4a&flavor_id=s6.large.2&limit=2",
		"limit=1&limit=2", "name=a%00b", "offset=-1", "limit=99999999999999999999",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if f, err := parseServerFilterV1(q, testProjectID); err != nil {
			assertBadRequest(t, err)
		} else if f.Limit < 1 || f.Limit > v1ListMaxLimit || f.Offset < 0 {
			t.Fatalf("v1 filter out of range: %+v", f)
		}
		if f, expect, err := parseServerFilterV11(q, testProjectID); err != nil {
			assertBadRequest(t, err)
		} else if f.Limit < 1 || f.Limit > v11ListMaxLimit || len(expect) > len(expectFields) {
			t.Fatalf("v1.1 filter out of range: %+v %q", f, expect)
		}
		if r, err := parseResizeFlavorsQuery(q, testProjectID); err != nil {
			assertBadRequest(t, err)
		} else if r.Limit < 1 || r.SortKey == "" || r.SortDir == "" {
			t.Fatalf("resize flavors query out of range: %+v", r)
		}
		if f, err := parseFlavorFilter(q); err != nil {
			assertBadRequest(t, err)
		} else if f.Limit < 1 {
			t.Fatalf("flavor filter out of range: %+v", f)
		}
	})
}

func assertBadRequest(t *testing.T, err error) {
	t.Helper()
	var e *ecs.Error
	if !errors.As(err, &e) || e.Code != ecs.CodeBadRequest || e.Message == "" {
		t.Fatalf("error %v (%T) is not an Ecs.0005 *ecs.Error", err, err)
	}
}
