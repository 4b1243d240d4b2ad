package kernel

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/task"
	"github.com/gomck/gomck/perf/sde"
)

// mapCounters gives a new image of p its read-only counters page (package
// perf/sde), counting t from now on, and returns the auxv entry that
// tells the library where it is.
func mapCounters(p *task.Process, t *task.Thread) ([2]uint64, error) {
	addr, err := p.MM.Map(mm.MapRequest{Length: mm.PageSize, Prot: unix.PROT_READ,
		Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, Kind: mm.KindAnon, Name: sde.PageName, Populate: true, Pinned: true})
	if err != nil {
		return [2]uint64{}, fmt.Errorf("counters page: %w", err)
	}
	if err := attachCounters(p, addr); err != nil {
		return [2]uint64{}, err
	}
	sde.Mark(&t.Stats, &t.Published)
	return [2]uint64{sde.AuxCounters, addr}, nil
}

// attachCounters makes the page at addr p's counters page, counting from
// zero.
func attachCounters(p *task.Process, addr uint64) error {
	off, _, ok := p.MM.Translate(addr)
	if !ok {
		return fmt.Errorf("counters page at %#x: not populated", addr)
	}
	_, direct := p.MM.Image()
	page := (*sde.Page)(unsafe.Pointer(&direct[off]))
	*page = sde.Page{}
	page.Init()
	p.Counters = page
	return nil
}

// forkCounters gives a forked child (its memory copied) its own counters
// page, where its copy of the parent's lies: a child counts from zero.
func forkCounters(child *task.Process) error {
	if addr := child.CountersAddr(); addr != 0 {
		return attachCounters(child, addr)
	}
	return nil
}

// publishCounters adds what t counted since its last call to its
// process's counters page: a few loads and, for what changed, atomic adds.
// Until the image reads the page it does nothing; a thread's first call
// after that marks what it has counted so far, so that the page counts
// from then on (PAPI's sde events read deltas).
func publishCounters(t *task.Thread) {
	p := t.Proc
	if p.Counters == nil || !p.CountersRead.Load() {
		return
	}
	if !t.Publishing {
		sde.Mark(&t.Stats, &t.Published)
		t.Publishing = true
		return
	}
	p.Counters.Publish(&t.Stats, &t.Published)
}
