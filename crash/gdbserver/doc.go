// Package gdbserver serves an LWK instance to gdb over the remote serial
// protocol, read-only, as McKernel's eclair does: a kernel dump (package
// dumpfile) or the live daemon, through one snapshot of the object model
// (inspect/lwk) read when the session starts.
//
// Every LWK thread of every process is a gdb thread (id its LWK tid, name
// its comm, core its LWK CPU, with qXfer:threads:read), with the
// registers the kernel last saved for it (its user registers and XSAVE
// area, Thread.Regs and Thread.FPState; for a dump, the user registers it
// recorded, UseRecorded). gdb starts in the thread that got a signal (one
// is pending), or else in one current on its CPU. Memory is read through
// the page table of the process of the thread gdb selected (Hg,
// lwk.AppMemory), so that switching threads switches address spaces.
// The target description
// (qXfer:features:read:target.xml) is gdbserver's for x86-64 GNU/Linux
// with AVX, numbered as gdbserver numbers it: core, sse, linux
// (orig_rax), segments (fs_base and gs_base, the feature gdb takes them
// from) and avx (the upper halves of the YMM registers; gdb builds $ymmN),
// and avx512 (xmm16-31, k0-7, the upper parts of the ZMM registers) where
// the threads' XSAVE areas say they cover it (XCR0 in the area, as gdb
// reads it of a core file), at Intel's or AMD's offsets as the area's
// length says.
//
// info sharedlibrary comes from qXfer:libraries-svr4:read, the dynamic
// linker's link_map list read from the app's memory as gdbserver reads
// it, qXfer:auxv:read gives gdb the load address of a PIE, and
// qXfer:exec-file the executable, if gdb was given none. monitor ps, log
// and kmem print as mcps and mcinspect do (inspect/report).
//
// Nothing is written or resumed: such packets (M, X, G, P, Z, c, s,
// vCont;...) get an E.errtext reply, and vCont? lists no action that
// resumes. gdb shows the text of some of those replies and not of others
// (to m it takes nothing but Enn, and says "Cannot access memory at
// address ..."), so the reason of a refusal, or of a read of mapped
// memory that failed (a level 24 dump holds no app pages), is also
// written once to Server.Warn, which eclair --stdio leaves on gdb's
// stderr.
//
// No library is used: Go's implementations of the protocol are clients
// (Delve's gdbserial), and a read-only server answers a few dozen
// packets. The framing, the packets and whole sessions are fuzzed
// (FuzzDecodeFrame, FuzzHandle, FuzzServe).
package gdbserver
