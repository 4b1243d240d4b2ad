package stats

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/gomck/gomck/kernel/syscalls/sysno"
)

// MaxSyscall bounds the per-syscall counters: the system call table's
// size (a call past it is counted in the totals only).
const MaxSyscall = sysno.Limit

// Syscall counts the calls of one system call number and their time.
type Syscall struct {
	Calls uint64 `json:"calls"`
	Ns    uint64 `json:"ns"`
}

// Thread are one app thread's counters, bumped by the CPU running it.
// Local calls are served by the LWK; offloaded ones by mcexec, their time
// being the wait for its answer.
type Thread struct {
	LocalCalls, LocalNs     uint64
	OffloadCalls, OffloadNs uint64
	// RunNs is the time the thread held its LWK CPU (app code and local
	// calls, not offload waits): mcps's TIME.
	RunNs uint64
	// Switches counts the times its CPU picked the thread.
	Switches uint64
	// Migrations counts moves to another LWK CPU.
	Migrations uint64
	// PageFaults counts the demand faults the LWK served for it.
	PageFaults uint64
	// FutexWaits counts futex waits that blocked.
	FutexWaits uint64
	// Signals counts signals delivered to it: handlers run.
	Signals   uint64
	Local     [MaxSyscall]Syscall
	Offloaded [MaxSyscall]Syscall
	// used marks the numbers counted in Local or Offloaded (bit nr), so
	// that folding an ended thread reads those entries only: all of them
	// are 15 KiB, a thread's end the cost of a few cache lines instead.
	used [(MaxSyscall + 63) / 64]uint64
}

// Syscall records one system call of ns nanoseconds.
func (s *Thread) Syscall(nr, ns uint64, offloaded bool) {
	if nr < MaxSyscall {
		s.used[nr/64] |= 1 << (nr % 64)
	}
	if offloaded {
		s.OffloadCalls++
		s.OffloadNs += ns
		if nr < MaxSyscall {
			s.Offloaded[nr].Calls++
			s.Offloaded[nr].Ns += ns
		}
		return
	}
	s.LocalCalls++
	s.LocalNs += ns
	if nr < MaxSyscall {
		s.Local[nr].Calls++
		s.Local[nr].Ns += ns
	}
}

// add folds o into s.
func (s *Thread) add(o *Thread) {
	s.LocalCalls += o.LocalCalls
	s.LocalNs += o.LocalNs
	s.OffloadCalls += o.OffloadCalls
	s.OffloadNs += o.OffloadNs
	s.RunNs += o.RunNs
	s.Switches += o.Switches
	s.Migrations += o.Migrations
	s.PageFaults += o.PageFaults
	s.FutexWaits += o.FutexWaits
	s.Signals += o.Signals
	for w, set := range o.used {
		s.used[w] |= set
		for ; set != 0; set &= set - 1 {
			nr := w*64 + bits.TrailingZeros64(set)
			s.Local[nr].Calls += o.Local[nr].Calls
			s.Local[nr].Ns += o.Local[nr].Ns
			s.Offloaded[nr].Calls += o.Offloaded[nr].Calls
			s.Offloaded[nr].Ns += o.Offloaded[nr].Ns
		}
	}
}

// CPU are one LWK CPU's counters, bumped by the CPU itself.
type CPU struct {
	// Switches counts the threads the CPU picked to run.
	Switches uint64
	// IdleNs is the time the CPU slept with nothing to run.
	IdleNs uint64
	// LocalCalls and OffloadCalls count the system calls its threads made.
	LocalCalls, OffloadCalls uint64
	// PageFaults counts the demand faults it served.
	PageFaults uint64
}

// Instance are the counters of the whole OS instance.
type Instance struct {
	// Seq is odd while Ended changes.
	Seq uint64
	// Processes and Threads count those created since boot (a process's
	// first thread among the threads); Forks and Execs the forks and
	// execs made. Any goroutine bumps them, atomically (Created).
	Processes, Threads, Forks, Execs uint64
	// Ended holds the counts of every thread that has ended.
	Ended Thread
	mu    sync.Mutex
}

// Created bumps one of the creation counters.
func Created(n *uint64) { atomic.AddUint64(n, 1) }

// ThreadEnded folds the counts of a thread that ends into Ended.
func (in *Instance) ThreadEnded(t *Thread) {
	in.mu.Lock()
	atomic.AddUint64(&in.Seq, 1)
	in.Ended.add(t)
	atomic.AddUint64(&in.Seq, 1)
	in.mu.Unlock()
}
