package main

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resetAndRaise sets sig's action to SIG_DFL behind the Go runtime's back
// (signal.Reset would reinstall the runtime's own handler for synchronous
// signals such as SIGSEGV) and sends it to this thread, so mcexec's parent
// sees the app's death by that very signal.
func resetAndRaise(sig syscall.Signal) {
	// The unblock and the signal must concern the same thread.
	runtime.LockOSThread()
	var act [4]uint64 // handler SIG_DFL, no flags, no restorer, empty mask
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act[0])), 0, 8, 0, 0)
	var set [1]uint64
	set[0] = 1 << (uint(sig) - 1)
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set[0])), 0, 8, 0, 0)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	time.Sleep(100 * time.Millisecond)
}
