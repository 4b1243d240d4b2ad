package sched

import (
	"sync"

	"github.com/gomck/gomck/kernel/task"
)

// Futexes is the instance's futex wait table.
type Futexes struct {
	mu      sync.Mutex
	Seq     uint64
	Waiters map[uint64][]*task.Thread // by partition offset
}

// NewFutexes returns an empty table.
func NewFutexes() *Futexes { return &Futexes{Waiters: map[uint64][]*task.Thread{}} }

// Wait queues t on key if check() (run under the table's lock, so no wake
// can slip between the value check and the queueing) returns true. A
// thread whose process ended from another CPU (Gone) is not queued: the
// end has dropped it already, and an entry now would outlive it, taking
// a wake meant for a later waiter on the same partition page.
func (f *Futexes) Wait(t *task.Thread, key uint64, bits uint32, check func() bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Gone.Load() || !check() {
		return false
	}
	f.Seq++
	t.FutexKey, t.FutexBits, t.Waiting, t.FutexBlocked = key, bits, true, true
	f.Waiters[key] = append(f.Waiters[key], t)
	return true
}

// Wake dequeues up to n waiters of key whose bitset meets bits, oldest
// first, and returns them.
func (f *Futexes) Wake(key uint64, n int, bits uint32) []*task.Thread {
	f.mu.Lock()
	defer f.mu.Unlock()
	var woken []*task.Thread
	ws := f.Waiters[key]
	kept := ws[:0]
	for _, t := range ws {
		if len(woken) < n && t.FutexBits&bits != 0 {
			t.Waiting = false
			woken = append(woken, t)
			continue
		}
		kept = append(kept, t)
	}
	f.store(key, kept)
	return woken
}

// Requeue wakes up to n waiters of key and moves up to m others to key2.
func (f *Futexes) Requeue(key, key2 uint64, n, m int) (woken []*task.Thread, moved int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws := f.Waiters[key]
	var kept []*task.Thread
	for _, t := range ws {
		switch {
		case len(woken) < n:
			t.Waiting = false
			woken = append(woken, t)
		case moved < m:
			t.FutexKey = key2
			f.Waiters[key2] = append(f.Waiters[key2], t)
			moved++
		default:
			kept = append(kept, t)
		}
	}
	f.store(key, kept)
	return woken, moved
}

// Drop removes t from any queue (timeout, signal, process end); it
// reports false if t was not queued: a wake took it out.
func (f *Futexes) Drop(t *task.Thread) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !t.Waiting {
		return false
	}
	ws := f.Waiters[t.FutexKey]
	for i, w := range ws {
		if w == t {
			f.store(t.FutexKey, append(ws[:i:i], ws[i+1:]...))
			break
		}
	}
	t.Waiting = false
	return true
}

func (f *Futexes) store(key uint64, ws []*task.Thread) {
	f.Seq++
	if len(ws) == 0 {
		delete(f.Waiters, key)
		return
	}
	f.Waiters[key] = ws
}
