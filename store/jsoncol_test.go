package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"pgregory.net/rapid"

	ecs "github.com/ecsd-dev/ecsd"
)

// decodeJSONStrings and decodeJSONStringMap against encoding/json, the
// reference: on what json.Marshal writes for generated values, on arbitrary
// and JSON-like bytes, and on near misses of valid column values. Results
// are compared with reflect.DeepEqual, so nil and empty differ.

// jsonColResult is one decoder's outcome: its destination and error text.
type jsonColResult struct {
	v   any
	err string
}

func (r jsonColResult) String() string {
	return fmt.Sprintf("%#v (err %q)", r.v, r.err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}

func fastStrings(data string) jsonColResult {
	var v []string
	err := decodeJSONStrings(data, &v)
	return jsonColResult{v, errText(err)}
}

func refStrings(data string) jsonColResult {
	var v []string
	err := json.Unmarshal([]byte(data), &v)
	return jsonColResult{v, errText(err)}
}

func fastStringMap(data string) jsonColResult {
	var v map[string]string
	err := decodeJSONStringMap(data, &v)
	return jsonColResult{v, errText(err)}
}

func refStringMap(data string) jsonColResult {
	var v map[string]string
	err := json.Unmarshal([]byte(data), &v)
	return jsonColResult{v, errText(err)}
}

// wantSameDecoding fails t unless both decoders agree on data: the same
// destination value (DeepEqual) and the same error, if any.
func wantSameDecoding(t interface {
	Helper()
	Fatalf(string, ...any)
}, data string,
) {
	t.Helper()
	if got, want := fastStrings(data), refStrings(data); !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeJSONStrings(%q) = %v, json.Unmarshal gives %v", data, got, want)
	}
	if got, want := fastStringMap(data), refStringMap(data); !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeJSONStringMap(%q) = %v, json.Unmarshal gives %v", data, got, want)
	}
}

// messyString generates strings from pieces json.Marshal must escape or
// replace (quotes, backslashes, control characters, <>&, U+2028, invalid
// UTF-8) besides arbitrary runes and bytes.
func messyString() *rapid.Generator[string] {
	piece := rapid.OneOf(
		rapid.StringN(0, 4, -1),
		rapid.SampledFrom([]string{
			`"`, `\`, "<", ">", "&", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", "\n", "\t",
			"\ufffd", "\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "é", "😀",
			"=", ",", ":", "[", "]", "{", "}", " ", "null", `\u0041`, "sg-", "k=v",
		}),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 1, 3), func(b []byte) string { return string(b) }),
	)
	return rapid.Map(rapid.SliceOfN(piece, 0, 6), func(p []string) string { return strings.Join(p, "") })
}

// plainString generates strings json.Marshal writes unescaped, which the
// fast path must accept.
func plainString() *rapid.Generator[string] {
	return rapid.Map(rapid.StringN(0, 12, -1), func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' ||
				r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
				return 'x'
			}
			return r
		}, s)
	})
}

// stringsValue generates a []string that is sometimes nil.
func stringsValue(elem *rapid.Generator[string]) *rapid.Generator[[]string] {
	return rapid.Custom(func(t *rapid.T) []string {
		if rapid.IntRange(0, 9).Draw(t, "nilness") == 0 {
			return nil
		}
		return rapid.SliceOfN(elem, 0, 8).Draw(t, "elems")
	})
}

// stringMapValue generates a map[string]string that is sometimes nil.
func stringMapValue(elem *rapid.Generator[string]) *rapid.Generator[map[string]string] {
	return rapid.Custom(func(t *rapid.T) map[string]string {
		if rapid.IntRange(0, 9).Draw(t, "nilness") == 0 {
			return nil
		}
		return rapid.MapOfN(elem, elem, 0, 8).Draw(t, "members")
	})
}

func mustMarshal(t *rapid.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	return string(b)
}

func TestJSONColumnsOfMarshaledValues(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		s := mustMarshal(t, stringsValue(messyString()).Draw(t, "strings"))
		m := mustMarshal(t, stringMapValue(messyString()).Draw(t, "map"))
		wantSameDecoding(t, s)
		wantSameDecoding(t, m)
	})
}

// TestJSONColumnsFastPathTaken proves the fast path is not a mere
// fallback: it accepts what json.Marshal writes for strings it does not
// escape, and agrees with json.Unmarshal there.
func TestJSONColumnsFastPathTaken(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		ss := rapid.SliceOfN(plainString(), 0, 8).Draw(t, "strings")
		s := mustMarshal(t, ss)
		if _, ok := parseJSONStrings(s); !ok {
			t.Fatalf("parseJSONStrings(%q) declined", s)
		}
		m := mustMarshal(t, rapid.MapOfN(plainString(), plainString(), 0, 8).Draw(t, "map"))
		if _, ok := parseJSONStringMap(m); !ok {
			t.Fatalf("parseJSONStringMap(%q) declined", m)
		}
		wantSameDecoding(t, s)
		wantSameDecoding(t, m)
		// decodeJSONStrings and decodeJSONStringMap take the fast path
		// too: their strings share memory with the input, where
		// json.Unmarshal's are copies.
		var gotS []string
		if err := decodeJSONStrings(s, &gotS); err != nil {
			t.Fatal(err)
		}
		var gotM map[string]string
		if err := decodeJSONStringMap(m, &gotM); err != nil {
			t.Fatal(err)
		}
		for _, v := range gotS {
			wantSubstring(t, v, s)
		}
		for k, v := range gotM {
			wantSubstring(t, k, m)
			wantSubstring(t, v, m)
		}
	})
}

// wantSubstring fails t unless the non-empty sub lies in the memory of s.
func wantSubstring(t *rapid.T, sub, s string) {
	if sub == "" {
		return
	}
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(sub))), uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if p < lo || p+uintptr(len(sub)) > lo+uintptr(len(s)) {
		t.Fatalf("%q decoded from %q is a copy: the fast path was not taken", sub, s)
	}
}

// jsonishBytes generates byte strings biased toward JSON syntax.
func jsonishBytes() *rapid.Generator[string] {
	token := rapid.OneOf(
		rapid.SampledFrom([]string{
			"[", "]", "{", "}", `"`, ",", ":", `\`, " ", "\t", "\n", "null", "true", "1", "-0.5e3",
			`"a"`, `"é"`, `""`, `"k":"v"`, `"\u0041"`, `"\"`, `\"`, `\n`, `\ud800`, "\x00", "\x1f",
			"\x7f", "\xff", "\xc3", "\xed\xa0\x80", "\u2028", "a", "sg-1",
		}),
		rapid.Map(rapid.Byte(), func(b byte) string { return string([]byte{b}) }),
	)
	return rapid.OneOf(
		rapid.Map(rapid.SliceOfN(token, 0, 12), func(p []string) string { return strings.Join(p, "") }),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 0, 16), func(b []byte) string { return string(b) }),
	)
}

// TestJSONColumnsOfHandBuiltText builds compact arrays and objects of
// plain strings drawn from few distinct values (so duplicate keys are
// common), then in half the cases makes one token wrong: a bracket,
// quote, separator, colon or string replaced, or a token inserted.
func TestJSONColumnsOfHandBuiltText(t *testing.T) {
	t.Parallel()
	str := rapid.OneOf(rapid.SampledFrom([]string{"a", "b", "", "k=v"}), plainString())
	wrong := rapid.SampledFrom([]string{
		"", " ", "[", "]", "{", "}", `"`, ",", ":", ",,", `\`, `\"`, "\n", "\x00", "null", `"a"`, `"a":"b"`,
	})
	rapid.Check(t, func(t *rapid.T) {
		open, end := "[", "]"
		object := rapid.Bool().Draw(t, "object")
		if object {
			open, end = "{", "}"
		}
		toks := []string{open}
		for i := range rapid.IntRange(0, 5).Draw(t, "n") {
			if i > 0 {
				toks = append(toks, ",")
			}
			toks = append(toks, `"`, str.Draw(t, "s"), `"`)
			if object {
				toks = append(toks, ":", `"`, str.Draw(t, "value"), `"`)
			}
		}
		toks = append(toks, end)
		i := rapid.IntRange(0, len(toks)).Draw(t, "at")
		switch rapid.IntRange(0, 3).Draw(t, "edit") {
		case 0: // replace
			if i < len(toks) {
				toks[i] = wrong.Draw(t, "token")
			}
		case 1: // insert
			toks = slices.Insert(toks, i, wrong.Draw(t, "token"))
		}
		wantSameDecoding(t, strings.Join(toks, ""))
	})
}

func TestJSONColumnsOfArbitraryBytes(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		wantSameDecoding(t, jsonishBytes().Draw(t, "data"))
	})
}

// TestJSONColumnsOfNearMisses edits a valid column value: one byte
// inserted, deleted or replaced, or a piece of JSON-like text spliced in.
func TestJSONColumnsOfNearMisses(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		var data string
		if rapid.Bool().Draw(t, "map") {
			data = mustMarshal(t, rapid.MapOfN(plainString(), plainString(), 0, 4).Draw(t, "value"))
		} else {
			data = mustMarshal(t, rapid.SliceOfN(plainString(), 0, 4).Draw(t, "value"))
		}
		i := rapid.IntRange(0, len(data)).Draw(t, "at")
		switch rapid.IntRange(0, 3).Draw(t, "edit") {
		case 0:
			data = data[:i] + string([]byte{rapid.Byte().Draw(t, "byte")}) + data[i:]
		case 1:
			if i < len(data) {
				data = data[:i] + data[i+1:]
			}
		case 2:
			if i < len(data) {
				data = data[:i] + string([]byte{rapid.Byte().Draw(t, "byte")}) + data[i+1:]
			}
		case 3:
			data = data[:i] + jsonishBytes().Draw(t, "piece") + data[i:]
		}
		wantSameDecoding(t, data)
	})
}

// TestJSONColumnsOfSingleEdits tries every one-byte deletion, and every
// insertion and replacement of a byte that matters to JSON, at every
// offset of a few valid column values.
func TestJSONColumnsOfSingleEdits(t *testing.T) {
	t.Parallel()
	edits := []byte("[]{}\",:\\ \t\nnul0aé\x00\x1f\x7f\xff\xc3")
	for _, base := range []string{
		`[]`, `{}`, `[""]`, `["a","b"]`, `["é","sg-1","k=v"]`,
		`{"a":"b"}`, `{"a":"1","b":"2"}`, `{"a":"1","a":"2"}`, `{"":"","a":""}`,
	} {
		wantSameDecoding(t, base)
		for i := 0; i <= len(base); i++ {
			if i < len(base) {
				wantSameDecoding(t, base[:i]+base[i+1:])
			}
			for _, c := range edits {
				wantSameDecoding(t, base[:i]+string([]byte{c})+base[i:])
				if i < len(base) {
					wantSameDecoding(t, base[:i]+string([]byte{c})+base[i+1:])
				}
			}
		}
	}
}

func TestJSONColumnsTable(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		``, ` `, `[`, `]`, `{`, `}`, `[]`, `{}`, `null`, ` null`, `nul`, `[] `, ` []`, `[ ]`, `{ }`,
		`[""]`, `["a"]`, `["a","b"]`, `["a",]`, `[,"a"]`, `["a""b"]`, `["a" ,"b"]`, `["a"]x`, `["a"]]`,
		`["]`, `["a]`, `[null]`, `["a",null]`, `[1]`, `[true]`, `[["a"]]`, `[{}]`, `["\u0041"]`,
		`["a\"b"]`, `["a\\b"]`, "[\"\xff\"]", "[\"\xed\xa0\x80\"]", `["é😀"]`, "[\"\u2028\"]",
		"[\"\t\"]", "[\"\x7f\"]", "[\"\ufffd\"]", `[""]`, `["[",":","{"]`,
		`{"a":"1"}`, `{"a":"1","b":"2"}`, `{"a":"1","a":"2"}`, `{"a":"1","b":"2","a":"3"}`,
		`{"":""}`, `{"a":null}`, `{"a":1}`, `{"a":"1",}`, `{"a"}`, `{"a":}`, `{"a":"b"`, `{"a""b"}`,
		`{"a":"b"}}`, `{"a":{"b":"c"}}`, `{"a":["b"]}`, `{"a" :"b"}`, `{"a": "b"}`, `{"\u0041":"b"}`,
		"{\"\xff\":\"b\"}", `{"k":"a:b,c}"}`, `{"a":"b","c"}`, `{,}`, `[,]`, `["a"}`, `{"a":"b"]`,
	} {
		wantSameDecoding(t, data)
	}
}

// TestJSONColumnsIntoNonNil: a destination that is not nil gets
// json.Unmarshal's merge (map) and reuse (slice) semantics.
func TestJSONColumnsIntoNonNil(t *testing.T) {
	t.Parallel()
	m := map[string]string{"old": "1", "a": "0"}
	if err := decodeJSONStringMap(`{"a":"b"}`, &m); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"old": "1", "a": "b"}; !reflect.DeepEqual(m, want) {
		t.Fatalf("map %v, want %v", m, want)
	}
	s := []string{"x", "y", "z"}
	if err := decodeJSONStrings(`["a"]`, &s); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a"}; !reflect.DeepEqual(s, want) {
		t.Fatalf("slice %v, want %v", s, want)
	}
}

// TestServerJSONColumnsRoundTrip decodes the columns serverArgs writes
// through scanServer.
func TestServerJSONColumnsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []*ecs.Server{
		benchServer(0),
		{ID: "empty"},
		{ID: "escaped", SecurityGroups: []string{`a"b`, "<&>"}, Metadata: map[string]string{"k\n": "\xff"}, Tags: []string{"a=\u2028"}},
	} {
		got, err := scanServer(fakeServerRow(t, s))
		if err != nil {
			t.Fatal(err)
		}
		want := *s
		want.SecurityGroups = nonNil(s.SecurityGroups)
		want.Tags = nonNil(s.Tags)
		if want.Metadata == nil {
			want.Metadata = map[string]string{}
		}
		if s.ID == "escaped" {
			want.Metadata = map[string]string{"k\n": "\ufffd"}
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("scanServer of %s:\n got %#v\nwant %#v", s.ID, got, &want)
		}
	}
}

// fakeRow is a scanner over values as serverArgs returns them.
type fakeRow []any

func (r fakeRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("fakeRow: %d destinations for %d columns", len(dest), len(r))
	}
	for i, d := range dest {
		switch d := d.(type) {
		case *string:
			*d = r[i].(string)
		case *int:
			*d = r[i].(int)
		case *int64:
			*d = r[i].(int64)
		default:
			return fmt.Errorf("fakeRow: destination %T", d)
		}
	}
	return nil
}

func fakeServerRow(tb testing.TB, s *ecs.Server) fakeRow {
	tb.Helper()
	args, err := serverArgs(s)
	if err != nil {
		tb.Fatal(err)
	}
	return fakeRow(args)
}

// benchServer is a server with column values like a list page's: three
// security group IDs, user metadata of 8 keys, three tags.
func benchServer(i int) *ecs.Server {
	t := time.Date(2024, time.March, 4, 5, 6, 7, 123456789, time.UTC)
	return &ecs.Server{
		ID: fmt.Sprintf("6c8a2f4e-1b3d-4e5f-9a7b-%012d", i), ProjectID: "0123456789abcdef0123456789abcdef",
		Name: fmt.Sprintf("web-%03d", i), FlavorID: "s6.large.2", ImageID: "abe65701-8a26-40ec-b381-c10498ca3745",
		AvailabilityZone: "cn-north-4a", HostID: "cn-north-4a-x86-01", VMState: ecs.VMActive,
		ChargingMode: ecs.ChargingPostPaid, VPCID: "2a6b3c1d-7e8f-4a9b-8c0d-1e2f3a4b5c6d",
		SubnetID: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", PortID: "0d1c2b3a-4f5e-4687-9a8b-7c6d5e4f3a2b",
		IPAddress: "192.168.0.10", MACAddress: "fa:16:3e:01:02:03",
		SecurityGroups: []string{
			"3b1f9a2c-6d4e-4f8a-9b7c-2e1d0f3a4b5c",
			"8e7d6c5b-4a39-4281-b0a9-f8e7d6c5b4a3",
			"c0ffee00-1234-4abc-8def-0123456789ab",
		},
		KeyName: "kp-ops",
		Metadata: map[string]string{
			"owner": "ops", "env": "production", "app": "web-frontend", "team": "platform",
			"cost_center": "CC-1042", "backup": "daily", "created_by": "terraform",
			"description": "frontend node behind ELB, see runbook https://wiki.example.com/web",
		},
		Tags:           []string{"env=prod", "team=platform", "app=web"},
		RootVolumeID:   "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
		RootVolumeType: "SSD", RootVolumeSize: 40, Created: t, Updated: t, LaunchedAt: t,
	}
}

// BenchmarkJSONColumns decodes one list-page server's three JSON columns
// with encoding/json and with the fast path.
func BenchmarkJSONColumns(b *testing.B) {
	row := fakeServerRow(b, benchServer(0))
	sgs, meta, tags := row[18].(string), row[21].(string), row[22].(string)
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s ecs.Server
			if json.Unmarshal([]byte(sgs), &s.SecurityGroups) != nil ||
				json.Unmarshal([]byte(meta), &s.Metadata) != nil ||
				json.Unmarshal([]byte(tags), &s.Tags) != nil {
				b.Fatal("decode")
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s ecs.Server
			if decodeJSONStrings(sgs, &s.SecurityGroups) != nil ||
				decodeJSONStringMap(meta, &s.Metadata) != nil ||
				decodeJSONStrings(tags, &s.Tags) != nil {
				b.Fatal("decode")
			}
		}
	})
}

// BenchmarkScanServer scans one list-page server from in-memory column
// values.
func BenchmarkScanServer(b *testing.B) {
	row := fakeServerRow(b, benchServer(0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scanServer(row); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAllServers100 reads 100 list-page servers from an on-disk
// SQLite store in a read transaction.
func BenchmarkAllServers100(b *testing.B) {
	ctx := b.Context()
	db, err := OpenSQLite(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tx, err := db.BeginTx(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if err := db.InsertServer(ctx, tx, benchServer(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tx, err := db.BeginReadTx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		servers, err := db.AllServers(ctx, tx)
		if err != nil || len(servers) != 100 {
			b.Fatalf("AllServers: %d servers, %v", len(servers), err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
