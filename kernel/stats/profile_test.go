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
	var p Profile
	p.ThreadEnded(10, &a)
	p.ThreadEnded(11, &b)
	want := &ProfileReport{PID: 10, Exe: "/bin/x",
		Threads: []ThreadProfile{
			{TID: 10, Syscalls: []SyscallCount{
				{Nr: 1, Name: "write", Offloaded: Syscall{Calls: 1, Ns: 1000}},
				{Nr: 39, Name: "getpid", Local: Syscall{Calls: 2, Ns: 150}},
			}},
			{TID: 11, Syscalls: []SyscallCount{{Nr: 1, Name: "write", Offloaded: Syscall{Calls: 1, Ns: 2000}}}},
		},
		Process: ThreadProfile{TID: 10, Syscalls: []SyscallCount{
			{Nr: 1, Name: "write", Offloaded: Syscall{Calls: 2, Ns: 3000}},
			{Nr: 39, Name: "getpid", Local: Syscall{Calls: 2, Ns: 150}},
		}},
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
