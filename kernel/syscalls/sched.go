package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// Scheduling calls. LWK CPUs carry their host numbers (Env.HostCPUs);
// scheduling policies and priorities are accepted and reported as
// SCHED_OTHER, since the LWK scheduler has one policy.
func init() {
	register(func(c *Call) int64 { c.Action = Yield; return 0 }, unix.SYS_SCHED_YIELD)
	register(sysSchedGetaffinity, unix.SYS_SCHED_GETAFFINITY)
	register(sysSchedSetaffinity, unix.SYS_SCHED_SETAFFINITY)
	register(sysGetcpu, unix.SYS_GETCPU)
	register(sysSchedGetparam, unix.SYS_SCHED_GETPARAM)
	register(sysSchedSetparam, unix.SYS_SCHED_SETPARAM, unix.SYS_SCHED_SETSCHEDULER)
	register(sysSchedOther, unix.SYS_SCHED_GETSCHEDULER, unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SYS_SCHED_GET_PRIORITY_MIN)
}

// sysSchedOther reports SCHED_OTHER, the LWK scheduler's one policy, and
// its only priority: both are 0.
func sysSchedOther(*Call) int64 { return 0 }

// sameTask checks a pid argument names the caller's process or one of its
// threads.
func sameTask(c *Call, pid int) bool { return taskOf(c, pid) != nil }

// taskOf returns the thread a pid argument names: 0 is the caller, the
// pid the main thread (or the caller once it is gone), else a thread id.
func taskOf(c *Call, pid int) *task.Thread {
	if pid == 0 {
		return c.T
	}
	if t := ownThread(c, pid); t != nil {
		return t
	}
	if pid == c.T.Proc.PID {
		return c.T
	}
	return nil
}

// sysSchedGetaffinity reports the LWK CPUs the thread may use, by their
// host numbers.
func sysSchedGetaffinity(c *Call) int64 {
	size := c.Args[1]
	if size < 8 || size%8 != 0 {
		return -int64(unix.EINVAL)
	}
	t := taskOf(c, int(int32(c.Args[0])))
	if t == nil {
		return -int64(unix.ESRCH)
	}
	top := 0
	for _, h := range c.Env.HostCPUs {
		top = max(top, h)
	}
	mask := make([]byte, (top/64+1)*8)
	for i, h := range c.Env.HostCPUs {
		if t.AllowedOn(i) {
			mask[h/8] |= 1 << (h % 8)
		}
	}
	if uint64(len(mask)) > size {
		return -int64(unix.EINVAL)
	}
	if r := copyOut(c, c.Args[2], mask); r < 0 {
		return r
	}
	return int64(len(mask))
}

// sysSchedSetaffinity restricts a thread to the LWK CPUs the mask names
// inside its process's CPU share (mcexec -n), as a cpuset does: EINVAL if
// none. A thread whose CPU is no longer allowed migrates when that CPU
// next picks it: the caller at once, by yielding.
func sysSchedSetaffinity(c *Call) int64 {
	t := taskOf(c, int(int32(c.Args[0])))
	if t == nil {
		return -int64(unix.ESRCH)
	}
	n := min(c.Args[1], 128)
	mask := make([]byte, n)
	if r := copyIn(c, c.Args[2], mask); r < 0 {
		return r
	}
	var set uint64
	for i, h := range c.Env.HostCPUs {
		if h/8 < len(mask) && mask[h/8]&(1<<(h%8)) != 0 {
			set |= 1 << i
		}
	}
	if share := t.Proc.CPUShare; share != 0 {
		set &= share
	}
	if set == 0 {
		return -int64(unix.EINVAL)
	}
	if set == 1<<len(c.Env.HostCPUs)-1 {
		set = 0 // every CPU
	}
	t.Affinity = set
	if t == c.T && !t.AllowedOn(t.CPU) {
		c.Action = Yield
	}
	return 0
}

func sysGetcpu(c *Call) int64 {
	if c.Args[0] != 0 {
		if r := putUint32(c, c.Args[0], uint32(c.Env.HostCPUs[c.T.CPU])); r < 0 {
			return r
		}
	}
	if c.Args[1] != 0 {
		node := 0
		if c.T.CPU < len(c.Env.CPUNodes) {
			node = c.Env.CPUNodes[c.T.CPU]
		}
		if r := putUint32(c, c.Args[1], uint32(node)); r < 0 {
			return r
		}
	}
	return 0
}

func sysSchedGetparam(c *Call) int64 {
	if !sameTask(c, int(int32(c.Args[0]))) {
		return -int64(unix.ESRCH)
	}
	return putUint32(c, c.Args[1], 0)
}

func sysSchedSetparam(c *Call) int64 {
	if !sameTask(c, int(int32(c.Args[0]))) {
		return -int64(unix.ESRCH)
	}
	return 0
}
