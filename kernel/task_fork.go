package kernel

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// Process creation (fork, vfork, clone without CLONE_THREAD) happens in
// three steps, because every LWK process needs its own mcexec on Linux:
//
//  1. Fork, on the parent's CPU: the child's record.
//  2. The parent's mcexec gives the child a proxy (ikc.NrFork) holding a
//     copy of the app's descriptors; its Linux pid becomes the child's pid
//     (Forked). Meanwhile, on the parent's CPU (Stage), the child gets a
//     copy of the address space, while no thread of the parent runs (they
//     all live on that CPU), so the copy is consistent; and its stub, with
//     that memory mapped, if the child's CPU is the parent's (else on its
//     CPU once the pid is known). The copy and the proxy's start, on the
//     LWK CPU and on a Linux CPU, overlap. Then the child runs, without
//     waiting for its proxy: until the proxy is there, its offloaded calls
//     wait in the channel.
//  3. The proxy attaches with the child's token (serveAttach) and gets the
//     channel and the segments to mirror; a child that has ended by then
//     is reported ended instead.

// attachTimeout bounds step 3: a child whose proxy never comes is killed,
// and its parent reaps it as killed by SIGKILL.
const attachTimeout = 30 * time.Second

// embryo is a forked process whose proxy has not attached yet.
type embryo struct {
	proc     *task.Process
	cpu      *CPU
	mirror   *mirror            // set once staged: its stub has the memory mapped
	segs     []mm.MappedSegment // what was mapped, for the proxy's mirror
	prepared chan struct{}      // closed once it runs, or failed to (err)
	err      error
	copyErr  error // the address space could not be copied: the fork fails
}

// Fork creates a child of t's process whose only thread starts with regs
// and t's FPU state. It gets its memory in Stage and runs once Forked has
// its pid.
func (k *OS) Fork(t *task.Thread, regs unix.PtraceRegs, childSignal int) (*task.Process, error) {
	if k.state() != "RUNNING" {
		return nil, unix.EAGAIN
	}
	p := t.Proc
	fp, err := k.currentFP(t)
	if err != nil {
		return nil, err
	}
	child := task.NewProcess(0)
	child.Exe, child.Args, child.Env, child.Auxv, child.VDSO = p.Exe, p.Args, p.Env, p.Auxv, p.VDSO
	p.InheritCred(child)
	child.Undumpable.Store(p.Undumpable.Load())
	child.StackStart = p.StackStart
	child.Rlimits, child.SigActs, child.ChildSignal = p.Rlimits, p.SigActs, childSignal
	child.CPUShare = p.CPUShare // a child stays in the share, not in the rank
	if p.Profile != nil {
		child.Profile = &stats.Profile{} // its own mcexec reports it
	}
	var tok [8]byte
	rand.Read(tok[:])
	child.Token = binary.LittleEndian.Uint64(tok[:])
	child.Threads = []*task.Thread{{Proc: child, Syscall: task.NoSyscall, Regs: regs,
		SigMask: t.SigMask, AltStack: t.AltStack, FPState: bytes.Clone(fp), Affinity: t.Affinity}}
	c := k.leastLoadedOf(t.Affinity, nil)
	atomic.AddInt32(&c.Load, 1)
	c.Threads.Add(1)
	child.Threads[0].CPU, child.Home = c.Index, c.Index
	k.mu.Lock()
	if k.embryos == nil {
		k.embryos = map[uint64]*embryo{}
	}
	k.embryos[child.Token] = &embryo{proc: child, cpu: c, prepared: make(chan struct{})}
	k.mu.Unlock()
	return child, nil
}

// Stage copies the parent's address space for the child while the
// parent's mcexec finds it a proxy, on the thread of t's CPU, and gives the
// child its stub with that memory mapped when it is to run on this CPU.
func (k *OS) Stage(t *task.Thread, child *task.Process) {
	k.mu.Lock()
	e := k.embryos[child.Token]
	k.mu.Unlock()
	if e == nil {
		return
	}
	if child.MM, e.copyErr = t.Proc.MM.Fork(); e.copyErr != nil {
		return
	}
	child.CountersRead.Store(t.Proc.CountersRead.Load()) // the copied library told it already
	if e.copyErr = forkCounters(child); e.copyErr != nil {
		return
	}
	if e.cpu.Index == t.CPU {
		e.err = k.stage(e)
	}
}

// stage maps the child's memory into a stub of its CPU (on that CPU's
// thread); nothing is logged for the proxy, which maps e.segs.
func (k *OS) stage(e *embryo) error {
	child, c := e.proc, e.cpu
	stub, err := c.takeStub(k)
	if err != nil {
		return err
	}
	child.Stub = task.NewContext(stub)
	child.SetStub(c.Index, child.Stub)
	if stub.VDSO() != child.VDSO {
		return fmt.Errorf("the child's stub has its vDSO at %#x, not at %#x", stub.VDSO(), child.VDSO)
	}
	m := &mirror{k: k, p: child, attaching: true}
	if e.segs, err = child.MM.Attach(m); err != nil {
		return err
	}
	e.mirror = m
	return nil
}

// Forked completes Fork once the parent's mcexec has started the child
// proxy (pid), or gives the child up when that or Stage's copy failed.
// prepare runs once the child has its pid, before it can run.
func (k *OS) Forked(parent *task.Process, child *task.Process, pid int, err error, prepare func()) error {
	if err == nil {
		k.mu.Lock()
		err = k.embryos[child.Token].copyErr
		k.mu.Unlock()
	}
	if err == nil && k.Procs.Find(pid) != nil {
		err = fmt.Errorf("pid %d is already an LWK process", pid)
	}
	if err == nil {
		child.Chan, err = k.channelFor(pid)
	}
	if err == nil {
		parent.InheritCred(child) // into its channel
	}
	if err != nil {
		e := k.takeEmbryo(child.Token)
		e.err = err
		close(e.prepared)
		if child.Stub != nil {
			e.cpu.retireStub(child.Stub.Context)
		}
		if child.MM != nil {
			child.MM.Release()
		}
		atomic.AddInt32(&e.cpu.Load, -1)
		e.cpu.Threads.Add(-1)
		return err
	}
	child.Begin()
	child.PID, child.ProxyPID, child.PPID = pid, pid, parent.PID
	child.Threads[0].TID = pid
	child.End()
	k.Procs.TreeMu.Lock()
	child.Parent = parent
	parent.Children = append(parent.Children, child)
	k.Procs.TreeMu.Unlock()
	k.Procs.Add(child)
	stats.Created(&k.Stats.Processes)
	stats.Created(&k.Stats.Threads)
	stats.Created(&k.Stats.Forks)
	prepare()
	k.mu.Lock()
	e := k.embryos[child.Token]
	k.mu.Unlock()
	if e.mirror != nil || e.err != nil {
		k.start(e) // staged on this CPU: that is the thread we are on
	} else {
		e.cpu.Go(func() { k.start(e) })
	}
	time.AfterFunc(attachTimeout, func() {
		if k.takeEmbryo(child.Token) != nil {
			k.Kmsg.Printf("pid %d: its proxy did not attach within %v; killing it", pid, attachTimeout)
			k.kill(child, int(unix.SIGKILL))
		}
	})
	return nil
}

// start makes a forked process runnable, staging it first if need be (on
// its CPU's thread).
func (k *OS) start(e *embryo) {
	defer close(e.prepared)
	child, c := e.proc, e.cpu
	if child.Exited { // killed before it ever ran
		e.err = errors.New("the forked process was killed")
		return
	}
	if e.mirror == nil && e.err == nil {
		e.err = k.stage(e)
	}
	if e.err != nil {
		k.Kmsg.Printf("pid %d: %v", child.PID, e.err)
		k.kill(child, int(unix.SIGKILL))
		return
	}
	e.mirror.ch, e.mirror.attaching = child.Chan, false
	c.Queue.Push(child.Threads[0])
	k.Kmsg.Printf("pid %d: forked from %d on cpu %d (stub %d)", child.PID, child.PPID, c.Index, child.Stub.PID)
}

// takeEmbryo removes and returns the embryo of token, nil if none.
func (k *OS) takeEmbryo(token uint64) *embryo {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.embryos[token]
	delete(k.embryos, token)
	return e
}

// ChildPIDs lists the pids p's unreaped children hold: mcexec must not
// give a forked process a reused proxy with one of them (ikc.ForkArgs).
func (k *OS) ChildPIDs(p *task.Process) []int {
	k.Procs.TreeMu.Lock()
	defer k.Procs.TreeMu.Unlock()
	pids := make([]int, len(p.Children))
	for i, c := range p.Children {
		pids[i] = c.PID
	}
	return pids
}

func (k *OS) attached(p *task.Process) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return p.Attached
}

var errNoEmbryo = errors.New("no forked process waits for this proxy")

// attach hands the forked process with token to its proxy: it returns the
// process and the segments the proxy must map, or ended when the process
// has ended already (its proxy then only needs its status).
func (k *OS) attach(token uint64, proxyPID int) (child *task.Process, segs []mm.MappedSegment, ended bool, err error) {
	k.mu.Lock()
	e := k.embryos[token]
	k.mu.Unlock()
	if e == nil {
		return nil, nil, false, errNoEmbryo
	}
	select {
	case <-e.prepared:
	case <-time.After(attachTimeout):
		return nil, nil, false, errNoEmbryo
	}
	if e.proc.ProxyPID != proxyPID { // not this one's: the right one may still come
		return nil, nil, false, errNoEmbryo
	}
	if k.takeEmbryo(token) == nil { // given up meanwhile
		return nil, nil, false, errNoEmbryo
	}
	if e.err != nil {
		return nil, nil, false, e.err
	}
	child = e.proc
	k.mu.Lock()
	defer k.mu.Unlock()
	select {
	case <-child.Done(): // endProcess closes the channel of an unattached process
		return child, nil, true, nil
	default:
	}
	child.Attached = true
	return child, e.segs, false, nil
}

// releaseVfork wakes the thread that vforked p, once p execs or exits: its
// vfork returns p's pid. The wake runs on the parent's CPU after the call
// that put it to sleep has finished there.
func (k *OS) releaseVfork(p *task.Process) {
	t := p.VforkParent
	if t == nil {
		return
	}
	p.VforkParent = nil
	pid := p.PID
	c := k.CPUs[t.CPU]
	c.Go(func() {
		if t.VforkChild == pid && !t.Proc.Exited {
			t.VforkChild = 0
			c.Queue.Wake(t, int64(pid))
		}
	})
}
