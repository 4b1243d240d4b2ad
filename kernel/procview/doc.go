// Package procview renders LWK state in the formats of Linux's /proc and
// /sys files, for the LWK's views of them (McKernel's mcoverlayfs): what
// an app reads from /proc/self/maps, /proc/<pid>/stat and status, or
// /sys/devices/system/node/node0/meminfo describes the LWK process and
// partition, not mcexec or the host.
//
// The functions are pure: they take plain snapshots (Process, Task,
// Mapping) that the kernel fills, and return file contents byte for byte
// as Linux lays them out (proc(5)), so that libcs, runtimes and tools that
// parse these files work unchanged.
package procview
