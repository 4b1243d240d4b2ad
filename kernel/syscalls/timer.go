package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// ITIMER_REAL and alarm deliver SIGALRM from the LWK. ITIMER_VIRTUAL and
// ITIMER_PROF count the process's user, and user and system, time (the
// LWK's accounting) and fire when a call of the process ends past their
// deadline: a loop that makes no system call is not interrupted. timer_create's timers are the LWK's too
// (offloaded, they would signal mcexec): on the real-time, monotonic,
// boot-time and TAI clocks, signalling the process or one thread
// (SIGEV_THREAD_ID, as glibc's SIGEV_THREAD uses) with SI_TIMER siginfo
// and overruns; CPU-time clocks are not timed yet (EINVAL).
func init() {
	register(sysAlarm, unix.SYS_ALARM)
	register(sysSetitimer, unix.SYS_SETITIMER)
	register(sysGetitimer, unix.SYS_GETITIMER)
	register(sysTimerCreate, unix.SYS_TIMER_CREATE)
	register(sysTimerSettime, unix.SYS_TIMER_SETTIME)
	register(sysTimerGettime, unix.SYS_TIMER_GETTIME)
	register(sysTimerGetoverrun, unix.SYS_TIMER_GETOVERRUN)
	register(sysTimerDelete, unix.SYS_TIMER_DELETE)
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
	which := c.Args[0]
	if which > task.ITimerProf {
		return -int64(unix.EINVAL)
	}
	var nv itimerval
	if c.Args[1] != 0 {
		if r := copyIn(c, c.Args[1], bytesOf(&nv)); r < 0 {
			return r
		}
	}
	if nv.Value.Usec < 0 || nv.Value.Usec >= 1e6 || nv.Interval.Usec < 0 || nv.Interval.Usec >= 1e6 {
		return -int64(unix.EINVAL)
	}
	var old itimerval
	if which == itimerReal {
		left, interval := c.Env.Kernel.SetRealTimer(c.T.Proc, nv.Value.Nano(), nv.Interval.Nano())
		old = itimerval{Interval: unix.NsecToTimeval(interval), Value: unix.NsecToTimeval(left)}
	} else {
		old = setCPUTimer(c, int(which), max(nv.Value.Nano(), 0), max(nv.Interval.Nano(), 0))
	}
	if c.Args[2] != 0 {
		return copyOut(c, c.Args[2], bytesOf(&old))
	}
	return 0
}

func sysGetitimer(c *Call) int64 {
	which := c.Args[0]
	if which > task.ITimerProf {
		return -int64(unix.EINVAL)
	}
	var cur itimerval
	if which == itimerReal {
		// A value of -1 only reports the timer.
		left, interval := c.Env.Kernel.SetRealTimer(c.T.Proc, -1, 0)
		cur = itimerval{Interval: unix.NsecToTimeval(interval), Value: unix.NsecToTimeval(left)}
	} else {
		cur = setCPUTimer(c, int(which), -1, 0)
	}
	return copyOut(c, c.Args[1], bytesOf(&cur))
}

// cpuTimes are the process's times the CPU timers count, by
// Process.CPUTimers index: user time (ITIMER_VIRTUAL), user and system
// time (ITIMER_PROF).
func cpuTimes(c *Call) [3]uint64 {
	n, _ := processUsage(c, c.T.Proc)
	user, _ := n.CPUTimes()
	return [3]uint64{task.ITimerVirtual: user, task.ITimerProf: n.RunNs}
}

// setCPUTimer arms CPU timer which to fire after value ns of its time,
// then every interval; value 0 disarms, -1 only reports. It returns what
// was set before.
func setCPUTimer(c *Call, which int, value, interval int64) itimerval {
	p := c.T.Proc
	now := cpuTimes(c)[which]
	p.TimerMu.Lock()
	defer p.TimerMu.Unlock()
	t := &p.CPUTimers[which]
	var old itimerval
	if t.Deadline != 0 {
		old.Value = unix.NsecToTimeval(int64(max(t.Deadline-min(now, t.Deadline), 1000)))
	}
	old.Interval = unix.NsecToTimeval(int64(t.Interval))
	if value < 0 {
		return old
	}
	t.Deadline, t.Interval = 0, uint64(interval)
	if value > 0 {
		t.Deadline = now + uint64(value)
	}
	p.CPUTimersArmed.Store(p.CPUTimerArmed())
	return old
}

// cpuTimersDue signals the CPU timers of the caller's process whose time
// has come (SIGVTALRM, SIGPROF); Dispatch calls it after each call while
// one is armed: the LWK has no tick to look at them.
func cpuTimersDue(c *Call) {
	p := c.T.Proc
	var due []int
	times := cpuTimes(c) // one sum over the threads for both timers
	p.TimerMu.Lock()
	for _, which := range []int{task.ITimerVirtual, task.ITimerProf} {
		if t, now := &p.CPUTimers[which], times[which]; t.Deadline != 0 && now >= t.Deadline {
			due = append(due, which)
			if t.Interval > 0 { // the next period's end, periods missed dropped
				t.Deadline = now + t.Interval - (now-t.Deadline)%t.Interval
			} else {
				t.Deadline = 0
			}
		}
	}
	p.CPUTimersArmed.Store(p.CPUTimerArmed())
	p.TimerMu.Unlock()
	for _, which := range due {
		sig := unix.SIGVTALRM
		if which == task.ITimerProf {
			sig = unix.SIGPROF
		}
		c.Env.Kernel.Signal(p, nil, int(sig), task.SigInfo{Code: task.SIKernel})
	}
}

// sigevent's notifications, and the SI_TIMER siginfo code.
const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThreadID = 4
	maxTimers     = 1 << 16 // a process's timers; more is EAGAIN
	capWakeAlarm  = 35
)

// timerClock checks clock for timer_create: the clocks Linux times, the
// alarm ones under CAP_WAKE_ALARM.
func timerClock(c *Call, clock int32) unix.Errno {
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
		return 0
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		if cr := cred(c); !cr.Capable(capWakeAlarm) {
			return unix.EPERM
		}
		return 0
	case unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		return unix.EOPNOTSUPP // clocks Linux reads but does not time
	}
	return unix.EINVAL // CPU-time clocks, and no clock at all
}

// baseClock is the clock an alarm clock reads as.
func baseClock(clock int32) int32 {
	switch clock {
	case unix.CLOCK_REALTIME_ALARM:
		return unix.CLOCK_REALTIME
	case unix.CLOCK_BOOTTIME_ALARM:
		return unix.CLOCK_BOOTTIME
	}
	return clock
}

func sysTimerCreate(c *Call) int64 {
	clock, sevp, idp := int32(c.Args[0]), c.Args[1], c.Args[2]
	if e := timerClock(c, clock); e != 0 {
		return -int64(e)
	}
	p := c.T.Proc
	tm := &task.PosixTimer{Clock: clock, Notify: sigevSignal, Signo: int(unix.SIGALRM)}
	if sevp != 0 {
		var ev [20]byte // sigev_value, sigev_signo, sigev_notify, sigev_notify_thread_id
		if r := copyIn(c, sevp, ev[:]); r < 0 {
			return r
		}
		le := binary.LittleEndian
		tm.Value, tm.Signo, tm.Notify = le.Uint64(ev[0:]), int(int32(le.Uint32(ev[8:]))), int32(le.Uint32(ev[12:]))
		tm.TID = int(int32(le.Uint32(ev[16:])))
		switch tm.Notify {
		case sigevNone:
		case sigevSignal, sigevSignal | sigevThreadID:
			if tm.Signo < 1 || tm.Signo > task.NSig {
				return -int64(unix.EINVAL)
			}
			if tm.Notify&sigevThreadID != 0 && ownThread(c, tm.TID) == nil {
				return -int64(unix.EINVAL)
			}
		default:
			return -int64(unix.EINVAL)
		}
	}
	p.TimerMu.Lock()
	if p.PosixTimers == nil {
		p.PosixTimers = map[int]*task.PosixTimer{}
	}
	if len(p.PosixTimers) >= maxTimers {
		p.TimerMu.Unlock()
		return -int64(unix.EAGAIN)
	}
	for p.PosixTimers[tm.ID] != nil { // Linux's ids: the lowest free from 0
		tm.ID++
	}
	if sevp == 0 {
		tm.Value = uint64(tm.ID)
	}
	p.PosixTimers[tm.ID] = tm
	p.TimerMu.Unlock()
	if r := putUint32(c, idp, uint32(tm.ID)); r < 0 {
		p.TimerMu.Lock()
		delete(p.PosixTimers, tm.ID)
		p.TimerMu.Unlock()
		return r
	}
	return 0
}

// itimerspec is struct itimerspec: interval, then value.
type itimerspec struct {
	Interval, Value unix.Timespec
}

func validTimespec(ts unix.Timespec) bool { return ts.Sec >= 0 && ts.Nsec >= 0 && ts.Nsec < 1e9 }

// posixTimer finds the caller's timer id and locks TimerMu; nil (unlocked)
// when there is none.
func posixTimer(c *Call, id uint64) *task.PosixTimer {
	p := c.T.Proc
	p.TimerMu.Lock()
	if t := p.PosixTimers[int(int32(id))]; t != nil {
		return t
	}
	p.TimerMu.Unlock()
	return nil
}

// timerState is t's itimerspec now. TimerMu is held.
func timerState(t *task.PosixTimer) itimerspec {
	cur := itimerspec{Interval: unix.NsecToTimespec(int64(t.Interval))}
	if !t.Deadline.IsZero() {
		cur.Value = unix.NsecToTimespec(max(int64(time.Until(t.Deadline)), 1))
	}
	return cur
}

func sysTimerSettime(c *Call) int64 {
	var nv itimerspec
	if c.Args[2] == 0 {
		return -int64(unix.EINVAL)
	}
	if r := copyIn(c, c.Args[2], bytesOf(&nv)); r < 0 {
		return r
	}
	if !validTimespec(nv.Value) || !validTimespec(nv.Interval) {
		return -int64(unix.EINVAL)
	}
	p := c.T.Proc
	t := posixTimer(c, c.Args[0])
	if t == nil {
		return -int64(unix.EINVAL)
	}
	old := timerState(t)
	t.Disarm()
	t.Interval, t.Overrun, t.Overran = time.Duration(nv.Interval.Nano()), 0, 0
	if v := nv.Value.Nano(); v != 0 {
		d := time.Duration(v)
		if c.Args[1]&unix.TIMER_ABSTIME != 0 {
			var now unix.Timespec
			unix.ClockGettime(baseClock(t.Clock), &now)
			d -= time.Duration(now.Nano())
		}
		armPosixTimer(c.Env.Kernel, p, t, max(d, 0))
	}
	p.TimerMu.Unlock()
	if c.Args[3] != 0 {
		return copyOut(c, c.Args[3], bytesOf(&old))
	}
	return 0
}

// armPosixTimer makes t expire after d, then every Interval. TimerMu is
// held.
func armPosixTimer(k Kernel, p *task.Process, t *task.PosixTimer, d time.Duration) {
	t.Deadline = time.Now().Add(d)
	var fire func()
	fire = func() {
		p.TimerMu.Lock()
		if p.PosixTimers[t.ID] != t || t.Deadline.IsZero() || p.Exited {
			p.TimerMu.Unlock()
			return
		}
		if t.Interval > 0 {
			// Expiries missed meanwhile are overruns, as a late timer's.
			next, now := t.Deadline.Add(t.Interval), time.Now()
			if now.After(next) {
				missed := int(now.Sub(next) / t.Interval)
				t.Overrun += missed
				next = next.Add(time.Duration(missed+1) * t.Interval)
			}
			t.Deadline = next
			t.Timer = time.AfterFunc(time.Until(next), fire)
		} else {
			t.Deadline, t.Timer = time.Time{}, nil
		}
		var target *task.Thread
		if t.Notify&sigevThreadID != 0 {
			p.ThreadsMu.Lock()
			for _, o := range p.Threads {
				if o.TID == t.TID {
					target = o
				}
			}
			p.ThreadsMu.Unlock()
		}
		send := t.Notify != sigevNone && !timerSignalPending(p, target, t.Signo)
		if !send {
			t.Overrun++ // its last signal waits still: taking it tells of both
		}
		info := task.SigInfo{Code: task.SITimer, PID: int32(t.ID), Value: t.Value}
		signo := t.Signo
		p.TimerMu.Unlock()
		if send {
			k.Signal(p, target, signo, info)
		}
	}
	t.Timer = time.AfterFunc(d, fire)
}

// timerSignalPending says sig is pending for target (the process when
// nil): a timer's next signal then only counts an overrun, as Linux's
// one preallocated signal per timer does.
func timerSignalPending(p *task.Process, target *task.Thread, sig int) bool {
	bit := uint64(1) << (sig - 1)
	if target != nil {
		return target.Pending.Load()&bit != 0
	}
	return p.Pending.Load()&bit != 0
}

func sysTimerGettime(c *Call) int64 {
	t := posixTimer(c, c.Args[0])
	if t == nil {
		return -int64(unix.EINVAL)
	}
	cur := timerState(t)
	c.T.Proc.TimerMu.Unlock()
	return copyOut(c, c.Args[1], bytesOf(&cur))
}

func sysTimerGetoverrun(c *Call) int64 {
	t := posixTimer(c, c.Args[0])
	if t == nil {
		return -int64(unix.EINVAL)
	}
	defer c.T.Proc.TimerMu.Unlock()
	return int64(t.Overran)
}

func sysTimerDelete(c *Call) int64 {
	t := posixTimer(c, c.Args[0])
	if t == nil {
		return -int64(unix.EINVAL)
	}
	t.Disarm()
	delete(c.T.Proc.PosixTimers, t.ID)
	c.T.Proc.TimerMu.Unlock()
	return 0
}
