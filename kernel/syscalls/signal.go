package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/signal"
	"github.com/gomck/gomck/kernel/task"
)

// Signals are LWK state. Until handler delivery lands, a signal sent to the
// app takes its default action: ignored for the ignore-by-default set,
// otherwise it ends the process.
func init() {
	register(sysRtSigaction, unix.SYS_RT_SIGACTION)
	register(sysRtSigprocmask, unix.SYS_RT_SIGPROCMASK)
	register(sysSigaltstack, unix.SYS_SIGALTSTACK)
	register(sysRtSigreturn, unix.SYS_RT_SIGRETURN)
	register(sysRtSigpending, unix.SYS_RT_SIGPENDING)
	register(sysPause, unix.SYS_PAUSE)
	register(sysKill, unix.SYS_KILL)
	register(sysTgkill, unix.SYS_TGKILL)
	register(sysTkill, unix.SYS_TKILL)
	register(sysRtSigsuspend, unix.SYS_RT_SIGSUSPEND)
	register(sysRtSigtimedwait, unix.SYS_RT_SIGTIMEDWAIT)
	register(sysRtSigqueueinfo, unix.SYS_RT_SIGQUEUEINFO)
	register(sysRtTgsigqueueinfo, unix.SYS_RT_TGSIGQUEUEINFO)
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
		var a task.SigAction
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
	v := binary.LittleEndian.Uint64(m[:])
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

// sysKill signals LWK processes itself. LWK pids are their proxies' Linux
// pids, so a process group (pid 0, < -1), every process (-1) and pids
// that are not the LWK's are Linux's: the call is offloaded, and the
// proxies of LWK processes among the targets forward the signal.
func sysKill(c *Call) int64 {
	pid, sig := int(int32(c.Args[0])), int(int32(c.Args[1]))
	p := c.T.Proc
	if pid == p.PID {
		return send(c, nil, sig, siUser)
	}
	if pid <= 0 {
		return offload(c)
	}
	if sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	if c.Env.Kernel.KillPID(c.T, pid, sig, task.SigInfo{Code: siUser, PID: int32(p.PID), UID: uint32(p.Cred.UID)}) {
		return 0
	}
	return offload(c)
}

// sysRtSigqueueinfo sends a signal with the caller's siginfo (sigqueue)
// to its own process; others are Linux's or not supported.
func sysRtSigqueueinfo(c *Call) int64 {
	return sigqueue(c, int(int32(c.Args[0])), 0, int(c.Args[1]), c.Args[2])
}

func sysRtTgsigqueueinfo(c *Call) int64 {
	return sigqueue(c, int(int32(c.Args[0])), int(int32(c.Args[1])), int(c.Args[2]), c.Args[3])
}

func sigqueue(c *Call, pid, tid, sig int, uinfo uint64) int64 {
	var b [128]byte
	if r := copyIn(c, uinfo, b[:]); r < 0 {
		return r
	}
	le := binary.LittleEndian
	info := task.SigInfo{Code: int32(le.Uint32(b[8:])), PID: int32(le.Uint32(b[16:])), UID: le.Uint32(b[20:]), Value: le.Uint64(b[24:])}
	if info.Code >= 0 || info.Code == siTkill {
		return -int64(unix.EPERM) // only the kernel sends those
	}
	if pid != c.T.Proc.PID {
		return -int64(unix.ESRCH)
	}
	var t *task.Thread
	if tid != 0 {
		if t = ownThread(c, tid); t == nil {
			return -int64(unix.ESRCH)
		}
	}
	if sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	if sig != 0 {
		c.Env.Kernel.Signal(c.T.Proc, t, sig, info)
	}
	return 0
}

func sysTgkill(c *Call) int64 {
	t := ownThread(c, int(c.Args[1]))
	if int(c.Args[0]) != c.T.Proc.PID || t == nil {
		return -int64(unix.ESRCH)
	}
	return send(c, t, int(c.Args[2]), siTkill)
}

func sysTkill(c *Call) int64 {
	t := ownThread(c, int(c.Args[0]))
	if t == nil {
		return -int64(unix.ESRCH)
	}
	return send(c, t, int(c.Args[1]), siTkill)
}

func ownThread(c *Call, tid int) *task.Thread {
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

// send queues sig for thread t (nil: the process) with the sender's ids;
// it is delivered, or takes its default action, before the app resumes.
func send(c *Call, t *task.Thread, sig int, code int32) int64 {
	if sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	if sig == 0 {
		return 0
	}
	c.Env.Kernel.Signal(c.T.Proc, t, sig, task.SigInfo{Code: code, PID: int32(c.T.Proc.PID), UID: uint32(c.T.Proc.Cred.UID)})
	return 0
}

// si_code values: sent by kill, by tkill/tgkill, raised by the kernel.
const (
	siUser   = 0
	siTkill  = -6
	siKernel = 0x80
)

// signalSelf raises sig in the calling thread as the kernel does (SIGPIPE).
func signalSelf(c *Call, sig int) {
	c.Env.Kernel.Signal(c.T.Proc, c.T, sig, task.SigInfo{Code: siKernel})
}

func sysSigaltstack(c *Call) int64 {
	t := c.T
	if old := c.Args[1]; old != 0 {
		st := t.AltStack
		if signal.OnAltStack(t) {
			st.Flags |= 1 // SS_ONSTACK
		} else if st.Size == 0 {
			st.Flags = 2 // SS_DISABLE
		}
		if r := copyOut(c, old, bytesOf(&st)); r < 0 {
			return r
		}
	}
	if ss := c.Args[0]; ss != 0 {
		var st task.AltStack
		if r := copyIn(c, ss, bytesOf(&st)); r < 0 {
			return r
		}
		if signal.OnAltStack(t) {
			return -int64(unix.EPERM)
		}
		switch {
		case st.Flags == 2: // SS_DISABLE
			st = task.AltStack{}
		case st.Flags != 0 && uint32(st.Flags) != 1<<31: // SS_AUTODISARM accepted
			return -int64(unix.EINVAL)
		case st.Size < 2048: // MINSIGSTKSZ
			return -int64(unix.ENOMEM)
		}
		st.Flags = 0
		t.AltStack = st
	}
	return 0
}

// sysRtSigreturn unwinds a signal frame; the thread resumes where the
// (possibly edited) context says, with its FPU state from the frame.
func sysRtSigreturn(c *Call) int64 {
	t := c.T
	fp, err := signal.Return(t.Proc.MM, t, len(t.FPState))
	if err != nil {
		c.Action, c.ExitSignal = ExitProcess, int(unix.SIGSEGV)
		return 0
	}
	if fp != nil {
		t.FPState = fp
		t.Proc.StubOn(t.CPU).FPOwner = 0 // reload before resuming
	}
	return int64(t.Regs.Rax)
}

func sysRtSigpending(c *Call) int64 {
	return putUint64(c, c.Args[0], (c.T.Pending.Load()|c.T.Proc.Pending.Load())&c.T.SigMask)
}

// sysPause sleeps until a signal interrupts it (-EINTR).
func sysPause(c *Call) int64 {
	c.Env.Kernel.Sleep(c.T, 0, 0)
	c.Action = Block
	return 0
}

// sysRtSigsuspend waits with a temporary mask until a signal is delivered;
// the handler's sigreturn brings the old mask back.
func sysRtSigsuspend(c *Call) int64 {
	var m [8]byte
	if r := copyIn(c, c.Args[0], m[:]); r < 0 {
		return r
	}
	t := c.T
	t.SuspendMask, t.HasSuspendMask = t.SigMask, true
	t.SigMask = binary.LittleEndian.Uint64(m[:]) &^ (1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))
	if (t.Pending.Load()|t.Proc.Pending.Load())&^t.SigMask != 0 {
		// A signal the old mask held back is delivered now: no sleep.
		t.Interrupted.Store(true)
		return -int64(unix.EINTR)
	}
	c.Env.Kernel.Sleep(t, 0, 0)
	c.Action = Block
	return 0
}

// sysRtSigtimedwait takes a pending signal of the set, or sleeps until one
// comes (the call then runs again and takes it) or the timeout passes.
func sysRtSigtimedwait(c *Call) int64 {
	var m [8]byte
	if r := copyIn(c, c.Args[0], m[:]); r < 0 {
		return r
	}
	set := binary.LittleEndian.Uint64(m[:])
	k := c.Env.Kernel
	if sig, info, ok := k.TakeSignal(c.T, set); ok {
		if c.Args[1] != 0 {
			si := info.Bytes(sig)
			if r := copyOut(c, c.Args[1], si[:]); r < 0 {
				return r
			}
		}
		return int64(sig)
	}
	var deadline int64
	if c.Args[2] != 0 {
		var ts unix.Timespec
		if r := copyIn(c, c.Args[2], bytesOf(&ts)); r < 0 {
			return r
		}
		if ts.Sec == 0 && ts.Nsec == 0 {
			return -int64(unix.EAGAIN)
		}
		deadline = sched.Now() + ts.Nano()
	}
	c.T.WaitSet = set
	k.Sleep(c.T, deadline, -int64(unix.EAGAIN))
	c.Action = Block
	return 0
}
