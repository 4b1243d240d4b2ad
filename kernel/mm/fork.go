package mm

import "golang.org/x/sys/unix"

// MappedSegment is a populated segment with the protection of its VMA, as
// a new mapper must map it.
type MappedSegment struct {
	Segment
	Prot int
}

// Fork returns a copy of the address space for a child process (fork):
// same VMAs, break and layout, every populated private page copied into
// fresh partition pages, shared ones mapped by both. Pages are copied at once rather than shared
// copy-on-write: the LWK maps whole segments, and faulting each write to a
// shared page through the ptrace stub would cost more than the copy. The
// copy has no mapper until Attach; its pages are free again on ENOMEM.
func (as *AddressSpace) Fork() (*AddressSpace, error) {
	as.lock()
	defer as.unlock()
	child := &AddressSpace{alloc: as.alloc, direct: as.direct, mapper: detached{}, Layout: as.Layout, BrkStart: as.BrkStart, Brk: as.Brk}
	for _, v := range as.VMAs {
		c := *v
		c.Segs = nil
		child.VMAs = append(child.VMAs, &c)
		if v.Shared != nil {
			// MAP_SHARED memory: the child maps the very same pages.
			c.Segs = append([]Segment(nil), v.Segs...)
			v.Shared.hold()
			continue
		}
		for _, s := range v.Segs {
			runs, err := as.alloc.AllocOverwritten(s.Len / PageSize)
			if err != nil {
				child.Release()
				return nil, unix.ENOMEM
			}
			va, src := s.VA, s.Off
			for _, r := range runs {
				n := r.Pages * PageSize
				copy(as.direct[r.Off():r.Off()+n], as.direct[src:src+n])
				c.addSeg(Segment{VA: va, Len: n, Off: r.Off()})
				va, src = va+n, src+n
			}
		}
	}
	return child, nil
}

// Attach gives a forked address space its mapper and maps every populated
// segment through it; it returns the segments mapped, for a mirror that
// must be told of them another way.
func (as *AddressSpace) Attach(m Mapper) ([]MappedSegment, error) {
	as.lock()
	defer as.unlock()
	as.mapper = m
	var out []MappedSegment
	for _, v := range as.VMAs {
		for _, s := range v.Segs {
			if err := m.Map(s.VA, s.Len, s.Off, v.Prot); err != nil {
				return nil, err
			}
			out = append(out, MappedSegment{Segment: s, Prot: v.Prot})
		}
	}
	return out, nil
}

// detached is the mapper of a forked address space before Attach: its
// process has no stub yet, and Attach maps whatever is populated by then.
type detached struct{}

func (detached) Map(va, length, off uint64, prot int) error { return nil }
func (detached) Unmap(va, length uint64) error              { return nil }
func (detached) Protect(va, length uint64, prot int) error  { return nil }
