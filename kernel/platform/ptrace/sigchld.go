package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// quietChildStops adds SA_NOCLDSTOP to the daemon's SIGCHLD action while
// keeping the Go runtime's handler. Every ptrace stop of a stub otherwise
// sends the daemon a SIGCHLD, which costs about a fifth of a local syscall
// round trip.
func quietChildStops() error {
	type sigaction struct {
		handler  uintptr
		flags    uint64
		restorer uintptr
		mask     uint64
	}
	const saNoCldStop = 1
	var act sigaction
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); e != 0 {
		return e
	}
	act.flags |= saNoCldStop
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		return e
	}
	return nil
}
