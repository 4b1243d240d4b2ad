// Package value reads Go values of the daemon from raw memory, typed by
// a layout: fields by name, pointers, slices, arrays, strings and
// integers, the shapes ARCHITECTURE.md §3 keeps the kernel state in.
//
// A Reader keeps the first error of a pass of reads, so that a decoder
// reads a whole record and checks once (Reader.Take). Stable reads a record
// guarded by a sequence counter (odd while a writer is inside) and retries
// while it changes under the reader; a record that never settles is
// reported as changing rather than decoded from torn bytes.
//
// Memory may be garbage (a corrupt daemon, a corrupt dump): a Reader
// bounds each length it reads (MaxString, MaxElems), all it reads and
// allocates for values over its life (Budget), and all Stable sleeps
// between tries (Wait), so that a decoder looping over what it reads ends
// soon whatever the bytes; the reader itself follows no pointer on its
// own, so a pointer loop is the decoder's to bound.
//
// It is written for inspect/ rather than taken from Delve's pkg/proc: that
// evaluator needs a target process model (threads, registers, goroutines)
// and loads far more DWARF than a 50 ms mcps can afford.
package value
