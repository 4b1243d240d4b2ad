// Package dumpfile is the on-disk format of an LWK kernel dump (ihkosctl
// N dump) and its reader, which is one more inspect Memory beside the live
// daemon and a gcore of it.
//
// A dump is an ELF core, so that readelf and gdb recognise it:
//
//   - a PT_NOTE segment with the daemon's NT_PRPSINFO, NT_AUXV and NT_FILE
//     (as gencore writes them: readers find the daemon's binary and its
//     load bias by them), and notes named "GOMCK": the dump's header
//     (format version, instance, level, the daemon's build id, time, why
//     it was taken), the kmsg ring as text, each LWK thread's registers,
//     the apps' open files (NTFiles, JSON; dumps before it lack it and
//     say so by Dump.HasFiles), and the index of the memory blocks;
//   - one PT_LOAD per range of the daemon's memory, with its virtual
//     address and, for the partition, its offset in the partition as the
//     physical address. Their bytes are not stored plainly (p_filesz 0:
//     to other tools the memory was left out) but in
//   - one PT_GOMCK_BLOCKS segment: each range cut in blocks of BlockSize,
//     each zstd-compressed (github.com/klauspost/compress, a well-kept
//     pure-Go zstd), or omitted when all zero, as makedumpfile filters
//     zero pages; the index note says where each block lies.
//
// The reader checks everything it reads against the file: a truncated,
// corrupt or foreign file is refused with an error that names the offset
// and what was expected there, and never panics (FuzzOpen).
//
// Levels, as McKernel's ihkosctl dump -d: Level0 holds the whole
// partition with the daemon's memory; Level24 only the daemon's memory,
// where the kernel keeps all its records (page tables, processes,
// threads, kmsg, stats: plain Go data), without free pages or app pages.
package dumpfile
