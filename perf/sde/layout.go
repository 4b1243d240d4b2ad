package sde

import (
	"reflect"
	"sync/atomic"
	"unsafe"

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

// word is where Publish finds an event's count: the offset of its
// counter in a stats.Thread.
type word struct {
	id  int
	off uintptr
}

// words are the events Publish updates (Events), each with the field of
// stats.Thread that perf.SampleOf and Sample.Of take its count from,
// found by setting each field in turn: that mapping stays perf's one
// table, and Publish, at every system call, loads the fields directly
// (5 ns) instead of building a Sample (50 ns).
var words = func() []word {
	var out []word
	typ := reflect.TypeFor[stats.Thread]()
	for _, e := range Events() {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Type.Kind() != reflect.Uint64 {
				continue
			}
			var s stats.Thread
			reflect.ValueOf(&s).Elem().Field(i).SetUint(1)
			if perf.SampleOf(s.Totals()).Of(e.Counter) == 1 {
				out = append(out, word{int(e.ID), f.Offset})
				break
			}
		}
	}
	return out
}()

// Published is what a thread has added to its process's page so far.
type Published [Words]uint64

// Init readies a fresh page (zeroed by the allocator).
func (p *Page) Init() { atomic.StoreUint64(&p[0], Magic) }

// Publish adds to p what s counted since the last Publish of the thread
// (pub). Threads of one process publish from several CPUs at once, hence
// the atomic adds; a word changes only when its count did.
func (p *Page) Publish(s *stats.Thread, pub *Published) {
	base := unsafe.Pointer(s)
	for _, w := range words {
		if v := *(*uint64)(unsafe.Add(base, w.off)); v != pub[w.id] {
			atomic.AddUint64(&p[w.id], v-pub[w.id])
			pub[w.id] = v
		}
	}
}

// Mark makes pub what s has counted so far, so that a new page counts
// from now on.
func Mark(s *stats.Thread, pub *Published) {
	base := unsafe.Pointer(s)
	for _, w := range words {
		pub[w.id] = *(*uint64)(unsafe.Add(base, w.off))
	}
}
