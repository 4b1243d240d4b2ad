package ptrace

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/platform"
)

// A process whose threads run on several LWK CPUs has one stub thread per
// CPU, all threads of its stub process, so that one injected mmap serves
// them all. A tracer can only create a stub thread by injecting clone into
// a stub it traces, and every ptrace request for a thread must come from
// its tracer's OS thread: the new thread is handed over. It is parked in a
// pause() loop and detached, then the target CPU's tracer seizes it and
// stops it with PTRACE_INTERRUPT, which sends no signal (a SIGSTOP would
// stop the whole stub process).

// stubThreadFlags make the injected clone a thread of the stub process.
const stubThreadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// NewThread makes a stub thread for host CPU hostCPU by injecting clone
// into s, which must be stopped and traced by the calling OS thread. The
// thread waits, parked and untraced, until its tracer calls Attach.
func (s *Stub) NewThread(hostCPU int) (platform.Context, error) {
	opts := unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD
	if err := unix.PtraceSetOptions(s.PID, opts|unix.PTRACE_O_TRACECLONE); err != nil {
		return nil, fmt.Errorf("cpu: trace clones of stub %d: %w", s.PID, err)
	}
	defer unix.PtraceSetOptions(s.PID, opts)
	tid, err := s.injectClone()
	if err != nil {
		return nil, err
	}
	t := &Stub{PID: tid, TGID: s.TGID, CPU: hostCPU, vdso: s.vdso, gadget: s.gadget, template: s.template, initFP: s.initFP}
	if err := t.park(); err != nil {
		unix.Tgkill(s.TGID, tid, unix.SIGKILL)
		return nil, err
	}
	return t, nil
}

// injectClone runs clone in s and returns the new thread's tid once it is
// in its first stop (auto-attached by PTRACE_O_TRACECLONE).
func (s *Stub) injectClone() (int, error) {
	regs := s.template
	regs.Rip, regs.Rax, regs.Orig_rax, regs.Rdi = s.gadget, unix.SYS_CLONE, ^uint64(0), stubThreadFlags
	regs.Rsi, regs.Rdx, regs.R10, regs.R8 = 0, 0, 0, 0
	if err := setRegs(s.PID, &regs); err != nil {
		return 0, fmt.Errorf("cpu: inject clone into stub %d: %w", s.PID, err)
	}
	if err := ptrace(unix.PTRACE_CONT, s.PID, 0); err != nil {
		return 0, fmt.Errorf("cpu: inject clone into stub %d: %w", s.PID, err)
	}
	tid := 0
	for tid == 0 {
		st, ws, err := s.wait()
		if err != nil || st.Kind == platform.StopExited {
			return 0, fmt.Errorf("cpu: stub %d died in clone: %v", s.PID, err)
		}
		if ws.TrapCause() == unix.PTRACE_EVENT_CLONE {
			msg, err := unix.PtraceGetEventMsg(s.PID)
			if err != nil {
				return 0, fmt.Errorf("cpu: new thread of stub %d: %w", s.PID, err)
			}
			tid = int(msg)
		} else if st.Kind == platform.StopSignal && st.Signal == syscall.SIGTRAP {
			return 0, fmt.Errorf("cpu: clone in stub %d made no thread (rax %#x)", s.PID, s.resultOrZero())
		}
		if err := ptrace(unix.PTRACE_CONT, s.PID, 0); err != nil {
			return 0, err
		}
	}
	// The parent goes on to the gadget's int3.
	for {
		st, _, err := s.wait()
		if err != nil || st.Kind == platform.StopExited {
			return 0, fmt.Errorf("cpu: stub %d died after clone: %v", s.PID, err)
		}
		if st.Kind == platform.StopSignal && st.Signal == syscall.SIGTRAP {
			break
		}
		if err := ptrace(unix.PTRACE_CONT, s.PID, 0); err != nil {
			return 0, err
		}
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(tid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || !ws.Stopped() {
			return 0, fmt.Errorf("cpu: new stub thread %d did not stop (%v): %w", tid, ws, err)
		}
		return tid, nil
	}
}

func (s *Stub) resultOrZero() uint64 {
	var regs unix.PtraceRegs
	getRegs(s.PID, &regs)
	return regs.Rax
}

// park points the stopped new thread at the pause loop, pins it and lets
// it go.
func (s *Stub) park() error {
	regs := s.template
	regs.Rip, regs.Orig_rax = ikc.StubBase+stubParkOff, ^uint64(0)
	if err := setRegs(s.PID, &regs); err != nil {
		return fmt.Errorf("cpu: park stub thread %d: %w", s.PID, err)
	}
	var set unix.CPUSet
	set.Set(s.CPU)
	if err := unix.SchedSetaffinity(s.PID, &set); err != nil {
		return fmt.Errorf("cpu: pin stub thread %d to CPU %d: %w", s.PID, s.CPU, err)
	}
	if err := ptrace(unix.PTRACE_DETACH, s.PID, 0); err != nil {
		return fmt.Errorf("cpu: hand over stub thread %d: %w", s.PID, err)
	}
	return nil
}

// Attached reports whether the stub thread has its tracer.
func (s *Stub) Attached() bool { return s.adopted.Load() }

// Attach makes the calling OS thread the tracer of a parked stub thread.
func (s *Stub) Attach() error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(s.PID), 0,
		unix.PTRACE_O_EXITKILL|unix.PTRACE_O_TRACESYSGOOD, 0, 0)
	if e != 0 {
		return fmt.Errorf("cpu: seize stub thread %d: %w", s.PID, e)
	}
	if err := ptrace(unix.PTRACE_INTERRUPT, s.PID, 0); err != nil {
		return fmt.Errorf("cpu: stop stub thread %d: %w", s.PID, err)
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(s.PID, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || !ws.Stopped() {
			s.dead = true
			return fmt.Errorf("cpu: stub thread %d did not stop (%v): %w", s.PID, ws, err)
		}
		break
	}
	s.adopted.Store(true)
	return nil
}

// switchFPTraced switches the FPU state of a stub thread through ptrace:
// the switch area and its trampoline live at one address in the stub
// process and serve its first thread only.
func (s *Stub) switchFPTraced(save *[]byte, load []byte) {
	if save != nil {
		if fp, err := s.SaveFP(*save); err == nil {
			*save = fp
		}
	}
	if len(load) == 0 {
		return
	}
	iov := unix.Iovec{Base: &load[0], Len: uint64(len(load))}
	// A failure shows at the next resume: the stub is gone.
	unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGSET, uintptr(s.PID), ntX86XState, uintptr(unsafe.Pointer(&iov)), 0, 0)
}
