package syscalls

import "golang.org/x/sys/unix"

func init() {
	register(sysExit, unix.SYS_EXIT, unix.SYS_EXIT_GROUP)
	register(sysArchPrctl, unix.SYS_ARCH_PRCTL)
	// McKernel does not implement these; glibc copes with ENOSYS.
	register(enosys, unix.SYS_RSEQ, unix.SYS_SET_ROBUST_LIST, unix.SYS_CLONE3)
	// Process and thread creation belong to the LWK and must never be
	// offloaded (a fork in mcexec would fork the proxy). Until the process
	// model lands they fail cleanly.
	register(enosys, unix.SYS_CLONE, unix.SYS_FORK, unix.SYS_VFORK, unix.SYS_EXECVE, unix.SYS_EXECVEAT,
		unix.SYS_WAIT4, unix.SYS_WAITID, unix.SYS_PTRACE, unix.SYS_FUTEX, unix.SYS_GET_ROBUST_LIST)
	register(zero, unix.SYS_SCHED_YIELD)
}

func sysExit(c *Call) int64 {
	c.Action, c.ExitCode = ExitProcess, int(c.Args[0]&0xff)
	return 0
}

const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

func sysArchPrctl(c *Call) int64 {
	r := &c.T.Regs
	switch c.Args[0] {
	case archSetFS:
		r.Fs_base = c.Args[1]
	case archSetGS:
		r.Gs_base = c.Args[1]
	case archGetFS:
		return putUint64(c, c.Args[1], r.Fs_base)
	case archGetGS:
		return putUint64(c, c.Args[1], r.Gs_base)
	default:
		return -int64(unix.EINVAL)
	}
	return 0
}
