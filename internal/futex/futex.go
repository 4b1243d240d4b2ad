// Package futex wraps the two private futex operations that gomck's Go
// code needs on words it shares between its own threads: the LWK CPUs'
// idle wait (kernel/sched) and mcexec's worker drain. x/sys/unix has the
// system call but no wrapper, and the runtime's own futex is not exported.
// Futexes in memory shared with another process (the IKC channels) use
// the shared forms in delegator/ikc.
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
