package lwkabi

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestThreadState(t *testing.T) {
	for _, tc := range []struct {
		s      ThreadState
		letter byte
		word   string
	}{
		{Runnable, 'R', "runnable"},
		{Running, 'R', "running"},
		{Offload, 'S', "offload"},
		{Sleeping, 'S', "sleeping"},
		{Zombie, 'Z', "zombie"},
		{Stopped, 'T', "stopped"},
		{Stopped + 1, '?', "unknown"},
		{^ThreadState(0), '?', "unknown"},
	} {
		if l, w := tc.s.Letter(), tc.s.String(); l != tc.letter || w != tc.word {
			t.Errorf("state %d: %c %s, want %c %s", uint32(tc.s), l, w, tc.letter, tc.word)
		}
	}
}

func TestKind(t *testing.T) {
	for k, want := range map[Kind]string{KindAnon: "anon", KindHeap: "[heap]", KindStack: "[stack]", KindFile: "file", KindELF: "elf", KindELF + 1: "?", 255: "?"} {
		if got := k.String(); got != want {
			t.Errorf("kind %d: %q, want %q", uint8(k), got, want)
		}
	}
}

// segs is a page table with a hole between its two segments, whose
// partition offsets are not in VA order.
var segs = []Segment{{VA: 0x10000, Len: 0x2000, Off: 0x80000}, {VA: 0x14000, Len: 0x1000, Off: 0x3000}}

func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		va  uint64
		seg int // index in segs, -1 when not populated
		off uint64
	}{
		{0xffff, -1, 0},
		{0x10000, 0, 0x80000},
		{0x11fff, 0, 0x81fff},
		{0x12000, -1, 0},
		{0x13fff, -1, 0},
		{0x14000, 1, 0x3000},
		{0x14abc, 1, 0x3abc},
		{0x15000, -1, 0},
	} {
		s, found := Lookup(segs, tc.va)
		off, ok := Translate(segs, tc.va)
		if found != (tc.seg >= 0) || ok != found || off != tc.off || found && s != segs[tc.seg] {
			t.Errorf("va %#x: Lookup %+v %v, Translate %#x %v; want segment %d, offset %#x", tc.va, s, found, off, ok, tc.seg, tc.off)
		}
	}
	if _, ok := Translate(nil, 0); ok {
		t.Error("translated through an empty page table")
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		lo, hi uint64
		want   []Segment
	}{
		{0, 0x10000, nil},
		{0x11000, 0x14800, []Segment{{VA: 0x11000, Len: 0x1000, Off: 0x81000}, {VA: 0x14000, Len: 0x800, Off: 0x3000}}},
		{0x12000, 0x14000, nil},
		{0x14100, 0x14200, []Segment{{VA: 0x14100, Len: 0x100, Off: 0x3100}}},
		{0, ^uint64(0), segs},
		{0x14800, 0x11000, nil}, // an empty range
	} {
		if got := Clip(segs, tc.lo, tc.hi); !slices.Equal(got, tc.want) {
			t.Errorf("Clip(%#x, %#x) = %+v, want %+v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestPopulated(t *testing.T) {
	if n := Populated(segs); n != 0x3000 {
		t.Errorf("Populated = %#x, want 0x3000", n)
	}
	if n := Populated(nil); n != 0 {
		t.Errorf("Populated(nil) = %d", n)
	}
}

// TestShown checks what ps shows of each state in a stopped process and
// in one that runs.
func TestShown(t *testing.T) {
	for _, tc := range []struct {
		s             ThreadState
		stopped, want ThreadState
	}{
		{Running, Stopped, Running},
		{Sleeping, Stopped, Sleeping},
		{Offload, Stopped, Offload},
		{Zombie, Zombie, Zombie},
		{Stopped, Stopped, Stopped},
	} {
		if got := tc.s.Shown(true); got != tc.stopped {
			t.Errorf("%v in a stopped process shows %v, want %v", tc.s, got, tc.stopped)
		}
		if got := tc.s.Shown(false); got != tc.want {
			t.Errorf("%v in a running process shows %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestProtOf(t *testing.T) {
	for perms, want := range map[string]int{"r-xp": unix.PROT_READ | unix.PROT_EXEC, "rw-s": unix.PROT_READ | unix.PROT_WRITE, "---p": 0, "r": unix.PROT_READ} {
		if got := ProtOf(perms); got != want {
			t.Errorf("ProtOf(%q) = %d, want %d", perms, got, want)
		}
	}
}

// TestParseMapsLine reads /proc/PID/maps lines and refuses what is not one.
func TestParseMapsLine(t *testing.T) {
	tests := []struct {
		line string
		want MapsLine
		ok   bool
	}{
		{"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ", MapsLine{Start: 0x7f0000000000, End: 0x7f0000021000, Perms: "rw-p"}, true},
		{"00400000-00452000 r-xp 00001000 08:02 173521      /usr/bin/dbus-daemon",
			MapsLine{Start: 0x400000, End: 0x452000, Perms: "r-xp", Offset: 0x1000, Name: "/usr/bin/dbus-daemon"}, true},
		{"7ffd1000-7ffd3000 r--p 00000000 00:00 0   [vvar]", MapsLine{Start: 0x7ffd1000, End: 0x7ffd3000, Perms: "r--p", Name: "[vvar]"}, true},
		{"10000-20000 rw-s 00000000 00:01 5 /memfd:gomck-mcos0 (deleted)",
			MapsLine{Start: 0x10000, End: 0x20000, Perms: "rw-s", Name: "/memfd:gomck-mcos0 (deleted)"}, true},
		{"", MapsLine{}, false},
		{"zz-20000 rw-p 0 00:00 0", MapsLine{}, false},
		{"20000-10000 rw-p 0 00:00 0", MapsLine{}, false},
		{"10000-20000 rw 0 00:00 0", MapsLine{}, false},
	}
	for _, tt := range tests {
		got, err := ParseMapsLine(tt.line)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMapsLine(%q) = %+v, %v; want %+v, ok %v", tt.line, got, err, tt.want, tt.ok)
		}
	}
}
