// Package platform is the interface between the LWK and the host mechanism
// that executes app code (ARCHITECTURE.md §2; gVisor's platform idea): the
// kernel asks a Context to run an app thread until it traps and learns why
// (a system call, a fault, a host signal, the context's end), and asks it
// to change the host address space the thread runs in. Everything the
// kernel knows of threads, memory and scheduling stays in the kernel; a
// backend knows only how to execute.
//
// Today's backend is kernel/platform/ptrace: stub processes traced with
// PTRACE_SYSEMU, one tracer per LWK CPU. A second one (an in-process
// seccomp/SIGSYS fast path, or KVM) implements the same interfaces; the
// kernel is given the backend at boot (cmd/mckernel chooses it) and never
// imports one.
//
// The rule every backend states for its contexts: which OS thread may call
// which method. For ptrace, all requests for a context come from the
// tracer's OS thread (the LWK CPU's own goroutine, locked), except
// Interrupt and Kill, which any thread may call.
package platform
