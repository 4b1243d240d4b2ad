package task

import "time"

// PosixTimer is one of a process's timer_create timers. Its process's
// TimerMu guards it.
type PosixTimer struct {
	ID    int
	Clock int32
	// Notify is sigevent's sigev_notify (SIGEV_SIGNAL, SIGEV_NONE, or
	// SIGEV_SIGNAL|SIGEV_THREAD_ID with TID), Signo and Value its signal
	// and sigev_value.
	Notify int32
	Signo  int
	Value  uint64
	TID    int
	// Deadline is the next expiry, zero while disarmed; Interval the
	// period after it, 0 for a one-shot.
	Deadline time.Time
	Interval time.Duration
	// Overrun counts the expiries since the last signal that found it
	// still pending; Overran is the count the last signal carried
	// (timer_getoverrun).
	Overrun, Overran int
	Timer            *time.Timer
}

// Disarm stops t. TimerMu is held.
func (t *PosixTimer) Disarm() {
	if t.Timer != nil {
		t.Timer.Stop()
	}
	t.Timer, t.Deadline = nil, time.Time{}
}

// DeletePosixTimers disarms and drops every timer_create timer of p:
// exec and the process's end do.
func (p *Process) DeletePosixTimers() {
	p.TimerMu.Lock()
	defer p.TimerMu.Unlock()
	for _, t := range p.PosixTimers {
		t.Disarm()
	}
	p.PosixTimers = nil
}

// SIKernel is si_code SI_KERNEL: the kernel sent the signal.
const SIKernel = 0x80

// SITimer is si_code SI_TIMER: a timer_create timer's signal, whose
// SigInfo carries the timer's id as PID and its overrun as UID.
const SITimer = -2

// TimerSignalTaken completes the siginfo of a timer's signal as it is
// taken: the expiries since it was sent are its overrun, as Linux counts
// them at delivery.
func (p *Process) TimerSignalTaken(info SigInfo) SigInfo {
	if info.Code != SITimer {
		return info
	}
	p.TimerMu.Lock()
	defer p.TimerMu.Unlock()
	if t := p.PosixTimers[int(info.PID)]; t != nil {
		t.Overran, t.Overrun = t.Overrun, 0
		info.UID = uint32(t.Overran)
	}
	return info
}

// CPUTimer is ITIMER_VIRTUAL's or ITIMER_PROF's state: when the process's
// user time (VIRTUAL) or user and system time (PROF) reaches Deadline ns,
// it is signalled, then every Interval ns of it. Deadline 0 is disarmed.
// The LWK is tick-less: it looks at the timers when a thread of the
// process ends a system call.
type CPUTimer struct {
	Deadline, Interval uint64
}

// ITIMER_VIRTUAL and ITIMER_PROF, indexes of Process.CPUTimers.
const (
	ITimerVirtual = 1
	ITimerProf    = 2
)

// CPUTimerArmed says ITIMER_VIRTUAL or ITIMER_PROF is armed. TimerMu is
// held.
func (p *Process) CPUTimerArmed() bool {
	return p.CPUTimers[ITimerVirtual].Deadline != 0 || p.CPUTimers[ITimerProf].Deadline != 0
}
