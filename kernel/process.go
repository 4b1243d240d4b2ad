package kernel

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/elf"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/syscalls"
	"github.com/gomck/gomck/kernel/task"
)

// Layout of every app address space inside the window.
const (
	stackTop  = ikc.WindowEnd - 0x1000_0000
	stackSize = 8 << 20
	// stackPremap is populated at exec (McKernel's mcexec -s premap).
	stackPremap = 256 << 10
	mmapTop     = stackTop - stackSize - 0x1000_0000
)

// mirror applies address-space changes to the stub and logs them for the
// mcexec mirror. A change is injected through the process's stub thread on
// the CPU making it: every ptrace request must come from that stub
// thread's tracer, and one mmap serves all the stub process's threads.
type mirror struct {
	k  *OS
	p  *task.Process
	ch *ikc.Channel
	// attaching is set while a forked address space is attached: its
	// proxy maps that snapshot from the attach reply, so nothing is
	// logged; and the stub's page tables are left to fill on first touch,
	// as a forked child touches little of what it inherits before it
	// execs or exits.
	attaching bool
}

// here returns the CPU making the change and its stub thread.
func (m *mirror) here() (*CPU, *task.Context, error) {
	c := m.k.here()
	if c == nil {
		return nil, nil, fmt.Errorf("pid %d: address space changed off the LWK CPUs (thread %d)", m.p.PID, unix.Gettid())
	}
	s := m.p.StubOn(c.Index)
	if s == nil || !s.Attached() {
		return nil, nil, fmt.Errorf("pid %d: address space changed on cpu %d, where it has no stub thread (%v)", m.p.PID, c.Index, s != nil)
	}
	return c, s, nil
}

func (m *mirror) log(c *CPU, e ikc.LogEntry) {
	if m.attaching {
		return
	}
	if m.ch.LogFull() {
		m.sync(c)
	}
	m.ch.AppendLog(e)
}

// sync makes mcexec replay the mapping log (when its ring is full), in
// the slot of the thread whose call changes the mappings: its own slot is
// free, while other threads' may hold parked calls. Without a current
// thread (process set-up) no call is in flight.
func (m *mirror) sync(c *CPU) {
	slot, tid := 0, 0
	if t := c.Current; t != nil {
		slot, tid = t.Slot, t.TID
	}
	m.ch.Post(slot, ikc.NrSync, [6]uint64{}, 0, uint64(tid))
	m.ch.Wait(slot, 0)
}

func (m *mirror) Map(va, length, off uint64, prot int) error {
	c, s, err := m.here()
	if err != nil {
		return err
	}
	if err := s.Map(va, length, off, prot, !m.attaching); err != nil {
		return err
	}
	m.log(c, ikc.LogEntry{VA: va, Len: length, Off: off, Prot: uint64(prot)})
	return nil
}

// MapAll maps a forked address space's segments with one stop of the
// stub (mm.BatchMapper), unpopulated as Map does while attaching.
func (m *mirror) MapAll(segs []mm.MappedSegment) error {
	c, s, err := m.here()
	if err != nil {
		return err
	}
	ms := make([]platform.Mapping, len(segs))
	for i, seg := range segs {
		ms[i] = platform.Mapping{VA: seg.VA, Len: seg.Len, Off: seg.Off, Prot: seg.Prot}
	}
	if err := s.MapAll(ms); err != nil {
		return err
	}
	for _, seg := range segs {
		m.log(c, ikc.LogEntry{VA: seg.VA, Len: seg.Len, Off: seg.Off, Prot: uint64(seg.Prot)})
	}
	return nil
}

func (m *mirror) Unmap(va, length uint64) error {
	c, s, err := m.here()
	if err != nil {
		return err
	}
	if err := s.Unmap(va, length); err != nil {
		return err
	}
	m.log(c, ikc.LogEntry{VA: va, Len: length, Off: ikc.Unmapped})
	return nil
}

// Protect changes only the stub: the mirror stays writable because Linux
// fills read-only app buffers on the app's behalf (private file mappings).
func (m *mirror) Protect(va, length uint64, prot int) error {
	_, s, err := m.here()
	if err != nil {
		return err
	}
	return s.Protect(va, length, prot)
}

// ExecRequest is what mcexec hands over to create a process.
type ExecRequest struct {
	Req control.Request
	Exe *os.File
}

// spawn creates a process for req on a CPU, loads its image and starts it.
// It returns once the process runs (or failed to start).
func (k *OS) spawn(req ExecRequest) (*task.Process, error) {
	p := task.NewProcess(req.Req.ProxyPID)
	p.PPID, p.ProxyPID = req.Req.ParentPID, req.Req.ProxyPID
	p.Exe, p.Args = req.Req.Exe, req.Req.Argv
	p.Cred = task.Cred{UID: req.Req.Cred[0], EUID: req.Req.Cred[1], GID: req.Req.Cred[2], EGID: req.Req.Cred[3]}
	for i := range p.Rlimits {
		if i < len(req.Req.Rlimits) {
			p.Rlimits[i] = unix.Rlimit{Cur: req.Req.Rlimits[i][0], Max: req.Req.Rlimits[i][1]}
		} else {
			unix.Getrlimit(i, &p.Rlimits[i])
		}
	}
	ch, err := ikc.Create(fmt.Sprintf("mcos%d-%d", k.Index, p.PID))
	if err != nil {
		return nil, err
	}
	p.Chan = ch
	c := k.leastLoaded()
	atomic.AddInt32(&c.Load, 1)
	c.Threads.Add(1)
	p.Home = c.Index
	errc := make(chan error, 1)
	c.Go(func() {
		t, err := k.setup(c, p, req)
		errc <- err
		if err != nil {
			atomic.AddInt32(&c.Load, -1)
			c.Threads.Add(-1)
			return
		}
		c.Queue.Push(t)
	})
	if err := <-errc; err != nil {
		ch.Close()
		return nil, err
	}
	return p, nil
}

// setup runs on the CPU's thread: stub, address space, image, stack.
func (k *OS) setup(c *CPU, p *task.Process, req ExecRequest) (*task.Thread, error) {
	begin := time.Now()
	stub, err := c.takeStub(k)
	if err != nil {
		return nil, err
	}
	p.Stub = task.NewContext(stub)
	p.SetStub(c.Index, p.Stub)
	t := &task.Thread{TID: p.PID, Proc: p, CPU: c.Index, Syscall: task.NoSyscall, Regs: stub.InitialRegs(),
		FPState: bytes.Clone(stub.InitialFP())}
	m := &mirror{k: k, p: p, ch: p.Chan}
	p.MM = mm.NewAddressSpace(k.Alloc, k.Mem.Direct, m, mm.Layout{
		Min: ikc.WindowStart, Max: ikc.WindowEnd, MmapTop: mmapTop, FaultAround: 16,
		HeapExtend: max(req.Req.HeapExtend, mm.PageSize)})
	if err := k.loadImage(p, t, req.Exe, req.Req.Argv, req.Req.Env); err != nil {
		stub.Kill()
		stub.Release()
		p.MM.Release()
		return nil, err
	}
	p.Threads = []*task.Thread{t}
	k.Procs.Add(p)
	stats.Created(&k.Stats.Processes)
	stats.Created(&k.Stats.Threads)
	k.Kmsg.Printf("pid %d: %s started on cpu %d (stub %d, set up in %v)", p.PID, p.Exe, c.Index, p.Stub.PID, time.Since(begin).Round(time.Microsecond))
	return t, nil
}

// loadImage loads exe (and its interpreter) into p's empty address space,
// builds the initial stack and points t at the entry.
func (k *OS) loadImage(p *task.Process, t *task.Thread, exe io.ReaderAt, argv, envp []string) error {
	img, err := elf.Load(p.MM, exe, p.Exe, func(path string) (io.ReaderAt, func(), error) {
		// The interpreter path is Linux's: resolve it as the proxy's
		// credentials would by opening it read-only (world-readable libc).
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", p.Exe, err)
	}
	p.MM.SetBrk(img.BrkStart)
	// The stack VMA spans the rlimit, but only its top is populated now:
	// populating costs time at every exec and most programs use little.
	if _, err := p.MM.Map(mm.MapRequest{Addr: stackTop - stackSize, Length: stackSize, Fixed: true,
		Prot: unix.PROT_READ | unix.PROT_WRITE, Kind: mm.KindStack, Demand: true}); err != nil {
		return fmt.Errorf("%s: stack: %w", p.Exe, err)
	}
	if err := p.MM.Populate(stackTop-stackPremap, stackTop); err != nil {
		return fmt.Errorf("%s: stack: %w", p.Exe, err)
	}
	execfn := p.Exe
	if len(argv) > 0 {
		execfn = argv[0]
	}
	si := elf.StackInfo{Argv: argv, Envp: envp, ExecFn: execfn, VDSO: p.Stub.VDSO(), HostAux: hostAux,
		Cred: [4]uint64{uint64(p.Cred.UID), uint64(p.Cred.EUID), uint64(p.Cred.GID), uint64(p.Cred.EGID)}}
	rand.Read(si.Random[:])
	sp, auxv, err := elf.BuildStack(p.MM, stackTop, img, si)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Exe, err)
	}
	p.Auxv, p.VDSO, p.Env, p.StackStart = auxv, p.Stub.VDSO(), envp, sp
	tmpl := p.Stub.InitialRegs()
	t.Regs = unix.PtraceRegs{Cs: tmpl.Cs, Ss: tmpl.Ss, Ds: tmpl.Ds, Es: tmpl.Es, Fs: tmpl.Fs, Gs: tmpl.Gs,
		Rip: img.Entry, Rsp: sp, Eflags: 0x202, Orig_rax: ^uint64(0)}
	return nil
}

// hostAux carries the host's hardware capability words into app auxvs.
var hostAux = func() map[uint64]uint64 {
	m := map[uint64]uint64{}
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return m
	}
	for i := 0; i+16 <= len(b); i += 16 {
		key, val := binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint64(b[i+8:])
		switch key {
		case elf.AT_HWCAP, elf.AT_HWCAP2, elf.AT_CLKTCK, elf.AT_MINSIGSTKSZ:
			m[key] = val
		}
	}
	return m
}()

// runThread runs t on CPU c until it blocks, yields or exits, or its
// process ends.
func (k *OS) runThread(c *CPU, t *task.Thread) {
	p := t.Proc
	if p.Exited || t.Gone.Load() {
		return
	}
	if !t.AllowedOn(c.Index) {
		k.migrate(c, t)
		return
	}
	stub, err := k.stubOn(c, p)
	if err != nil {
		k.Kmsg.Printf("pid %d: %v", p.PID, err)
		k.endProcess(c, p, nil, 0, int(unix.SIGKILL))
		return
	}
	c.setCurrent(k, t)
	defer c.setCurrent(k, nil)
	if t.FutexBlocked {
		k.settleFutexWait(t)
	}
	t.Begin()
	t.State, t.Syscall, t.WaitSet, t.WaitChild = task.Running, task.NoSyscall, 0, false
	t.End()
	for {
		if s := k.deliverSignals(t); s != 0 {
			k.endProcess(c, p, t, 0, s)
			return
		}
		if k.parkStopped(t) {
			return
		}
		if stub.FPOwner != t.TID {
			k.switchFP(stub, t)
		}
		// The registers come back into a copy, stored under the thread's
		// sequence counter: mcps and mcinspect read them while it runs.
		regs := t.Regs
		st, err := stub.Run(&regs)
		t.Begin()
		t.Regs = regs
		t.End()
		if s := p.Kill.Load(); s != 0 {
			k.endProcess(c, p, nil, 0, int(s))
			return
		}
		if t.Gone.Load() {
			return // ended from another CPU: exec or the process's end
		}
		if err != nil || st.Kind == platform.StopExited {
			k.Kmsg.Printf("pid %d: stub %d vanished (%v, %s)", p.PID, stub.PID, err, st.Detail)
			k.endProcess(c, p, nil, 0, int(unix.SIGKILL))
			return
		}
		if st.Kind == platform.StopSignal {
			if s := k.fault(t, st); s != 0 {
				k.endProcess(c, p, t, 0, s)
				return
			}
			if c.preempted() {
				c.Queue.Push(t)
				return
			}
			continue
		}
		call := syscalls.Dispatch(t, &k.Env)
		if call.Offloaded {
			c.Stats.OffloadCalls++
		} else {
			c.Stats.LocalCalls++
		}
		switch call.Action {
		case syscalls.Continue:
			if c.preempted() || c.Queue.Resched() {
				c.Queue.Push(t)
				return
			}
			continue
		case syscalls.Yield:
			c.Queue.Push(t)
		case syscalls.Block:
			k.signalRaced(t)
		case syscalls.ExitThread:
			k.exitThread(c, t, call.ExitCode)
		case syscalls.ExitProcess:
			k.endProcess(c, p, t, call.ExitCode, call.ExitSignal)
		}
		return
	}
}

// switchFP gives the stub thread t's FPU/vector state at the next resume,
// which first saves the state of the thread that had it.
func (k *OS) switchFP(stub *task.Context, t *task.Thread) {
	var save *[]byte
	for _, o := range t.Proc.Threads {
		if o.TID == stub.FPOwner {
			save = &o.FPState
		}
	}
	stub.SwitchFP(save, t.FPState)
	stub.FPOwner = t.TID
}

// fault handles a signal stop of the stub; it returns the signal that ends
// the process, or 0 to resume.
func (k *OS) fault(t *task.Thread, st platform.Stop) int {
	p := t.Proc
	switch st.Signal {
	case syscall.SIGSTOP:
		return 0 // a kick; Kill was checked by the caller
	case syscall.SIGSEGV, syscall.SIGBUS:
		code := st.Code
		if st.Code > 0 { // raised by the CPU, not sent
			switch p.MM.Fault(st.Addr) {
			case mm.FaultHandled:
				t.Stats.PageFaults++
				k.CPUs[t.CPU].Stats.PageFaults++
				return 0
			case mm.FaultPopulated:
				if t.RetriedFault != st.Addr {
					t.RetriedFault = st.Addr
					return 0
				}
				code = segvAccErr
			case mm.FaultOOM:
				k.Kmsg.Printf("pid %d: out of partition memory at %#x: SIGSEGV", p.PID, st.Addr)
			case mm.FaultAccErr:
				code = segvAccErr
			}
		}
		return k.synchronous(t, int(st.Signal), task.SigInfo{Code: code, Addr: st.Addr})
	case syscall.SIGILL, syscall.SIGFPE, syscall.SIGTRAP, syscall.SIGABRT:
		return k.synchronous(t, int(st.Signal), task.SigInfo{Code: st.Code, Addr: st.Addr})
	}
	return 0 // host noise (SIGCHLD, SIGWINCH, ...) is not the app's
}

// segvAccErr is SIGSEGV's si_code for a protection fault.
const segvAccErr = 2

// synchronous raises a fault signal in t: its handler runs if it has one
// and does not block it; otherwise the process dies of it, as Linux forces.
func (k *OS) synchronous(t *task.Thread, sig int, info task.SigInfo) int {
	if hasHandler(t, sig) {
		t.Info[sig-1] = info
		t.Pending.Or(1 << (sig - 1))
		return 0
	}
	k.Kmsg.Printf("pid %d: tid %d: signal %d (code %d, addr %#x) at ip %#x", t.Proc.PID, t.TID, sig, info.Code, info.Addr, t.Regs.Rip)
	return sig
}

// endProcess ends p with its exit status and frees everything it had; its
// stub becomes the CPU's spare if it can. The status is reported before
// the memory is released, so mcexec (and a shell waiting on it) need not
// wait for that.
// It runs on p's CPU.
func (k *OS) endProcess(c *CPU, p *task.Process, taker *task.Thread, code, sig int) {
	if p.Exited || !p.BeginEnd() {
		return // ended already, or another CPU running its threads ends it
	}
	if sig != 0 {
		k.Hooks.fatal(p, taker, sig)
	}
	stopTimers(p)
	for _, t := range p.Threads {
		k.threadEnded(t)
		k.dropThread(t)
	}
	ran := time.Since(time.Unix(0, p.Start)).Round(time.Microsecond)
	if p.Chan != nil {
		p.Chan.Abort()
	}
	p.PGID = k.pgid(p) // wait(0) and wait(-pgid) need it once the proxy is gone
	k.releaseVfork(p)
	// Out of the table before the proxy hears of the end: it may serve a
	// new process with the same pid (a reused child proxy) at once.
	k.Procs.Remove(p)
	// A stub process with threads on several CPUs is killed whole (its
	// threads on other CPUs stop at once); a single stub may be reused.
	stubs := p.Stubs()
	if len(stubs) > 1 {
		p.Stub.Kill()
	}
	p.Finish(code, sig)
	k.releaseProxy(p)
	k.exitTree(p)
	k.retireStubs(c, p, stubs)
	p.MM.Release()
	k.views.Forget(p)
	atomic.AddInt32(&k.CPUs[p.Home].Load, -1)
	if p.Token != 0 && !k.attached(p) && p.Chan != nil {
		// A forked process whose proxy never came: nothing is left for
		// the proxy (its attach hears of the end as for a given-up
		// fork), which may serve the next one with this channel; that
		// must be in its session by the time the proxy is idle again.
		// Calls it posted may be parked still.
		k.takeEmbryo(p.Token)
		if p.Chan.Requests() == 0 {
			k.recycle(p)
		} else {
			go func() {
				p.Offloads.Wait()
				k.recycle(p)
			}()
		}
	}
	if sig != 0 {
		k.Kmsg.Printf("pid %d: %s killed by signal %d after %v", p.PID, p.Exe, sig, ran)
	} else {
		k.Kmsg.Printf("pid %d: %s exited with %d after %v", p.PID, p.Exe, code, ran)
	}
}

// retireStubs disposes of p's stubs once it ended on c. A lone stub that
// c traces becomes c's spare; otherwise each is reaped, the stub threads
// of other CPUs first: Linux reports the stub process's own exit once its
// other threads are reaped.
func (k *OS) retireStubs(c *CPU, p *task.Process, stubs []*task.Context) {
	if p.Stub == nil {
		return
	}
	if len(stubs) <= 1 && c.Index == p.Home {
		c.retireStub(p.Stub.Context)
		return
	}
	p.Stub.Kill()
	for _, s := range stubs {
		if s != p.Stub {
			s.Release()
		}
	}
	p.Stub.Release()
}

// kill makes p die of sig (a forwarded signal, mcexec's death, shutdown):
// a running thread notices at its next stop, which the kick forces; a
// process whose threads all sleep is ended by its CPU directly.
func (k *OS) kill(p *task.Process, sig int) {
	k.killWith(p, sig, task.SigInfo{})
}

// killWith is kill with the sender's siginfo. A signal that is caught,
// blocked by every thread or for job control is queued; one whose default
// action ends the process ends it.
func (k *OS) killWith(p *task.Process, sig int, info task.SigInfo) {
	queued := p.SigActs[sig].Handler != task.SigDefault || blockedByAll(p, sig) || jobSignal(sig)
	if sig != int(unix.SIGKILL) && queued {
		k.Signal(p, nil, sig, info)
		return
	}
	if syscalls.IgnoredByDefault(sig) {
		return
	}
	p.Kill.CompareAndSwap(0, int32(sig))
	if p.Chan != nil {
		p.Chan.Abort()
	}
	kick(p)
	if len(p.Threads) > 0 {
		c := k.CPUs[p.Threads[0].CPU]
		c.Go(func() { k.endProcess(c, p, nil, 0, int(p.Kill.Load())) })
	}
}

// blockedByAll reports a signal every thread of p blocks.
func blockedByAll(p *task.Process, sig int) bool {
	for _, t := range p.Threads {
		if t.SigMask&(1<<(sig-1)) == 0 {
			return false
		}
	}
	return len(p.Threads) > 0
}

// KillPID sends sig (0: only check) to the LWK process pid, a live one or
// a zombie child of t's process; false when pid is not the LWK's.
func (k *OS) KillPID(t *task.Thread, pid, sig int, info task.SigInfo) bool {
	if p := k.Procs.Find(pid); p != nil && !p.Exited {
		if sig != 0 {
			k.killWith(p, sig, info)
		}
		return true
	}
	k.Procs.TreeMu.Lock()
	defer k.Procs.TreeMu.Unlock()
	for _, c := range t.Proc.Children {
		if c.PID == pid {
			return true // a zombie: signals to it are discarded
		}
	}
	return false
}

var errShutdown = errors.New("instance is shutting down")
