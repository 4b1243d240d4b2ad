//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/* The Linux-side collectors of mcdash (package doc.go says what and why).
   Regenerate the Go with `go generate ./web/bpf` (needs clang and
   libbpf-dev). */
#include <linux/bpf.h>
#include <asm/unistd.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Only the fields read, relocated against the kernel's BTF (CO-RE). */
struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

/* --- offload: time mcexec's workers spend in the app's calls --- */

#define HIST_BUCKETS 36 /* log2 of nanoseconds: the last holds >= 2^35 ns */

struct offload_key {
	__u32 os;
	__u32 nr;
};

struct offload_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 buckets[HIST_BUCKETS]; /* [i]: durations in [2^i, 2^(i+1)) ns */
};

/* A proxy thread's calls since the last answer it posted (the window,
   doc.go): how many could be the app's, the first one's number and time
   so far, when a call in flight began, and whether the first one is to be
   restarted (a signal handler interrupted it: the kernel enters it again,
   and the two are one call). */
struct window {
	__u32 calls;
	__u32 nr;
	__u64 ns;
	__u64 start_ns;
	__u32 restart;
};

/* tgid of an mcexec proxy -> its instance. The Go side keeps it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} proxies SEC(".maps");

/* Task storage, which goes with the thread: only proxy threads have one. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct window);
} windows SEC(".maps");

/* Shared by every CPU, added to atomically: per-CPU copies of 300-byte
   histograms would cost memory in proportion to the host's CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct offload_key);
	__type(value, struct offload_hist);
} offload SEC(".maps");

/* The kernel's pt_regs, for the futex op (CO-RE: the ___ flavour is
   matched to struct pt_regs by name). */
struct pt_regs___kernel {
	unsigned long si;
} __attribute__((preserve_access_index));

/* ikc's futexes are shared (both processes map the words): a worker's
   FUTEX_WAKE without the private flag is Complete posting an answer. The
   Go runtime's and mcexec's own futexes are private. */
#define FUTEX_WAKE_SHARED 1

/* Calls the LWK serves itself and so never offloads (ARCHITECTURE.md §2:
   memory, threads, futex, signals, scheduling, ids, time): on a proxy
   thread they are the Go runtime's or mcexec's bookkeeping (the mirror's
   mmaps, the doorbell's futex). */
static __always_inline int lwk_local(long nr)
{
	switch (nr) {
	case __NR_mmap: case __NR_mprotect: case __NR_munmap: case __NR_madvise:
	case __NR_rt_sigaction: case __NR_rt_sigprocmask: case __NR_rt_sigreturn:
	case __NR_sigaltstack: case __NR_tgkill: case __NR_getpid: case __NR_gettid:
	case __NR_sched_yield: case __NR_sched_getaffinity: case __NR_nanosleep:
	case __NR_clock_nanosleep: case __NR_clone: case __NR_clone3:
	case __NR_exit: case __NR_exit_group: case __NR_futex:
		return 1;
	}
	return 0;
}

static __always_inline __u32 log2_ns(__u64 v)
{
	__u32 r = 0, s;
	s = (v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r;
}

static __always_inline void file_call(__u32 os, __u32 nr, __u64 d)
{
	struct offload_key k = {.os = os, .nr = nr};
	struct offload_hist *h = bpf_map_lookup_elem(&offload, &k);
	if (!h) {
		static const struct offload_hist zero;
		bpf_map_update_elem(&offload, &k, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&offload, &k);
		if (!h)
			return;
	}
	__u32 b = log2_ns(d);
	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, d);
	__sync_fetch_and_add(&h->buckets[b], 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(offload_enter, struct pt_regs *regs, long nr)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *os = bpf_map_lookup_elem(&proxies, &tgid);
	if (!os)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (nr == __NR_futex) {
		struct pt_regs___kernel *r = (void *)regs;
		if (r->si != FUTEX_WAKE_SHARED)
			return 0;
		/* An answer posted: the window's one call was the app's. None
		   (a call mcexec refused or answered itself) files nothing;
		   several (mcexec's own work for an exec or a fork) neither. */
		struct window *w = bpf_task_storage_get(&windows, task, 0, 0);
		if (w) {
			if (w->calls == 1 && !w->start_ns)
				file_call(*os, w->nr, w->ns);
			w->calls = 0;
			w->start_ns = 0;
			w->restart = 0;
		}
		return 0;
	}
	if (lwk_local(nr))
		return 0;
	struct window *w = bpf_task_storage_get(&windows, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w)
		return 0;
	if (w->calls == 1 && w->restart && (nr == w->nr || nr == __NR_restart_syscall)) {
		w->restart = 0;
		w->start_ns = bpf_ktime_get_ns();
	} else if (++w->calls == 1) {
		w->nr = nr;
		w->ns = 0;
		w->start_ns = bpf_ktime_get_ns();
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(offload_exit, struct pt_regs *regs, long ret)
{
	struct window *w = bpf_task_storage_get(&windows, bpf_get_current_task_btf(), 0, 0);
	if (!w || !w->start_ns)
		return 0;
	w->ns += bpf_ktime_get_ns() - w->start_ns;
	w->start_ns = 0;
	/* ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK */
	w->restart = ret <= -512 && ret >= -516;
	return 0;
}

/* --- interference: time on LWK CPUs not spent by the LWK --- */

/* One per CPU. Times are bpf_ktime_get_ns (CLOCK_MONOTONIC). A slice's
   *_mark is the CPU's nested time (irq, softirq) when it began: what
   interrupted it is charged to the interrupt, not to it too. */
struct cpu_time {
	__u64 task_ns, irq_ns, softirq_ns; /* totals */
	__u64 task_start, task_mark;       /* a foreign task runs (0: none) */
	__u64 irq_start;
	__u64 softirq_start, softirq_mark;
};

/* host CPU -> 1 + the instance it is an LWK CPU of (0: a Linux CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} lwk_cpus SEC(".maps");

/* tgid of the LWK's own tasks (the daemon, its stubs) -> 1 + instance.
   The daemon's children are its too (see lwk_task). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} lwk_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_time);
} cpu_times SEC(".maps");

/* The CPU's record if it is an LWK CPU (then *os is 1 + its instance). */
static __always_inline struct cpu_time *lwk_cpu(__u32 *os)
{
	__u32 cpu = bpf_get_smp_processor_id(), zero = 0;
	__u32 *v = bpf_map_lookup_elem(&lwk_cpus, &cpu);
	struct cpu_time *t = bpf_map_lookup_elem(&cpu_times, &zero);
	if (!v || !t)
		return 0;
	*os = *v;
	return t;
}

/* Whether task p is instance os's (1 + its number): one of its tasks, or
   a child of one. The daemon starts the stubs itself, so they are the
   LWK's from their first run, before the Go side learns their pids. */
static __always_inline int lwk_task(struct task_struct *p, __u32 os)
{
	__u32 tgid = p->tgid;
	__u32 *owner = bpf_map_lookup_elem(&lwk_tasks, &tgid);
	if (owner && *owner == os)
		return 1;
	tgid = p->real_parent->tgid;
	owner = bpf_map_lookup_elem(&lwk_tasks, &tgid);
	return owner && *owner == os;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(interference_switch, _Bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 os;
	struct cpu_time *t = lwk_cpu(&os);
	if (!t)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (t->task_start) {
		__u64 nested = t->irq_ns + t->softirq_ns - t->task_mark;
		__u64 d = now - t->task_start;
		t->task_ns += d > nested ? d - nested : 0;
		t->task_start = 0;
	}
	if (!os)
		return 0;
	if (next->pid == 0 || lwk_task(next, os))
		return 0; /* idle, or the LWK itself */
	t->task_start = now;
	t->task_mark = t->irq_ns + t->softirq_ns;
	return 0;
}

static __always_inline void irq_enter(void)
{
	__u32 os;
	struct cpu_time *t = lwk_cpu(&os);
	if (t && os)
		t->irq_start = bpf_ktime_get_ns();
}

static __always_inline void irq_exit(void)
{
	__u32 os;
	struct cpu_time *t = lwk_cpu(&os);
	if (!t || !t->irq_start)
		return;
	t->irq_ns += bpf_ktime_get_ns() - t->irq_start;
	t->irq_start = 0;
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(interference_irq_entry) { irq_enter(); return 0; }

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(interference_irq_exit) { irq_exit(); return 0; }

/* The local APIC timer does not pass through irq_handler_*: on a VM it
   is most of an LWK CPU's interrupts. */
SEC("tp_btf/local_timer_entry")
int BPF_PROG(interference_timer_entry) { irq_enter(); return 0; }

SEC("tp_btf/local_timer_exit")
int BPF_PROG(interference_timer_exit) { irq_exit(); return 0; }

SEC("tp_btf/softirq_entry")
int BPF_PROG(interference_softirq_entry)
{
	__u32 os;
	struct cpu_time *t = lwk_cpu(&os);
	if (!t || !os)
		return 0;
	t->softirq_start = bpf_ktime_get_ns();
	t->softirq_mark = t->irq_ns;
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(interference_softirq_exit)
{
	__u32 os;
	struct cpu_time *t = lwk_cpu(&os);
	if (!t || !t->softirq_start)
		return 0;
	__u64 nested = t->irq_ns - t->softirq_mark;
	__u64 d = bpf_ktime_get_ns() - t->softirq_start;
	t->softirq_ns += d > nested ? d - nested : 0;
	t->softirq_start = 0;
	return 0;
}
