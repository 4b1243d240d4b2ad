package gencore

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Result tells what Write wrote.
type Result struct {
	Size      int64 // bytes of the file, holes included
	Written   int64 // bytes written, holes not included
	Truncated bool  // the limit cut the core short
}

// NoLimit writes the whole core.
const NoLimit = -1

const (
	ehdrSize = 64
	phdrSize = 56
	// maxAreas keeps e_phnum, which counts the note segment too, below
	// PN_XNUM: Linux's vm.max_map_count stays below it as well.
	maxAreas = 0xfffe
)

// Write writes the core of c to f, a regular file (written from offset
// 0, never-populated pages left as holes) or a pipe (holes written as
// zeros). limit, unless NoLimit, is RLIMIT_CORE, which Linux applies to
// the bytes written, holes not counted: the core ends at the header,
// note or page that would pass it, valid up to there. An error (a full
// disk) leaves what was written; the caller decides whether to keep it.
func Write(f *os.File, c *Core, limit int64) (Result, error) {
	if len(c.Areas) > maxAreas {
		return Result{}, fmt.Errorf("gencore: %d memory areas, more than an ELF core holds", len(c.Areas))
	}
	s, err := newSink(f, limit)
	if err != nil {
		return Result{}, err
	}
	s.abort = c.Abort
	nt := notes(c)
	var ntSize int
	for _, n := range nt {
		ntSize += len(n)
	}
	phnum := 1 + len(c.Areas)
	noteOff := int64(ehdrSize + phdrSize*phnum)
	dataOff := (noteOff + int64(ntSize) + PageSize - 1) &^ (PageSize - 1)

	phdrs := make([]byte, 0, phdrSize*phnum)
	phdrs = append(phdrs, ProgHeader(elf.PT_NOTE, 0, noteOff, 0, 0, uint64(ntSize), 0, 4)...)
	off := dataOff
	for _, a := range c.Areas {
		if a.End < a.Start {
			return Result{}, fmt.Errorf("gencore: memory area %#x-%#x ends before it starts", a.Start, a.End)
		}
		phdrs = append(phdrs, ProgHeader(elf.PT_LOAD, ProgFlags(a.Prot), off, a.Start, 0, a.dumped(), a.End-a.Start, PageSize)...)
		off += int64(a.dumped())
	}
	err = s.all(phdrs, nt, dataOff, c.Areas)
	if errors.Is(err, errLimit) {
		err = nil
	}
	if err == nil && !s.truncated {
		err = s.finish()
	}
	return s.result(), err
}

// all writes the headers, the notes and the areas' pages.
func (s *sink) all(phdrs []byte, nt [][]byte, dataOff int64, areas []Area) error {
	if err := s.emit(ELFHeader(len(phdrs)/phdrSize), ehdrSize); err != nil {
		return err
	}
	if err := s.emit(phdrs, phdrSize); err != nil {
		return err
	}
	for _, n := range nt {
		if err := s.emit(n, len(n)); err != nil {
			return err
		}
	}
	if err := s.skipTo(dataOff); err != nil {
		return err
	}
	for _, a := range areas {
		if err := s.area(a); err != nil {
			return err
		}
	}
	return nil
}

// ELFHeader is the ELF file header of an x86-64 core with phnum program
// headers, which follow it.
func ELFHeader(phnum int) []byte {
	b := make([]byte, ehdrSize)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(elf.ET_CORE))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[32:], ehdrSize) // e_phoff
	le.PutUint16(b[52:], ehdrSize)
	le.PutUint16(b[54:], phdrSize)
	le.PutUint16(b[56:], uint16(phnum))
	le.PutUint16(b[58:], 64) // e_shentsize, as Linux sets it with no sections
	return b
}

// ProgHeader is one ELF64 program header.
func ProgHeader(typ elf.ProgType, flags elf.ProgFlag, off int64, va, pa, filesz, memsz, align uint64) []byte {
	b := make([]byte, phdrSize)
	le.PutUint32(b[0:], uint32(typ))
	le.PutUint32(b[4:], uint32(flags))
	le.PutUint64(b[8:], uint64(off))
	le.PutUint64(b[16:], va)
	le.PutUint64(b[24:], pa)
	le.PutUint64(b[32:], filesz)
	le.PutUint64(b[40:], memsz)
	le.PutUint64(b[48:], align)
	return b
}

// ProgFlags are the segment flags of PROT_* bits.
func ProgFlags(prot int) elf.ProgFlag {
	var f elf.ProgFlag
	if prot&unix.PROT_READ != 0 {
		f |= elf.PF_R
	}
	if prot&unix.PROT_WRITE != 0 {
		f |= elf.PF_W
	}
	if prot&unix.PROT_EXEC != 0 {
		f |= elf.PF_X
	}
	return f
}

// errLimit ends a core at its size limit; Write reports it as Truncated.
var errLimit = errors.New("gencore: size limit reached")

// ErrAborted is Write's error when Core.Abort gave the core up.
var ErrAborted = errors.New("gencore: core given up")

// chunk is how much of an area's pages is written between two looks at
// Abort.
const chunk = 64 << 20

// sink writes the core: at offsets into a regular file, whose holes stay
// holes, or in order into a stream, where they are zeros.
type sink struct {
	f         *os.File
	seekable  bool
	pos       int64 // the file offset the core has reached
	end       int64 // the end of the last bytes written
	written   int64
	limit     int64
	truncated bool
	zeros     []byte
	abort     func() bool
}

func newSink(f *os.File, limit int64) (*sink, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gencore: %w", err)
	}
	if limit < 0 {
		limit = 1<<63 - 1
	}
	return &sink{f: f, seekable: st.Mode().IsRegular(), limit: limit}, nil
}

// emit writes b at the current offset, in whole units (a header, a note,
// a page), as many as the limit allows.
func (s *sink) emit(b []byte, unit int) error {
	if room := s.limit - s.written; int64(len(b)) > room {
		b = b[:room/int64(unit)*int64(unit)]
		s.truncated = true
	}
	var err error
	if s.seekable {
		_, err = s.f.WriteAt(b, s.pos)
	} else {
		err = s.stream(b)
	}
	s.pos += int64(len(b))
	s.written += int64(len(b))
	if err != nil {
		return fmt.Errorf("gencore: write core: %w", err)
	}
	if len(b) > 0 {
		s.end = s.pos
	}
	if s.truncated {
		return errLimit
	}
	return nil
}

// StreamStall bounds how long a write into a pipe may make no progress:
// a core_pattern program that does not read must not hold the writer
// forever.
const StreamStall = 30 * time.Second

// stream writes b into a pipe a chunk at a time, each within StreamStall.
func (s *sink) stream(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), 1<<20)
		s.f.SetWriteDeadline(time.Now().Add(StreamStall))
		if _, err := s.f.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// skipTo moves on to offset to, leaving a hole: a seek, or zeros into a
// stream, which count as written.
func (s *sink) skipTo(to int64) error {
	if s.seekable {
		s.pos = max(s.pos, to)
		return nil
	}
	for s.pos < to {
		if s.zeros == nil {
			s.zeros = make([]byte, 1<<20)
		}
		if err := s.emit(s.zeros[:min(int64(len(s.zeros)), to-s.pos)], PageSize); err != nil {
			return err
		}
	}
	return nil
}

// area writes the first a.Dump bytes of area a, its populated pages.
func (s *sink) area(a Area) error {
	start := s.pos
	end := a.Start + a.dumped()
	reached := a.Start // pages out of order or overlapping are cut to fit
	for _, p := range a.Pages {
		lo, hi := max(p.Addr, reached), min(p.Addr+uint64(len(p.Bytes)), end)
		if lo >= hi || p.Addr+uint64(len(p.Bytes)) < p.Addr {
			continue
		}
		reached = hi
		if err := s.skipTo(start + int64(lo-a.Start)); err != nil {
			return err
		}
		for b := p.Bytes[lo-p.Addr : hi-p.Addr]; len(b) > 0; b = b[min(len(b), chunk):] {
			if s.abort != nil && s.abort() {
				return ErrAborted
			}
			if err := s.emit(b[:min(len(b), chunk)], PageSize); err != nil {
				return err
			}
		}
	}
	return s.skipTo(start + int64(a.dumped()))
}

// dumped is Dump, within the area.
func (a *Area) dumped() uint64 { return min(a.Dump, a.End-a.Start) }

// finish makes a whole core's file as long as the core, a hole at its
// end included.
func (s *sink) finish() error {
	s.end = s.pos
	if !s.seekable {
		return nil
	}
	if err := s.f.Truncate(s.pos); err != nil {
		return fmt.Errorf("gencore: size core: %w", err)
	}
	return nil
}

// result reports what was written; a cut at the limit is not an error.
func (s *sink) result() Result {
	return Result{Size: s.end, Written: s.written, Truncated: s.truncated}
}
