package partition

import "os"

// Host interfaces this package reads. They are variables so that tests can
// point them at a fake tree and check behaviour that this machine cannot
// show (several NUMA nodes, a missing node directory, cgroup v2 cpusets).
var (
	sysCPUDir      = "/sys/devices/system/cpu"
	sysNodeDir     = "/sys/devices/system/node"
	procMeminfo    = "/proc/meminfo"
	procSelfMounts = "/proc/self/mounts"
	procSelfCgroup = "/proc/self/cgroup"

	// isRoot decides whether Isolate may touch cgroups at all.
	isRoot = func() bool { return os.Geteuid() == 0 }
)
