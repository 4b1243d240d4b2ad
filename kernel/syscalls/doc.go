// Package syscalls is the LWK's system call dispatcher: the split between
// calls the LWK handles itself (memory, process and thread management,
// futex, signals, scheduling, ids, time, limits: McKernel's
// performance-sensitive set) and everything else, which is offloaded to
// the app's mcexec over its IKC channel.
//
// Which is which is written once, in the table of sysno/calls.go: each
// x86-64 call by number with its name, its kind (local, offloaded,
// prepared then offloaded, refused with an errno) and its family, the file
// here that holds its handler ("mm" is mm.go). To find a call, look it up
// there: a local or prepared call's handler is in its family's file, an
// offloaded one takes offload.go's path, a refused one returns the errno
// the table gives it. Dispatch's array is built from that table; each
// family file's init registers its handlers, and registering one the
// table does not expect panics.
//
// Families: exec.go, fork.go, futex.go, ids.go, info.go, mm.go,
// perf.go (perf_event_open, and read, ioctl and close on its descriptors,
// dup2, dup3 and close_range over them),
// process.go, procview.go (the paths rewritten to the LWK's /proc and /sys
// views), sched.go, signal.go, time.go, timer.go. Every call is counted
// and timed per thread, local and offloaded apart (McKernel's profile);
// prepared calls count as offloaded, since mcexec executes them.
package syscalls
