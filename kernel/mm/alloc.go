package mm

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// PageSize is the LWK's page size.
const PageSize = 4096

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
type Allocator struct {
	mu     sync.Mutex
	Seq    uint64 // odd while the allocator is being changed
	Pages  uint64
	Free   uint64
	Runs   []Run // free runs, sorted by Start
	Nodes  []NodeRange
	Allocs uint64 // successful allocations since boot
	Fails  uint64

	// zero clears freed pages so that no process ever sees another's data.
	zero func(off, length uint64)
}

// NewAllocator manages size bytes split into the given node ranges (in
// partition order); zero is called on every run as it is freed.
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

// AllocContig allocates n contiguous pages, best fit.
func (a *Allocator) AllocContig(n uint64) (Run, error) {
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
		return Run{}, fmt.Errorf("%w: no run of %d contiguous pages", ErrNoMemory, n)
	}
	got := Run{a.Runs[best].Start, n}
	a.take(best, got)
	return got, nil
}

// AllocAt allocates exactly the n pages starting at page start, if free;
// growing a VMA this way keeps it one linear host mapping.
func (a *Allocator) AllocAt(start, n uint64) bool {
	a.lock()
	defer a.unlock()
	i := sort.Search(len(a.Runs), func(i int) bool { return a.Runs[i].Start+a.Runs[i].Pages > start })
	if i == len(a.Runs) || a.Runs[i].Start > start || a.Runs[i].Start+a.Runs[i].Pages < start+n {
		return false
	}
	a.take(i, Run{start, n})
	return true
}

// Alloc allocates n pages as few runs as possible; all or nothing.
func (a *Allocator) Alloc(n uint64) ([]Run, error) {
	if r, err := a.AllocContig(n); err == nil {
		return []Run{r}, nil
	}
	a.lock()
	defer a.unlock()
	if a.Free < n {
		a.Fails++
		return nil, fmt.Errorf("%w: %d pages wanted, %d free", ErrNoMemory, n, a.Free)
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
	for _, r := range got {
		a.take(a.find(r.Start), r)
	}
	return got, nil
}

// find returns the index of the free run containing page p.
func (a *Allocator) find(p uint64) int {
	return sort.Search(len(a.Runs), func(i int) bool { return a.Runs[i].Start+a.Runs[i].Pages > p })
}

// take removes r from free run i, which contains it.
func (a *Allocator) take(i int, r Run) {
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

// FreeRun zeroes r and returns it to the free list.
func (a *Allocator) FreeRun(r Run) {
	if r.Pages == 0 {
		return
	}
	if a.zero != nil {
		a.zero(r.Off(), r.Pages*PageSize)
	}
	a.lock()
	defer a.unlock()
	i := sort.Search(len(a.Runs), func(i int) bool { return a.Runs[i].Start >= r.Start })
	if i > 0 && a.Runs[i-1].Start+a.Runs[i-1].Pages > r.Start || i < len(a.Runs) && r.Start+r.Pages > a.Runs[i].Start {
		panic(fmt.Sprintf("mm: double free of pages %d+%d", r.Start, r.Pages))
	}
	a.Runs = append(a.Runs[:i], append([]Run{r}, a.Runs[i:]...)...)
	// Coalesce with neighbours.
	if i+1 < len(a.Runs) && a.Runs[i].Start+a.Runs[i].Pages == a.Runs[i+1].Start {
		a.Runs[i].Pages += a.Runs[i+1].Pages
		a.Runs = append(a.Runs[:i+1], a.Runs[i+2:]...)
	}
	if i > 0 && a.Runs[i-1].Start+a.Runs[i-1].Pages == a.Runs[i].Start {
		a.Runs[i-1].Pages += a.Runs[i].Pages
		a.Runs = append(a.Runs[:i], a.Runs[i+1:]...)
	}
	a.Free += r.Pages
	a.account(r, +1)
}

// Lock and Unlock let a reader take a consistent view of Nodes.
func (a *Allocator) Lock()   { a.mu.Lock() }
func (a *Allocator) Unlock() { a.mu.Unlock() }
