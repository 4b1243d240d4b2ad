package mcexec

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/futex"
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
		futex.Wait((*uint32)(unsafe.Pointer(word)), uint32(v), &ts)
	}
}

// futexWakeAll wakes every futexWaitZero on word.
func futexWakeAll(word *int32) {
	futex.Wake((*uint32)(unsafe.Pointer(word)), 1<<30)
}
