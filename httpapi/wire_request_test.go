package httpapi

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// sdkBody serializes a request body with the SDK's own serializer
// (core/request DefaultHttpRequest.GetBodyToBytes: encoding/json with HTML
// escaping off, so the bytes end in "\n").
func sdkBody(t testing.TB, v any) []byte {
	t.Helper()
	buf, err := request.NewHttpRequestBuilder().WithBody("", v).Build().GetBodyToBytes()
	if err != nil {
		t.Fatalf("SDK serializer: %v", err)
	}
	return buf.Bytes()
}

// wantBadRequest fails unless err is an *ecs.Error with code Ecs.0005 whose
// message contains want.
func wantBadRequest(t *testing.T, err error, want string) {
	t.Helper()
	var e *ecs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *ecs.Error", err, err)
	}
	if e.Code != ecs.CodeBadRequest {
		t.Errorf("code = %s, want %s (message %q)", e.Code, ecs.CodeBadRequest, e.Message)
	}
	if !strings.Contains(e.Message, want) {
		t.Errorf("message = %q, want it to contain %q", e.Message, want)
	}
}

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }
func i32(n int32) *int32  { return &n }

// --- resize ----------------------------------------------------------------

func sdkResizeV1(t testing.TB) []byte {
	threads := model.GetCpuOptionsHwcpuThreadsEnum().E_1
	return sdkBody(t, model.ResizePostPaidServerRequestBody{
		Resize: &model.ResizePostPaidServerOption{
			FlavorRef:  "s6.xlarge.2",
			Mode:       sp("withStopServer"),
			CpuOptions: &model.CpuOptions{HwcpuThreads: &threads},
		},
		DryRun: bp(true),
	})
}

func sdkResizeV11(t testing.TB) []byte {
	return sdkBody(t, model.ResizeServerRequestBody{
		Resize: &model.ResizePrePaidServerOption{
			FlavorRef:       "s6.xlarge.2",
			DedicatedHostId: sp("459a2b9d-804a-4745-ab19-a113bb1b4ddc"),
			Extendparam:     &model.ResizeServerExtendParam{IsAutoPay: sp("true")},
			Mode:            sp("withStopServer"),
		},
	})
}

func TestDecodeResizeValid(t *testing.T) {
	t.Parallel()
	minimal := sdkBody(t, model.ResizePostPaidServerRequestBody{Resize: &model.ResizePostPaidServerOption{FlavorRef: "s6.xlarge.2"}})
	for _, tc := range []struct {
		name, version string
		body          []byte
		want          ecs.ResizeRequest
	}{
		{"v1 minimal (SDK)", "v1", minimal, ecs.ResizeRequest{FlavorID: "s6.xlarge.2"}},
		{"v1 full (SDK)", "v1", sdkResizeV1(t), ecs.ResizeRequest{FlavorID: "s6.xlarge.2", WithStop: true, CPUThreads: 1, DryRun: true}},
		{"v1.1 minimal (SDK)", "v1.1", minimal, ecs.ResizeRequest{FlavorID: "s6.xlarge.2"}},
		{"v1.1 full (SDK)", "v1.1", sdkResizeV11(t), ecs.ResizeRequest{
			FlavorID: "s6.xlarge.2", WithStop: true, AutoPay: true, DedicatedID: "459a2b9d-804a-4745-ab19-a113bb1b4ddc",
		}},
		{"v1 ignores v1.1 fields", "v1", []byte(`{"resize":{"flavorRef":"s6.xlarge.2","extendparam":{"isAutoPay":"true"},"dedicated_host_id":"d"}}`),
			ecs.ResizeRequest{FlavorID: "s6.xlarge.2"}},
		{"terraform body", "v1.1", []byte(`{"resize":{"flavorRef":"s6.xlarge.2","mode":"withStopServer","extendparam":{"isAutoPay":"true"}}}`),
			ecs.ResizeRequest{FlavorID: "s6.xlarge.2", WithStop: true, AutoPay: true}},
		{"isAutoPay false", "v1.1", []byte(`{"resize":{"flavorRef":"f","extendparam":{"isAutoPay":"false"}}}`), ecs.ResizeRequest{FlavorID: "f"}},
		{"isAutoPay empty", "v1.1", []byte(`{"resize":{"flavorRef":"f","extendparam":{"isAutoPay":""}}}`), ecs.ResizeRequest{FlavorID: "f"}},
		{"unknown fields", "v1", []byte(`{"resize":{"flavorRef":"f","future":{"x":1}},"also":[1]}`), ecs.ResizeRequest{FlavorID: "f"}},
		{"null optionals", "v1.1", []byte(`{"resize":{"flavorRef":"f","mode":null,"cpu_options":null,"extendparam":null},"dry_run":null}`), ecs.ResizeRequest{FlavorID: "f"}},
		{"cpu threads 2", "v1", []byte(`{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":2}}}`), ecs.ResizeRequest{FlavorID: "f", CPUThreads: 2}},
		{"cpu threads null", "v1", []byte(`{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":null}}}`), ecs.ResizeRequest{FlavorID: "f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeResize(tc.body, testProjectID, testServerID, tc.version)
			if err != nil {
				t.Fatalf("decodeResize: %v", err)
			}
			want := tc.want
			want.ProjectID, want.ServerID, want.APIVersion = testProjectID, testServerID, tc.version
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestDecodeResizeInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, version, body, want string
	}{
		{"empty body", "v1", ``, "the body is empty"},
		{"blank body", "v1", " \n", "the body is empty"},
		{"malformed", "v1", `{"resize":`, "Invalid request body"},
		{"trailing data", "v1", `{"resize":{"flavorRef":"f"}} x`, "malformed JSON"},
		{"array body", "v1", `[]`, "expected a JSON object, got array"},
		{"null body", "v1", `null`, "Missing required field resize"},
		{"no resize", "v1", `{"dry_run":true}`, "Missing required field resize"},
		{"resize null", "v1.1", `{"resize":null}`, "Missing required field resize"},
		{"resize array", "v1", `{"resize":[]}`, "Invalid value for resize: expected an object, got array"},
		{"no flavorRef", "v1", `{"resize":{}}`, "Missing required field resize.flavorRef"},
		{"no flavorRef v1.1", "v1.1", `{"resize":{"mode":"withStopServer"}}`, "Missing required field resize.flavorRef"},
		{"empty flavorRef", "v1", `{"resize":{"flavorRef":""}}`, "Invalid value for resize.flavorRef: must be a non-empty string"},
		{"null flavorRef", "v1", `{"resize":{"flavorRef":null}}`, "Missing required field resize.flavorRef"},
		{"number flavorRef", "v1", `{"resize":{"flavorRef":12}}`, "Invalid value for resize.flavorRef: expected a string, got number"},
		{"number flavorRef v1.1", "v1.1", `{"resize":{"flavorRef":12}}`, "Invalid value for resize.flavorRef: expected a string, got number"},
		{"spaced flavorRef", "v1", `{"resize":{"flavorRef":" s6.large.2"}}`, "resize.flavorRef: must not contain spaces"},
		{"long flavorRef", "v1", `{"resize":{"flavorRef":"` + strings.Repeat("a", 256) + `"}}`, "at most 255"},
		{"bad mode", "v1", `{"resize":{"flavorRef":"f","mode":"stop"}}`, `Invalid value for resize.mode: must be "withStopServer", got "stop"`},
		{"empty mode", "v1", `{"resize":{"flavorRef":"f","mode":""}}`, `resize.mode: must be "withStopServer"`},
		{"number mode", "v1", `{"resize":{"flavorRef":"f","mode":1}}`, "resize.mode: expected a string, got number"},
		{"threads 3", "v1", `{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":3}}}`, "resize.cpu_options.hw:cpu_threads: must be 1 or 2, got 3"},
		{"threads 0", "v1.1", `{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":0}}}`, "must be 1 or 2, got 0"},
		{"threads string", "v1", `{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":"2"}}}`, "resize.cpu_options.hw:cpu_threads: expected an integer, got string"},
		{"threads fraction", "v1", `{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":1.5}}}`, "expected an integer, got number 1.5"},
		{"threads huge", "v1", `{"resize":{"flavorRef":"f","cpu_options":{"hw:cpu_threads":1e30}}}`, "expected an integer"},
		{"cpu_options string", "v1", `{"resize":{"flavorRef":"f","cpu_options":"x"}}`, "resize.cpu_options: expected an object, got string"},
		{"dry_run string", "v1", `{"resize":{"flavorRef":"f"},"dry_run":"true"}`, "Invalid value for dry_run: expected a boolean, got string"},
		{"isAutoPay yes", "v1.1", `{"resize":{"flavorRef":"f","extendparam":{"isAutoPay":"yes"}}}`, `resize.extendparam.isAutoPay: must be the string "true" or "false", got "yes"`},
		{"isAutoPay bool", "v1.1", `{"resize":{"flavorRef":"f","extendparam":{"isAutoPay":true}}}`, "resize.extendparam.isAutoPay: expected a string, got boolean"},
		{"dedicated host number", "v1.1", `{"resize":{"flavorRef":"f","dedicated_host_id":5}}`, "resize.dedicated_host_id: expected a string, got number"},
		{"dedicated host spaces", "v1.1", `{"resize":{"flavorRef":"f","dedicated_host_id":" d"}}`, "resize.dedicated_host_id: must not contain spaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeResize([]byte(tc.body), testProjectID, testServerID, tc.version)
			wantBadRequest(t, err, tc.want)
		})
	}
}

func TestDecodeResizeUnknownVersion(t *testing.T) {
	t.Parallel()
	_, err := decodeResize([]byte(`{"resize":{"flavorRef":"f"}}`), testProjectID, testServerID, "v2")
	var e *ecs.Error
	if err == nil || errors.As(err, &e) {
		t.Errorf("err = %v, want a plain (internal) error", err)
	}
}

// --- create ----------------------------------------------------------------

func sdkCreateV1Minimal(t testing.TB) []byte {
	return sdkBody(t, model.CreatePostPaidServersRequestBody{Server: &model.PostPaidServer{
		Name: "ecs-test", ImageRef: testImageID, FlavorRef: "s6.large.2", Vpcid: testVPCID,
		Nics:       []model.PostPaidServerNic{{SubnetId: sp(testSubnetID)}},
		RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().SSD},
	}})
}

func sdkCreateV1Full(t testing.TB) []byte {
	threads := model.GetCpuOptionsHwcpuThreadsEnum().E_2
	return sdkBody(t, model.CreatePostPaidServersRequestBody{
		DryRun: bp(true),
		Server: &model.PostPaidServer{
			Name: "web_服务器.01", ImageRef: testImageID, FlavorRef: "s6.large.2", Vpcid: testVPCID,
			AvailabilityZone: sp("cn-north-4a"), Count: i32(3), IsAutoRename: bp(false),
			AdminPass: sp("Passw0rd!x"), KeyName: sp("KeyPair-1"), UserData: sp("IyEvYmluL2Jhc2gKZWNobyBoaQo="),
			Nics: []model.PostPaidServerNic{
				{SubnetId: sp(testSubnetID), IpAddress: sp("192.168.0.10")},
				{SubnetId: sp("subnet-2")},
			},
			RootVolume: &model.PostPaidServerRootVolume{Volumetype: model.GetPostPaidServerRootVolumeVolumetypeEnum().GPSSD, Size: i32(40)},
			DataVolumes: &[]model.PostPaidServerDataVolume{
				{Volumetype: model.GetPostPaidServerDataVolumeVolumetypeEnum().SAS, Size: 100},
			},
			SecurityGroups: &[]model.PostPaidServerSecurityGroup{{Id: sp(testSGID)}, {Id: sp("sg-2")}},
			Metadata:       map[string]string{"owner": "team-a", "op:svc.x": ""},
			Tags:           &[]string{"env=dev", "tier.web"},
			ServerTags:     &[]model.PostPaidServerTag{{Key: "app", Value: "shop 1"}},
			Description:    sp("a test server"),
			CpuOptions:     &model.CpuOptions{HwcpuThreads: &threads},
			Extendparam: &model.PostPaidServerExtendParam{
				ChargingMode: i32(0), MarketType: sp("spot"), SpotPrice: sp("0.05"),
				EnterpriseProjectId: sp("0"), SupportAutoRecovery: bp(true),
			},
			Publicip: &model.PostPaidServerPublicip{Id: sp("eip-1")},
		},
	})
}

func sdkCreateV11Prepaid(t testing.TB) []byte {
	e := model.GetPrePaidServerExtendParamChargingModeEnum()
	return sdkBody(t, model.CreateServersRequestBody{Server: &model.PrePaidServer{
		Name: "ecs-prepaid", ImageRef: testImageID, FlavorRef: "s6.large.2", Vpcid: testVPCID,
		Nics:       []model.PrePaidServerNic{{SubnetId: sp(testSubnetID)}},
		RootVolume: &model.PrePaidServerRootVolume{Volumetype: model.GetPrePaidServerRootVolumeVolumetypeEnum().SSD},
		Extendparam: &model.PrePaidServerExtendParam{
			ChargingMode: &e.PRE_PAID,
			PeriodType:   ptr(model.GetPrePaidServerExtendParamPeriodTypeEnum().MONTH),
			PeriodNum:    i32(1),
			IsAutoPay:    ptr(model.GetPrePaidServerExtendParamIsAutoPayEnum().TRUE),
			IsAutoRenew:  ptr(model.GetPrePaidServerExtendParamIsAutoRenewEnum().FALSE),
		},
	}})
}

func TestDecodeCreateServersValid(t *testing.T) {
	t.Parallel()
	base := ecs.CreateServersRequest{
		ProjectID: testProjectID, Name: "ecs-test", ImageID: testImageID, FlavorID: "s6.large.2", VPCID: testVPCID,
		SubnetIDs: []string{testSubnetID}, RootVolumeType: "SSD", Count: 1, IsAutoRename: true,
		ChargingMode: ecs.ChargingPostPaid,
	}
	with := func(f func(r *ecs.CreateServersRequest)) ecs.CreateServersRequest {
		r := base
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name, version string
		body          []byte
		want          ecs.CreateServersRequest
	}{
		{"v1 minimal (SDK)", "v1", sdkCreateV1Minimal(t), base},
		{"v1.1 minimal (SDK)", "v1.1", sdkCreateV1Minimal(t), base},
		{"v1 full (SDK)", "v1", sdkCreateV1Full(t), ecs.CreateServersRequest{
			ProjectID: testProjectID, Name: "web_服务器.01", Description: "a test server", ImageID: testImageID,
			FlavorID: "s6.large.2", VPCID: testVPCID, SubnetIDs: []string{testSubnetID, "subnet-2"},
			SecurityGroups: []string{testSGID, "sg-2"}, AvailabilityZone: "cn-north-4a", Count: 3,
			IsAutoRename: false, KeyName: "KeyPair-1", UserData: "IyEvYmluL2Jhc2gKZWNobyBoaQo=", AdminPass: "Passw0rd!x",
			Metadata: map[string]string{"owner": "team-a", "op:svc.x": ""},
			Tags:     []string{"env=dev", "tier=web", "app=shop 1"}, RootVolumeType: "GPSSD", RootVolumeSize: 40,
			DataVolumes: []ecs.VolumeSpec{{VolumeType: "SAS", SizeGB: 100}},
			CPUThreads:  2, ChargingMode: ecs.ChargingSpot, SpotPrice: "0.05", DryRun: true,
		}},
		{"v1.1 prepaid (SDK)", "v1.1", sdkCreateV11Prepaid(t), with(func(r *ecs.CreateServersRequest) {
			r.Name, r.ChargingMode = "ecs-prepaid", ecs.ChargingPrePaid
			r.PeriodType, r.PeriodNum, r.AutoPay = "month", 1, true
		})},
		{"v1.1 yearly", "v1.1", []byte(`{"server":{"name":"a","imageRef":"i","flavorRef":"f","vpcid":"v","nics":[{"subnet_id":"s"}],
			"root_volume":{"volumetype":"SAS"},"extendparam":{"chargingMode":"prePaid","periodType":"year","periodNum":3}}}`),
			ecs.CreateServersRequest{ProjectID: testProjectID, Name: "a", ImageID: "i", FlavorID: "f", VPCID: "v",
				SubnetIDs: []string{"s"}, RootVolumeType: "SAS", Count: 1, IsAutoRename: true, ChargingMode: ecs.ChargingPrePaid,
				PeriodType: "year", PeriodNum: 3}},
		{"v1.1 postPaid ignores period fields", "v1.1", []byte(`{"server":{"name":"a","imageRef":"i","flavorRef":"f","vpcid":"v","nics":[{"subnet_id":"s"}],
			"root_volume":{"volumetype":"SAS"},"extendparam":{"chargingMode":"","periodType":"","periodNum":0,"isAutoPay":"","isAutoRenew":"maybe"}}}`),
			ecs.CreateServersRequest{ProjectID: testProjectID, Name: "a", ImageID: "i", FlavorID: "f", VPCID: "v",
				SubnetIDs: []string{"s"}, RootVolumeType: "SAS", Count: 1, IsAutoRename: true, ChargingMode: ecs.ChargingPostPaid}},
		{"v1.1 postPaid spot", "v1.1", []byte(`{"server":{"name":"a","imageRef":"i","flavorRef":"f","vpcid":"v","nics":[{"subnet_id":"s"}],
			"root_volume":{"volumetype":"SAS"},"extendparam":{"chargingMode":"postPaid","marketType":"spot"}}}`),
			ecs.CreateServersRequest{ProjectID: testProjectID, Name: "a", ImageID: "i", FlavorID: "f", VPCID: "v",
				SubnetIDs: []string{"s"}, RootVolumeType: "SAS", Count: 1, IsAutoRename: true, ChargingMode: ecs.ChargingSpot}},
		{"v1 chargingMode 0", "v1", []byte(`{"server":{"name":"ecs-test","imageRef":"` + testImageID + `","flavorRef":"s6.large.2","vpcid":"` + testVPCID + `",
			"nics":[{"subnet_id":"` + testSubnetID + `"}],"root_volume":{"volumetype":"SSD","size":0},"extendparam":{"chargingMode":0}}}`), base},
		{"terraform body", "v1.1", []byte(`{"server":{"availability_zone":"cn-north-4a","flavorRef":"s6.large.2","imageRef":"` + testImageID + `",
			"name":"ecs-test","nics":[{"subnet_id":"` + testSubnetID + `","ip_address":""}],"root_volume":{"volumetype":"SSD"},
			"security_groups":[{"id":"` + testSGID + `"}],"user_data":"","vpcid":"` + testVPCID + `",
			"extendparam":{"chargingMode":"postPaid","enterprise_project_id":"0"},"os:scheduler_hints":{},"metadata":{}}}`),
			with(func(r *ecs.CreateServersRequest) {
				r.AvailabilityZone, r.SecurityGroups = "cn-north-4a", []string{testSGID}
			})},
		{"name of 64 characters", "v1", []byte(`{"server":{"name":"` + strings.Repeat("名", 64) + `","imageRef":"i","flavorRef":"f","vpcid":"v",
			"nics":[{"subnet_id":"s"}],"root_volume":{"volumetype":"ESSD2","size":1024},"data_volumes":[{"volumetype":"SATA","size":32768},{"volumetype":"co-p1","size":10}]}}`),
			ecs.CreateServersRequest{ProjectID: testProjectID, Name: strings.Repeat("名", 64), ImageID: "i", FlavorID: "f", VPCID: "v",
				SubnetIDs: []string{"s"}, RootVolumeType: "ESSD2", RootVolumeSize: 1024, Count: 1, IsAutoRename: true, ChargingMode: ecs.ChargingPostPaid,
				DataVolumes: []ecs.VolumeSpec{{VolumeType: "SATA", SizeGB: 32768}, {VolumeType: "co-p1", SizeGB: 10}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeCreateServers(tc.body, testProjectID, tc.version)
			if err != nil {
				t.Fatalf("decodeCreateServers: %v", err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

// createBody returns a valid v1/v1.1 body with server fields overridden:
// a nil value deletes the field.
func createBody(t *testing.T, override map[string]any) []byte {
	t.Helper()
	server := map[string]any{
		"name": "ecs-test", "imageRef": testImageID, "flavorRef": "s6.large.2", "vpcid": testVPCID,
		"nics":        []any{map[string]any{"subnet_id": testSubnetID}},
		"root_volume": map[string]any{"volumetype": "SSD"},
	}
	for k, v := range override {
		if v == nil {
			delete(server, k)
		} else {
			server[k] = v
		}
	}
	return mustMarshal(t, map[string]any{"server": server})
}

// raw is a JSON literal inside createBody overrides.
type raw string

func (r raw) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestDecodeCreateServersInvalid(t *testing.T) {
	t.Parallel()
	many := func(n int, item string) raw {
		return raw("[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]")
	}
	manyMeta := func(n int) raw {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
		}
		return raw("{" + strings.Join(parts, ",") + "}")
	}
	for _, tc := range []struct {
		name     string
		version  string
		override map[string]any
		want     string
	}{
		{"no name", "v1", map[string]any{"name": nil}, "Missing required field server.name"},
		{"no imageRef", "v1", map[string]any{"imageRef": nil}, "Missing required field server.imageRef"},
		{"no flavorRef", "v1.1", map[string]any{"flavorRef": nil}, "Missing required field server.flavorRef"},
		{"no vpcid", "v1", map[string]any{"vpcid": nil}, "Missing required field server.vpcid"},
		{"no nics", "v1", map[string]any{"nics": nil}, "Invalid value for server.nics: must contain at least one NIC"},
		{"empty nics", "v1", map[string]any{"nics": raw(`[]`)}, "must contain at least one NIC"},
		{"no root_volume", "v1", map[string]any{"root_volume": nil}, "Missing required field server.root_volume"},
		{"no volumetype", "v1", map[string]any{"root_volume": raw(`{"size":40}`)}, "Missing required field server.root_volume.volumetype"},
		{"empty name", "v1", map[string]any{"name": ""}, "server.name: must be a non-empty string"},
		{"long name", "v1", map[string]any{"name": strings.Repeat("a", 65)}, "server.name: must be at most 64 characters, got 65"},
		{"long batch name", "v1", map[string]any{"name": strings.Repeat("a", 60), "count": 2}, "must be at most 59 characters when count > 1"},
		{"bad name", "v1", map[string]any{"name": "web server"}, "server.name: may contain only"},
		{"name number", "v1", map[string]any{"name": 5}, "Invalid value for server.name: expected a string, got number"},
		{"empty imageRef", "v1", map[string]any{"imageRef": ""}, "server.imageRef: must be a non-empty string"},
		{"vpcid bool", "v1", map[string]any{"vpcid": true}, "server.vpcid: expected a string, got boolean"},
		{"count 0", "v1", map[string]any{"count": 0}, "server.count: must be between 1 and 100, got 0"},
		{"count 101", "v1.1", map[string]any{"count": 101}, "server.count: must be between 1 and 100, got 101"},
		{"count string", "v1", map[string]any{"count": "2"}, "server.count: expected an integer, got string"},
		{"count fraction", "v1", map[string]any{"count": raw("1.5")}, "server.count: expected an integer, got number 1.5"},
		{"nics object", "v1", map[string]any{"nics": raw(`{"subnet_id":"s"}`)}, "server.nics: expected an array, got object"},
		{"nic no subnet", "v1", map[string]any{"nics": raw(`[{"subnet_id":"s"},{}]`)}, "Missing required field server.nics[1].subnet_id"},
		{"nic port only", "v1", map[string]any{"nics": raw(`[{"port_id":"p"}]`)}, "server.nics[0].port_id: is not supported"},
		{"nic subnet number", "v1", map[string]any{"nics": raw(`[{"subnet_id":1}]`)}, "server.nics.subnet_id: expected a string, got number"},
		{"nic bad ip", "v1", map[string]any{"nics": raw(`[{"subnet_id":"s","ip_address":"300.1.1.1"}]`)}, `server.nics[0].ip_address: must be an IPv4 address, got "300.1.1.1"`},
		{"nic ipv6", "v1", map[string]any{"nics": raw(`[{"subnet_id":"s","ip_address":"fd00::1"}]`)}, "must be an IPv4 address"},
		{"13 nics", "v1", map[string]any{"nics": many(13, `{"subnet_id":"s"}`)}, "server.nics: must contain at most 12 NICs, got 13"},
		{"bad volumetype", "v1", map[string]any{"root_volume": raw(`{"volumetype":"ssd"}`)}, `server.root_volume.volumetype: must be one of SATA, SAS, SSD, GPSSD, co-p1, uh-l1, ESSD, GPSSD2, ESSD2, got "ssd"`},
		{"volumetype number", "v1", map[string]any{"root_volume": raw(`{"volumetype":1}`)}, "server.root_volume.volumetype: expected a string, got number"},
		{"root size 1025", "v1", map[string]any{"root_volume": raw(`{"volumetype":"SSD","size":1025}`)}, "server.root_volume.size: must be between 1 and 1024 (GB), got 1025"},
		{"root size -1", "v1", map[string]any{"root_volume": raw(`{"volumetype":"SSD","size":-1}`)}, "got -1"},
		{"data size 9", "v1", map[string]any{"data_volumes": raw(`[{"volumetype":"SSD","size":9}]`)}, "server.data_volumes[0].size: must be between 10 and 32768 (GB), got 9"},
		{"data size 32769", "v1", map[string]any{"data_volumes": raw(`[{"volumetype":"SSD","size":32769}]`)}, "got 32769"},
		{"data no size", "v1", map[string]any{"data_volumes": raw(`[{"volumetype":"SSD"}]`)}, "Missing required field server.data_volumes[0].size"},
		{"data no type", "v1", map[string]any{"data_volumes": raw(`[{"size":10}]`)}, "Missing required field server.data_volumes[0].volumetype"},
		{"data bad type", "v1", map[string]any{"data_volumes": raw(`[{"volumetype":"NVME","size":10}]`)}, `server.data_volumes[0].volumetype: must be one of`},
		{"24 data volumes", "v1", map[string]any{"data_volumes": many(24, `{"volumetype":"SSD","size":10}`)}, "server.data_volumes: must contain at most 23 disks, got 24"},
		{"metadata 11", "v1", map[string]any{"metadata": manyMeta(11)}, "server.metadata: must contain at most 10 pairs, got 11"},
		{"metadata bad key", "v1", map[string]any{"metadata": raw(`{"a b":"v"}`)}, `server.metadata: key "a b" must be`},
		{"metadata long value", "v1", map[string]any{"metadata": map[string]string{"k": strings.Repeat("v", 256)}}, "server.metadata.k: must be at most 255 characters"},
		{"metadata number", "v1", map[string]any{"metadata": raw(`{"k":1}`)}, "server.metadata: expected a string, got number"},
		{"metadata array", "v1", map[string]any{"metadata": raw(`["k"]`)}, "server.metadata: expected an object, got array"},
		{"tags 11", "v1", map[string]any{"tags": many(11, `"k=v"`)}, `duplicate tag key "k"`},
		{"tags too many", "v1", map[string]any{"server_tags": raw(`[` + strings.TrimSuffix(strings.Repeat(`{"key":"k","value":"v"},`, 1), ",") + `]`),
			"tags": raw(`["a=1","b=1","c=1","d=1","e=1","f=1","g=1","h=1","i=1","j=1"]`)}, "at most 10 tags"},
		{"tag empty key", "v1", map[string]any{"tags": raw(`["=v"]`)}, `server.tags[0]: must be "key=value"`},
		{"tag bad key", "v1", map[string]any{"tags": raw(`["a b=v"]`)}, `server.tags[0]: must be "key=value"`},
		{"tag bad value", "v1", map[string]any{"tags": raw(`["k=a b"]`)}, `server.tags[0]: tag value must be`},
		{"tag number", "v1", map[string]any{"tags": raw(`[1]`)}, "server.tags: expected a string, got number"},
		{"tag dup across fields", "v1", map[string]any{"tags": raw(`["k=v"]`), "server_tags": raw(`[{"key":"k","value":"w"}]`)}, `server.server_tags[0].key: duplicate tag key "k"`},
		{"server_tag bad key", "v1", map[string]any{"server_tags": raw(`[{"key":"a=b","value":"v"}]`)}, "server.server_tags[0].key: must be 1 to 36 characters"},
		{"server_tag long value", "v1", map[string]any{"server_tags": raw(`[{"key":"k","value":"` + strings.Repeat("v", 44) + `"}]`)}, "server.server_tags[0].value: must be at most 43"},
		{"server_tag no value", "v1", map[string]any{"server_tags": raw(`[{"key":"k"}]`)}, "Missing required field server.server_tags[0].value"},
		{"server_tag no key", "v1", map[string]any{"server_tags": raw(`[{"value":"v"}]`)}, "Missing required field server.server_tags[0].key"},
		{"sg no id", "v1", map[string]any{"security_groups": raw(`[{}]`)}, "Missing required field server.security_groups[0].id"},
		{"sg dup", "v1", map[string]any{"security_groups": raw(`[{"id":"a"},{"id":"a"}]`)}, `server.security_groups[1].id: duplicate security group "a"`},
		{"sg strings", "v1", map[string]any{"security_groups": raw(`["a"]`)}, "server.security_groups: expected an object, got string"},
		{"long description", "v1", map[string]any{"description": strings.Repeat("d", 86)}, "server.description: must be at most 85 characters, got 86"},
		{"description html", "v1", map[string]any{"description": "<b>"}, `server.description: must not contain "<" or ">"`},
		{"user_data not base64", "v1", map[string]any{"user_data": "not base64!"}, "server.user_data: must be base64-encoded"},
		{"user_data too big", "v1", map[string]any{"user_data": strings.Repeat("QUFB", 11000)}, "server.user_data: must be at most 32768 bytes before encoding"},
		{"adminPass short", "v1", map[string]any{"adminPass": "Ab1!"}, "server.adminPass: must be 8 to 26 characters, got 4"},
		{"adminPass weak", "v1", map[string]any{"adminPass": "abcdefgh1"}, "must contain at least three of"},
		{"adminPass bad char", "v1", map[string]any{"adminPass": "Abcdefg1 #"}, "may contain only letters, digits and the special characters"},
		{"threads 4", "v1", map[string]any{"cpu_options": raw(`{"hw:cpu_threads":4}`)}, "server.cpu_options.hw:cpu_threads: must be 1 or 2, got 4"},
		{"v1 chargingMode 1", "v1", map[string]any{"extendparam": raw(`{"chargingMode":1}`)}, "server.extendparam.chargingMode: must be 0 (pay-per-use) on /v1"},
		{"v1 chargingMode string", "v1", map[string]any{"extendparam": raw(`{"chargingMode":"postPaid"}`)}, "server.extendparam.chargingMode: expected an integer, got string"},
		{"v1 bad marketType", "v1", map[string]any{"extendparam": raw(`{"marketType":"cheap"}`)}, `server.extendparam.marketType: must be "spot", got "cheap"`},
		{"v1 bad spotPrice", "v1", map[string]any{"extendparam": raw(`{"marketType":"spot","spotPrice":"-1"}`)}, `server.extendparam.spotPrice: must be a positive decimal number, got "-1"`},
		{"v1 zero spotPrice", "v1", map[string]any{"extendparam": raw(`{"marketType":"spot","spotPrice":"0.00"}`)}, "must be a positive decimal number"},
		{"v1 spotPrice number", "v1", map[string]any{"extendparam": raw(`{"marketType":"spot","spotPrice":0.1}`)}, "server.extendparam.spotPrice: expected a string, got number"},
		{"extendparam array", "v1.1", map[string]any{"extendparam": raw(`[]`)}, "Invalid value for server.extendparam: expected an object, got array"},
		{"v1.1 chargingMode int", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":0}`)}, "server.extendparam.chargingMode: expected a string, got number"},
		{"v1.1 chargingMode 0 string", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"0"}`)}, `server.extendparam.chargingMode: must be "prePaid" or "postPaid", got "0"`},
		{"v1.1 prepaid no periodType", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodNum":1}`)}, "Missing required field server.extendparam.periodType"},
		{"v1.1 prepaid no periodNum", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"month"}`)}, "Missing required field server.extendparam.periodNum"},
		{"v1.1 bad periodType", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"week","periodNum":1}`)}, `server.extendparam.periodType: must be "month" or "year", got "week"`},
		{"v1.1 10 months", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"month","periodNum":10}`)}, `server.extendparam.periodNum: must be between 1 and 9 for periodType "month", got 10`},
		{"v1.1 4 years", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"year","periodNum":4}`)}, `must be between 1 and 3 for periodType "year", got 4`},
		{"v1.1 periodNum string", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"year","periodNum":"1"}`)}, "server.extendparam.periodNum: expected an integer, got string"},
		{"v1.1 isAutoPay bool", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"year","periodNum":1,"isAutoPay":true}`)}, "server.extendparam.isAutoPay: expected a string, got boolean"},
		{"v1.1 isAutoRenew yes", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"year","periodNum":1,"isAutoRenew":"yes"}`)}, `server.extendparam.isAutoRenew: must be the string "true" or "false"`},
		{"v1.1 prepaid spot", "v1.1", map[string]any{"extendparam": raw(`{"chargingMode":"prePaid","periodType":"year","periodNum":1,"marketType":"spot"}`)}, `server.extendparam.marketType: is not allowed with chargingMode "prePaid"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeCreateServers(createBody(t, tc.override), testProjectID, tc.version)
			wantBadRequest(t, err, tc.want)
		})
	}
	for _, tc := range []struct{ name, body, want string }{
		{"empty body", ``, "the body is empty"},
		{"no server", `{"dry_run":false}`, "Missing required field server"},
		{"server string", `{"server":"x"}`, "Invalid value for server: expected an object, got string"},
		{"dry_run string", `{"server":{},"dry_run":"yes"}`, "Invalid value for dry_run: expected a boolean, got string"},
		{"malformed", `{"server":{"name":"a",}}`, "Invalid request body: malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeCreateServers([]byte(tc.body), testProjectID, "v1")
			wantBadRequest(t, err, tc.want)
		})
	}
	if _, err := decodeCreateServers(sdkCreateV1Minimal(t), testProjectID, "v2"); err == nil {
		t.Error("unknown version: want an error")
	}
}

// --- batch actions -----------------------------------------------------------

func TestDecodeServerActionValid(t *testing.T) {
	t.Parallel()
	ids := func(n int) []model.ServerId {
		out := make([]model.ServerId, n)
		for i := range out {
			out[i].Id = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		}
		return out
	}
	stop := model.GetBatchStopServersOptionTypeEnum()
	reboot := model.GetBatchRebootSeversOptionTypeEnum()
	for _, tc := range []struct {
		name     string
		body     []byte
		action   string
		hard     bool
		nServers int
	}{
		{"start (SDK)", sdkBody(t, model.BatchStartServersRequestBody{OsStart: &model.BatchStartServersOption{Servers: ids(2)}}), ecs.ActionStart, false, 2},
		{"stop default (SDK)", sdkBody(t, model.BatchStopServersRequestBody{OsStop: &model.BatchStopServersOption{Servers: ids(1)}}), ecs.ActionStop, false, 1},
		{"stop SOFT (SDK)", sdkBody(t, model.BatchStopServersRequestBody{OsStop: &model.BatchStopServersOption{Servers: ids(1), Type: &stop.SOFT}}), ecs.ActionStop, false, 1},
		{"stop HARD (SDK)", sdkBody(t, model.BatchStopServersRequestBody{OsStop: &model.BatchStopServersOption{Servers: ids(3), Type: &stop.HARD}}), ecs.ActionStop, true, 3},
		{"reboot SOFT (SDK)", sdkBody(t, model.BatchRebootServersRequestBody{Reboot: &model.BatchRebootSeversOption{Servers: ids(1), Type: reboot.SOFT}}), ecs.ActionReboot, false, 1},
		{"reboot HARD (SDK)", sdkBody(t, model.BatchRebootServersRequestBody{Reboot: &model.BatchRebootSeversOption{Servers: ids(1000), Type: reboot.HARD}}), ecs.ActionReboot, true, 1000},
		{"extra top-level key", []byte(`{"os-start":{"servers":[{"id":"a"}]},"trace":{"x":1}}`), ecs.ActionStart, false, 1},
		{"start with stray type", []byte(`{"os-start":{"servers":[{"id":"a"}],"type":"HARD"}}`), ecs.ActionStart, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeServerAction(tc.body, testProjectID)
			if err != nil {
				t.Fatalf("decodeServerAction: %v", err)
			}
			if got.ProjectID != testProjectID || got.Action != tc.action || got.Hard != tc.hard || len(got.ServerIDs) != tc.nServers {
				t.Errorf("got %+v, want action %s hard %v with %d servers", got, tc.action, tc.hard, tc.nServers)
			}
		})
	}
}

func TestDecodeServerActionInvalid(t *testing.T) {
	t.Parallel()
	servers := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"id":"s%d"}`, i)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	for _, tc := range []struct{ name, body, want string }{
		{"empty", ``, "the body is empty"},
		{"array", `[{"os-start":{}}]`, "expected a JSON object, got array"},
		{"no action", `{}`, `Unsupported action: the body must contain one of "os-start", "os-stop" and "reboot"`},
		{"unknown action", `{"os-pause":{"servers":[{"id":"a"}]}}`, "Unsupported action"},
		{"two actions", `{"os-start":{"servers":[{"id":"a"}]},"os-stop":{"servers":[{"id":"a"}]}}`, "Unsupported action: the body must contain exactly one"},
		{"action null", `{"os-start":null}`, "Missing required field os-start.servers"},
		{"action array", `{"os-start":[]}`, "Invalid value for os-start: expected an object, got array"},
		{"no servers", `{"os-start":{}}`, "Missing required field os-start.servers"},
		{"servers null", `{"os-stop":{"servers":null}}`, "Missing required field os-stop.servers"},
		{"empty servers", `{"os-start":{"servers":[]}}`, "Invalid value for os-start.servers: must contain at least one server"},
		{"servers object", `{"os-start":{"servers":{"id":"a"}}}`, "Invalid value for os-start.servers: expected an array, got object"},
		{"too many", `{"os-start":{"servers":` + servers(1001) + `}}`, "os-start.servers: must contain at most 1000 servers, got 1001"},
		{"no id", `{"os-start":{"servers":[{"id":"a"},{}]}}`, "Missing required field os-start.servers[1].id"},
		{"empty id", `{"os-start":{"servers":[{"id":""}]}}`, "os-start.servers[0].id: must be a non-empty string"},
		{"id number", `{"os-start":{"servers":[{"id":7}]}}`, "Invalid value for os-start.servers.id: expected a string, got number"},
		{"duplicate", `{"reboot":{"type":"SOFT","servers":[{"id":"a"},{"id":"a"}]}}`, `reboot.servers[1].id: duplicate server ID "a"`},
		{"reboot no type", `{"reboot":{"servers":[{"id":"a"}]}}`, "Missing required field reboot.type"},
		{"reboot lower-case type", `{"reboot":{"type":"soft","servers":[{"id":"a"}]}}`, `Invalid value for reboot.type: must be "SOFT" or "HARD", got "soft"`},
		{"stop bad type", `{"os-stop":{"type":"FORCE","servers":[{"id":"a"}]}}`, `os-stop.type: must be "SOFT" or "HARD", got "FORCE"`},
		{"stop type number", `{"os-stop":{"type":1,"servers":[{"id":"a"}]}}`, "Invalid value for os-stop.type: expected a string, got number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeServerAction([]byte(tc.body), testProjectID)
			wantBadRequest(t, err, tc.want)
		})
	}
}

// --- delete ------------------------------------------------------------------

func TestDecodeDeleteServers(t *testing.T) {
	t.Parallel()
	got, err := decodeDeleteServers(sdkBody(t, model.DeleteServersRequestBody{
		Servers: []model.ServerId{{Id: "a"}, {Id: "b"}}, DeletePublicip: bp(true), DeleteVolume: bp(false),
	}), testProjectID)
	if err != nil {
		t.Fatalf("decodeDeleteServers: %v", err)
	}
	want := ecs.DeleteServersRequest{ProjectID: testProjectID, ServerIDs: []string{"a", "b"}, DeletePublicIP: true}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %+v, want %+v", *got, want)
	}
	got, err = decodeDeleteServers([]byte(`{"servers":[{"id":"a"}],"delete_volume":true,"future":1}`), testProjectID)
	if err != nil || !got.DeleteVolume || got.DeletePublicIP {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"empty", ``, "the body is empty"},
		{"no servers", `{"delete_publicip":true}`, "Missing required field servers"},
		{"empty servers", `{"servers":[]}`, "Invalid value for servers: must contain at least one server"},
		{"too many", `{"servers":[` + strings.TrimSuffix(strings.Repeat(`{"id":"x"},`, 1001), ",") + `]}`, "servers: must contain at most 1000 servers, got 1001"},
		{"duplicate", `{"servers":[{"id":"a"},{"id":"a"}]}`, `servers[1].id: duplicate server ID "a"`},
		{"no id", `{"servers":[{}]}`, "Missing required field servers[0].id"},
		{"delete_publicip string", `{"servers":[{"id":"a"}],"delete_publicip":"true"}`, "Invalid value for delete_publicip: expected a boolean, got string"},
		{"delete_volume number", `{"servers":[{"id":"a"}],"delete_volume":1}`, "Invalid value for delete_volume: expected a boolean, got number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeDeleteServers([]byte(tc.body), testProjectID)
			wantBadRequest(t, err, tc.want)
		})
	}
}

// TestSDKRequestBodiesMatchOAS checks that the SDK bodies used as valid
// inputs above are what Huawei publishes, so the tests decode real shapes.
func TestSDKRequestBodiesMatchOAS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, path string
		body       []byte
	}{
		{"ECS/ResizePostPaidServer.json", "/v1/{project_id}/cloudservers/{server_id}/resize", sdkResizeV1(t)},
		{"ECS/ResizeServer.json", "/v1.1/{project_id}/cloudservers/{server_id}/resize", sdkResizeV11(t)},
		{"ECS/CreatePostPaidServers.json", "/v1/{project_id}/cloudservers", sdkCreateV1Minimal(t)},
		{"ECS/CreatePostPaidServers.json", "/v1/{project_id}/cloudservers", sdkCreateV1Full(t)},
		{"ECS/CreateServers.json", "/v1.1/{project_id}/cloudservers", sdkCreateV11Prepaid(t)},
		{"ECS/DeleteServers.json", "/v1/{project_id}/cloudservers/delete", []byte(`{"servers":[{"id":"a"}],"delete_publicip":true}`)},
	} {
		checkOASRequest(t, tc.file, tc.path, "post", tc.body)
	}
}
