package lwk

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/layout"
	"github.com/gomck/gomck/inspect/value"
	"github.com/gomck/gomck/kernel/kmsg"
	"github.com/gomck/gomck/kernel/lwkabi"
)

// InstanceVar is the kernel's root variable; Roots is every variable the
// layout must describe.
const InstanceVar = "github.com/gomck/gomck/kernel.Instance"

// Roots are the variables inspect/ reads.
var Roots = []string{InstanceVar}

// What says which parts to read besides CPUs, processes, threads and the
// allocator.
type What struct {
	VMAs    bool // segments of every VMA (RSS and VSZ are always read)
	IKC     bool
	Kmsg    bool
	Regs    bool
	FP      bool // each thread's saved XSAVE area (Thread.FPState)
	Auxv    bool // each process's auxiliary vector
	Pending bool // each thread's pending signals
	// Syscalls: each thread's per-syscall counts (Thread.Syscalls) and
	// the ended threads' (Stats.EndedSyscalls).
	Syscalls bool
}

// Tries is how often a changing record is re-read from a live daemon
// before it is marked changing.
const Tries = 8

// Read decodes the instance's state from t with layout l.
func Read(t *inspect.Target, l *layout.Layout, what What) (*Snapshot, error) {
	return read(t, l, what, value.DefaultBudget)
}

// read is Read within budget (value.Reader.Budget).
func read(t *inspect.Target, l *layout.Layout, what What, budget int64) (*Snapshot, error) {
	r := &value.Reader{Mem: t.Mem, Layout: l, Bias: t.Bias, Tries: 1, Budget: budget}
	if t.Live {
		r.Tries = Tries
	}
	d := &decoder{r: r, what: what, s: &Snapshot{Source: t.Source, DaemonPID: t.PID, Live: t.Live}}
	inst := r.Var(InstanceVar)
	if inst.Nil() {
		if err := r.Take(); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Source, err)
		}
		return nil, fmt.Errorf("%s: the instance is not booted yet (kernel.Instance is nil)", t.Source)
	}
	var cpus, procs []value.Value
	var table, alloc, ring value.Value
	err := r.Stable(inst.Deref(), func(os value.Value) {
		d.s.Index = int(os.Field("Index").Int())
		d.s.State = os.Field("State").Str()
		d.s.BootTime = os.Field("BootTime").Int()
		mem := os.Field("Mem")
		d.s.MemTotal, d.s.Direct = mem.Field("Size").Uint(), mem.Field("Direct").Data()
		cpus = os.Field("CPUs").Elems()
		table, alloc, ring = os.Field("Procs"), os.Field("Alloc"), os.Field("Kmsg")
	})
	if err != nil {
		if errors.Is(err, inspect.ErrGone) {
			return nil, fmt.Errorf("%s: %w", t.Source, err)
		}
		return nil, fmt.Errorf("%s: instance record: %w", t.Source, err)
	}
	// The ended threads' sums before the threads: the kernel folds a
	// thread's counts into them before it drops the thread, so a thread
	// that ends during the read is then counted once, or for one read
	// not at all (sums over the threads and the ended, read after them,
	// would count it twice: a spike in the rates, in Prometheus's
	// counters a step that stays).
	d.s.Stats = d.stats(inst.Deref().Field("Stats"))
	for _, c := range cpus {
		if c, ok := d.cpu(c); ok {
			d.s.CPUs = append(d.s.CPUs, c)
		}
	}
	if err := r.Stable(table.Deref(), func(tb value.Value) { procs = tb.Field("Procs").Elems() }); err != nil {
		d.fail("process table", err)
	}
	for _, p := range procs {
		if p, ok := d.process(p); ok {
			d.s.Procs = append(d.s.Procs, p)
		}
	}
	d.s.Alloc = d.alloc(alloc)
	if what.Kmsg {
		d.kmsg(ring)
	}
	d.markCurrent()
	if d.dropped > 0 {
		d.s.Errors = append(d.s.Errors, fmt.Sprintf("and %d more errors", d.dropped))
	}
	return d.s, nil
}

// maxErrors bounds the errors a snapshot lists: a table of garbage
// pointers fails once per entry, up to a million times.
const maxErrors = 32

type decoder struct {
	r       *value.Reader
	what    What
	s       *Snapshot
	dropped int // errors past maxErrors
}

func (d *decoder) fail(what string, err error) {
	if len(d.s.Errors) == maxErrors {
		d.dropped++
		return
	}
	d.s.Errors = append(d.s.Errors, fmt.Sprintf("%s: %v", what, err))
}

// stable reads a record; it reports whether the record kept changing,
// and whether it was read (neither changing nor failed, failures noted in
// the snapshot): only then did read see all of it.
func (d *decoder) stable(what string, rec value.Value, read func(value.Value), fields ...string) (changing, ok bool) {
	err := d.r.Stable(rec, read, fields...)
	if errors.Is(err, value.ErrChanging) {
		return true, false
	}
	if err != nil {
		d.fail(what, err)
	}
	return false, err == nil
}

func tids(threads []value.Value) []int {
	out := make([]int, 0, len(threads))
	for _, t := range threads {
		out = append(out, int(t.Field("TID").Int()))
	}
	return out
}

// cpu reads a CPU record; false if it could not be read (noted in the
// snapshot), rather than a CPU of zeros.
func (d *decoder) cpu(ptr value.Value) (CPU, bool) {
	var c CPU
	var queue value.Value
	var ok bool
	c.Changing, ok = d.stable("cpu", ptr.Deref(), func(v value.Value) {
		c.Index, c.Host = int(v.Field("Index").Int()), int(v.Field("Host").Int())
		c.State = v.Field("State").Str()
		st := v.Field("Stats")
		c.Switches, c.IdleNs = st.Field("Switches").Uint(), st.Field("IdleNs").Uint()
		c.LocalCalls, c.OffloadCalls = st.Field("LocalCalls").Uint(), st.Field("OffloadCalls").Uint()
		c.PageFaults = st.Field("PageFaults").Uint()
		if cur := v.Field("Current"); !cur.Nil() {
			c.Current = int(cur.Field("TID").Int())
		}
		if _, ok := v.T.Field("Since"); ok { // older daemons lack it
			c.Since = v.Field("Since").Int()
		}
		if _, ok := v.T.Field("IdleSince"); ok { // older daemons lack it
			c.IdleSince = v.Field("IdleSince").Int()
		}
		queue = v.Field("Queue")
	})
	if !ok {
		return c, c.Changing
	}
	if changing, _ := d.stable(fmt.Sprintf("cpu %d run queue", c.Index), queue.Deref(), func(q value.Value) {
		c.Runnable = tids(q.Field("Runnable").Elems())
		c.Sleepers = tids(q.Field("Sleepers").Elems())
		c.Blocked = int(q.Field("Blocked").Int())
	}); changing {
		c.Changing = true
	}
	return c, true
}

// process reads a process record and what it points to; false if the
// record could not be read (noted in the snapshot).
func (d *decoder) process(ptr value.Value) (Process, bool) {
	var p Process
	var threads []value.Value
	var as, ch value.Value
	var ok bool
	p.Changing, ok = d.stable("process", ptr.Deref(), func(v value.Value) {
		p.PID, p.PPID = int(v.Field("PID").Int()), int(v.Field("PPID").Int())
		p.PGID, p.SID = int(v.Field("PGID").Int()), int(v.Field("SID").Int())
		p.ProxyPID, p.Home = int(v.Field("ProxyPID").Int()), int(v.Field("Home").Int())
		p.Exe, p.Start = v.Field("Exe").Str(), v.Field("Start").Int()
		p.Args = nil
		for _, a := range v.Field("Args").Elems() {
			p.Args = append(p.Args, a.Str())
		}
		p.Stopped, p.Exited = v.Field("Stopped").Bool(), v.Field("Exited").Bool()
		if stub := v.Field("Stub"); !stub.Nil() {
			p.StubPID = int(stub.Field("PID").Int())
		}
		threads = v.Field("Threads").Elems()
		as, ch = v.Field("MM"), v.Field("Chan")
		if d.what.Auxv {
			p.Auxv = auxv(v.Field("Auxv"))
		}
	})
	if !ok {
		return p, p.Changing
	}
	p.Addr, p.MMAddr = ptr.Uint(), as.Uint()
	p.Threads = d.threads(threads, p.Stopped)
	for i := range p.Threads {
		p.Threads[i].PID = p.PID
	}
	if !as.Nil() {
		d.addressSpace(&p, as)
	}
	if d.what.IKC && !ch.Nil() {
		p.IKC = d.ikc(ch)
	}
	return p, true
}

// threadFields are what thread reads of a thread record; the rest of it,
// 25 KiB of per-syscall counters and siginfo slots, is left in memory.
var threadFields = append([]string{"TID", "CPU", "State", "Syscall"}, counterFields...)

// counterFields are a thread's counters, read by counters.
var counterFields = []string{"Stats.LocalCalls", "Stats.LocalNs", "Stats.OffloadCalls", "Stats.OffloadNs",
	"Stats.RunNs", "Stats.Switches", "Stats.Migrations", "Stats.PageFaults", "Stats.FutexWaits", "Stats.Signals"}

// counters reads a kernel/stats.Thread record st into t.
func (t *Thread) counters(st value.Value) {
	t.LocalCalls, t.LocalNs = st.Field("LocalCalls").Uint(), st.Field("LocalNs").Uint()
	t.OffloadCalls, t.OffloadNs = st.Field("OffloadCalls").Uint(), st.Field("OffloadNs").Uint()
	t.RunNs, t.Switches = st.Field("RunNs").Uint(), st.Field("Switches").Uint()
	t.Migrations, t.PageFaults = st.Field("Migrations").Uint(), st.Field("PageFaults").Uint()
	t.FutexWaits, t.Signals = st.Field("FutexWaits").Uint(), st.Field("Signals").Uint()
}

// threads reads the thread records that ptrs point to, together, of a
// process that is stopped or not.
func (d *decoder) threads(ptrs []value.Value, stopped bool) []Thread {
	if len(ptrs) == 0 {
		return nil
	}
	recs := make([]value.Value, len(ptrs))
	for i, p := range ptrs {
		recs[i] = p.Deref()
	}
	fields := slices.Clone(threadFields)
	for _, f := range []struct {
		asked bool
		name  string
	}{{d.what.Regs, "Regs"}, {d.what.FP, "FPState"}, {d.what.Pending, "Pending"}} {
		if f.asked {
			fields = append(fields, f.name)
		}
	}
	fields = append(fields, d.syscallFields("Stats.used")...)
	out := make([]Thread, len(recs))
	used := make([]syscallsUsed, len(recs))
	errs := d.r.StableAll(recs, func(i int, v value.Value) {
		t := &out[i]
		t.Addr = v.Addr
		t.TID, t.CPU = int(v.Field("TID").Int()), int(v.Field("CPU").Int())
		state := lwkabi.ThreadState(v.Field("State").Uint()).Shown(stopped)
		t.State, t.Why = string(state.Letter()), state.String()
		t.Syscall = v.Field("Syscall").Int()
		st := v.Field("Stats")
		t.counters(st)
		if d.what.Regs {
			t.Regs = map[string]uint64{}
			regs := v.Field("Regs")
			for _, f := range regs.T.Fields {
				t.Regs[f.Name] = regs.Field(f.Name).Uint()
			}
		}
		if d.what.FP {
			t.FPState = []byte(v.Field("FPState").Str())
		}
		if d.what.Pending {
			t.Pending = v.Field("Pending").Uint()
		}
		if d.what.Syscalls {
			used[i] = usedOf(st)
		}
	}, fields...)
	if d.what.Syscalls {
		for i, err := range errs {
			switch {
			case errors.Is(err, value.ErrChanging): // counted anyway, as below
				used[i] = usedOf(recs[i].Unread().Field("Stats"))
			case err != nil:
				used[i] = syscallsUsed{}
			}
		}
		for i, counts := range d.syscalls(used) {
			out[i].Syscalls = counts
		}
	}
	read := out[:0] // those that could be read, or are marked changing
	for i, err := range errs {
		t := out[i]
		switch {
		case errors.Is(err, value.ErrChanging):
			// The counters are not under the record's sequence counter
			// (kernel/stats): a thread busy in system calls, its record
			// changing at each, still counts, so that sums over threads
			// (mcperf stat -a, rates) do not lose it for a read.
			t = Thread{Changing: true, TID: int(recs[i].Unread().Field("TID").Int()), Syscalls: t.Syscalls}
			t.counters(recs[i].Unread().Gather(counterFields...).Field("Stats"))
		case err != nil:
			d.fail("thread", err)
			continue
		case t.Syscall >= 0:
			t.SyscallName = SyscallName(t.Syscall)
		}
		read = append(read, t)
	}
	return read
}

func (d *decoder) addressSpace(p *Process, ptr value.Value) {
	var vmas []VMA
	var ok bool
	p.MMChanging, ok = d.stable(fmt.Sprintf("pid %d address space", p.PID), ptr.Deref(), func(as value.Value) {
		p.Brk, p.Faults = as.Field("Brk").Uint(), as.Field("Faults").Uint()
		vmas = vmas[:0]
		// A process has a VMA or two per thread stack: the records, then
		// their segment arrays, are read in one call each.
		var recs, segs []value.Value
		for _, vp := range as.Field("VMAs").Elems() {
			recs = append(recs, vp.Deref())
		}
		recs = d.r.LoadAll(recs)
		for _, v := range recs {
			segs = append(segs, v.Field("Segs").Array())
		}
		segs = d.r.LoadAll(segs)
		for i, v := range recs {
			vma := VMA{Addr: v.Addr, Start: v.Field("Start").Uint(), End: v.Field("End").Uint(),
				Prot: int(v.Field("Prot").Int()), Flags: int(v.Field("Flags").Int()),
				Kind:    lwkabi.Kind(v.Field("Kind").Uint()).String(),
				FileOff: v.Field("FileOff").Uint(), Shared: !v.Field("Shared").Nil()}
			if d.what.VMAs { // only --maps shows names: a read each
				vma.Name = v.Field("Name").Str()
			}
			for _, s := range segs[i].Each() {
				vma.Segs = append(vma.Segs, Segment{VA: s.Field("VA").Uint(), Len: s.Field("Len").Uint(), Off: s.Field("Off").Uint()})
			}
			vmas = append(vmas, vma)
		}
	})
	if !ok {
		return
	}
	for _, v := range vmas {
		p.RSS += v.Populated()
		p.VSZ += v.End - v.Start
	}
	if d.what.VMAs {
		p.VMAs = vmas
	}
}

func (d *decoder) ikc(ptr value.Value) *IKC {
	ch := ptr.Deref()
	hdr := ch.Field("hdr")
	if hdr.Nil() {
		return nil // closed
	}
	h := hdr.Deref().Load()
	k := &IKC{Requests: h.Field("Requests").Uint(), Sleeping: uint32(h.Field("Workers").Uint()),
		Aborted: h.Field("Aborted").Bool(), LogHead: h.Field("LogHead").Uint(), LogApplied: h.Field("LogApplied").Uint()}
	if slots := ch.Field("slots"); !slots.Nil() {
		k.Queued = d.requests(slots.Deref())
	}
	if err := d.r.Take(); err != nil {
		d.fail("ikc channel", err)
	}
	return k
}

// requests reads the occupied slots of an IKC channel. The LWK writes a
// request into its thread's slot only while the slot is free, and then
// bumps its Seq and posts it; so a slot whose State and Seq read the same
// in a second snapshot was not rewritten between the two. The snapshots
// are taken again while a slot differs; one that keeps changing is shown
// as such, from the second.
func (d *decoder) requests(slots value.Value) []Request {
	const tries = 4
	a, b := slots.Elems(), slots.Elems()
	for try := 2; try < tries && !sameSlots(a, b); try++ {
		a, b = b, slots.Elems()
	}
	var out []Request
	for i, s := range b {
		state := s.Field("State").Uint()
		if state == 0 {
			continue
		}
		req := Request{Slot: i, State: ikc.SlotStateName(uint32(state)), Nr: s.Field("Nr").Uint(), TID: int(s.Field("TID").Uint()),
			Worker: int(s.Field("Worker").Uint()), Seq: s.Field("Seq").Uint(), Changing: i >= len(a) || !sameSlot(a[i], s)}
		for _, a := range s.Field("Args").Elems() {
			req.Args = append(req.Args, a.Uint())
		}
		req.Name = SyscallName(int64(req.Nr))
		out = append(out, req)
	}
	return out
}

func sameSlots(a, b []value.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameSlot(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameSlot(a, b value.Value) bool {
	return a.Field("State").Uint() == b.Field("State").Uint() && a.Field("Seq").Uint() == b.Field("Seq").Uint()
}

func (d *decoder) alloc(ptr value.Value) Alloc {
	var a Alloc
	a.Changing, _ = d.stable("page allocator", ptr.Deref(), func(v value.Value) {
		a.Pages, a.Free = v.Field("Pages").Uint(), v.Field("Free").Uint()
		a.Allocs, a.Fails = v.Field("Allocs").Uint(), v.Field("Fails").Uint()
		runs := v.Field("Runs").Elems()
		a.Runs, a.Largest = len(runs), 0
		for _, r := range runs {
			a.Largest = max(a.Largest, r.Field("Pages").Uint())
		}
		a.Nodes = a.Nodes[:0]
		for _, n := range v.Field("Nodes").Elems() {
			a.Nodes = append(a.Nodes, Node{Node: int(n.Field("Node").Int()), Start: n.Field("Start").Uint(),
				Pages: n.Field("Pages").Uint(), Free: n.Field("Free").Uint()})
		}
	})
	return a
}

// stats reads the instance's counters, from memory rather than from the
// instance record read above: they change under their own sequence
// counter.
func (d *decoder) stats(v value.Value) Stats {
	var s Stats
	s.Changing, _ = d.stable("instance counters", v, func(v value.Value) {
		s.Processes, s.Threads = v.Field("Processes").Uint(), v.Field("Threads").Uint()
		s.Forks, s.Execs = v.Field("Forks").Uint(), v.Field("Execs").Uint()
		e := v.Field("Ended")
		s.EndedLocalCalls, s.EndedOffloadCalls = e.Field("LocalCalls").Uint(), e.Field("OffloadCalls").Uint()
		s.EndedLocalNs, s.EndedOffloadNs = e.Field("LocalNs").Uint(), e.Field("OffloadNs").Uint()
		s.EndedRunNs, s.EndedSwitches = e.Field("RunNs").Uint(), e.Field("Switches").Uint()
		s.EndedMigrations, s.EndedPageFaults = e.Field("Migrations").Uint(), e.Field("PageFaults").Uint()
		s.EndedFutexWaits, s.EndedSignals = e.Field("FutexWaits").Uint(), e.Field("Signals").Uint()
		if d.what.Syscalls {
			// Read under the instance's sequence counter, as the totals.
			s.EndedSyscalls = d.syscalls([]syscallsUsed{usedOf(e)})[0]
		}
	}, append(slices.Clip(endedFields), d.syscallFields("Ended.used")...)...)
	return s
}

// syscallFields is field, when the snapshot reads per-syscall counts.
func (d *decoder) syscallFields(field string) []string {
	if d.what.Syscalls {
		return []string{field}
	}
	return nil
}

// endedFields are the instance counters read together.
var endedFields = []string{"Processes", "Threads", "Forks", "Execs", "Ended.LocalCalls", "Ended.OffloadCalls", "Ended.LocalNs",
	"Ended.OffloadNs", "Ended.RunNs", "Ended.Switches", "Ended.Migrations", "Ended.PageFaults",
	"Ended.FutexWaits", "Ended.Signals"}

func (d *decoder) kmsg(ptr value.Value) {
	if changing, _ := d.stable("kmsg ring", ptr.Deref(), func(v value.Value) {
		d.s.KmsgHead = v.Field("Head").Uint()
		d.s.Kmsg = kmsg.Decode(v.Field("Buf").Raw(), d.s.KmsgHead)
	}); changing {
		d.s.Kmsg = "(changing)\n"
	}
}

// markCurrent flags each CPU's current thread and, live, charges it the
// time it has run since it was picked.
func (d *decoder) markCurrent() {
	var now unix.Timespec
	live := d.s.Live && unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) == nil
	current := map[int]CPU{}
	for _, c := range d.s.CPUs {
		if c.Current != 0 {
			current[c.Current] = c
		}
	}
	for i := range d.s.Procs {
		for j := range d.s.Procs[i].Threads {
			t := &d.s.Procs[i].Threads[j]
			if c, ok := current[t.TID]; ok && c.Index == t.CPU {
				t.Current = true
				if live && c.Since > 0 && now.Nano() > c.Since {
					t.RunNs += uint64(now.Nano() - c.Since)
				}
			}
		}
	}
}
