package sched

import (
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// fakeAnswer is an offloaded call's slot: 0 while in flight, 1 once
// answered, with ret as its result.
type fakeAnswer struct {
	word  uint32
	ret   int64
	taken int
}

func (a *fakeAnswer) Word() (*uint32, uint32, bool) {
	v := atomic.LoadUint32(&a.word)
	return &a.word, v, v == 1
}

func (a *fakeAnswer) Take() int64 { a.taken++; return a.ret }

// answer stores the answer and wakes a sleeper on the word with a shared
// FUTEX_WAKE, as ikc's Complete does.
func (a *fakeAnswer) answer() {
	atomic.StoreUint32(&a.word, 1)
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&a.word)), 1, 1, 0, 0, 0)
}

// tidOf is t's TID, 0 for none.
func tidOf(t *task.Thread) int {
	if t == nil {
		return 0
	}
	return t.TID
}

func TestReapWakesParked(t *testing.T) {
	q := NewQueue()
	a, b, gone := &task.Thread{TID: 1}, &task.Thread{TID: 2}, &task.Thread{TID: 3}
	aa, ba, ga := &fakeAnswer{ret: 7}, &fakeAnswer{ret: 8}, &fakeAnswer{ret: 9}
	q.ParkOffload(a, aa)
	q.ParkOffload(b, ba)
	q.ParkOffload(gone, ga)
	q.Remove(gone) // its process ended: its answer is still taken
	stop := q.SpinStop()
	if n := q.Reap(); n != 0 || q.Waiting(0) || stop.Stop() {
		t.Fatalf("nothing answered: reaped %d, waiting %v, stop %v", n, q.Waiting(0), stop.Stop())
	}
	atomic.StoreUint32(&ba.word, 1)
	atomic.StoreUint32(&ga.word, 1)
	if !stop.Stop() || !q.Waiting(0) {
		t.Fatal("an answer neither stops the spin nor makes the CPU wanted")
	}
	if n := q.Reap(); n != 2 || !q.Resched() {
		t.Fatalf("reaped %d, want 2, and a reschedule", n)
	}
	if got := q.Pop(0); got != b || int64(b.Regs.Rax) != 8 {
		t.Fatalf("popped thread %d with rax %d, want thread 2 with 8", tidOf(got), int64(b.Regs.Rax))
	}
	if got := q.Pop(0); got != nil || ga.taken != 1 || gone.State != task.Zombie {
		t.Fatalf("the ended thread ran (thread %d) or its answer was not taken (%d)", tidOf(got), ga.taken)
	}
	if len(q.parked) != 1 || q.parked[0].t != a || aa.taken != 0 {
		t.Fatalf("parked %v", q.parked)
	}
}

func TestIdleEndsOnAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pollNs int64
		parked int // calls parked; the last one is answered
		idles  int // Idle's returns until the answer; 0: any
	}{
		{name: "answered while polling", pollNs: pollMax, parked: 1, idles: 1},
		{name: "answered while asleep", parked: 3, idles: 1},
		// More words than futex_waitv takes: the sleep ends every
		// pollFull to look at the ones it could not watch.
		{name: "answer beyond the watched words", parked: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQueue()
			q.idle.pollNs = tc.pollNs
			var last *fakeAnswer
			for i := range tc.parked {
				last = &fakeAnswer{}
				q.ParkOffload(&task.Thread{TID: i + 1}, last)
			}
			seen := q.Kicks()
			time.AfterFunc(2*time.Millisecond, last.answer)
			idles := make(chan int, 1)
			go func() {
				n := 0
				for n == 0 || !q.answered() {
					q.Idle(seen, 0)
					n++
				}
				idles <- n
			}()
			select {
			case n := <-idles:
				if tc.idles != 0 && n != tc.idles {
					t.Fatalf("Idle returned %d times, want %d (it ended without the answer)", n, tc.idles)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Idle did not end with the answer")
			}
			if n := q.Reap(); n != 1 {
				t.Fatalf("reaped %d, want 1", n)
			}
		})
	}
}
