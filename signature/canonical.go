package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// scratch holds the buffers of one signature computation. scratchPool
// recycles them so that verifying a request allocates nothing.
type scratch struct {
	buf   []byte      // the canonical request, then the HMAC inputs
	pairs []queryPair // query parameters, still escaped as received
	vals  []string    // values of a repeated header, sorted
}

// queryPair is one key=value of a raw query, both still percent-encoded.
type queryPair struct{ key, value string }

// maxPooledBuf bounds the buffer kept in the pool, so that one request with
// huge headers does not pin memory for the life of the process.
const maxPooledBuf = 64 << 10

var scratchPool = sync.Pool{
	New: func() any { return &scratch{buf: make([]byte, 0, 1024)} },
}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.buf) > maxPooledBuf {
		return
	}
	clear(s.pairs) // drop references to request memory
	clear(s.vals)
	s.buf, s.pairs, s.vals = s.buf[:0], s.pairs[:0], s.vals[:0]
	scratchPool.Put(s)
}

// signature returns the raw HMAC-SHA256 signature of r. signedHeaders is the
// SignedHeaders list as it appears in the Authorization header, date the
// X-Sdk-Date value, and contentHash the X-Sdk-Content-Sha256 value to use in
// place of the body hash, or "" to hash body.
func (s *scratch) signature(r *http.Request, signedHeaders, date, contentHash string, body []byte, secret string) [sha256.Size]byte {
	s.appendCanonicalRequest(r, signedHeaders, contentHash, body)
	crHash := sha256.Sum256(s.buf)

	// HMAC (RFC 2104) over SHA-256, written out so that it runs on the pooled
	// buffer instead of allocating two hash states per request.
	var key [sha256.BlockSize]byte
	if len(secret) > sha256.BlockSize {
		s.buf = append(s.buf[:0], secret...)
		sum := sha256.Sum256(s.buf)
		copy(key[:], sum[:])
	} else {
		copy(key[:], secret)
	}
	s.buf = s.buf[:0]
	for _, c := range key {
		s.buf = append(s.buf, c^0x36)
	}
	s.buf = append(s.buf, Algorithm...)
	s.buf = append(s.buf, '\n')
	s.buf = append(s.buf, date...)
	s.buf = append(s.buf, '\n')
	s.buf = hex.AppendEncode(s.buf, crHash[:])
	inner := sha256.Sum256(s.buf)

	s.buf = s.buf[:0]
	for _, c := range key {
		s.buf = append(s.buf, c^0x5c)
	}
	s.buf = append(s.buf, inner[:]...)
	mac := sha256.Sum256(s.buf)

	clear(s.buf) // the pads are the key in disguise
	clear(key[:])
	return mac
}

// appendCanonicalRequest writes the canonical request of r into s.buf.
func (s *scratch) appendCanonicalRequest(r *http.Request, signedHeaders, contentHash string, body []byte) {
	s.buf = append(s.buf[:0], r.Method...)
	s.buf = append(s.buf, '\n')
	var escapedPath, rawQuery string
	if r.URL != nil {
		escapedPath, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	s.appendCanonicalURI(escapedPath)
	s.buf = append(s.buf, '\n')
	s.appendCanonicalQuery(rawQuery)
	s.buf = append(s.buf, '\n')
	s.appendCanonicalHeaders(r, signedHeaders)
	s.buf = append(s.buf, '\n')
	s.buf = append(s.buf, signedHeaders...)
	s.buf = append(s.buf, '\n')
	if contentHash != "" {
		s.buf = append(s.buf, contentHash...)
	} else {
		sum := sha256.Sum256(body)
		s.buf = hex.AppendEncode(s.buf, sum[:])
	}
}

// appendCanonicalURI writes the path with each segment decoded and escaped
// again, and with a trailing slash. Splitting before decoding keeps an
// encoded slash (%2F) inside its segment.
func (s *scratch) appendCanonicalURI(escapedPath string) {
	for i := 0; i < len(escapedPath); {
		if escapedPath[i] == '/' {
			s.buf = append(s.buf, '/')
			i++
			continue
		}
		var c byte
		c, i = decodeAt(escapedPath, i, false)
		s.buf = appendEscapedByte(s.buf, c)
	}
	if len(s.buf) == 0 || s.buf[len(s.buf)-1] != '/' {
		s.buf = append(s.buf, '/')
	}
}

// appendCanonicalQuery writes the query as esc(key)=esc(value) pairs joined
// by '&', ordered by decoded key, then decoded value. A key without '='
// yields "key=". Empty pairs ("a&&b") are skipped, as url.ParseQuery does.
func (s *scratch) appendCanonicalQuery(rawQuery string) {
	s.pairs = s.pairs[:0]
	for rest := rawQuery; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		s.pairs = append(s.pairs, queryPair{key: k, value: v})
	}
	if len(s.pairs) > 1 {
		slices.SortFunc(s.pairs, comparePairs)
	}
	for i, p := range s.pairs {
		if i > 0 {
			s.buf = append(s.buf, '&')
		}
		s.buf = appendEscaped(s.buf, p.key, true)
		s.buf = append(s.buf, '=')
		s.buf = appendEscaped(s.buf, p.value, true)
	}
}

// appendCanonicalHeaders writes "name:value\n" for each name of the
// ';'-separated signedHeaders, in that order; a header with several values
// yields one line per value, sorted. "host" is taken from r.Host, because
// net/http moves it out of r.Header. A signed header that is absent yields
// no line. With no line at all it writes a single "\n", as the SDK does.
func (s *scratch) appendCanonicalHeaders(r *http.Request, signedHeaders string) {
	start := len(s.buf)
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(name, "host") {
			host := r.Host
			if host == "" && r.URL != nil {
				host = r.URL.Host
			}
			s.appendHeaderLine(name, host)
			continue
		}
		values := headerValues(r.Header, name)
		if len(values) > 1 {
			s.vals = append(s.vals[:0], values...)
			slices.Sort(s.vals)
			values = s.vals
		}
		for _, v := range values {
			s.appendHeaderLine(name, v)
		}
	}
	if len(s.buf) == start {
		s.buf = append(s.buf, '\n')
	}
}

func (s *scratch) appendHeaderLine(name, value string) {
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, ':')
	s.buf = append(s.buf, strings.TrimSpace(value)...)
	s.buf = append(s.buf, '\n')
}

// headerValues returns h's values for name in any letter case. It builds the
// canonical key on the stack, so that the lookup does not allocate.
func headerValues(h http.Header, name string) []string {
	var key [64]byte
	if len(name) > len(key) {
		return h.Values(name)
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isTokenByte(c) {
			// textproto leaves such names as they are.
			return h[name]
		}
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		key[i] = c
		upper = c == '-'
	}
	return h[string(key[:len(name)])]
}

// isTokenByte reports whether c may appear in a header field name (RFC 9110
// tchar).
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// comparePairs orders query pairs by decoded key, then decoded value, which
// is the SDK's order: keys sorted, and the values of each key sorted.
func comparePairs(a, b queryPair) int {
	if c := compareDecoded(a.key, b.key); c != 0 {
		return c
	}
	return compareDecoded(a.value, b.value)
}

// compareDecoded compares the query-decoded forms of a and b byte by byte
// without materialising them.
func compareDecoded(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		var ca, cb byte
		ca, i = decodeAt(a, i, true)
		cb, j = decodeAt(b, j, true)
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return 0
}

// appendEscaped appends the decoded form of s, escaped again.
func appendEscaped(dst []byte, s string, query bool) []byte {
	for i := 0; i < len(s); {
		var c byte
		c, i = decodeAt(s, i, query)
		dst = appendEscapedByte(dst, c)
	}
	return dst
}

// decodeAt returns the byte that s encodes at i and the index after it: %XX
// is one byte, and in a query '+' is a space. A '%' not followed by two hex
// digits stands for itself; Verify rejects such queries beforehand.
func decodeAt(s string, i int, query bool) (byte, int) {
	c := s[i]
	switch {
	case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
		return unhex(s[i+1])<<4 | unhex(s[i+2]), i + 3
	case c == '+' && query:
		return ' ', i + 1
	}
	return c, i + 1
}

// validEscapes reports whether every '%' in s starts a %XX sequence.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		next := strings.IndexByte(s[i+3:], '%')
		if next < 0 {
			break
		}
		i += 3 + next
	}
	return true
}

const upperHex = "0123456789ABCDEF"

// appendEscapedByte appends c, or %XX when c is not one of A–Z a–z 0–9 _ - ~ .
func appendEscapedByte(dst []byte, c byte) []byte {
	if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '~' || c == '.' {
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
