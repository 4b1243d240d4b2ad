// Package futex wraps the futex operations that gomck's Go code needs on
// words it shares between its own threads: the two private ones, for the
// LWK CPUs' idle wait (kernel/sched) and mcexec's worker drain, and
// futex_waitv, on which an idle LWK CPU sleeps on its own word and on the
// IKC slots its parked threads wait for at once. x/sys/unix has the
// system calls but no wrappers, and the runtime's own futex is not
// exported. Other futexes in memory shared with another process (the IKC
// channels) use the shared forms in delegator/ikc.
package futex

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// FUTEX_WAIT and FUTEX_WAKE with FUTEX_PRIVATE_FLAG.
const (
	waitPrivate = 128
	wakePrivate = 129
)

// Wait sleeps while *addr is val, until a Wake, a signal or the timeout
// (nil: none) ends it; the caller checks the word again.
func Wait(addr *uint32, val uint32, timeout *unix.Timespec) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), waitPrivate, uintptr(val), uintptr(unsafe.Pointer(timeout)), 0, 0)
}

// Wake wakes up to n waiters on addr.
func Wake(addr *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), wakePrivate, uintptr(n), 0, 0, 0)
}

// MaxWaiters is the most words one WaitV sleeps on (FUTEX_WAITV_MAX).
const MaxWaiters = 128

// futex_waitv's flags: a 32-bit word, private or not.
const (
	size32         = 0x02
	private2       = 128
	sysWaitv       = 449
	clockMonotonic = 1
)

// waitv is struct futex_waitv.
type waitv struct {
	val   uint64
	uaddr uint64
	flags uint32
	_     uint32
}

// A Set is the words one WaitV sleeps on, built anew before each sleep:
// an idle LWK CPU sleeps on its kick word and on the IKC slots of the
// offloaded calls its parked threads wait for. Its array is reused, so
// building it allocates nothing.
type Set struct {
	ws [MaxWaiters]waitv
	n  int
}

// Reset empties the set.
func (s *Set) Reset() { s.n = 0 }

// Add adds addr, to sleep while it holds val; shared words are in memory
// another process maps (woken by a shared FUTEX_WAKE). It reports false
// when the set is full.
func (s *Set) Add(addr *uint32, val uint32, shared bool) bool {
	if s.n == MaxWaiters {
		return false
	}
	f := uint32(size32)
	if !shared {
		f |= private2
	}
	s.ws[s.n] = waitv{val: uint64(val), uaddr: uint64(uintptr(unsafe.Pointer(addr))), flags: f}
	s.n++
	return true
}

// Wait sleeps while every word of the set holds its value, until a wake
// of any of them, a signal, or deadline (CLOCK_MONOTONIC ns; 0: none);
// the caller checks the words again.
func (s *Set) Wait(deadline int64) {
	var ts *unix.Timespec
	if deadline > 0 {
		t := unix.NsecToTimespec(deadline)
		ts = &t
	}
	unix.Syscall6(sysWaitv, uintptr(unsafe.Pointer(&s.ws[0])), uintptr(s.n), 0, uintptr(unsafe.Pointer(ts)), clockMonotonic, 0)
}
