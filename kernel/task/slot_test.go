package task

import (
	"sync"
	"testing"
)

// TestReserveSlot checks that threads created at once on several CPUs get
// distinct IKC slots, and that a slot comes back once its thread ends or
// is not created.
func TestReserveSlot(t *testing.T) {
	p := &Process{}
	p.AddThread(&Thread{Slot: p.ReserveSlot()})
	const n = 64
	slots := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s := p.ReserveSlot()
			p.AddThread(&Thread{Slot: s, Proc: p})
			slots <- s
		})
	}
	wg.Wait()
	close(slots)
	seen := map[int]bool{0: true}
	for s := range slots {
		if seen[s] {
			t.Fatalf("slot %d given twice", s)
		}
		seen[s] = true
	}
	if len(p.Threads) != n+1 {
		t.Fatalf("%d threads, want %d", len(p.Threads), n+1)
	}
	gone := p.Threads[5]
	p.RemoveThread(gone)
	if s := p.ReserveSlot(); s != gone.Slot {
		t.Errorf("after the end of the thread of slot %d, ReserveSlot gave %d", gone.Slot, s)
	} else if p.UnreserveSlot(s); p.ReserveSlot() != s {
		t.Errorf("an unreserved slot %d was not given again", s)
	}
}
