// Package report renders a snapshot of the LWK (inspect/lwk) as text and
// JSON: the ps table of mcps and mcinspect --ps, mcinspect's --maps,
// --vtop, --mem and --read.
//
// The ps table has one row per thread, grouped by LWK CPU, McKernel's
// mcinspect --ps columns (CPU TID PID ST EXE, ">" before the CPU of the
// thread current on it, an "(idle)" row for a CPU running nothing) and
// ps's (PPID RSS VSZ %MEM TIME), plus the LWK's own: syscalls served
// locally and offloaded, and the syscall in progress.
//
// Columns are chosen with a ps -o list ("tid,pid,st,exe", commas or
// spaces, case-insensitive, ps's aliases accepted). RSS and VSZ are KiB as
// in ps; TIME is the time the thread held its CPU, as top's TIME+
// (M:SS.hh), because LWK threads often live for less than a second. A
// record that kept changing while it was read shows "?" and "(changing)".
//
// --maps is /proc/<pid>/maps with the page table beside it (populated
// bytes and segments per VMA); --vtop is crash's vtop for an LWK virtual
// address (VMA, partition offset, NUMA node, protection and flags); --mem
// is the allocator per NUMA node with the largest free run, as
// ihkosctl's status and crash's kmem -i; --read is an app's memory as a
// hex dump, as crash's rd and xxd show it.
package report
