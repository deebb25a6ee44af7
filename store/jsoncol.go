package store

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Reflection-free decoding of the servers table's JSON text columns:
// security_groups and tags (a JSON array of strings) and metadata (a JSON
// object of string values), as serverArgs writes them with json.Marshal.
//
// The fast path accepts only the compact form json.Marshal writes for
// strings that need no escaping: `[]`, `["a","b"]`, `{}`, `{"k":"v"}`, with
// no whitespace anywhere, each string made of printable ASCII other than
// '"' and '\\' or of valid UTF-8. Its result is what json.Unmarshal
// produces into a nil destination: a non-nil empty slice or map for `[]` or
// `{}`, the last value of a duplicated key. Anything else (whitespace, null,
// an escape sequence, a control character, invalid UTF-8, a nested or
// non-string value, trailing data, a non-nil destination) goes to
// json.Unmarshal, whose result and error are then the only ones.
//
// The decoded strings are substrings of data, so they share its memory
// rather than each being allocated.

// decodeJSONStrings is json.Unmarshal([]byte(data), dst).
func decodeJSONStrings(data string, dst *[]string) error {
	if *dst == nil {
		if v, ok := parseJSONStrings(data); ok {
			*dst = v
			return nil
		}
	}
	return json.Unmarshal([]byte(data), dst)
}

// decodeJSONStringMap is json.Unmarshal([]byte(data), dst).
func decodeJSONStringMap(data string, dst *map[string]string) error {
	if *dst == nil {
		if v, ok := parseJSONStringMap(data); ok {
			*dst = v
			return nil
		}
	}
	return json.Unmarshal([]byte(data), dst)
}

// parseJSONStrings decodes a compact JSON array of unescaped strings; ok is
// false for any other input.
func parseJSONStrings(data string) (v []string, ok bool) {
	n := len(data)
	if n < 2 || data[0] != '[' || data[n-1] != ']' {
		return nil, false
	}
	if n == 2 {
		return []string{}, true
	}
	// On input the fast path accepts, every '"' delimits a string.
	v = make([]string, 0, strings.Count(data, `"`)/2)
	i := 1
	for {
		s, j, ok := scanJSONString(data, i)
		if !ok {
			return nil, false
		}
		v = append(v, s)
		// data[n-1] is ']', not '"', so the closing quote is before it
		// and j < n.
		switch data[j] {
		case ',':
			i = j + 1
		case ']':
			if j != n-1 {
				return nil, false
			}
			return v, true
		default:
			return nil, false
		}
	}
}

// parseJSONStringMap decodes a compact JSON object of unescaped string keys
// and values; ok is false for any other input. A later duplicate key
// replaces an earlier one, as in json.Unmarshal.
func parseJSONStringMap(data string) (m map[string]string, ok bool) {
	n := len(data)
	if n < 2 || data[0] != '{' || data[n-1] != '}' {
		return nil, false
	}
	if n == 2 {
		return map[string]string{}, true
	}
	// On input the fast path accepts, every four '"' delimit one member.
	m = make(map[string]string, strings.Count(data, `"`)/4)
	i := 1
	for {
		k, j, ok := scanJSONString(data, i)
		// data[n-1] is '}', so j < n after each string.
		if !ok || data[j] != ':' {
			return nil, false
		}
		s, j, ok := scanJSONString(data, j+1)
		if !ok {
			return nil, false
		}
		m[k] = s
		switch data[j] {
		case ',':
			i = j + 1
		case '}':
			if j != n-1 {
				return nil, false
			}
			return m, true
		default:
			return nil, false
		}
	}
}

// scanJSONString reads the JSON string literal at data[i:] when it has no
// escape sequence, no control character and only valid UTF-8, the strings
// json.Unmarshal returns byte for byte. It returns the literal's contents
// and the index just past its closing quote.
func scanJSONString(data string, i int) (s string, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	i++
	start := i
	ascii := true
	for i < len(data) {
		c := data[i]
		if plainJSONByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s = data[start:i]
			if !ascii && !utf8.ValidString(s) {
				// json.Unmarshal replaces invalid UTF-8 with U+FFFD.
				return "", 0, false
			}
			return s, i + 1, true
		case c >= utf8.RuneSelf:
			ascii = false
			i++
		default: // a control character or '\\'
			return "", 0, false
		}
	}
	return "", 0, false
}

// plainJSONByte reports the ASCII bytes that stand for themselves inside a
// JSON string: all but control characters, '"' and '\\'.
var plainJSONByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
