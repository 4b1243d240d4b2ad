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
//  2. The parent's mcexec starts a child proxy (ikc.NrFork) that inherits
//     the app's descriptors; its Linux pid becomes the child's pid (Forked).
//  3. The child proxy attaches with the child's token (serveAttach): the
//     child gets a stub on its CPU and starts running.

// attachTimeout bounds step 3: a child whose proxy never comes is killed,
// and its parent reaps it as killed by SIGKILL.
const attachTimeout = 30 * time.Second

// Fork creates a child of t's process whose only thread starts with regs
// and t's FPU state. It does not run until its proxy attaches.
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
	child.Exe, child.Args, child.Cred, child.Auxv, child.VDSO = p.Exe, p.Args, p.Cred, p.Auxv, p.VDSO
	child.Rlimits, child.SigActs, child.ChildSignal = p.Rlimits, p.SigActs, childSignal
	child.MM = as
	var tok [8]byte
	rand.Read(tok[:])
	child.Token = binary.LittleEndian.Uint64(tok[:])
	child.Threads = []*proc.Thread{{Proc: child, Syscall: proc.NoSyscall, Regs: regs,
		SigMask: t.SigMask, AltStack: t.AltStack, FPState: bytes.Clone(fp)}}
	k.mu.Lock()
	if k.embryos == nil {
		k.embryos = map[uint64]*proc.Process{}
	}
	k.embryos[child.Token] = child
	k.mu.Unlock()
	return child, nil
}

// Forked completes Fork once the parent's mcexec has started the child
// proxy (pid), or gives the child up when that failed.
func (k *OS) Forked(parent *proc.Process, child *proc.Process, pid int, err error) error {
	if err == nil && k.Procs.Find(pid) != nil {
		err = fmt.Errorf("pid %d is already an LWK process", pid)
	}
	if err != nil {
		k.mu.Lock()
		delete(k.embryos, child.Token)
		k.mu.Unlock()
		child.MM.Release()
		return err
	}
	ch, err := ikc.Create(fmt.Sprintf("mcos%d-%d", k.Index, pid))
	if err != nil {
		unix.Kill(pid, unix.SIGKILL) // the proxy cannot attach without it
		child.MM.Release()
		return err
	}
	c := k.leastLoaded()
	atomic.AddInt32(&c.Load, 1)
	t := child.Threads[0]
	child.Begin()
	child.PID, child.ProxyPID, child.PPID, child.Chan = pid, pid, parent.PID, ch
	t.TID, t.CPU = pid, c.Index
	child.End()
	k.Procs.TreeMu.Lock()
	child.Parent = parent
	parent.Children = append(parent.Children, child)
	k.Procs.TreeMu.Unlock()
	k.Procs.Add(child)
	close(child.Forked)
	time.AfterFunc(attachTimeout, func() {
		if !k.attached(child) {
			k.Kmsg.Printf("pid %d: its proxy did not attach within %v; killing it", pid, attachTimeout)
			k.kill(child, int(unix.SIGKILL))
		}
	})
	return nil
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

// attach gives the forked process with token its stub and starts it; it
// returns the process and the segments its proxy must map.
func (k *OS) attach(token uint64, proxyPID int) (*proc.Process, []mm.MappedSegment, error) {
	k.mu.Lock()
	child := k.embryos[token]
	delete(k.embryos, token)
	k.mu.Unlock()
	if child == nil {
		return nil, nil, errNoEmbryo
	}
	select {
	case <-child.Forked:
	case <-time.After(attachTimeout):
		return nil, nil, errNoEmbryo
	}
	if child.ProxyPID != proxyPID {
		return nil, nil, errNoEmbryo
	}
	c := k.CPUs[child.Threads[0].CPU]
	var segs []mm.MappedSegment
	var err error
	c.Do(func() {
		if child.Exited {
			err = errShutdown
			return
		}
		child.Stub, err = c.takeStub(k)
		if err != nil {
			return
		}
		if child.Stub.VDSO != child.VDSO {
			err = fmt.Errorf("the child's stub has its vDSO at %#x, not at %#x", child.Stub.VDSO, child.VDSO)
			return
		}
		m := &mirror{stub: child.Stub, ch: child.Chan, cpu: c, attaching: true}
		if segs, err = child.MM.Attach(m); err != nil {
			return
		}
		m.attaching = false
		k.mu.Lock()
		child.Attached = true
		k.mu.Unlock()
		c.Queue.Push(child.Threads[0])
	})
	if err != nil {
		k.kill(child, int(unix.SIGKILL))
		return nil, nil, err
	}
	k.Kmsg.Printf("pid %d: forked from %d on cpu %d (stub %d)", child.PID, child.PPID, c.Index, child.Stub.PID)
	return child, segs, nil
}
