// Package kernel is the LWK daemon: one OS instance (McKernel's mcos<N>)
// that owns a partition of CPUs and memory, its processes and threads, and
// serves the control socket.
//
// Kernel state is reachable from the package variable Instance as plain
// data (ARCHITECTURE.md §3): Instance.CPUs[i].Current, Instance.Procs,
// Instance.Alloc and Instance.Kmsg are what inspect/ decodes with DWARF from
// outside the daemon. Build the daemon with DWARF (no -s -w).
//
// Each LWK CPU is a goroutine locked to an OS thread pinned to its host CPU;
// it traces the stubs that execute the app threads placed on it and handles
// their system calls and faults (percpu.go). Scheduling is McKernel's:
// cooperative and tick-less; a thread waiting for an offloaded call gives
// its CPU to others. New threads go to the least loaded CPU, and a process
// has one stub thread per CPU its threads use, threads of one stub process
// that share its address space (threads.go, platform.Context.NewThread); a thread
// whose affinity excludes its CPU migrates when that CPU next picks it.
// An idle CPU polls for work briefly and then sleeps on a futex word of its
// own (sched/idle.go). The daemon's GOMAXPROCS counts the LWK CPUs and the
// Linux CPUs (os.go), so that a CPU goroutine never holds the P that the
// control server needs.
//
// What the app reads of /proc and /sys is rendered from LWK state by
// package procview, McKernel's mcoverlayfs; views.go makes the views at
// boot and hands them the paths the app's calls name.
//
// Job control (jobctl.go) stops and continues whole processes as Linux
// does, reports it to the parent (wait, SIGCHLD) and stops the process's
// mcexec along with it, so that a shell sees the job stopped. Known gap:
// SIGSTOP sent to mcexec from Linux cannot be caught and stops mcexec
// only; the app runs on until it offloads a call, which waits for mcexec.
package kernel
