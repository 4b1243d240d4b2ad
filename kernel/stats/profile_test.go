package stats

import (
	"reflect"
	"testing"
)

// TestProfile checks that a profile lists each ended thread's calls by
// number, with their names, and sums them for the process.
func TestProfile(t *testing.T) {
	var a, b Thread
	a.Syscall(39, 100, false) // getpid
	a.Syscall(1, 1000, true)  // write
	a.Syscall(39, 50, false)
	b.Syscall(1, 2000, true)
	b.Syscall(600, 7, true) // beyond MaxSyscall: totals only
	a.RunNs, a.Switches, a.PageFaults = 5000, 2, 3
	b.RunNs, b.Migrations, b.FutexWaits, b.Signals = 700, 1, 4, 1
	var p Profile
	p.ThreadEnded(10, &a, 0)
	p.ThreadEnded(11, &b, 0)
	want := &ProfileReport{PID: 10, Exe: "/bin/x",
		Threads: []ThreadProfile{
			{TID: 10, Syscalls: []SyscallCount{
				{Nr: 1, Name: "write", Offloaded: Syscall{Calls: 1, Ns: 1000}},
				{Nr: 39, Name: "getpid", Local: Syscall{Calls: 2, Ns: 150}},
			}, Counters: Counters{RunNs: 5000, Switches: 2, PageFaults: 3, LocalCalls: 2, LocalNs: 150, OffloadCalls: 1, OffloadNs: 1000}},
			{TID: 11, Syscalls: []SyscallCount{{Nr: 1, Name: "write", Offloaded: Syscall{Calls: 1, Ns: 2000}}},
				Counters: Counters{RunNs: 700, Migrations: 1, FutexWaits: 4, Signals: 1, OffloadCalls: 2, OffloadNs: 2007}},
		},
		Process: ThreadProfile{TID: 10, Syscalls: []SyscallCount{
			{Nr: 1, Name: "write", Offloaded: Syscall{Calls: 2, Ns: 3000}},
			{Nr: 39, Name: "getpid", Local: Syscall{Calls: 2, Ns: 150}},
		}, Counters: Counters{RunNs: 5700, Switches: 2, Migrations: 1, PageFaults: 3, FutexWaits: 4, Signals: 1,
			LocalCalls: 2, LocalNs: 150, OffloadCalls: 3, OffloadNs: 3007}},
	}
	if got := p.Report(10, "/bin/x"); !reflect.DeepEqual(got, want) {
		t.Errorf("report %+v\nwant %+v", got, want)
	}
	if got, want := p.Summary(), "2 threads, 2 local calls in 150ns, 3 offloaded calls in 3.007µs"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	var none *Profile
	if r := none.Report(1, "x"); r != nil {
		t.Errorf("an unprofiled process reports %+v", r)
	}
}
