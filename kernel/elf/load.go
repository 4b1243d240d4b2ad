package elf

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
)

// PIEBase is where a static-PIE or a directly executed shared object is
// placed (inside the app window, well above ET_EXEC images at 0x400000).
const PIEBase = 0x10_0000_0000

// Image describes a loaded executable.
type Image struct {
	Entry     uint64 // where the process starts (the interpreter's entry if any)
	ProgEntry uint64 // AT_ENTRY: the program's own entry
	Phdr      uint64
	Phnum     uint64
	Base      uint64 // AT_BASE: load address of the interpreter, 0 if none
	BrkStart  uint64
	Interp    string
}

// Check validates the ELF header of an executable and opens it.
func Check(r io.ReaderAt) (*elf.File, error) {
	var ident [elf.EI_NIDENT]byte
	if n, _ := r.ReadAt(ident[:], 0); n < len(ident) || string(ident[:4]) != elf.ELFMAG {
		return nil, errors.New("not an ELF executable")
	}
	if elf.Class(ident[elf.EI_CLASS]) != elf.ELFCLASS64 {
		return nil, errors.New("32-bit ELF executables are not supported (x86-64 only)")
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("malformed ELF: %w", err)
	}
	if f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("ELF for %v, not x86-64", f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("ELF type %v is not executable", f.Type)
	}
	loads := 0
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads++
			if p.Filesz > p.Memsz {
				return nil, errors.New("malformed ELF: segment file size exceeds memory size")
			}
		}
	}
	if loads == 0 {
		return nil, errors.New("malformed ELF: no loadable segment")
	}
	return f, nil
}

// Interp returns the PT_INTERP path, or "".
func Interp(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", fmt.Errorf("malformed ELF: PT_INTERP: %w", err)
			}
			for len(b) > 0 && b[len(b)-1] == 0 {
				b = b[:len(b)-1]
			}
			return string(b), nil
		}
	}
	return "", nil
}

// span returns the page-aligned extent of the PT_LOAD segments.
func span(f *elf.File) (lo, hi uint64) {
	lo = ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			lo = min(lo, p.Vaddr&^(mm.PageSize-1))
			hi = max(hi, p.Vaddr+p.Memsz)
		}
	}
	return lo, (hi + mm.PageSize - 1) &^ (mm.PageSize - 1)
}

func protOf(fl elf.ProgFlag) int {
	prot := 0
	if fl&elf.PF_R != 0 {
		prot |= unix.PROT_READ
	}
	if fl&elf.PF_W != 0 {
		prot |= unix.PROT_WRITE
	}
	if fl&elf.PF_X != 0 {
		prot |= unix.PROT_EXEC
	}
	return prot
}

// LoadSegments maps f's PT_LOAD segments into as. ET_DYN images are placed
// at base (PIEBase when 0 and main is true, else the highest free range).
// It returns the load bias.
func LoadSegments(as *mm.AddressSpace, f *elf.File, name string, main bool) (bias uint64, err error) {
	lo, hi := span(f)
	if f.Type == elf.ET_DYN {
		if main {
			bias = PIEBase
		} else {
			free, ok := as.FindFree(hi - lo)
			if !ok {
				return 0, unix.ENOMEM
			}
			bias = free - lo
		}
	}
	var mappedEnd uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		start := (p.Vaddr + bias) &^ (mm.PageSize - 1)
		end := (p.Vaddr + bias + p.Memsz + mm.PageSize - 1) &^ (mm.PageSize - 1)
		// Adjacent segments may share a page; map only what is new. The
		// final protection is given at once: the contents are written
		// through the direct map, not through the app's mapping.
		mapFrom := max(start, mappedEnd)
		if mapFrom < end {
			if _, err := as.Map(mm.MapRequest{Addr: mapFrom, Length: end - mapFrom, Prot: protOf(p.Flags),
				Fixed: true, Kind: mm.KindELF, Name: name, FileOff: p.Off, Populate: true}); err != nil {
				return 0, fmt.Errorf("map segment at %#x: %w", start, err)
			}
		}
		mappedEnd = max(mappedEnd, end)
		buf := make([]byte, min(p.Filesz, 1<<20))
		for done := uint64(0); done < p.Filesz; {
			n := min(uint64(len(buf)), p.Filesz-done)
			if _, err := p.ReadAt(buf[:n], int64(done)); err != nil {
				return 0, fmt.Errorf("malformed ELF: segment truncated: %w", err)
			}
			if err := as.CopyOut(p.Vaddr+bias+done, buf[:n]); err != nil {
				return 0, fmt.Errorf("copy segment: %w", err)
			}
			done += n
		}
	}
	return bias, nil
}

// phdrAddr finds where the program headers are in memory.
func phdrAddr(f *elf.File, bias uint64, phoff uint64) uint64 {
	for _, p := range f.Progs {
		if p.Type == elf.PT_PHDR {
			return p.Vaddr + bias
		}
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && phoff >= p.Off && phoff < p.Off+p.Filesz {
			return p.Vaddr + bias + phoff - p.Off
		}
	}
	return 0
}

// Load loads the program and, if it names one, its interpreter, which
// openInterp opens (through the Linux side).
func Load(as *mm.AddressSpace, r io.ReaderAt, name string, openInterp func(path string) (io.ReaderAt, func(), error)) (Image, error) {
	f, err := Check(r)
	if err != nil {
		return Image{}, err
	}
	interp, err := Interp(f)
	if err != nil {
		return Image{}, err
	}
	bias, err := LoadSegments(as, f, name, true)
	if err != nil {
		return Image{}, err
	}
	var phoff [8]byte
	r.ReadAt(phoff[:], 32)
	_, hi := span(f)
	img := Image{
		Entry:     f.Entry + bias,
		ProgEntry: f.Entry + bias,
		Phdr:      phdrAddr(f, bias, leUint64(phoff[:])),
		Phnum:     uint64(len(f.Progs)),
		BrkStart:  hi + bias,
		Interp:    interp,
	}
	if interp != "" {
		ir, done, err := openInterp(interp)
		if err != nil {
			return Image{}, fmt.Errorf("interpreter %s: %w", interp, err)
		}
		defer done()
		fi, err := Check(ir)
		if err != nil {
			return Image{}, fmt.Errorf("interpreter %s: %w", interp, err)
		}
		ibias, err := LoadSegments(as, fi, interp, false)
		if err != nil {
			return Image{}, fmt.Errorf("interpreter %s: %w", interp, err)
		}
		img.Base, img.Entry = ibias, fi.Entry+ibias
	}
	return img, nil
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
