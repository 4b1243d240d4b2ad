package lwkabi

import "sort"

// Segment is a populated, linear piece of a VMA: [VA, VA+Len) is backed by
// partition bytes [Off, Off+Len). It is one host mapping in the stub. A
// VMA's segments, sorted by VA and not overlapping, are its page table.
// The JSON names are mcinspect's.
type Segment struct {
	VA  uint64 `json:"va"`
	Len uint64 `json:"len"`
	Off uint64 `json:"partition_offset"`
}

// Lookup returns the segment of segs (a VMA's page table) that backs va;
// false if va is not populated.
func Lookup(segs []Segment, va uint64) (Segment, bool) {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].VA+segs[i].Len > va })
	if i == len(segs) || segs[i].VA > va {
		return Segment{}, false
	}
	return segs[i], true
}

// Translate returns the partition offset that backs va in segs; false if
// va is not populated.
func Translate(segs []Segment, va uint64) (uint64, bool) {
	s, ok := Lookup(segs, va)
	if !ok {
		return 0, false
	}
	return s.Off + (va - s.VA), true
}

// Clip returns the parts of segs inside [lo, hi), in order.
func Clip(segs []Segment, lo, hi uint64) []Segment {
	var out []Segment
	for _, s := range segs {
		a, b := max(s.VA, lo), min(s.VA+s.Len, hi)
		if a < b {
			out = append(out, Segment{VA: a, Len: b - a, Off: s.Off + (a - s.VA)})
		}
	}
	return out
}

// Populated returns the bytes segs back: a VMA's share of RSS.
func Populated(segs []Segment) uint64 {
	var n uint64
	for _, s := range segs {
		n += s.Len
	}
	return n
}
