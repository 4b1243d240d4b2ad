// Package signal builds and unwinds x86-64 Linux signal frames on the app
// stack: the kernel's struct rt_sigframe (return address = sa_restorer,
// ucontext with the saved general registers, signal mask and alternate
// stack, siginfo) with the XSAVE area below it, 64-byte aligned, as Linux
// lays them out, so that glibc, Go's runtime and handlers that inspect or
// edit the context (longjmp, Go's async preemption) work unmodified.
package signal
