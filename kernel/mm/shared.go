package mm

import (
	"sync"
	"sync/atomic"
)

// Backing holds the pages of a MAP_SHARED anonymous mapping, or of a
// read-only private file mapping shared across fork. Every VMA
// piece that maps them, in the creating process and in the children that
// inherited it, holds a reference; the pages go back to the allocator with
// the last one. A process that unmaps part of the mapping therefore keeps
// that part's pages allocated until the others let go of the mapping too,
// a bounded cost for keeping one owner per page.
//
// MAP_SHARED pages are populated when the mapping is made: demand faults
// in two processes would otherwise back the same page with different
// memory. (For a read-only private file mapping that is harmless: nothing
// writes the page either process backs.)
type Backing struct {
	refs atomic.Int32
	mu   sync.Mutex
	segs []Segment
}

func newBacking() *Backing {
	b := &Backing{}
	b.refs.Store(1)
	return b
}

func (b *Backing) hold() { b.refs.Add(1) }

// add records pages that joined the mapping.
func (b *Backing) add(s Segment) {
	b.mu.Lock()
	b.segs = append(b.segs, s)
	b.mu.Unlock()
}

// release drops one reference and frees the pages with the last.
func (b *Backing) release(a *Allocator) {
	if b.refs.Add(-1) != 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.segs {
		a.FreeRun(Run{Start: s.Off / PageSize, Pages: s.Len / PageSize})
	}
	b.segs = nil
}
