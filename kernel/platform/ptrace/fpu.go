package ptrace

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/platform"
)

// The app threads of a process share its stub, so a thread switch also
// switches the FPU/vector state. PTRACE_SETREGSET of the XSAVE area costs
// about as much as a whole syscall round trip (the kernel allocates and
// maps a bounce buffer each time), so the stub switches it itself: the
// tracer writes the incoming state into an area shared with the stub and
// starts the thread at a trampoline in the stub image (stubelf.go), which
// XSAVEs the outgoing state, XRSTORs the incoming one and jumps to the
// thread's instruction.

// Layout of the switch area, a memfd mapped at fpuAreaBase in the stub and
// in the daemon: the trampoline's words, then the state to load (in) and
// the state saved (out). A slot holds any XSAVE area, AMX included.
const (
	fpuAreaBase = ikc.StubBase + 0x1000
	fpuRipOff   = 0     // the thread's rip, rax and rdx, which the
	fpuRaxOff   = 8     // trampoline uses before it jumps
	fpuRdxOff   = 16    //
	fpuMaskOff  = 24    // XSAVE feature mask (edx:eax)
	fpuBatchOff = 0x100 // injectAll's calls, batchEntry bytes each
	fpuInOff    = 0x1000
	fpuOutOff   = fpuInOff + xsaveMax
	fpuAreaSize = fpuOutOff + xsaveMax
)

// FPUAreaFD is the switch area's descriptor number inside a stub.
const FPUAreaFD = 4

// xcr0Off is where ptrace's XSAVE area holds XCR0, the features it covers
// (the first software word of the legacy area, USER_XSTATE_XCR0_WORD).
const xcr0Off = 464

// x87 and SSE state, which every XSAVE area has.
const xfeaturesFPSSE = 3

// fpuSwitch is a stub's switch area and the switch its next resume makes.
type fpuSwitch struct {
	mem  []byte  // the daemon's mapping of the area
	save *[]byte // receives the outgoing state once the trampoline saved it
	load bool    // the in slot holds the state to load at the next resume
	size int     // bytes of an XSAVE area
}

// newFPUSwitch creates the switch area; the stub maps fd (mapFPUArea).
func newFPUSwitch() (f *fpuSwitch, fd int, err error) {
	fd, err = unix.MemfdCreate("gomck-fpu", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, -1, fmt.Errorf("cpu: memfd for FPU switching: %w", err)
	}
	if err := unix.Ftruncate(fd, fpuAreaSize); err != nil {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("cpu: size FPU switch area: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, fpuAreaSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("cpu: map FPU switch area: %w", err)
	}
	return &fpuSwitch{mem: mem}, fd, nil
}

// init takes the feature mask and size from a state saved by ptrace, and
// seeds the out slot with it: XSAVE leaves the software words alone, so
// saved states keep ptrace's.
func (f *fpuSwitch) init(initFP []byte) error {
	le := binary.LittleEndian
	if len(initFP) <= xcr0Off+8 || len(initFP) >= xsaveMax {
		return fmt.Errorf("cpu: unexpected XSAVE area of %d bytes", len(initFP))
	}
	xcr0 := le.Uint64(initFP[xcr0Off:])
	if xcr0&xfeaturesFPSSE != xfeaturesFPSSE {
		return fmt.Errorf("cpu: XSAVE area without XCR0 (%#x)", xcr0)
	}
	f.size = len(initFP)
	le.PutUint64(f.mem[fpuMaskOff:], xcr0)
	copy(f.mem[fpuOutOff:], initFP)
	return nil
}

func (f *fpuSwitch) slot(off int) []byte { return f.mem[off : off+f.size] }

// release unmaps the area once the stub is gone.
func (f *fpuSwitch) release() {
	if f.mem != nil {
		unix.Munmap(f.mem)
		f.mem = nil
	}
}

// enter returns regs pointed at the trampoline, with the words it needs
// stored.
func (f *fpuSwitch) enter(regs *unix.PtraceRegs) unix.PtraceRegs {
	le := binary.LittleEndian
	le.PutUint64(f.mem[fpuRipOff:], regs.Rip)
	le.PutUint64(f.mem[fpuRaxOff:], regs.Rax)
	le.PutUint64(f.mem[fpuRdxOff:], regs.Rdx)
	run := *regs
	run.Rip = ikc.StubBase + stubLoadOff
	if f.save != nil {
		run.Rip = ikc.StubBase + stubSaveOff
	}
	return run
}

// leave notes how far the trampoline got before the stub stopped at regs.
// A stop inside it (a kick) comes before the thread ran: its registers,
// orig, are put back, and the next resume does what is left.
func (f *fpuSwitch) leave(regs, orig *unix.PtraceRegs, st platform.Stop) error {
	ip := regs.Rip - ikc.StubBase
	inside := ip >= stubSaveOff && ip < stubSwitchEnd
	if f.save != nil && (!inside || ip > stubXsaveOff) {
		*f.save = append((*f.save)[:0], f.slot(fpuOutOff)...)
		f.save = nil
	}
	if !inside || ip > stubXrstorOff {
		f.load = false
	}
	if !inside {
		return nil
	}
	*regs = *orig
	if st.Kind == platform.StopSignal && st.Signal != syscall.SIGSTOP {
		f.load, f.save = false, nil
		return fmt.Errorf("cpu: signal %d switching FPU state at stub offset %#x (invalid state?)", st.Signal, ip)
	}
	return nil
}

// SwitchFP makes the next Run give the stub the FPU state load, after
// saving the state it holds now into *save (nil: nobody's). A switch not
// yet made is replaced, but what it would have saved is still saved.
func (s *Stub) SwitchFP(save *[]byte, load []byte) {
	if s.fpu == nil {
		s.switchFPTraced(save, load)
		return
	}
	if !s.fpu.load {
		s.fpu.save = save
	}
	copy(s.fpu.slot(fpuInOff), load)
	s.fpu.load = true
}

// mapFPUArea maps the switch area into the stub (first stop after exec).
func (s *Stub) mapFPUArea() error {
	_, err := s.Inject(unix.SYS_MMAP, fpuAreaBase, fpuAreaSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_SHARED|unix.MAP_FIXED, FPUAreaFD, 0)
	return err
}
