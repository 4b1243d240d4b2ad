package kernel

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

func TestCPUShare(t *testing.T) {
	for _, tc := range []struct {
		ncpu, ppn, rank int
		want            uint64
	}{
		{2, 2, 0, 0b01},
		{2, 2, 1, 0b10},
		{2, 1, 0, 0b11},
		{4, 2, 1, 0b1100},
		{5, 2, 1, 0b01100}, // CPU 4 stays unused, as in McKernel
		{2, 3, 2, 0b01},    // oversubscribed: time-shared
		{8, 3, 2, 0b110000},
	} {
		if got := cpuShare(tc.ncpu, tc.ppn, tc.rank); got != tc.want {
			t.Errorf("cpuShare(%d CPUs, -n %d, rank %d) = %b, want %b", tc.ncpu, tc.ppn, tc.rank, got, tc.want)
		}
	}
}

// TestPartExec joins and leaves executions as mcexec -n processes start
// and end, and refuses what McKernel refuses.
func TestPartExec(t *testing.T) {
	k := &OS{CPUs: make([]*CPU, 2)}
	proc := func(pid int) *task.Process { return task.NewProcess(pid) }
	a, b, c := proc(10), proc(11), proc(12)
	for _, tc := range []struct {
		p                 *task.Process
		parent, ppn, rank int
		wantRank          int
		wantErr           bool
	}{
		{a, 1, 2, -1, 0, false},
		{b, 1, 2, -1, 1, false},
		{c, 1, 2, -1, 0, true}, // a third of -n 2
		{c, 1, 3, -1, 0, true}, // -n differs within the execution
		{c, 1, 2, 1, 0, true},  // rank taken
		{c, 2, 3, -1, 0, true}, // more than the CPUs without -O
		{c, 2, 0, -1, 0, true},
		{c, 2, 2, 2, 0, true}, // rank beyond -n
		{c, 2, 2, 1, 1, false},
	} {
		err := k.joinPartExec(tc.p, tc.parent, tc.ppn, tc.rank)
		if tc.wantErr {
			if !errors.Is(err, unix.EINVAL) {
				t.Errorf("join pid %d to parent %d -n %d rank %d: %v, want EINVAL", tc.p.PID, tc.parent, tc.ppn, tc.rank, err)
			}
			continue
		}
		if err != nil || tc.p.LocalRank != tc.wantRank || tc.p.CPUShare != cpuShare(2, tc.ppn, tc.wantRank) {
			t.Errorf("join pid %d: %v, rank %d share %b; want rank %d", tc.p.PID, err, tc.p.LocalRank, tc.p.CPUShare, tc.wantRank)
		}
	}
	k.leavePartExec(a)
	d := proc(13)
	if err := k.joinPartExec(d, 1, 2, -1); err != nil || d.LocalRank != 0 {
		t.Errorf("rank 0 was not given back: %v, rank %d", err, d.LocalRank)
	}
	for _, p := range []*task.Process{b, c, d} {
		k.leavePartExec(p)
	}
	if len(k.PartExecs) != 0 {
		t.Errorf("executions left: %+v", k.PartExecs)
	}
}
