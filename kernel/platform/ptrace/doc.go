// Package ptrace is the LWK's execution backend today, a platform.Platform
// (ARCHITECTURE.md §2): app code runs natively in stub processes traced
// with PTRACE_SYSEMU, one tracer per LWK CPU, each a goroutine locked to an
// OS thread pinned to its host CPU.
//
// A stub is a tiny static executable the daemon generates itself (stub.go)
// and loads far outside the app window. It has no code of its own beyond a
// `syscall; int3` gadget the tracer uses to inject system calls (mmap of the
// partition memfd, mprotect, munmap) into the stub's address space. App
// threads are LWK objects: the tracer loads a thread's saved registers into
// the stub, resumes it, and gets control back at every system call, fault or
// signal.
//
// The app threads of a process share its stub, so a thread switch also
// switches the FPU/vector state. The stub does that itself (fpu.go): the
// tracer writes the incoming XSAVE area into a small memfd shared with the
// stub (descriptor FPUAreaFD, mapped next to the image) and resumes the
// thread at a trampoline that XSAVEs the outgoing state and XRSTORs the
// incoming one; PTRACE_SETREGSET would cost about a syscall round trip.
//
// All ptrace requests for a stub must come from its tracer's OS thread, so
// every method of Stub must be called on the CPU's own goroutine (CPU.Do).
package ptrace
