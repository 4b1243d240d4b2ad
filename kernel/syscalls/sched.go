package syscalls

import (
	"cmp"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// Scheduling calls. LWK CPUs carry their host numbers (Env.HostCPUs);
// scheduling policies and priorities are checked as Linux checks them,
// then accepted and reported as SCHED_OTHER, since the LWK scheduler has
// one policy.
func init() {
	register(func(c *Call) int64 { c.Action = Yield; return 0 }, unix.SYS_SCHED_YIELD)
	register(sysSchedGetaffinity, unix.SYS_SCHED_GETAFFINITY)
	register(sysSchedSetaffinity, unix.SYS_SCHED_SETAFFINITY)
	register(sysGetcpu, unix.SYS_GETCPU)
	register(sysSchedGetparam, unix.SYS_SCHED_GETPARAM)
	register(sysSchedSetparam, unix.SYS_SCHED_SETPARAM)
	register(sysSchedSetscheduler, unix.SYS_SCHED_SETSCHEDULER)
	register(sysSchedGetscheduler, unix.SYS_SCHED_GETSCHEDULER)
	register(sysSchedGetPriorityMax, unix.SYS_SCHED_GET_PRIORITY_MAX)
	register(sysSchedGetPriorityMin, unix.SYS_SCHED_GET_PRIORITY_MIN)
}

// Linux's policies (uapi sched.h) and their static priority ranges.
const (
	schedOther = iota
	schedFIFO
	schedRR
	schedBatch
	_ // SCHED_ISO: reserved, never implemented
	schedIdle
	schedDeadline
	schedResetOnFork = 0x40000000
)

var schedPriorities = map[int]struct{ min, max int }{
	schedOther: {0, 0}, schedFIFO: {1, 99}, schedRR: {1, 99},
	schedBatch: {0, 0}, schedIdle: {0, 0}, schedDeadline: {0, 0},
}

// schedTarget resolves the pid argument of the sched_*param and
// *scheduler calls as Linux does: negative is EINVAL, unknown ESRCH. A
// pid of another process, which Linux knows (another LWK process's is
// its mcexec's), is foreign: Linux answers for it.
func schedTarget(c *Call) (foreign bool, errno int64) {
	pid := int(int32(c.Args[0]))
	switch {
	case pid < 0:
		return false, -int64(unix.EINVAL)
	case sameTask(c, pid):
		return false, 0
	case unix.Kill(pid, 0) == unix.ESRCH:
		return false, -int64(unix.ESRCH)
	}
	return true, 0
}

// sysSchedGetscheduler reports SCHED_OTHER, the LWK scheduler's one
// policy.
func sysSchedGetscheduler(c *Call) int64 {
	foreign, r := schedTarget(c)
	if foreign {
		r, _, e := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, uintptr(c.Args[0]), 0, 0)
		if e != 0 {
			return -int64(e)
		}
		return int64(r)
	}
	if r < 0 {
		return r
	}
	return schedOther
}

func sysSchedGetPriorityMax(c *Call) int64 {
	r, ok := schedPriorities[int(int32(c.Args[0]))]
	if !ok {
		return -int64(unix.EINVAL)
	}
	return int64(r.max)
}

func sysSchedGetPriorityMin(c *Call) int64 {
	r, ok := schedPriorities[int(int32(c.Args[0]))]
	if !ok {
		return -int64(unix.EINVAL)
	}
	return int64(r.min)
}

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
	if c.Args[1] == 0 {
		return -int64(unix.EINVAL)
	}
	foreign, r := schedTarget(c)
	if r < 0 {
		return r
	}
	var prio uint32
	if foreign {
		if _, _, e := unix.Syscall(unix.SYS_SCHED_GETPARAM, uintptr(c.Args[0]), uintptr(unsafe.Pointer(&prio)), 0); e != 0 {
			return -int64(e)
		}
	}
	return putUint32(c, c.Args[1], prio)
}

// sysSchedSetparam checks the priority against SCHED_OTHER's range, the
// policy every LWK thread reports.
func sysSchedSetparam(c *Call) int64 {
	return setScheduler(c, schedOther, c.Args[1])
}

func sysSchedSetscheduler(c *Call) int64 {
	return setScheduler(c, int(int32(c.Args[1]))&^schedResetOnFork, c.Args[2])
}

// setScheduler validates a policy change as Linux does and accepts it:
// the LWK scheduler runs every thread alike. SCHED_DEADLINE is set only
// through sched_setattr.
func setScheduler(c *Call, policy int, paramp uint64) int64 {
	if paramp == 0 {
		return -int64(unix.EINVAL)
	}
	// The LWK changes no process it does not run.
	if foreign, r := schedTarget(c); foreign || r < 0 {
		return cmp.Or(r, -int64(unix.EPERM))
	}
	var prio int32
	if r := copyIn(c, paramp, bytesOf(&prio)); r < 0 {
		return r
	}
	r, ok := schedPriorities[policy]
	if !ok || policy == schedDeadline || int(prio) < r.min || int(prio) > r.max {
		return -int64(unix.EINVAL)
	}
	// A real-time priority beyond RLIMIT_RTPRIO needs CAP_SYS_NICE.
	if int(prio) > 0 && uint64(prio) > c.T.Proc.Rlimits[unix.RLIMIT_RTPRIO].Cur && !c.T.Proc.Cred.Capable(unix.CAP_SYS_NICE) {
		return -int64(unix.EPERM)
	}
	return 0
}
