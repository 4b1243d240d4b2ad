// Package bpf is mcdash's view of the Linux side of the LWK, measured with
// eBPF programs (collect.bpf.c): how long the mcexec proxies take to
// execute the offloaded calls in Linux, and how much time on the LWK's
// host CPUs goes to anything but the LWK. It exports both as Prometheus
// metrics and as the shared model's source.Linux.
//
//	c, err := bpf.Open()             // errors.Is(err, bpf.ErrUnavailable): log it once, run without
//	c.Watch(os, snap)                // each poll: proxies, CPUs, own tasks from the snapshot
//	c.SetProxies(os, pids)           // or by hand: the mcexec processes of instance os
//	c.SetLWK(os, hostCPUs, ownPIDs)  // its LWK CPUs (index: LWK CPU) and tasks (daemon, stubs)
//	reg.MustRegister(c)              // a prometheus.Collector
//	c.Offload(os); c.Interference(os) // source.Linux, for the pages
//	c.Close()
//
// # mck_offload_exec_seconds{os,syscall}
//
// A histogram of the time each offloaded call took in Linux, per syscall.
// An mcexec worker thread makes system calls of its own as well as the
// app's: futex waits on the channel's doorbell and wakes of the LWK side,
// mmap when it replays the mapping log, the Go runtime's. Filtering
// raw_syscalls by the proxies' tgids alone would count them all, and
// leaving out the futex calls would still count the mmaps (and would drop
// app calls of the same numbers, were one ever offloaded). So the
// worker's calls are timed only inside the bracket that mcexec itself
// draws around an app's call: uprobes on the entry of
// mcexec.(*Proxy).execute, which performs the call, and of
// ikc.(*Channel).Complete, which posts its answer (mcexec/proxy.go,
// serveCalls). The execute probe arms the thread with the call's number
// (Go's register ABI passes it in rbx); the first sys_enter of that number
// on the thread starts the clock, its sys_exit stops it and files the
// time; Complete disarms a call that never reached Linux (mcexec refuses
// the app its own descriptors without a system call). The histogram is
// filed under the instance the proxy's tgid maps to (SetProxies). The
// armed call sits in task storage, which goes with the thread. The cost is
// below.
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
// it becomes the instance's (SetLWK).
//
// # Cost
//
// All the programs are BTF tracepoints (tp_btf, and uprobes): no tracefs
// needed, and no kprobes (this host has none). sys_enter and sys_exit run
// on every system call of every task on the host: a native getpid takes
// 178 ns with them against 98 without (bench/RESULTS.md,
// bpf_attach_getpid; `go test -run '^$' -bench Getpid ./web/bpf`), nearly
// all of it the tracepoints' own cost (empty programs cost as much), the
// task-storage lookup of a thread that is not an armed worker adding a
// few ns. So they are attached only while some instance has proxies
// (SetProxies); sched_switch and the interrupt tracepoints, attached all
// along, cost nothing measurable on a getpid loop. An offloaded call pays
// the two uprobes too (a trap each, a few µs) on top of its ~10 µs round
// trip.
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
// bpf_helpers.h headers); the programs need no vmlinux.h: the two fields
// of task_struct they read are relocated against the running kernel's BTF
// (CO-RE).
//
// cilium/ebpf is the library because it is pure Go (no libbpf or cgo in
// mcdash), loads BTF tracepoints and uprobes, and its bpf2go embeds the
// object so the binary stays one static file.
package bpf
