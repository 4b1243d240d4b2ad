// Package inspect reads the state of a live or dead LWK daemon from Linux,
// without stopping it (ARCHITECTURE.md §3): mcps and mcinspect are built on
// it.
//
// A Memory is where the daemon's memory comes from: the running daemon
// through process_vm_readv (OpenLive; no ptrace attach, no stop, so a
// daemon that is busy, wedged or SIGSTOPped reads the same), or an ELF core
// of it such as gdb's gcore writes (OpenCore). Open finds the daemon of an
// instance from its run directory (delegator/control), or takes a dump,
// and checks that the kernel binary whose DWARF describes the memory is the
// one that runs or ran: a build id mismatch is refused, since every offset
// would be wrong.
//
// The layers above are sub-packages, one job each: elfinfo (build ids and
// core notes), layout (type layouts from the binary's DWARF, read with
// Delve's godwarf and cached per build id), value (typed reads of Go values
// over a Memory, with sequence-counter retries), lwk (the object model:
// CPUs, processes, threads, memory, kmsg, IKC), report (the mcps table and
// the mcinspect views), eval (any Go expression, with Delve's evaluator)
// and cli (the flags and commands mcps and mcinspect share).
package inspect
