// Package mm is the LWK's memory management: a page allocator over the
// partition memfd and per-process address spaces (VMAs and the page table
// that maps app virtual pages to partition offsets).
//
// Following McKernel, anonymous memory is pre-mapped and populated at mmap
// time when a contiguous run of partition pages is free, so the app takes no
// page faults; only when the partition is fragmented does a VMA stay empty and
// get filled on demand, a fault-around block at a time. Inside a VMA the
// mapping from virtual to partition addresses is kept linear per segment, and
// each segment is one host mapping in the stub process, never one per page
// (a 256 MiB partition has more pages than vm.max_map_count).
//
// The page table is the list of segments of each VMA: plain slices and
// integers, so that inspect/ can walk it with DWARF from outside the daemon.
// Host side effects (mapping into the stub, the mcexec mirror log) go
// through the Mapper interface; mm itself never touches ptrace.
package mm
