package signature_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ecsd-dev/ecsd/signature"
)

func TestSignSDKVectors(t *testing.T) {
	t.Parallel()
	for _, vec := range sdkVectors {
		if !strings.HasPrefix(vec.name, "go sdk") {
			continue // Sign signs like the Go SDK; the Node.js SDK also signs host and content-type
		}
		t.Run(vec.name, func(t *testing.T) {
			t.Parallel()
			unsigned := vec
			unsigned.authorization = ""
			r, body := unsigned.request(t)
			signature.Sign(r, body, vec.ak, vec.sk, vec.date(t))
			if got := r.Header.Get("Authorization"); got != vec.authorization {
				t.Errorf("Authorization =\n%s\nwant\n%s", got, vec.authorization)
			}
		})
	}
}

// TestSignVerifyOverTheWire sends Sign-ed requests through net/http, so that
// Verify sees the path, query and headers as a server receives them.
func TestSignVerifyOverTheWire(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	longSK := strings.Repeat("0123456789", 10) // longer than the HMAC block
	keys := map[string]string{testAK: testSK, "AK-LONG": longSK}
	v := newVerifier(t0.Add(-time.Minute), keys)
	srv := newVerifyServer(t, v)

	tests := []struct {
		name        string
		method      string
		target      string // path and query, as written by the client
		headers     map[string]string
		rawHeaders  map[string]string // written into the map as they are
		body        string
		ak          string
		replaceBody string // sent instead of body, when set
	}{
		{name: "plain GET", method: http.MethodGet, target: "/v1/" + testProjectID + "/cloudservers/detail"},
		{name: "root path", method: http.MethodGet, target: "/"},
		{
			name: "path needing escapes", method: http.MethodGet,
			target: "/v1/" + testProjectID + "/cloudservers/a%20b+c(d)!*'@:,;=$&~_-.%25/%E4%B8%80/%2F/x",
		},
		{
			name: "repeated, empty and escaped query values", method: http.MethodGet,
			target: "/v1/p/cloudservers/resize_flavors?b=2&a=z&a=y&empty&blank=&sp=a+b%20c&sl=%2Ftmp%2F1&u=%E4%B8%80&%5Bk%5D=v&x=%3D%26",
		},
		{
			name: "JSON body with project header", method: http.MethodPost, target: "/v1/" + testProjectID + "/cloudservers",
			headers: map[string]string{"X-Project-Id": testProjectID, "Content-Type": "application/json;charset=UTF-8"},
			body:    `{"server":{"name":"a b","flavorRef":"s6.small.1"}}` + "\n",
		},
		{
			name: "header names in any case", method: http.MethodDelete, target: "/v1/p/x",
			rawHeaders: map[string]string{"x-client-token": "tok", "X-SECURITY-TOKEN": "sec", "x_underscore": "skipped"},
		},
		{
			name: "long secret key", method: http.MethodPut, target: "/v1/p/x?k=v", ak: "AK-LONG",
			headers: map[string]string{"Content-Type": "application/json"}, body: `{}`,
		},
		{
			name: "non-JSON body is unsigned payload", method: http.MethodPost, target: "/v1/p/upload",
			headers: map[string]string{"Content-Type": "application/octet-stream"}, body: "abc",
			replaceBody: "not what was signed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ak := tt.ak
			if ak == "" {
				ak = testAK
			}
			r, err := http.NewRequestWithContext(context.Background(), tt.method, srv.URL+tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
			for k, val := range tt.headers {
				r.Header.Set(k, val)
			}
			for k, val := range tt.rawHeaders {
				r.Header[k] = []string{val}
			}
			signature.Sign(r, []byte(tt.body), ak, keys[ak], t0)
			sent := tt.body
			if tt.replaceBody != "" {
				sent = tt.replaceBody
			}
			r.Body = io.NopCloser(strings.NewReader(sent))
			r.ContentLength = int64(len(sent))

			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d: %s (Authorization %q)", resp.StatusCode, bytes.TrimSpace(msg), r.Header.Get("Authorization"))
			}
		})
	}
}

func TestSignHeaders(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	r := httptest.NewRequest(http.MethodPost, "http://ecs.local/v1/p/x", nil)
	r.Header.Set("Authorization", "stale")
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Project-Id", testProjectID)
	r.Header["TEST_UNDERSCORE"] = []string{"v"}
	signature.Sign(r, []byte("body"), testAK, testSK, t0)

	if got, want := r.Header.Get("X-Sdk-Date"), "20250101T000000Z"; got != want {
		t.Errorf("X-Sdk-Date = %q, want %q (UTC)", got, want)
	}
	if got := r.Header.Get("X-Sdk-Content-Sha256"); got != signature.UnsignedPayload {
		t.Errorf("X-Sdk-Content-Sha256 = %q, want %q for a non-JSON Content-Type", got, signature.UnsignedPayload)
	}
	auth := r.Header.Get("Authorization")
	want := "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=x-project-id;x-sdk-content-sha256;x-sdk-date, Signature="
	if !strings.HasPrefix(auth, want) || len(auth) != len(want)+64 {
		t.Errorf("Authorization = %q, want %q followed by 64 hex digits", auth, want)
	}
}

// newVerifyServer starts a server that answers 204 to requests v accepts and
// 401 with the error otherwise.
func newVerifyServer(tb testing.TB, v *signature.Verifier) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := v.Verify(r.Context(), r, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(srv.Close)
	return srv
}
