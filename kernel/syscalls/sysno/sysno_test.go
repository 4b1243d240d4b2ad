package sysno

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const unistdHeader = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"

// TestHeader checks every __NR_name of the system's header against the
// table; the table may list newer calls than the header knows.
func TestHeader(t *testing.T) {
	f, err := os.Open(unistdHeader)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no %s to check the table against (install the Linux API headers, e.g. linux-libc-dev)", unistdHeader)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[0] != "#define" || !strings.HasPrefix(fields[1], "__NR_") {
			continue
		}
		name := strings.TrimPrefix(fields[1], "__NR_")
		nr, err := strconv.ParseUint(fields[2], 10, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", unistdHeader, sc.Text(), err)
		}
		seen++
		if got := Name(nr); got != name {
			t.Errorf("%s has %s = %d, the table names %d %q", unistdHeader, name, nr, nr, got)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", unistdHeader, err)
	}
	if seen < 300 {
		t.Fatalf("%s defines only %d __NR_ names: not the header expected", unistdHeader, seen)
	}
}

// TestEntries checks that each entry carries what its kind needs.
func TestEntries(t *testing.T) {
	names := map[string]uint64{}
	for nr, e := range All() {
		if prev, dup := names[e.Name]; dup {
			t.Errorf("%s is listed as %d and %d", e.Name, prev, nr)
		}
		names[e.Name] = nr
		switch e.Kind {
		case Local, Prepared:
			if e.Family == "" || e.Errno != 0 {
				t.Errorf("%d %s: %s needs a family and no errno: %+v", nr, e.Name, e.Kind, e)
			}
		case Refused:
			if e.Family != "" || e.Errno == 0 || e.Note == "" {
				t.Errorf("%d %s: refused needs an errno and a reason, no family: %+v", nr, e.Name, e)
			}
		case Offloaded:
			if e.Family != "" || e.Errno != 0 || e.Note != "" {
				t.Errorf("%d %s: offloaded needs nothing more: %+v", nr, e.Name, e)
			}
		default:
			t.Errorf("%d %s: kind %v", nr, e.Name, e.Kind)
		}
	}
	if Name(Limit-1) == "" {
		t.Errorf("Limit %d is not one past the highest listed number", Limit)
	}
}

func TestLookups(t *testing.T) {
	tests := []struct {
		nr     uint64
		name   string
		listed bool
		kind   Kind
	}{
		{0, "read", true, Prepared},
		{1, "write", true, Offloaded},
		{2, "open", true, Prepared},
		{9, "mmap", true, Local},
		{149, "mlock", true, Local},
		{202, "futex", true, Local},
		{230, "clock_nanosleep", true, Local},
		{257, "openat", true, Prepared},
		{298, "perf_event_open", true, Local},
		{334, "rseq", true, Refused},
		{336, "uprobe", true, Offloaded},
		{337, "", false, Offloaded},
		{423, "", false, Offloaded},
		{434, "pidfd_open", true, Refused},
		{Limit - 1, "rseq_slice_yield", true, Offloaded},
		{Limit, "", false, Offloaded},
		{1 << 63, "", false, Offloaded},
	}
	for _, tt := range tests {
		if got := Name(tt.nr); got != tt.name {
			t.Errorf("Name(%d) = %q, want %q", tt.nr, got, tt.name)
		}
		if got := KindOf(tt.nr); got != tt.kind {
			t.Errorf("KindOf(%d) = %v, want %v", tt.nr, got, tt.kind)
		}
		e, ok := Lookup(tt.nr)
		if ok != tt.listed || e.Name != tt.name || e.Kind != tt.kind {
			t.Errorf("Lookup(%d) = %+v, %v; want %q %v, %v", tt.nr, e, ok, tt.name, tt.kind, tt.listed)
		}
		if !tt.listed {
			continue
		}
		if nr, ok := Number(tt.name); !ok || nr != tt.nr {
			t.Errorf("Number(%q) = %d, %v; want %d", tt.name, nr, ok, tt.nr)
		}
	}
	for _, name := range []string{"", "no_such_call", "READ"} {
		if nr, ok := Number(name); ok {
			t.Errorf("Number(%q) = %d, want none", name, nr)
		}
	}
	if e, _ := Lookup(434); e.Errno != syscall.ENOSYS || e.Note == "" {
		t.Errorf("pidfd_open is refused with %v (%q), want ENOSYS and a reason", e.Errno, e.Note)
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind        Kind
		name        string
		runsOnLinux bool
	}{
		{Offloaded, "offloaded", true},
		{Local, "local", false},
		{Prepared, "prepared", true},
		{Refused, "refused", false},
		{Kind(9), "Kind(9)", false},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.name {
			t.Errorf("Kind(%d).String() = %q, want %q", tt.kind, got, tt.name)
		}
		if got := tt.kind.RunsOnLinux(); got != tt.runsOnLinux {
			t.Errorf("%v.RunsOnLinux() = %v, want %v", tt.kind, got, tt.runsOnLinux)
		}
	}
}

func TestAllStops(t *testing.T) {
	n := 0
	for range All() {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("All yielded %d before the break, want 3", n)
	}
}
