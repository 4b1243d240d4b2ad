package stats

import "testing"

// TestThreadEnded checks that an ended thread's counts, per syscall
// included, add up in the instance's totals, and that the record's
// sequence counter is even (stable) afterwards.
func TestThreadEnded(t *testing.T) {
	var a, b Thread
	for _, c := range []struct {
		t         *Thread
		nr, ns    uint64
		offloaded bool
	}{
		{&a, 39, 100, false}, // getpid
		{&a, 39, 50, false},
		{&a, 1, 1000, true}, // write
		{&b, 1, 2000, true},
		{&b, 600, 7, true}, // beyond MaxSyscall: totals only
	} {
		c.t.Syscall(c.nr, c.ns, c.offloaded)
	}
	a.RunNs, b.PageFaults = 5, 3
	var in Instance
	in.ThreadEnded(&a)
	in.ThreadEnded(&b)
	e := in.Ended
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"local calls", e.LocalCalls, 2},
		{"local ns", e.LocalNs, 150},
		{"offloaded calls", e.OffloadCalls, 3},
		{"offloaded ns", e.OffloadNs, 3007},
		{"getpid calls", e.Local[39].Calls, 2},
		{"write calls", e.Offloaded[1].Calls, 2},
		{"write ns", e.Offloaded[1].Ns, 3000},
		{"run ns", e.RunNs, 5},
		{"page faults", e.PageFaults, 3},
		{"seq parity", in.Seq % 2, 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}
