package mm

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// PageSize is the LWK's page size (package lwkabi, shared with inspect/).
const PageSize = lwkabi.PageSize

// ErrNoMemory is returned when the partition cannot satisfy a request.
var ErrNoMemory = errors.New("mm: partition memory exhausted")

// Run is a range of partition pages [Start, Start+Pages), in page units.
type Run struct {
	Start uint64
	Pages uint64
}

// Off is the run's byte offset in the partition.
func (r Run) Off() uint64 { return r.Start * PageSize }

// NodeRange says which partition pages belong to a NUMA node.
type NodeRange struct {
	Node  int
	Start uint64 // first page
	Pages uint64
	Free  uint64
}

// Allocator hands out partition pages. Free runs are kept sorted and
// coalesced; allocation prefers one contiguous run (best fit) so that a VMA
// becomes a single host mapping.
//
// Freed pages are cleared when they are handed out again, not when they
// are freed, as Linux does: then only the pages that a new owner does not
// overwrite entirely need it (AllocOverwritten). A forking loop's children
// give back pages that the next fork's copy overwrites: clearing them at
// the child's end was a tenth of the LWK CPU's time, on the path of the
// parent's wait.
type Allocator struct {
	mu     sync.Mutex
	Seq    uint64 // odd while the allocator is being changed
	Pages  uint64
	Free   uint64
	Runs   []Run // free runs, sorted by Start
	Dirty  []Run // the free pages not cleared since freed, sorted by Start
	Nodes  []NodeRange
	Allocs uint64 // successful allocations since boot
	Fails  uint64

	// zero clears pages so that no process ever sees another's data.
	zero func(off, length uint64)
}

// NewAllocator manages size bytes split into the given node ranges (in
// partition order), all clear; zero is called on freed pages as they are
// handed out again.
func NewAllocator(size uint64, nodes []NodeRange, zero func(off, length uint64)) *Allocator {
	pages := size / PageSize
	if len(nodes) == 0 {
		nodes = []NodeRange{{Node: 0, Start: 0, Pages: pages}}
	}
	a := &Allocator{Pages: pages, Free: pages, zero: zero}
	for _, n := range nodes {
		n.Free = n.Pages
		a.Nodes = append(a.Nodes, n)
	}
	a.Runs = []Run{{0, pages}}
	return a
}

func (a *Allocator) lock() {
	a.mu.Lock()
	atomic.AddUint64(&a.Seq, 1)
}

func (a *Allocator) unlock() {
	atomic.AddUint64(&a.Seq, 1)
	a.mu.Unlock()
}

// FreePages returns the number of free pages.
func (a *Allocator) FreePages() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Free
}

// Largest returns the length of the largest free run, in pages.
func (a *Allocator) Largest() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var m uint64
	for _, r := range a.Runs {
		m = max(m, r.Pages)
	}
	return m
}

// AllocContig allocates n contiguous, cleared pages, best fit.
func (a *Allocator) AllocContig(n uint64) (Run, error) {
	r, dirty, err := a.allocContig(n)
	a.clear(dirty)
	return r, err
}

// allocContig is AllocContig, leaving the pages as they are; dirty are
// those of them not cleared.
func (a *Allocator) allocContig(n uint64) (Run, []Run, error) {
	a.lock()
	defer a.unlock()
	best := -1
	for i, r := range a.Runs {
		if r.Pages >= n && (best < 0 || r.Pages < a.Runs[best].Pages) {
			best = i
			if r.Pages == n {
				break
			}
		}
	}
	if best < 0 || n == 0 {
		a.Fails++
		return Run{}, nil, fmt.Errorf("%w: no run of %d contiguous pages", ErrNoMemory, n)
	}
	got := Run{a.Runs[best].Start, n}
	return got, a.take(best, got), nil
}

// AllocAt allocates exactly the n pages starting at page start, if free,
// cleared; growing a VMA this way keeps it one linear host mapping.
func (a *Allocator) AllocAt(start, n uint64) bool {
	a.lock()
	i := sort.Search(len(a.Runs), func(i int) bool { return a.Runs[i].Start+a.Runs[i].Pages > start })
	if i == len(a.Runs) || a.Runs[i].Start > start || a.Runs[i].Start+a.Runs[i].Pages < start+n {
		a.unlock()
		return false
	}
	dirty := a.take(i, Run{start, n})
	a.unlock()
	a.clear(dirty)
	return true
}

// Alloc allocates n cleared pages as few runs as possible; all or nothing.
func (a *Allocator) Alloc(n uint64) ([]Run, error) {
	runs, dirty, err := a.alloc(n)
	a.clear(dirty)
	return runs, err
}

// AllocOverwritten is Alloc for pages that the caller overwrites entirely
// before anyone sees them (a fork's copy): they are not cleared.
func (a *Allocator) AllocOverwritten(n uint64) ([]Run, error) {
	runs, _, err := a.alloc(n)
	return runs, err
}

// alloc is Alloc, leaving the pages as they are; dirty are those of them
// not cleared.
func (a *Allocator) alloc(n uint64) ([]Run, []Run, error) {
	if r, dirty, err := a.allocContig(n); err == nil {
		return []Run{r}, dirty, nil
	}
	a.lock()
	defer a.unlock()
	if a.Free < n {
		a.Fails++
		return nil, nil, fmt.Errorf("%w: %d pages wanted, %d free", ErrNoMemory, n, a.Free)
	}
	// Largest runs first: fewest host mappings.
	idx := make([]int, len(a.Runs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(x, y int) bool { return a.Runs[idx[x]].Pages > a.Runs[idx[y]].Pages })
	var got []Run
	for _, i := range idx {
		r := a.Runs[i]
		take := min(r.Pages, n)
		got = append(got, Run{r.Start, take})
		if n -= take; n == 0 {
			break
		}
	}
	var dirty []Run
	for _, r := range got {
		dirty = append(dirty, a.take(a.find(r.Start), r)...)
	}
	return got, dirty, nil
}

// find returns the index of the free run containing page p.
func (a *Allocator) find(p uint64) int {
	return sort.Search(len(a.Runs), func(i int) bool { return a.Runs[i].Start+a.Runs[i].Pages > p })
}

// take removes r from free run i, which contains it, and returns the parts
// of r not cleared since freed.
func (a *Allocator) take(i int, r Run) []Run {
	f := a.Runs[i]
	var repl []Run
	if r.Start > f.Start {
		repl = append(repl, Run{f.Start, r.Start - f.Start})
	}
	if end := r.Start + r.Pages; end < f.Start+f.Pages {
		repl = append(repl, Run{end, f.Start + f.Pages - end})
	}
	a.Runs = append(a.Runs[:i], append(repl, a.Runs[i+1:]...)...)
	a.Free -= r.Pages
	a.Allocs++
	a.account(r, -1)
	return a.undirty(r)
}

// undirty removes r from Dirty and returns the parts of it that were there.
func (a *Allocator) undirty(r Run) []Run {
	end := r.Start + r.Pages
	i := sort.Search(len(a.Dirty), func(i int) bool { return a.Dirty[i].Start+a.Dirty[i].Pages > r.Start })
	var got, keep []Run
	j := i
	for ; j < len(a.Dirty) && a.Dirty[j].Start < end; j++ {
		d := a.Dirty[j]
		lo, hi := max(d.Start, r.Start), min(d.Start+d.Pages, end)
		got = append(got, Run{lo, hi - lo})
		if d.Start < lo {
			keep = append(keep, Run{d.Start, lo - d.Start})
		}
		if hi < d.Start+d.Pages {
			keep = append(keep, Run{hi, d.Start + d.Pages - hi})
		}
	}
	if j > i {
		a.Dirty = append(a.Dirty[:i], append(keep, a.Dirty[j:]...)...)
	}
	return got
}

// clear clears runs taken dirty; they are the caller's now, so no lock is
// held meanwhile.
func (a *Allocator) clear(runs []Run) {
	if a.zero == nil {
		return
	}
	for _, r := range runs {
		a.zero(r.Off(), r.Pages*PageSize)
	}
}

// account adjusts per-node free counts for r.
func (a *Allocator) account(r Run, sign int) {
	for i := range a.Nodes {
		n := &a.Nodes[i]
		lo, hi := max(r.Start, n.Start), min(r.Start+r.Pages, n.Start+n.Pages)
		if lo < hi {
			if sign < 0 {
				n.Free -= hi - lo
			} else {
				n.Free += hi - lo
			}
		}
	}
}

// FreeRun returns r to the free list, to be cleared when handed out again.
func (a *Allocator) FreeRun(r Run) {
	if r.Pages == 0 {
		return
	}
	a.lock()
	defer a.unlock()
	if !insertRun(&a.Runs, r) {
		panic(fmt.Sprintf("mm: double free of pages %d+%d", r.Start, r.Pages))
	}
	insertRun(&a.Dirty, r)
	a.Free += r.Pages
	a.account(r, +1)
}

// insertRun inserts r into the sorted, coalesced list *runs, merging it
// with its neighbours; false means that r overlaps a run of the list.
func insertRun(runs *[]Run, r Run) bool {
	l := *runs
	i := sort.Search(len(l), func(i int) bool { return l[i].Start >= r.Start })
	if i > 0 && l[i-1].Start+l[i-1].Pages > r.Start || i < len(l) && r.Start+r.Pages > l[i].Start {
		return false
	}
	l = append(l[:i], append([]Run{r}, l[i:]...)...)
	if i+1 < len(l) && l[i].Start+l[i].Pages == l[i+1].Start {
		l[i].Pages += l[i+1].Pages
		l = append(l[:i+1], l[i+2:]...)
	}
	if i > 0 && l[i-1].Start+l[i-1].Pages == l[i].Start {
		l[i-1].Pages += l[i].Pages
		l = append(l[:i], l[i+1:]...)
	}
	*runs = l
	return true
}

// Lock and Unlock let a reader take a consistent view of Nodes.
func (a *Allocator) Lock()   { a.mu.Lock() }
func (a *Allocator) Unlock() { a.mu.Unlock() }
