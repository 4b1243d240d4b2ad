package perf

// Software event configs (attr.config of PERF_TYPE_SOFTWARE), Linux's
// numbers.
const (
	SWCPUClock        = 0
	SWTaskClock       = 1
	SWPageFaults      = 2
	SWContextSwitches = 3
	SWCPUMigrations   = 4
	SWPageFaultsMin   = 5
	SWPageFaultsMaj   = 6
	SWAlignmentFaults = 7
	SWEmulationFaults = 8
	SWDummy           = 9
	SWBPFOutput       = 10
	SWCgroupSwitches  = 11
	SWMax             = 12
)

// Counter is the kernel counter a software event reads.
type Counter int

const (
	CountZero Counter = iota // the LWK has no such event: always 0
	CountRunNs
	CountPageFaults
	CountSwitches
	CountMigrations
	// The LWK's own counters (the lwk PMU's events).
	CountLocalCalls
	CountLocalNs
	CountOffloadCalls
	CountOffloadNs
	CountFutexWaits
	CountSignals
	CountIdleNs
	// The per-syscall counters read Sample.Syscall, the one system call
	// the event names.
	CountSyscallLocalCalls
	CountSyscallLocalNs
	CountSyscallOffloadCalls
	CountSyscallOffloadNs
	// CountHost reads Sample.Host: a Linux event counted on the stubs.
	CountHost
)

// PerSyscall says c counts one system call.
func (c Counter) PerSyscall() bool { return c >= CountSyscallLocalCalls && c <= CountSyscallOffloadNs }

// Software describes one software event.
type Software struct {
	Name    string // perf's name
	Counter Counter
}

// SoftwareEvents are the software events by config. The LWK emulates
// nothing and checks no alignment, and its faults never wait for I/O (file
// mappings are read in at mmap), so those count zero, as on Linux for a
// program that has none.
var SoftwareEvents = [SWMax]Software{
	SWCPUClock:        {"cpu-clock", CountRunNs},
	SWTaskClock:       {"task-clock", CountRunNs},
	SWPageFaults:      {"page-faults", CountPageFaults},
	SWContextSwitches: {"context-switches", CountSwitches},
	SWCPUMigrations:   {"cpu-migrations", CountMigrations},
	SWPageFaultsMin:   {"minor-faults", CountPageFaults},
	SWPageFaultsMaj:   {"major-faults", CountZero},
	SWAlignmentFaults: {"alignment-faults", CountZero},
	SWEmulationFaults: {"emulation-faults", CountZero},
	SWDummy:           {"dummy", CountZero},
	SWBPFOutput:       {"bpf-output", CountZero},
	SWCgroupSwitches:  {"cgroup-switches", CountSwitches},
}

// OnCPU says an LWK CPU keeps c too (kernel/stats.CPU), for CPU-wide
// events.
func (c Counter) OnCPU() bool {
	switch c {
	case CountSwitches, CountIdleNs, CountLocalCalls, CountOffloadCalls, CountPageFaults:
		return true
	}
	return false
}
