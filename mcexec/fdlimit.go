package mcexec

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The app's descriptors are those below ReservedFD. Its RLIMIT_NOFILE is
// capped there (appRlimit), and a call that would hand it a descriptor of
// mcexec's range gets EMFILE instead (belowReserved), as a table full at
// the limit would give.

// appRlimit is mcexec's own limit of resource r as the app starts with it.
func appRlimit(r int, l unix.Rlimit) unix.Rlimit {
	if r == unix.RLIMIT_NOFILE {
		l.Cur, l.Max = min(l.Cur, ReservedFD), min(l.Max, ReservedFD)
	}
	return l
}

// belowReserved takes back what call nr with arguments a gave the app at
// or above ReservedFD, returning the call's result r or EMFILE.
func belowReserved(nr uint64, a [6]uint64, r int64) int64 {
	if r < 0 {
		return r
	}
	var pairAt uint64
	switch nr {
	case unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_CREAT, unix.SYS_OPEN_BY_HANDLE_AT,
		unix.SYS_SOCKET, unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_DUP,
		unix.SYS_EPOLL_CREATE, unix.SYS_EPOLL_CREATE1, unix.SYS_EVENTFD, unix.SYS_EVENTFD2,
		unix.SYS_SIGNALFD, unix.SYS_SIGNALFD4, unix.SYS_TIMERFD_CREATE, unix.SYS_INOTIFY_INIT,
		unix.SYS_INOTIFY_INIT1, unix.SYS_FANOTIFY_INIT, unix.SYS_MEMFD_CREATE, unix.SYS_USERFAULTFD,
		unix.SYS_PIDFD_OPEN, unix.SYS_PIDFD_GETFD, unix.SYS_IO_URING_SETUP:
		if r >= ReservedFD {
			unix.Close(int(r))
			return -int64(unix.EMFILE)
		}
		return r
	case unix.SYS_FCNTL:
		if (a[1] == unix.F_DUPFD || a[1] == unix.F_DUPFD_CLOEXEC) && r >= ReservedFD {
			unix.Close(int(r))
			return -int64(unix.EMFILE)
		}
		return r
	case unix.SYS_PIPE, unix.SYS_PIPE2:
		pairAt = a[0]
	case unix.SYS_SOCKETPAIR:
		pairAt = a[3]
	default:
		return r
	}
	// The pair is in app memory, which mcexec maps at the same address;
	// process_vm_readv reads it without turning an integer into a pointer.
	var pair [2]int32
	local := []unix.Iovec{{Base: (*byte)(unsafe.Pointer(&pair)), Len: uint64(unsafe.Sizeof(pair))}}
	remote := []unix.RemoteIovec{{Base: uintptr(pairAt), Len: int(unsafe.Sizeof(pair))}}
	if _, err := unix.ProcessVMReadv(os.Getpid(), local, remote, 0); err != nil || max(pair[0], pair[1]) < ReservedFD {
		return r
	}
	unix.Close(int(pair[0]))
	unix.Close(int(pair[1]))
	return -int64(unix.EMFILE)
}
