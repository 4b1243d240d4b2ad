package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/proc"
)

// The scheduler services of syscalls.Kernel. Threads stay on their
// process's CPU: each (process, CPU) pair has one stub, and moving threads
// between CPUs comes with migration.

// Clone creates a thread of parent's process, runnable on the same CPU.
func (k *OS) Clone(parent *proc.Thread, regs unix.PtraceRegs) (*proc.Thread, error) {
	p := parent.Proc
	slot := p.FreeSlot()
	if slot < 0 {
		return nil, unix.EAGAIN // every IKC slot serves a live thread
	}
	t := &proc.Thread{TID: k.Procs.AllocTID(), Proc: p, Slot: slot, CPU: parent.CPU, Syscall: proc.NoSyscall, Regs: regs,
		SigMask: parent.SigMask}
	// The child starts with the parent's FPU state, as after a Linux clone.
	if p.Stub.FPOwner == parent.TID {
		fp, err := p.Stub.SaveFP(nil)
		if err != nil {
			return nil, err
		}
		t.FPState = fp
	} else {
		t.FPState = append([]byte(nil), parent.FPState...)
	}
	p.Begin()
	p.Threads = append(p.Threads, t)
	p.End()
	k.CPUs[t.CPU].Queue.Push(t)
	return t, nil
}

// Sleep blocks t on its CPU.
func (k *OS) Sleep(t *proc.Thread, deadline, timeoutRet int64) {
	k.CPUs[t.CPU].Queue.Sleep(t, deadline, timeoutRet)
}

// Cancel undoes Sleep.
func (k *OS) Cancel(t *proc.Thread) { k.CPUs[t.CPU].Queue.Cancel(t) }

// FutexWait queues t on a futex.
func (k *OS) FutexWait(t *proc.Thread, key uint64, bits uint32, check func() bool) bool {
	return k.Futexes.Wait(t, key, bits, check)
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

func (k *OS) wakeAll(ts []*proc.Thread) int {
	n := 0
	for _, t := range ts {
		if k.CPUs[t.CPU].Queue.Wake(t, 0) {
			n++
		}
	}
	return n
}

// exitThread ends t; the process ends with its last thread. As Linux does,
// the clear-child-tid word is zeroed and one waiter woken (pthread_join).
func (k *OS) exitThread(c *CPU, t *proc.Thread, code int) {
	p := t.Proc
	if len(p.Threads) == 1 {
		k.endProcess(c, p, code, 0)
		return
	}
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
	if p.Stub.FPOwner == t.TID {
		p.Stub.FPOwner = 0
	}
}

// ParkOffload parks t while mcexec works on its call, when another thread
// could use the CPU meanwhile; a goroutine waits for the answer.
func (k *OS) ParkOffload(t *proc.Thread, wait func() int64) bool {
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
