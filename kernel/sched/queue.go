package sched

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname

	"github.com/gomck/gomck/kernel/task"
)

// Now returns CLOCK_MONOTONIC in nanoseconds, the clock of deadlines. The
// runtime reads it through the vDSO; unix.ClockGettime would make a
// system call, which costs about 1 µs here at every thread switch.
func Now() int64 { return nanotime() }

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Queue is one CPU's run queue and sleepers.
type Queue struct {
	mu       sync.Mutex
	Seq      uint64
	Runnable []*task.Thread
	Sleepers []*task.Thread // sorted by Deadline; deadline-less sleepers are not here
	Blocked  int            // threads blocked without deadline
	resched  atomic.Bool    // a thread was woken since the running one was picked
	idle     idler
}

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{} }

// Kicks returns the kick count that Idle compares with: read it before
// looking for work, so that a kick after the look ends the idle wait.
func (q *Queue) Kicks() uint32 { return atomic.LoadUint32(&q.idle.kicks) }

// Kick ends the CPU's idle wait: the queue gained a runnable thread, or
// the CPU has other work.
func (q *Queue) Kick() { q.idle.kick() }

// Idle waits, polling and then sleeping (idle.go), until a kick after seen
// or, if deadline > 0, until then (Now's clock).
func (q *Queue) Idle(seen uint32, deadline int64) { q.idle.wait(seen, deadline) }

func (q *Queue) change() { atomic.AddUint64(&q.Seq, 1) }

// Push makes t runnable at the tail.
func (q *Queue) Push(t *task.Thread) {
	q.mu.Lock()
	q.change()
	q.push(t)
	q.change()
	q.mu.Unlock()
	q.Kick()
}

func (q *Queue) push(t *task.Thread) {
	t.Begin()
	t.State = task.Runnable
	t.End()
	q.Runnable = append(q.Runnable, t)
}

// Pop returns the next runnable thread, first waking sleepers whose
// deadline has passed; nil if none.
func (q *Queue) Pop(now int64) *task.Thread {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.change()
	defer q.change()
	for len(q.Sleepers) > 0 && q.Sleepers[0].Deadline <= now {
		t := q.Sleepers[0]
		q.Sleepers = q.Sleepers[1:]
		t.Regs.Rax = uint64(t.TimeoutRet)
		t.Deadline = 0
		q.push(t)
	}
	if len(q.Runnable) == 0 {
		return nil
	}
	t := q.Runnable[0]
	q.Runnable = q.Runnable[1:]
	q.resched.Store(false)
	return t
}

// Sleep blocks t until Wake or, if deadline > 0, until then, when its
// syscall returns timeoutRet. A thread removed meanwhile from another CPU
// (Gone) does not sleep: it is dropped as its call ends.
func (q *Queue) Sleep(t *task.Thread, deadline, timeoutRet int64) {
	q.sleep(t, task.Sleeping, deadline, timeoutRet)
}

// Park blocks t while its offloaded call is in flight (mcps shows it as
// waiting for mcexec); Wake ends it. The state is set in one step under
// the queue's lock: set Sleeping first, a signal from another CPU could
// wake t as a sleeper before it became Offload, and t then ran and posted
// its call again while the first call's waiter still watched the slot,
// which could take the second answer and wake nobody (a Go test binary
// hung on two CPUs with a thread parked in fcntl and its slot free).
func (q *Queue) Park(t *task.Thread) {
	q.sleep(t, task.Offload, 0, 0)
}

func (q *Queue) sleep(t *task.Thread, state task.ThreadState, deadline, timeoutRet int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t.Gone.Load() {
		return
	}
	q.change()
	defer q.change()
	t.Begin()
	t.State, t.Deadline, t.TimeoutRet = state, deadline, timeoutRet
	t.End()
	if deadline == 0 {
		q.Blocked++
		return
	}
	i := sort.Search(len(q.Sleepers), func(i int) bool { return q.Sleepers[i].Deadline > deadline })
	q.Sleepers = append(q.Sleepers[:i], append([]*task.Thread{t}, q.Sleepers[i:]...)...)
}

// Wake makes a sleeping t runnable with ret as its syscall's result; it
// reports false if t was not sleeping (it timed out meanwhile). As
// McKernel's wake-up (CPU_FLAG_NEED_RESCHED), it asks the CPU to switch
// when the running thread's syscall returns (Resched): the woken thread
// runs without waiting for the running one to block.
func (q *Queue) Wake(t *task.Thread, ret int64) bool {
	q.mu.Lock()
	if t.State != task.Sleeping && t.State != task.Offload {
		q.mu.Unlock()
		return false
	}
	q.change()
	q.unsleep(t)
	t.Regs.Rax = uint64(ret)
	q.push(t)
	q.resched.Store(true)
	q.change()
	q.mu.Unlock()
	q.Kick()
	return true
}

// Resched reports (and clears) a wake-up since the running thread was
// picked: it should yield at the end of its syscall.
func (q *Queue) Resched() bool {
	return q.resched.Load() && q.resched.Swap(false)
}

func (q *Queue) unsleep(t *task.Thread) {
	if t.Deadline == 0 {
		q.Blocked--
		return
	}
	for i, s := range q.Sleepers {
		if s == t {
			q.Sleepers = append(q.Sleepers[:i], q.Sleepers[i+1:]...)
			break
		}
	}
	t.Deadline = 0
}

// Remove drops t from the queue wherever it is (its process ended).
func (q *Queue) Remove(t *task.Thread) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.change()
	defer q.change()
	if t.State == task.Sleeping || t.State == task.Offload {
		q.unsleep(t)
	}
	for i, r := range q.Runnable {
		if r == t {
			q.Runnable = append(q.Runnable[:i], q.Runnable[i+1:]...)
			break
		}
	}
	t.Begin()
	t.State = task.Zombie
	t.End()
}

// NextDeadline returns the earliest sleeper deadline.
func (q *Queue) NextDeadline() (int64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.Sleepers) == 0 {
		return 0, false
	}
	return q.Sleepers[0].Deadline, true
}

// Len returns the number of runnable threads.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.Runnable)
}

// Cancel undoes Sleep for a thread that turned out not to block (its futex
// value changed); it stays the running thread. A wake from another CPU
// may have made it runnable meanwhile: that is undone too, or it would
// run twice.
func (q *Queue) Cancel(t *task.Thread) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.change()
	defer q.change()
	switch t.State {
	case task.Sleeping:
		q.unsleep(t)
	case task.Runnable:
		if i := slices.Index(q.Runnable, t); i >= 0 {
			q.Runnable = slices.Delete(q.Runnable, i, i+1)
		}
	default:
		return
	}
	t.Begin()
	t.State = task.Running
	t.End()
}

// Waiting reports whether a thread waits for the CPU: runnable, or a
// sleeper whose deadline has passed (it becomes runnable at the next Pop).
func (q *Queue) Waiting(now int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.Runnable) > 0 || len(q.Sleepers) > 0 && q.Sleepers[0].Deadline <= now
}
