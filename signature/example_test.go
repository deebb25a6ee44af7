package signature_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ecsd-dev/ecsd/signature"
)

func ExampleSign() {
	r := httptest.NewRequest(http.MethodGet, "https://example.huaweicloud.com/path?limit=1", nil)
	signature.Sign(r, nil, "AccessKey", "SecretKey", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC))
	fmt.Println(r.Header.Get("X-Sdk-Date"))
	fmt.Println(r.Header.Get("Authorization"))
	// Output:
	// 20060102T150405Z
	// SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624
}

func ExampleVerifier_Verify() {
	v := &signature.Verifier{
		Lookup: func(_ context.Context, ak string) (string, bool, error) {
			if ak == "AK-DEMO" {
				return "SK-DEMO", true, nil
			}
			return "", false, nil
		},
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		ak, err := v.Verify(r.Context(), r, body)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("signed by", ak)
	}

	body := []byte(`{"os-start":{"servers":[{"id":"srv-1"}]}}` + "\n")
	r := httptest.NewRequest(http.MethodPost, "http://ecs.local/v1/p/cloudservers/action", nil)
	signature.Sign(r, body, "AK-DEMO", "SK-DEMO", time.Now())
	r.Body = io.NopCloser(bytes.NewReader(body))
	handler(httptest.NewRecorder(), r)

	signature.Sign(r, body, "AK-DEMO", "wrong", time.Now())
	r.Body = io.NopCloser(bytes.NewReader(body))
	handler(httptest.NewRecorder(), r)
	// Output:
	// signed by AK-DEMO
	// APIGW.0301: Incorrect IAM authentication information: verify aksk signature fail
}
