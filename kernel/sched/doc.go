// Package sched is the LWK's scheduler state, McKernel style: per-CPU,
// round-robin, cooperative and tick-less run queues. A thread runs until it
// blocks (futex, sleep), yields or exits, or until the end of a syscall
// that woke a thread of its CPU (McKernel's wake-up sets
// CPU_FLAG_NEED_RESCHED: Queue.Resched); sleepers with a deadline are kept
// per CPU, and an idle CPU polls briefly (idle.go, as Linux's guest halt
// polling) and then sleeps in the kernel until the earliest deadline or a
// kick.
//
// The futex table (futex.go) is keyed by partition offset, so private and
// shared futexes of processes mapping the same memory meet.
package sched
