package dumpfile

import (
	"encoding/binary"
	"fmt"
)

// The index note: "GMIX", the version, the number of ranges; a range
// entry each (VA, PA, size, prot, its number of blocks); then every
// block, range by range (offset in the blocks segment, compressed length,
// kind). Little-endian.
const (
	indexMagic = "GMIX"
	rangeSize  = 32
	blockSize  = 16
)

// Range is a range of the daemon's memory in a dump.
type Range struct {
	VA, Size uint64
	// PA is the range's offset in the partition, NoPA elsewhere.
	PA   uint64
	Prot int
}

// NoPA marks a range outside the partition.
const NoPA = ^uint64(0)

// Block kinds.
const (
	blockZstd = 0
	blockZero = 1 // all zero: no bytes in the file
)

type block struct {
	off  uint64 // in the blocks segment
	clen uint32
	kind uint32
}

type indexedRange struct {
	Range
	blocks []block
}

func encodeIndex(ranges []indexedRange) []byte {
	le := binary.LittleEndian
	b := make([]byte, 16)
	copy(b, indexMagic)
	le.PutUint32(b[4:], Version)
	le.PutUint32(b[8:], uint32(len(ranges)))
	for _, r := range ranges {
		e := make([]byte, rangeSize)
		le.PutUint64(e[0:], r.VA)
		le.PutUint64(e[8:], r.PA)
		le.PutUint64(e[16:], r.Size)
		le.PutUint32(e[24:], uint32(r.Prot))
		le.PutUint32(e[28:], uint32(len(r.blocks)))
		b = append(b, e...)
	}
	for _, r := range ranges {
		for _, k := range r.blocks {
			e := make([]byte, blockSize)
			le.PutUint64(e[0:], k.off)
			le.PutUint32(e[8:], k.clen)
			le.PutUint32(e[12:], k.kind)
			b = append(b, e...)
		}
	}
	return b
}

// decodeIndex reads the index note found at file offset at and checks it
// against the blocks segment of segLen bytes and the block size bs.
func decodeIndex(b []byte, at int64, segLen uint64, bs uint64) ([]indexedRange, error) {
	le := binary.LittleEndian
	bad := func(off int, format string, args ...any) error {
		return fmt.Errorf("index note at offset %#x, byte %d: %s", at, off, fmt.Sprintf(format, args...))
	}
	if len(b) < 16 || string(b[:4]) != indexMagic {
		return nil, bad(0, "no %q index header", indexMagic)
	}
	if v := le.Uint32(b[4:]); v != Version {
		return nil, bad(4, "index version %d, want %d", v, Version)
	}
	n := int(le.Uint32(b[8:]))
	if n > (len(b)-16)/rangeSize {
		return nil, bad(8, "%d ranges do not fit in %d bytes", n, len(b))
	}
	ranges := make([]indexedRange, n)
	pos := 16
	total := 0
	for i := range ranges {
		e := b[pos : pos+rangeSize]
		r := &ranges[i]
		r.VA, r.PA, r.Size = le.Uint64(e[0:]), le.Uint64(e[8:]), le.Uint64(e[16:])
		r.Prot = int(le.Uint32(e[24:]))
		nb := int(le.Uint32(e[28:]))
		if want := (r.Size + bs - 1) / bs; uint64(nb) != want || r.VA+r.Size < r.VA {
			return nil, bad(pos, "range %#x of %#x bytes has %d blocks, want %d", r.VA, r.Size, nb, want)
		}
		if i > 0 && r.VA < ranges[i-1].VA+ranges[i-1].Size {
			return nil, bad(pos, "range %#x overlaps or precedes the one before", r.VA)
		}
		// Checked before anything is allocated for them.
		if total += nb; total > (len(b)-16-n*rangeSize)/blockSize {
			return nil, bad(pos, "%d blocks do not fit in the index's %d bytes", total, len(b))
		}
		r.blocks = make([]block, nb)
		pos += rangeSize
	}
	for i := range ranges {
		for j := range ranges[i].blocks {
			e := b[pos : pos+blockSize]
			k := block{off: le.Uint64(e[0:]), clen: le.Uint32(e[8:]), kind: le.Uint32(e[12:])}
			switch {
			case k.kind != blockZstd && k.kind != blockZero:
				return nil, bad(pos, "block kind %d, want 0 (zstd) or 1 (zero)", k.kind)
			case k.kind == blockZstd && (k.off > segLen || uint64(k.clen) > segLen-k.off):
				return nil, bad(pos, "block at %#x+%#x lies outside the blocks segment (%#x bytes): truncated file?", k.off, k.clen, segLen)
			}
			ranges[i].blocks[j] = k
			pos += blockSize
		}
	}
	return ranges, nil
}
