// Package kmsg is the LWK's kernel message ring, read by `ihkosctl N kmsg`
// (McKernel's kmsg buffer). It is a fixed array of bytes written as lines,
// so a reader outside the daemon (mcinspect, a dump) can decode it with DWARF
// alone: Head counts all bytes ever written, the last min(Head, len(Buf))
// bytes are the log. Seq is odd while a write is in progress.
package kmsg
