package syscalls

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/sched"
)

// The vDSO serves these inside the app; they trap only when an app makes
// the raw system call.
func init() {
	register(sysClockGettime, unix.SYS_CLOCK_GETTIME)
	register(sysGettimeofday, unix.SYS_GETTIMEOFDAY)
	register(sysTime, unix.SYS_TIME)
	register(sysClockGetres, unix.SYS_CLOCK_GETRES)
	register(sysNanosleep, unix.SYS_NANOSLEEP)
	register(sysClockNanosleep, unix.SYS_CLOCK_NANOSLEEP)
}

func sysClockGettime(c *Call) int64 {
	var ts unix.Timespec
	if ns, ok, r := cpuClock(c, int32(c.Args[0])); r < 0 {
		return r
	} else if ok {
		ts = unix.NsecToTimespec(int64(ns))
	} else if err := unix.ClockGettime(int32(c.Args[0]), &ts); err != nil {
		return errno(err)
	}
	return copyOut(c, c.Args[1], bytesOf(&ts))
}

func sysClockGetres(c *Call) int64 {
	var ts unix.Timespec
	if _, ok, r := cpuClock(c, int32(c.Args[0])); r < 0 {
		return r
	} else if ok {
		ts.Nsec = 1 // the CPU clocks count in ns, as Linux's
	} else if _, _, e := unix.Syscall(unix.SYS_CLOCK_GETRES, uintptr(c.Args[0]), uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return -int64(e)
	}
	if c.Args[1] == 0 {
		return 0
	}
	return copyOut(c, c.Args[1], bytesOf(&ts))
}

func sysGettimeofday(c *Call) int64 {
	if c.Args[0] == 0 {
		return 0
	}
	tv := unix.NsecToTimeval(time.Now().UnixNano())
	return copyOut(c, c.Args[0], bytesOf(&tv))
}

func sysTime(c *Call) int64 {
	now := time.Now().Unix()
	if c.Args[0] != 0 {
		if r := putUint64(c, c.Args[0], uint64(now)); r < 0 {
			return r
		}
	}
	return now
}

// sleep blocks the thread for d, or yields for a zero sleep.
func sleep(c *Call, d time.Duration) int64 {
	if d <= 0 {
		c.Action = Yield
		return 0
	}
	c.Env.Kernel.Sleep(c.T, sched.Now()+int64(d), 0)
	c.Action = Block
	return 0
}

func sysNanosleep(c *Call) int64 {
	var ts unix.Timespec
	if r := copyIn(c, c.Args[0], bytesOf(&ts)); r < 0 {
		return r
	}
	if ts.Nsec < 0 || ts.Nsec >= 1e9 || ts.Sec < 0 {
		return -int64(unix.EINVAL)
	}
	return sleep(c, time.Duration(ts.Nano()))
}

func sysClockNanosleep(c *Call) int64 {
	var ts unix.Timespec
	if r := copyIn(c, c.Args[2], bytesOf(&ts)); r < 0 {
		return r
	}
	d := time.Duration(ts.Nano())
	if c.Args[1]&unix.TIMER_ABSTIME != 0 {
		var now unix.Timespec
		if err := unix.ClockGettime(int32(c.Args[0]), &now); err != nil {
			return errno(err)
		}
		d -= time.Duration(now.Nano())
	}
	return sleep(c, d)
}
