// Package syscalls is the LWK's system call table: the split between calls
// the LWK handles itself (memory, process and thread management, ids, time,
// limits, signals: McKernel's performance-sensitive set) and everything else,
// which is offloaded to the app's mcexec over its IKC channel.
//
// One file per family: mm.go, ids.go, info.go, time.go, signal.go,
// process.go; offload.go is the offload path. Every call is counted and
// timed per thread, local and offloaded apart (McKernel's profile).
package syscalls
