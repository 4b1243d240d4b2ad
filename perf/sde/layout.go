package sde

import (
	"sync/atomic"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/perf"
)

// AuxCounters is the auxv type whose value is the counters page's address
// (a number no Linux AT_ uses; getauxval finds any type).
const AuxCounters = 0x4c574b01

// Magic is the page's first word ("LWKSDE1").
const Magic = 0x0031454453_4b574c

// Words is the page's size in 64-bit words: word 0 is Magic, word ID the
// process total of the event ID.
const Words = 16

// PageName is how the counters page is named in the kernel's VMA list.
const PageName = "[lwk_counters]"

// Page is the counters page, as the kernel's direct map holds it.
type Page [Words]uint64

// Events are the LWK events the page carries: the per-thread ones that
// are not per system call (idle_ns belongs to a CPU, not a process).
func Events() []perf.LWKEvent {
	var out []perf.LWKEvent
	for _, e := range perf.LWKEvents {
		if !e.PerSyscall && !e.CPUOnly && e.ID < Words {
			out = append(out, e)
		}
	}
	return out
}

// events are the events Publish updates (Events).
var events = Events()

// Published is what a thread has added to its process's page so far.
type Published [Words]uint64

// Init readies a fresh page (zeroed by the allocator).
func (p *Page) Init() { atomic.StoreUint64(&p[0], Magic) }

// Publish adds to p what s counted since the last Publish of the thread
// (pub). Threads of one process publish from several CPUs at once, hence
// the atomic adds; a word changes only when its count did.
func (p *Page) Publish(s *stats.Thread, pub *Published) {
	now := perf.SampleOf(s.Totals())
	for _, e := range events {
		if v := now.Of(e.Counter); v != pub[e.ID] {
			atomic.AddUint64(&p[e.ID], v-pub[e.ID])
			pub[e.ID] = v
		}
	}
}

// Mark makes pub what s has counted so far, so that a new page counts
// from now on.
func Mark(s *stats.Thread, pub *Published) {
	now := perf.SampleOf(s.Totals())
	for _, e := range events {
		pub[e.ID] = now.Of(e.Counter)
	}
}
