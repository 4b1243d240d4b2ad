package platform

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Regs is an app thread's user register file, in the x86-64 layout of
// Linux's user_regs_struct (what ptrace, NT_PRSTATUS and the signal
// frame's general registers use).
type Regs = unix.PtraceRegs

// Platform starts the host contexts that app code runs in.
type Platform interface {
	// NewContext starts a context with an empty app window, pinned to
	// host CPU hostCPU and driven from the calling OS thread, which must
	// be locked to it (runtime.LockOSThread).
	NewContext(hostCPU int) (Context, error)
	// Close releases what the platform holds once no context is left.
	Close() error
}

// Context is where the app threads of one LWK process execute on one LWK
// CPU: a host CPU context with its address space. The threads of a
// process placed on other CPUs run in contexts made by NewThread, which
// share that address space.
type Context interface {
	AddressSpace
	FPU

	// HostTID names the context on the host (the stub thread's tid), for
	// messages and for reading the host's view of it (/proc/TID/maps).
	HostTID() int
	// VDSO is where the host's vDSO is mapped, handed to the app as
	// AT_SYSINFO_EHDR; every context of a process has it at one address.
	VDSO() uint64
	// InitialRegs are the context's registers at its start: a new app
	// thread starts from them, so that its segment selectors are right.
	InitialRegs() Regs

	// Run loads regs, runs the thread until it traps, and saves the
	// registers it stopped with back into regs.
	Run(regs *Regs) (Stop, error)
	// Interrupt makes a running context stop soon (a StopSignal with
	// SIGSTOP), so that its CPU regains control: a pending signal, a kill,
	// a time slice's end. Any thread may call it.
	Interrupt()

	// NewThread makes a context sharing this one's address space for
	// another host CPU; it serves only after Attach on that CPU's thread.
	NewThread(hostCPU int) (Context, error)
	// Attached reports whether the context may be used from its CPU.
	Attached() bool
	// Attach makes the calling OS thread the context's driver.
	Attach() error

	// Wipe readies the context of an ended process for the next one: its
	// app window is emptied before anything runs in it, at the latest by
	// the next address-space change. FinishWipe empties it now.
	Wipe() error
	FinishWipe() error
	// Alive reports whether the context is still there, as far as its
	// driver has seen.
	Alive() bool
	// Kill ends the context; any thread may call it. Release waits until
	// it is gone and frees what it held; release a process's other
	// contexts before its first.
	Kill()
	Release()
}

// AddressSpace changes the host address space a context runs in. App
// memory is partition memory: every mapping is of partition bytes
// [Off, Off+Len) at VA.
type AddressSpace interface {
	// Map maps one range; populate fills its page table entries so that
	// the app takes no fault on first touch.
	Map(va, length, off uint64, prot int, populate bool) error
	// MapAll maps every range, unpopulated, in as few host round trips
	// as the backend can (a fork's whole address space).
	MapAll(ms []Mapping) error
	Unmap(va, length uint64) error
	Protect(va, length uint64, prot int) error
	// MapFile maps bytes [off, off+length) of the daemon's open file fd
	// at va, MAP_SHARED: the app's shared file mappings are Linux's pages
	// of the file, not partition memory.
	MapFile(va, length uint64, fd int, off uint64, prot int) error
	// AttachSysV attaches System V shared memory segment shmid at va,
	// read-only unless prot has PROT_WRITE.
	AttachSysV(va uint64, shmid int, prot int) error
}

// Mapping is one range of partition memory mapped into an app window.
type Mapping struct {
	VA, Len, Off uint64
	Prot         int
}

// FPU moves the FPU/vector state (the XSAVE area) of app threads in and
// out of a context.
type FPU interface {
	// InitialFP is the FPU state of a fresh process.
	InitialFP() []byte
	// SwitchFP makes the next Run give the context the state load, after
	// saving the state it holds now into *save (nil: nobody's).
	SwitchFP(save *[]byte, load []byte)
	// SaveFP reads the state the context holds (or the one its next Run
	// loads) into buf and returns the used part.
	SaveFP(buf []byte) ([]byte, error)
}

// StopKind says why Run returned.
type StopKind int

const (
	StopSyscall StopKind = iota // the thread made a system call; it was not executed
	StopSignal                  // a fault, an Interrupt or a host signal: Signal says which
	StopExited                  // the context is gone: Detail says how
)

// Stop is why a thread stopped.
type Stop struct {
	Kind   StopKind
	Signal syscall.Signal
	Code   int32  // si_code
	Addr   uint64 // si_addr of a fault
	// Detail describes a StopExited for messages (the host's wait status).
	Detail string
}
