package lwk

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gomck/gomck/inspect/layout"
)

// TestReadDetails reads the signal and wait state of the seed's process,
// with the whole layout and with the declared fields only (kernelFields);
// and refuses a pid that is not there.
func TestReadDetails(t *testing.T) {
	l := kernelLayout(t)
	s := seedImage(l)
	complete(s)
	m := s.img
	const Proc, Thread = "kernel/task.Process", "kernel/task.Thread"
	// SIGUSR1: a handler with SA_SIGINFO|SA_RESTART blocking SIGINT.
	acts, typ := m.at(s.proc, Proc, "SigActs")
	elem := l.Types[typ.Elem].Size
	m.put(acts+10*int(elem), 0x401000, 0x10000004, 0x402000, 1<<1)
	m.set(s.proc, Proc, "Pending", 1<<14)                 // SIGTERM, to the process
	m.words(s.proc, Proc, "Queued", 1, 34, 0, 0, 0, 0, 0) // one more SIGRTMIN queued
	for i, th := range s.threads {
		m.set(th, Thread, "SigMask", uint64(1)<<(i+1))
	}
	// Thread 102 (the last in the image: its fields past the counters
	// do not overlap another record) waits on a futex with a deadline.
	last := s.threads[1]
	m.set(last, Thread, "Pending", 1<<9)
	m.set(last, Thread, "Waiting", 1)
	m.set(last, Thread, "FutexKey", 0xbe3a8)
	m.set(last, Thread, "Deadline", 5e9)
	want := &Details{PID: 100, Pending: 1 << 14, Queued: []QueuedSignal{{Sig: 34}},
		Threads: []ThreadDetails{{TID: 101, Blocked: 1 << 1}, {TID: 102, Blocked: 1 << 2, Pending: 1 << 9, InFutex: true, Futex: 0xbe3a8, Deadline: 5e9}}}
	for sig := 1; sig <= 64; sig++ {
		want.Actions = append(want.Actions, SigAction{Sig: sig})
	}
	want.Actions[9] = SigAction{Sig: 10, Handler: 0x401000, Flags: 0x10000004, Restorer: 0x402000, Mask: 1 << 1}
	for _, tc := range []struct {
		name string
		l    *layout.Layout
	}{{"whole layout", l}, {"declared fields", declaredOnly(l)}} {
		got, err := ReadDetails(target(tc.l, &garbage{data: m.b}), tc.l, 100)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read\n%+v\nwant\n%+v", tc.name, got, want)
		}
	}
	if _, err := ReadDetails(target(l, &garbage{data: m.b}), l, 7); err == nil || !strings.Contains(err.Error(), "no LWK process 7") {
		t.Errorf("details of a missing pid: %v", err)
	}
}
