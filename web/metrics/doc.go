// Package metrics exposes LWK instances to Prometheus: a
// prometheus.Collector (github.com/prometheus/client_golang, whose
// registry and promhttp encode the text and protobuf formats: no
// hand-written exposition) over a web/source.Source, read at each scrape:
// NewCollector(src) returns the *Collector (not the interface), so that a
// caller can register it and keep its concrete type. cmd/mcdash serves it
// at /metrics.
//
// Names have the mck_ prefix, values are in base units (seconds, bytes)
// and counters end in _total. Labels: os (the instance's index), cpu (the
// LWK CPU), node (the NUMA node), pid, syscall (the system call's name)
// and kind (local: served by the LWK, offload: offloaded to mcexec). The
// help texts of the LWK's events are perf.LWKEvents' (perf/lwk.go), the
// one table of them.
//
// The metrics, by what they describe (each with os):
//
//   - the instance: mck_instance_up, mck_instance_status{status} (one-hot
//     over IHK's status names, DOWN and DUMP), mck_instance_boot_time_seconds;
//     mck_processes, mck_threads (alive), mck_processes_created_total,
//     mck_threads_created_total, mck_forks_total, mck_execs_total;
//     mck_run_seconds_total, mck_migrations_total, mck_futex_waits_total,
//     mck_signals_delivered_total;
//   - each LWK CPU {cpu}: mck_cpu_info{host_cpu}, mck_cpu_runnable_threads,
//     mck_cpu_idle_seconds_total, mck_cpu_context_switches_total,
//     mck_cpu_page_faults_total, mck_cpu_syscalls_total{kind};
//   - memory: mck_memory_bytes{node}, mck_memory_free_bytes{node},
//     mck_memory_largest_free_run_bytes, mck_memory_allocations_total,
//     mck_memory_allocation_failures_total;
//   - each system call number used since boot {syscall,kind}:
//     mck_syscalls_total, mck_syscall_seconds_total;
//   - each live process {pid}: mck_process_info{exe},
//     mck_process_start_time_seconds, mck_process_threads,
//     mck_process_resident_memory_bytes, mck_process_virtual_memory_bytes,
//     mck_process_run_seconds_total, mck_process_syscalls_total{kind},
//     mck_process_syscall_seconds_total{kind}.
//
// Cardinality is bounded by what the instance has: a fixed set per
// instance, seven series per LWK CPU and two per NUMA node, four per
// system call number called since boot (at most the table's size, a few
// dozen in practice: series appear for the numbers used, not the
// table's), and ten per live process; no series per thread, so a
// process of 1,000 threads costs what a process of one does. A record
// read as changing (its fields empty) is left out of that scrape rather
// than exported as zeros.
//
// Counters only grow, as Prometheus's rate() needs, though what a read
// shows can step back: instance-wide totals are the live threads' counts
// plus the ended threads' (lwk.Stats.Ended*, summed by
// perf/stat.InstanceTotals, the source's Instance.Totals), but a thread
// that ends after the read of the ended sums and before that of its
// process (lwk.Read reads them in that order), or a record read as
// changing, makes one read short. So the
// collector keeps each counter series' highest value since the
// instance's boot and never exports less. A process's own counters are
// the sum of its threads, and the kernel keeps no ended sums per process:
// the collector folds the last counts it saw of each thread that is gone
// into its process's series (what a thread counted after the previous
// scrape, before its end, is lost to that process's series, never to the
// instance's). That state is forgotten for series and processes unseen
// for ten scrapes (staleScrapes) and when the instance reboots (a reboot is a
// counter reset, as Prometheus expects). An LWK CPU's idle time counts
// its current sleep up to the scrape (stat.CPUIdleNs), not to the read:
// if the CPU woke between the two, its series stays flat until its
// counted idle time catches up.
package metrics
