package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// Threads: creation (clone) and placement. A new thread goes to the least
// loaded CPU it may use; a process has one host context per CPU its
// threads run on (platform.Context.NewThread), made when the first thread
// goes there. A thread whose affinity excludes its CPU migrates when that
// CPU next picks it.

// Clone creates a thread of parent's process, placed on the least loaded
// CPU (its parent's on a tie); prepare runs before the thread can run.
func (k *OS) Clone(parent *task.Thread, regs unix.PtraceRegs, prepare func(*task.Thread)) (*task.Thread, error) {
	p := parent.Proc
	slot := p.ReserveSlot()
	if slot < 0 {
		return nil, unix.EAGAIN // every IKC slot serves a live thread
	}
	here := k.CPUs[parent.CPU]
	stub := p.StubOn(here.Index)
	t := &task.Thread{TID: k.Procs.AllocTID(), Proc: p, Slot: slot, Syscall: task.NoSyscall, Regs: regs,
		SigMask: parent.SigMask, Affinity: parent.Affinity}
	// The child starts with the parent's FPU state, as after a Linux clone.
	if stub.FPOwner == parent.TID {
		fp, err := stub.SaveFP(nil)
		if err != nil {
			p.UnreserveSlot(slot)
			return nil, err
		}
		t.FPState = fp
	} else {
		t.FPState = append([]byte(nil), parent.FPState...)
	}
	to := k.leastLoadedOf(t.Affinity, here)
	if err := k.ensureStub(stub, p, to); err != nil {
		k.Kmsg.Printf("pid %d: %v; thread %d stays on cpu %d", p.PID, err, t.TID, here.Index)
		to = here
	}
	t.CPU = to.Index
	to.Threads.Add(1)
	stats.Created(&k.Stats.Threads)
	prepare(t)
	p.AddThread(t)
	to.Queue.Push(t)
	return t, nil
}

// stubOn returns p's stub thread on c, adopting it on c's tracer thread
// the first time.
func (k *OS) stubOn(c *CPU, p *task.Process) (*task.Context, error) {
	s := p.StubOn(c.Index)
	if s == nil {
		return nil, fmt.Errorf("no stub thread on cpu %d", c.Index)
	}
	if !s.Attached() {
		if err := s.Attach(); err != nil {
			return nil, err
		}
		k.Kmsg.Printf("pid %d: stub thread %d runs on cpu %d", p.PID, s.PID, c.Index)
	}
	return s, nil
}

// ensureStub makes p a stub thread on CPU to, if it has none, through
// from: p's stub thread of the calling CPU, stopped.
func (k *OS) ensureStub(from *task.Context, p *task.Process, to *CPU) error {
	k.stubMu.Lock() // one creator at a time: two CPUs could both find none
	defer k.stubMu.Unlock()
	if p.StubOn(to.Index) != nil {
		return nil
	}
	s, err := from.NewThread(to.Host)
	if err != nil {
		return err
	}
	p.SetStub(to.Index, task.NewContext(s))
	return nil
}

// migrate moves t, which c just picked but may not run, to the least
// loaded CPU it may use; its FPU state goes with it.
func (k *OS) migrate(c *CPU, t *task.Thread) {
	p := t.Proc
	stub, err := k.stubOn(c, p)
	if err == nil {
		if stub.FPOwner == t.TID {
			var fp []byte
			if fp, err = stub.SaveFP(t.FPState); err == nil {
				t.FPState, stub.FPOwner = fp, 0
			}
		}
	}
	to := k.leastLoadedOf(t.Affinity, nil)
	if err == nil {
		err = k.ensureStub(stub, p, to)
	}
	if err != nil {
		k.Kmsg.Printf("pid %d: thread %d cannot leave cpu %d: %v", p.PID, t.TID, c.Index, err)
		k.endProcess(c, p, nil, 0, int(unix.SIGKILL))
		return
	}
	c.Threads.Add(-1)
	to.Threads.Add(1)
	t.Begin()
	t.CPU = to.Index
	t.Stats.Migrations++
	t.End()
	to.Queue.Push(t)
}
