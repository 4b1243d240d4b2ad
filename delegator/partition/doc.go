// Package partition reserves the resources of one OS instance on the host:
// the CPUs the lightweight kernel (LWK) runs on and the memory it owns.
// It is gomck's counterpart of IHK's resource reservation (ihkconfig
// reserve cpu/mem, as driven by mcreboot -c CPUS -m SIZE[@NODE],...).
//
// It does one job and nothing else: it neither boots nor runs the LWK, it
// only hands the kernel a set of CPUs and a block of "physical memory".
//
// # CPUs
//
// ParseCPUList and FormatCPUList speak the Linux cpulist syntax ("0-3,6")
// used by sysfs, taskset and mcreboot -c. ValidateCPUs rejects CPUs that are
// not online and a request that would leave Linux without a CPU: the LWK
// CPUs are given away, and Linux (which serves every offloaded system call)
// must keep at least one.
//
// Isolate makes the LWK CPUs quiet by moving other Linux tasks off them with
// a cpuset cgroup, which is the closest user-space equivalent of IHK
// offlining the CPUs from Linux. Layout, under the cpuset hierarchy root:
//
//	gomck/            parent of all gomck groups
//	gomck/linux/      the Linux tasks moved away: online CPUs minus all instances
//	gomck/<instance>/ the LWK daemon of that instance: exactly its CPUs
//
// Limits, on purpose or by necessity:
//
//   - Only root may do this; for anyone else Isolate returns (nil, nil) and the
//     LWK simply shares its CPUs with Linux (the caller logs it).
//   - cgroup v1: only the tasks of the root cpuset are moved. Tasks that
//     already live in another cpuset group (containers, systemd slices with
//     cpusets) are left alone, because their CPUs were chosen by someone else.
//     Kernel threads are skipped: per-CPU ones cannot move, and the others
//     belong to the kernel's own isolation knobs (isolcpus, nohz_full).
//     Moving a task into a cpuset replaces its CPU affinity; when it comes
//     back the kernel restores the mask requested with sched_setaffinity
//     where it remembers one (Linux 6.2 and later), otherwise the task may
//     run on every CPU of the root cpuset.
//   - cgroup v2: processes normally live in systemd's slices, not in the root
//     cgroup, so moving "the root's processes" quiets almost nothing. Isolate
//     therefore first makes gomck/ and gomck/<instance> cpuset partitions
//     (cpuset.cpus.partition "root" and "isolated"), which makes the kernel
//     itself take the CPUs away from every other cgroup. When partitions are
//     unavailable (kernels before 5.11, or CPUs claimed exclusively by a
//     sibling) it falls back to the v1 scheme with cgroup.procs, which moves
//     only the processes of the root cgroup; Isolation.Note says which
//     happened. In v2 the daemon process is moved into gomck/<instance> with
//     all its controllers (memory, pids) and moved back to where it came
//     from on Release. "+cpuset" stays enabled in the root's
//     cgroup.subtree_control after Release, as other users may rely on it.
//   - Several instances may coexist; each takes its own CPUs, and the Linux
//     share is recomputed as online CPUs minus all instances. All changes
//     to the gomck/ tree are serialised with flock on the hierarchy root.
//   - ReleaseStale cleans up after a daemon that died; it must not be used
//     on an instance whose daemon is alive.
//
// # Memory
//
// ParseMemSpec speaks McKernel's -m syntax ("512M@0,512M@1"). NewMemory turns
// it into a Memory: one memfd, sized to the sum of the chunks, bound chunk by
// chunk to the NUMA node asked for, fully pre-faulted and locked where
// permitted. The memfd is what the LWK calls physical memory: its page
// allocator hands out offsets in it, mcexec maps the same memfd (passed over
// the control socket) to mirror the application's address space, and
// Memory.Direct is the LWK's direct map of all of it. KeepInCoreDumps
// makes the owner's core dumps (and gdb's gcore) hold that map whatever
// core dump filter it inherited, so that a dump of the daemon holds its
// LWK's memory.
//
// NewMemory refuses a request that does not fit in what Linux reports as
// available (minus some headroom kept for Linux, and within the caller's
// memory cgroup limit): a partition is pre-faulted and locked, so an
// oversized one would drive the host into the OOM killer instead of failing.
package partition
