package stats

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomck/gomck/kernel/syscalls/sysno"
)

// Profile collects the per-syscall counts of a process run under
// mcexec --profile: each thread's as it ends, and their sum. The threads
// bump their counters anyway; only this collection is the profile's cost.
type Profile struct {
	mu      sync.Mutex
	threads []ThreadProfile
	sum     Thread
}

// ProfileReport is what mcexec gets with the exit of a profiled process.
type ProfileReport struct {
	PID     int             `json:"pid"`
	Exe     string          `json:"exe"`
	Threads []ThreadProfile `json:"threads"`
	// Process is the sum over the threads (its TID is the pid).
	Process ThreadProfile `json:"process"`
}

// ThreadProfile lists the system calls one thread made, by number, and
// its other counters (mcperf stat reads them).
type ThreadProfile struct {
	TID      int            `json:"tid"`
	Syscalls []SyscallCount `json:"syscalls"`
	Counters Counters       `json:"counters"`
}

// Counters are a thread's totals (Thread's fields but the per-syscall
// ones), as a profile reports them.
type Counters struct {
	RunNs        uint64 `json:"run_ns"`
	Switches     uint64 `json:"context_switches"`
	Migrations   uint64 `json:"migrations"`
	PageFaults   uint64 `json:"page_faults"`
	FutexWaits   uint64 `json:"futex_waits"`
	Signals      uint64 `json:"signals_delivered"`
	LocalCalls   uint64 `json:"syscalls_local"`
	LocalNs      uint64 `json:"local_ns"`
	OffloadCalls uint64 `json:"syscalls_offloaded"`
	OffloadNs    uint64 `json:"offload_wait_ns"`
}

// Zip combines c and o field by field with f (sums, differences of two
// reads): the one place that lists the fields.
func (c Counters) Zip(o Counters, f func(a, b uint64) uint64) Counters {
	return Counters{RunNs: f(c.RunNs, o.RunNs), Switches: f(c.Switches, o.Switches),
		Migrations: f(c.Migrations, o.Migrations), PageFaults: f(c.PageFaults, o.PageFaults),
		FutexWaits: f(c.FutexWaits, o.FutexWaits), Signals: f(c.Signals, o.Signals),
		LocalCalls: f(c.LocalCalls, o.LocalCalls), LocalNs: f(c.LocalNs, o.LocalNs),
		OffloadCalls: f(c.OffloadCalls, o.OffloadCalls), OffloadNs: f(c.OffloadNs, o.OffloadNs)}
}

// Totals are s's counters but the per-syscall ones. Another CPU may be
// counting in s (a perf event of another thread): each is loaded whole.
func (s *Thread) Totals() Counters {
	load := atomic.LoadUint64
	return Counters{RunNs: load(&s.RunNs), Switches: load(&s.Switches), Migrations: load(&s.Migrations),
		PageFaults: load(&s.PageFaults), FutexWaits: load(&s.FutexWaits), Signals: load(&s.Signals),
		LocalCalls: load(&s.LocalCalls), LocalNs: load(&s.LocalNs), OffloadCalls: load(&s.OffloadCalls),
		OffloadNs: load(&s.OffloadNs)}
}

// SyscallCount are the calls of one system call number, local and
// offloaded.
type SyscallCount struct {
	Nr        int     `json:"nr"`
	Name      string  `json:"name"`
	Local     Syscall `json:"local"`
	Offloaded Syscall `json:"offloaded"`
}

// Zip combines the counts of c and o of the same number field by field
// with f, as Counters.Zip.
func (c SyscallCount) Zip(o SyscallCount, f func(a, b uint64) uint64) SyscallCount {
	c.Nr, c.Name = o.Nr, o.Name
	c.Local = Syscall{Calls: f(c.Local.Calls, o.Local.Calls), Ns: f(c.Local.Ns, o.Local.Ns)}
	c.Offloaded = Syscall{Calls: f(c.Offloaded.Calls, o.Offloaded.Calls), Ns: f(c.Offloaded.Ns, o.Offloaded.Ns)}
	return c
}

// Sum is a + b, for Zip.
func Sum(a, b uint64) uint64 { return a + b }

// ThreadEnded records the counts of a thread of the process that ends;
// sliceNs is the run time of its last slice, not yet in t.RunNs when it
// ends on its CPU.
func (p *Profile) ThreadEnded(tid int, t *Thread, sliceNs uint64) {
	calls := t.Counts()
	totals := t.Totals()
	totals.RunNs += sliceNs
	p.mu.Lock()
	defer p.mu.Unlock()
	p.threads = append(p.threads, ThreadProfile{TID: tid, Syscalls: calls, Counters: totals})
	p.sum.add(t)
	p.sum.RunNs += sliceNs
}

// Report is the profile of process pid once its threads have ended; nil
// when the process was not profiled (p nil).
func (p *Profile) Report(pid int, exe string) *ProfileReport {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return &ProfileReport{PID: pid, Exe: exe, Threads: p.threads,
		Process: ThreadProfile{TID: pid, Syscalls: p.sum.Counts(), Counters: p.sum.Totals()}}
}

// Summary is the one line about the profile that goes to kmsg.
func (p *Profile) Summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%d threads, %d local calls in %v, %d offloaded calls in %v", len(p.threads),
		p.sum.LocalCalls, time.Duration(p.sum.LocalNs), p.sum.OffloadCalls, time.Duration(p.sum.OffloadNs))
}

// Counts lists the system calls s counted, by increasing number.
func (s *Thread) Counts() []SyscallCount {
	var out []SyscallCount
	for w, set := range s.used {
		for ; set != 0; set &= set - 1 {
			nr := w*64 + bits.TrailingZeros64(set)
			out = append(out, SyscallCount{Nr: nr, Name: sysno.Name(uint64(nr)), Local: s.Local[nr], Offloaded: s.Offloaded[nr]})
		}
	}
	return out
}
