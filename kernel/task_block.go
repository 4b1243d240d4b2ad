package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/task"
)

// How threads block and wake (syscalls.Kernel's scheduler services):
// sleeps with a deadline, futex waits and wakes, and offloaded calls that
// give the CPU to other threads while mcexec works on them.

// Sleep blocks t on its CPU.
func (k *OS) Sleep(t *task.Thread, deadline, timeoutRet int64) {
	k.CPUs[t.CPU].Queue.Sleep(t, deadline, timeoutRet)
}

// Cancel undoes Sleep.
func (k *OS) Cancel(t *task.Thread) { k.CPUs[t.CPU].Queue.Cancel(t) }

// FutexWait queues t on a futex.
func (k *OS) FutexWait(t *task.Thread, w mm.FutexWord, bits, val uint32) bool {
	if !k.Futexes.Wait(t, w.Key, bits, func() bool { now, ok := w.Load(); return ok && now == val }) {
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

// ParkOffload parks t while mcexec works on its call, when another thread
// could use the CPU meanwhile; the CPU watches for the answer itself
// (sched.Queue.ParkOffload).
func (k *OS) ParkOffload(t *task.Thread, a sched.Answer) bool {
	c := k.CPUs[t.CPU]
	if len(t.Proc.Threads) == 1 && c.Queue.Len() == 0 && atomic.LoadInt32(&c.Load) <= 1 {
		return false
	}
	c.Queue.ParkOffload(t, a)
	return true
}

// CPUQueue implements syscalls.Kernel: the run queue of t's CPU.
func (k *OS) CPUQueue(t *task.Thread) *sched.Queue { return k.CPUs[t.CPU].Queue }
