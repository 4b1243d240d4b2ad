package mm

import (
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// Mapper carries address-space changes to the host: the stub process that
// executes the app and the mcexec mirror. Calls come from the thread that
// owns the stub.
type Mapper interface {
	Map(va, length, off uint64, prot int) error
	Unmap(va, length uint64) error
	Protect(va, length uint64, prot int) error
	// MapFile maps bytes [off, off+length) of the daemon's file fd at va,
	// shared (FileMap).
	MapFile(va, length uint64, fd int, off uint64, prot int) error
	// AttachSysV attaches System V segment shmid at va (shmat).
	AttachSysV(va uint64, shmid int, prot int) error
}

// Layout bounds of an address space.
type Layout struct {
	Min, Max    uint64 // the app window
	MmapTop     uint64 // top-down mmap placement starts below this
	FaultAround uint64 // pages populated per demand fault
	HeapExtend  uint64 // brk grows the heap VMA in steps of this many bytes
}

// AddressSpace is the memory of one LWK process.
type AddressSpace struct {
	mu       sync.Mutex
	Seq      uint64 // odd while being changed
	VMAs     []*VMA // sorted by Start, non-overlapping
	BrkStart uint64
	Brk      uint64
	Layout   Layout
	Faults   uint64 // demand faults served

	alloc  *Allocator
	direct []byte
	mapper Mapper
}

// NewAddressSpace returns an empty address space over the partition whose
// direct map is direct.
func NewAddressSpace(alloc *Allocator, direct []byte, mapper Mapper, l Layout) *AddressSpace {
	if l.FaultAround == 0 {
		l.FaultAround = 16
	}
	if l.HeapExtend < PageSize {
		l.HeapExtend = PageSize
	}
	return &AddressSpace{alloc: alloc, direct: direct, mapper: mapper, Layout: l}
}

func (as *AddressSpace) lock() {
	as.mu.Lock()
	atomic.AddUint64(&as.Seq, 1)
}

func (as *AddressSpace) unlock() {
	atomic.AddUint64(&as.Seq, 1)
	as.mu.Unlock()
}

// Usage returns the populated bytes (RSS) and the mapped bytes (VSZ).
func (as *AddressSpace) Usage() (rss, vsz uint64) {
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, v := range as.VMAs {
		rss += v.Populated()
		vsz += v.End - v.Start
	}
	return rss, vsz
}

// Areas returns a copy of the VMAs, without their segments, in address
// order: for /proc/<pid>/maps.
func (as *AddressSpace) Areas() []VMA {
	as.mu.Lock()
	defer as.mu.Unlock()
	out := make([]VMA, len(as.VMAs))
	for i, v := range as.VMAs {
		out[i] = *v
		out[i].Segs = nil
	}
	return out
}

// Image returns the VMAs with their page tables, in address order, and
// the direct map their segments index: what a core of the process holds.
// The caller keeps the process from running meanwhile.
func (as *AddressSpace) Image() ([]VMA, []byte) {
	as.mu.Lock()
	defer as.mu.Unlock()
	out := make([]VMA, len(as.VMAs))
	for i, v := range as.VMAs {
		out[i] = *v
		out[i].Segs = slices.Clone(v.Segs)
	}
	return out, as.direct
}

func pageUp(n uint64) uint64 { return (n + PageSize - 1) &^ (PageSize - 1) }

// find returns the index of the VMA containing addr, or -1.
func (as *AddressSpace) find(addr uint64) int {
	lo, hi := 0, len(as.VMAs)
	for lo < hi {
		m := (lo + hi) / 2
		switch v := as.VMAs[m]; {
		case addr < v.Start:
			hi = m
		case addr >= v.End:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

func (as *AddressSpace) free(lo, hi uint64) bool {
	for _, v := range as.VMAs {
		if v.Start < hi && lo < v.End {
			return false
		}
	}
	return lo >= as.Layout.Min && hi <= as.Layout.Max && lo < hi
}

func (as *AddressSpace) insert(v *VMA) {
	i := 0
	for i < len(as.VMAs) && as.VMAs[i].Start < v.Start {
		i++
	}
	as.VMAs = append(as.VMAs[:i], append([]*VMA{v}, as.VMAs[i:]...)...)
}

// drop removes v from the VMA list without touching its pages.
func (as *AddressSpace) drop(v *VMA) {
	for i, w := range as.VMAs {
		if w == v {
			as.VMAs = append(as.VMAs[:i], as.VMAs[i+1:]...)
			return
		}
	}
}

// splitAt splits the VMA strictly containing addr in two.
func (as *AddressSpace) splitAt(addr uint64) {
	i := as.find(addr)
	if i < 0 || as.VMAs[i].Start == addr {
		return
	}
	v := as.VMAs[i]
	r := *v
	r.Start, r.Segs = addr, lwkabi.Clip(v.Segs, addr, v.End)
	if v.Kind == KindFile || v.Kind == KindELF {
		r.FileOff += addr - v.Start
	}
	v.End, v.Segs = addr, lwkabi.Clip(v.Segs, v.Start, addr)
	if v.Shared != nil {
		v.Shared.hold()
	}
	if v.File != nil {
		v.File.hold()
	}
	as.VMAs = append(as.VMAs[:i+1], append([]*VMA{&r}, as.VMAs[i+1:]...)...)
}

// dropPages gives up v's pages: to the allocator, or to its shared
// backing, which frees them with the last mapping.
func (as *AddressSpace) dropPages(v *VMA) {
	if v.File != nil {
		v.File.release()
		return
	}
	if v.Shared != nil {
		v.Shared.release(as.alloc)
		return
	}
	as.freeSegs(v.Segs)
}

// freeSegs returns segments' pages to the allocator.
func (as *AddressSpace) freeSegs(segs []Segment) {
	for _, s := range segs {
		as.alloc.FreeRun(Run{Start: s.Off / PageSize, Pages: s.Len / PageSize})
	}
}

// removeRange drops every mapping in [lo, hi) and frees its pages.
func (as *AddressSpace) removeRange(lo, hi uint64) error {
	as.splitAt(lo)
	as.splitAt(hi)
	kept := as.VMAs[:0]
	touched := false
	for _, v := range as.VMAs {
		if v.Start >= lo && v.End <= hi {
			as.dropPages(v)
			touched = true
			continue
		}
		kept = append(kept, v)
	}
	for i := len(kept); i < len(as.VMAs); i++ {
		as.VMAs[i] = nil
	}
	as.VMAs = kept
	if touched {
		return as.mapper.Unmap(lo, hi-lo)
	}
	return nil
}

// gap finds a free range of length bytes, top-down below MmapTop.
func (as *AddressSpace) gap(length uint64) (uint64, bool) {
	hi := as.Layout.MmapTop
	for i := len(as.VMAs) - 1; i >= 0; i-- {
		v := as.VMAs[i]
		if v.Start >= hi {
			continue
		}
		if v.End <= hi && hi-v.End >= length {
			return hi - length, true
		}
		hi = v.Start
	}
	if hi >= as.Layout.Min+length {
		return hi - length, true
	}
	return 0, false
}

// MapRequest describes an mmap.
type MapRequest struct {
	Addr, Length uint64
	Prot, Flags  int
	Fixed        bool // MAP_FIXED: replace what is there
	Kind         Kind
	Name         string
	FileOff      uint64
	Populate     bool // populate even if only scattered pages are free
	Demand       bool // populate nothing now: pages come on first touch
	Pinned       bool // see pinned.go
	// File: a MAP_SHARED mapping of this file (FileOff being the file
	// offset of Addr); Map takes over the caller's reference.
	File *FileMap
}

// Map creates a VMA and, when a contiguous run is free (or Populate is
// set), populates it at once. It returns the chosen address.
func (as *AddressSpace) Map(r MapRequest) (_ uint64, err error) {
	as.lock()
	defer as.unlock()
	if r.File != nil {
		defer func() {
			if err != nil && r.File.refs.Load() > 0 && !as.maps(r.File) {
				r.File.release() // refused before a VMA took it over
			}
		}()
	}
	length := pageUp(r.Length)
	if length == 0 || r.Addr%PageSize != 0 {
		return 0, unix.EINVAL
	}
	addr := r.Addr
	switch {
	case r.Fixed:
		if addr < as.Layout.Min || addr+length > as.Layout.Max || addr+length < addr {
			return 0, unix.ENOMEM
		}
		if as.pinnedIn(addr, addr+length) {
			return 0, unix.EINVAL
		}
		if err := as.removeRange(addr, addr+length); err != nil {
			return 0, err
		}
	case addr != 0 && as.free(addr, addr+length):
	default:
		var ok bool
		if addr, ok = as.gap(length); !ok {
			return 0, unix.ENOMEM
		}
	}
	v := &VMA{Start: addr, End: addr + length, Prot: r.Prot, Flags: r.Flags, Kind: r.Kind, Name: r.Name, FileOff: r.FileOff,
		Wrote: r.Prot&unix.PROT_WRITE != 0, Pinned: r.Pinned}
	if r.File != nil {
		v.File = r.File
		as.insert(v)
		if err := as.mapShared(v); err != nil {
			as.removeRange(v.Start, v.End)
			return 0, err
		}
		return addr, nil
	}
	pages := length / PageSize
	// Reservations (PROT_NONE, MAP_NORESERVE) take no memory until touched:
	// runtimes such as Go's reserve far more address space than they use.
	// Shared memory is populated at once (see Backing).
	reserve := r.Prot == unix.PROT_NONE || r.Flags&unix.MAP_NORESERVE != 0
	if r.Kind == KindAnon && r.Flags&unix.MAP_SHARED != 0 {
		v.Shared, reserve, r.Demand, r.Populate = newBacking(), false, false, true
	}
	if !reserve && as.alloc.FreePages() < pages {
		return 0, unix.ENOMEM
	}
	as.insert(v)
	if r.Demand || reserve {
		return addr, nil
	}
	if run, cerr := as.alloc.AllocContig(pages); cerr == nil {
		err = as.mapRun(v, addr, run)
	} else if r.Populate {
		err = as.populate(v, addr, addr+length)
	}
	if err != nil {
		as.removeRange(v.Start, v.End)
		return 0, err
	}
	return addr, nil
}

// mapRun backs [va, va+run) of v with run.
func (as *AddressSpace) mapRun(v *VMA, va uint64, run Run) error {
	length := run.Pages * PageSize
	if err := as.mapper.Map(va, length, run.Off(), v.Prot); err != nil {
		as.alloc.FreeRun(run)
		return err
	}
	seg := Segment{VA: va, Len: length, Off: run.Off()}
	v.addSeg(seg)
	if v.Shared != nil {
		v.Shared.add(seg)
	}
	return nil
}

// populate backs every unpopulated page of [lo, hi) in v, extending the
// preceding segment's run in place when it can.
func (as *AddressSpace) populate(v *VMA, lo, hi uint64) error {
	if v.File != nil {
		return nil // the file's own pages, which the stub faults in itself
	}
	for _, g := range v.gaps(lo, hi) {
		pages := (g[1] - g[0]) / PageSize
		if prev := lwkabi.Clip(v.Segs, g[0]-PageSize, g[0]); len(prev) == 1 && g[0] > v.Start {
			next := prev[0].Off/PageSize + 1
			if as.alloc.AllocAt(next, pages) {
				if err := as.mapRun(v, g[0], Run{next, pages}); err != nil {
					return err
				}
				continue
			}
		}
		runs, err := as.alloc.Alloc(pages)
		if err != nil {
			return unix.ENOMEM
		}
		va := g[0]
		for i, run := range runs {
			if err := as.mapRun(v, va, run); err != nil {
				for _, r := range runs[i+1:] {
					as.alloc.FreeRun(r)
				}
				return err
			}
			va += run.Pages * PageSize
		}
	}
	return nil
}

// Populate makes sure every page of [lo, hi) that lies in a VMA is backed,
// e.g. before a pointer argument is handed to Linux, which returns EFAULT
// rather than faulting on a page the stub has not mapped.
func (as *AddressSpace) Populate(lo, hi uint64) error {
	return as.back(lo, hi, false)
}

// back is Populate; with write, it also unshares the pages of [lo, hi)
// that a fork shares (the LWK is about to write there).
func (as *AddressSpace) back(lo, hi uint64, write bool) error {
	as.lock()
	defer as.unlock()
	lo, hi = lo&^(PageSize-1), pageUp(hi)
	for _, v := range as.VMAs {
		a, b := max(lo, v.Start), min(hi, v.End)
		if a >= b {
			continue
		}
		if write && forkShared(v) {
			if err := as.unshare(v); err != nil {
				return err
			}
		}
		if err := as.populate(v, a, b); err != nil {
			return err
		}
	}
	return nil
}

// FaultResult says how a fault was resolved.
type FaultResult int

const (
	FaultHandled FaultResult = iota
	FaultMapErr              // no VMA: SIGSEGV with SEGV_MAPERR
	FaultAccErr              // VMA forbids the access: SEGV_ACCERR
	// FaultPopulated: the page is backed and mapped already. Either the
	// access is one its VMA forbids (a write to a read-only page), or a
	// thread on another CPU populated it between the fault and its
	// handling (both fault in one fault-around block): the caller retries
	// the access once before it takes the fault as SEGV_ACCERR.
	FaultPopulated
	FaultOOM // no partition memory left: SIGSEGV (McKernel behaviour)
	// FaultFile: the fault is Linux's, in a shared file mapping (an access
	// the mapping forbids, or SIGBUS past the file's end): the app takes
	// the signal as the stub took it.
	FaultFile
)

// Fault serves a demand fault at addr, populating a fault-around block.
func (as *AddressSpace) Fault(addr uint64) FaultResult {
	as.lock()
	defer as.unlock()
	i := as.find(addr)
	if i < 0 {
		return FaultMapErr
	}
	v := as.VMAs[i]
	page := addr &^ (PageSize - 1)
	if v.File != nil {
		return FaultFile
	}
	if v.Prot == unix.PROT_NONE {
		return FaultAccErr
	}
	if len(lwkabi.Clip(v.Segs, page, page+PageSize)) > 0 {
		return FaultPopulated
	}
	block := as.Layout.FaultAround * PageSize
	lo := max(v.Start, page&^(block-1))
	hi := min(v.End, lo+block)
	if err := as.populate(v, lo, hi); err != nil {
		// Fall back to the single page before giving up.
		if as.populate(v, page, page+PageSize) != nil {
			return FaultOOM
		}
	}
	as.Faults++
	return FaultHandled
}

// Unmap removes [addr, addr+length).
func (as *AddressSpace) Unmap(addr, length uint64) error {
	if addr%PageSize != 0 || length == 0 {
		return unix.EINVAL
	}
	as.lock()
	defer as.unlock()
	if as.pinnedIn(addr, addr+pageUp(length)) {
		return unix.EINVAL
	}
	return as.removeRange(addr, addr+pageUp(length))
}

// Protect changes the protection of [addr, addr+length), which must be
// fully mapped (ENOMEM otherwise, as Linux).
func (as *AddressSpace) Protect(addr, length uint64, prot int) error {
	if addr%PageSize != 0 {
		return unix.EINVAL
	}
	as.lock()
	defer as.unlock()
	hi := addr + pageUp(length)
	for at := addr; at < hi; {
		i := as.find(at)
		if i < 0 {
			return unix.ENOMEM
		}
		at = as.VMAs[i].End
	}
	for i := as.find(addr); prot&unix.PROT_WRITE != 0 && i >= 0 && i < len(as.VMAs) && as.VMAs[i].Start < hi; i++ {
		if f := as.VMAs[i].File; f != nil && !f.Writable {
			return unix.EACCES // a shared mapping of a file open read-only
		}
	}
	as.splitAt(addr)
	as.splitAt(hi)
	if prot&unix.PROT_WRITE != 0 {
		if err := as.unshareRange(addr, hi); err != nil {
			return err
		}
	}
	for _, v := range as.VMAs {
		if v.Start >= addr && v.End <= hi {
			v.Prot = prot
			v.Wrote = v.Wrote || prot&unix.PROT_WRITE != 0
			if v.File != nil {
				if err := as.mapper.Protect(v.Start, v.End-v.Start, prot); err != nil {
					return err
				}
				continue
			}
			for _, s := range v.Segs {
				if err := as.mapper.Protect(s.VA, s.Len, prot); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DontNeed frees the pages of [addr, addr+length) (MADV_DONTNEED): the next
// access demand-faults a zeroed page.
func (as *AddressSpace) DontNeed(addr, length uint64) error {
	if addr%PageSize != 0 {
		return unix.EINVAL
	}
	as.lock()
	defer as.unlock()
	hi := addr + pageUp(length)
	for _, v := range as.VMAs {
		a, b := max(addr, v.Start), min(hi, v.End)
		if a >= b || v.Shared != nil || v.File != nil || v.Pinned {
			continue // shared memory keeps its contents, as Linux's shmem
		}
		dropped := lwkabi.Clip(v.Segs, a, b)
		if len(dropped) == 0 {
			continue
		}
		v.Segs = append(lwkabi.Clip(v.Segs, v.Start, a), lwkabi.Clip(v.Segs, b, v.End)...)
		as.freeSegs(dropped)
		if err := as.mapper.Unmap(a, b-a); err != nil {
			return err
		}
	}
	return nil
}

// SetBrk places the program break at start (exec time).
func (as *AddressSpace) SetBrk(start uint64) {
	as.lock()
	as.BrkStart, as.Brk = pageUp(start), pageUp(start)
	as.unlock()
}

// SetBrkTo implements brk(2): it returns the new break, or the old one when
// the request cannot be met.
func (as *AddressSpace) SetBrkTo(want uint64) uint64 {
	as.lock()
	defer as.unlock()
	if want < as.BrkStart {
		return as.Brk
	}
	var heap *VMA
	if i := as.find(as.BrkStart); i >= 0 && as.VMAs[i].Kind == KindHeap {
		heap = as.VMAs[i]
	}
	end := as.BrkStart
	if heap != nil {
		end = heap.End
	}
	if want <= end {
		if want < as.Brk {
			// Linux hands out zeroed memory when the break grows again.
			as.zero(heap, want, as.Brk)
		}
		as.Brk = want
		return want
	}
	step := as.Layout.HeapExtend
	newEnd := (want + step - 1) / step * step
	if !as.free(end, newEnd) {
		newEnd = pageUp(want)
		if !as.free(end, newEnd) {
			return as.Brk
		}
	}
	if heap == nil {
		heap = &VMA{Start: as.BrkStart, End: as.BrkStart, Prot: unix.PROT_READ | unix.PROT_WRITE, Kind: KindHeap, Wrote: true}
		as.insert(heap)
	}
	heap.End = newEnd
	if err := as.populate(heap, end, newEnd); err != nil {
		heap.End = end
		if heap.Start == heap.End {
			as.drop(heap)
		}
		return as.Brk
	}
	as.Brk = want
	return want
}

// zero clears the populated bytes of [lo, hi) in v through the direct map.
func (as *AddressSpace) zero(v *VMA, lo, hi uint64) {
	for _, s := range lwkabi.Clip(v.Segs, lo, hi) {
		clear(as.direct[s.Off : s.Off+s.Len])
	}
}

// Remap implements mremap(2) for anonymous memory. Moving keeps the
// partition pages: only the virtual placement changes, nothing is copied.
func (as *AddressSpace) Remap(old, oldLen, newLen uint64, mayMove bool) (uint64, error) {
	if old%PageSize != 0 || newLen == 0 {
		return 0, unix.EINVAL
	}
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	as.lock()
	defer as.unlock()
	i := as.find(old)
	if i < 0 || as.VMAs[i].End < old+oldLen {
		return 0, unix.EFAULT
	}
	if as.VMAs[i].Pinned {
		return 0, unix.EINVAL
	}
	if newLen <= oldLen {
		if newLen < oldLen {
			if err := as.removeRange(old+newLen, old+oldLen); err != nil {
				return 0, err
			}
		}
		return old, nil
	}
	v := as.VMAs[i]
	if v.End == old+oldLen && as.free(v.End, old+newLen) {
		end := v.End
		v.End = old + newLen
		if err := as.populate(v, end, v.End); err != nil {
			v.End = end
			return 0, unix.ENOMEM
		}
		return old, nil
	}
	if !mayMove {
		return 0, unix.ENOMEM
	}
	to, ok := as.gap(newLen)
	if !ok {
		return 0, unix.ENOMEM
	}
	as.splitAt(old)
	as.splitAt(old + oldLen)
	i = as.find(old)
	m := as.VMAs[i]
	as.VMAs = append(as.VMAs[:i], as.VMAs[i+1:]...)
	if err := as.mapper.Unmap(old, oldLen); err != nil {
		return 0, err
	}
	segs := m.Segs
	m.Start, m.End, m.Segs = to, to+newLen, nil
	as.insert(m)
	for _, s := range segs {
		s.VA = s.VA - old + to
		if err := as.mapper.Map(s.VA, s.Len, s.Off, m.Prot); err != nil {
			return 0, err
		}
		m.addSeg(s)
	}
	if err := as.populate(m, to+oldLen, to+newLen); err != nil {
		return 0, unix.ENOMEM
	}
	return to, nil
}

// Translate returns the partition offset backing va, if populated.
func (as *AddressSpace) Translate(va uint64) (off uint64, v VMA, ok bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	i := as.find(va)
	if i < 0 {
		return 0, VMA{}, false
	}
	v = *as.VMAs[i]
	off, ok = lwkabi.Translate(v.Segs, va)
	return off, v, ok
}

// Reset empties the address space for a new image (execve): every mapping
// goes, in the stub and the mirror too.
func (as *AddressSpace) Reset() error {
	as.lock()
	defer as.unlock()
	as.BrkStart, as.Brk = 0, 0
	return as.removeRange(as.Layout.Min, as.Layout.Max)
}

// Release frees every page of the address space (process teardown).
func (as *AddressSpace) Release() {
	as.lock()
	defer as.unlock()
	for _, v := range as.VMAs {
		as.dropPages(v)
	}
	as.VMAs = nil
}

// ReadOnly reports whether a VMA overlapping [lo, hi) forbids writes: a
// system call that Linux executes for the app must not write there (it
// would through mcexec's writable mirror), but fail with EFAULT as Linux.
func (as *AddressSpace) ReadOnly(lo, hi uint64) bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	for i := max(as.find(lo), 0); i < len(as.VMAs) && as.VMAs[i].Start < hi; i++ {
		if v := as.VMAs[i]; v.End > lo && v.Prot&unix.PROT_WRITE == 0 {
			return true
		}
	}
	return false
}

// FindFree returns the start of a free range of length bytes (top-down).
func (as *AddressSpace) FindFree(length uint64) (uint64, bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.gap(pageUp(length))
}

// IsFree reports whether no mapping overlaps [addr, addr+length).
func (as *AddressSpace) IsFree(addr, length uint64) bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.free(addr, addr+pageUp(length))
}
