// Package api is mcdash's JSON API, version 1, mounted at /api/v1/: what
// the pages show, for scripts. It reads a source.Source only (the live
// Poller or a dump), never kernel state itself. Names are snake_case;
// sizes are bytes and times nanoseconds unless a name says otherwise
// (_s seconds, _kib KiB). v1 only grows: a field renamed or removed, or
// a meaning changed, makes /api/v2/.
//
// Paths (N an instance index, PID an LWK pid):
//
//	GET  instances                       {instances: [Summary], read_only, message}
//	GET  instances/N                     Detail
//	GET  instances/N/processes           {processes: [ProcessSummary]}
//	GET  instances/N/processes/PID       Process
//	GET  instances/N/processes/PID/threads  {threads: [mcps --json rows]}
//	GET  instances/N/kmsg?since=CURSOR   Kmsg
//	GET  instances/N/counters            Counters
//	GET  instances/N/eval?expr=EXPR      EvalResult (only with mcdash -allow-eval)
//	GET  events?rate=HZ                  text/event-stream of Event, HZ 1..10 (default 1)
//	POST instances/N/processes/PID/core  CoreResult (mcgcore)
//	POST instances/N/dump                DumpResult (ihkosctl N dump, level 24)
//	POST instances/N/noise?d=DUR         perf/noise.Report (mcperf noise --json), DUR <= 10s
//
// The fields:
//
//	Summary (instances[], events' instances[])
//	  instance                  index N
//	  status                    RUNNING, HUNGUP, PANIC (ihkosctl N status), DOWN, DUMP
//	  reason                    why not RUNNING, or why nothing was read
//	  at                        when polled (RFC 3339)
//	  daemon_pid                the LWK daemon
//	  cpus[]                    {cpu, host_cpu, tid}: tid 0 is idle
//	  syscalls_local_per_s      calls served by the LWK a second, since the last poll
//	  syscalls_offloaded_per_s  calls offloaded to mcexec a second
//	  mem_total_bytes, mem_used_bytes, mem_free_bytes   the partition's pages
//	  processes, threads        counts
//	Detail: Summary and
//	  boot_time, elapsed_s      (since the previous poll)
//	  cpu_records[]             inspect/lwk.CPU as mcinspect --threads: cpu, host_cpu,
//	                            state, current, switches, idle_ns, syscalls_local,
//	                            syscalls_offloaded, page_faults, runnable[], blocked
//	  memory                    page_size, pages, free_pages, largest_free_run_pages,
//	                            free_runs, allocs, fails, nodes[] {node, start_page,
//	                            pages, free_pages}
//	  stats                     inspect/lwk.Stats: processes_created, threads_created,
//	                            forks, execs, ended_* (threads that ended)
//	  timeline[]                {at, cpus[] {cpu, tid, pid, comm}}: the last polls, oldest first
//	  errors[]                  records that could not be read
//	ProcessSummary
//	  pid, ppid, exe, args[], mcexec_pid, thread_count, rss_bytes, vsz_bytes,
//	  start, state (running, stopped, exited), changing
//	Process: ProcessSummary and
//	  threads[]                 as mcps --json -p PID with every column: cpu, tid, pid,
//	                            ppid, state, rss_kib, vsz_kib, pmem, time_ns,
//	                            syscalls_local, syscalls_offloaded, page_faults,
//	                            context_switches, migrations, syscall, exe, current
//	  vmas[]                    as mcinspect --maps: start, end, perms, flags, offset,
//	                            populated_bytes, segments, name
//	  syscalls[]                the profile, summed over the threads: nr, name,
//	                            local_calls, local_ns, offloaded_calls, offloaded_ns
//	  signals[]                 {tid, pending[] (SIGUSR1...), delivered}
//	Kmsg
//	  text                      the ring's text after the cursor
//	  next                      the cursor for ?since= next time
//	  lost                      text after the cursor was overwritten or cleared
//	Counters
//	  elapsed_s                 of the rates
//	  events[]                  {name, desc, unit, total, per_s}: the LWK events of
//	                            perf.LWKEvents (mcperf list's lwk/NAME/) instance-wide
//	  syscalls[]                per system call: the Syscall fields and
//	                            local_calls_per_s, offloaded_calls_per_s
//	  cpus[]                    {cpu, totals {EVENT: value}, per_s {EVENT: rate}}: the
//	                            events a CPU counts, since boot and a second (a CPU's
//	                            idle_ns has its finished sleeps only; the instance-wide
//	                            one has the sleep in progress too)
//	Event (SSE "event: poll", one per poll at most rate a second)
//	  at, instances[]           Summary
//	CoreResult                  file, size, threads
//	DumpResult                  file, level, size, memory_bytes, stored_bytes, threads,
//	                            elapsed_s, records_error
//	EvalResult                  expr, value (as dlv print shows it), changing
//
// Errors are {"error": "...", "status": N}: 404 an unknown instance, pid
// or path; 400 a malformed number in the path or a bad query value; 405
// a method the path does not take (Allow says which); 403 an action on a
// dump, or refused by web/server; 409 an action on an instance that is
// down; 503 an instance that could not be read. A panic is answered 500
// "internal error", never with a stack trace.
//
// The routing is a table of path patterns rather than net/http's
// ServeMux patterns, whose 404 and 405 answers are plain text.
package api
