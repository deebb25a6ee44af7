package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// This file holds checkOAS, a small checker of JSON bodies against Huawei's
// published API definitions (testdata/oas, copied from
// /work/shared/reference/oas; see testdata/oas/README.md), and the tests
// that hold every response constructor of the wire_*.go files against them.
//
// The checker resolves $ref into definitions and checks, recursively, JSON
// types (string, integer, number, boolean, object, array), required
// properties and enums. null is accepted where the SDK accepts it: for
// properties the definition does not require (the SDK declares those as
// pointers or omitempty). Everything else the published definition and the
// SDK disagree on is listed in oasExceptions, one entry per disagreement.

// oasException is one accepted departure; for oasAllowEnum, values lists the
// extra values accepted (none: any value).
type oasException struct {
	kind, reason string
	values       []string
}

// oasException kinds.
const (
	oasAllowNull   = "null"   // null for a required property
	oasAllowAbsent = "absent" // a required property may be missing
	oasAllowEnum   = "enum"   // values outside the published enum
	oasAllowAny    = "any"    // a value not checked at all (e.g. a map whose values the SDK takes as any)
)

// oasExceptions are the accepted departures from the published definitions,
// keyed by "Definition.property" (or "File.json#Definition.property" to
// limit an entry to one file). The SDK decodes every one of them.
var oasExceptions = map[string]oasException{
	// Servers.
	"ServerDetail.OS-EXT-STS:task_state": {oasAllowNull, "the real API sends null when no task runs (OAS example); SDK string accepts null", nil},

	// Nova servers (NovaShowServer.json).
	"NovaServer.OS-EXT-STS:task_state": {oasAllowNull, "Nova sends null when no task runs; gophercloud's string accepts null", nil},
	"NovaServer.OS-EXT-STS:vm_state":   {oasAllowEnum, "the published enum is upper case; Nova (and gophercloud, and the OAS's own description) use the lower-case vm states", []string{"active", "building", "stopped", "resized", "error", "deleted"}},

	// Volumes, ports, AZs.
	"VolumeDetail.volume_image_metadata": {oasAllowAny, "the published values are objects, but EVS sends the image's metadata as strings; SDK map[string]interface{}", nil},
	"NovaAvailabilityZone.hosts":         {oasAllowNull, "Nova sends null hosts to non-admin callers; SDK []string accepts null", nil},

	// Flavors.
	"Flavor.rxtx_quota":                      {oasAllowNull, "unused field; the real API sends null (reference §C); SDK string accepts null", nil},
	"Flavor.rxtx_cap":                        {oasAllowNull, "unused field; the real API sends null; SDK string accepts null", nil},
	"ListResizeFlavorsResult.rxtx_quota":     {oasAllowNull, "unused field; the real API sends null; SDK string accepts null", nil},
	"ListResizeFlavorsResult.rxtx_cap":       {oasAllowNull, "unused field; the real API sends null; SDK string accepts null", nil},
	"ListResizeFlavorsResult.instance_quota": {oasAllowNull, "reserved field; the real API sends null; SDK *interface{}", nil},
	"FlavorLink.type":                        {oasAllowNull, "unused field; the real API sends null (reference §C); SDK string accepts null", nil},

	// Jobs.
	"ShowJobResponseBody.error_code":  {oasAllowNull, "null unless the job failed (reference §D example); SDK *string", nil},
	"ShowJobResponseBody.fail_reason": {oasAllowNull, "null unless the job failed (reference §D example); SDK *string", nil},
	"ShowJobResponseBody.status":      {oasAllowEnum, "PENDING_PAYMENT for unpaid yearly/monthly orders (current Doc); SDK enum accepts any string", []string{"PENDING_PAYMENT"}},
	"SubJob.status":                   {oasAllowEnum, "PENDING_PAYMENT as above; SDK enum accepts any string", []string{"PENDING_PAYMENT"}},

	// v1.1 servers.
	"CloudServer.fault": {oasAllowNull, "required but only meaningful in ERROR; null otherwise; SDK *Fault", nil},

	// VPC: the OAS files of ListVpcs and ListSecurityGroups describe the v3 API
	// (/v3/{project_id}/vpc/...); ecsd serves the v1 paths the v2 SDK calls,
	// whose bodies have no page_info or request_id.
	"ListVpcsResponseBody.page_info":            {oasAllowAbsent, "v3-only; the v1 ListVpcs body (SDK vpc/v2) has none", nil},
	"ListVpcsResponseBody.request_id":           {oasAllowAbsent, "v3-only; the v1 ListVpcs body (SDK vpc/v2) has none", nil},
	"ListSecurityGroupsResponseBody.page_info":  {oasAllowAbsent, "v3-only; the v1 ListSecurityGroups body (SDK vpc/v2) has none", nil},
	"ListSecurityGroupsResponseBody.request_id": {oasAllowAbsent, "v3-only; the v1 ListSecurityGroups body (SDK vpc/v2) has none", nil},

	// Sell policies.
	"ListFlavorSellPoliciesResponseBody.flavors": {oasAllowAbsent, "the published body requires \"flavors\", which it does not define; the Doc and SDK body is count + sell_policies", nil},

	// Images.
	"ImageInfo.__platform": {oasAllowEnum, "IMS also reports platforms beyond the published list; SDK enum accepts any string", []string{"Huawei Cloud EulerOS", "openEuler", "Rocky Linux", "AlmaLinux", "Kylin", "UnionTech OS"}},
}

// oasDoc is the part of an API Explorer file the checker reads.
type oasDoc struct {
	Paths map[string]map[string]struct {
		Parameters []struct {
			In     string     `json:"in"`
			Schema *oasSchema `json:"schema"`
		} `json:"parameters"`
		Responses map[string]struct {
			Schema *oasSchema `json:"schema"`
		} `json:"responses"`
	} `json:"paths"`
	Definitions map[string]*oasSchema `json:"definitions"`
}

// oasSchema is one schema node.
type oasSchema struct {
	Ref                  string                `json:"$ref"`
	Type                 string                `json:"type"`
	Properties           map[string]*oasSchema `json:"properties"`
	Required             []string              `json:"required"`
	Items                *oasSchema            `json:"items"`
	AdditionalProperties json.RawMessage       `json:"additionalProperties"`
	Enum                 []any                 `json:"enum"`
}

var oasDocs sync.Map // file → *oasDoc

// loadOAS reads testdata/oas/<file> once per test binary.
func loadOAS(t testing.TB, file string) *oasDoc {
	t.Helper()
	if d, ok := oasDocs.Load(file); ok {
		return d.(*oasDoc)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "oas", filepath.FromSlash(file)))
	if err != nil {
		t.Fatalf("checkOAS: %v", err)
	}
	var d oasDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("checkOAS: %s: %v", file, err)
	}
	oasDocs.Store(file, &d)
	return &d
}

// checkOAS checks a response body against the schema of the status response
// of method path in testdata/oas/<file> (e.g. "ECS/ShowServer.json",
// "/v1/{project_id}/cloudservers/{server_id}", "get", "200") and reports
// each mismatch, with its JSON path, as a test error.
func checkOAS(t testing.TB, file, path, method, status string, body []byte) {
	t.Helper()
	d := loadOAS(t, file)
	op, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		t.Fatalf("checkOAS: %s has no %s %s", file, method, path)
	}
	resp, ok := op.Responses[status]
	if !ok || resp.Schema == nil {
		t.Fatalf("checkOAS: %s %s %s has no schema for status %s", file, method, path, status)
	}
	checkOASSchema(t, d, file, resp.Schema, body)
}

// checkOASRequest checks a request body against the body parameter of
// method path in testdata/oas/<file>.
func checkOASRequest(t testing.TB, file, path, method string, body []byte) {
	t.Helper()
	d := loadOAS(t, file)
	op, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		t.Fatalf("checkOASRequest: %s has no %s %s", file, method, path)
	}
	for _, p := range op.Parameters {
		if p.In == "body" && p.Schema != nil {
			checkOASSchema(t, d, file, p.Schema, body)
			return
		}
	}
	t.Fatalf("checkOASRequest: %s %s %s has no body parameter", file, method, path)
}

func checkOASSchema(t testing.TB, d *oasDoc, file string, s *oasSchema, body []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("checkOAS %s: body is not JSON: %v", file, err)
	}
	c := &oasChecker{doc: d, file: file}
	c.check(s, v, "$", "")
	for _, m := range c.mismatches {
		t.Errorf("checkOAS %s: %s", file, m)
	}
}

// oasChecker walks a value along a schema and collects mismatches.
type oasChecker struct {
	doc        *oasDoc
	file       string
	mismatches []string
}

func (c *oasChecker) failf(path, format string, args ...any) {
	c.mismatches = append(c.mismatches, path+": "+fmt.Sprintf(format, args...))
}

// allowed reports whether loc ("Definition.property") has an exception of
// kind; for oasAllowEnum, v must be one of the exception's values.
func (c *oasChecker) allowed(loc, kind string, v any) bool {
	if loc == "" {
		return false
	}
	e, ok := oasExceptions[filepath.Base(c.file)+"#"+loc]
	if !ok {
		e, ok = oasExceptions[loc]
	}
	if !ok || e.kind != kind {
		return false
	}
	if kind == oasAllowEnum && len(e.values) > 0 {
		return slices.Contains(e.values, fmt.Sprint(v))
	}
	return true
}

// resolve follows $ref chains and returns the schema and its definition
// name ("" for inline schemas).
func (c *oasChecker) resolve(s *oasSchema) (*oasSchema, string) {
	name := ""
	for i := 0; s != nil && s.Ref != "" && i < 32; i++ {
		ref := strings.TrimPrefix(s.Ref, "#/definitions/")
		name = ref
		s = c.doc.Definitions[ref]
	}
	return s, name
}

// check validates v at path against s; loc names the property being checked
// ("Definition.property") for the exception list.
func (c *oasChecker) check(s *oasSchema, v any, path, loc string) {
	s, def := c.resolve(s)
	if s == nil {
		return // unknown or empty schema: anything goes
	}
	if v == nil {
		// null: the caller decided whether null is acceptable here.
		return
	}
	if c.allowed(loc, oasAllowAny, v) {
		return
	}
	typ := s.Type
	if typ == "" && s.Properties != nil {
		typ = "object"
	}
	switch typ {
	case "string":
		if _, ok := v.(string); !ok {
			c.failf(path, "want string, got %s", jsonKind(v))
			return
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			c.failf(path, "want integer, got %s", jsonKind(v))
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			c.failf(path, "want integer, got number %s", n)
			return
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			c.failf(path, "want number, got %s", jsonKind(v))
			return
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.failf(path, "want boolean, got %s", jsonKind(v))
			return
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			c.failf(path, "want array, got %s", jsonKind(v))
			return
		}
		for i, item := range arr {
			p := fmt.Sprintf("%s[%d]", path, i)
			if item == nil {
				c.failf(p, "null array element")
				continue
			}
			c.check(s.Items, item, p, loc)
		}
		return
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			c.failf(path, "want object, got %s", jsonKind(v))
			return
		}
		c.checkObject(s, def, obj, path)
		return
	}
	if len(s.Enum) > 0 && !enumHas(s.Enum, v) && !c.allowed(loc, oasAllowEnum, v) {
		c.failf(path, "value %v is not in the enum %v", v, s.Enum)
	}
}

func (c *oasChecker) checkObject(s *oasSchema, def string, obj map[string]any, path string) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, req := range s.Required {
		loc := def + "." + req
		val, present := obj[req]
		switch {
		case !present && !c.allowed(loc, oasAllowAbsent, nil):
			c.failf(path, "required property %q is missing", req)
		case present && val == nil && !c.allowed(loc, oasAllowNull, nil):
			c.failf(path+"."+req, "required property is null")
		}
	}
	for _, k := range keys {
		if ps, ok := s.Properties[k]; ok {
			c.check(ps, obj[k], path+"."+k, def+"."+k)
			continue
		}
		if len(s.AdditionalProperties) == 0 {
			continue // undeclared properties are allowed (clients ignore them)
		}
		var ap oasSchema
		if err := json.Unmarshal(s.AdditionalProperties, &ap); err != nil {
			continue // additionalProperties: true
		}
		if obj[k] == nil {
			c.failf(path+"."+k, "null map value")
			continue
		}
		c.check(&ap, obj[k], path+"."+k, def+"{}")
	}
}

func enumHas(enum []any, v any) bool {
	return slices.ContainsFunc(enum, func(e any) bool {
		if n, ok := v.(json.Number); ok {
			return fmt.Sprint(e) == n.String()
		}
		return e == v
	})
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// TestCheckOAS checks the checker itself on hand-written bodies.
func TestCheckOAS(t *testing.T) {
	t.Parallel()
	const (
		file = "ECS/ShowServerLimits.json"
		path = "/v1/{project_id}/cloudservers/limits"
	)
	valid := `{"absolute":{"maxImageMeta":1,"maxPersonality":1,"maxPersonalitySize":1,"maxSecurityGroupRules":1,
		"maxSecurityGroups":1,"maxServerGroupMembers":1,"maxServerGroups":1,"maxServerMeta":1,"maxTotalCores":1,
		"maxTotalFloatingIps":1,"maxTotalInstances":1,"maxTotalKeypairs":-1,"maxTotalRAMSize":1,"totalCoresUsed":0,
		"totalFloatingIpsUsed":0,"totalInstancesUsed":0,"totalRAMUsed":0,"totalSecurityGroupsUsed":0,
		"totalServerGroupsUsed":0,"maxTotalSpotCores":null,"limit_by_flavor":[]}}`
	rec := &recordingTB{TB: t}
	checkOAS(rec, file, path, "GET", "200", []byte(valid))
	if len(rec.errs) != 0 {
		t.Fatalf("valid body: %v", rec.errs)
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"string for integer", strings.Replace(valid, `"maxImageMeta":1`, `"maxImageMeta":"1"`, 1), "$.absolute.maxImageMeta: want integer, got string"},
		{"fraction for integer", strings.Replace(valid, `"maxImageMeta":1`, `"maxImageMeta":1.5`, 1), "$.absolute.maxImageMeta: want integer, got number 1.5"},
		{"missing required", strings.Replace(valid, `"maxImageMeta":1,`, ``, 1), `$.absolute: required property "maxImageMeta" is missing`},
		{"null required", strings.Replace(valid, `"maxImageMeta":1`, `"maxImageMeta":null`, 1), "$.absolute.maxImageMeta: required property is null"},
		{"array for object", `{"absolute":[]}`, "$.absolute: want object, got array"},
	} {
		rec := &recordingTB{TB: t}
		checkOAS(rec, file, path, "GET", "200", []byte(tc.body))
		if !slices.ContainsFunc(rec.errs, func(e string) bool { return strings.HasSuffix(e, tc.want) }) {
			t.Errorf("%s: want an error ending in %q, got %q", tc.name, tc.want, rec.errs)
		}
	}
	// Enums and exceptions.
	rec = &recordingTB{TB: t}
	checkOAS(rec, "ECS/ShowJob.json", "/v1/{project_id}/jobs/{job_id}", "GET", "200", []byte(
		`{"status":"DONE","entities":{"sub_jobs":[{"status":"PENDING_PAYMENT"}]},"job_id":"j","job_type":"t",
		"begin_time":"","end_time":"","error_code":null,"fail_reason":null}`))
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `$.status: value DONE is not in the enum`) {
		t.Errorf("enum: got %q", rec.errs)
	}
}

// recordingTB collects Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Helper() {}

// TestCheckOASCatchesMistakes breaks real constructor output in the ways that
// break Go clients and expects checkOAS to notice each one.
func TestCheckOASCatchesMistakes(t *testing.T) {
	t.Parallel()
	const (
		file = "ECS/ShowServer.json"
		path = "/v1/{project_id}/cloudservers/{server_id}"
	)
	for _, tc := range []struct {
		name   string
		mutate func(server map[string]any)
		want   string
	}{
		{"vcpus as number", func(s map[string]any) { s["flavor"].(map[string]any)["vcpus"] = 2 }, "$.server.flavor.vcpus: want string, got number"},
		{"power_state as string", func(s map[string]any) { s["OS-EXT-STS:power_state"] = "1" }, "$.server.OS-EXT-STS:power_state: want integer, got string"},
		{"address version as number", func(s map[string]any) {
			s["addresses"].(map[string]any)[testVPCID].([]any)[0].(map[string]any)["version"] = 4
		}, "$.server.addresses." + testVPCID + "[0].version: want string, got number"},
		{"missing host", func(s map[string]any) { delete(s, "OS-EXT-SRV-ATTR:host") }, `$.server: required property "OS-EXT-SRV-ATTR:host" is missing`},
		{"null vm_state", func(s map[string]any) { s["OS-EXT-STS:vm_state"] = nil }, "$.server.OS-EXT-STS:vm_state: required property is null"},
		{"delete_on_termination as bool", func(s map[string]any) {
			s["os-extended-volumes:volumes_attached"].([]any)[0].(map[string]any)["delete_on_termination"] = true
		}, "$.server.os-extended-volumes:volumes_attached[0].delete_on_termination: want string, got boolean"},
		{"bad address type", func(s map[string]any) {
			s["addresses"].(map[string]any)[testVPCID].([]any)[0].(map[string]any)["OS-EXT-IPS:type"] = "public"
		}, "OS-EXT-IPS:type: value public is not in the enum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body map[string]any
			if err := json.Unmarshal(mustMarshal(t, showServerBody{Server: newServerDetail(testView(testServer()))}), &body); err != nil {
				t.Fatal(err)
			}
			tc.mutate(body["server"].(map[string]any))
			rec := &recordingTB{TB: t}
			checkOAS(rec, file, path, "get", "200", mustMarshal(t, body))
			if !slices.ContainsFunc(rec.errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("want an error containing %q, got %q", tc.want, rec.errs)
			}
		})
	}
	// v1.1 task_state is required and not nullable.
	var list map[string]any
	if err := json.Unmarshal(mustMarshal(t, listCloudServersBody{Servers: []cloudServer{newCloudServer(testView(testServer()), nil)}}), &list); err != nil {
		t.Fatal(err)
	}
	list["servers"].([]any)[0].(map[string]any)["task_state"] = nil
	rec := &recordingTB{TB: t}
	checkOAS(rec, "ECS/ListCloudServers.json", "/v1.1/{project_id}/cloudservers/detail", "get", "200", mustMarshal(t, list))
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "$.servers[0].task_state: required property is null") {
		t.Errorf("v1.1 null task_state: got %q", rec.errs)
	}
}
