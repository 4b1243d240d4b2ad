package command

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/knightsc/gapstone"
	"github.com/spf13/pflag"
)

// maxFunction bounds the bytes dis reads for a whole function; maxInsn
// is the longest x86 instruction.
const (
	maxFunction = 64 << 10
	maxInsn     = 15
)

// dis disassembles as crash's dis: COUNT instructions from ADDR (1 by
// default), or a whole function named by its symbol.
func (s *Session) dis(args []string) error {
	var lines bool
	rest, err := flags("dis", args, func(fs *pflag.FlagSet) { fs.BoolVarP(&lines, "lines", "l", false, "") })
	if err != nil {
		return err
	}
	if err := operands("dis", rest, 1, 2); err != nil {
		return err
	}
	r, err := s.resolve(rest[0])
	if err != nil {
		return err
	}
	// A function named: all of it (count 0: all the bytes read); an
	// address: one instruction; a COUNT: that many.
	count, size := uint64(0), min(r.size, maxFunction)
	if r.size == 0 {
		count, size = 1, maxInsn
	}
	if len(rest) == 2 {
		n, err := strconv.ParseUint(rest[1], 10, 32)
		if err != nil || n == 0 || n > maxFunction {
			return fmt.Errorf("bad count %q: want 1 to %d instructions", rest[1], maxFunction)
		}
		count, size = n, maxInsn*n
	}
	code := make([]byte, size)
	if n, err := r.mem.ReadMemory(code, r.addr); err != nil {
		if n == 0 {
			return err
		}
		code = code[:n] // the mapping ends there
	}
	insns, err := disassemble(code, r.addr, count)
	if err != nil {
		return err
	}
	var b strings.Builder
	lastFile, lastLine := "", 0
	for _, in := range insns {
		at := uint64(in.Address)
		if lines {
			if file, n := r.syms.lineOf(at); file != "" && (file != lastFile || n != lastLine) {
				fmt.Fprintf(&b, "%s: %d\n", file, n)
				lastFile, lastLine = file, n
			}
		}
		where := ""
		if w := r.syms.where(at); w != "" {
			where = " <" + w + ">"
		}
		insn := strings.TrimSpace(fmt.Sprintf("%-6s %s", in.Mnemonic, in.OpStr)) // gdb pads the mnemonic
		fmt.Fprintf(&b, "0x%x%s:\t%s\n", at, where, insn)
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}

// disassemble decodes count instructions of code (0: all) at addr with
// Capstone, in AT&T syntax.
func disassemble(code []byte, addr, count uint64) ([]gapstone.Instruction, error) {
	engine, err := gapstone.New(gapstone.CS_ARCH_X86, gapstone.CS_MODE_64)
	if err != nil {
		return nil, fmt.Errorf("capstone: %w", err)
	}
	defer engine.Close()
	if err := engine.SetOption(gapstone.CS_OPT_SYNTAX, gapstone.CS_OPT_SYNTAX_ATT); err != nil {
		return nil, fmt.Errorf("capstone: %w", err)
	}
	insns, err := engine.Disasm(code, addr, count)
	if err != nil {
		return nil, fmt.Errorf("%x: no instruction decodes there: %w", addr, err)
	}
	return insns, nil
}
