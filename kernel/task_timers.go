package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// siKernelCode is si_code for signals the kernel raises (SIGALRM).
const siKernelCode = 0x80

// SetRealTimer arms p's ITIMER_REAL to fire SIGALRM after value ns and then
// every interval ns; value 0 disarms, value -1 only reports. It returns the
// time that was left and the interval that was set.
func (k *OS) SetRealTimer(p *task.Process, value, interval int64) (int64, int64) {
	p.TimerMu.Lock()
	defer p.TimerMu.Unlock()
	var left int64
	if p.RealDeadline != 0 {
		left = max(p.RealDeadline-time.Now().UnixNano(), 1)
	}
	oldInterval := p.RealInterval
	if value < 0 {
		return left, oldInterval
	}
	if p.RealTimer != nil {
		p.RealTimer.Stop()
		p.RealTimer, p.RealDeadline = nil, 0
	}
	p.RealInterval = interval
	if value > 0 && !p.Exited {
		k.armRealTimer(p, value)
	}
	return left, oldInterval
}

// armRealTimer schedules SIGALRM; the caller holds p.TimerMu.
func (k *OS) armRealTimer(p *task.Process, d int64) {
	p.RealDeadline = time.Now().UnixNano() + d
	p.RealTimer = time.AfterFunc(time.Duration(d), func() {
		p.TimerMu.Lock()
		if p.Exited || p.RealDeadline == 0 {
			p.TimerMu.Unlock()
			return
		}
		p.RealTimer, p.RealDeadline = nil, 0
		if p.RealInterval > 0 {
			k.armRealTimer(p, p.RealInterval)
		}
		p.TimerMu.Unlock()
		k.Signal(p, nil, int(unix.SIGALRM), task.SigInfo{Code: siKernelCode})
	})
}

// stopTimers disarms p's timers (process end).
func stopTimers(p *task.Process) {
	p.TimerMu.Lock()
	if p.RealTimer != nil {
		p.RealTimer.Stop()
	}
	p.RealTimer, p.RealDeadline = nil, 0
	p.TimerMu.Unlock()
	p.DeletePosixTimers()
}
