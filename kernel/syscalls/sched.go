package syscalls

import "golang.org/x/sys/unix"

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
	register(zero, unix.SYS_SCHED_GETSCHEDULER, unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SYS_SCHED_GET_PRIORITY_MIN)
}

// sameTask checks a pid argument names the caller's process or one of its
// threads.
func sameTask(c *Call, pid int) bool {
	return pid == 0 || pid == c.T.Proc.PID || ownThread(c, pid) != nil
}

// sysSchedGetaffinity reports the LWK CPUs.
func sysSchedGetaffinity(c *Call) int64 {
	size := c.Args[1]
	if size < 8 || size%8 != 0 {
		return -int64(unix.EINVAL)
	}
	top := 0
	for _, h := range c.Env.HostCPUs {
		top = max(top, h)
	}
	mask := make([]byte, (top/64+1)*8)
	for _, h := range c.Env.HostCPUs {
		mask[h/8] |= 1 << (h % 8)
	}
	if uint64(len(mask)) > size {
		return -int64(unix.EINVAL)
	}
	if r := copyOut(c, c.Args[2], mask); r < 0 {
		return r
	}
	return int64(len(mask))
}

// sysSchedSetaffinity accepts a mask that names at least one LWK CPU.
// Threads stay on their process's CPU until migration lands.
func sysSchedSetaffinity(c *Call) int64 {
	if !sameTask(c, int(int32(c.Args[0]))) {
		return -int64(unix.ESRCH)
	}
	n := min(c.Args[1], 128)
	mask := make([]byte, n)
	if r := copyIn(c, c.Args[2], mask); r < 0 {
		return r
	}
	for _, h := range c.Env.HostCPUs {
		if h/8 < len(mask) && mask[h/8]&(1<<(h%8)) != 0 {
			return 0
		}
	}
	return -int64(unix.EINVAL)
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
