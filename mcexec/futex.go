package mcexec

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Private futex operations (FUTEX_WAIT|FUTEX_PRIVATE_FLAG, FUTEX_WAKE|...).
const (
	futexWaitPrivate = 128
	futexWakePrivate = 129
)

// futexWaitZero waits until *word is 0, at most timeout; it reports
// whether it is.
func futexWaitZero(word *int32, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		v := atomic.LoadInt32(word)
		if v == 0 {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		ts := unix.NsecToTimespec(int64(left))
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitPrivate, uintptr(uint32(v)),
			uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
}

// futexWakeAll wakes every futexWaitZero on word.
func futexWakeAll(word *int32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakePrivate, 1<<30, 0, 0, 0)
}
