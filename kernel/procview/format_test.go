package procview

import (
	"strings"
	"testing"
)

func TestListAndMask(t *testing.T) {
	for _, tc := range []struct {
		ids        []int
		list, mask string
	}{
		{[]int{1}, "1", "2"},
		{[]int{0, 1, 2, 3, 8}, "0-3,8", "10f"},
		{[]int{3, 1, 2}, "1-3", "e"},
		{[]int{33}, "33", "2,00000000"},
		{nil, "", "0"},
	} {
		if got := List(tc.ids); got != tc.list {
			t.Errorf("List(%v) = %q, want %q", tc.ids, got, tc.list)
		}
		if got := Mask(tc.ids); got != tc.mask {
			t.Errorf("Mask(%v) = %q, want %q", tc.ids, got, tc.mask)
		}
	}
}

func sample() *Process {
	return &Process{PID: 100, PPID: 99, PGID: 100, SID: 98, Exe: "/usr/bin/a-very-long-program-name",
		Tasks: []Task{{TID: 100, State: 'S', CPU: 1, SysNs: 2e9}, {TID: 1 << 22, State: 'R', CPU: 1, SysNs: 1e9, Pending: 1 << 9}},
		RSS:   8 << 20, VSZ: 64 << 20, StartCode: 0x400000, EndCode: 0x402000, SharedPending: 1 << 1}
}

func TestStat(t *testing.T) {
	p := sample()
	for _, tc := range []struct {
		tid   int
		pid   string
		state string
		stime string
		sig   string
	}{
		{0, "100", "S", "300", "0"}, // the process: all threads' time, the main thread's signals
		{1 << 22, "4194304", "R", "100", "512"},
	} {
		task, ok := p.Task(tc.tid)
		if !ok {
			t.Fatalf("no task %d", tc.tid)
		}
		line := string(Stat(p, task))
		f := strings.Fields(line)
		if len(f) != 52 {
			t.Fatalf("stat has %d fields, want 52: %q", len(f), line)
		}
		got := []string{f[0], f[1], f[2], f[3], f[14], f[30], f[38]}
		want := []string{tc.pid, "(a-very-long-pro)", tc.state, "99", tc.stime, tc.sig, "1"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("tid %d: pid comm state ppid stime signal processor = %v, want %v", tc.tid, got, want)
		}
	}
}

func TestStatusAndStatm(t *testing.T) {
	p := sample()
	task, _ := p.Task(0)
	st := string(Status(p, task))
	for _, want := range []string{"Name:\ta-very-long-pro\n", "State:\tS (sleeping)\n", "Pid:\t100\n", "PPid:\t99\n",
		"VmRSS:\t    8192 kB\n", "Threads:\t2\n", "ShdPnd:\t0000000000000002\n"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if got := string(Statm(p)); got != "16384 2048 0 2 0 16382 0\n" {
		t.Errorf("statm = %q", got)
	}
}

// TestStatusState: status spells each state letter in Linux's words.
func TestStatusState(t *testing.T) {
	p := sample()
	for _, tc := range []struct {
		state byte
		want  string
	}{
		{'R', "R (running)"}, {'S', "S (sleeping)"}, {'T', "T (stopped)"}, {'Z', "Z (zombie)"},
	} {
		task := p.Tasks[0]
		task.State = tc.state
		if st := string(Status(p, task)); !strings.Contains(st, "\nState:\t"+tc.want+"\n") {
			t.Errorf("state %c: status lacks State:\t%s:\n%s", tc.state, tc.want, st)
		}
	}
}

func TestMaps(t *testing.T) {
	p := &Process{Maps: []Mapping{
		{Start: 0x400000, End: 0x401000, Perms: "r--p", Major: 0xfe, Inode: 10166275, Name: "/usr/bin/busybox"},
		{Start: 0x5ec000, End: 0x800000, Perms: "rw-p", Name: "[heap]"},
		{Start: 0x7f0000000000, End: 0x7f0000001000, Perms: "rw-p"},
	}}
	want := "00400000-00401000 r--p 00000000 fe:00 10166275                           /usr/bin/busybox\n" +
		"005ec000-00800000 rw-p 00000000 00:00 0                                  [heap]\n" +
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
	if got := string(Maps(p)); got != want {
		t.Errorf("maps:\n%s\nwant:\n%s", got, want)
	}
}

func TestEncodings(t *testing.T) {
	if got := string(Strings([]string{"a", "bc"})); got != "a\x00bc\x00" {
		t.Errorf("Strings = %q", got)
	}
	if got := Auxv([]uint64{6, 4096}); len(got) != 16 || got[0] != 6 || got[9] != 0x10 {
		t.Errorf("Auxv = %v", got)
	}
	want := "Node 0 MemTotal:         262144 kB\nNode 0 MemFree:          131072 kB\nNode 0 MemUsed:          131072 kB\n"
	if got := string(NodeMeminfo(0, 256<<20, 128<<20)); got != want {
		t.Errorf("NodeMeminfo:\n%s\nwant:\n%s", got, want)
	}
}
