// Package stats holds the kernel's counters as plain data: per app thread
// (Thread, in task.Thread.Stats), per LWK CPU (CPU) and per instance
// (Instance). They are the one source of what mcps shows, of the counter
// service's LWK software events and of the dashboard's metrics: inspect/
// decodes them through the daemon's DWARF like any kernel state
// (ARCHITECTURE.md §3).
//
// They are bumped on the kernel's hot paths, so a bump is a plain add by
// the one CPU that owns the record: no locks, no allocation, no system
// calls. A reader outside the daemon may see one counter a bump ahead of
// another, never a torn word. Totals that must only grow across thread
// ends (rates, Prometheus counters) are the live threads' counts plus
// Instance.Ended, into which each thread's counts are folded as it ends.
package stats
