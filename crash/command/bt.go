package command

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/frame"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect/lwk"
)

// maxFrames bounds an unwind: a corrupt stack must not loop.
const maxFrames = 64

// bt prints threads' stacks as crash's bt: the task, where the kernel
// holds it, its system call, then the user frames.
func (s *Session) bt(args []string) error {
	var all bool
	rest, err := flags("bt", args, func(fs *pflag.FlagSet) { fs.BoolVarP(&all, "all", "a", false, "") })
	if err != nil {
		return err
	}
	if err := operands("bt", rest, 0, 1); err != nil {
		return err
	}
	if all && len(rest) > 0 {
		return fmt.Errorf("-a takes no PID")
	}
	snap, p, t, err := s.target(rest)
	if all {
		if snap, err = s.snapshot(); err != nil {
			return err
		}
		for i := range snap.Procs {
			p := &snap.Procs[i]
			for j := range p.Threads {
				if i+j > 0 {
					fmt.Fprintln(s.Out)
				}
				if err := s.backtrace(snap, p, &p.Threads[j]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("pid %d has no threads", p.PID)
	}
	return s.backtrace(snap, p, t)
}

func (s *Session) backtrace(snap *lwk.Snapshot, p *lwk.Process, t *lwk.Thread) error {
	var b strings.Builder
	b.WriteString(header(p, t))
	defer func() { fmt.Fprint(s.Out, b.String()) }()
	if t.Changing {
		b.WriteString("  (changing: the thread record was being written each time it was read)\n")
		return nil
	}
	d, err := lwk.ReadDetails(s.tg, s.layout, p.PID)
	var td *lwk.ThreadDetails
	if err == nil {
		td = d.Thread(t.TID)
	}
	fmt.Fprintf(&b, "    LWK: %s\n", where(t, td))
	if req := request(p, t.TID); req != nil {
		fmt.Fprintf(&b, "    IKC: slot %d %s: %s (%d)%s\n", req.Slot, req.State, cmp.Or(req.Name, "?"), req.Nr, worker(req.Worker))
	}
	if t.Why == "running" {
		// The app's code runs natively; the kernel saved its registers
		// only when it last trapped into the LWK.
		b.WriteString("   (running: the stack below is the one of its last system call or fault)\n")
	}
	if t.Syscall >= 0 {
		r := t.Regs
		fmt.Fprintf(&b, "SYSCALL: %s (%d)  ARGS: %#x %#x %#x %#x %#x %#x\n", cmp.Or(t.SyscallName, "?"), t.Syscall,
			r["Rdi"], r["Rsi"], r["Rdx"], r["R10"], r["R8"], r["R9"])
	}
	a, mem, err := s.appMemory(snap, p)
	if err != nil {
		fmt.Fprintf(&b, "  (no user stack: %v)\n", err)
		return nil
	}
	frames, stop := a.unwind(mem, t.Regs)
	for i, f := range frames {
		// crash names the function, the address says where in it.
		m := a.moduleOf(f.site)
		name := "??"
		if sym, _, ok := m.byAddr(f.site); ok {
			name = sym.name
		}
		from := ""
		if m != a.mods[0] {
			from = " " + m.label // as gdb says "from libc.so.6"
		}
		fmt.Fprintf(&b, " #%d [%x] %s at %x%s\n", i, f.sp, name, f.pc, from)
		if file, n := m.lineOf(f.site); file != "" {
			fmt.Fprintf(&b, "    %s: %d\n", file, n)
		}
	}
	if stop != nil {
		fmt.Fprintf(&b, "  (unwind stopped: %v)\n", stop)
	}
	return nil
}

// request is the IKC request of thread tid, nil when it has none queued.
func request(p *lwk.Process, tid int) *lwk.Request {
	if p.IKC == nil {
		return nil
	}
	for i, r := range p.IKC.Queued {
		if r.TID == tid {
			return &p.IKC.Queued[i]
		}
	}
	return nil
}

// worker names the mcexec thread executing a request.
func worker(tid int) string {
	if tid == 0 {
		return ""
	}
	return fmt.Sprintf(", executed by mcexec thread %d", tid)
}

// where says where the kernel holds a thread and why, on which LWK CPU.
func where(t *lwk.Thread, d *lwk.ThreadDetails) string {
	cpu := fmt.Sprintf("on LWK CPU %d", t.CPU)
	switch t.Why {
	case "running":
		return "running " + cpu + " (current)"
	case "runnable":
		return "runnable, in the run queue of LWK CPU " + fmt.Sprint(t.CPU)
	case "stopped":
		return "stopped (job control), " + cpu
	case "zombie":
		return "zombie (exited, not yet reaped)"
	case "offload":
		seq := ""
		if d != nil && d.OffloadSeq != 0 {
			seq = fmt.Sprintf(", IKC seq %d", d.OffloadSeq)
		}
		return fmt.Sprintf("offload wait: mcexec serves the call%s, %s", seq, cpu)
	case "sleeping":
		return "sleeping " + cpu + sleep(d)
	}
	return t.Why + " " + cpu
}

// sleep says what a sleeping thread waits for.
func sleep(d *lwk.ThreadDetails) string {
	if d == nil || d.Changing {
		return ""
	}
	var why string
	switch {
	case d.InFutex:
		why = fmt.Sprintf(": futex wait (key %#x)", d.Futex)
	case d.WaitChild:
		why = ": waiting for a child (wait4/waitid)"
	case d.WaitSet != 0:
		why = fmt.Sprintf(": sigtimedwait for %#x", d.WaitSet)
	case d.Deadline > 0:
		why = ": timed sleep"
	}
	if d.Deadline > 0 {
		why += fmt.Sprintf(", until CLOCK_MONOTONIC %d.%09d", d.Deadline/1e9, d.Deadline%1e9)
	}
	return why
}

// stackFrame is one frame: its PC (a return address above frame 0), the
// PC of its call, by which it is named, and its stack pointer.
type stackFrame struct {
	pc, site, sp uint64
}

// frameTable is an executable's call frame information.
type frameTable struct {
	fdes frame.FrameDescriptionEntries
	err  error
}

// loadFrames parses .eh_frame and .debug_frame, as many as f has: a Go
// program has the latter, C code the former, a cgo program both.
func loadFrames(f *elf.File) *frameTable {
	var all frame.FrameDescriptionEntries
	for _, name := range []string{".eh_frame", ".debug_frame"} {
		sec := f.Section(name)
		if sec == nil {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			return &frameTable{err: fmt.Errorf("%s: %w", name, err)}
		}
		var ehAddr uint64 // .eh_frame's pointers are relative to where it is loaded
		if name == ".eh_frame" {
			ehAddr = sec.Addr
		}
		fdes, err := frame.Parse(data, binary.LittleEndian, 0, 8, ehAddr)
		if err != nil {
			return &frameTable{err: fmt.Errorf("%s: %w", name, err)}
		}
		all = append(all, fdes...)
	}
	if len(all) == 0 {
		return &frameTable{err: fmt.Errorf("no .eh_frame or .debug_frame")}
	}
	slices.SortFunc(all, func(a, b *frame.FrameDescriptionEntry) int { return cmp.Compare(a.Begin(), b.Begin()) })
	return &frameTable{fdes: all}
}

// DWARF's numbers of the amd64 registers, and the kernel record's names
// of them (unix.PtraceRegs).
const (
	regRBP = 6
	regRSP = 7
	regRA  = 16
)

var dwarfRegs = map[uint64]string{0: "Rax", 1: "Rdx", 2: "Rcx", 3: "Rbx", 4: "Rsi", 5: "Rdi", regRBP: "Rbp", regRSP: "Rsp",
	8: "R8", 9: "R9", 10: "R10", 11: "R11", 12: "R12", 13: "R13", 14: "R14", 15: "R15", regRA: "Rip"}

// unwind walks the stack from the saved registers: by the FDE covering
// each PC, or by the frame pointer where none does. It returns the
// frames and why it stopped short of the outermost one, nil if it
// reached it.
func (a *app) unwind(mem *lwk.AppMemory, saved map[string]uint64) ([]stackFrame, error) {
	regs := map[uint64]uint64{}
	for n, name := range dwarfRegs {
		regs[n] = saved[name]
	}
	word := func(at uint64) (uint64, error) {
		var b [8]byte
		if _, err := mem.ReadMemory(b[:], at); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(b[:]), nil
	}
	var frames []stackFrame
	for len(frames) < maxFrames {
		pc, sp := regs[regRA], regs[regRSP]
		site := pc
		if len(frames) > 0 {
			site = pc - 1 // the call, not what follows it
		}
		if pc == 0 || !executable(mem, pc) {
			if len(frames) == 0 {
				return nil, fmt.Errorf("the saved PC %#x is in no executable mapping", pc)
			}
			return frames, nil
		}
		frames = append(frames, stackFrame{pc: pc, site: site, sp: sp})
		next, outermost, err := a.moduleOf(site).caller(regs, site, word)
		if err != nil || outermost {
			return frames, err
		}
		if next[regRSP] <= sp {
			return frames, fmt.Errorf("the stack pointer does not grow at %#x (corrupt stack?)", pc)
		}
		regs = next
	}
	return frames, fmt.Errorf("more than %d frames", maxFrames)
}

// caller computes the registers of the caller of the frame at site, in
// module m.
func (m *module) caller(regs map[uint64]uint64, site uint64, word func(uint64) (uint64, error)) (map[uint64]uint64, bool, error) {
	if m.frames == nil {
		m.frames = loadFrames(m.f)
	}
	next := maps.Clone(regs)
	if m.frames.err == nil {
		if fde, err := m.frames.fdes.FDEForPC(site - m.bias); err == nil {
			ctx, err := fde.EstablishFrame(site - m.bias)
			if err == nil && ctx.CFA.Rule == frame.RuleCFA {
				cfa := uint64(int64(regs[ctx.CFA.Reg]) + ctx.CFA.Offset)
				if ra, ok := ctx.Regs[ctx.RetAddrReg]; !ok || ra.Rule == frame.RuleUndefined {
					return nil, true, nil // the outermost frame (_start, a thread's start)
				}
				for n, rule := range ctx.Regs {
					switch rule.Rule {
					case frame.RuleOffset, frame.RuleFramePointer:
						v, err := word(uint64(int64(cfa) + rule.Offset))
						if err != nil {
							return nil, false, fmt.Errorf("stack at %#x: %w", int64(cfa)+rule.Offset, err)
						}
						next[n] = v
					case frame.RuleValOffset:
						next[n] = uint64(int64(cfa) + rule.Offset)
					case frame.RuleRegister:
						next[n] = regs[rule.Reg]
					}
				}
				next[regRA], next[regRSP] = next[ctx.RetAddrReg], cfa
				return next, false, nil
			}
		}
	}
	// No usable FDE: by the frame pointer, as the System V ABI lays
	// frames out when it is kept.
	fp := regs[regRBP]
	if fp == 0 {
		return nil, false, fmt.Errorf("no frame information and no frame pointer at %#x", site)
	}
	ra, err := word(fp + 8)
	if err != nil {
		return nil, false, fmt.Errorf("frame pointer %#x: %w", fp, err)
	}
	saved, err := word(fp)
	if err != nil {
		return nil, false, fmt.Errorf("frame pointer %#x: %w", fp, err)
	}
	next[regRA], next[regRBP], next[regRSP] = ra, saved, fp+16
	return next, false, nil
}

// executable says pc lies in one of the app's executable VMAs.
func executable(m *lwk.AppMemory, pc uint64) bool {
	for _, v := range m.VMAs {
		if v.Start <= pc && pc < v.End {
			return v.Prot&unix.PROT_EXEC != 0
		}
	}
	return false
}
