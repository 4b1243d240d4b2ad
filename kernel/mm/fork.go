package mm

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// MappedSegment is a populated segment with the protection of its VMA, as
// a new mapper must map it.
type MappedSegment struct {
	Segment
	Prot int
	// File, for a shared file mapping: Off is then the file offset.
	File *FileMap
}

// Fork returns a copy of the address space for a child process (fork):
// same VMAs, break and layout, every populated private page copied into
// fresh partition pages (but long runs of zeros in anonymous memory: see
// nonZero), shared ones mapped by both. Pages are copied at
// once rather than shared copy-on-write: the LWK maps whole segments, and
// faulting each write to a shared page through the ptrace stub would cost
// more than the copy. Read-only private file mappings (program text and
// constants, a third of a small static program's memory and most of a
// large dynamic one's) are the exception: nothing writes them, so parent
// and child share their pages, and a process that makes such a mapping
// writable, or that the LWK writes into, gets its own copy then (unshare).
// The copy has no mapper until Attach; its pages are free again on ENOMEM.
func (as *AddressSpace) Fork() (*AddressSpace, error) {
	as.lock()
	defer as.unlock()
	child := &AddressSpace{alloc: as.alloc, direct: as.direct, mapper: detached{}, Layout: as.Layout, BrkStart: as.BrkStart, Brk: as.Brk}
	for _, v := range as.VMAs {
		if v.Shared == nil && readOnlyFile(v) && len(v.Segs) > 0 {
			v.Shared = newBacking()
			for _, s := range v.Segs {
				v.Shared.add(s)
			}
		}
		c := *v
		c.Segs = nil
		child.VMAs = append(child.VMAs, &c)
		if v.File != nil {
			v.File.hold() // the child maps the very same file pages
			continue
		}
		if v.Shared != nil {
			// The child maps the very same pages.
			c.Segs = append([]Segment(nil), v.Segs...)
			v.Shared.hold()
			continue
		}
		for _, s := range v.Segs {
			pieces := []Segment{s}
			switch v.Kind {
			case KindHeap:
				// Above the break the heap holds zeros (brk clears what it
				// gives back): no need to read it.
				pieces = as.nonZero(clipSeg(s, pageUp(as.Brk)))
			case KindAnon, KindStack:
				pieces = as.nonZero(s)
			}
			for _, p := range pieces {
				runs, err := as.alloc.AllocOverwritten(p.Len / PageSize)
				if err != nil {
					child.Release()
					return nil, unix.ENOMEM
				}
				for _, seg := range as.copySeg(p, runs) {
					c.addSeg(seg)
				}
			}
		}
	}
	return child, nil
}

// clipSeg returns the part of s below va.
func clipSeg(s Segment, va uint64) Segment {
	if s.VA+s.Len > va {
		s.Len = max(va, s.VA) - s.VA
	}
	return s
}

// zeroPage is compared with pages to find those that hold only zeros.
var zeroPage [PageSize]byte

// nonZero returns the pieces of s, a segment of anonymous memory, that a
// fork copies: stretches of a fault-around block or more that hold only
// zeros are left out, and the child demand-faults zeroed pages there if it
// ever touches them. Checking a page costs about half of copying it, and a
// process's pre-populated heap and stack are mostly zeros (1.3 of the 1.6
// MiB a small C program's fork copied), which a child that execs or exits
// soon never reads.
func (as *AddressSpace) nonZero(s Segment) []Segment {
	var out []Segment
	piece := func(from, to uint64) {
		if to > from {
			out = append(out, Segment{VA: s.VA + from*PageSize, Len: (to - from) * PageSize, Off: s.Off + from*PageSize})
		}
	}
	hole := as.Layout.FaultAround
	n := s.Len / PageSize
	var start, zeros uint64 // first page of the current piece; zero pages before i
	for i := range n {
		off := s.Off + i*PageSize
		if bytes.Equal(as.direct[off:off+PageSize], zeroPage[:]) {
			zeros++
			continue
		}
		if zeros >= hole {
			piece(start, i-zeros)
			start = i
		}
		zeros = 0
	}
	if zeros >= hole {
		n -= zeros
	}
	piece(start, n)
	return out
}

// copySeg copies the pages of s into runs, which hold as many, and returns
// the segments that map them at s's addresses.
func (as *AddressSpace) copySeg(s Segment, runs []Run) []Segment {
	out := make([]Segment, 0, len(runs))
	va, src := s.VA, s.Off
	for _, r := range runs {
		n := r.Pages * PageSize
		copy(as.direct[r.Off():r.Off()+n], as.direct[src:src+n])
		out = append(out, Segment{VA: va, Len: n, Off: r.Off()})
		va, src = va+n, src+n
	}
	return out
}

// readOnlyFile reports whether v is a private file mapping that nothing
// may write: its pages can be shared across fork.
func readOnlyFile(v *VMA) bool {
	return (v.Kind == KindFile || v.Kind == KindELF) && v.Prot&unix.PROT_WRITE == 0 && v.Flags&unix.MAP_SHARED == 0
}

// forkShared reports whether v is private memory whose pages a fork shares
// (readOnlyFile at the fork): it must be unshared before it is written.
func forkShared(v *VMA) bool {
	return v.Shared != nil && v.Flags&unix.MAP_SHARED == 0
}

// unshare gives v, private memory shared by a fork, pages of its own with
// the same contents, and lets go of the shared ones.
func (as *AddressSpace) unshare(v *VMA) error {
	fresh := make([][]Run, len(v.Segs))
	for i, s := range v.Segs {
		runs, err := as.alloc.AllocOverwritten(s.Len / PageSize)
		if err != nil {
			for _, got := range fresh[:i] {
				for _, r := range got {
					as.alloc.FreeRun(r)
				}
			}
			return unix.ENOMEM
		}
		fresh[i] = runs
	}
	// The page table is changed in full even if a host mapping fails (the
	// process is then lost), so that its teardown frees every page.
	var mapErr error
	segs := v.Segs
	v.Segs = nil
	for i, s := range segs {
		for _, seg := range as.copySeg(s, fresh[i]) {
			v.addSeg(seg)
			if err := as.mapper.Map(seg.VA, seg.Len, seg.Off, v.Prot); err != nil && mapErr == nil {
				mapErr = err
			}
		}
	}
	v.Shared.release(as.alloc)
	v.Shared = nil
	return mapErr
}

// unshareRange unshares every fork-shared VMA overlapping [lo, hi).
func (as *AddressSpace) unshareRange(lo, hi uint64) error {
	for _, v := range as.VMAs {
		if v.Start < hi && lo < v.End && forkShared(v) {
			if err := as.unshare(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Attach gives a forked address space its mapper and maps every populated
// segment through it; it returns the segments mapped, for a mirror that
// must be told of them another way.
func (as *AddressSpace) Attach(m Mapper) ([]MappedSegment, error) {
	as.lock()
	defer as.unlock()
	as.mapper = m
	var out, files []MappedSegment
	for _, v := range as.VMAs {
		if v.File != nil {
			files = append(files, MappedSegment{Segment: Segment{VA: v.Start, Len: v.End - v.Start, Off: v.FileOff}, Prot: v.Prot, File: v.File})
		}
		for _, s := range v.Segs {
			out = append(out, MappedSegment{Segment: s, Prot: v.Prot})
		}
	}
	for _, v := range as.VMAs {
		if v.File != nil {
			if err := as.mapShared(v); err != nil {
				return nil, err
			}
		}
	}
	if bm, ok := m.(BatchMapper); ok {
		return append(out, files...), bm.MapAll(out)
	}
	for _, s := range out {
		if err := m.Map(s.VA, s.Len, s.Off, s.Prot); err != nil {
			return nil, err
		}
	}
	return append(out, files...), nil
}

// A BatchMapper maps many segments at once, for less than one Map each.
type BatchMapper interface {
	MapAll(segs []MappedSegment) error
}

// detached is the mapper of a forked address space before Attach: its
// process has no stub yet, and Attach maps whatever is populated by then.
type detached struct{}

func (detached) Map(va, length, off uint64, prot int) error     { return nil }
func (detached) Unmap(va, length uint64) error                  { return nil }
func (detached) Protect(va, length uint64, prot int) error      { return nil }
func (detached) MapFile(uint64, uint64, int, uint64, int) error { return nil }
func (detached) AttachSysV(uint64, int, int) error              { return nil }
