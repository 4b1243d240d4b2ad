// Package bpf is mcdash's view of the Linux side of the LWK, measured with
// eBPF programs (collect.bpf.c): how long the mcexec proxies take to
// execute the offloaded calls in Linux, and how much time on the LWK's
// host CPUs goes to anything but the LWK. It exports both as Prometheus
// metrics and as the shared model's source.Linux.
//
//	c, err := bpf.Open()             // errors.Is(err, bpf.ErrUnavailable): log it once, run without
//	c.Watch(os, snap, offloads)      // each poll: proxies (if offloads), CPUs, own tasks from the snapshot
//	c.SetProxies(os, pids)           // or by hand: the mcexec processes of instance os
//	c.SetLWK(os, hostCPUs, ownPIDs)  // its LWK CPUs (index: LWK CPU) and tasks (daemon, stubs)
//	reg.MustRegister(c)              // a prometheus.Collector
//	c.Offload(os); c.Interference(os) // source.Linux, for the pages
//	c.Close()
//
// # mck_offload_exec_seconds{os,syscall}
//
// A histogram of the time each offloaded call took in Linux, per syscall,
// from the raw_syscalls sys_enter and sys_exit tracepoints of the proxies'
// threads (a hash of tgids, SetProxies). An mcexec worker thread makes
// system calls of its own as well as the app's: futex waits on the
// channel's doorbell and wakes of the LWK side, mmap when it replays the
// mapping log, the Go runtime's; filtering by tgid alone would count them
// all. So a call is counted only inside the window mcexec itself draws
// around an app's call (mcexec/proxy.go serveCalls): a worker's window
// runs from one posted answer to the next, an answer being ikc's Complete,
// a FUTEX_WAKE without the private flag (ikc's futexes are shared, both
// processes map them; the Go runtime's and mcexec's own are private). In
// a window, calls of the numbers the LWK serves itself (ARCHITECTURE.md
// §2: memory, threads, futex, signals, scheduling, ids, time; so the
// mirror's mmaps, the doorbell's futex, the runtime's signals) are the
// worker's; if exactly one other call is left, it was the app's, and its
// time from sys_enter to sys_exit is filed when the answer is posted. A
// window with none is a request mcexec answered itself (a refused
// descriptor, a sync); one with several is mcexec's own work (the
// close-on-exec sweep at an exec, a fork's child proxy): neither is
// filed. A call a signal interrupted and the kernel restarts is one call
// (its two parts' time, less the handler's). The window sits in task
// storage, which goes with the thread.
//
// Uprobes on mcexec's execute and Complete would draw the bracket more
// directly, but a uprobe hit costs about 21 µs on this VM (two per
// offloaded call: 43 µs on a ~10 µs round trip), against about 0.1 µs a
// call for the tracepoints (bench/RESULTS.md). What the window cannot
// tell: an app call of a number the LWK keeps local that it offloads after
// all (none today), and a watch that begins mid-window, which loses that
// one call.
//
// The BPF side keeps log2 buckets of nanoseconds per (instance, syscall),
// in one hash shared by all CPUs and added to atomically (per-CPU copies
// of every histogram would cost memory in proportion to the CPUs). Collect
// turns them into a Prometheus histogram in seconds: cumulative buckets
// with upper bounds 2^10 ns (about 1 µs: all faster calls are counted
// there) to 2^35 ns (about 34 s), then +Inf.
//
// # mck_lwk_cpu_interference_seconds_total{os,cpu,source}
//
// Time on an LWK CPU (cpu is the LWK CPU's number) taken by another Linux
// task (source "task", from sched_switch: a task that is neither idle nor
// one of the instance's own tasks: its daemon, whose tracer threads run
// there, and its stubs, which run the app; the daemon's children count as
// its own, since it starts the stubs, which then run before a poll names
// them), by interrupts ("irq", from
// irq_handler_entry/exit and the local APIC timer's local_timer_entry/exit,
// which on a VM are most of an LWK CPU's interrupts) and by softirqs
// ("softirq", softirq_entry/exit). Each CPU keeps its own record in a
// per-CPU array, written only there, so no atomics; Go reads all CPUs'
// records at once. An interrupt's time is its own and is taken out of
// the task or softirq it interrupted, so the sources do not overlap. A
// task slice still running is counted up to the read (a busy task alone on
// a CPU is never switched out). A host CPU's counters start from zero when
// it becomes the instance's (SetLWK); a task already running there then
// counts from its next switch in.
//
// # Cost
//
// All the programs are BTF tracepoints (tp_btf): no tracefs needed, and
// no kprobes (this host has none). sched_switch and the interrupt ones,
// attached from Open on, cost nothing measurable on a getpid loop.
// sys_enter and sys_exit run on every system call of every task on the
// host, so they are attached only while some instance has proxies
// (SetProxies; none detaches them): then a native getpid takes 167 ns
// against 98 (bench/RESULTS.md, bpf_attach_getpid; `go test -run '^$'
// -bench . ./web/bpf`), nearly all of it the tracepoints' own cost (empty
// programs cost as much). A watched proxy's calls pay about 0.1 µs more
// (the window in task storage). The LWK pays most: each of the app's
// local calls is several host calls of the daemon's ptrace tracer, so the
// LWK getpid loop runs 1.14x slower while its proxy is watched. Offload
// timing is for a look at the offloads, not for always.
//
// # Where BPF is unavailable
//
// Open returns an error wrapping ErrUnavailable that says why in one line:
// not root (loading needs CAP_BPF and CAP_PERFMON), no kernel BTF, a
// lockdown or security module refusing root, a kernel without a feature
// used. mcdash logs it once and runs without the Linux view.
//
// # Regenerating
//
// The compiled object (collect_x86_bpfel.o) and its Go
// (collect_x86_bpfel.go) are committed: building needs no clang. After a
// change to collect.bpf.c, `go generate ./web/bpf` rebuilds them with
// cilium/ebpf's bpf2go, which needs Debian's clang and libbpf-dev (the
// bpf_helpers.h headers); the programs need no vmlinux.h: the three fields
// of task_struct they read are relocated against the running kernel's BTF
// (CO-RE), and so is the kernel pt_regs' si (the futex op).
//
// cilium/ebpf is the library because it is pure Go (no libbpf or cgo in
// mcdash), loads BTF tracepoints and task storage, and its bpf2go embeds the
// object so the binary stays one static file.
package bpf
