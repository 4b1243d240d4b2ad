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

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/proc"
)

// Process creation (fork, vfork, clone without CLONE_THREAD) happens in
// three steps, because every LWK process needs its own mcexec on Linux:
//
//  1. Fork, on the parent's CPU: the child's record and a copy of the
//     address space, while no thread of the parent runs (they all live on
//     that CPU), so the copy is consistent.
//  2. The parent's mcexec gives the child a proxy (ikc.NrFork) holding a
//     copy of the app's descriptors; its Linux pid becomes the child's pid
//     (Forked). The child then gets a stub on its CPU and starts running
//     (prepare), without waiting for its proxy: until the proxy is there,
//     its offloaded calls wait in the channel.
//  3. The proxy attaches with the child's token (serveAttach) and gets the
//     channel and the segments to mirror; a child that has ended by then
//     is reported ended instead.

// attachTimeout bounds step 3: a child whose proxy never comes is killed,
// and its parent reaps it as killed by SIGKILL.
const attachTimeout = 30 * time.Second

// embryo is a forked process whose proxy has not attached yet.
type embryo struct {
	proc     *proc.Process
	prepared chan struct{}      // closed once prepare ran, or Forked failed
	segs     []mm.MappedSegment // what prepare mapped, for the proxy's mirror
	err      error
}

// Fork creates a child of t's process whose only thread starts with regs
// and t's FPU state. It runs once Forked has its pid.
func (k *OS) Fork(t *proc.Thread, regs unix.PtraceRegs, childSignal int) (*proc.Process, error) {
	if k.state() != "RUNNING" {
		return nil, unix.EAGAIN
	}
	p := t.Proc
	fp, err := k.currentFP(t)
	if err != nil {
		return nil, err
	}
	as, err := p.MM.Fork()
	if err != nil {
		return nil, err
	}
	child := proc.NewProcess(0)
	child.Exe, child.Args, child.Env, child.Cred, child.Auxv, child.VDSO = p.Exe, p.Args, p.Env, p.Cred, p.Auxv, p.VDSO
	child.StackStart = p.StackStart
	child.Rlimits, child.SigActs, child.ChildSignal = p.Rlimits, p.SigActs, childSignal
	child.MM = as
	var tok [8]byte
	rand.Read(tok[:])
	child.Token = binary.LittleEndian.Uint64(tok[:])
	child.Threads = []*proc.Thread{{Proc: child, Syscall: proc.NoSyscall, Regs: regs,
		SigMask: t.SigMask, AltStack: t.AltStack, FPState: bytes.Clone(fp)}}
	k.mu.Lock()
	if k.embryos == nil {
		k.embryos = map[uint64]*embryo{}
	}
	k.embryos[child.Token] = &embryo{proc: child, prepared: make(chan struct{})}
	k.mu.Unlock()
	return child, nil
}

// Forked completes Fork once the parent's mcexec has started the child
// proxy (pid), or gives the child up when that failed.
func (k *OS) Forked(parent *proc.Process, child *proc.Process, pid int, err error) error {
	if err == nil && k.Procs.Find(pid) != nil {
		err = fmt.Errorf("pid %d is already an LWK process", pid)
	}
	if err == nil {
		child.Chan, err = ikc.Create(fmt.Sprintf("mcos%d-%d", k.Index, pid))
	}
	if err != nil {
		e := k.takeEmbryo(child.Token)
		e.err = err
		close(e.prepared)
		child.MM.Release()
		return err
	}
	c := k.leastLoaded()
	atomic.AddInt32(&c.Load, 1)
	c.Threads.Add(1)
	t := child.Threads[0]
	child.Begin()
	child.PID, child.ProxyPID, child.PPID, child.Home = pid, pid, parent.PID, c.Index
	t.TID, t.CPU = pid, c.Index
	child.End()
	k.Procs.TreeMu.Lock()
	child.Parent = parent
	parent.Children = append(parent.Children, child)
	k.Procs.TreeMu.Unlock()
	k.Procs.Add(child)
	k.mu.Lock()
	e := k.embryos[child.Token]
	k.mu.Unlock()
	c.Go(func() { k.prepare(c, e) })
	time.AfterFunc(attachTimeout, func() {
		if k.takeEmbryo(child.Token) != nil {
			k.Kmsg.Printf("pid %d: its proxy did not attach within %v; killing it", pid, attachTimeout)
			k.kill(child, int(unix.SIGKILL))
		}
	})
	return nil
}

// prepare gives a forked process its stub, with its inherited memory
// mapped, and makes it runnable (on c's thread).
func (k *OS) prepare(c *CPU, e *embryo) {
	defer close(e.prepared)
	child := e.proc
	if child.Exited { // killed before it ever ran
		e.err = errors.New("the forked process was killed")
		return
	}
	var err error
	if child.Stub, err = c.takeStub(k); err == nil && child.Stub.VDSO != child.VDSO {
		err = fmt.Errorf("the child's stub has its vDSO at %#x, not at %#x", child.Stub.VDSO, child.VDSO)
	}
	if err == nil {
		child.SetStub(c.Index, child.Stub)
		m := &mirror{k: k, p: child, ch: child.Chan, attaching: true}
		e.segs, err = child.MM.Attach(m)
		m.attaching = false
	}
	if err != nil {
		e.err = err
		k.Kmsg.Printf("pid %d: %v", child.PID, err)
		k.kill(child, int(unix.SIGKILL))
		return
	}
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
func (k *OS) ChildPIDs(p *proc.Process) []int {
	k.Procs.TreeMu.Lock()
	defer k.Procs.TreeMu.Unlock()
	pids := make([]int, len(p.Children))
	for i, c := range p.Children {
		pids[i] = c.PID
	}
	return pids
}

func (k *OS) attached(p *proc.Process) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return p.Attached
}

var errNoEmbryo = errors.New("no forked process waits for this proxy")

// attach hands the forked process with token to its proxy: it returns the
// process and the segments the proxy must map, or ended when the process
// has ended already (its proxy then only needs its status).
func (k *OS) attach(token uint64, proxyPID int) (child *proc.Process, segs []mm.MappedSegment, ended bool, err error) {
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
func (k *OS) releaseVfork(p *proc.Process) {
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
