package gencore

import (
	"time"

	"golang.org/x/sys/unix"
)

// Core describes a process to write a core of.
type Core struct {
	Process Process
	// Signal is the signal that ends the process (pr_cursig), 0 for a
	// core taken on demand; SigInfo is its siginfo in the kernel's layout
	// (NT_SIGINFO).
	Signal  int
	SigInfo [128]byte
	// Threads, the one that took the signal first.
	Threads []Thread
	// Auxv is the auxiliary vector's words, AT_NULL pair included.
	Auxv []uint64
	// Areas are the memory areas in address order, one PT_LOAD each.
	Areas []Area
	// Abort, if set, is asked between chunks of the pages: true gives the
	// core up (ErrAborted), as a SIGKILL stops Linux's dumper.
	Abort func() bool
}

// Process is what NT_PRPSINFO tells of the process.
type Process struct {
	PID, PPID, PGID, SID int
	UID, GID             int
	// Name is the executable's base name (comm, pr_fname), Args the
	// command line joined by spaces (pr_psargs); both are cut to fit.
	Name, Args string
	// State is the process's state letter ('R', 'S', ...).
	State byte
	Nice  int
}

// Thread is one thread's state at the signal.
type Thread struct {
	TID  int
	Regs unix.PtraceRegs
	// XState is the thread's XSAVE area as ptrace's NT_X86_XSTATE gives
	// it (XCR0 in the legacy area's software words); its first 512 bytes
	// are the FXSAVE layout of NT_FPREGSET. Nil leaves both notes out.
	XState              []byte
	SigPending, SigHold uint64
	UTime, STime        time.Duration
}

// Area is one memory area (VMA).
type Area struct {
	Start, End uint64
	Prot       int // PROT_* bits
	// File is the mapped file's path and Offset the offset it is mapped
	// at, for NT_FILE; "" for anonymous memory.
	File   string
	Offset uint64
	// Dump is how many bytes from Start the core holds (Filter).
	Dump uint64
	// Pages are the populated runs, in address order and within
	// [Start, End): the bytes the core holds. The rest reads as zeros.
	Pages []Pages
}

// Pages is a run of populated memory at Addr.
type Pages struct {
	Addr  uint64
	Bytes []byte
}
