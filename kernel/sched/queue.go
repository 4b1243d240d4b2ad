package sched

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname

	"github.com/gomck/gomck/internal/futex"
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

	// parked are the threads whose offloaded calls are in flight, with
	// where their answers arrive: the CPU watches those words itself.
	// Only the CPU's thread changes it (under mu), so that thread reads
	// it without the lock.
	parked []parkedCall
	words  futex.Set   // the idle sleep's words (the CPU's thread only)
	spin   SpinStopper // SpinStop's (the CPU's thread only)
}

// An Answer is an offloaded call in flight whose thread is parked: the
// CPU looks at its word between threads and while idle, and sleeps on it
// with its kicks, so that the answer wakes the thread with no go-between
// on the Linux CPUs (a goroutine per call there cost two Linux wake-ups
// and the Go scheduler's hand-offs, on the CPU that mcexec needs).
type Answer interface {
	// Word is the futex word (shared with mcexec) the answer arrives in
	// and the value it holds now; done once the answer is in.
	Word() (addr *uint32, val uint32, done bool)
	// Take returns the call's result once done, on the CPU's thread.
	Take() int64
}

type parkedCall struct {
	t *task.Thread
	a Answer
}

// NewQueue returns an empty queue.
func NewQueue() *Queue {
	q := &Queue{}
	q.spin.q = q
	return q
}

// Kicks returns the kick count that Idle compares with: read it before
// looking for work, so that a kick after the look ends the idle wait.
func (q *Queue) Kicks() uint32 { return atomic.LoadUint32(&q.idle.kicks) }

// Kick ends the CPU's idle wait: the queue gained a runnable thread, or
// the CPU has other work.
func (q *Queue) Kick() { q.idle.kick() }

// Idle waits, polling and then sleeping (idle.go), until a kick after seen,
// an answer to a parked thread's call or, if deadline > 0, until then
// (Now's clock). The CPU's thread only.
func (q *Queue) Idle(seen uint32, deadline int64) { q.idle.wait(seen, deadline, q) }

// answered reports whether a parked thread's answer is in (the CPU's
// thread only).
func (q *Queue) answered() bool {
	for _, p := range q.parked {
		if _, _, done := p.a.Word(); done {
			return true
		}
	}
	return false
}

// sleepWords fills q.words with the kick word (seen) and the parked
// calls' words; false if one was answered meanwhile, or some did not fit
// (the sleep then ends by pollFull).
func (q *Queue) sleepWords(seen uint32) (ok, full bool) {
	q.words.Reset()
	q.words.Add(&q.idle.kicks, seen, false)
	for _, p := range q.parked {
		addr, val, done := p.a.Word()
		if done {
			return false, false
		}
		if !q.words.Add(addr, val, true) {
			return true, true
		}
	}
	return true, false
}

// SpinStopper stops a spin for an offloaded call once another thread of
// the CPU can run (an ikc.Stopper).
type SpinStopper struct {
	q    *Queue
	seen uint32
}

// Stop says the spin no longer pays.
func (s *SpinStopper) Stop() bool { return s.q.Kicks() != s.seen || s.q.answered() }

// SpinStop returns what ends the running thread's spin for its offloaded
// call: a kick since now (a thread woken), or the answer to a parked
// thread's call, which then runs while the spinner parks. It is the
// queue's own (no allocation on the call's path); the CPU's thread only.
func (q *Queue) SpinStop() *SpinStopper {
	q.spin.seen = q.Kicks()
	return &q.spin
}

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

// ParkOffload blocks t while its offloaded call is in flight (mcps shows
// it as waiting for mcexec), until Reap finds a's answer. The state is
// set in one step under the queue's lock: set Sleeping first, a signal
// from another CPU could wake t as a sleeper before it became Offload,
// and t then ran and posted its call again while the first call's answer
// was still watched, which could take the second answer and wake nobody
// (a Go test binary hung on two CPUs with a thread parked in fcntl and
// its slot free). The CPU's thread only.
func (q *Queue) ParkOffload(t *task.Thread, a Answer) {
	q.mu.Lock()
	q.parked = append(q.parked, parkedCall{t, a})
	q.mu.Unlock()
	q.sleep(t, task.Offload, 0, 0)
}

// Reap wakes the parked threads whose answers are in, with their results;
// a thread that is no longer parked (its process ended) only has its
// answer taken. It returns how many answers it took. The CPU's thread
// only.
func (q *Queue) Reap() int {
	if len(q.parked) == 0 {
		return 0
	}
	n := 0
	for i := 0; i < len(q.parked); {
		p := q.parked[i]
		if _, _, done := p.a.Word(); !done {
			i++
			continue
		}
		q.mu.Lock()
		q.parked = slices.Delete(q.parked, i, i+1)
		q.mu.Unlock()
		q.Wake(p.t, p.a.Take())
		n++
	}
	return n
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

// Waiting reports whether a thread waits for the CPU: runnable, a sleeper
// whose deadline has passed (it becomes runnable at the next Pop), or a
// parked thread whose answer is in (at the next Reap).
func (q *Queue) Waiting(now int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.Runnable) > 0 || len(q.Sleepers) > 0 && q.Sleepers[0].Deadline <= now || q.answered()
}
