package lwk

// module is the import path that kernelFields' type names are under.
const module = "github.com/gomck/gomck/"

// kernelFields is every field this package reads of the kernel's records,
// by type (named after module): the names inspect/ holds the kernel to.
// No compiler checks a name given as a string, so two tests do:
// TestKernelFields resolves each against the DWARF of the daemon built
// from cmd/mckernel, so that a rename in kernel/ fails by type.field; and
// TestFieldsDeclared reads a snapshot with every other field of the
// kernel's types hidden, so that a read of a field missing here fails.
// Seq is the sequence counter of the records read with value.Stable.
var kernelFields = map[string][]string{
	"kernel.OS":                  {"Seq", "Index", "State", "BootTime", "Mem", "CPUs", "Procs", "Alloc", "Kmsg", "Stats"},
	"delegator/partition.Memory": {"Size", "Direct"},
	"kernel.CPU":                 {"Seq", "Index", "Host", "State", "Stats", "Current", "Since", "IdleSince", "Queue"},
	"kernel/stats.CPU":           {"Switches", "IdleNs", "LocalCalls", "OffloadCalls", "PageFaults"},
	"kernel/stats.Instance":      {"Seq", "Processes", "Threads", "Forks", "Execs", "Ended"},
	"kernel/sched.Queue":         {"Seq", "Runnable", "Sleepers", "Blocked"},
	"kernel/task.Table":          {"Seq", "Procs"},
	"kernel/task.Process": {"Seq", "PID", "PPID", "PGID", "SID", "ProxyPID", "Home", "Exe", "Args", "Start",
		"Stopped", "Exited", "Stub", "Threads", "MM", "Chan", "Auxv", "SigActs", "Pending", "Queued"},
	"kernel/task.SigAction":    {"Handler", "Flags", "Restorer", "Mask"},
	"kernel/task.QueuedSignal": {"Sig", "TID"},
	"kernel/task.Context":      {"PID"},
	"kernel/task.Thread": {"Seq", "TID", "CPU", "State", "Syscall", "Stats", "Regs", "FPState",
		"SigMask", "Pending", "WaitSet", "Waiting", "FutexBlocked", "FutexKey", "Deadline", "WaitChild", "OffloadSeq"},
	"kernel/stats.Thread": {"LocalCalls", "LocalNs", "OffloadCalls", "OffloadNs", "RunNs", "Switches",
		"Migrations", "PageFaults", "FutexWaits", "Signals", "Local", "Offloaded", "used"},
	"kernel/stats.Syscall":   {"Calls", "Ns"},
	"kernel/mm.AddressSpace": {"Seq", "Brk", "Faults", "VMAs"},
	"kernel/mm.VMA":          {"Start", "End", "Prot", "Flags", "Kind", "Name", "FileOff", "Segs", "Shared"},
	"kernel/lwkabi.Segment":  {"VA", "Len", "Off"},
	"kernel/mm.Allocator":    {"Seq", "Pages", "Free", "Allocs", "Fails", "Runs", "Nodes"},
	"kernel/mm.Run":          {"Pages"},
	"kernel/mm.NodeRange":    {"Node", "Start", "Pages", "Free"},
	"kernel/kmsg.Ring":       {"Seq", "Head", "Buf"},
	"delegator/ikc.Channel":  {"hdr", "slots"},
	"delegator/ikc.header":   {"Requests", "Workers", "Aborted", "LogHead", "LogApplied"},
	"delegator/ikc.Slot":     {"State", "Nr", "TID", "Worker", "Seq", "Args"},
}
