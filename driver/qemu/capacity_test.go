package qemu_test

import (
	"strings"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/driver/qemu"
)

func TestHosts(t *testing.T) {
	t.Parallel()
	got := qemu.HostsOf([]string{"cn-north-4a", "cn-north-4b"}, 2, 24000, 4, 16)
	want := []ecs.Host{
		{ID: "qemu-cn-north-4a", AZ: "cn-north-4a", VCPUs: 8, RAMMB: 24000 * 4 * 16, Arch: "x86_64"},
		{ID: "qemu-cn-north-4b", AZ: "cn-north-4b", VCPUs: 8, RAMMB: 24000 * 4 * 16, Arch: "x86_64"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("hosts = %+v, want %+v", got, want)
	}
	// A fractional ratio rounds down, never below one vCPU.
	if h := qemu.HostsOf([]string{"z"}, 1, 1000, 0.5, 1)[0]; h.VCPUs != 1 || h.RAMMB != 500 {
		t.Fatalf("hosts with overcommit 0.5 = %+v", h)
	}
	if got := qemu.HostsOf(nil, 2, 1000, 1, 1); len(got) != 0 {
		t.Fatalf("hosts of no zone = %+v", got)
	}
}

func TestParseMemTotal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"MemTotal:       24684084 kB\nMemFree: 1 kB\n", 24105, true},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2, true},
		{"MemTotal: lots kB\n", 0, false},
		{"MemTotal: 2048 MB\n", 0, false},
		{"", 0, false},
	} {
		got, err := qemu.ParseMemTotal(strings.NewReader(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMemTotal(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
