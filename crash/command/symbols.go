package command

import (
	"cmp"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/cli"
	"github.com/gomck/gomck/inspect/lwk"
)

// symbol is one ELF symbol, at its loaded address.
type symbol struct {
	name string
	addr uint64
	size uint64
	kind byte // nm's letter: T text, D data, B bss, R read-only data
}

// line is a line-table row: code from addr on is file:line.
type line struct {
	addr uint64
	file string
	line int
}

// symtab is an ELF file's symbols and line table, loaded bias bytes off
// their link addresses.
type symtab struct {
	f      *elf.File
	label  string // "" for the daemon (crash's vmlinux), else the file's name in brackets
	bias   uint64
	syms   []symbol // by address
	lines  []line   // by address; loaded on first use
	loaded bool
}

func openSymtab(path, label string, bias uint64) (*symtab, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	t := &symtab{f: f, label: label, bias: bias}
	syms, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		// A stripped shared object (libc) keeps its dynamic symbols.
		syms, err = f.DynamicSymbols()
	}
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		f.Close()
		return nil, fmt.Errorf("%s: symbol table: %w", path, err)
	}
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if s.Value == 0 || s.Name == "" || (typ != elf.STT_FUNC && typ != elf.STT_OBJECT && typ != elf.STT_NOTYPE) ||
			s.Section == elf.SHN_UNDEF || int(s.Section) >= len(f.Sections) {
			continue
		}
		t.syms = append(t.syms, symbol{name: s.Name, addr: s.Value + bias, size: s.Size, kind: kindOf(f.Sections[s.Section])})
	}
	slices.SortStableFunc(t.syms, func(a, b symbol) int { return cmp.Compare(a.addr, b.addr) })
	return t, nil
}

func kindOf(sec *elf.Section) byte {
	switch {
	case sec.Flags&elf.SHF_EXECINSTR != 0:
		return 'T'
	case sec.Type == elf.SHT_NOBITS:
		return 'B'
	case sec.Flags&elf.SHF_WRITE != 0:
		return 'D'
	}
	return 'R'
}

func (t *symtab) close() error { return t.f.Close() }

// byAddr returns the symbol containing addr, or a symbol of no size
// (assembly labels) right below it within a page, and addr's offset in
// it. Symbols nest (a function and its local labels): the few below addr
// are tried, nearest first.
func (t *symtab) byAddr(addr uint64) (symbol, uint64, bool) {
	i, _ := slices.BinarySearchFunc(t.syms, addr+1, func(s symbol, a uint64) int { return cmp.Compare(s.addr, a) })
	for j := i - 1; j >= 0 && j >= i-8; j-- {
		s := t.syms[j]
		if addr < s.addr+s.size || s.size == 0 && j == i-1 && addr-s.addr < 4096 {
			return s, addr - s.addr, true
		}
	}
	return symbol{}, 0, false
}

// byName returns the symbol called name; a text symbol wins over others
// of the name (static variables may share a function's name).
func (t *symtab) byName(name string) (symbol, bool) {
	var found symbol
	ok := false
	for _, s := range t.syms {
		if s.name == name && (!ok || s.kind == 'T' && found.kind != 'T') {
			found, ok = s, true
		}
	}
	return found, ok
}

// where names addr as crash does, "sym+off", or "" outside every symbol.
func (t *symtab) where(addr uint64) string {
	s, off, ok := t.byAddr(addr)
	switch {
	case !ok:
		return ""
	case off == 0:
		return s.name
	}
	return fmt.Sprintf("%s+%d", s.name, off)
}

// lineOf is the file:line of addr from the DWARF line table, "" without.
func (t *symtab) lineOf(addr uint64) (string, int) {
	if !t.loaded {
		t.loaded = true
		t.lines = readLines(t.f, t.bias)
	}
	i, _ := slices.BinarySearchFunc(t.lines, addr+1, func(l line, a uint64) int { return cmp.Compare(l.addr, a) })
	if i == 0 || t.lines[i-1].file == "" {
		return "", 0
	}
	return t.lines[i-1].file, t.lines[i-1].line
}

// readLines reads every line table of f; a row with no file ends a
// sequence. No DWARF, no lines.
func readLines(f *elf.File, bias uint64) []line {
	d, err := f.DWARF()
	if err != nil {
		return nil
	}
	var out []line
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil || cu == nil {
			break
		}
		if cu.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(cu)
		r.SkipChildren()
		if err != nil || lr == nil {
			continue
		}
		var e dwarf.LineEntry
		for lr.Next(&e) == nil {
			l := line{addr: e.Address + bias}
			if !e.EndSequence && e.File != nil {
				l.file, l.line = e.File.Name, e.Line
			}
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b line) int { return cmp.Compare(a.addr, b.addr) })
	return out
}

// kernelSyms is the daemon's symbol table.
func (s *Session) kernelSyms() (*symtab, error) {
	if s.kernel == nil {
		st, err := openSymtab(s.tg.Kernel, "", s.tg.Bias)
		if err != nil {
			return nil, fmt.Errorf("kernel binary: %w", err)
		}
		s.kernel = st
	}
	return s.kernel, nil
}

// resolved is an address with the symbols and memory of its side.
type resolved struct {
	addr uint64
	syms *symtab
	mem  inspect.Memory
	size uint64 // the symbol's size when named by a symbol, else 0
}

// resolve reads ADDR|SYMBOL: an address in one of the context app's VMAs
// is the app's, any other the daemon's; a symbol is the app's if its ELF
// has it, else the daemon's.
func (s *Session) resolve(arg string) (resolved, error) {
	a, appMem, err := s.contextApp()
	if err != nil && !errors.Is(err, errNoContext) {
		return resolved{}, err
	}
	k, err := s.kernelSyms()
	if err != nil {
		return resolved{}, err
	}
	if addr, err := cli.ParseAddr(arg); err == nil && !isSymbolName(arg, a, k) {
		if a != nil && inVMA(appMem, addr) {
			return resolved{addr: addr, syms: a.moduleOf(addr).symtab, mem: a.memory(appMem)}, nil
		}
		return resolved{addr: addr, syms: k, mem: s.tg.Mem}, nil
	}
	if a != nil {
		if sym, m, ok := a.byName(arg); ok {
			return resolved{addr: sym.addr, syms: m.symtab, mem: a.memory(appMem), size: sym.size}, nil
		}
	}
	if sym, ok := k.byName(arg); ok {
		return resolved{addr: sym.addr, syms: k, mem: s.tg.Mem, size: sym.size}, nil
	}
	return resolved{}, fmt.Errorf("invalid address or symbol: %s", arg)
}

// isSymbolName says a word that reads as hex ("add", "cafe") is a symbol.
func isSymbolName(arg string, a *app, k *symtab) bool {
	if strings.HasPrefix(arg, "0x") {
		return false
	}
	if a != nil {
		if _, _, ok := a.byName(arg); ok {
			return true
		}
	}
	_, ok := k.byName(arg)
	return ok
}

func inVMA(m *lwk.AppMemory, addr uint64) bool {
	for _, v := range m.VMAs {
		if v.Start <= addr && addr < v.End {
			return true
		}
	}
	return false
}

// errNoContext says there is no context process.
var errNoContext = errors.New("no context process")

// contextApp is the context process's executable and memory.
func (s *Session) contextApp() (*app, *lwk.AppMemory, error) {
	if s.pid == 0 {
		return nil, nil, errNoContext
	}
	snap, p, _, err := s.target(nil)
	if err != nil {
		return nil, nil, err
	}
	return s.appMemory(snap, p)
}

func (s *Session) appMemory(snap *lwk.Snapshot, p *lwk.Process) (*app, *lwk.AppMemory, error) {
	m, err := lwk.NewAppMemory(s.tg.Mem, snap, p.PID)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.appOf(p, m)
	if err != nil {
		return nil, nil, err
	}
	return a, m, nil
}

// sym prints an address as its symbol and offset, or a symbol's address,
// as crash's sym: "ADDR (T) NAME+OFF [MODULE]".
func (s *Session) sym(args []string) error {
	if err := operands("sym", args, 1, 1); err != nil {
		return err
	}
	r, err := s.resolve(args[0])
	if err != nil {
		return err
	}
	sym, off, ok := r.syms.byAddr(r.addr)
	if !ok {
		return fmt.Errorf("%x: no symbol at or below it", r.addr)
	}
	name := sym.name
	if off > 0 {
		name = fmt.Sprintf("%s+%d", name, off)
	}
	out := fmt.Sprintf("%x (%c) %s", r.addr, sym.kind, name)
	if r.syms.label != "" {
		out += " " + r.syms.label
	}
	if file, n := r.syms.lineOf(r.addr); file != "" {
		out += fmt.Sprintf("\n    %s: %d", file, n)
	}
	_, err = fmt.Fprintln(s.Out, out)
	return err
}
