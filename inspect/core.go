package inspect

import (
	"debug/elf"
	"fmt"
	"sort"

	"github.com/gomck/gomck/inspect/elfinfo"
)

// Core reads a daemon's memory from an ELF core file (gdb's gcore, or a
// kernel-written core).
type Core struct {
	Path  string
	PID   int // from NT_PRPSINFO; 0 if absent
	Files []elfinfo.MappedFile
	Auxv  []byte
	// Threads and Process are what the notes say of the dumped
	// process (NT_PRSTATUS, NT_PRPSINFO): an app core's are read as
	// its process (lwk.ReadAppCore).
	Threads []elfinfo.Prstatus
	Process elfinfo.Prpsinfo
	f       *elf.File
	segs    []*elf.Prog // PT_LOAD by address
}

// OpenCore opens an ELF core file.
func OpenCore(path string) (*Core, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dump: %w", err)
	}
	if f.Type != elf.ET_CORE {
		f.Close()
		return nil, fmt.Errorf("%s is not a core file (ELF type %v)", path, f.Type)
	}
	c := &Core{Path: path, f: f}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			c.segs = append(c.segs, p)
		case elf.PT_NOTE:
			if err := c.readNotes(p); err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	sort.Slice(c.segs, func(i, j int) bool { return c.segs[i].Vaddr < c.segs[j].Vaddr })
	return c, nil
}

// maxNotes bounds a PT_NOTE segment: a gcore's notes are a few KiB per
// thread, and a corrupt size must not be allocated.
const maxNotes = 64 << 20

func (c *Core) readNotes(p *elf.Prog) error {
	if p.Filesz > maxNotes {
		return fmt.Errorf("note segment of %d bytes (corrupt header?)", p.Filesz)
	}
	b := make([]byte, p.Filesz)
	if _, err := p.ReadAt(b, 0); err != nil {
		return fmt.Errorf("read notes: %w", err)
	}
	notes, err := elfinfo.ParseNotes(b, c.f.ByteOrder)
	if err != nil {
		return err
	}
	if d, ok := elfinfo.Find(notes, "CORE", elfinfo.NTPrpsinfo); ok {
		c.PID, _ = elfinfo.PrpsinfoPID(d, c.f.ByteOrder)
		c.Process, _ = elfinfo.ParsePrpsinfo(d, c.f.ByteOrder)
	}
	for _, n := range notes {
		if n.Name != "CORE" || n.Type != elfinfo.NTPrstatus {
			continue
		}
		if st, ok := elfinfo.ParsePrstatus(n.Desc, c.f.ByteOrder); ok {
			c.Threads = append(c.Threads, st)
		}
	}
	if d, ok := elfinfo.Find(notes, "CORE", elfinfo.NTAuxv); ok {
		c.Auxv = d
	}
	if d, ok := elfinfo.Find(notes, "CORE", elfinfo.NTFile); ok {
		if c.Files, err = elfinfo.ParseFileNote(d, c.f.ByteOrder); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file.
func (c *Core) Close() error { return c.f.Close() }

// Load is one PT_LOAD segment of a core: a mapping of the process.
type Load struct {
	Start, End uint64
	Flags      elf.ProgFlag
}

// Loads are the core's PT_LOAD segments by address.
func (c *Core) Loads() []Load {
	out := make([]Load, 0, len(c.segs))
	for _, p := range c.segs {
		out = append(out, Load{Start: p.Vaddr, End: p.Vaddr + p.Memsz, Flags: p.Flags})
	}
	return out
}

// ReadMemory reads from the PT_LOAD segments. Memory the dump left out (a
// segment's bytes past its file size: read-only file mappings in a gcore)
// is an error, not zeros.
func (c *Core) ReadMemory(buf []byte, addr uint64) (int, error) {
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		i := sort.Search(len(c.segs), func(i int) bool { return c.segs[i].Vaddr+c.segs[i].Memsz > a })
		if i == len(c.segs) || c.segs[i].Vaddr > a {
			return n, fmt.Errorf("address %#x is not in the dump", a)
		}
		s := c.segs[i]
		off := a - s.Vaddr
		if off >= s.Filesz {
			return n, fmt.Errorf("address %#x was left out of the dump", a)
		}
		m, err := s.ReadAt(buf[n:min(len(buf), n+int(s.Filesz-off))], int64(off))
		n += m
		if err != nil {
			return n, fmt.Errorf("read dump at %#x: %w", a, err)
		}
	}
	return n, nil
}

// Image reads the loaded segments of an executable from its file: a gcore
// leaves out read-only file mappings (text, rodata, string literals),
// which are the same as in the binary.
type Image struct {
	f    *elf.File
	bias uint64
}

// OpenImage opens the executable at path, loaded bias bytes off its
// link addresses.
func OpenImage(path string, bias uint64) (*Image, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	return &Image{f: f, bias: bias}, nil
}

// Close closes the file.
func (im *Image) Close() error { return im.f.Close() }

// ReadMemory reads from the file-backed part of a PT_LOAD segment.
func (im *Image) ReadMemory(buf []byte, addr uint64) (int, error) {
	a := addr - im.bias
	for _, p := range im.f.Progs {
		if p.Type != elf.PT_LOAD || a < p.Vaddr || a+uint64(len(buf)) > p.Vaddr+p.Filesz {
			continue
		}
		n, err := p.ReadAt(buf, int64(a-p.Vaddr))
		if err != nil {
			return n, fmt.Errorf("read kernel image at %#x: %w", addr, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("address %#x is not in the dump nor in the kernel binary's image", addr)
}

// Layers reads from the first memory that has the bytes.
type Layers []Memory

// ReadMemory tries each layer in turn and returns the first one's error
// if none has the bytes.
func (ls Layers) ReadMemory(buf []byte, addr uint64) (int, error) {
	var first error
	for _, l := range ls {
		n, err := l.ReadMemory(buf, addr)
		if err == nil {
			return n, nil
		}
		if first == nil {
			first = err
		}
	}
	return 0, first
}
