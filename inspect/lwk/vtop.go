package lwk

import "fmt"

// PageSize is the LWK's page size (kernel/mm).
const PageSize = 4096

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
		for _, seg := range v.Segs {
			if va >= seg.VA && va < seg.VA+seg.Len {
				seg := seg
				tr.Populated, tr.Segment, tr.Offset = true, &seg, seg.Off+(va-seg.VA)
				tr.Node = s.Alloc.NodeOf(tr.Offset)
			}
		}
		return tr, nil
	}
	return Translation{}, fmt.Errorf("pid %d: %#x is not mapped", p.PID, va)
}

// NodeOf returns the NUMA node of a partition offset, or -1.
func (a Alloc) NodeOf(off uint64) int {
	page := off / PageSize
	for _, n := range a.Nodes {
		if page >= n.Start && page < n.Start+n.Pages {
			return n.Node
		}
	}
	return -1
}
