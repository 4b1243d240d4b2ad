// Package lwkabi holds the layout facts the kernel and its outside readers
// share: the page size, what the values of a thread's state and a VMA's
// kind mean (with ps's letter and the names mcinspect shows), and the
// page table's shape, a VMA's sorted linear segments, with the
// translation of a virtual address to a partition offset over them.
//
// The kernel (kernel/mm, kernel/task) keeps these types in its records
// under the same field names, and inspect/ decodes those records from
// the daemon's memory (ARCHITECTURE.md §3): both import this package, so
// that a fact is written once and a reader outside the daemon (mcps,
// mcinspect, a core writer, a dump analyser) means by a value what the
// kernel means. It depends on nothing but the standard library, so that
// any reader can import it without ptrace or DWARF.
package lwkabi
