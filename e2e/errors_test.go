package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	imsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	vpcmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpc/v2/model"

	ecs "github.com/ecsd-dev/ecsd"
)

// TestRawRequestErrors sends, signed as the SDK signs, the requests the SDK
// cannot express: malformed JSON, wrong JSON types, unknown actions, missing
// fields, oversized bodies, unknown paths and methods, odd IDs and bad
// queries. Each must be a 4xx in the right envelope with an X-Request-Id,
// never a 5xx.
func TestRawRequestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	id := b.mustCreateOne(t, "target", "s6.large.2", "")
	pid := b.tenant.ProjectID
	servers := "/v1/" + pid + "/cloudservers"

	// createBody returns a valid v1 create body with change applied.
	createBody := func(change func(s map[string]any)) []byte {
		s := map[string]any{
			"name": "raw", "imageRef": imageUbuntu22, "flavorRef": "s6.large.2", "vpcid": b.vpcID,
			"nics": []any{map[string]any{"subnet_id": b.subnetID}}, "root_volume": map[string]any{"volumetype": "SSD"},
		}
		change(s)
		return sdkJSON(t, map[string]any{"server": s})
	}
	line := func(s string) []byte { return []byte(s + "\n") }
	huge := append(append([]byte(`{"server":{"name":"`), bytes.Repeat([]byte("a"), 1<<20+1024)...), line(`"}}`)...)
	longID := strings.Repeat("f", 300)

	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
		gateway            bool
		mentions           string // text the message must contain
	}{
		// Malformed bodies.
		{"create: malformed JSON", "POST", servers, line(`{"server":`), 400, ecs.CodeBadRequest, false, "JSON"},
		{"create: trailing garbage", "POST", servers, line(`{"server":{}} x`), 400, ecs.CodeBadRequest, false, ""},
		{"create: empty body", "POST", servers, nil, 400, ecs.CodeBadRequest, false, "empty"},
		{"create: array body", "POST", servers, line(`[]`), 400, ecs.CodeBadRequest, false, ""},
		{"resize: malformed JSON", "POST", servers + "/" + id + "/resize", line(`{"resize":{"flavorRef":}`), 400, ecs.CodeBadRequest, false, ""},
		{"action: malformed JSON", "POST", servers + "/action", line(`{"os-start"`), 400, ecs.CodeBadRequest, false, ""},
		{"delete: malformed JSON", "POST", servers + "/delete", line(`{`), 400, ecs.CodeBadRequest, false, ""},
		// Wrong JSON types.
		{"create: flavorRef as a number", "POST", servers, createBody(func(s map[string]any) { s["flavorRef"] = 42 }), 400, ecs.CodeBadRequest, false, "flavorRef"},
		{"create: count as a string", "POST", servers, createBody(func(s map[string]any) { s["count"] = "2" }), 400, ecs.CodeBadRequest, false, "count"},
		{"create: nics as an object", "POST", servers, createBody(func(s map[string]any) { s["nics"] = map[string]any{} }), 400, ecs.CodeBadRequest, false, "nics"},
		{"create: v1 chargingMode as a string", "POST", servers, createBody(func(s map[string]any) {
			s["extendparam"] = map[string]any{"chargingMode": "postPaid"}
		}), 400, ecs.CodeBadRequest, false, "chargingMode"},
		{"create v1.1: chargingMode as a number", "POST", "/v1.1/" + pid + "/cloudservers", createBody(func(s map[string]any) {
			s["extendparam"] = map[string]any{"chargingMode": 0}
		}), 400, ecs.CodeBadRequest, false, "chargingMode"},
		{"create: dry_run as a string", "POST", servers, line(`{"dry_run":"yes","server":{}}`), 400, ecs.CodeBadRequest, false, "dry_run"},
		{"resize: flavorRef as a number", "POST", servers + "/" + id + "/resize", line(`{"resize":{"flavorRef":7}}`), 400, ecs.CodeBadRequest, false, "flavorRef"},
		{"resize: hw:cpu_threads as a string", "POST", servers + "/" + id + "/resize",
			line(`{"resize":{"flavorRef":"c7.xlarge.2","cpu_options":{"hw:cpu_threads":"1"}}}`), 400, ecs.CodeBadRequest, false, "cpu_threads"},
		{"resize: hw:cpu_threads 3", "POST", servers + "/" + id + "/resize",
			line(`{"resize":{"flavorRef":"c7.xlarge.2","cpu_options":{"hw:cpu_threads":3}}}`), 400, ecs.CodeBadRequest, false, "cpu_threads"},
		{"action: servers as a string", "POST", servers + "/action", line(`{"os-start":{"servers":"all"}}`), 400, ecs.CodeBadRequest, false, "servers"},
		{"delete: id as a number", "POST", servers + "/delete", line(`{"servers":[{"id":1}]}`), 400, ecs.CodeBadRequest, false, "id"},
		// Unknown actions and missing fields.
		{"action: unknown key", "POST", servers + "/action", line(`{"os-pause":{"servers":[{"id":"` + id + `"}]}}`), 400, ecs.CodeBadRequest, false, ""},
		{"action: two actions", "POST", servers + "/action",
			line(`{"os-start":{"servers":[{"id":"` + id + `"}]},"os-stop":{"servers":[{"id":"` + id + `"}]}}`), 400, ecs.CodeBadRequest, false, ""},
		{"action: reboot without type", "POST", servers + "/action", line(`{"reboot":{"servers":[{"id":"` + id + `"}]}}`), 400, ecs.CodeBadRequest, false, "type"},
		{"action: stop type GENTLE", "POST", servers + "/action", line(`{"os-stop":{"type":"GENTLE","servers":[{"id":"` + id + `"}]}}`), 400, ecs.CodeBadRequest, false, "type"},
		{"action: null action", "POST", servers + "/action", line(`{"os-start":null}`), 400, ecs.CodeBadRequest, false, ""},
		{"create: no server", "POST", servers, line(`{"dry_run":false}`), 400, ecs.CodeBadRequest, false, "server"},
		{"create: no name", "POST", servers, createBody(func(s map[string]any) { delete(s, "name") }), 400, ecs.CodeBadRequest, false, "name"},
		{"create: no root_volume", "POST", servers, createBody(func(s map[string]any) { delete(s, "root_volume") }), 400, ecs.CodeBadRequest, false, "root_volume"},
		{"create: no nics", "POST", servers, createBody(func(s map[string]any) { delete(s, "nics") }), 400, ecs.CodeBadRequest, false, "nics"},
		{"resize: no resize", "POST", servers + "/" + id + "/resize", line(`{"dry_run":true}`), 400, ecs.CodeBadRequest, false, "resize"},
		{"resize: no flavorRef", "POST", servers + "/" + id + "/resize", line(`{"resize":{"mode":"withStopServer"}}`), 400, ecs.CodeBadRequest, false, "flavorRef"},
		{"delete: no servers", "POST", servers + "/delete", line(`{}`), 400, ecs.CodeBadRequest, false, "servers"},
		// Size limit.
		{"body over 1 MiB", "POST", servers, huge, 413, "APIGW.0201", true, ""},
		// Unknown paths and methods.
		{"unknown path", "GET", "/v1/" + pid + "/nothing", nil, 404, "APIGW.0101", true, ""},
		{"unknown version", "GET", "/v3/" + pid + "/cloudservers/detail", nil, 404, "APIGW.0101", true, ""},
		{"root", "GET", "/", nil, 404, "APIGW.0101", true, ""},
		{"Nova delete (not served)", "DELETE", "/v2.1/" + pid + "/servers/" + id, nil, 404, "APIGW.0101", true, ""},
		{"DELETE a server", "DELETE", servers + "/" + id, nil, 404, "APIGW.0101", true, ""},
		// PUT .../cloudservers/{server_id} is UpdateServer: "action" names no server.
		{"PUT the action path", "PUT", servers + "/action", line(`{}`), 404, ecs.CodeServerNotFound, false, ""},
		{"POST the list path", "POST", servers + "/detail", line(`{}`), 404, "APIGW.0101", true, ""},
		{"GET the resize path", "GET", servers + "/" + id + "/resize", nil, 404, "APIGW.0101", true, ""},
		{"DELETE a job", "DELETE", "/v1/" + pid + "/jobs/ffffffffffffffffffffffffffffffff", nil, 404, "APIGW.0101", true, ""},
		// Odd server IDs.
		{"show: not a UUID", "GET", servers + "/not-a-uuid", nil, 404, ecs.CodeServerNotFound, false, "not-a-uuid"},
		{"show: 300 characters", "GET", servers + "/" + longID, nil, 404, ecs.CodeServerNotFound, false, ""},
		{"show: escaped unicode", "GET", servers + "/%E2%9C%93", nil, 404, ecs.CodeServerNotFound, false, ""},
		{"show: escaped space", "GET", servers + "/a%20b", nil, 404, ecs.CodeServerNotFound, false, ""},
		{"resize: not a UUID", "POST", servers + "/x/resize", line(`{"resize":{"flavorRef":"s6.xlarge.2"}}`), 404, ecs.CodeServerNotFound, false, ""},
		{"action: empty id", "POST", servers + "/action", line(`{"os-start":{"servers":[{"id":""}]}}`), 400, ecs.CodeBadRequest, false, "id"},
		{"action: 300-character id", "POST", servers + "/action", line(`{"os-start":{"servers":[{"id":"` + longID + `"}]}}`), 400, ecs.CodeBadRequest, false, "id"},
		{"action: control character in id", "POST", servers + "/action", line(`{"os-start":{"servers":[{"id":"a\u0001b"}]}}`), 400, ecs.CodeBadRequest, false, "id"},
		{"delete: unknown id", "POST", servers + "/delete", line(`{"servers":[{"id":"nope"}]}`), 404, ecs.CodeServerNotFound, false, ""},
		// Bad queries.
		{"list: limit not a number", "GET", servers + "/detail?limit=abc", nil, 400, ecs.CodeBadRequest, false, "limit"},
		{"list: limit 0", "GET", servers + "/detail?limit=0", nil, 400, ecs.CodeBadRequest, false, "limit"},
		{"list: limit twice", "GET", servers + "/detail?limit=1&limit=2", nil, 400, ecs.CodeBadRequest, false, "limit"},
		{"list v1.1: limit 101", "GET", "/v1.1/" + pid + "/cloudservers/detail?limit=101", nil, 400, ecs.CodeBadRequest, false, "limit"},
		{"list v1.1: unknown expect-fields", "GET", "/v1.1/" + pid + "/cloudservers/detail?expect-fields=secrets", nil, 400, ecs.CodeBadRequest, false, "expect-fields"},
		{"list: unknown marker", "GET", servers + "/detail?marker=" + unknownID, nil, 400, ecs.CodeBadRequest, false, "marker"},
		{"resize_flavors: sort_dir up", "GET", servers + "/resize_flavors?source_flavor_id=s6.large.2&sort_dir=up", nil, 400, ecs.CodeBadRequest, false, "sort_dir"},
		{"resize_flavors: sort_key size", "GET", servers + "/resize_flavors?source_flavor_id=s6.large.2&sort_key=size", nil, 400, ecs.CodeBadRequest, false, "sort_key"},
		{"flavors: limit -1", "GET", servers + "/flavors?limit=-1", nil, 400, ecs.CodeBadRequest, false, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.raw(t, tc.method, tc.path, tc.body)
			if r.status >= 500 {
				t.Fatalf("HTTP %d for a client error: %s", r.status, r.body)
			}
			var msg string
			if tc.gateway {
				msg = r.wantGatewayError(t, tc.status, tc.code)
			} else {
				msg = r.wantECSError(t, tc.status, tc.code)
			}
			if tc.mentions != "" && !strings.Contains(msg, tc.mentions) {
				t.Errorf("message %q does not mention %q", msg, tc.mentions)
			}
		})
	}

	// None of that touched the server.
	b.wantServer(t, id, "ACTIVE", 1, "s6.large.2")
	if n := countServers(t, b.account, "raw"); n != 0 {
		t.Errorf("%d servers named raw were created", n)
	}
}

// TestRawRequestSuccess checks that a raw request signed as the SDK signs it
// works, and that the SDK's own decoder reads the raw bodies, so the raw
// error tests above talk to the same server the SDK does.
func TestRawRequestSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	body := sdkJSON(t, map[string]any{"server": map[string]any{
		"name": "raw-ok", "imageRef": imageUbuntu22, "flavorRef": "s6.large.2", "vpcid": b.vpcID,
		"nics": []any{map[string]any{"subnet_id": b.subnetID}}, "root_volume": map[string]any{"volumetype": "SSD"},
	}})
	if !bytes.HasSuffix(body, []byte("}\n")) {
		t.Fatalf("sdkJSON does not end with a newline: %q", body)
	}
	r := b.raw(t, http.MethodPost, "/v1/"+b.tenant.ProjectID+"/cloudservers", body)
	r.wantRequestID(t)
	if r.status != http.StatusOK {
		t.Fatalf("raw create: HTTP %d %s", r.status, r.body)
	}
	var created struct {
		JobID     string   `json:"job_id"`
		ServerIDs []string `json:"serverIds"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || created.JobID == "" || len(created.ServerIDs) != 1 {
		t.Fatalf("raw create body %s (%v)", r.body, err)
	}
	b.wantJob(t, created.JobID, "SUCCESS")
	b.wantServer(t, created.ServerIDs[0], "ACTIVE", 1, "s6.large.2")

	// Raw bodies of the read APIs decode with the SDK's own decoder (the
	// json-iterator setup of core/utils) into the SDK's response models.
	pid := b.tenant.ProjectID
	all := "expect-fields=launched_at&expect-fields=key_name&expect-fields=locked&expect-fields=root_device_name" +
		"&expect-fields=tenancy&expect-fields=dedicated_host_id&expect-fields=enterprise_project_id&expect-fields=tags" +
		"&expect-fields=metadata&expect-fields=addresses&expect-fields=security_groups&expect-fields=volumes_attached" +
		"&expect-fields=image&expect-fields=power_state&expect-fields=cpu_options&expect-fields=market_info"
	for path, v := range map[string]any{
		"/v1/" + pid + "/cloudservers/detail":                                               &model.ListServersDetailsResponse{},
		"/v1.1/" + pid + "/cloudservers/detail?" + all:                                      &model.ListCloudServersResponse{},
		"/v1/" + pid + "/cloudservers/flavors":                                              &model.ListFlavorsResponse{},
		"/v1/" + pid + "/cloudservers/limits":                                               &model.ShowServerLimitsResponse{},
		"/v1/" + pid + "/cloudservers/resize_flavors?instance_uuid=" + created.ServerIDs[0]: &model.ListResizeFlavorsResponse{},
		"/v1/" + pid + "/jobs/" + created.JobID:                                             &model.ShowJobResponse{},
		"/v1/" + pid + "/vpcs":                                                              &vpcmodel.ListVpcsResponse{},
		"/v1/" + pid + "/subnets":                                                           &vpcmodel.ListSubnetsResponse{},
		"/v1/" + pid + "/security-groups":                                                   &vpcmodel.ListSecurityGroupsResponse{},
		"/v2/cloudimages":                                                                   &imsmodel.ListImagesResponse{},
	} {
		r := b.raw(t, http.MethodGet, path, nil)
		r.wantRequestID(t)
		if r.status != http.StatusOK {
			t.Errorf("GET %s: HTTP %d %s", path, r.status, r.body)
			continue
		}
		decodeSDK(t, r.body, v)
	}
}

// TestMutatedBodies sends valid bodies with bytes flipped, dropped and
// duplicated (a fixed pseudo-random sequence) to every POST route: whatever
// ecsd makes of them, it never answers 5xx, and every error is a proper
// envelope with an X-Request-Id.
func TestMutatedBodies(t *testing.T) {
	t.Parallel()
	b := setup(t, "instant")
	id := b.mustCreateStopped(t, "victim", "s6.large.2", "")
	pid := b.tenant.ProjectID
	bodies := map[string][]byte{
		"/v1/" + pid + "/cloudservers": sdkJSON(t, map[string]any{"server": map[string]any{
			"name": "m", "imageRef": imageUbuntu22, "flavorRef": "s6.small.1", "vpcid": b.vpcID,
			"nics": []any{map[string]any{"subnet_id": b.subnetID}}, "root_volume": map[string]any{"volumetype": "SSD", "size": 40},
			"count": 1, "extendparam": map[string]any{"chargingMode": 0}, "metadata": map[string]any{"k": "v"},
		}, "dry_run": true}),
		"/v1/" + pid + "/cloudservers/" + id + "/resize": sdkJSON(t, map[string]any{"resize": map[string]any{
			"flavorRef": "c7.xlarge.2", "mode": "withStopServer", "cpu_options": map[string]any{"hw:cpu_threads": 2},
		}, "dry_run": true}),
		"/v1.1/" + pid + "/cloudservers/" + id + "/resize": sdkJSON(t, map[string]any{"resize": map[string]any{
			"flavorRef": "c7.xlarge.2", "extendparam": map[string]any{"isAutoPay": "true"},
		}, "dry_run": true}),
		"/v1/" + pid + "/cloudservers/action": sdkJSON(t, map[string]any{"reboot": map[string]any{
			"type": "SOFT", "servers": []any{map[string]any{"id": id}},
		}}),
		"/v1/" + pid + "/cloudservers/delete": sdkJSON(t, map[string]any{
			"servers": []any{map[string]any{"id": unknownID}}, "delete_volume": false,
		}),
	}
	seed := uint64(0x9e3779b97f4a7c15)
	next := func(n int) int {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(n))
	}
	for path, body := range bodies {
		for i := range 25 {
			m := append([]byte(nil), body...)
			for range 1 + next(3) {
				p := next(len(m))
				switch next(3) {
				case 0:
					m[p] = "{}[]\":,0a \\-"[next(12)]
				case 1:
					m = append(m[:p], m[p+1:]...)
				default:
					m = append(m[:p], append([]byte{m[p]}, m[p:]...)...)
				}
			}
			r := b.raw(t, http.MethodPost, path, m)
			r.wantRequestID(t)
			switch {
			case r.status >= 500:
				t.Fatalf("%s mutation %d: HTTP %d for %q: %s", path, i, r.status, m, r.body)
			case r.status >= 400:
				var env map[string]json.RawMessage
				if err := json.Unmarshal(r.body, &env); err != nil || (env["error"] == nil && env["error_code"] == nil) {
					t.Fatalf("%s mutation %d: HTTP %d with body %s", path, i, r.status, r.body)
				}
			}
		}
	}
}
