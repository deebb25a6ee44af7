package httpapi

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pgregory.net/rapid"

	ecs "github.com/ecsd-dev/ecsd"
)

// The hand-written encoders of jsonenc.go against encoding/json, the
// reference: on every byte and on generated strings, on server details
// whose every field is generated (so a field added to a type but not to
// its appendJSON fails here), on details built from generated servers, and
// on list pages against the body encoding/json wrote before
// serverDetailsPage.

// listServersDetailsBody is the ListServersDetails body as encoding/json
// wrote it before serverDetailsPage: servers holds serverDetail values,
// then missingServer values. TestServerDetailsPageMatchesEncodingJSON
// proves serverDetailsPage writes the same bytes; the SDK and OAS tests
// (wire_response_test.go) decode it.
type listServersDetailsBody struct {
	Count   int   `json:"count"`
	Servers []any `json:"servers"`
}

// wantSameJSON fails t unless got is what encoding/json writes for ref.
func wantSameJSON(t interface {
	Helper()
	Fatalf(string, ...any)
}, got []byte, ref any,
) {
	t.Helper()
	want, err := json.Marshal(ref)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("encodings differ at byte %d:\n got: %q\nwant: %q", i, snippet(got, i), snippet(want, i))
	}
}

// snippet is b around offset i.
func snippet(b []byte, i int) []byte {
	return b[max(0, i-60):min(len(b), i+60)]
}

// jsonStrings generates strings that exercise every escape: arbitrary
// valid UTF-8, runes encoding/json treats specially, arbitrary bytes
// (mostly invalid UTF-8) and short keys that share prefixes (map order).
func jsonStrings() *rapid.Generator[string] {
	special := []rune{
		0, 1, '\b', '\t', '\n', 0x0b, '\f', '\r', 0x1f, ' ', '"', '\\', '/', '<', '>', '&', '\'', 0x7f,
		0x80, 0xff, 'é', '\u2027', '\u2028', '\u2029', '\u202a', '\ufeff', '\ufffd', '\uffff', 0x10000, 0x1f600, utf8.MaxRune,
		'a', 'Z', '0', ':', '.', '-', '_',
	}
	return rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.SampledFrom(special)),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 0, 16), func(b []byte) string { return string(b) }),
		rapid.StringOfN(rapid.RuneFrom([]rune("ab.:_-")), 0, 4, -1),
	)
}

func TestAppendJSONStringEveryByte(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		for _, s := range []string{string(rune(c)), string([]byte{byte(c)}), "x" + string([]byte{byte(c)}) + "y"} {
			wantSameJSON(t, appendJSONString(nil, s), s)
		}
	}
	for _, s := range []string{
		"", "plain", "<script>&amp;</script>", "\u2028\u2029", "a\u2028b\u2029c", "\xed\xa0\x80", "\xe2\x80",
		"\xf0\x9f\x98", "\xf4\x90\x80\x80", "\xc0\xaf", "日本語\x00\x1f", "\"\\/\b\f\n\r\t",
	} {
		wantSameJSON(t, appendJSONString(nil, s), s)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		s := jsonStrings().Draw(t, "s")
		wantSameJSON(t, appendJSONString(nil, s), s)
		// Appending after existing bytes keeps them.
		got := appendJSONString([]byte("prefix"), s)
		wantSameJSON(t, got[len("prefix"):], s)
	})
}

// fill sets v, a settable value, to a generated one: strings from
// jsonStrings, any int, nil or set pointers, nil, empty or filled slices
// and maps, every field of structs (time.Time as a time in UTC or another
// zone, sometimes zero). It fails on a kind it has no generator for, so a
// new field type shows up here.
func fill(t *rapid.T, v reflect.Value, label string) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		var tm time.Time
		if rapid.IntRange(0, 4).Draw(t, label+" zero?") > 0 {
			tm = time.Unix(rapid.Int64Range(-1<<36, 1<<36).Draw(t, label), rapid.Int64Range(0, 999_999_999).Draw(t, label+" ns"))
			tm = tm.In(time.FixedZone("", rapid.IntRange(-12, 14).Draw(t, label+" zone")*3600))
		}
		v.Set(reflect.ValueOf(tm))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(jsonStrings().Draw(t, label))
	case reflect.Int, reflect.Int64:
		v.SetInt(rapid.Int64().Draw(t, label))
	case reflect.Bool:
		v.SetBool(rapid.Bool().Draw(t, label))
	case reflect.Pointer:
		if rapid.Bool().Draw(t, label+" nil?") {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), label)
		v.Set(p)
	case reflect.Slice:
		n := rapid.IntRange(-1, 3).Draw(t, label+" len")
		if n < 0 {
			return
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(t, s.Index(i), label+"[]")
		}
		v.Set(s)
	case reflect.Map:
		n := rapid.IntRange(-1, 40).Draw(t, label+" len")
		if n < 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, k, label+" key")
			fill(t, e, label+"[k]")
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), label+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("fill: no generator for %s (%s)", v.Type(), label)
	}
}

// generated returns a generator of values of T filled by fill.
func generated[T any]() *rapid.Generator[T] {
	return rapid.Custom(func(t *rapid.T) T {
		var v T
		fill(t, reflect.ValueOf(&v).Elem(), reflect.TypeFor[T]().Name())
		return v
	})
}

func TestServerDetailMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d := generated[serverDetail]().Draw(t, "detail")
		wantSameJSON(t, d.appendJSON(nil), d)
		body := showServerBody{Server: d}
		wantSameJSON(t, body.appendJSON(nil), body)
		m := generated[missingServer]().Draw(t, "missing")
		wantSameJSON(t, m.appendJSON(nil), m)
	})
}

// serverViews generates views of servers with arbitrary contents, in the
// states (and charging modes) newServerDetail tells apart, with security
// groups that do and do not name the server's.
func serverViews() *rapid.Generator[serverView] {
	return rapid.Custom(func(t *rapid.T) serverView {
		v := serverView{
			Server: ptr(generated[ecs.Server]().Draw(t, "server")),
			Flavor: ptr(generated[ecs.Flavor]().Draw(t, "flavor")),
			UserID: jsonStrings().Draw(t, "user"),
		}
		s := v.Server
		arbitrary := jsonStrings()
		s.VMState = rapid.OneOf(rapid.SampledFrom([]string{ecs.VMBuilding, ecs.VMActive, ecs.VMStopped, ecs.VMError}), arbitrary).Draw(t, "vm_state")
		s.TaskState = rapid.OneOf(rapid.SampledFrom([]string{ecs.TaskNone, ecs.TaskSpawning, ecs.TaskResizeMigrating}), arbitrary).Draw(t, "task_state")
		s.ChargingMode = rapid.OneOf(rapid.SampledFrom([]string{"", ecs.ChargingPostPaid, ecs.ChargingPrePaid, ecs.ChargingSpot}), arbitrary).Draw(t, "charging_mode")
		s.CPUThreads = rapid.IntRange(0, 2).Draw(t, "cpu_threads")
		if rapid.Bool().Draw(t, "image?") {
			v.Image = ptr(generated[ecs.Image]().Draw(t, "image"))
		}
		v.SecurityGroups = generated[[]*ecs.SecurityGroup]().Draw(t, "security groups")
		for _, g := range v.SecurityGroups {
			if g != nil && len(s.SecurityGroups) > 0 && rapid.Bool().Draw(t, "named?") {
				g.ID = rapid.SampledFrom(s.SecurityGroups).Draw(t, "sg id")
			}
		}
		v.Volumes = generated[[]*ecs.Volume]().Draw(t, "volumes")
		for i, vol := range v.Volumes {
			if vol == nil {
				v.Volumes[i] = &ecs.Volume{}
			}
		}
		return v
	})
}

func TestNewServerDetailMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for name, s := range testServers() {
		d := newServerDetail(testView(s))
		wantSameJSON(t, d.appendJSON(nil), d)
		if name == "running" && !bytes.Contains(d.appendJSON(nil), []byte(`"metadata":{"EcmResStatus":"normal","charging_mode":"0",`)) {
			t.Errorf("running: metadata not sorted: %s", d.appendJSON(nil))
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		d := newServerDetail(serverViews().Draw(t, "view"))
		wantSameJSON(t, d.appendJSON(nil), d)
	})
}

func TestServerDetailsPageMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		page := serverDetailsPage{Count: rapid.Int().Draw(t, "count")}
		ref := listServersDetailsBody{Count: page.Count, Servers: []any{}}
		for range rapid.IntRange(0, 3).Draw(t, "servers") {
			d := newServerDetail(serverViews().Draw(t, "view"))
			page.Servers = append(page.Servers, d)
			ref.Servers = append(ref.Servers, d)
		}
		for range rapid.IntRange(0, 2).Draw(t, "missing") {
			m := generated[missingServer]().Draw(t, "missing")
			page.Missing = append(page.Missing, m)
			ref.Servers = append(ref.Servers, m)
		}
		wantSameJSON(t, page.appendJSON(nil), ref)
		b, err := json.Marshal(page)
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		wantSameJSON(t, b, ref)
	})
}

// TestWriteJSONUsesAppendJSON checks that writeJSON writes a jsonAppender
// through its encoder, and that a recycled buffer does not leak the
// previous body into the next.
func TestWriteJSONUsesAppendJSON(t *testing.T) {
	t.Parallel()
	long := newServerDetail(testView(testServer()))
	long.Description = strings.Repeat("<long>", 1000)
	for _, page := range []serverDetailsPage{
		{Count: 2, Servers: []serverDetail{long, newServerDetail(testView(testServer()))}},
		{Count: 0},
		{Count: 1, Missing: []missingServer{{ID: "x", Fault: serverFault{Code: 404}}}},
	} {
		w := &discardWriter{h: http.Header{}}
		rec := &recordWriter{discardWriter: w}
		writeJSON(rec, http.StatusOK, page)
		if got := w.h.Get("Content-Type"); got != "application/json;charset=UTF-8" || w.status != http.StatusOK {
			t.Fatalf("header %q, status %d", got, w.status)
		}
		if want := page.appendJSON(nil); !bytes.Equal(rec.body.Bytes(), want) {
			t.Fatalf("body:\n%s\nwant:\n%s", rec.body.Bytes(), want)
		}
	}
}

// recordWriter is a discardWriter that keeps the body.
type recordWriter struct {
	*discardWriter
	body bytes.Buffer
}

func (w *recordWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.discardWriter.Write(p)
}

// The previous implementations of the names newServerDetail derives,
// which allocated more; the current ones must return the same.
func oldNovaHostID(projectID, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(projectID + host))
	return hex.EncodeToString(sum[:])
}

func oldInstanceName(id string) string {
	hexID := strings.ReplaceAll(id, "-", "")
	if len(hexID) > 8 {
		hexID = hexID[:8]
	}
	return "instance-" + hexID
}

func oldReservationID(id string) string {
	sum := sha1.Sum([]byte("reservation:" + id))
	return "r-" + hex.EncodeToString(sum[:])[:8]
}

func oldHostname(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '_' || r == '.':
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "ecs"
	}
	return b.String()
}

func TestDerivedNamesMatchPrevious(t *testing.T) {
	t.Parallel()
	strs := rapid.OneOf(jsonStrings(), rapid.StringN(0, 100, -1),
		rapid.StringOf(rapid.RuneFrom([]rune("aZ09-_.K\u212a\u0130 "))))
	rapid.Check(t, func(t *rapid.T) {
		a, b := strs.Draw(t, "a"), strs.Draw(t, "b")
		for _, c := range []struct{ name, got, want string }{
			{"novaHostID", novaHostID(a, b), oldNovaHostID(a, b)},
			{"instanceName", instanceName(a), oldInstanceName(a)},
			{"reservationID", reservationID(a), oldReservationID(a)},
			{"hostname", hostname(a), oldHostname(a)},
		} {
			if c.got != c.want {
				t.Fatalf("%s(%q, %q) = %q, want %q", c.name, a, b, c.got, c.want)
			}
		}
	})
}

func TestFormatTimeMatchesTimeFormat(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		// Years from about -300 to 10,300: the fast path's bounds and beyond.
		sec := rapid.OneOf(rapid.Int64Range(-72_000_000_000, 263_000_000_000), rapid.Int64Range(253_402_300_800-100, 253_402_300_800+100),
			rapid.Int64Range(-62_167_219_200-100, -62_167_219_200+100)).Draw(t, "unix") // 10000-01-01, 0000-01-01
		tm := time.Unix(sec, rapid.Int64Range(0, 999_999_999).Draw(t, "ns"))
		tm = tm.In(time.FixedZone("", rapid.IntRange(-14*60, 14*60).Draw(t, "zone minutes")*60))
		for _, layout := range []string{timeFormatServer, timeFormatLaunched, timeFormatJob, time.RFC3339} {
			if got, want := formatTime(tm, layout), tm.UTC().Format(layout); got != want {
				t.Fatalf("formatTime(%v, %q) = %q, want %q", tm, layout, got, want)
			}
		}
	})
}
