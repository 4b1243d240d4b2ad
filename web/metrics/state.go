package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/stats"
)

// staleScrapes is how many scrapes a series or a process may go unseen
// (a record read as changing, a process gone) before its state is
// forgotten.
const staleScrapes = 10

// instanceState is what the collector remembers of one boot of an
// instance so that its counters only grow (doc.go).
type instanceState struct {
	boot   int64  // lwk.Snapshot.BootTime
	scrape uint64 // this scrape's number
	marks  map[seriesKey]mark
	procs  map[int]*procState // by pid
}

// seriesKey names a series: its metric and its labels but os.
type seriesKey struct {
	desc   *prometheus.Desc
	labels string
}

// mark is a counter series' highest value and the scrape that saw it.
type mark struct {
	value  float64
	scrape uint64
}

// procState is what a process's series add up: the last counts seen of
// each of its live threads, and those of its threads gone.
type procState struct {
	start   int64 // lwk.Process.Start: a new process with the same pid starts over
	scrape  uint64
	threads map[int]threadMark // by tid
	ended   stats.Counters
}

type threadMark struct {
	counts stats.Counters
	scrape uint64
}

func newInstanceState(s *lwk.Snapshot) *instanceState {
	st := &instanceState{marks: map[seriesKey]mark{}, procs: map[int]*procState{}}
	if s != nil {
		st.boot = s.BootTime
	}
	return st
}

// mark is v, or the series' highest value if v is lower.
func (st *instanceState) mark(d *prometheus.Desc, labels []string, v float64) float64 {
	k := seriesKey{d, strings.Join(labels, "\x00")}
	if m, ok := st.marks[k]; ok && m.value > v {
		v = m.value
	}
	st.marks[k] = mark{v, st.scrape}
	return v
}

// process are the counts of p's series: its live threads' and those it
// saw of its threads that have ended.
func (st *instanceState) process(p lwk.Process) stats.Counters {
	ps := st.procs[p.PID]
	if ps == nil || ps.start != p.Start {
		ps = &procState{start: p.Start, threads: map[int]threadMark{}}
		st.procs[p.PID] = ps
	}
	ps.scrape = st.scrape
	for _, t := range p.Threads {
		c := threadCounters(t)
		if old, ok := ps.threads[t.TID]; ok && restarted(old.counts, c) {
			ps.ended = ps.ended.Zip(old.counts, stats.Sum) // the tid is a new thread's
		}
		ps.threads[t.TID] = threadMark{c, st.scrape}
	}
	sum := ps.ended
	for tid, t := range ps.threads {
		if t.scrape != st.scrape { // ended since the last scrape
			ps.ended = ps.ended.Zip(t.counts, stats.Sum)
			delete(ps.threads, tid)
		}
		sum = sum.Zip(t.counts, stats.Sum)
	}
	return sum
}

// restarted says counts b cannot follow counts a of the same thread.
func restarted(a, b stats.Counters) bool {
	return b.RunNs < a.RunNs || b.LocalCalls < a.LocalCalls || b.OffloadCalls < a.OffloadCalls
}

// forgetStale drops the state of series and processes unseen for
// staleScrapes scrapes.
func (st *instanceState) forgetStale() {
	stale := func(scrape uint64) bool { return st.scrape-scrape > staleScrapes }
	for k, m := range st.marks {
		if stale(m.scrape) {
			delete(st.marks, k)
		}
	}
	for pid, p := range st.procs {
		if stale(p.scrape) {
			delete(st.procs, pid)
		}
	}
}
