package lwk

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/kernel/lwkabi"
)

// AppMemory is the virtual memory of one LWK process, read from outside
// the daemon as the LWK itself reads it: through the process's page table
// (its VMAs' segments, as the snapshot read them) to the partition pages,
// in the daemon's direct map of the partition. It is an inspect.Memory
// over the app's addresses, whatever holds the daemon's memory: the live
// daemon, a gcore of it, a dump.
//
// The page table is the snapshot's: on a live daemon, the app may have
// mapped or unmapped memory since, and it may be writing the bytes being
// read; read a new snapshot to see the new mappings.
type AppMemory struct {
	PID  int
	VMAs []VMA // the process's, by address
	mem  inspect.Memory
	// direct is the daemon's address of partition offset 0, size the
	// partition's bytes.
	direct, size uint64
}

// NewAppMemory returns the memory of process pid of snap, which must have
// been read with What.VMAs from the daemon memory mem.
func NewAppMemory(mem inspect.Memory, snap *Snapshot, pid int) (*AppMemory, error) {
	p, err := snap.Process(pid)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Changing:
		return nil, fmt.Errorf("pid %d: process record (changing)", pid)
	case p.MMChanging:
		return nil, fmt.Errorf("pid %d: address space (changing)", pid)
	case p.VMAs == nil && p.VSZ > 0:
		return nil, fmt.Errorf("pid %d: the snapshot holds no page table (read it with What.VMAs)", pid)
	case snap.Direct == 0:
		return nil, fmt.Errorf("%s: the daemon does not map the partition (released at shutdown?)", snap.Source)
	}
	// The kernel keeps them sorted; a corrupt dump may not have.
	vmas := slices.SortedFunc(slices.Values(p.VMAs), func(a, b VMA) int { return cmp.Compare(a.Start, b.Start) })
	return &AppMemory{PID: pid, VMAs: vmas, mem: mem, direct: snap.Direct, size: snap.MemTotal}, nil
}

// vma returns the VMA containing va, or nil.
func (m *AppMemory) vma(va uint64) *VMA {
	i, _ := slices.BinarySearchFunc(m.VMAs, va, func(v VMA, va uint64) int {
		if v.End <= va {
			return -1
		}
		return 0
	})
	if i < len(m.VMAs) && m.VMAs[i].Start <= va && va < m.VMAs[i].End {
		return &m.VMAs[i]
	}
	return nil
}

// ReadMemory reads len(buf) bytes at app address addr. A page that is
// mapped but was never populated reads as zeros, as the app would see it
// on its first touch; an address in no VMA is an error naming the pid and
// the address, with n the bytes before it.
func (m *AppMemory) ReadMemory(buf []byte, addr uint64) (int, error) {
	n := 0
	for n < len(buf) {
		at := addr + uint64(n)
		v := m.vma(at)
		if v == nil || at < addr { // past the top of the address space
			return n, notMapped(m.PID, at)
		}
		part := buf[n : n+int(min(v.End-at, uint64(len(buf)-n)))]
		clear(part)
		for _, s := range lwkabi.Clip(v.Segs, at, at+uint64(len(part))) {
			if err := m.readPartition(part[s.VA-at:][:s.Len], s.Off); err != nil {
				return n + int(s.VA-at), fmt.Errorf("pid %d: %#x: %w", m.PID, s.VA, err)
			}
		}
		n += len(part)
	}
	return n, nil
}

// readPartition reads partition bytes from offset off through the
// daemon's direct map.
func (m *AppMemory) readPartition(b []byte, off uint64) error {
	if end := off + uint64(len(b)); end < off || end > m.size {
		return fmt.Errorf("partition offset %#x+%#x is past the partition's %#x bytes (corrupt page table?)", off, len(b), m.size)
	}
	if _, err := m.mem.ReadMemory(b, m.direct+off); err != nil {
		return fmt.Errorf("partition offset %#x: %w", off, err)
	}
	return nil
}

// Range is a run of the app's mapped addresses, [Start, End) of one VMA,
// either all populated (backed by partition pages) or none (a hole that
// reads as zeros).
type Range struct {
	Start     uint64 `json:"start"`
	End       uint64 `json:"end"`
	Populated bool   `json:"populated"`
}

// Ranges lists the mapped addresses in order, each VMA cut where it turns
// populated or not: what a core writer writes, and the holes it leaves.
func (m *AppMemory) Ranges() []Range {
	var out []Range
	for _, v := range m.VMAs {
		first := len(out)
		add := func(start, end uint64, populated bool) {
			if last := len(out) - 1; last >= first && out[last].End == start && out[last].Populated == populated {
				out[last].End = end
				return
			}
			out = append(out, Range{Start: start, End: end, Populated: populated})
		}
		at := v.Start
		for _, s := range lwkabi.Clip(v.Segs, v.Start, v.End) {
			if s.VA > at {
				add(at, s.VA, false)
			}
			add(s.VA, s.VA+s.Len, true)
			at = s.VA + s.Len
		}
		if at < v.End {
			add(at, v.End, false)
		}
	}
	return out
}
