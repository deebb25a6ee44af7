package signature

import (
	"encoding/hex"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// Sign signs r the way the Go SDK does, for tests, benchmarks and tools: it
// sets X-Sdk-Date to now (in UTC) and Authorization, signing every header in
// r.Header except Authorization, names starting with "content-type" and
// names containing '_'. Like the SDK, it first sets X-Sdk-Content-Sha256 to
// UnsignedPayload when the Content-Type is neither JSON nor BSON. body must
// be the exact bytes that will be sent. Sign rewrites header names of r in
// canonical form; it does not read r.Body. Host is not signed, as the Go SDK
// does not sign it.
//
// Sign does not validate its inputs: an empty key or a query with invalid
// percent-encoding yields a signature that Verify rejects.
func Sign(r *http.Request, body []byte, accessKey, secretKey string, now time.Time) {
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	// Verify looks headers up by canonical name, as net/http stores them on
	// the server, so a name written into the map in another case would be
	// signed under a value Verify cannot see.
	for name, values := range r.Header {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			delete(r.Header, name)
			r.Header[c] = append(r.Header[c], values...)
		}
	}
	r.Header.Del(HeaderAuthorization)
	date := now.UTC().Format(DateFormat)
	r.Header.Set(HeaderDate, date)
	if ct, ok := r.Header["Content-Type"]; ok && len(ct) > 0 &&
		!strings.Contains(ct[0], "application/json") && !strings.Contains(ct[0], "application/bson") {
		r.Header.Set(HeaderContentSha256, UnsignedPayload)
	}

	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "content-type") || strings.Contains(lower, "_") {
			continue
		}
		names = append(names, lower)
	}
	slices.Sort(names)
	signedHeaders := strings.Join(names, ";")

	var contentHash string
	if values := r.Header[HeaderContentSha256]; len(values) > 0 {
		contentHash = values[0]
	}
	s := getScratch()
	mac := s.signature(r, signedHeaders, date, contentHash, body, secretKey)
	putScratch(s)

	r.Header.Set(HeaderAuthorization, Algorithm+" Access="+accessKey+
		", SignedHeaders="+signedHeaders+", Signature="+hex.EncodeToString(mac[:]))
}
