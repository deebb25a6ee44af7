package signature_test

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/ecsd-dev/ecsd/signature"
)

// TestVerifyGoSDKRoundTrip signs requests with the Go SDK's own signer, sends
// them as the SDK does (DefaultHttpRequest.ConvertRequest), and checks that
// Verify accepts them and that Sign computes the same Authorization.
func TestVerifyGoSDKRoundTrip(t *testing.T) {
	t.Parallel()
	const date = "20250101T000000Z"
	t0 := mustParseDate(t, date)
	keys := map[string]string{testAK: testSK, "AK-LONG": strings.Repeat("secret-", 20)}
	srv := newVerifyServer(t, newVerifier(t0.Add(2*time.Minute), keys))

	type resize struct {
		FlavorRef string `json:"flavorRef"`
		Mode      string `json:"mode,omitempty"`
	}
	tests := []struct {
		name    string
		method  string
		path    string
		queries map[string]any
		headers map[string]string
		body    any
		ak      string
	}{
		{
			name: "list with query", method: http.MethodGet, path: "/v1/" + testProjectID + "/cloudservers/detail",
			queries: map[string]any{
				"limit":         10,
				"name":          "web server/01 + more",
				"flavor":        "",                                     // sent as "flavor", signed as "flavor="
				"expect-fields": []string{"launched_at", "{id}", "a b"}, // raw and escaped orders differ
				"sorta":         "1",
				"sort{":         "2",
				"tags":          map[string]string{"env": "prod/eu"},
				"ip":            "一 (&=?!#%.*)",
				"not-tags":      true,
			},
		},
		{
			name: "path needing escapes", method: http.MethodGet,
			path: "/v1/" + testProjectID + "/cloudservers/a b+c(d)!*'@:,;=$&~_-.%?#/一/é/x",
		},
		{
			name: "resize with JSON body", method: http.MethodPost,
			path:    "/v1/" + testProjectID + "/cloudservers/11111111-2222-3333-4444-555555555555/resize",
			body:    &resize{FlavorRef: "s6.large.2", Mode: "withStopServer"},
			headers: map[string]string{"Content-Type": "application/json;charset=UTF-8", "X-Client-Token": "  tok en  "},
		},
		{
			name: "delete with underscore header", method: http.MethodDelete, path: "/v1/" + testProjectID + "/x",
			headers: map[string]string{"Content-Type": "application/json", "TEST_UNDERSCORE": "ignored"},
		},
		{
			name: "text body is unsigned payload", method: http.MethodPut, path: "/v1/" + testProjectID + "/upload",
			body: "plain text body", headers: map[string]string{"Content-Type": "text/plain"},
		},
		{
			name: "long secret key", method: http.MethodPost, path: "/v1/" + testProjectID + "/cloudservers",
			queries: map[string]any{"dry_run": true}, body: &resize{FlavorRef: "s6.small.1"}, ak: "AK-LONG",
			headers: map[string]string{"Content-Type": "application/json;charset=UTF-8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ak := tt.ak
			if ak == "" {
				ak = testAK
			}
			b := request.NewHttpRequestBuilder().WithMethod(tt.method).WithEndpoint(srv.URL).WithPath(tt.path).
				AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0; os/linux go/1.26").
				AddHeaderParam("X-Project-Id", testProjectID).
				AddHeaderParam("X-Sdk-Date", date)
			for k, v := range tt.headers {
				b.AddHeaderParam(k, v)
			}
			for k, v := range tt.queries {
				b.AddQueryParam(k, reflect.ValueOf(v))
			}
			if tt.body != nil {
				b.WithBody("body", tt.body)
			}
			req := b.Build()
			added, err := signer.Sign(req, ak, keys[ak])
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range added {
				req.AddHeaderParam(k, v)
			}
			httpReq, err := req.ConvertRequest()
			if err != nil {
				t.Fatal(err)
			}
			httpReq = httpReq.WithContext(context.Background())

			body, err := req.GetBodyToBytes()
			if err != nil {
				t.Fatal(err)
			}
			mine := httpReq.Clone(context.Background())
			signature.Sign(mine, body.Bytes(), ak, keys[ak], t0)
			if got, want := mine.Header.Get("Authorization"), added["Authorization"]; got != want {
				t.Errorf("Sign Authorization =\n%s\nSDK signed\n%s", got, want)
			}

			resp, err := srv.Client().Do(httpReq)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d: %s\nrequest %s %s\nAuthorization %s",
					resp.StatusCode, strings.TrimSpace(string(msg)), httpReq.Method, httpReq.URL, added["Authorization"])
			}
		})
	}
}
