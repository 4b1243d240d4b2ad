package gdbserver

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"html"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/inspect/lwk"
)

// The shared libraries of a process, as gdbserver lists them for
// qXfer:libraries-svr4:read: the dynamic linker's list of loaded objects
// (struct r_debug's r_map, a chain of struct link_map), found from the
// program's PT_DYNAMIC through its DT_DEBUG entry, which the dynamic
// linker points at its r_debug. All of it is read from the app's memory.

// Sizes and offsets of the x86-64 ELF and glibc records walked, and
// bounds on what corrupt memory can make the walk read.
const (
	phdrSize   = 56
	dynSize    = 16
	maxPhdrs   = 256
	maxDyn     = 4096 // entries of a PT_DYNAMIC
	maxObjects = 4096 // link_map entries: a longer chain loops
	maxName    = 4096 // bytes of a library's path
	rMapOff    = 8    // r_debug.r_map
	lNameOff   = 8    // link_map.l_name (l_addr at 0)
	lLdOff     = 16   // link_map.l_ld
	lNextOff   = 24   // link_map.l_next
	lPrevOff   = 32   // link_map.l_prev
	pageMask   = 0xfff
)

// The auxv entries that locate the program headers.
const (
	atPHDR  = 3
	atPHNUM = 5
)

// errNoDebug: the program has no r_debug (static, or not yet set up).
var errNoDebug = errors.New("no r_debug")

// library is one entry of the svr4 list: its link_map, load bias,
// dynamic section and namespace (gdb's lmid: the address of the r_debug
// that lists it, as gdbserver gives it).
type library struct {
	name               string
	lm, addr, ld, lmid uint64
}

// libraries is the svr4 library list of the current thread's process. A
// static program, or one the dynamic linker has not yet set up, has
// none. A list that cannot be read (a level 24 dump holds no app pages)
// is an error, and gdb then finds what it can by itself (the dynamic
// linker, from the program's PT_INTERP).
func (s *Server) libraries() ([]byte, error) {
	p := s.cur.proc
	app, err := s.app(p.PID)
	if err != nil {
		return nil, err
	}
	mainLM, libs, err := linkMaps(memReader{app}, p)
	if errors.Is(err, errNoDebug) {
		return []byte(`<library-list-svr4 version="1.0"/>`), nil
	}
	if err != nil {
		err = fmt.Errorf("pid %d: the dynamic linker's list of objects: %w", p.PID, err)
		s.warn("libraries", err)
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<library-list-svr4 version=\"1.0\" main-lm=\"%#x\">\n", mainLM)
	for _, l := range libs {
		fmt.Fprintf(&b, "<library name=\"%s\" lm=\"%#x\" l_addr=\"%#x\" l_ld=\"%#x\" lmid=\"%#x\"/>\n",
			html.EscapeString(l.name), l.lm, l.addr, l.ld, l.lmid)
	}
	b.WriteString("</library-list-svr4>\n")
	return b.Bytes(), nil
}

// linkMaps walks the dynamic linker's list: the program's own link_map,
// and the libraries after it.
func linkMaps(r memReader, p *lwk.Process) (uint64, []library, error) {
	debug, first, err := firstObject(r, p)
	if err != nil {
		return 0, nil, err
	}
	var libs []library
	lm := first
	for range maxObjects {
		next, err := r.word(lm + lNextOff)
		if err != nil {
			return 0, nil, fmt.Errorf("link_map %#x: %w", lm, err)
		}
		if next == 0 {
			break
		}
		back, err := r.word(next + lPrevOff)
		if err != nil {
			return 0, nil, fmt.Errorf("link_map %#x: %w", next, err)
		}
		if back != lm {
			return 0, nil, fmt.Errorf("link_map %#x: l_prev is %#x, not %#x (a corrupt list)", next, back, lm)
		}
		lm = next
		// The vDSO's name is empty, or in the vDSO, which is the stub's
		// and not in the LWK's page table: left out, as gdbserver does.
		name, err := r.string(lm + lNameOff)
		if err != nil || name == "" {
			continue
		}
		addr, err1 := r.word(lm)
		ld, err2 := r.word(lm + lLdOff)
		if err := errors.Join(err1, err2); err != nil {
			return 0, nil, fmt.Errorf("link_map %#x: %w", lm, err)
		}
		libs = append(libs, library{name: name, lm: lm, addr: addr, ld: ld, lmid: debug})
	}
	return first, libs, nil
}

// firstObject finds the dynamic linker's r_debug and its r_map, the
// program's own link_map.
func firstObject(r memReader, p *lwk.Process) (debug, lm uint64, err error) {
	phdrs, bias, err := programHeaders(r, p)
	if err != nil {
		return 0, 0, err
	}
	for _, ph := range phdrs {
		if ph.Type != elf.PT_DYNAMIC {
			continue
		}
		dyn := ph.Vaddr + bias
		for i := range min(ph.Memsz/dynSize, maxDyn) {
			tag, err := r.word(dyn + i*dynSize)
			if err != nil {
				return 0, 0, fmt.Errorf("PT_DYNAMIC at %#x: %w", dyn, err)
			}
			if elf.DynTag(tag) == elf.DT_NULL {
				break
			}
			if elf.DynTag(tag) != elf.DT_DEBUG {
				continue
			}
			if debug, err = r.word(dyn + i*dynSize + 8); err != nil || debug == 0 {
				return 0, 0, cmpErr(err, errNoDebug)
			}
			if lm, err = r.word(debug + rMapOff); err != nil || lm == 0 {
				return 0, 0, cmpErr(err, errNoDebug)
			}
			return debug, lm, nil
		}
	}
	return 0, 0, errNoDebug
}

// cmpErr is err, or def if err is nil.
func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// programHeaders reads the program's program headers from its memory
// and how far it was loaded from its link-time addresses: from the auxv's
// AT_PHDR with the PT_PHDR header, as the dynamic linker does, or else
// from the ELF header at the start of the program's first mapping.
func programHeaders(r memReader, p *lwk.Process) ([]elf.ProgHeader, uint64, error) {
	phdr, okPhdr := auxvValue(p.Auxv, atPHDR)
	phnum, okNum := auxvValue(p.Auxv, atPHNUM)
	if okPhdr && okNum {
		phdrs, err := readPhdrs(r, phdr, phnum)
		if err != nil {
			return nil, 0, err
		}
		for _, ph := range phdrs {
			if ph.Type == elf.PT_PHDR {
				return phdrs, phdr - ph.Vaddr, nil
			}
		}
	}
	// The header at the first ELF mapping's start.
	var base uint64
	for _, v := range p.VMAs {
		if v.Kind == "elf" && v.FileOff == 0 {
			base = v.Start
			break
		}
	}
	if base == 0 {
		return nil, 0, errors.New("no mapping of the program's ELF file")
	}
	var hdr [64]byte
	if _, err := r.m.ReadMemory(hdr[:], base); err != nil {
		return nil, 0, fmt.Errorf("ELF header: %w", err)
	}
	if string(hdr[:4]) != elf.ELFMAG {
		return nil, 0, fmt.Errorf("%#x holds no ELF header", base)
	}
	le := binary.LittleEndian
	phdrs, err := readPhdrs(r, base+le.Uint64(hdr[32:]), uint64(le.Uint16(hdr[56:])))
	if err != nil {
		return nil, 0, err
	}
	for _, ph := range phdrs {
		if ph.Type == elf.PT_LOAD {
			return phdrs, base - ph.Vaddr&^pageMask, nil
		}
	}
	return nil, 0, errors.New("the program has no PT_LOAD")
}

func readPhdrs(r memReader, at, n uint64) ([]elf.ProgHeader, error) {
	if n == 0 || n > maxPhdrs {
		return nil, fmt.Errorf("%d program headers", n)
	}
	b := make([]byte, n*phdrSize)
	if _, err := r.m.ReadMemory(b, at); err != nil {
		return nil, fmt.Errorf("program headers at %#x: %w", at, err)
	}
	le := binary.LittleEndian
	out := make([]elf.ProgHeader, n)
	for i := range out {
		h := b[i*phdrSize:]
		out[i] = elf.ProgHeader{Type: elf.ProgType(le.Uint32(h)), Flags: elf.ProgFlag(le.Uint32(h[4:])),
			Off: le.Uint64(h[8:]), Vaddr: le.Uint64(h[16:]), Paddr: le.Uint64(h[24:]),
			Filesz: le.Uint64(h[32:]), Memsz: le.Uint64(h[40:]), Align: le.Uint64(h[48:])}
	}
	return out, nil
}

// auxvValue looks typ up in an auxiliary vector of (type, value) pairs.
func auxvValue(auxv []uint64, typ uint64) (uint64, bool) {
	for i := 0; i+1 < len(auxv) && auxv[i] != 0; i += 2 {
		if auxv[i] == typ {
			return auxv[i+1], true
		}
	}
	return 0, false
}

// memReader reads the words and strings of an app's records.
type memReader struct{ m inspect.Memory }

func (r memReader) word(addr uint64) (uint64, error) {
	var b [8]byte
	if _, err := r.m.ReadMemory(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// string reads the NUL-terminated string the pointer at addr points to,
// a page at a time so as not to read past its mapping.
func (r memReader) string(addr uint64) (string, error) {
	p, err := r.word(addr)
	if err != nil {
		return "", err
	}
	var out []byte
	for len(out) < maxName {
		chunk := make([]byte, pageMask+1-(p&pageMask))
		if _, err := r.m.ReadMemory(chunk, p); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			return string(append(out, chunk[:i]...)), nil
		}
		out, p = append(out, chunk...), p+uint64(len(chunk))
	}
	return "", fmt.Errorf("a path longer than %d bytes", maxName)
}
