// Package signature verifies and creates the SDK-HMAC-SHA256 request
// signatures of the Huawei Cloud API gateway, as sent by the official SDKs
// (huaweicloud-sdk-go-v3 and @huaweicloud/huaweicloud-sdk-core for Node.js).
//
// A signed request carries two headers:
//
//	X-Sdk-Date: 20250101T000000Z
//	Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>
//
// The signature is the lower-case hex HMAC-SHA256, keyed by the secret key, of
//
//	SDK-HMAC-SHA256 \n <X-Sdk-Date> \n hex(sha256(canonical request))
//
// and the canonical request is
//
//	METHOD \n /escaped/path/segments/ \n sorted&escaped=query \n
//	name:value \n (one line per signed header, in SignedHeaders order) \n
//	SignedHeaders \n hex(sha256(body)) or the X-Sdk-Content-Sha256 value
//
// where escaping keeps only A–Z a–z 0–9 _ - ~ . and writes every other byte
// as %XX with upper-case hex. [Verifier.Verify] rebuilds the canonical request
// from what was received, honouring whatever SignedHeaders lists, so both the
// Go SDK (user-agent;x-project-id;x-sdk-date) and the Node.js SDK
// (content-type;host;x-project-id;x-sdk-date) are accepted. [Sign] signs a
// request the way the Go SDK does, for tests and tools.
//
// Failures that the client must see are returned as [*Error] with the API
// gateway code APIGW.0301 and HTTP status 401.
package signature

import (
	"net/http"
	"time"
)

// Algorithm is the only signing algorithm this package supports, as named in
// the Authorization header.
const Algorithm = "SDK-HMAC-SHA256"

// DateFormat is the layout of the X-Sdk-Date header (basic ISO 8601, UTC).
const DateFormat = "20060102T150405Z"

// DefaultMaxSkew is how far X-Sdk-Date may be from the server's clock, in
// either direction, when Verifier.MaxSkew is zero. It is the API gateway's
// documented limit.
const DefaultMaxSkew = 15 * time.Minute

// Header names used by the algorithm.
const (
	HeaderAuthorization = "Authorization"
	HeaderDate          = "X-Sdk-Date"
	// HeaderContentSha256, when present and signed, replaces the hash of the
	// body in the canonical request.
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
)

// UnsignedPayload is the X-Sdk-Content-Sha256 value with which a client
// declares that the body is not covered by the signature. The Go SDK sends it
// when the Content-Type is neither JSON nor BSON.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// CodeAuthFailed is the API gateway error code of every authentication
// failure reported by this package.
const CodeAuthFailed = "APIGW.0301"

// Client-visible messages of the *Error values returned by Verify. The first
// two are the API gateway's own texts; the others follow their style.
const (
	MsgSignatureMismatch      = "Incorrect IAM authentication information: verify aksk signature fail"
	MsgUnknownAccessKey       = "Incorrect IAM authentication information: Get secretKey failed"
	MsgSignatureExpired       = "Incorrect IAM authentication information: calc ak sk signature fail:signature expired"
	MsgAuthorizationMissing   = "Incorrect IAM authentication information: Authorization header not found"
	MsgAuthorizationMalformed = "Incorrect IAM authentication information: Authorization header is malformed"
	MsgUnsupportedAlgorithm   = "Incorrect IAM authentication information: unsupported signing algorithm"
	MsgDateMissing            = "Incorrect IAM authentication information: x-sdk-date not found"
	MsgDateMalformed          = "Incorrect IAM authentication information: x-sdk-date is malformed"
)

// Error is an authentication failure that the client must see. Code is always
// CodeAuthFailed, Status always 401, and Message one of the Msg constants,
// which is safe to send as the gateway's error_msg.
type Error struct {
	Code    string
	Message string
	Status  int
}

// newError returns an *Error with CodeAuthFailed, status 401 and msg.
func newError(msg string) *Error {
	return &Error{Code: CodeAuthFailed, Message: msg, Status: http.StatusUnauthorized}
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }
