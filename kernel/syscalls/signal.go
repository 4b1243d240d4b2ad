package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/proc"
)

// Signals are LWK state. Until handler delivery lands, a signal sent to the
// app takes its default action: ignored for the ignore-by-default set,
// otherwise it ends the process.
func init() {
	register(sysRtSigaction, unix.SYS_RT_SIGACTION)
	register(sysRtSigprocmask, unix.SYS_RT_SIGPROCMASK)
	register(zero, unix.SYS_SIGALTSTACK)
	register(sysKill, unix.SYS_KILL)
	register(sysTgkill, unix.SYS_TGKILL)
	register(sysTkill, unix.SYS_TKILL)
	register(enosys, unix.SYS_RT_SIGRETURN, unix.SYS_RT_SIGSUSPEND, unix.SYS_RT_SIGTIMEDWAIT,
		unix.SYS_RT_SIGQUEUEINFO, unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_PAUSE, unix.SYS_ALARM,
		unix.SYS_SETITIMER, unix.SYS_GETITIMER, unix.SYS_RT_SIGPENDING)
}

func sysRtSigaction(c *Call) int64 {
	sig, act, old := int(c.Args[0]), c.Args[1], c.Args[2]
	p := c.T.Proc
	if sig < 1 || sig >= len(p.SigActs) || act != 0 && (sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP)) {
		return -int64(unix.EINVAL)
	}
	if old != 0 {
		if r := copyOut(c, old, bytesOf(&p.SigActs[sig])); r < 0 {
			return r
		}
	}
	if act != 0 {
		var a proc.SigAction
		if r := copyIn(c, act, bytesOf(&a)); r < 0 {
			return r
		}
		p.SigActs[sig] = a
	}
	return 0
}

func sysRtSigprocmask(c *Call) int64 {
	how, set, old := c.Args[0], c.Args[1], c.Args[2]
	t := c.T
	if old != 0 {
		if r := putUint64(c, old, t.SigMask); r < 0 {
			return r
		}
	}
	if set == 0 {
		return 0
	}
	var m [8]byte
	if r := copyIn(c, set, m[:]); r < 0 {
		return r
	}
	v := uint64(m[0]) | uint64(m[1])<<8 | uint64(m[2])<<16 | uint64(m[3])<<24 | uint64(m[4])<<32 | uint64(m[5])<<40 | uint64(m[6])<<48 | uint64(m[7])<<56
	v &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
	switch how {
	case unix.SIG_BLOCK:
		t.SigMask |= v
	case unix.SIG_UNBLOCK:
		t.SigMask &^= v
	case unix.SIG_SETMASK:
		t.SigMask = v
	default:
		return -int64(unix.EINVAL)
	}
	return 0
}

func sysKill(c *Call) int64 {
	if pid := int(int32(c.Args[0])); pid != c.T.Proc.PID && pid != 0 && pid != -c.T.Proc.PGID {
		return -int64(unix.ESRCH)
	}
	return signalSelf(c, int(c.Args[1]))
}

func sysTgkill(c *Call) int64 {
	if int(c.Args[0]) != c.T.Proc.PID || ownThread(c, int(c.Args[1])) == nil {
		return -int64(unix.ESRCH)
	}
	return signalSelf(c, int(c.Args[2]))
}

func sysTkill(c *Call) int64 {
	if ownThread(c, int(c.Args[0])) == nil {
		return -int64(unix.ESRCH)
	}
	return signalSelf(c, int(c.Args[1]))
}

func ownThread(c *Call, tid int) *proc.Thread {
	for _, t := range c.T.Proc.Threads {
		if t.TID == tid {
			return t
		}
	}
	return nil
}

// IgnoredByDefault reports signals whose default action is to ignore.
func IgnoredByDefault(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT:
		return true
	}
	return false
}

func signalSelf(c *Call, sig int) int64 {
	if sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	if sig == 0 || IgnoredByDefault(sig) || c.T.Proc.SigActs[sig].Handler == 1 /* SIG_IGN */ {
		return 0
	}
	c.Action, c.ExitSignal = ExitProcess, sig
	return 0
}
