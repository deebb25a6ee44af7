package httpapi

import "testing"

// sdkResizeBody and sdkCreateBody are shaped as the Go SDK sends them
// (json.Marshal of the request model, then "\n").
var (
	sdkResizeBody = []byte(`{"resize":{"flavorRef":"s6.medium.2","mode":"withStopServer"}}` + "\n")
	sdkCreateBody = []byte(`{"server":{"imageRef":"abe65701-8a26-40ec-b381-c10498ca3745","flavorRef":"s6.large.2",` +
		`"name":"web-1","vpcid":"33abb464-28c4-5bc2-8051-dc3201c93de7","nics":[{"subnet_id":"35b7666f-2899-5f31-b82d-cbf77c72dd06"}],` +
		`"root_volume":{"volumetype":"SSD","size":40},"data_volumes":[{"volumetype":"SSD","size":100}],` +
		`"availability_zone":"cn-north-4a","count":1,"server_tags":[{"key":"env","value":"ci"}],` +
		`"metadata":{"owner":"bench"}}}` + "\n")
)

// BenchmarkDecodeResize measures decoding and validating a resize body
// (ResizePostPaidServer, v1), as the handler does before calling compute.
func BenchmarkDecodeResize(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sdkResizeBody)))
	for b.Loop() {
		if _, err := decodeResize(sdkResizeBody, testProjectID, testServerID, apiV1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeCreateServers measures decoding and validating a
// CreatePostPaidServers body (v1) with a data volume, tags and metadata.
func BenchmarkDecodeCreateServers(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sdkCreateBody)))
	for b.Loop() {
		if _, err := decodeCreateServers(sdkCreateBody, testProjectID, apiV1); err != nil {
			b.Fatal(err)
		}
	}
}
