package task

import (
	"sort"
	"sync"
)

// Table is the instance's process table.
type Table struct {
	mu      sync.Mutex
	Seq     uint64
	Procs   []*Process // sorted by PID
	NextTID int
	// TreeMu guards every process's Parent and Children.
	TreeMu sync.Mutex
}

// FirstTID is where the ids of threads other than a process's first
// begin: above Linux's PID_MAX_LIMIT. A process's pid is its proxy's
// Linux pid, so pids, process groups and sessions mean the same on both
// sides, and thread ids can never collide with them.
const FirstTID = 1 << 22

// NewTable returns an empty table.
func NewTable() *Table { return &Table{NextTID: FirstTID} }

// AllocTID reserves a thread id.
func (tb *Table) AllocTID() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tid := tb.NextTID
	tb.NextTID++
	return tid
}

// Add inserts p.
func (tb *Table) Add(p *Process) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.Seq++
	tb.Procs = append(tb.Procs, p)
	sort.Slice(tb.Procs, func(i, j int) bool { return tb.Procs[i].PID < tb.Procs[j].PID })
	tb.Seq++
}

// Remove deletes p.
func (tb *Table) Remove(p *Process) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.Seq++
	for i, q := range tb.Procs {
		if q == p {
			tb.Procs = append(tb.Procs[:i], tb.Procs[i+1:]...)
			break
		}
	}
	tb.Seq++
}

// Find returns the live process pid, or nil.
func (tb *Table) Find(pid int) *Process {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	i := sort.Search(len(tb.Procs), func(i int) bool { return tb.Procs[i].PID >= pid })
	if i < len(tb.Procs) && tb.Procs[i].PID == pid {
		return tb.Procs[i]
	}
	return nil
}

// List returns the current processes.
func (tb *Table) List() []*Process {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]*Process(nil), tb.Procs...)
}
