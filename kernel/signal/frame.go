package signal

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/task"
)

// Layout of the kernel's rt_sigframe (arch/x86/include/asm/sigframe.h).
const (
	ucFlagsOff     = 8               // after pretcode
	ucStackOff     = ucFlagsOff + 16 // uc_flags, uc_link
	mcontextOff    = ucStackOff + 24 // stack_t
	sigmaskOff     = mcontextOff + 256
	siginfoOff     = sigmaskOff + 8
	frameSize      = siginfoOff + 128
	redZone        = 128
	ucFPXState     = 1
	ucSigContextSS = 2
)

// stack_t flags.
const (
	ssOnStack = 1
	ssDisable = 2
)

// Offsets of registers in struct sigcontext (8 bytes each).
var greg = []func(r *unix.PtraceRegs) *uint64{
	func(r *unix.PtraceRegs) *uint64 { return &r.R8 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R9 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R10 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R11 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R12 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R13 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R14 },
	func(r *unix.PtraceRegs) *uint64 { return &r.R15 },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rdi },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rsi },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rbp },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rbx },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rdx },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rax },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rcx },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rsp },
	func(r *unix.PtraceRegs) *uint64 { return &r.Rip },
	func(r *unix.PtraceRegs) *uint64 { return &r.Eflags },
}

// ErrBadFrame means the frame cannot be written or read (the stack is not
// mapped): Linux kills the thread with SIGSEGV then.
var ErrBadFrame = errors.New("signal: bad signal frame")

// Deliver writes a frame for sig on t's stack (or its alternate stack) and
// points t's registers at the handler. fp is t's XSAVE area as saved.
func Deliver(as *mm.AddressSpace, t *task.Thread, sig int, info task.SigInfo, act task.SigAction, fp []byte) error {
	r := &t.Regs
	sp := r.Rsp - redZone
	alt := t.AltStack
	onAlt := OnAltStack(t)
	if act.Flags&task.SaOnStack != 0 && alt.Size != 0 && alt.Flags&ssDisable == 0 && !onAlt {
		sp = alt.SP + alt.Size
	}
	fpAddr := (sp - uint64(len(fp))) &^ 63
	frame := ((fpAddr - frameSize) &^ 15) - 8 // as after a call: (sp+8) % 16 == 0
	if len(fp) > 0 {
		if err := as.CopyOut(fpAddr, fp); err != nil {
			return ErrBadFrame
		}
	}
	b := make([]byte, frameSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], act.Restorer)
	flags := uint64(ucSigContextSS)
	if len(fp) > 0 {
		flags |= ucFPXState
	}
	le.PutUint64(b[ucFlagsOff:], flags)
	le.PutUint64(b[ucStackOff:], alt.SP)
	ssFlags := uint32(alt.Flags)
	if onAlt {
		ssFlags |= ssOnStack
	}
	le.PutUint32(b[ucStackOff+8:], ssFlags)
	le.PutUint64(b[ucStackOff+16:], alt.Size)
	mc := b[mcontextOff:]
	for i, g := range greg {
		le.PutUint64(mc[i*8:], *g(r))
	}
	// cs, gs, fs, ss as 16-bit fields.
	le.PutUint16(mc[144:], uint16(r.Cs))
	le.PutUint16(mc[146:], uint16(r.Gs))
	le.PutUint16(mc[148:], uint16(r.Fs))
	le.PutUint16(mc[150:], uint16(r.Ss))
	saved := t.SigMask
	if t.HasSuspendMask { // the handler returns to the mask before rt_sigsuspend
		saved, t.HasSuspendMask = t.SuspendMask, false
	}
	le.PutUint64(mc[160:], saved) // oldmask
	if sig == int(unix.SIGSEGV) || sig == int(unix.SIGBUS) {
		le.PutUint64(mc[168:], info.Addr) // cr2
	}
	if len(fp) > 0 {
		le.PutUint64(mc[184:], fpAddr)
	}
	le.PutUint64(b[sigmaskOff:], saved)
	si := info.Bytes(sig)
	copy(b[siginfoOff:], si[:])
	if err := as.CopyOut(frame, b); err != nil {
		return ErrBadFrame
	}
	r.Rsp, r.Rip = frame, act.Handler
	r.Rdi, r.Rsi, r.Rdx, r.Rax = uint64(sig), frame+siginfoOff, frame+ucFlagsOff, 0
	r.Eflags &^= 0x400 | 0x100 // DF, TF
	t.SigMask |= act.Mask
	if act.Flags&task.SaNoDefer == 0 {
		t.SigMask |= 1 << (sig - 1)
	}
	t.SigMask &^= 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
	return nil
}

// Return unwinds the frame at rt_sigreturn: t's registers and mask come
// back from the (possibly edited) ucontext. It returns the XSAVE area to
// load into the stub, or nil if the frame had none.
func Return(as *mm.AddressSpace, t *task.Thread, fpSize int) ([]byte, error) {
	r := &t.Regs
	frame := r.Rsp - 8 // the handler's ret popped pretcode
	b := make([]byte, frameSize)
	if err := as.CopyIn(frame, b); err != nil {
		return nil, ErrBadFrame
	}
	le := binary.LittleEndian
	mc := b[mcontextOff:]
	regs := *r
	for i, g := range greg {
		*g(&regs) = le.Uint64(mc[i*8:])
	}
	// Only the arithmetic flags may change, as Linux's FIX_EFLAGS.
	const userFlags = 0x40dd5
	regs.Eflags = r.Eflags&^userFlags | regs.Eflags&userFlags
	regs.Orig_rax = ^uint64(0)
	*r = regs
	t.SigMask = le.Uint64(b[sigmaskOff:]) &^ (1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))
	fpAddr := le.Uint64(mc[184:])
	if fpAddr == 0 || fpSize == 0 {
		return nil, nil
	}
	fp := make([]byte, fpSize)
	if err := as.CopyIn(fpAddr, fp); err != nil {
		return nil, ErrBadFrame
	}
	return fp, nil
}

// OnAltStack reports whether t runs on its alternate signal stack.
func OnAltStack(t *task.Thread) bool {
	a := t.AltStack
	return a.Size != 0 && t.Regs.Rsp > a.SP && t.Regs.Rsp <= a.SP+a.Size
}
