package proc

import (
	"sort"
	"sync"
)

// Table is the instance's process table.
type Table struct {
	mu      sync.Mutex
	Seq     uint64
	Procs   []*Process // sorted by PID
	NextPID int
	NextTID int
	Created uint64 // processes created since boot
}

// NewTable starts pids at first (LWK pids are the LWK's own).
func NewTable(first int) *Table { return &Table{NextPID: first, NextTID: first} }

// Alloc reserves a pid.
func (tb *Table) Alloc() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	pid := tb.NextPID
	tb.NextPID++
	return pid
}

// Add inserts p.
func (tb *Table) Add(p *Process) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.Seq++
	tb.Procs = append(tb.Procs, p)
	sort.Slice(tb.Procs, func(i, j int) bool { return tb.Procs[i].PID < tb.Procs[j].PID })
	tb.Created++
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

// List returns the current processes.
func (tb *Table) List() []*Process {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]*Process(nil), tb.Procs...)
}
