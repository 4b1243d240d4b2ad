package lwk

import "testing"

func TestTranslate(t *testing.T) {
	s := &Snapshot{Alloc: Alloc{Nodes: []Node{{Node: 0, Start: 0, Pages: 16}, {Node: 1, Start: 16, Pages: 16}}}}
	p := &Process{PID: 7, VMAs: []VMA{{Start: 0x10000, End: 0x20000, Segs: []Segment{{VA: 0x11000, Len: 0x2000, Off: 0x12000}}}}}
	for _, tc := range []struct {
		va      uint64
		ok, pop bool
		off     uint64
		node    int
	}{
		{0x11008, true, true, 0x12008, 1},
		{0x10000, true, false, 0, -1},
		{0x20000, false, false, 0, 0},
	} {
		tr, err := s.Translate(p, tc.va)
		if (err == nil) != tc.ok || err == nil && (tr.Populated != tc.pop || tr.Offset != tc.off || tr.Node != tc.node) {
			t.Errorf("Translate(%#x) = %+v, %v", tc.va, tr, err)
		}
	}
	if _, err := s.Translate(&Process{MMChanging: true}, 0x11000); err == nil {
		t.Error("translated through a changing address space")
	}
	if _, err := s.Process(8); err == nil {
		t.Error("found a process that is not there")
	}
}

func TestNames(t *testing.T) {
	for nr, want := range map[int64]string{0: "read", 230: "clock_nanosleep", 471: "rseq_slice_yield", 400: "", 100000: "", -1: ""} {
		if got := SyscallName(nr); got != want {
			t.Errorf("SyscallName(%d) = %q, want %q", nr, got, want)
		}
	}
}
