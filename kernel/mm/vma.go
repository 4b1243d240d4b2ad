package mm

import (
	"fmt"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// Kind says what a VMA holds (package lwkabi, shared with inspect/).
type Kind = lwkabi.Kind

// The kinds, by their kernel names.
const (
	KindAnon  = lwkabi.KindAnon
	KindHeap  = lwkabi.KindHeap
	KindStack = lwkabi.KindStack
	KindFile  = lwkabi.KindFile
	KindELF   = lwkabi.KindELF
)

// Segment is a populated, linear piece of a VMA, one host mapping in the
// stub (package lwkabi, shared with inspect/).
type Segment = lwkabi.Segment

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
	// Wrote says the area was writable at some time, so that its private
	// pages may differ from what it maps (Linux's anon_vma): a core holds
	// them (coredump_filter's private bits).
	Wrote bool
	// Shared owns the pages that other processes map too: those of a
	// MAP_SHARED anonymous mapping, which forked children inherit, and
	// those of a read-only private file mapping at a fork (see Fork);
	// nil for memory of this process alone.
	Shared *Backing
	// File is the file a MAP_SHARED file mapping maps (file.go): Linux's
	// pages, not the partition's, so it has no segments; nil otherwise.
	File *FileMap
	// Pinned areas stay until exec or the end (pinned.go).
	Pinned bool
}

func (v *VMA) String() string {
	return fmt.Sprintf("%#x-%#x prot=%d %s %s", v.Start, v.End, v.Prot, v.Kind, v.Name)
}

// Populated returns the number of populated bytes.
func (v *VMA) Populated() uint64 { return lwkabi.Populated(v.Segs) }

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
