package syscalls

import (
	"golang.org/x/sys/unix"
)

// ITIMER_REAL and alarm deliver SIGALRM from the LWK. The virtual and
// profiling timers are not kept.
func init() {
	register(sysAlarm, unix.SYS_ALARM)
	register(sysSetitimer, unix.SYS_SETITIMER)
	register(sysGetitimer, unix.SYS_GETITIMER)
}

const itimerReal = 0

// itimerval is struct itimerval: interval, then value.
type itimerval struct {
	Interval unix.Timeval
	Value    unix.Timeval
}

func sysAlarm(c *Call) int64 {
	left, _ := c.Env.Kernel.SetRealTimer(c.T.Proc, int64(c.Args[0])*1e9, 0)
	// alarm returns whole seconds left, rounded up.
	return (left + 1e9 - 1) / 1e9
}

func sysSetitimer(c *Call) int64 {
	if c.Args[0] != itimerReal {
		return -int64(unix.EINVAL)
	}
	var nv itimerval
	if c.Args[1] != 0 {
		if r := copyIn(c, c.Args[1], bytesOf(&nv)); r < 0 {
			return r
		}
	}
	left, interval := c.Env.Kernel.SetRealTimer(c.T.Proc, nv.Value.Nano(), nv.Interval.Nano())
	if c.Args[2] != 0 {
		old := itimerval{Interval: unix.NsecToTimeval(interval), Value: unix.NsecToTimeval(left)}
		return copyOut(c, c.Args[2], bytesOf(&old))
	}
	return 0
}

func sysGetitimer(c *Call) int64 {
	if c.Args[0] != itimerReal {
		return -int64(unix.EINVAL)
	}
	k, p := c.Env.Kernel, c.T.Proc
	// A value of -1 only reports the timer.
	left, interval := k.SetRealTimer(p, -1, 0)
	cur := itimerval{Interval: unix.NsecToTimeval(interval), Value: unix.NsecToTimeval(left)}
	return copyOut(c, c.Args[1], bytesOf(&cur))
}
