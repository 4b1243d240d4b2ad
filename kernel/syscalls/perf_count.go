package syscalls

import (
	"fmt"
	"sync/atomic"

	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
	"github.com/gomck/gomck/perf"
)

// What perf events count: their targets' counters, folded in at every
// change (settle), at a target thread's end (PerfThreadEnded), and
// extended by inherit to the threads and processes a target creates
// (perfCloned); a Linux event's counter is the sum of its stub counter's
// deltas over the thread's runs (PerfLoad, PerfUnload). A process's perf.Table lists in Counting the events that
// count its threads, wherever they were opened, so that its clones, forks,
// execs and ends find them.

// settle folds into events what they counted since their last change,
// from their targets' counters; the calling thread's run time includes
// the slice it is in.
func settle(c *Call, events []*perf.Event) {
	for _, e := range events {
		if e.CPU >= 0 {
			e.Sync(0, cpuSample(c.Env.Kernel.CPUStats(e.CPU)))
			continue
		}
		for i, tg := range e.Targets {
			t := targetThread(c, tg)
			if t == nil {
				continue // ending: PerfThreadEnded folds its last counts
			}
			var slice uint64
			if t == c.T {
				slice = c.Env.Kernel.SliceNs(t)
			}
			e.Sync(i, threadSample(t, slice, e))
		}
	}
}

// targetThread finds the live thread tg names.
func targetThread(c *Call, tg perf.Target) *task.Thread {
	if tg.PID == c.T.Proc.PID {
		return ownThread(c, tg.TID)
	}
	if t := c.Env.Kernel.FindThread(tg.TID); t != nil && t.Proc.PID == tg.PID {
		return t
	}
	return nil
}

// threadSample reads t's counters, sliceNs being its run time not yet in
// them, and the one system call e counts if it counts one.
func threadSample(t *task.Thread, sliceNs uint64, e *perf.Event) perf.Sample {
	s := &t.Stats
	load := atomic.LoadUint64
	out := perf.SampleOf(s.Totals())
	out.RunNs += sliceNs
	switch e.Counter {
	case perf.CountSyscallLocalCalls:
		out.Syscall = load(&s.Local[e.Nr].Calls)
	case perf.CountSyscallLocalNs:
		out.Syscall = load(&s.Local[e.Nr].Ns)
	case perf.CountSyscallOffloadCalls:
		out.Syscall = load(&s.Offloaded[e.Nr].Calls)
	case perf.CountSyscallOffloadNs:
		out.Syscall = load(&s.Offloaded[e.Nr].Ns)
	case perf.CountHost:
		out.Host, out.HostLost = e.Host.Read(t.TID)
	}
	return out
}

// cpuSample reads an LWK CPU's counters; a CPU-wide event's times follow
// the wall clock, as Linux's do.
func cpuSample(s *stats.CPU) perf.Sample {
	load := atomic.LoadUint64
	return perf.Sample{RunNs: uint64(sched.Now()), Switches: load(&s.Switches), IdleNs: load(&s.IdleNs),
		LocalCalls: load(&s.LocalCalls), OffloadCalls: load(&s.OffloadCalls), PageFaults: load(&s.PageFaults)}
}

// PerfThreadEnded folds into the events counting t what they counted until
// its end, sliceNs being its run time not yet in its counters, and drops
// it from their targets; the kernel calls it on t's CPU before t leaves
// its process.
func PerfThreadEnded(t *task.Thread, sliceNs uint64) {
	for _, e := range t.Proc.Perf.Watchers() {
		e.Owner.Mu.Lock()
		if i := e.Target(t.TID); i >= 0 {
			e.Sync(i, threadSample(t, sliceNs, e))
			e.Drop(i)
			if e.Host != nil {
				e.Host.Forget(t.TID)
			}
		}
		e.Owner.Mu.Unlock()
	}
}

// perfCloned makes child, a thread or a forked process's first thread
// that parent just created, a target of the inherit events counting
// parent, before child can run. Its counters start at zero: so does its
// share.
func perfCloned(parent, child *task.Thread) {
	for _, e := range parent.Proc.Perf.Watchers() {
		if !e.Inherit {
			continue
		}
		e.Owner.Mu.Lock()
		if e.Target(parent.TID) >= 0 && e.Target(child.TID) < 0 {
			in := &child.Proc.Perf
			e.Targets = append(e.Targets, perf.Target{PID: child.Proc.PID, TID: child.TID, In: in, Started: true})
			if e.Host != nil {
				e.Host.Watch(child.TID)
			}
			in.Watch(e)
		}
		e.Owner.Mu.Unlock()
	}
}

// perfExec applies an exec to the process's events: close-on-exec ones
// go (mcexec closes their placeholders), and the enable_on_exec ones
// counting the thread that execs start, whoever opened them (perf stat
// opens them on its child before the child execs the program).
func perfExec(c *Call) {
	tb := &c.T.Proc.Perf
	if tb.N.Load() != 0 {
		tb.Mu.Lock()
		for _, e := range append([]*perf.Event(nil), tb.Events...) {
			if e.Cloexec {
				settle(c, tb.Group(e.Leader))
				tb.Remove(e)
			}
		}
		tb.Mu.Unlock()
	}
	for _, e := range tb.Watchers() {
		e.Owner.Mu.Lock()
		if e.EnableExec && e.Target(c.T.TID) >= 0 {
			settle(c, e.Owner.Group(e.Leader))
			e.On, e.EnableExec = true, false
		}
		e.Owner.Mu.Unlock()
	}
}

// PerfProcessEnded forgets the events p opened, once its threads have
// ended: their descriptors went with it, and the Linux counters of its
// Linux events close.
func PerfProcessEnded(p *task.Process) {
	tb := &p.Perf
	if tb.N.Load() == 0 {
		return
	}
	tb.Mu.Lock()
	defer tb.Mu.Unlock()
	for _, e := range append([]*perf.Event(nil), tb.Events...) {
		tb.Remove(e)
	}
}

// PerfLoad starts a run of t in stub thread stubTID for the Linux events
// counting t; the kernel calls it when it loads t into the stub, and
// PerfUnload when it takes t off, while t's process has such events
// (perf.Table.Hosts). An error says Linux refused an event on this stub.
func PerfLoad(t *task.Thread, stubTID int) error {
	var first error
	for _, e := range t.Proc.Perf.Watchers() {
		if e.Host == nil {
			continue
		}
		if err := e.Host.Begin(t.TID, stubTID); err != nil && first == nil {
			first = fmt.Errorf("perf event %d on stub %d: %w", e.ID, stubTID, err)
		}
	}
	return first
}

// PerfUnload ends t's run in its stub for the Linux events counting it.
func PerfUnload(t *task.Thread) error {
	var first error
	for _, e := range t.Proc.Perf.Watchers() {
		if e.Host == nil {
			continue
		}
		if err := e.Host.End(t.TID); err != nil && first == nil {
			first = fmt.Errorf("perf event %d: %w", e.ID, err)
		}
	}
	return first
}
