// Package gencore writes ELF core files of LWK processes: the one core
// writer, used when a process dies of a signal that dumps core and for
// cores taken on demand (mcgcore). gdb, Delve and eu-readelf read its
// files as they read a core that Linux wrote, because it writes what
// Linux's binfmt_elf writes, in the same order:
//
//   - a PT_NOTE segment with, for the first thread (the one that took the
//     signal, gdb's thread 1), NT_PRSTATUS, then the process's
//     NT_PRPSINFO, NT_SIGINFO, NT_AUXV and NT_FILE, then the thread's
//     NT_FPREGSET and NT_X86_XSTATE; for each other thread its
//     NT_PRSTATUS, NT_FPREGSET and NT_X86_XSTATE; last NT_X86_XSAVE_LAYOUT
//     (Linux 6.12), this CPU's offsets of the XSAVE features;
//   - one PT_LOAD per memory area, page aligned, whose bytes are the
//     area's populated pages; pages never populated are holes in the file
//     (zeros when the output cannot seek, such as a core_pattern pipe).
//
// Which areas have their bytes in the core is coredump_filter's decision
// (Filter, as Linux's vma_dump_size). A size limit (RLIMIT_CORE) cuts the
// file as Linux does: what was written up to the limit stays valid.
//
// The package knows nothing of the kernel: the caller describes the
// process (Core) from its own records, a live daemon's or a dump's, and
// hands the pages as byte slices (for the daemon, slices of its direct map
// of the partition, so nothing is copied). Pattern expands
// /proc/sys/kernel/core_pattern.
package gencore
