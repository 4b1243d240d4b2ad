// Package kernel is the LWK daemon: one OS instance (McKernel's mcos<N>)
// that owns a partition of CPUs and memory, its processes and threads, and
// serves the control socket.
//
// Kernel state is reachable from the package variable Instance as plain
// data (ARCHITECTURE.md §3): Instance.CPUs[i].Current, Instance.Procs,
// Instance.Alloc, Instance.Kmsg and Instance.Stats are what inspect/
// decodes with DWARF from outside the daemon. Build the daemon with DWARF
// (no -s -w).
//
// Each LWK CPU is a goroutine locked to an OS thread pinned to its host
// CPU; it runs the app threads placed on it in the host contexts of the
// execution platform it was booted with (kernel/platform; the ptrace stubs
// today, chosen by cmd/mckernel) and handles their system calls and
// faults. Scheduling is McKernel's: cooperative and tick-less; a thread
// waiting for an offloaded call gives its CPU to others. New threads go to
// the least loaded CPU, and a process has one host context per CPU its
// threads use, sharing one address space; a thread whose affinity excludes
// its CPU migrates when that CPU next picks it. A thread parked in an
// offloaded call is watched by its CPU itself (the call's IKC slot). An
// idle CPU polls for work briefly and then sleeps on a futex word of its
// own and those slots (sched/idle.go). The
// daemon's GOMAXPROCS counts the LWK CPUs and the Linux CPUs, so that a
// CPU goroutine never holds the P that the control server needs.
//
// The tools above the kernel join it through Hooks (context switch, thread
// exit, fatal signal, panic), which cmd/mckernel gives to Boot: kernel/
// never imports them. Counters live in kernel/stats (a Linux perf event
// of an app's is counted on its stub threads by kernel/stubcount, read
// as each thread is loaded and taken off: cpu.go's setCurrent), the
// syscall table in
// kernel/syscalls/sysno, the /proc and /sys views (McKernel's
// mcoverlayfs) in kernel/procview, process and thread records in
// kernel/task.
//
// Files, one concept each (gVisor's task_*.go):
//
//	instance.go        the OS instance: Config, Boot, Shutdown
//	cpu.go             the LWK CPU: its loop, spare contexts, placement
//	hooks.go           where the tools above join the kernel
//	control.go         the control socket: exec, attach, status, shutdown
//	control_session.go child proxies' connections, kept across forks
//	mirror.go          address-space changes to the host context and mcexec's mirror
//	views.go           making the /proc and /sys views, resolving paths
//	task_start.go      a new process: its context, image and stack
//	task_run.go        running a thread: resume, syscalls, faults
//	task_clone.go      threads: clone, placement, migration
//	task_block.go      blocking and waking: sleeps, futexes, parked offloads
//	task_fork.go       fork and vfork
//	task_exec.go       execve in place
//	task_exit.go       a thread's and a process's end
//	task_wait.go       the process tree: wait4, waitid, orphans
//	task_signals.go    sending, queueing and delivering signals
//	task_jobctl.go     job control: stop and continue
//	task_timers.go     ITIMER_REAL
//	task_partition.go  partitioned execution (mcexec -n): CPU shares by local rank
//
// Job control stops and continues whole processes as Linux does, reports
// it to the parent (wait, SIGCHLD) and stops the process's mcexec along
// with it, so that a shell sees the job stopped. Known gap: SIGSTOP sent to
// mcexec from Linux cannot be caught and stops mcexec only; the app runs on
// until it offloads a call, which waits for mcexec.
package kernel
