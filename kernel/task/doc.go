// Package task holds the LWK's processes and threads as plain data. App
// threads are LWK objects, not Linux threads: a Thread keeps the registers
// its stub last stopped with, its LWK CPU, its state, the syscall it is in
// and its per-syscall counters (McKernel's profile), local and offloaded
// time kept apart.
//
// Records a reader outside the daemon may decode (mcps, mcinspect, dumps)
// carry a sequence counter that is odd while the record changes.
package task
