package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/task"
)

// Processes: fork, vfork and clone without CLONE_THREAD make a new LWK
// process with a copy of the address space and a new mcexec holding a copy
// of the descriptor table; wait4 and waitid reap them.
func init() {
	register(sysFork, unix.SYS_FORK)
	register(sysVfork, unix.SYS_VFORK)
	register(sysWait4, unix.SYS_WAIT4)
	register(sysWaitid, unix.SYS_WAITID)
}

// forkAccepted are the flags a process-creating clone may carry. CLONE_VM
// (vfork, posix_spawn, Go's os/exec) is served as a copy: the child's
// stores before its exec stay its own, which POSIX leaves undefined and
// those callers do not rely on beyond reporting an exec failure, which
// they also pass through a pipe or the exit status. CLONE_VFORK suspends
// the parent until the child execs or exits, as Linux does.
const forkAccepted = unix.CLONE_VM | unix.CLONE_VFORK | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
	unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | 0xff

func sysFork(c *Call) int64 {
	return fork(c, uint64(unix.SIGCHLD), 0, 0, 0, 0)
}

func sysVfork(c *Call) int64 {
	return fork(c, uint64(unix.SIGCHLD|unix.CLONE_VM|unix.CLONE_VFORK), 0, 0, 0, 0)
}

// fork creates a child process; flags, stack, ptid, ctid and tls are
// clone's.
func fork(c *Call, flags, stack, ptid, ctid, tls uint64) int64 {
	if flags&^forkAccepted != 0 {
		return -int64(unix.EINVAL)
	}
	regs := childRegs(c, flags, stack, tls)
	k := c.Env.Kernel
	child, err := k.Fork(c.T, regs, int(flags&0xff))
	if err != nil {
		return errno(err)
	}
	vfork := flags&unix.CLONE_VFORK != 0
	if vfork {
		child.VforkParent = c.T // before the child can run: it wakes the parent
	}
	pid := offloadCallWhile(c, ikc.NrFork, ikc.ForkArgs(child.Token, k.ChildPIDs(c.T.Proc)), nil,
		func() { k.Stage(c.T, child) })
	var ferr error
	if pid < 0 {
		ferr = unix.Errno(-pid)
	}
	// The tid words are written before the child can run (on another CPU
	// it may run at once): it reads its own from its thread descriptor.
	prepare := func() {
		if flags&unix.CLONE_CHILD_SETTID != 0 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(pid))
			child.MM.CopyOut(ctid, b[:])
		}
		if flags&unix.CLONE_CHILD_CLEARTID != 0 {
			child.Threads[0].ClearChildTID = ctid
		}
		if flags&unix.CLONE_PARENT_SETTID != 0 {
			putUint32(c, ptid, uint32(pid))
		}
		perfCloned(c.T, child.Threads[0])
	}
	if err := k.Forked(c.T.Proc, child, int(pid), ferr, prepare); err != nil {
		switch {
		case ferr != nil:
			return pid
		case err == unix.ENOMEM: // Stage could not copy the memory
			return -int64(unix.ENOMEM)
		}
		return -int64(unix.EAGAIN)
	}
	if vfork {
		// The child's exec or exit wakes the thread with the pid.
		c.T.VforkChild = int(pid)
		k.Sleep(c.T, 0, 0)
		c.Action = Block
	}
	return pid
}

// wait options.
const (
	wNoHang   = 1
	wExited   = 4
	wNoWait   = 0x1000000
	waitFlags = wNoHang | unix.WUNTRACED | wExited | unix.WCONTINUED | wNoWait |
		unix.WALL | unix.WCLONE | unix.WNOTHREAD
)

func sysWait4(c *Call) int64 {
	pid, status, options, rusage := int(int32(c.Args[0])), c.Args[1], c.Args[2], c.Args[3]
	if options&^(waitFlags&^(wExited|wNoWait)) != 0 {
		return -int64(unix.EINVAL)
	}
	if pid == -1<<31 {
		return -int64(unix.ESRCH)
	}
	st, r := waitFor(c, pid, options|wExited)
	if r <= 0 {
		return r
	}
	if status != 0 {
		if r := putUint32(c, status, uint32(st.Status())); r < 0 {
			return r
		}
	}
	if rusage != 0 {
		ru := rusageOf(st)
		if r := copyOut(c, rusage, bytesOf(&ru)); r < 0 {
			return r
		}
	}
	return int64(st.PID)
}

// waitid idtypes.
const (
	pAll  = 0
	pPID  = 1
	pPGID = 2
)

func sysWaitid(c *Call) int64 {
	idtype, id, infop, options := c.Args[0], int(int32(c.Args[1])), c.Args[2], c.Args[3]
	if options&^waitFlags != 0 || options&(wExited|unix.WSTOPPED|unix.WCONTINUED) == 0 {
		return -int64(unix.EINVAL)
	}
	var pid int
	switch idtype {
	case pAll:
		pid = -1
	case pPID:
		if id <= 0 {
			return -int64(unix.EINVAL)
		}
		pid = id
	case pPGID:
		pid = -id // 0: the caller's group
	default:
		return -int64(unix.EINVAL)
	}
	st, r := waitFor(c, pid, options)
	if r < 0 || c.Action == Block {
		return r
	}
	var info task.SigInfo
	sig := 0
	if r > 0 {
		sig, info = int(unix.SIGCHLD), st.SigInfo()
	}
	if infop != 0 {
		b := info.Bytes(sig)
		if r := copyOut(c, infop, b[:]); r < 0 {
			return r
		}
	}
	if ruAddr := c.Args[4]; ruAddr != 0 { // the raw call's fifth argument
		ru := rusageOf(st)
		if r := copyOut(c, ruAddr, bytesOf(&ru)); r < 0 {
			return r
		}
	}
	return 0
}

// rusageOf is wait's rusage for a change: an exited child's usage, its
// reaped children's included; zeros for a stop or a continue (or none).
func rusageOf(st task.WaitStatus) unix.Rusage { return rusage(st.Usage, st.MaxRSS) }

// waitFor takes a matching child's change that options ask for (its pid
// > 0 is returned), returns 0 for WNOHANG with none, or blocks until a
// child changes: the call then runs again.
func waitFor(c *Call, pid int, options uint64) (task.WaitStatus, int64) {
	k := c.Env.Kernel
	st, found, ok := k.WaitChild(c.T, pid, int(options))
	switch {
	case !found:
		return st, -int64(unix.ECHILD)
	case ok:
		return st, int64(st.PID)
	case options&wNoHang != 0:
		return st, 0
	}
	c.T.WaitChild, c.T.WaitPID = true, pid
	k.Sleep(c.T, 0, 0)
	c.Action = Block
	return st, 0
}
