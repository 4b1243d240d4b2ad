package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

func init() {
	register(sysExitGroup, unix.SYS_EXIT_GROUP)
	register(sysExit, unix.SYS_EXIT)
	register(sysClone, unix.SYS_CLONE)
	register(sysArchPrctl, unix.SYS_ARCH_PRCTL)
}

func sysExitGroup(c *Call) int64 {
	c.Action, c.ExitCode = ExitProcess, int(c.Args[0]&0xff)
	return 0
}

func sysExit(c *Call) int64 {
	c.Action, c.ExitCode = ExitThread, int(c.Args[0]&0xff)
	return 0
}

// Flags a thread-creating clone must have, and those accepted with it
// (CLONE_FS/FILES/SYSVSEM are no-ops: mcexec holds those for the process).
const (
	cloneThread   = unix.CLONE_VM | unix.CLONE_SIGHAND | unix.CLONE_THREAD
	cloneAccepted = cloneThread | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS |
		unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID
)

// sysClone creates threads, or processes when CLONE_THREAD is absent.
func sysClone(c *Call) int64 {
	flags, stack, ptid, ctid, tls := c.Args[0], c.Args[1], c.Args[2], c.Args[3], c.Args[4]
	if flags&unix.CLONE_THREAD == 0 {
		return fork(c, flags, stack, ptid, ctid, tls)
	}
	if flags&cloneThread != cloneThread {
		return -int64(unix.EINVAL)
	}
	if flags&^(cloneAccepted|0xff) != 0 {
		return -int64(unix.EINVAL)
	}
	p := c.T.Proc
	if !c.Env.Oversubscribe && len(p.Threads) >= len(c.Env.HostCPUs) {
		// McKernel refuses more threads than CPUs without -O.
		return -int64(unix.EINVAL)
	}
	regs := childRegs(c, flags, stack, tls)
	// The tid words are written, and the clear-child-tid address set,
	// before the thread can run: on another CPU it may exit at once, and
	// its exit must clear and wake what pthread_join will wait on.
	t, err := c.Env.Kernel.Clone(c.T, regs, func(t *task.Thread) {
		if flags&unix.CLONE_PARENT_SETTID != 0 {
			putUint32(c, ptid, uint32(t.TID))
		}
		if flags&unix.CLONE_CHILD_SETTID != 0 {
			putUint32(c, ctid, uint32(t.TID))
		}
		if flags&unix.CLONE_CHILD_CLEARTID != 0 {
			t.ClearChildTID = ctid
		}
		perfCloned(c.T, t)
	})
	if err != nil {
		return errno(err)
	}
	return int64(t.TID)
}

// childRegs are the registers a clone child starts with: the caller's,
// returning 0, on the new stack and TLS if given.
func childRegs(c *Call, flags, stack, tls uint64) unix.PtraceRegs {
	regs := c.T.Regs
	regs.Rax = 0
	if stack != 0 {
		regs.Rsp = stack
	}
	if flags&unix.CLONE_SETTLS != 0 {
		regs.Fs_base = tls
	}
	return regs
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
