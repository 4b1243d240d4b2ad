package kernel

import (
	"fmt"
	"math/bits"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/signal"
	"github.com/gomck/gomck/kernel/syscalls"
	"github.com/gomck/gomck/kernel/task"
)

// Signal queues sig for t (or for p when t is nil) and makes sure a thread
// that can take it runs soon: a sleeping one is woken with -EINTR, a
// running stub is kicked. Any goroutine may call it.
func (k *OS) Signal(p *task.Process, t *task.Thread, sig int, info task.SigInfo) {
	if sig < 1 || sig > task.NSig {
		k.Kmsg.Printf("pid %d: signal %d dropped: no such signal", p.PID, sig)
		return // the callers check; a slip must not take the kernel down
	}
	bit := uint64(1) << (sig - 1)
	k.jobControl(p, sig)
	if ignored(p, t, sig) {
		return
	}
	if sig >= task.SigRTMin && queueRT(p, t, sig, info) {
		return // pending already; this instance waits its turn
	}
	if t != nil && t.Pending.Load()&bit != 0 || t == nil && p.Pending.Load()&bit != 0 {
		return // a standard signal pending already: Linux drops this one
	}
	if t != nil {
		t.Info[sig-1] = info
		t.Pending.Or(bit)
	} else {
		p.PendingInfo[sig-1] = info
		for {
			old := p.Pending.Load()
			if p.Pending.CompareAndSwap(old, old|bit) {
				break
			}
		}
	}
	stop := defaultStops(p)&bit != 0
	if stop {
		k.queueStop(p)
	}
	if !k.wakeFor(p, t, bit, stop) {
		// A thread waiting for mcexec: interrupt its call there.
		for _, o := range p.Threads {
			if (t == nil || o == t) && o.SigMask&bit == 0 {
				if seq := o.OffloadSeq.Load(); seq != 0 {
					k.interruptOffload(p, o, seq)
					break
				}
			}
		}
	}
	kick(p)
}

// kick stops p's running stub threads, so that their CPUs look at p's
// signals and state.
func kick(p *task.Process) {
	for _, s := range p.Stubs() {
		s.Interrupt()
	}
}

// signalRaced looks again for signals that t, which has just blocked, can
// take: one sent from another CPU while t was still running woke nobody.
func (k *OS) signalRaced(t *task.Thread) {
	p := t.Proc
	pending := t.Pending.Load() | p.Pending.Load()
	ready := pending&^t.SigMask | pending&t.WaitSet
	if ready == 0 || t.VforkChild != 0 {
		return
	}
	if seq := t.OffloadSeq.Load(); seq != 0 {
		k.interruptOffload(p, t, seq)
		return
	}
	for ready != 0 {
		bit := ready & -ready
		if k.wakeFor(p, t, bit, defaultStops(p)&bit != 0) {
			return
		}
		ready &^= bit
	}
}

// wakeFor wakes a thread of p (t, if set) sleeping in the LWK that can
// take the signal bit. A stop wakes only a thread that waits for it
// (sigtimedwait): others sleep on through a stop.
func (k *OS) wakeFor(p *task.Process, t *task.Thread, bit uint64, stop bool) bool {
	for _, o := range p.Threads {
		if t != nil && o != t || o.State != task.Sleeping || o.VforkChild != 0 {
			continue // a vfork parent takes its signals once the child let go
		}
		if o.WaitSet&bit != 0 {
			// rt_sigtimedwait: run the call again; it takes the signal.
			o.WaitSet = 0
			o.Regs.Rip -= 2
			return k.CPUs[o.CPU].Queue.Wake(o, int64(o.Regs.Orig_rax))
		}
		if o.SigMask&bit == 0 && !stop {
			// A futex waiter stays queued: settleFutexWait decides.
			o.Interrupted.Store(true)
			return k.CPUs[o.CPU].Queue.Wake(o, k.interruptedErrno(o))
		}
	}
	return false
}

// interruptedErrno is what a signal makes t's sleeping call return:
// EINTR, but ECHILD for a wait left with no child it could wait for (a
// child reaped at its end, SA_NOCLDWAIT), as Linux's wait looks for
// children before it looks for signals.
func (k *OS) interruptedErrno(t *task.Thread) int64 {
	if t.WaitChild {
		if _, found, _ := k.WaitChild(t, t.WaitPID, unix.WNOHANG|unix.WNOWAIT|unix.WEXITED); !found {
			return -int64(unix.ECHILD)
		}
	}
	return -int64(unix.EINTR)
}

// interruptOffload makes t's call in mcexec return EINTR: the worker is
// signalled, again until the call ends, since the signal may land just
// before the worker enters the call, where it interrupts nothing.
func (k *OS) interruptOffload(p *task.Process, t *task.Thread, seq uint64) {
	t.Interrupted.Store(true)
	k.background(fmt.Sprintf("interrupt of tid %d", t.TID), func() {
		for i := 0; i < 400; i++ {
			worker, executing := p.Chan.Interrupt(t.Slot, seq)
			if !executing {
				return
			}
			if worker != 0 {
				unix.Tgkill(p.ProxyPID, worker, ikc.InterruptSignal)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// ignored reports a signal Linux would discard at once: its action is to
// ignore it and no target thread blocks it (a blocked one stays pending,
// for sigtimedwait or a later handler).
func ignored(p *task.Process, t *task.Thread, sig int) bool {
	act := p.SigActs[sig]
	if act.Handler != task.SigIgnore && (act.Handler != task.SigDefault || !syscalls.IgnoredByDefault(sig)) {
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

// takeSignal removes the lowest deliverable signal of t, except the
// stops that jobStop carries out.
func takeSignal(t *task.Thread) (int, task.SigInfo, bool) {
	return TakeSignal(t, ^t.SigMask&^defaultStops(t.Proc))
}

// TakeSignal removes the lowest pending signal of t within set.
func TakeSignal(t *task.Thread, set uint64) (int, task.SigInfo, bool) {
	p := t.Proc
	for mine := t.Pending.Load() & set; mine != 0; mine = t.Pending.Load() & set {
		sig := bits.TrailingZeros64(mine) + 1
		if bit := uint64(1) << (sig - 1); t.Pending.And(^bit)&bit == 0 {
			continue // dropped meanwhile (SIGCONT and stops drop each other)
		}
		info := t.Info[sig-1]
		if sig >= task.SigRTMin {
			requeueRT(p, t, sig)
		}
		return sig, p.TimerSignalTaken(info), true
	}
	for {
		shared := p.Pending.Load()
		ready := shared & set
		if ready == 0 {
			return 0, task.SigInfo{}, false
		}
		sig := bits.TrailingZeros64(ready) + 1
		info := p.PendingInfo[sig-1]
		if p.Pending.CompareAndSwap(shared, shared&^(1<<(sig-1))) {
			if sig >= task.SigRTMin {
				requeueRT(p, nil, sig)
			}
			return sig, p.TimerSignalTaken(info), true
		}
	}
}

// queueRT queues an instance of a real-time signal that is pending for
// its target already, and reports whether it did.
func queueRT(p *task.Process, t *task.Thread, sig int, info task.SigInfo) bool {
	bit, tid := uint64(1)<<(sig-1), 0
	pending := p.Pending.Load()
	if t != nil {
		pending, tid = t.Pending.Load(), t.TID
	}
	p.QueueMu.Lock()
	defer p.QueueMu.Unlock()
	if pending&bit == 0 {
		return false
	}
	p.Queued = append(p.Queued, task.QueuedSignal{Sig: sig, TID: tid, Info: info})
	return true
}

// requeueRT makes the next queued instance of sig pending once the
// previous one was taken.
func requeueRT(p *task.Process, t *task.Thread, sig int) {
	tid := 0
	if t != nil {
		tid = t.TID
	}
	p.QueueMu.Lock()
	defer p.QueueMu.Unlock()
	for i, q := range p.Queued {
		if q.Sig == sig && q.TID == tid {
			p.Queued = append(p.Queued[:i:i], p.Queued[i+1:]...)
			bit := uint64(1) << (sig - 1)
			if t != nil {
				t.Info[sig-1] = q.Info
				t.Pending.Or(bit)
			} else {
				p.PendingInfo[sig-1] = q.Info
				for old := p.Pending.Load(); !p.Pending.CompareAndSwap(old, old|bit); old = p.Pending.Load() {
				}
			}
			return
		}
	}
}

// deliverSignals runs before t resumes: it carries out a stop, builds
// handler frames for its deliverable signals and returns a signal whose
// default action ends the process, or 0. Nothing is delivered while the
// process is stopped.
func (k *OS) deliverSignals(t *task.Thread) int {
	p := t.Proc
	if k.jobStop(t) {
		return 0 // what becomes of an interrupted call is decided after SIGCONT
	}
	defer func() {
		// A signal ended rt_sigsuspend without running a handler.
		if t.HasSuspendMask {
			t.SigMask, t.HasSuspendMask = t.SuspendMask, false
		}
		// No handler ran for the signal that interrupted the call: Linux
		// restarts it, as if nothing happened, unless it is one that
		// fails even so.
		restartInterrupted(t, true, eintrWithoutHandler)
	}()
	for {
		sig, info, ok := takeSignal(t)
		if !ok {
			return 0
		}
		act := p.SigActs[sig]
		switch act.Handler {
		case task.SigIgnore:
			continue
		case task.SigDefault:
			if syscalls.IgnoredByDefault(sig) {
				continue
			}
			p.DeathInfo = info
			return sig
		}
		restartInterrupted(t, act.Flags&task.SaRestart != 0, neverRestarted)
		fp, err := k.currentFP(t)
		if err == nil {
			err = signal.Deliver(p.MM, t, sig, info, act, fp)
		}
		if err != nil {
			k.Kmsg.Printf("pid %d: cannot deliver signal %d to tid %d: %v", p.PID, sig, t.TID, err)
			p.DeathInfo = task.SigInfo{Code: siKernel}
			return int(unix.SIGSEGV)
		}
		t.Stats.Signals++
		if act.Flags&task.SaResetHand != 0 {
			p.SigActs[sig].Handler = task.SigDefault
		}
	}
}

// restartInterrupted decides the fate of a call a signal interrupted, as
// the thread resumes or enters a handler: with restart (SA_RESTART, or no
// handler) the call runs again unless listed in failing; otherwise it
// fails with EINTR.
func restartInterrupted(t *task.Thread, restart bool, failing map[uint64]bool) {
	// A plain load first: this runs at every resume, interrupts are rare.
	if !t.Interrupted.Load() || !t.Interrupted.Swap(false) || int64(t.Regs.Rax) != -int64(unix.EINTR) {
		return
	}
	if restart && !failing[t.Regs.Orig_rax] {
		t.Regs.Rax = t.Regs.Orig_rax
		t.Regs.Rip -= 2 // back to the syscall instruction
	}
}

// neverRestarted are the calls Linux fails with EINTR after a handler even
// with SA_RESTART (ERESTARTNOHAND and timeouts), or that wait for the
// signal itself.
var neverRestarted = map[uint64]bool{
	unix.SYS_PAUSE: true, unix.SYS_RT_SIGSUSPEND: true, unix.SYS_RT_SIGTIMEDWAIT: true,
	unix.SYS_NANOSLEEP: true, unix.SYS_CLOCK_NANOSLEEP: true,
	unix.SYS_SELECT: true, unix.SYS_PSELECT6: true, unix.SYS_POLL: true, unix.SYS_PPOLL: true,
	unix.SYS_EPOLL_WAIT: true, unix.SYS_EPOLL_PWAIT: true, unix.SYS_EPOLL_PWAIT2: true,
	unix.SYS_IO_GETEVENTS: true, unix.SYS_SEMTIMEDOP: true,
}

// eintrWithoutHandler are the calls Linux fails with EINTR even when no
// handler ran, after a stop and SIGCONT (signal(7)).
var eintrWithoutHandler = map[uint64]bool{
	unix.SYS_RT_SIGTIMEDWAIT: true, unix.SYS_EPOLL_WAIT: true, unix.SYS_EPOLL_PWAIT: true,
	unix.SYS_EPOLL_PWAIT2: true, unix.SYS_IO_GETEVENTS: true, unix.SYS_SEMOP: true, unix.SYS_SEMTIMEDOP: true,
}

// currentFP returns t's FPU state: the stub's if t owns it.
func (k *OS) currentFP(t *task.Thread) ([]byte, error) {
	stub := t.Proc.StubOn(t.CPU)
	if stub == nil || stub.FPOwner != t.TID {
		return t.FPState, nil
	}
	fp, err := stub.SaveFP(t.FPState)
	if err != nil {
		return nil, err
	}
	t.FPState = fp
	return fp, nil
}

// siKernel is si_code SI_KERNEL: the kernel sent the signal.
const siKernel = 0x80

// hasHandler reports whether sig would run an app handler in t.
func hasHandler(t *task.Thread, sig int) bool {
	h := t.Proc.SigActs[sig].Handler
	return h != task.SigDefault && h != task.SigIgnore && t.SigMask&(1<<(sig-1)) == 0
}

// kill makes p die of sig (a forwarded signal, mcexec's death, shutdown):
// a running thread notices at its next stop, which the kick forces; a
// process whose threads all sleep is ended by its CPU directly.
func (k *OS) kill(p *task.Process, sig int) {
	k.killWith(p, sig, task.SigInfo{})
}

// killWith is kill with the sender's siginfo. A signal that is caught,
// blocked by every thread or for job control is queued; one whose default
// action ends the process ends it.
func (k *OS) killWith(p *task.Process, sig int, info task.SigInfo) {
	queued := p.SigActs[sig].Handler != task.SigDefault || blockedByAll(p, sig) || jobSignal(sig)
	if sig != int(unix.SIGKILL) && queued {
		k.Signal(p, nil, sig, info)
		return
	}
	if syscalls.IgnoredByDefault(sig) {
		return
	}
	if p.Kill.CompareAndSwap(0, int32(sig)) {
		p.DeathInfo = info
	}
	if p.Chan != nil {
		p.Chan.Abort()
	}
	kick(p)
	if len(p.Threads) > 0 {
		c := k.CPUs[p.Threads[0].CPU]
		c.Go(func() { k.endProcess(c, p, nil, 0, int(p.Kill.Load())) })
	}
}

// blockedByAll reports a signal every thread of p blocks.
func blockedByAll(p *task.Process, sig int) bool {
	for _, t := range p.Threads {
		if t.SigMask&(1<<(sig-1)) == 0 {
			return false
		}
	}
	return len(p.Threads) > 0
}

// KillPID sends sig (0: only check) to the LWK process pid, a live one or
// a zombie child of t's process; false when pid is not the LWK's.
func (k *OS) KillPID(t *task.Thread, pid, sig int, info task.SigInfo) bool {
	if p := k.Procs.Find(pid); p != nil && !p.Exited {
		if sig != 0 {
			k.killWith(p, sig, info)
		}
		return true
	}
	k.Procs.TreeMu.Lock()
	defer k.Procs.TreeMu.Unlock()
	for _, c := range t.Proc.Children {
		if c.PID == pid {
			return true // a zombie: signals to it are discarded
		}
	}
	return false
}

// TakeSignal removes a pending signal of t within set (rt_sigtimedwait).
func (k *OS) TakeSignal(t *task.Thread, set uint64) (int, task.SigInfo, bool) {
	return TakeSignal(t, set)
}
