package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomck/gomck/perf"
	"github.com/gomck/gomck/web/source"
)

// Label values of kind.
const (
	kindLocal   = "local"
	kindOffload = "offload"
)

// statuses are the values of mck_instance_status's status label, one of
// them 1 for each instance, with the instance's own if it is another
// (the daemon's BOOTING, SHUTDOWN).
var statuses = []string{source.StatusRunning, source.StatusHungup, source.StatusPanic, source.StatusDown, source.StatusDump}

// descs are every metric's description, for Describe.
var descs []*prometheus.Desc

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc("mck_"+name, help, append([]string{"os"}, labels...), nil)
	descs = append(descs, d)
	return d
}

// eventDesc is the help text of an LWK event, from perf's table.
func eventDesc(id int) string {
	e, ok := perf.LWKEventByID(id)
	if !ok {
		panic(fmt.Sprintf("perf.LWKEvents has no event %d", id))
	}
	return e.Desc
}

// byKind is the help of a metric with a kind label: the LWK events that
// its local and offload series count.
func byKind(local, offload int) string {
	return fmt.Sprintf("%s (kind=local); %s (kind=offload)", eventDesc(local), eventDesc(offload))
}

var (
	instanceUp     = newDesc("instance_up", "1 when the instance's state could be read, 0 when not (mck_instance_status says why)")
	instanceStatus = newDesc("instance_status", "The instance's status as ihkosctl status names it (DOWN: not booted, DUMP: a file): 1 for the current one", "status")
	instanceBoot   = newDesc("instance_boot_time_seconds", "When the instance booted, in seconds since the epoch")

	cpuInfo     = newDesc("cpu_info", "The host CPU of each LWK CPU, as a label; always 1", "cpu", "host_cpu")
	cpuIdle     = newDesc("cpu_idle_seconds_total", eventDesc(perf.LWKIdleNs), "cpu")
	cpuSwitches = newDesc("cpu_context_switches_total", eventDesc(perf.LWKContextSwitches), "cpu")
	cpuSyscalls = newDesc("cpu_syscalls_total", byKind(perf.LWKSyscallsLocal, perf.LWKSyscallsOffloaded)+", made on the CPU", "cpu", "kind")
	cpuFaults   = newDesc("cpu_page_faults_total", eventDesc(perf.LWKPageFaults), "cpu")
	cpuRunnable = newDesc("cpu_runnable_threads", "Threads in the LWK CPU's run queue", "cpu")

	memBytes     = newDesc("memory_bytes", "Partition memory of the NUMA node", "node")
	memFree      = newDesc("memory_free_bytes", "Free partition memory of the NUMA node", "node")
	memLargest   = newDesc("memory_largest_free_run_bytes", "The largest contiguous free run of partition memory")
	memAllocs    = newDesc("memory_allocations_total", "Page allocations of the LWK's allocator")
	memAllocFail = newDesc("memory_allocation_failures_total", "Page allocations the LWK's allocator could not satisfy")

	processes        = newDesc("processes", "LWK processes alive")
	threads          = newDesc("threads", "LWK threads alive")
	processesCreated = newDesc("processes_created_total", "LWK processes created since boot")
	threadsCreated   = newDesc("threads_created_total", "LWK threads created since boot, a process's first among them")
	forks            = newDesc("forks_total", "Forks since boot")
	execs            = newDesc("execs_total", "Execs since boot")

	runSeconds  = newDesc("run_seconds_total", "Time the instance's threads held their LWK CPUs (app code and local calls)")
	migrations  = newDesc("migrations_total", eventDesc(perf.LWKMigrations))
	futexWaits  = newDesc("futex_waits_total", eventDesc(perf.LWKFutexWaits))
	signals     = newDesc("signals_delivered_total", eventDesc(perf.LWKSignalsDelivered))
	syscalls    = newDesc("syscalls_total", byKind(perf.LWKSyscallLocalCalls, perf.LWKSyscallOffloadedCalls)+", nr named by syscall", "syscall", "kind")
	syscallTime = newDesc("syscall_seconds_total", byKind(perf.LWKSyscallLocalNs, perf.LWKSyscallOffloadedNs)+", nr named by syscall", "syscall", "kind")

	procInfo     = newDesc("process_info", "The process's executable, as a label; always 1", "pid", "exe")
	procStart    = newDesc("process_start_time_seconds", "When the process started, in seconds since the epoch", "pid")
	procThreads  = newDesc("process_threads", "The process's threads", "pid")
	procRSS      = newDesc("process_resident_memory_bytes", "The process's populated memory", "pid")
	procVSZ      = newDesc("process_virtual_memory_bytes", "The process's mapped memory", "pid")
	procRun      = newDesc("process_run_seconds_total", "Time the process's threads held their LWK CPUs", "pid")
	procSyscalls = newDesc("process_syscalls_total", byKind(perf.LWKSyscallsLocal, perf.LWKSyscallsOffloaded)+", of the process", "pid", "kind")
	procSysTime  = newDesc("process_syscall_seconds_total", byKind(perf.LWKLocalNs, perf.LWKOffloadWaitNs)+", of the process", "pid", "kind")
)
