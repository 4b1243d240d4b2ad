// Package capture takes a kernel dump of an LWK instance (ihkosctl N dump,
// McKernel's): the daemon's memory, read from outside through
// /proc/PID/mem, so that a running, SIGSTOPped or wedged daemon is dumped
// alike and never stopped for it, and at level 0 the partition too. The
// kernel's records give the dump its kmsg and each LWK thread's
// registers (inspect/lwk, over the live memory); a daemon whose records
// cannot be read is dumped without them. The apps' open files are their
// mcexecs' descriptors, read from /proc/PID/fd and fdinfo (OpenFiles,
// which mccrash's files also uses live). Only populated pages are read
// (/proc/PID/pagemap), and written as package dumpfile lays them out.
//
// On a terminal a progress bar (github.com/schollz/progressbar, a
// well-kept one: rates, sizes and a redraw that fits the terminal) shows
// the bytes read; without one capture is quiet.
package capture
