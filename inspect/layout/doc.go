// Package layout extracts, from a Go binary's DWARF, the memory layout of
// the types reachable from a few package variables (kernel.Instance): each
// type's kind, size, fields with offsets, element types; and the
// variables' addresses. It is what inspect/value needs to decode the
// daemon's state from raw memory.
//
// DWARF is read with Delve's pkg/dwarf packages (godwarf.ReadType knows
// Go's encodings of strings, slices, maps, channels and interfaces, and
// op executes location expressions), so that inspect/ and Delve-based
// tools (the --print evaluator) agree on what the DWARF says.
//
// Loading costs some 100 ms (decompressing .debug_info and scanning it for
// the variables); the result, a few hundred types, is cached as JSON per
// build id under $XDG_CACHE_HOME/gomck/inspect (or ~/.cache/...), so that a
// warm mcps starts in a few milliseconds. A build id names one binary, so
// the cache is never stale; an unwritable cache directory only costs time.
package layout
