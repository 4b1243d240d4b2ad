package lwk

import (
	"errors"
	"fmt"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// Translation is where an LWK virtual address lives: mcinspect --vtop.
type Translation struct {
	PID       int      `json:"pid"`
	VA        uint64   `json:"va"`
	VMA       VMA      `json:"vma"`
	Populated bool     `json:"populated"`
	Offset    uint64   `json:"partition_offset,omitempty"`
	Node      int      `json:"node"` // -1 when unpopulated or outside every node
	Segment   *Segment `json:"segment,omitempty"`
}

// Process returns process pid.
func (s *Snapshot) Process(pid int) (*Process, error) {
	for i := range s.Procs {
		if s.Procs[i].PID == pid {
			return &s.Procs[i], nil
		}
	}
	return nil, fmt.Errorf("no LWK process %d in %s", pid, s.Source)
}

// Translate walks p's page table for va (read with What.VMAs).
func (s *Snapshot) Translate(p *Process, va uint64) (Translation, error) {
	if p.MMChanging {
		return Translation{}, fmt.Errorf("pid %d: address space (changing)", p.PID)
	}
	for _, v := range p.VMAs {
		if va < v.Start || va >= v.End {
			continue
		}
		tr := Translation{PID: p.PID, VA: va, VMA: v, Node: -1}
		tr.VMA.Segs = nil
		if seg, ok := lwkabi.Lookup(v.Segs, va); ok {
			tr.Populated, tr.Segment, tr.Offset = true, &seg, seg.Off+(va-seg.VA)
			tr.Node = s.Alloc.NodeOf(tr.Offset)
		}
		return tr, nil
	}
	return Translation{}, notMapped(p.PID, va)
}

// NodeOf returns the NUMA node of a partition offset, or -1.
func (a Alloc) NodeOf(off uint64) int {
	page := off / lwkabi.PageSize
	for _, n := range a.Nodes {
		if page >= n.Start && page < n.Start+n.Pages {
			return n.Node
		}
	}
	return -1
}

// ErrNotMapped says an address is in no VMA of its process.
var ErrNotMapped = errors.New("not mapped")

// notMapped says that va is in no VMA of process pid.
func notMapped(pid int, va uint64) error {
	return fmt.Errorf("pid %d: %#x is %w", pid, va, ErrNotMapped)
}
