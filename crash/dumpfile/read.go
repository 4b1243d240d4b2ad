package dumpfile

import (
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/gomck/gomck/inspect/elfinfo"
)

var le = binary.LittleEndian

// Dump is an open dump: its header, kmsg, threads, and the daemon's
// memory at the dump (ReadMemory, an inspect Memory).
type Dump struct {
	Path    string
	Header  Header
	Kmsg    string
	Threads []Thread
	PID     int // the daemon's
	Auxv    []byte
	Files   []elfinfo.MappedFile
	Ranges  []Range
	// OpenFiles are the apps' file descriptors; HasFiles says the dump
	// recorded them (older dumps did not).
	OpenFiles []OpenFile
	HasFiles  bool

	f         *os.File
	ranges    []indexedRange
	blocksOff int64
	dec       *zstd.Decoder

	mu    sync.Mutex
	cache [4]cached // the blocks read last
	next  int
}

type cached struct {
	off  int64
	data []byte
}

// maxNotes bounds the note segment read into memory.
const maxNotes = 256 << 20

// ErrNotDump says a file is not an LWK dump.
var ErrNotDump = errors.New("not an LWK dump")

// Open opens and checks the dump at path.
func Open(path string) (*Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d, err := open(f, path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

func open(f *os.File, path string) (*Dump, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return nil, fmt.Errorf("%w: offset 0 holds %q, want the ELF magic %q", ErrNotDump, magic[:], elf.ELFMAG)
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDump, err)
	}
	if ef.Type != elf.ET_CORE || ef.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w: offset 16: ELF type %v for %v, want a core for x86-64", ErrNotDump, ef.Type, ef.Machine)
	}
	d := &Dump{Path: path, f: f}
	var note, blocks *elf.Prog
	for i, p := range ef.Progs {
		at := 64 + 56*i
		if p.Type != elf.PT_LOAD && (p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off) {
			return nil, fmt.Errorf("program header %d at offset %#x: segment at %#x+%#x past the end of the file (%#x bytes): truncated?", i, at, p.Off, p.Filesz, size)
		}
		switch p.Type {
		case elf.PT_NOTE:
			note = p
		case PTBlocks:
			blocks = p
		}
	}
	if note == nil || blocks == nil {
		return nil, fmt.Errorf("%w: no PT_NOTE and PT_GOMCK_BLOCKS segments (a gcore, not ihkosctl dump?)", ErrNotDump)
	}
	if note.Filesz > maxNotes {
		return nil, fmt.Errorf("note segment at %#x: %d bytes, more than a dump's %d", note.Off, note.Filesz, maxNotes)
	}
	nb := make([]byte, note.Filesz)
	if _, err := f.ReadAt(nb, int64(note.Off)); err != nil {
		return nil, fmt.Errorf("note segment at %#x: %w", note.Off, err)
	}
	if err := d.readNotes(nb, int64(note.Off), blocks.Filesz); err != nil {
		return nil, err
	}
	d.blocksOff = int64(blocks.Off)
	if d.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(4*BlockSize)); err != nil {
		return nil, err
	}
	return d, nil
}

// readNotes reads the notes found at file offset at.
func (d *Dump) readNotes(b []byte, at int64, blocksLen uint64) error {
	notes, err := elfinfo.ParseNotes(b, le)
	if err != nil {
		return fmt.Errorf("note segment at %#x: %w", at, err)
	}
	head, ok := elfinfo.Find(notes, NoteName, NTHeader)
	if !ok {
		return fmt.Errorf("%w: note segment at %#x has no %s header note", ErrNotDump, at, NoteName)
	}
	if err := json.Unmarshal(head, &d.Header); err != nil {
		return fmt.Errorf("header note in the segment at %#x: %w", at, err)
	}
	if d.Header.Version != Version || d.Header.BlockSize != BlockSize {
		return fmt.Errorf("header note in the segment at %#x: format %d with %d-byte blocks, want %d with %d", at, d.Header.Version, d.Header.BlockSize, Version, BlockSize)
	}
	if p, ok := elfinfo.Find(notes, "CORE", elfinfo.NTPrpsinfo); ok {
		d.PID, _ = elfinfo.PrpsinfoPID(p, le)
	}
	d.Auxv, _ = elfinfo.Find(notes, "CORE", elfinfo.NTAuxv)
	if fb, ok := elfinfo.Find(notes, "CORE", elfinfo.NTFile); ok {
		if d.Files, err = elfinfo.ParseFileNote(fb, le); err != nil {
			return fmt.Errorf("NT_FILE note in the segment at %#x: %w", at, err)
		}
	}
	k, _ := elfinfo.Find(notes, NoteName, NTKmsg)
	d.Kmsg = string(k)
	for _, n := range notes {
		if n.Name == NoteName && n.Type == NTThread {
			t, err := decodeThread(n.Desc)
			if err != nil {
				return fmt.Errorf("note segment at %#x: %w", at, err)
			}
			d.Threads = append(d.Threads, t)
		}
	}
	if fb, ok := elfinfo.Find(notes, NoteName, NTFiles); ok {
		if err := json.Unmarshal(fb, &d.OpenFiles); err != nil {
			return fmt.Errorf("open files note in the segment at %#x: %w", at, err)
		}
		d.HasFiles = true
	}
	ix, ok := elfinfo.Find(notes, NoteName, NTIndex)
	if !ok {
		return fmt.Errorf("note segment at %#x has no block index: the dump was not finished", at)
	}
	if d.ranges, err = decodeIndex(ix, at, blocksLen, BlockSize); err != nil {
		return err
	}
	for _, r := range d.ranges {
		d.Ranges = append(d.Ranges, r.Range)
	}
	return nil
}

// Close closes the file.
func (d *Dump) Close() error {
	d.dec.Close()
	return d.f.Close()
}

// Executable is the daemon's binary as it ran: the file mapped at its
// entry point.
func (d *Dump) Executable() string {
	if d.Header.Kernel != "" {
		return d.Header.Kernel
	}
	if len(d.Files) > 0 {
		return d.Files[0].Path
	}
	return ""
}

// ReadMemory reads the daemon's memory at addr. Memory the dump does not
// hold (the partition in a level 24 dump) is an error, not zeros.
func (d *Dump) ReadMemory(buf []byte, addr uint64) (int, error) {
	n := 0
	for n < len(buf) {
		a := addr + uint64(n)
		i := sort.Search(len(d.ranges), func(i int) bool { return d.ranges[i].VA+d.ranges[i].Size > a })
		if i == len(d.ranges) || d.ranges[i].VA > a {
			return n, fmt.Errorf("address %#x is not in the dump%s", a, d.levelHint())
		}
		r := &d.ranges[i]
		off := a - r.VA
		data, err := d.block(r, off/BlockSize)
		if err != nil {
			return n, fmt.Errorf("read dump at %#x: %w", a, err)
		}
		n += copy(buf[n:], data[off%BlockSize:])
	}
	return n, nil
}

// ReadPhys reads the partition at offset off (what the kernel calls a
// physical address).
func (d *Dump) ReadPhys(buf []byte, off uint64) (int, error) {
	for _, r := range d.ranges {
		if r.PA != NoPA && r.PA <= off && off < r.PA+r.Size {
			return d.ReadMemory(buf, r.VA+(off-r.PA))
		}
	}
	return 0, fmt.Errorf("partition offset %#x is not in the dump%s", off, d.levelHint())
}

// levelHint says why memory may be missing.
func (d *Dump) levelHint() string {
	if d.Header.Level == Level24 {
		return " (level 24 holds no partition pages: ihkosctl dump -d 0 does)"
	}
	return ""
}

// block returns the bytes of block j of r, decompressed.
func (d *Dump) block(r *indexedRange, j uint64) ([]byte, error) {
	k := r.blocks[j]
	length := min(BlockSize, r.Size-j*BlockSize)
	if k.kind == blockZero {
		return make([]byte, length), nil
	}
	off := d.blocksOff + int64(k.off)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.cache {
		// The length too: a corrupt index may point two blocks of other
		// sizes at the same bytes.
		if c.data != nil && c.off == off && uint64(len(c.data)) == length {
			return c.data, nil
		}
	}
	z := make([]byte, k.clen)
	if _, err := d.f.ReadAt(z, off); err != nil {
		return nil, fmt.Errorf("block at file offset %#x: %w", off, err)
	}
	data, err := d.dec.DecodeAll(z, make([]byte, 0, length))
	if err != nil {
		return nil, fmt.Errorf("block at file offset %#x: %w", off, err)
	}
	if uint64(len(data)) != length {
		return nil, fmt.Errorf("block at file offset %#x holds %d bytes, want %d", off, len(data), length)
	}
	d.cache[d.next] = cached{off: off, data: data}
	d.next = (d.next + 1) % len(d.cache)
	return data, nil
}

// Is reports whether path looks like an LWK dump (an ELF core with a
// PT_GOMCK_BLOCKS segment), without checking it.
func Is(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == PTBlocks {
			return true
		}
	}
	return false
}
