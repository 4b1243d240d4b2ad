package sched

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestIdleEnds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pollNs   int64
		deadline time.Duration // from now; 0: none
		kickIn   time.Duration // a kick from another goroutine after this; <0: none
		early    bool          // kicked before the wait begins
		atLeast  time.Duration
	}{
		{name: "kicked before", early: true, kickIn: -1},
		{name: "kicked while polling", pollNs: pollMax, kickIn: 20 * time.Microsecond},
		{name: "kicked while asleep", kickIn: 5 * time.Millisecond, atLeast: 5 * time.Millisecond},
		{name: "deadline while asleep", deadline: 3 * time.Millisecond, kickIn: -1, atLeast: 3 * time.Millisecond},
		{name: "deadline while polling", pollNs: pollMax, deadline: 50 * time.Microsecond, kickIn: -1, atLeast: 50 * time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQueue()
			q.idle.pollNs = tc.pollNs
			seen := q.Kicks()
			if tc.early {
				q.Kick()
			}
			if tc.kickIn >= 0 {
				time.AfterFunc(tc.kickIn, q.Kick)
			}
			var deadline int64
			if tc.deadline > 0 {
				deadline = Now() + int64(tc.deadline)
			}
			start := time.Now()
			done := make(chan struct{})
			go func() { q.Idle(seen, deadline); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Idle did not end")
			}
			if took := time.Since(start); took < tc.atLeast {
				t.Errorf("Idle ended after %v, want at least %v", took, tc.atLeast)
			}
		})
	}
}

func TestIdlePollAdapts(t *testing.T) {
	var i idler
	// Short sleeps ended by kicks grow the window up to the largest.
	for range 5 {
		seen := atomic.LoadUint32(&i.kicks)
		atomic.AddUint32(&i.kicks, 1)
		i.adapt(seen, i.pollNs+1, NewQueue())
	}
	if i.pollNs != pollMax {
		t.Fatalf("after short sleeps: window %d ns, want %d", i.pollNs, pollMax)
	}
	// A kick caught while polling keeps it.
	seen := atomic.LoadUint32(&i.kicks)
	atomic.AddUint32(&i.kicks, 1)
	i.adapt(seen, 1000, NewQueue())
	if i.pollNs != pollMax {
		t.Fatalf("after a caught kick: window %d ns", i.pollNs)
	}
	// Long idle periods shrink it to nothing.
	for range 5 {
		i.adapt(atomic.LoadUint32(&i.kicks), 10*pollMax, NewQueue())
	}
	if i.pollNs != 0 {
		t.Fatalf("after long idle periods: window %d ns, want 0", i.pollNs)
	}
}
