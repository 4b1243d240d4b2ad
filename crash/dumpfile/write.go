package dumpfile

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"

	"github.com/klauspost/compress/zstd"

	"github.com/gomck/gomck/gencore"
)

// Contents are what a dump holds besides memory.
type Contents struct {
	Header  Header
	Process gencore.Process // the daemon, for NT_PRPSINFO
	Auxv    []uint64        // the daemon's auxiliary vector
	Files   []gencore.Area  // the daemon's file mappings, for NT_FILE
	Kmsg    string
	Threads []Thread
	// OpenFiles are the apps' file descriptors.
	OpenFiles []OpenFile
}

// Writer writes a dump into a regular file: the blocks as the ranges are
// read, then the notes, then the headers at the start.
type Writer struct {
	f      *os.File
	ranges []indexedRange
	start  int64 // where the blocks segment begins
	pos    int64 // its end so far
	enc    *zstd.Encoder
	zbuf   []byte
	// Stored and Zero count the bytes of memory written, and those
	// omitted as zero.
	Stored, Zero uint64
}

// NewWriter starts a dump of ranges, in address order, into f, with
// blocks encoded on up to encoders goroutines at once (Encode).
//
// zstd's fastest level, without the entropy coding of literals (as zstd's
// --fast levels): a dump is compression-bound, and of a level 0 dump of
// app data that stage took 7% of the time for no smaller file (22.4% of
// the populated bytes either way); of kernel data, whose level 24 dumps
// are a few MiB, it saved 12%.
func NewWriter(f *os.File, ranges []Range, encoders int) (*Writer, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(max(1, encoders)), zstd.WithNoEntropyCompression(true))
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, enc: enc}
	for _, r := range ranges {
		w.ranges = append(w.ranges, indexedRange{Range: r})
	}
	phnum := 2 + len(ranges)
	w.start = (int64(64+56*phnum) + gencore.PageSize - 1) &^ (gencore.PageSize - 1)
	w.pos = w.start
	return w, nil
}

// Encoded is a block of memory made ready for the file by Encode.
type Encoded struct {
	Len  int    // bytes of memory
	Data []byte // compressed; nil for a zero block, omitted
}

// Encode compresses block b, len(b) <= BlockSize, into dst's space. It is
// the costly part of writing a block, and may run on several goroutines
// at once (as many as NewWriter was told), unlike Put.
func (w *Writer) Encode(b, dst []byte) Encoded {
	if IsZero(b) {
		return Encoded{Len: len(b)}
	}
	return Encoded{Len: len(b), Data: w.enc.EncodeAll(b, dst[:0])}
}

// IsZero reports whether b, len(b) <= BlockSize, is all zero: a block
// the dump leaves out.
func IsZero(b []byte) bool { return bytes.Equal(b, zeroBlock[:len(b)]) }

// zeroBlock is what a zero block is compared with (bytes.Equal is
// vectorised: some 5x a loop over the bytes here).
var zeroBlock = make([]byte, BlockSize)

// Put adds the next block of range i, in order: BlockSize bytes of memory
// but at the range's end.
func (w *Writer) Put(i int, e Encoded) error {
	r := &w.ranges[i]
	if e.Data == nil {
		r.blocks = append(r.blocks, block{kind: blockZero})
		w.Zero += uint64(e.Len)
		return nil
	}
	if _, err := w.f.WriteAt(e.Data, w.pos); err != nil {
		return fmt.Errorf("write dump: %w", err)
	}
	r.blocks = append(r.blocks, block{off: uint64(w.pos - w.start), clen: uint32(len(e.Data)), kind: blockZstd})
	w.pos += int64(len(e.Data))
	w.Stored += uint64(e.Len)
	return nil
}

// Block encodes and puts the next block of range i.
func (w *Writer) Block(i int, b []byte) error {
	e := w.Encode(b, w.zbuf)
	w.zbuf = e.Data
	return w.Put(i, e)
}

// Finish writes the notes and the headers.
func (w *Writer) Finish(c *Contents) error {
	for i, r := range w.ranges {
		if want := (r.Size + BlockSize - 1) / BlockSize; uint64(len(r.blocks)) != want {
			return fmt.Errorf("dump: range %d (%#x) has %d blocks, want %d", i, r.VA, len(r.blocks), want)
		}
	}
	c.Header.Version, c.Header.BlockSize = Version, BlockSize
	head, err := json.Marshal(c.Header)
	if err != nil {
		return err
	}
	var notes []byte
	notes = append(notes, gencore.Note("CORE", gencore.NTPrpsinfo, gencore.Prpsinfo(&c.Process))...)
	notes = append(notes, gencore.Note("CORE", gencore.NTAuxv, auxvBytes(c.Auxv))...)
	if f := gencore.FileNote(c.Files); f != nil {
		notes = append(notes, gencore.Note("CORE", gencore.NTFile, f)...)
	}
	notes = append(notes, gencore.Note(NoteName, NTHeader, head)...)
	notes = append(notes, gencore.Note(NoteName, NTKmsg, []byte(c.Kmsg))...)
	for _, t := range c.Threads {
		notes = append(notes, gencore.Note(NoteName, NTThread, t.encode())...)
	}
	files, err := json.Marshal(c.OpenFiles)
	if err != nil {
		return err
	}
	notes = append(notes, gencore.Note(NoteName, NTFiles, files)...)
	notes = append(notes, gencore.Note(NoteName, NTIndex, encodeIndex(w.ranges))...)
	noteOff := w.pos
	if _, err := w.f.WriteAt(notes, noteOff); err != nil {
		return fmt.Errorf("write dump: %w", err)
	}
	phdrs := gencore.ELFHeader(2 + len(w.ranges))
	phdrs = append(phdrs, gencore.ProgHeader(elf.PT_NOTE, 0, noteOff, 0, 0, uint64(len(notes)), 0, 4)...)
	phdrs = append(phdrs, gencore.ProgHeader(PTBlocks, 0, w.start, 0, 0, uint64(w.pos-w.start), 0, 1)...)
	for _, r := range w.ranges {
		phdrs = append(phdrs, gencore.ProgHeader(elf.PT_LOAD, gencore.ProgFlags(r.Prot), w.start, r.VA, r.PA, 0, r.Size, gencore.PageSize)...)
	}
	if _, err := w.f.WriteAt(phdrs, 0); err != nil {
		return fmt.Errorf("write dump: %w", err)
	}
	return w.f.Truncate(noteOff + int64(len(notes)))
}

func auxvBytes(ws []uint64) []byte {
	b := make([]byte, 8*len(ws))
	for i, v := range ws {
		le.PutUint64(b[8*i:], v)
	}
	return b
}
