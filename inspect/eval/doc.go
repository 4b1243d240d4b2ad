// Package eval evaluates Go expressions on the package-level state of a Go
// process that keeps running, or of a dump of one: what `mcinspect --print
// 'kernel.Instance.CPUs[1].Current.TID'` shows of the gomck daemon.
//
// Why Delve: its evaluator already has Go's expression semantics on DWARF
// (selectors through pointers, indexing and slicing of strings, arrays,
// slices and maps, type assertions on interfaces, casts, arithmetic,
// comparisons, len and cap) and dlv's value formatting, and it marks what
// it cannot read "(unreadable ...)" instead of failing. Writing our own
// would mean a second, weaker dlv.
//
// How: Delve evaluates on a proc.Target, whose backends (native, gdbserial,
// core) implement proc.ProcessInternal, an interface an outside package
// can implement. memoryProcess is such a backend, modelled on Delve's
// core-file one: a process that never runs, with one synthetic thread of
// zero registers and memory from a Memory. Every operation that would stop,
// resume or write the target returns ErrReadOnly, so evaluation can only
// read. No frame is ever unwound, so locals and function calls are not
// available; package-level variables are, in Delve's syntax
// (package.Var, with unqualified names resolved in package main).
//
// Memory comes from the caller (process_vm_readv on a live daemon, a dump
// file), except the executable's read-only segments, which come from the
// file: dumps omit them and they never change. The executable must be a
// fixed-address one (ET_EXEC, as `go build` makes by default): a PIE's
// load address would have to come from the target.
//
// A live target changes while it is read; a value can be torn across its
// fields. The gomck daemon's mutable records carry a sequence counter
// (ARCHITECTURE.md §3) that callers can evaluate before and after.
package eval
