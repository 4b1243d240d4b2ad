// Package perf holds the Linux perf_event ABI the LWK implements
// (perf_event_open's attr layout, flags, read formats, ioctls), the
// software events it counts, and the per-process table of open events: plain
// data the kernel (kernel/syscalls' perf.go) fills and reads, kept apart so
// that tools can name events and read the table as they read the rest of
// the kernel's state. An event of Linux's (hardware, cache, raw, a host
// PMU's) holds the kernel/stubcount counter that counts it on the stub
// threads; its counts fold in like the LWK's own (Sample.Host). No library: golang.org/x/sys/unix has the numbers but
// not the attr offsets or the names, and the ABI is small and fixed.
package perf
