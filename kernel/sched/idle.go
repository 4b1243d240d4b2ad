package sched

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/futex"
)

// An idle CPU polls for a kick for a while before it sleeps, as Linux's
// guest halt polling (cpuidle-haltpoll) does in a VM, and for the same
// reason: waking a sleeping thread on another CPU costs an IPI, which traps
// to the host in a VM, plus the sleeper's reschedule. A thread that blocks
// on a futex is often woken from another LWK CPU a few tens of µs later
// (two-CPU ping-pong, a lock handed back), and a polling CPU sees that
// within a µs. The window adapts as haltpoll's governor does: it grows
// while sleeps turn out short and shrinks to nothing while they are long,
// so a CPU idle for good polls no more.
//
// The sleep itself is a FUTEX_WAIT on the kick counter from the CPU's own
// OS thread, woken by a FUTEX_WAKE from the kicker: one Linux wake-up, where
// a Go channel took the Go scheduler's hand-off to the locked thread (a
// spinning M, then the locked M's wake-up: two). With threads parked in
// offloaded calls it is a futex_waitv on the kick counter and on their IKC
// slots, which mcexec's answer wakes directly (Queue.ParkOffload).
const (
	pollGrowStart = 50_000  // ns: the first window once short sleeps are seen
	pollMax       = 200_000 // ns: the largest window, haltpoll's default
)

// idler is a CPU's idle wait.
type idler struct {
	kicks    uint32      // bumped by every kick (atomically); the futex word
	sleeping atomic.Bool // the CPU sleeps in FUTEX_WAIT: kicks must wake it
	pollNs   int64       // the poll window now (CPU thread only)
}

func (i *idler) kick() {
	atomic.AddUint32(&i.kicks, 1)
	// Sequentially consistent: either wait sees the new count after it
	// announced its sleep, or this sees the announcement.
	if i.sleeping.Load() {
		futex.Wake(&i.kicks, 1)
	}
}

// pollFull bounds a sleep that could not watch every parked call's word
// (more than futex_waitv takes): it ends this soon to look at them all.
const pollFull = 1_000_000 // ns

func (i *idler) wait(seen uint32, deadline int64, q *Queue) {
	start := Now()
	end := start + i.pollNs
	if deadline > 0 && deadline < end {
		end = deadline
	}
	for atomic.LoadUint32(&i.kicks) == seen && !q.answered() {
		now := Now()
		if now >= end {
			i.sleep(seen, deadline, now, q)
			break
		}
	}
	i.adapt(seen, Now()-start, q)
}

// sleep waits in the kernel until a kick after seen, an answer to a parked
// call, or the deadline.
func (i *idler) sleep(seen uint32, deadline, now int64, q *Queue) {
	if deadline > 0 && deadline <= now {
		return
	}
	i.sleeping.Store(true)
	defer i.sleeping.Store(false)
	if atomic.LoadUint32(&i.kicks) != seen {
		return
	}
	if len(q.parked) == 0 {
		var ts *unix.Timespec
		if deadline > 0 {
			t := unix.NsecToTimespec(deadline - now)
			ts = &t
		}
		futex.Wait(&i.kicks, seen, ts)
		return
	}
	ok, full := q.sleepWords(seen)
	if !ok {
		return
	}
	if full && (deadline == 0 || deadline > now+pollFull) {
		deadline = now + pollFull
	}
	q.words.Wait(deadline)
}

// adapt sizes the next poll window from an idle period that lasted idle
// ns: one ended by a kick or an answer that a larger window would have
// caught grows it, one longer than the largest window shrinks it. A
// deadline's end says nothing of wake-ups and changes nothing.
func (i *idler) adapt(seen uint32, idle int64, q *Queue) {
	switch {
	case idle > pollMax:
		if i.pollNs /= 2; i.pollNs < pollGrowStart {
			i.pollNs = 0
		}
	case (atomic.LoadUint32(&i.kicks) != seen || q.answered()) && idle > i.pollNs:
		i.pollNs = min(max(2*i.pollNs, pollGrowStart), pollMax)
	}
}
