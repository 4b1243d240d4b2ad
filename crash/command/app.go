package command

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/lwk"
)

// app is a process's executable and the shared objects it maps, each a
// module: its symbols, its call frame information and its code as the
// file holds it (a level 24 dump has no app pages, but the text is the
// file's).
type app struct {
	mods []*module // the executable first
}

// module is one ELF file mapped in the app, from start to end.
type module struct {
	*symtab
	image      *inspect.Image
	frames     *frameTable // loaded on first bt
	start, end uint64
}

func (a *app) close() error {
	var errs []error
	for _, m := range a.mods {
		errs = append(errs, m.image.Close(), m.symtab.close())
	}
	return errors.Join(errs...)
}

// appOf opens the executable of process p and, with its memory m (nil:
// none), the shared objects its dynamic linker loaded.
func (s *Session) appOf(p *lwk.Process, m *lwk.AppMemory) (*app, error) {
	key := fmt.Sprintf("%d %s", p.PID, p.Exe)
	if a, ok := s.apps[key]; ok {
		return a, nil
	}
	if p.Exe == "" {
		return nil, fmt.Errorf("pid %d: the kernel names no executable", p.PID)
	}
	bias, err := exeBias(p)
	if err != nil {
		return nil, fmt.Errorf("pid %d: its executable: %w", p.PID, err)
	}
	exe, err := openModule(p.Exe, bias)
	if err != nil {
		return nil, fmt.Errorf("pid %d: its executable: %w", p.PID, err)
	}
	a := &app{mods: []*module{exe}}
	if m != nil {
		for _, so := range sharedObjects(exe, m) {
			if mod, err := openModule(so.path, so.bias); err == nil { // the vDSO is no file
				a.mods = append(a.mods, mod)
			}
		}
	}
	s.apps[key] = a
	return a, nil
}

// exeBias is where p's executable was placed: for a position-independent
// one, its lowest mapping less its first segment's page-aligned link
// address (the kernel names the executable's VMAs).
func exeBias(p *lwk.Process) (uint64, error) {
	f, err := elf.Open(p.Exe)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		return 0, nil
	}
	lo, _ := loadRange(f)
	for _, v := range p.VMAs {
		if v.Name == p.Exe && v.FileOff == 0 {
			return v.Start - lo&^0xfff, nil
		}
	}
	return 0, nil
}

// loadRange is the link addresses f's PT_LOAD segments span.
func loadRange(f *elf.File) (lo, hi uint64) {
	lo = ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			lo, hi = min(lo, p.Vaddr), max(hi, p.Vaddr+p.Memsz)
		}
	}
	return lo, hi
}

// openModule opens the ELF file at path, loaded bias bytes off its link
// addresses.
func openModule(path string, bias uint64) (*module, error) {
	st, err := openSymtab(path, "["+filepath.Base(path)+"]", bias)
	if err != nil {
		return nil, err
	}
	im, err := inspect.OpenImage(path, bias)
	if err != nil {
		st.close()
		return nil, err
	}
	lo, hi := loadRange(st.f)
	return &module{symtab: st, image: im, start: lo + bias, end: hi + bias}, nil
}

// sharedObject is a file the dynamic linker loaded, and where.
type sharedObject struct {
	path string
	bias uint64
}

// The dynamic linker's interface to debuggers (glibc's link.h), as gdb
// reads it: DT_DEBUG in the executable's dynamic section points to its
// r_debug, whose r_map lists every object loaded, each with its bias
// (l_addr) and path (l_name).
const (
	dtNull, dtDebug              = 0, 21
	rMapOff                      = 8        // r_debug.r_map
	lAddrOff, lNameOff, lNextOff = 0, 8, 24 // in struct link_map
	maxObjects                   = 1024     // a corrupt list must end
)

// sharedObjects reads the link map of the app whose executable is exe
// from its memory m; none when it has no dynamic section or the memory
// is not in the dump (level 24).
func sharedObjects(exe *module, m *lwk.AppMemory) []sharedObject {
	word := func(at uint64) uint64 {
		var b [8]byte
		if _, err := m.ReadMemory(b[:], at); err != nil {
			return 0
		}
		return binary.LittleEndian.Uint64(b[:])
	}
	var debug uint64
	for _, p := range exe.f.Progs {
		if p.Type != elf.PT_DYNAMIC {
			continue
		}
		for at := p.Vaddr + exe.bias; at+16 <= p.Vaddr+exe.bias+p.Memsz; at += 16 {
			tag := word(at)
			if tag == dtNull {
				break
			}
			if tag == dtDebug {
				debug = word(at + 8)
			}
		}
	}
	if debug == 0 {
		return nil
	}
	var out []sharedObject
	for lm, n := word(debug+rMapOff), 0; lm != 0 && n < maxObjects; lm, n = word(lm+lNextOff), n+1 {
		if name := cString(m, word(lm+lNameOff)); strings.HasPrefix(name, "/") {
			out = append(out, sharedObject{path: name, bias: word(lm + lAddrOff)})
		}
	}
	return out
}

// cString reads a NUL-terminated string of at most a page at addr.
func cString(m *lwk.AppMemory, addr uint64) string {
	if addr == 0 {
		return ""
	}
	b := make([]byte, 4096)
	n, _ := m.ReadMemory(b, addr)
	b = b[:n]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return ""
}

// moduleOf is the module mapped at addr, or the executable's.
func (a *app) moduleOf(addr uint64) *module {
	for _, m := range a.mods {
		if m.start <= addr && addr < m.end {
			return m
		}
	}
	return a.mods[0]
}

// where names addr "sym+off", "" outside every symbol.
func (a *app) where(addr uint64) string { return a.moduleOf(addr).where(addr) }

// byName finds a symbol in the executable, then in the shared objects.
func (a *app) byName(name string) (symbol, *module, bool) {
	for _, m := range a.mods {
		if s, ok := m.symtab.byName(name); ok {
			return s, m, true
		}
	}
	return symbol{}, nil, false
}

// memory is the app's memory, with the files' code where the dump has
// no app pages.
func (a *app) memory(m *lwk.AppMemory) inspect.Memory {
	ls := inspect.Layers{m}
	for _, mod := range a.mods {
		ls = append(ls, mod.image)
	}
	return ls
}
