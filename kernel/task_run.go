package kernel

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/syscalls"
	"github.com/gomck/gomck/kernel/task"
)

// runThread runs t on CPU c until it blocks, yields or exits, or its
// process ends.
func (k *OS) runThread(c *CPU, t *task.Thread) {
	p := t.Proc
	if p.Exited || t.Gone.Load() || p.Kill.Load() != 0 {
		return // a killed process's threads run no more: its end is on its way
	}
	if !t.AllowedOn(c.Index) {
		k.migrate(c, t)
		return
	}
	stub, err := k.stubOn(c, p)
	if err != nil {
		k.Kmsg.Printf("pid %d: %v", p.PID, err)
		k.endProcess(c, p, nil, 0, int(unix.SIGKILL))
		return
	}
	c.setCurrent(k, t)
	defer c.setCurrent(k, nil)
	if t.FutexBlocked {
		k.settleFutexWait(t)
	}
	t.Begin()
	t.State, t.Syscall, t.WaitSet, t.WaitChild = task.Running, task.NoSyscall, 0, false
	t.End()
	for {
		if s := k.deliverSignals(t); s != 0 {
			k.endProcess(c, p, t, 0, s)
			return
		}
		if k.parkStopped(t) {
			return
		}
		if stub.FPOwner != t.TID {
			k.switchFP(stub, t)
		}
		// The registers come back into a copy, stored under the thread's
		// sequence counter: mcps and mcinspect read them while it runs.
		regs := t.Regs
		c.waiting()
		st, err := stub.Run(&regs)
		c.working()
		t.Begin()
		t.Regs = regs
		t.End()
		if s := p.Kill.Load(); s != 0 {
			k.endProcess(c, p, nil, 0, int(s))
			return
		}
		if t.Gone.Load() {
			return // ended from another CPU: exec or the process's end
		}
		if err != nil || st.Kind == platform.StopExited {
			k.Kmsg.Printf("pid %d: stub %d vanished (%v, %s)", p.PID, stub.PID, err, st.Detail)
			k.endProcess(c, p, nil, 0, int(unix.SIGKILL))
			return
		}
		if st.Kind == platform.StopSignal {
			if s := k.fault(t, st); s != 0 {
				k.endProcess(c, p, t, 0, s)
				return
			}
			if c.preempted() {
				c.Queue.Push(t)
				return
			}
			continue
		}
		call := syscalls.Dispatch(t, &k.Env)
		if call.Counted {
			publishCounters(t)
			if call.Offloaded {
				c.Stats.OffloadCalls++
			} else {
				c.Stats.LocalCalls++
			}
		}
		switch call.Action {
		case syscalls.Continue:
			c.Queue.Reap() // a parked thread's answer: Resched
			if c.preempted() || c.Queue.Resched() {
				c.Queue.Push(t)
				return
			}
			continue
		case syscalls.Yield:
			c.Queue.Push(t)
		case syscalls.Block:
			k.signalRaced(t)
		case syscalls.ExitThread:
			k.exitThread(c, t, call.ExitCode)
		case syscalls.ExitProcess:
			k.endProcess(c, p, t, call.ExitCode, call.ExitSignal)
		}
		return
	}
}

// switchFP gives the stub thread t's FPU/vector state at the next resume,
// which first saves the state of the thread that had it.
func (k *OS) switchFP(stub *task.Context, t *task.Thread) {
	var save *[]byte
	for _, o := range t.Proc.Threads {
		if o.TID == stub.FPOwner {
			save = &o.FPState
		}
	}
	stub.SwitchFP(save, t.FPState)
	stub.FPOwner = t.TID
}

// fault handles a signal stop of the stub; it returns the signal that ends
// the process, or 0 to resume.
func (k *OS) fault(t *task.Thread, st platform.Stop) int {
	p := t.Proc
	switch st.Signal {
	case syscall.SIGSTOP:
		return 0 // a kick; Kill was checked by the caller
	case syscall.SIGSEGV, syscall.SIGBUS:
		code := st.Code
		if st.Code > 0 { // raised by the CPU, not sent
			switch p.MM.Fault(st.Addr) {
			case mm.FaultHandled:
				t.Stats.PageFaults++
				k.CPUs[t.CPU].Stats.PageFaults++
				return 0
			case mm.FaultPopulated:
				if t.RetriedFault != st.Addr {
					t.RetriedFault = st.Addr
					return 0
				}
				code = segvAccErr
			case mm.FaultOOM:
				k.Kmsg.Printf("pid %d: out of partition memory at %#x: SIGSEGV", p.PID, st.Addr)
			case mm.FaultAccErr:
				code = segvAccErr
			case mm.FaultFile: // Linux's own: SIGBUS past the file's end, say
			}
		}
		return k.synchronous(t, int(st.Signal), task.SigInfo{Code: code, Addr: st.Addr})
	case syscall.SIGILL, syscall.SIGFPE, syscall.SIGTRAP, syscall.SIGABRT:
		return k.synchronous(t, int(st.Signal), task.SigInfo{Code: st.Code, Addr: st.Addr})
	}
	return 0 // host noise (SIGCHLD, SIGWINCH, ...) is not the app's
}

// segvAccErr is SIGSEGV's si_code for a protection fault.
const segvAccErr = 2

// synchronous raises a fault signal in t: its handler runs if it has one
// and does not block it; otherwise the process dies of it, as Linux forces.
func (k *OS) synchronous(t *task.Thread, sig int, info task.SigInfo) int {
	if hasHandler(t, sig) {
		t.Info[sig-1] = info
		t.Pending.Or(1 << (sig - 1))
		return 0
	}
	k.Kmsg.Printf("pid %d: tid %d: signal %d (code %d, addr %#x) at ip %#x", t.Proc.PID, t.TID, sig, info.Code, info.Addr, t.Regs.Rip)
	t.Proc.DeathInfo = info
	return sig
}
