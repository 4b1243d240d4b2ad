package perf

import (
	"sync"
	"sync/atomic"
)

// Event is one open event of a process: what it counts, on which thread,
// and its accumulated state. Counts and times are folded in at every change
// of state (Sync): Count, Enabled and Running hold what was counted up to
// Stamp (the thread's run time then) and Base the counter's value then.
type Event struct {
	FD         int    // the app's descriptor (mcexec's placeholder)
	ID         uint64 // PERF_FORMAT_ID's, unique in the instance
	Config     uint64
	Counter    Counter
	TID        int // the thread counted
	ReadFormat uint64
	Leader     *Event // the group's leader; itself when alone
	On         bool   // enabled (ENABLE, attr.disabled clear)
	EnableExec bool   // attr.enable_on_exec, not yet done
	Cloexec    bool
	Count      uint64
	Enabled    uint64 // ns enabled
	Running    uint64 // ns counting: enabled with its leader
	Base       uint64
	Stamp      uint64
	Started    bool // Base and Stamp are set
}

// Counting says the event counts: it and its group's leader are enabled.
func (e *Event) Counting() bool { return e.On && e.Leader.On }

// Sample is a thread's counters at one moment.
type Sample struct {
	RunNs, PageFaults, Switches, Migrations uint64
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
	}
	return 0
}

// Sync folds what e counted since its last change, now that its thread's
// counters are s; the first Sync, at open, only takes the baseline.
func (e *Event) Sync(s Sample) {
	if e.Started && e.On {
		e.Enabled += s.RunNs - e.Stamp
	}
	if e.Started && e.Counting() {
		e.Running += s.RunNs - e.Stamp
		e.Count += s.Of(e.Counter) - e.Base
	}
	e.Stamp, e.Base, e.Started = s.RunNs, s.Of(e.Counter), true
}

// Table are a process's open events, guarded by Mu. N mirrors
// len(Events) for the calls on every descriptor to check without the lock.
type Table struct {
	Mu     sync.Mutex
	Events []*Event
	N      atomic.Int32
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

// Remove forgets e, with Mu held; the members of a group it led become
// groups of their own, as on Linux.
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
