package signature

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Verifier checks SDK-HMAC-SHA256 signatures. Its fields are read-only once
// it is in use; Verify is then safe for concurrent use.
type Verifier struct {
	// Lookup returns the secret key of accessKey, with ok false when the
	// access key does not exist. A non-nil err means the lookup itself failed
	// (for example the database is down).
	Lookup func(ctx context.Context, accessKey string) (secretKey string, ok bool, err error)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far X-Sdk-Date may be from Now in either direction; zero
	// or negative means DefaultMaxSkew.
	MaxSkew time.Duration
}

// Verify checks the signature of r, whose body has already been read into
// body (the exact bytes received), and returns the access key that signed it.
//
// Authentication failures are returned as *Error (code APIGW.0301, status
// 401). Once the Authorization header has been parsed, accessKey is returned
// alongside such an error too, so that the caller can count failures per
// access key; it is not authenticated then. An error of Lookup is returned
// wrapped, not as *Error, and should be treated as an internal error.
//
// When X-Sdk-Content-Sha256 is present and listed in SignedHeaders, its value
// stands in for the body hash: with UnsignedPayload the body is not
// authenticated, and any other value must be the hex SHA-256 of body.
// Verify neither reads r.Body nor modifies r.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (accessKey string, err error) {
	if v.Lookup == nil {
		return "", errors.New("signature: Verifier.Lookup is nil")
	}
	auth, authErr := parseAuthorization(r.Header.Get(HeaderAuthorization))
	if authErr != nil {
		return "", authErr
	}
	accessKey = auth.accessKey

	date := r.Header.Get(HeaderDate)
	if date == "" {
		return accessKey, newError(MsgDateMissing)
	}
	signedAt, err := time.Parse(DateFormat, date)
	if err != nil {
		return accessKey, newError(MsgDateMalformed)
	}
	if skew := v.now().Sub(signedAt); skew > v.maxSkew() || skew < -v.maxSkew() {
		return accessKey, newError(MsgSignatureExpired)
	}
	if r.URL != nil && !validEscapes(r.URL.RawQuery) {
		// net/http accepts such a query but r.URL.Query() drops the pair,
		// so it must not verify as if it were something else.
		return accessKey, newError(MsgSignatureMismatch)
	}

	var contentHash string
	if values := r.Header[HeaderContentSha256]; len(values) > 0 && listed(auth.signedHeaders, HeaderContentSha256) {
		contentHash = values[0]
		if contentHash != UnsignedPayload {
			var want [2 * sha256.Size]byte
			sum := sha256.Sum256(body)
			hex.Encode(want[:], sum[:])
			if !strings.EqualFold(contentHash, string(want[:])) {
				return accessKey, newError(MsgSignatureMismatch)
			}
		}
	}

	secret, ok, err := v.Lookup(ctx, accessKey)
	if err != nil {
		return accessKey, fmt.Errorf("signature: look up access key %q: %w", accessKey, err)
	}
	if !ok || secret == "" {
		return accessKey, newError(MsgUnknownAccessKey)
	}

	s := getScratch()
	want := s.signature(r, auth.signedHeaders, date, contentHash, body, secret)
	putScratch(s)
	if subtle.ConstantTimeCompare(want[:], auth.signature[:]) != 1 {
		return accessKey, newError(MsgSignatureMismatch)
	}
	return accessKey, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// authorization is a parsed Authorization header.
type authorization struct {
	accessKey     string
	signedHeaders string // as received: "a;b;c"
	signature     [sha256.Size]byte
}

// parseAuthorization parses
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=hex".
// The three fields may come in any order, each exactly once.
func parseAuthorization(h string) (authorization, *Error) {
	var a authorization
	if h == "" {
		return a, newError(MsgAuthorizationMissing)
	}
	alg, params, _ := strings.Cut(h, " ")
	if alg != Algorithm {
		return a, newError(MsgUnsupportedAlgorithm)
	}
	var haveAccess, haveHeaders, haveSignature bool
	for rest := params; rest != ""; {
		var field string
		field, rest, _ = strings.Cut(rest, ",")
		name, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok || value == "" {
			return a, newError(MsgAuthorizationMalformed)
		}
		switch name {
		case "Access":
			if haveAccess {
				return a, newError(MsgAuthorizationMalformed)
			}
			a.accessKey, haveAccess = value, true
		case "SignedHeaders":
			if haveHeaders || !validHeaderList(value) {
				return a, newError(MsgAuthorizationMalformed)
			}
			a.signedHeaders, haveHeaders = value, true
		case "Signature":
			if haveSignature || !decodeSignature(&a.signature, value) {
				return a, newError(MsgAuthorizationMalformed)
			}
			haveSignature = true
		default:
			return a, newError(MsgAuthorizationMalformed)
		}
	}
	if !haveAccess || !haveHeaders || !haveSignature {
		return a, newError(MsgAuthorizationMalformed)
	}
	return a, nil
}

// validHeaderList reports whether list is a ';'-separated list of header
// names, none empty.
func validHeaderList(list string) bool {
	if list == "" || list[0] == ';' || list[len(list)-1] == ';' || strings.Contains(list, ";;") {
		return false
	}
	for i := 0; i < len(list); i++ {
		if c := list[i]; c != ';' && !isTokenByte(c) {
			return false
		}
	}
	return true
}

// listed reports whether name appears, in any letter case, in the
// ';'-separated list.
func listed(list, name string) bool {
	for rest := list; rest != ""; {
		var n string
		n, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// decodeSignature decodes the 64 hex digits of s into dst.
func decodeSignature(dst *[sha256.Size]byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := s[2*i], s[2*i+1]
		if !isHex(hi) || !isHex(lo) {
			return false
		}
		dst[i] = unhex(hi)<<4 | unhex(lo)
	}
	return true
}
