package mm

import "fmt"

// Kind says what a VMA holds; mcinspect --maps shows it as the mapping name.
type Kind uint8

const (
	KindAnon Kind = iota
	KindHeap
	KindStack
	KindFile // private file mapping, filled by offloaded reads
	KindELF  // an image segment placed by the loader
)

func (k Kind) String() string {
	switch k {
	case KindHeap:
		return "[heap]"
	case KindStack:
		return "[stack]"
	case KindFile:
		return "file"
	case KindELF:
		return "elf"
	}
	return "anon"
}

// Segment is a populated, linear piece of a VMA: [VA, VA+Len) is backed by
// partition bytes [Off, Off+Len). It is one host mapping in the stub.
type Segment struct {
	VA  uint64
	Len uint64
	Off uint64
}

// VMA is one virtual memory area of an LWK process. Parts of it not covered
// by a segment are not populated yet (demand paging).
type VMA struct {
	Start, End uint64
	Prot       int
	Flags      int // MAP_* flags given at creation
	Kind       Kind
	Name       string // file path for file and ELF mappings
	FileOff    uint64
	Segs       []Segment // sorted by VA, non-overlapping
	// Shared owns the pages that other processes map too: those of a
	// MAP_SHARED anonymous mapping, which forked children inherit, and
	// those of a read-only private file mapping at a fork (see Fork);
	// nil for memory of this process alone.
	Shared *Backing
}

func (v *VMA) String() string {
	return fmt.Sprintf("%#x-%#x prot=%d %s %s", v.Start, v.End, v.Prot, v.Kind, v.Name)
}

// Populated returns the number of populated bytes.
func (v *VMA) Populated() uint64 {
	var n uint64
	for _, s := range v.Segs {
		n += s.Len
	}
	return n
}

// clip returns the parts of segs inside [lo, hi).
func clip(segs []Segment, lo, hi uint64) []Segment {
	var out []Segment
	for _, s := range segs {
		a, b := max(s.VA, lo), min(s.VA+s.Len, hi)
		if a < b {
			out = append(out, Segment{VA: a, Len: b - a, Off: s.Off + (a - s.VA)})
		}
	}
	return out
}

// offset returns the partition offset backing va, if it is populated.
func (v *VMA) offset(va uint64) (uint64, bool) {
	for _, s := range v.Segs {
		if va < s.VA {
			break
		}
		if va < s.VA+s.Len {
			return s.Off + (va - s.VA), true
		}
	}
	return 0, false
}

// gaps returns the unpopulated subranges of [lo, hi) in v.
func (v *VMA) gaps(lo, hi uint64) [][2]uint64 {
	var out [][2]uint64
	at := lo
	for _, s := range v.Segs {
		if s.VA+s.Len <= at {
			continue
		}
		if s.VA >= hi {
			break
		}
		if s.VA > at {
			out = append(out, [2]uint64{at, s.VA})
		}
		at = s.VA + s.Len
	}
	if at < hi {
		out = append(out, [2]uint64{at, hi})
	}
	return out
}

// addSeg inserts s keeping order, merging with a linear neighbour.
func (v *VMA) addSeg(s Segment) {
	i := 0
	for i < len(v.Segs) && v.Segs[i].VA < s.VA {
		i++
	}
	if i > 0 {
		p := &v.Segs[i-1]
		if p.VA+p.Len == s.VA && p.Off+p.Len == s.Off {
			p.Len += s.Len
			if i < len(v.Segs) {
				n := v.Segs[i]
				if s.VA+s.Len == n.VA && s.Off+s.Len == n.Off {
					p.Len += n.Len
					v.Segs = append(v.Segs[:i], v.Segs[i+1:]...)
				}
			}
			return
		}
	}
	v.Segs = append(v.Segs[:i], append([]Segment{s}, v.Segs[i:]...)...)
}
