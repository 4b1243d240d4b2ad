// Package lwk is the object model of a live or dumped LWK instance, read
// from the daemon's memory through its DWARF (inspect/value): CPUs with
// their state, current thread and run queue; processes with their
// threads (state, LWK CPU, registers as last saved, syscall in progress,
// local and offloaded counters), VMAs and page-table segments, and IKC
// channel; the page allocator per NUMA node; the kmsg ring.
//
// Every record the kernel guards with a sequence counter is read with
// value.Reader.Stable: a record that keeps changing (or whose writer was
// stopped inside it, as in a SIGSTOPped daemon or a dump taken at that
// moment) is kept with Changing set and its fields empty, never decoded
// from torn bytes; a thread's counters, which no sequence counter guards
// (kernel/stats), are read all the same, with its TID. Per-syscall counts
// are read when asked (What.Syscalls): the numbers each thread used, in
// one gathered read for all threads. A record that cannot be read (a dangling pointer, an
// implausible length: corrupt memory) is left out and named in
// Snapshot.Errors; the reader's budget (value.DefaultBudget) bounds what
// garbage can make a snapshot read. The field names read here are the
// kernel's (kernel/, kernel/task, kernel/mm, kernel/sched, kernel/kmsg,
// delegator/ikc), all declared in one table (fields.go) that the tests
// resolve against the daemon built from cmd/mckernel: a rename there
// fails them by type and field. What the values mean (thread states, VMA
// kinds, the page table's segments) comes from kernel/lwkabi, the
// kernel's own definitions.
//
// Details are read for one process on demand, beyond a snapshot: its
// signal dispositions and pending signals, and each thread's masks and
// what it waits on (a futex, a child, a deadline, an offloaded call), as
// crash's sig and bt show them.
//
// AppMemory reads an LWK app's virtual memory as the LWK does, through
// the process's page table to the partition pages in the daemon's direct
// map of the partition: an inspect.Memory over the app's addresses, over
// any memory of the daemon (live, a gcore, a dump), with the populated
// ranges listed for a core writer.
package lwk
