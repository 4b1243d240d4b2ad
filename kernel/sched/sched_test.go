package sched

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

func TestQueueOrderAndTimeouts(t *testing.T) {
	q := NewQueue()
	a, b, c := &task.Thread{TID: 1}, &task.Thread{TID: 2}, &task.Thread{TID: 3}
	q.Push(a)
	q.Push(b)
	q.Sleep(c, 1000, -int64(unix.ETIMEDOUT))
	if got := q.Pop(0); got != a {
		t.Fatalf("first %v", got)
	}
	if got := q.Pop(0); got != b {
		t.Fatalf("second %v", got)
	}
	if got := q.Pop(999); got != nil {
		t.Fatalf("sleeper ran early: %v", got)
	}
	if !q.Waiting(1000) || q.Waiting(999) {
		t.Fatal("Waiting misjudges the expired sleeper")
	}
	if got := q.Pop(1000); got != c || int64(c.Regs.Rax) != -int64(unix.ETIMEDOUT) {
		t.Fatalf("timeout: %v rax %d", got, int64(c.Regs.Rax))
	}
	if q.Wake(c, 0) {
		t.Fatal("woke a thread that had timed out")
	}
}

func TestFutexWakeAndRequeue(t *testing.T) {
	f := NewFutexes()
	var ts []*task.Thread
	for i := 0; i < 4; i++ {
		th := &task.Thread{TID: i}
		ts = append(ts, th)
		if !f.Wait(th, 100, ^uint32(0), func() bool { return true }) {
			t.Fatal("wait refused")
		}
	}
	if f.Wait(&task.Thread{}, 100, 1, func() bool { return false }) {
		t.Fatal("wait queued although the value changed")
	}
	if w := f.Wake(100, 1, ^uint32(0)); len(w) != 1 || w[0] != ts[0] {
		t.Fatalf("wake 1: %v", w)
	}
	woken, moved := f.Requeue(100, 200, 1, 5)
	if len(woken) != 1 || moved != 2 {
		t.Fatalf("requeue: woken %d moved %d", len(woken), moved)
	}
	f.Drop(ts[3])
	if w := f.Wake(200, 10, ^uint32(0)); len(w) != 1 || w[0] != ts[2] {
		t.Fatalf("after requeue and drop: %v", w)
	}
	if len(f.Waiters) != 0 {
		t.Fatalf("table not empty: %v", f.Waiters)
	}
}

func TestNowIsMonotonicClock(t *testing.T) {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	before := ts.Nano()
	now := Now()
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	if now < before || now > ts.Nano() {
		t.Fatalf("Now %d outside CLOCK_MONOTONIC [%d, %d]", now, before, ts.Nano())
	}
}
