package kernel

import (
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// The scheduler services of syscalls.Kernel. A new thread goes to the
// least loaded CPU it may use; a process has one stub thread per CPU its
// threads run on (platform.Context.NewThread), made when the first thread goes
// there. A thread whose affinity excludes its CPU migrates when that CPU
// next picks it.

// Clone creates a thread of parent's process, placed on the least loaded
// CPU (its parent's on a tie); prepare runs before the thread can run.
func (k *OS) Clone(parent *task.Thread, regs unix.PtraceRegs, prepare func(*task.Thread)) (*task.Thread, error) {
	p := parent.Proc
	slot := p.FreeSlot()
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
	p.Begin()
	p.Threads = append(p.Threads, t)
	p.End()
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

// Sleep blocks t on its CPU.
func (k *OS) Sleep(t *task.Thread, deadline, timeoutRet int64) {
	k.CPUs[t.CPU].Queue.Sleep(t, deadline, timeoutRet)
}

// Cancel undoes Sleep.
func (k *OS) Cancel(t *task.Thread) { k.CPUs[t.CPU].Queue.Cancel(t) }

// FutexWait queues t on a futex.
func (k *OS) FutexWait(t *task.Thread, key uint64, bits, val uint32) bool {
	as := t.Proc.MM
	if !k.Futexes.Wait(t, key, bits, func() bool { return as.LoadWord(key) == val }) {
		return false
	}
	t.Stats.FutexWaits++
	return true
}

// FutexWake wakes up to n waiters.
func (k *OS) FutexWake(key uint64, n int, bits uint32) int {
	return k.wakeAll(k.Futexes.Wake(key, n, bits))
}

// FutexRequeue wakes n waiters of key and moves m to key2.
func (k *OS) FutexRequeue(key, key2 uint64, n, m int) int {
	woken, moved := k.Futexes.Requeue(key, key2, n, m)
	return k.wakeAll(woken) + moved
}

// wakeAll wakes threads a futex wake dequeued. Each counts as woken even
// if a signal or its timeout made it runnable first: settleFutexWait
// then has its call return 0, as Linux does for a waiter a wake unqueued.
func (k *OS) wakeAll(ts []*task.Thread) int {
	for _, t := range ts {
		k.CPUs[t.CPU].Queue.Wake(t, 0)
	}
	return len(ts)
}

// settleFutexWait runs as a thread that blocked in a futex wait is picked
// again. A signal or timeout that ended the wait leaves it queued, and
// it leaves now, so that no stale entry takes a later wake meant for
// another waiter; if a wake took it out first, the wake wins.
func (k *OS) settleFutexWait(t *task.Thread) {
	t.FutexBlocked = false
	if k.Futexes.Drop(t) {
		return
	}
	switch int64(t.Regs.Rax) {
	case -int64(unix.EINTR), -int64(unix.ETIMEDOUT):
		t.Regs.Rax = 0
		t.Interrupted.Store(false)
	}
}

// threadEnded tells the ThreadExit hook and the instance's totals that t
// ends.
func (k *OS) threadEnded(t *task.Thread) {
	k.Hooks.threadExited(t)
	k.Stats.ThreadEnded(&t.Stats)
}

// dropThread takes t off its CPU and out of the futex table, for good: its
// process ends or execs. t may be in a system call on another CPU right
// now; Gone, set first, keeps that call from queueing t again.
func (k *OS) dropThread(t *task.Thread) {
	t.Gone.Store(true)
	k.Futexes.Drop(t)
	k.CPUs[t.CPU].Queue.Remove(t)
	k.CPUs[t.CPU].Threads.Add(-1)
}

// exitThread ends t; the process ends with its last thread. As Linux does,
// the clear-child-tid word is zeroed and one waiter woken (pthread_join).
func (k *OS) exitThread(c *CPU, t *task.Thread, code int) {
	p := t.Proc
	if len(p.Threads) == 1 {
		k.endProcess(c, p, nil, code, 0)
		return
	}
	k.threadEnded(t)
	if a := t.ClearChildTID; a != 0 {
		if p.MM.CopyOut(a, []byte{0, 0, 0, 0}) == nil {
			if off, _, ok := p.MM.Translate(a); ok {
				k.FutexWake(off, 1, ^uint32(0))
			}
		}
	}
	p.Begin()
	for i, o := range p.Threads {
		if o == t {
			p.Threads = append(p.Threads[:i:i], p.Threads[i+1:]...)
			break
		}
	}
	p.End()
	c.Queue.Remove(t)
	c.Threads.Add(-1)
	if s := p.StubOn(c.Index); s != nil && s.FPOwner == t.TID {
		s.FPOwner = 0
	}
}

// ParkOffload parks t while mcexec works on its call, when another thread
// could use the CPU meanwhile; a goroutine waits for the answer.
func (k *OS) ParkOffload(t *task.Thread, wait func() int64) bool {
	c := k.CPUs[t.CPU]
	if len(t.Proc.Threads) == 1 && c.Queue.Len() == 0 && atomic.LoadInt32(&c.Load) <= 1 {
		return false
	}
	c.Queue.Park(t)
	t.Proc.Offloads.Add(1)
	go func() {
		defer t.Proc.Offloads.Done()
		c.Queue.Wake(t, wait())
	}()
	return true
}
