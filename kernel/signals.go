package kernel

import (
	"math/bits"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/proc"
	"github.com/gomck/gomck/kernel/signal"
	"github.com/gomck/gomck/kernel/syscalls"
)

// Signal queues sig for t (or for p when t is nil) and makes sure a thread
// that can take it runs soon: a sleeping one is woken with -EINTR, a
// running stub is kicked. Any goroutine may call it.
func (k *OS) Signal(p *proc.Process, t *proc.Thread, sig int, info proc.SigInfo) {
	bit := uint64(1) << (sig - 1)
	if ignored(p, t, sig) {
		return
	}
	if t != nil {
		t.Info[sig-1] = info
		t.Pending |= bit
	} else {
		p.PendingInfo[sig-1] = info
		for {
			old := p.Pending.Load()
			if p.Pending.CompareAndSwap(old, old|bit) {
				break
			}
		}
	}
	for _, o := range p.Threads {
		if t != nil && o != t || o.State != proc.Sleeping {
			continue
		}
		if o.WaitSet&bit != 0 {
			// rt_sigtimedwait: run the call again; it takes the signal.
			o.WaitSet = 0
			o.Regs.Rip -= 2
			k.CPUs[o.CPU].Queue.Wake(o, int64(o.Regs.Orig_rax))
			break
		}
		if o.SigMask&bit == 0 {
			k.Futexes.Drop(o)
			k.CPUs[o.CPU].Queue.Wake(o, -int64(unix.EINTR))
			break
		}
	}
	if p.Stub != nil {
		p.Stub.Kick()
	}
}

// ignored reports a signal Linux would discard at once: its action is to
// ignore it and no target thread blocks it (a blocked one stays pending,
// for sigtimedwait or a later handler).
func ignored(p *proc.Process, t *proc.Thread, sig int) bool {
	act := p.SigActs[sig]
	if act.Handler != proc.SigIgnore && (act.Handler != proc.SigDefault || !syscalls.IgnoredByDefault(sig)) {
		return false
	}
	bit := uint64(1) << (sig - 1)
	for _, o := range p.Threads {
		if (t == nil || o == t) && (o.SigMask|o.WaitSet)&bit != 0 {
			return false
		}
	}
	return true
}

// takeSignal removes the lowest deliverable signal of t.
func takeSignal(t *proc.Thread) (int, proc.SigInfo, bool) {
	return TakeSignal(t, ^t.SigMask)
}

// TakeSignal removes the lowest pending signal of t within set.
func TakeSignal(t *proc.Thread, set uint64) (int, proc.SigInfo, bool) {
	p := t.Proc
	if mine := t.Pending & set; mine != 0 {
		sig := bits.TrailingZeros64(mine) + 1
		t.Pending &^= 1 << (sig - 1)
		return sig, t.Info[sig-1], true
	}
	for {
		shared := p.Pending.Load()
		ready := shared & set
		if ready == 0 {
			return 0, proc.SigInfo{}, false
		}
		sig := bits.TrailingZeros64(ready) + 1
		if p.Pending.CompareAndSwap(shared, shared&^(1<<(sig-1))) {
			return sig, p.PendingInfo[sig-1], true
		}
	}
}

// deliverSignals runs before t resumes: it builds handler frames for its
// deliverable signals and returns a signal whose default action ends the
// process, or 0.
func (k *OS) deliverSignals(t *proc.Thread) int {
	p := t.Proc
	defer func() {
		// A signal ended rt_sigsuspend without running a handler.
		if t.HasSuspendMask {
			t.SigMask, t.HasSuspendMask = t.SuspendMask, false
		}
	}()
	for {
		sig, info, ok := takeSignal(t)
		if !ok {
			return 0
		}
		act := p.SigActs[sig]
		switch act.Handler {
		case proc.SigIgnore:
			continue
		case proc.SigDefault:
			switch unix.Signal(sig) {
			case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
				continue // job control stops are not modelled yet
			}
			if syscalls.IgnoredByDefault(sig) {
				continue
			}
			return sig
		}
		fp, err := k.currentFP(t)
		if err == nil {
			err = signal.Deliver(p.MM, t, sig, info, act, fp)
		}
		if err != nil {
			k.Kmsg.Printf("pid %d: cannot deliver signal %d to tid %d: %v", p.PID, sig, t.TID, err)
			return int(unix.SIGSEGV)
		}
		if act.Flags&proc.SaResetHand != 0 {
			p.SigActs[sig].Handler = proc.SigDefault
		}
	}
}

// currentFP returns t's FPU state: the stub's if t owns it.
func (k *OS) currentFP(t *proc.Thread) ([]byte, error) {
	p := t.Proc
	if p.Stub.FPOwner != t.TID {
		return t.FPState, nil
	}
	fp, err := p.Stub.SaveFP(t.FPState)
	if err != nil {
		return nil, err
	}
	t.FPState = fp
	return fp, nil
}

// hasHandler reports whether sig would run an app handler in t.
func hasHandler(t *proc.Thread, sig int) bool {
	h := t.Proc.SigActs[sig].Handler
	return h != proc.SigDefault && h != proc.SigIgnore && t.SigMask&(1<<(sig-1)) == 0
}
