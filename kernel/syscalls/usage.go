package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// getrusage, times, wait4's rusage and the CPU-time clocks report the
// LWK's own accounting (stats.Counters.CPUTimes): the time a thread held
// its LWK CPU, split into the LWK's local calls (system time) and the
// rest (user time). A thread running on another LWK CPU right now counts
// until its last switch: its current slice is that CPU's to read.
func init() {
	register(sysGetrusage, unix.SYS_GETRUSAGE)
	register(sysTimes, unix.SYS_TIMES)
}

// threadCounters are t's counters, with its current slice when t is the
// caller.
func threadCounters(c *Call, t *task.Thread) stats.Counters {
	n := t.Stats.Totals()
	if t == c.T {
		n.RunNs += c.Env.Kernel.SliceNs(t)
	}
	return n
}

// processUsage is p's own usage: its ended threads' and its live ones',
// and its largest resident size so far, in bytes.
func processUsage(c *Call, p *task.Process) (stats.Counters, uint64) {
	p.UsageMu.Lock()
	n, maxRSS := p.Usage.Ended, p.Usage.MaxRSS
	p.UsageMu.Unlock()
	p.ThreadsMu.Lock()
	for _, t := range p.Threads {
		n = n.Zip(threadCounters(c, t), stats.Sum)
	}
	p.ThreadsMu.Unlock()
	rss, _ := p.MM.Usage()
	return n, max(maxRSS, rss)
}

// childrenUsage is what p's reaped children used, theirs included.
func childrenUsage(p *task.Process) (stats.Counters, uint64) {
	p.UsageMu.Lock()
	defer p.UsageMu.Unlock()
	return p.Usage.Reaped, p.Usage.ReapedMaxRSS
}

// rusage is struct rusage for counters n and a resident size in bytes.
// The LWK keeps no block I/O or involuntary switch counts: those are 0.
func rusage(n stats.Counters, maxRSS uint64) unix.Rusage {
	user, sys := n.CPUTimes()
	return unix.Rusage{Utime: unix.NsecToTimeval(int64(user)), Stime: unix.NsecToTimeval(int64(sys)),
		Maxrss: int64(maxRSS / 1024), Minflt: int64(n.PageFaults), Nvcsw: int64(n.Switches)}
}

func sysGetrusage(c *Call) int64 {
	var ru unix.Rusage
	switch who := int32(c.Args[0]); who {
	case unix.RUSAGE_SELF:
		ru = rusage(processUsage(c, c.T.Proc))
	case unix.RUSAGE_CHILDREN:
		ru = rusage(childrenUsage(c.T.Proc))
	case unix.RUSAGE_THREAD:
		rss, _ := c.T.Proc.MM.Usage()
		ru = rusage(threadCounters(c, c.T), rss)
	default:
		return -int64(unix.EINVAL)
	}
	return copyOut(c, c.Args[1], bytesOf(&ru))
}

// clockTicks converts ns to times' clock ticks (USER_HZ).
func clockTicks(ns uint64) int64 { return int64(ns / (1e9 / 100)) }

func sysTimes(c *Call) int64 {
	// The return value is Linux's: ticks since an arbitrary point.
	var host unix.Tms
	ticks, err := unix.Times(&host)
	if err != nil {
		return errno(err)
	}
	if c.Args[0] != 0 {
		self, _ := processUsage(c, c.T.Proc)
		children, _ := childrenUsage(c.T.Proc)
		u, s := self.CPUTimes()
		cu, cs := children.CPUTimes()
		tms := unix.Tms{Utime: clockTicks(u), Stime: clockTicks(s), Cutime: clockTicks(cu), Cstime: clockTicks(cs)}
		if r := copyOut(c, c.Args[0], bytesOf(&tms)); r < 0 {
			return r
		}
	}
	return int64(ticks)
}

// The CPU-time clocks' ids (Linux's posix-cpu-timers): the two fixed ones,
// and those clock_getcpuclockid and pthread_getcpuclockid make of a pid or
// tid: ^id<<3 | which, with cpuClockThread for a thread's.
const (
	cpuClockProf   = 0 // user and system time
	cpuClockVirt   = 1 // user time
	cpuClockSched  = 2 // run time
	cpuClockThread = 4
	cpuClockFD     = 3 // a clock fd's, not a CPU clock
)

// cpuClock reads CPU-time clock id, the calling thread's or process's or
// another's named in the id; ok is false for other clocks. An id naming
// no visible process, or a thread outside the caller's process, is
// EINVAL, as on Linux.
func cpuClock(c *Call, id int32) (ns uint64, ok bool, ret int64) {
	var which int32
	var target int
	switch {
	case id == unix.CLOCK_PROCESS_CPUTIME_ID:
		which = cpuClockSched
	case id == unix.CLOCK_THREAD_CPUTIME_ID:
		which = cpuClockSched | cpuClockThread
	case id < 0 && id&7 != cpuClockFD:
		which, target = id&7, int(^(id >> 3))
	default:
		return 0, false, 0
	}
	if which&3 > cpuClockSched {
		return 0, true, -int64(unix.EINVAL)
	}
	var n stats.Counters
	if which&cpuClockThread != 0 {
		t := c.T
		if target != 0 {
			if t = ownThread(c, target); t == nil {
				return 0, true, -int64(unix.EINVAL)
			}
		}
		n = threadCounters(c, t)
	} else {
		p := c.T.Proc
		if target != 0 && target != p.PID {
			o := c.Env.Kernel.FindThread(target)
			if o == nil || o.Proc.PID != target {
				return 0, true, -int64(unix.EINVAL)
			}
			p = o.Proc
		}
		n, _ = processUsage(c, p)
	}
	user, _ := n.CPUTimes()
	if which&3 == cpuClockVirt {
		return user, true, 0
	}
	return n.RunNs, true, 0
}
