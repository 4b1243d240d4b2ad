package perf

import (
	"sync"
	"sync/atomic"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/stubcount"
)

// Event is one open event of a process: what it counts, on which threads
// (or LWK CPU), and its accumulated state. Counts and times are folded in
// at every change of state (Sync): Count, Enabled and Running hold what
// every target counted so far, each target its baseline.
type Event struct {
	FD      int    // the app's descriptor (mcexec's placeholder)
	ID      uint64 // PERF_FORMAT_ID's, unique in the instance
	Type    uint32
	Config  uint64
	Counter Counter
	// Host counts a Linux event (hardware, cache, raw, a host PMU's) on
	// the stub threads that run the targets, for CountHost; nil for the
	// LWK's own events.
	Host       *stubcount.Counter
	Nr         int // the system call a per-syscall counter counts
	ReadFormat uint64
	Leader     *Event // the group's leader; itself when alone
	On         bool   // enabled (ENABLE, attr.disabled clear)
	EnableExec bool   // attr.enable_on_exec, not yet done
	Cloexec    bool
	// Inherit (attr.inherit): the threads and processes a target creates
	// become targets too, their counts summed into the event's, as
	// Linux sums an event's inherited children on read.
	Inherit bool
	// TID is the thread the event was opened on, 0 for a CPU-wide one;
	// CPU is the LWK CPU a CPU-wide event counts (pid -1), else -1.
	TID, CPU int
	// Targets are the threads counted, while they live.
	Targets []Target
	// Owner is the table of the process that opened the event: its Mu
	// guards the event.
	Owner   *Table
	Count   uint64
	Enabled uint64 // ns enabled
	Running uint64 // ns counting: enabled with its leader
}

// Target is one thread an event counts (or its CPU, for a CPU-wide
// event): Base is the counter's value, Stamp the thread's run time (the
// wall clock for a CPU) and Lost its Sample.HostLost at the last Sync.
type Target struct {
	PID, TID int
	// In is the table of the target's process, whose Counting lists the
	// event.
	In      *Table
	Base    uint64
	Stamp   uint64
	Lost    uint64
	Started bool
}

// Counting says the event counts: it and its group's leader are enabled.
func (e *Event) Counting() bool { return e.On && e.Leader.On }

// Sample is a thread's (or an LWK CPU's) counters at one moment. RunNs is
// the clock the event's times follow: the thread's run time, or the wall
// clock for a CPU. Syscall is the counter of the one system call a
// per-syscall event counts; Host the count of a Linux event on the stubs
// (Event.Host), and HostLost the ns of run time Linux did not count it
// (multiplexed with other events on the host's PMU).
type Sample struct {
	RunNs, PageFaults, Switches, Migrations      uint64
	LocalCalls, LocalNs, OffloadCalls, OffloadNs uint64
	FutexWaits, Signals, IdleNs                  uint64
	Syscall                                      uint64
	Host, HostLost                               uint64
}

// SampleOf is the Sample of a thread's (or a run's) totals, for readers
// that have them as kernel/stats.Counters: PAPI's page, mcperf.
func SampleOf(c stats.Counters) Sample {
	return Sample{RunNs: c.RunNs, PageFaults: c.PageFaults, Switches: c.Switches, Migrations: c.Migrations,
		LocalCalls: c.LocalCalls, LocalNs: c.LocalNs, OffloadCalls: c.OffloadCalls, OffloadNs: c.OffloadNs,
		FutexWaits: c.FutexWaits, Signals: c.Signals}
}

// Of is the value of counter c in s.
func (s Sample) Of(c Counter) uint64 {
	switch c {
	case CountRunNs:
		return s.RunNs
	case CountPageFaults:
		return s.PageFaults
	case CountSwitches:
		return s.Switches
	case CountMigrations:
		return s.Migrations
	case CountLocalCalls:
		return s.LocalCalls
	case CountLocalNs:
		return s.LocalNs
	case CountOffloadCalls:
		return s.OffloadCalls
	case CountOffloadNs:
		return s.OffloadNs
	case CountFutexWaits:
		return s.FutexWaits
	case CountSignals:
		return s.Signals
	case CountIdleNs:
		return s.IdleNs
	case CountSyscallLocalCalls, CountSyscallLocalNs, CountSyscallOffloadCalls, CountSyscallOffloadNs:
		return s.Syscall
	case CountHost:
		return s.Host
	}
	return 0
}

// Sync folds what target i of e counted since its last change, now that
// its counters are s; the first Sync of a target only takes the baseline.
// It ran for the time it was counting, less what Linux did not count of a
// Linux event.
func (e *Event) Sync(i int, s Sample) {
	tg := &e.Targets[i]
	ran := s.RunNs - tg.Stamp
	if tg.Started && e.On {
		e.Enabled += ran
	}
	if tg.Started && e.Counting() {
		e.Running += ran - min(ran, s.HostLost-tg.Lost)
		e.Count += s.Of(e.Counter) - tg.Base
	}
	tg.Stamp, tg.Base, tg.Lost, tg.Started = s.RunNs, s.Of(e.Counter), s.HostLost, true
}

// Target returns the index of e's target tid, or -1.
func (e *Event) Target(tid int) int {
	for i, tg := range e.Targets {
		if tg.TID == tid {
			return i
		}
	}
	return -1
}

// Drop forgets target i, once its last counts are folded in.
func (e *Event) Drop(i int) {
	e.Targets = append(e.Targets[:i:i], e.Targets[i+1:]...)
}

// Table are a process's open events, guarded by Mu. N mirrors
// len(Events) for the calls on every descriptor to check without the lock.
// Counting lists the events, the process's or another's, that count its
// threads, guarded by CountingMu: the process's clones, forks, execs and
// thread ends find them there. Lock order: an event's Owner.Mu, then a
// table's CountingMu; never the other way. Hosts counts the Counting
// events with a Host: while it is 0 the switch path has nothing to read.
type Table struct {
	Mu         sync.Mutex
	Events     []*Event
	N          atomic.Int32
	CountingMu sync.Mutex
	Counting   []*Event
	Hosts      atomic.Int32
}

// Watch lists e among the events counting the table's process.
func (tb *Table) Watch(e *Event) {
	tb.CountingMu.Lock()
	defer tb.CountingMu.Unlock()
	for _, o := range tb.Counting {
		if o == e {
			return
		}
	}
	tb.Counting = append(tb.Counting[:len(tb.Counting):len(tb.Counting)], e)
	if e.Host != nil {
		tb.Hosts.Add(1)
	}
}

// Unwatch removes e from the events counting the table's process.
func (tb *Table) Unwatch(e *Event) {
	tb.CountingMu.Lock()
	defer tb.CountingMu.Unlock()
	kept := make([]*Event, 0, len(tb.Counting))
	for _, o := range tb.Counting {
		if o != e {
			kept = append(kept, o)
		}
	}
	if e.Host != nil && len(kept) < len(tb.Counting) {
		tb.Hosts.Add(-1)
	}
	tb.Counting = kept
}

// Watchers returns the events counting the table's process, at this
// moment.
func (tb *Table) Watchers() []*Event {
	tb.CountingMu.Lock()
	defer tb.CountingMu.Unlock()
	return tb.Counting
}

// Lookup finds the event of descriptor fd, with Mu held.
func (tb *Table) Lookup(fd int) *Event {
	for _, e := range tb.Events {
		if e.FD == fd {
			return e
		}
	}
	return nil
}

// Add records e, with Mu held.
func (tb *Table) Add(e *Event) {
	tb.Events = append(tb.Events, e)
	tb.N.Store(int32(len(tb.Events)))
}

// Remove forgets e, with Mu held, and closes its Linux counters; the
// members of a group it led become groups of their own, as on Linux.
func (tb *Table) Remove(e *Event) {
	kept := tb.Events[:0]
	for _, o := range tb.Events {
		if o == e {
			continue
		}
		if o.Leader == e {
			o.Leader = o
		}
		kept = append(kept, o)
	}
	tb.Events = kept
	tb.N.Store(int32(len(kept)))
	for _, tg := range e.Targets {
		tg.In.Unwatch(e)
	}
	if e.Host != nil {
		e.Host.Close()
	}
}

// Group lists the members of leader's group, leader first, with Mu held.
func (tb *Table) Group(leader *Event) []*Event {
	g := []*Event{leader}
	for _, o := range tb.Events {
		if o.Leader == leader && o != leader {
			g = append(g, o)
		}
	}
	return g
}

var lastID atomic.Uint64

// NewID returns an event id never returned before.
func NewID() uint64 { return lastID.Add(1) }
