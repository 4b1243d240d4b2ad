package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/platform"
)

// Descriptors inside a stub: the partition memfd, the FPU switch area
// and a pidfd of the daemon, through which the stub takes (pidfd_getfd)
// the files of the app's shared file mappings.
const (
	PartitionFD = 3
	daemonFD    = 5
)

// Stub is one traced stub thread: the host context (platform.Context) in
// which the app threads of one LWK process execute on one LWK CPU. The
// first of a process is a stub process of its own; the process's other
// LWK CPUs get threads of it (NewThread), which share its address space.
type Stub struct {
	PID    int    // the thread's tid; the process's pid for the first
	TGID   int    // the stub process's pid
	CPU    int    // host CPU it is pinned to
	vdso   uint64 // the stub's vDSO, handed to the app as AT_SYSINFO_EHDR
	gadget uint64
	// template holds the stub's registers at its first stop; new app
	// threads start from it so that segment selectors are right.
	template unix.PtraceRegs
	// initFP is the FPU state of a fresh process, for execve.
	initFP []byte
	fpu    *fpuSwitch // nil for stub threads: they switch through ptrace
	dead   bool
	wipe   bool // Wipe's unmap is due, with the next injection
	// adopted is clear while a new stub thread waits, untraced, for its
	// CPU's tracer (Attach): nothing may signal it then.
	adopted atomic.Bool
}

var _ platform.Context = (*Stub)(nil)

// HostTID is the stub thread's tid.
func (s *Stub) HostTID() int { return s.PID }

// VDSO is where the stub's vDSO lies.
func (s *Stub) VDSO() uint64 { return s.vdso }

// InitialRegs are the stub's registers at its first stop.
func (s *Stub) InitialRegs() platform.Regs { return s.template }

// InitialFP is the FPU state of a fresh process.
func (s *Stub) InitialFP() []byte { return s.initFP }

// startStub forks and execs a stub traced by the calling OS thread, which
// must be locked (runtime.LockOSThread) and must issue all later requests.
func startStub(exeFD, partitionFD, hostCPU int) (*Stub, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	fpu, fpuFD, err := newFPUSwitch()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fpuFD) // the stub keeps its own copy
	daemon, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		fpu.release()
		return nil, fmt.Errorf("cpu: pidfd of the daemon for a stub: %w", err)
	}
	defer unix.Close(daemon)
	n := null.Fd()
	pid, err := syscall.ForkExec(fmt.Sprintf("/proc/self/fd/%d", exeFD), []string{"gomck-stub"}, &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{n, n, n, uintptr(partitionFD), uintptr(fpuFD), uintptr(daemon)},
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		fpu.release()
		return nil, fmt.Errorf("cpu: start stub: %w", err)
	}
	s := &Stub{PID: pid, TGID: pid, CPU: hostCPU, gadget: ikc.StubBase + stubGadgetOff, fpu: fpu}
	s.adopted.Store(true)
	if err := s.prepare(); err != nil {
		s.Kill()
		s.Release()
		return nil, err
	}
	return s, nil
}

// prepare readies a stub stopped after its exec: options, pinning, the
// register and FPU templates and the FPU switch area.
func (s *Stub) prepare() error {
	var ws unix.WaitStatus
	if _, err := unix.Wait4(s.PID, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		return fmt.Errorf("cpu: stub %d did not stop after exec (%v): %w", s.PID, ws, err)
	}
	if err := unix.PtraceSetOptions(s.PID, unix.PTRACE_O_EXITKILL|unix.PTRACE_O_TRACESYSGOOD); err != nil {
		return fmt.Errorf("cpu: ptrace options on stub %d: %w", s.PID, err)
	}
	var set unix.CPUSet
	set.Set(s.CPU)
	if err := unix.SchedSetaffinity(s.PID, &set); err != nil {
		return fmt.Errorf("cpu: pin stub %d to CPU %d: %w", s.PID, s.CPU, err)
	}
	if err := unix.PtraceGetRegs(s.PID, &s.template); err != nil {
		return fmt.Errorf("cpu: registers of stub %d: %w", s.PID, err)
	}
	var err error
	if s.vdso, err = vdsoOf(s.PID); err != nil {
		return err
	}
	if s.initFP, err = s.SaveFP(nil); err != nil {
		return err
	}
	if err := s.fpu.init(s.initFP); err != nil {
		return err
	}
	return s.mapFPUArea()
}

// vdsoOf reads AT_SYSINFO_EHDR from a process's auxv.
func vdsoOf(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu: stub auxv: %w", err)
	}
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == 33 { // AT_SYSINFO_EHDR
			return binary.LittleEndian.Uint64(b[i+8:]), nil
		}
	}
	return 0, nil
}

// Run loads regs into the stub, runs it until the next stop and saves the
// registers back into regs. A pending FPU switch (SwitchFP) runs first.
func (s *Stub) Run(regs *platform.Regs) (platform.Stop, error) {
	if err := s.FinishWipe(); err != nil {
		return platform.Stop{}, err
	}
	run := regs
	var orig, switching unix.PtraceRegs
	if s.fpu != nil && s.fpu.load {
		orig, switching = *regs, s.fpu.enter(regs)
		run = &switching
	}
	if err := setRegs(s.PID, run); err != nil {
		return platform.Stop{}, fmt.Errorf("cpu: set registers of stub %d: %w", s.PID, err)
	}
	if err := ptrace(unix.PTRACE_SYSEMU, s.PID, 0); err != nil {
		return platform.Stop{}, fmt.Errorf("cpu: resume stub %d: %w", s.PID, err)
	}
	st, _, err := s.wait()
	if err != nil || st.Kind == platform.StopExited {
		return st, err
	}
	if err := getRegs(s.PID, regs); err != nil {
		return st, fmt.Errorf("cpu: get registers of stub %d: %w", s.PID, err)
	}
	if run == &switching {
		if err := s.fpu.leave(regs, &orig, st); err != nil {
			return st, fmt.Errorf("cpu: stub %d: %w", s.PID, err)
		}
	}
	return st, nil
}

// wait waits for the stub's next stop; ws is the raw status, for
// ptrace events.
func (s *Stub) wait() (st platform.Stop, ws unix.WaitStatus, err error) {
	for {
		_, err := unix.Wait4(s.PID, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			s.dead = true
			return platform.Stop{Kind: platform.StopExited}, ws, fmt.Errorf("cpu: wait for stub %d: %w", s.PID, err)
		}
		break
	}
	switch {
	case ws.Exited() || ws.Signaled():
		s.dead = true
		return platform.Stop{Kind: platform.StopExited, Detail: exitDetail(ws)}, ws, nil
	case ws.Stopped() && ws.StopSignal() == syscall.SIGTRAP|0x80:
		return platform.Stop{Kind: platform.StopSyscall}, ws, nil
	case ws.Stopped():
		st := platform.Stop{Kind: platform.StopSignal, Signal: ws.StopSignal()}
		var si [128]byte
		if err := ptrace(unix.PTRACE_GETSIGINFO, s.PID, uintptr(unsafe.Pointer(&si[0]))); err == nil {
			st.Code = int32(binary.LittleEndian.Uint32(si[8:]))
			st.Addr = binary.LittleEndian.Uint64(si[16:])
		}
		return st, ws, nil
	}
	return platform.Stop{Kind: platform.StopSignal}, ws, nil
}

// exitDetail says how a stub ended.
func exitDetail(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return fmt.Sprintf("killed by signal %d", ws.Signal())
	}
	return fmt.Sprintf("exited with %d", ws.ExitStatus())
}

// Inject executes one system call for real inside the stub (through the
// gadget) and returns its result. The stub's registers are clobbered: the
// next Run reloads the app thread's.
func (s *Stub) Inject(nr uint64, args ...uint64) (int64, error) {
	if err := s.FinishWipe(); err != nil {
		return 0, err
	}
	return s.inject(nr, args...)
}

func (s *Stub) inject(nr uint64, args ...uint64) (int64, error) {
	regs := s.template
	regs.Rip, regs.Rax, regs.Orig_rax = s.gadget, nr, ^uint64(0)
	regs.Rsp = regs.Rsp &^ 15
	dst := []*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
	for i, a := range args {
		*dst[i] = a
	}
	if err := s.runToTrap(&regs); err != nil {
		return 0, fmt.Errorf("cpu: injected syscall %d in stub %d: %w", nr, s.PID, err)
	}
	return injected(int64(regs.Rax), nr, s.PID)
}

// injected turns an injected call's raw result into an error, if any.
func injected(ret int64, nr uint64, pid int) (int64, error) {
	if ret < 0 && ret > -4096 {
		return ret, fmt.Errorf("cpu: injected syscall %d in stub %d: %w", nr, pid, unix.Errno(-ret))
	}
	return ret, nil
}

// runToTrap runs the stub from regs until it reaches an int3, and reads
// its registers back into regs.
func (s *Stub) runToTrap(regs *unix.PtraceRegs) error {
	if err := setRegs(s.PID, regs); err != nil {
		return err
	}
	if err := ptrace(unix.PTRACE_CONT, s.PID, 0); err != nil {
		return err
	}
	for {
		st, _, err := s.wait()
		if err != nil {
			return err
		}
		if st.Kind == platform.StopExited {
			return errors.New("the stub died")
		}
		if st.Kind == platform.StopSignal && st.Signal == syscall.SIGTRAP {
			break
		}
		// Another signal (a kick) arrived first: swallow it and go on.
		if err := ptrace(unix.PTRACE_CONT, s.PID, 0); err != nil {
			return err
		}
	}
	return getRegs(s.PID, regs)
}

// call is one system call of injectAll.
type call struct {
	Nr   uint64
	Args [6]uint64
}

// batchEntry is the size of a call in the switch area, as batchCode reads
// it; batchMax calls fit there.
const (
	batchEntry = 64
	batchMax   = (fpuInOff - fpuBatchOff) / batchEntry
)

// injectAll executes calls in the stub one after the other, with one stop
// for as many as the switch area holds (a stub thread, which has none of
// its own, stops for each): a process's mappings cost one ptrace round
// trip instead of one each. It reports the first failure; the calls of
// its batch after it were made too.
func (s *Stub) injectAll(calls []call) error {
	if s.fpu == nil {
		for _, c := range calls {
			if _, err := s.Inject(c.Nr, c.Args[:]...); err != nil {
				return err
			}
		}
		return nil
	}
	if s.wipe {
		calls = append([]call{wipeCall}, calls...)
		s.wipe = false
	}
	le := binary.LittleEndian
	for len(calls) > 0 {
		batch := calls[:min(len(calls), batchMax)]
		area := s.fpu.mem[fpuBatchOff:]
		for i, c := range batch {
			e := area[i*batchEntry:]
			le.PutUint64(e, c.Nr)
			for j, a := range c.Args {
				le.PutUint64(e[8+8*j:], a)
			}
		}
		regs := s.template
		regs.Rip, regs.Orig_rax = ikc.StubBase+stubBatchOff, ^uint64(0)
		regs.Rbx, regs.R12 = fpuAreaBase+fpuBatchOff, uint64(len(batch))
		regs.Rsp = regs.Rsp &^ 15
		if err := s.runToTrap(&regs); err != nil {
			return fmt.Errorf("cpu: injected calls in stub %d: %w", s.PID, err)
		}
		for i, c := range batch {
			if _, err := injected(int64(le.Uint64(area[i*batchEntry+56:])), c.Nr, s.PID); err != nil {
				return err
			}
		}
		calls = calls[len(batch):]
	}
	return nil
}

// madvPopulateWrite (Linux 5.14) prefaults writable page table entries.
const madvPopulateWrite = 23

// Map maps partition bytes [off, off+length) at va in the stub; with
// populate, its page table entries are filled so the app takes no fault on
// first touch. MAP_POPULATE alone would leave shared writable pages
// read-only until a write fault (the kernel's dirty tracking), so writable
// mappings are prefaulted for writing.
func (s *Stub) Map(va, length, off uint64, prot int, populate bool) error {
	c := mapCall(va, length, off, prot)
	if populate {
		c.Args[3] |= unix.MAP_POPULATE
	}
	_, err := s.Inject(c.Nr, c.Args[:]...)
	if err == nil && populate && prot&unix.PROT_WRITE != 0 {
		s.Inject(unix.SYS_MADVISE, va, length, madvPopulateWrite)
	}
	return err
}

// MapAll maps every range with as few stops as injectAll makes.
func (s *Stub) MapAll(ms []platform.Mapping) error {
	calls := make([]call, len(ms))
	for i, m := range ms {
		calls[i] = mapCall(m.VA, m.Len, m.Off, m.Prot)
	}
	return s.injectAll(calls)
}

// mapCall is the call that maps partition bytes [off, off+length) at va
// in a stub, leaving the page table entries to fill on first touch.
func mapCall(va, length, off uint64, prot int) call {
	return call{Nr: unix.SYS_MMAP, Args: [6]uint64{va, length, uint64(prot), unix.MAP_SHARED | unix.MAP_FIXED, PartitionFD, off}}
}

// MapFile maps bytes [off, off+length) of the daemon's file fd at va,
// MAP_SHARED: the stub takes its own descriptor of the file from the
// daemon for the mmap and closes it again (the mapping holds the file).
func (s *Stub) MapFile(va, length uint64, fd int, off uint64, prot int) error {
	sfd, err := s.Inject(unix.SYS_PIDFD_GETFD, daemonFD, uint64(fd), 0)
	if err != nil {
		return err
	}
	_, err = s.Inject(unix.SYS_MMAP, va, length, uint64(prot), unix.MAP_SHARED|unix.MAP_FIXED, uint64(sfd), off)
	if _, cerr := s.Inject(unix.SYS_CLOSE, uint64(sfd)); err == nil {
		err = cerr
	}
	return err
}

// AttachSysV attaches System V segment shmid at va in the stub (shmat
// with SHM_REMAP: whatever the stub mapped there goes).
func (s *Stub) AttachSysV(va uint64, shmid int, prot int) error {
	_, err := s.Inject(unix.SYS_SHMAT, uint64(shmid), va, uint64(lwkabi.ShmFlags(prot)|lwkabi.ShmRemap))
	return err
}

// Unmap removes [va, va+length) from the stub.
func (s *Stub) Unmap(va, length uint64) error {
	_, err := s.Inject(unix.SYS_MUNMAP, va, length)
	return err
}

// Protect changes protections in the stub.
func (s *Stub) Protect(va, length uint64, prot int) error {
	_, err := s.Inject(unix.SYS_MPROTECT, va, length, uint64(prot))
	return err
}

// Alive reports whether the stub is still there, as far as its tracer has
// seen.
func (s *Stub) Alive() bool { return !s.dead }

// Wipe readies a stub whose process ended for another: no FPU switch is
// pending (the next process's first thread loads its own state), and its
// app window is emptied before anything else runs in it, by the next
// injection (a fork's batch of mappings: one stop for both). It fails if
// the stub is gone.
func (s *Stub) Wipe() error {
	s.fpu.save, s.fpu.load = nil, false
	s.wipe = true
	var regs unix.PtraceRegs
	if err := getRegs(s.PID, &regs); err != nil {
		return fmt.Errorf("cpu: stub %d: %w", s.PID, err)
	}
	return nil
}

// wipeCall empties a stub's app window.
var wipeCall = call{Nr: unix.SYS_MUNMAP, Args: [6]uint64{ikc.WindowStart, ikc.WindowEnd - ikc.WindowStart}}

// FinishWipe makes Wipe's unmap now, if it is due.
func (s *Stub) FinishWipe() error {
	if !s.wipe {
		return nil
	}
	s.wipe = false
	_, err := s.inject(wipeCall.Nr, wipeCall.Args[:2]...)
	return err
}

// Kill ends the stub. Any thread may call it: SIGKILL needs no
// ptrace; Release, on the tracer's thread, collects it.
func (s *Stub) Kill() {
	if s.TGID > 0 {
		unix.Kill(s.TGID, unix.SIGKILL)
	}
}

// Release waits for a killed stub to disappear. Any thread of the daemon may
// reap; reap a process's stub threads before its first stub, whose exit
// Linux reports last.
func (s *Stub) Release() {
	if !s.adopted.Load() {
		s.dead = true // untraced: Linux reaps it with its process
	}
	for !s.dead {
		var ws unix.WaitStatus
		_, err := unix.Wait4(s.PID, &ws, unix.WALL, nil)
		if err != nil && err != unix.EINTR || ws.Exited() || ws.Signaled() {
			s.dead = true
		}
	}
	if s.fpu != nil {
		s.fpu.release()
	}
}

// Interrupt makes a running stub stop so that its tracer regains control
// (pending LWK signals, kill). Any thread may call it. The signal goes to
// the stub thread alone: a SIGSTOP that another thread took would stop
// the whole stub process.
func (s *Stub) Interrupt() {
	if s.PID > 0 && s.adopted.Load() { // never kill(0, ...): that is the daemon's own group
		unix.Tgkill(s.TGID, s.PID, unix.SIGSTOP)
	}
}

// ptrace issues a request that never blocks (the tracee is stopped), so it
// uses RawSyscall6: entering and leaving the Go scheduler's syscall state
// would add measurably to every app syscall round trip.
func ptrace(req int, pid int, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(pid), 0, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func getRegs(pid int, regs *unix.PtraceRegs) error {
	return ptrace(unix.PTRACE_GETREGS, pid, uintptr(unsafe.Pointer(regs)))
}

func setRegs(pid int, regs *unix.PtraceRegs) error {
	return ptrace(unix.PTRACE_SETREGS, pid, uintptr(unsafe.Pointer(regs)))
}

// ntX86XState is the regset of the full XSAVE area.
const ntX86XState = 0x202

// xsaveMax bounds the XSAVE area (AVX-512 needs about 2.7 KiB, AMX 11 KiB).
const xsaveMax = 0x3000

// SaveFP reads the stub's FPU/vector state (XSAVE layout) into buf and
// returns the used part: the state the next resume loads if a switch is
// pending.
func (s *Stub) SaveFP(buf []byte) ([]byte, error) {
	if s.fpu != nil && s.fpu.load {
		return append(buf[:0], s.fpu.slot(fpuInOff)...), nil
	}
	if cap(buf) < xsaveMax {
		buf = make([]byte, xsaveMax)
	}
	buf = buf[:xsaveMax]
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(s.PID), ntX86XState, uintptr(unsafe.Pointer(&iov)), 0, 0); e != 0 {
		return nil, fmt.Errorf("cpu: save FPU state of stub %d: %w", s.PID, e)
	}
	return buf[:iov.Len], nil
}
