// Package command is mccrash: the crash utility's commands over an LWK
// kernel dump (ihkosctl N dump) or the live instance, as crash works on a
// vmcore or on /proc/kcore.
//
// Every command reads through inspect/, the one memory and DWARF layer of
// mcps and mcinspect: the daemon's memory (inspect.Open, a dump or the
// live daemon), the object model (inspect/lwk: snapshots, the app's memory
// through its page table, signal and wait details), Go expressions
// (inspect/eval, as mcinspect --print) and type layouts (inspect/layout).
// A dump is read once; live, each command reads the daemon again, so that
// it shows the instance as it is.
//
// One file per command family: ps.go (ps, set), log.go (log, kmem, sys),
// vm.go, memory.go (rd), symbols.go (sym, and the symbol tables), app.go
// (an app's executable and shared objects), dis.go, bt.go, types.go
// (struct, p), files.go, sig.go, help.go.
//
// Choices where crash has no LWK counterpart:
//   - The kernel binary of a dump is inspect's choice, the one of the
//     build the dump records: the executable it names, or else the
//     mckernel beside mccrash (-k another, which must be of that build).
//   - A context is an LWK thread (set PID|TID); rd -u, dis, sym and bt
//     read its process. At start it is the thread current on the lowest
//     LWK CPU, or else the first thread of the first process.
//   - Addresses and symbols name either the context app or the daemon
//     (the LWK kernel, crash's vmlinux). An address inside one of the
//     app's VMAs is the app's; any other is the daemon's. A symbol is
//     looked up in the app's ELF first, then in the daemon's.
//   - TASK is the thread record's address in the daemon, MM the address
//     space record's; the page table is the VMAs' segments, so vm shows
//     no PGD.
//   - ST is crash's RU/IN/ST/ZO; a thread waiting for an offloaded call
//     sleeps interruptibly (IN), bt says which wait it is.
//   - bt unwinds the app's user stack from the registers the kernel saved
//     at the thread's last trap, by the call frame information of the
//     app's ELF (.eh_frame, or .debug_frame of Go programs, parsed with
//     Delve's pkg/dwarf/frame), falling back to frame pointers where no
//     FDE covers a PC; frames are named from the ELF symbol table and
//     file:line from its DWARF line table. Shared objects are found as
//     gdb finds them, by the dynamic linker's link map (DT_DEBUG,
//     r_debug) in the app's memory, and named from their dynamic symbols
//     when stripped; a level 24 dump lacks that memory, so there frames
//     in them are unnamed. A thread running app code has
//     the registers of its last trap, which bt says. At level 24 the
//     app's stack is not in the dump: bt shows the frame the registers
//     give and why it stops there.
//   - dis without COUNT disassembles a whole function named by its
//     symbol, one instruction at an address.
//   - Errors of a command go to stderr ("mccrash: CMD: ...") in turn with
//     the output, and the session goes on.
//
// dis uses Capstone (github.com/knightsc/gapstone over Debian's
// libcapstone), the disassembler the issue names, in AT&T syntax as
// crash's (gdb's) output.
package command
