// Package procview is the LWK's view of /proc and /sys (McKernel's
// mcoverlayfs): what an app reads of /proc/self, /proc/<pid>,
// /sys/devices/system/cpu, /sys/devices/system/node and
// /sys/bus/event_source/devices describes the LWK process, partition and
// events, not mcexec or the host.
//
// The views are files in the instance's view directory (Make, at boot).
// The syscall layer asks Resolve for the file standing for a path an
// offloaded call names, and hands mcexec that path instead of the app's;
// Resolve renders the file from LWK state first. Files are replaced
// atomically, read-only, environ and auxv for the owner only, as on Linux.
//
//   - views.go: the view directory's life (Make, Forget, Remove) and
//     Instance, what the package reads of the kernel: it takes plain
//     records (the process table, the allocator) and two functions, so
//     that it need not import the kernel.
//   - resolve.go: which paths are views (self, thread-self, LWK pids and
//     tids, task/ directories); the rest stays Linux's.
//   - render.go: the /proc/<pid> entries and how they are written.
//   - snapshot.go: a process's state gathered for its files.
//   - sys.go: /sys/devices/system/cpu and node, made at boot, and the
//     nodes' meminfo, refreshed when read.
//   - pmu.go: /sys/bus/event_source/devices, the host's PMUs and the
//     LWK's dynamic PMU lwk, made at boot.
//   - procformat.go, sysformat.go: the file formats. Pure functions of
//     plain snapshots (Process, Task, Mapping), byte for byte as Linux lays
//     the files out (proc(5)), so that libcs, runtimes and tools that
//     parse them work unchanged.
package procview
