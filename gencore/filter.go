package gencore

// coredump_filter bits (core(5)).
const (
	FilterAnonPrivate = 1 << iota
	FilterAnonShared
	FilterFilePrivate
	FilterFileShared
	FilterELFHeaders
	FilterHugePrivate
	FilterHugeShared
)

// DefaultFilter is Linux's default coredump_filter: anonymous memory,
// private and shared, ELF headers and private huge pages.
const DefaultFilter = FilterAnonPrivate | FilterAnonShared | FilterELFHeaders | FilterHugePrivate

// Mapping is what the filter looks at in a memory area.
type Mapping struct {
	Size      uint64
	Anonymous bool
	Shared    bool
	// Written says a private area has pages of its own that may differ
	// from what it maps (Linux's anon_vma: it was written, or populated
	// while writable).
	Written bool
	// Special marks the vDSO, which is always dumped.
	Special bool
	// ELFHeader says the area maps a file from offset 0, is readable and
	// its first page is populated and starts with an ELF header.
	ELFHeader bool
}

// PageSize is the unit of an ELF header dump and of NT_FILE offsets.
const PageSize = 4096

// Filter returns how many bytes of area m a core holds under
// coredump_filter filter, as Linux's vma_dump_size decides: all, the
// first page (an ELF header, so that a debugger sees what is mapped
// there), or none.
func Filter(m Mapping, filter uint64) uint64 {
	switch {
	case m.Special:
		return m.Size
	case m.Shared:
		if m.Anonymous && filter&FilterAnonShared != 0 || !m.Anonymous && filter&FilterFileShared != 0 {
			return m.Size
		}
		return 0
	case m.Written && filter&FilterAnonPrivate != 0:
		return m.Size
	case m.Anonymous:
		return 0
	case filter&FilterFilePrivate != 0:
		return m.Size
	case filter&FilterELFHeaders != 0 && m.ELFHeader:
		return min(PageSize, m.Size)
	}
	return 0
}
