package perf

// The LWK's own software events: what Linux cannot count for an LWK
// thread (the LWK serves or offloads its system calls, waits for mcexec,
// runs its own scheduler). They are one table for every interface that
// names them: the dynamic PMU "lwk" of the LWK's /sys view
// (/sys/bus/event_source/devices/lwk/events/NAME holds "event=ID"), the
// sde:::lwk:: events of PAPI, and mcperf's list and stat.

// LWKPMU is the PMU's name in /sys/bus/event_source/devices.
const LWKPMU = "lwk"

// LWK event ids (attr.config bits 0-7 with the lwk PMU's type).
const (
	LWKSyscallsLocal     = 1
	LWKSyscallsOffloaded = 2
	LWKLocalNs           = 3
	LWKOffloadWaitNs     = 4
	LWKPageFaults        = 5
	LWKContextSwitches   = 6
	LWKMigrations        = 7
	LWKFutexWaits        = 8
	LWKSignalsDelivered  = 9
	LWKIdleNs            = 10
	// The per-syscall events take the system call number in attr.config
	// bits 8-19 (the format's "syscall" field: not "nr", which perf's
	// event parser takes for its own term, the ring's max events).
	LWKSyscallLocalCalls     = 11
	LWKSyscallLocalNs        = 12
	LWKSyscallOffloadedCalls = 13
	LWKSyscallOffloadedNs    = 14
)

// The lwk PMU's format fields, as /sys/.../lwk/format/NAME says them.
// LWKSyscallField is the format field that names a per-syscall event's
// system call: lwk/NAME,syscall=N/.
const LWKSyscallField = "syscall"

var LWKFormat = []struct{ Name, Bits string }{
	{"event", "config:0-7"},
	{LWKSyscallField, "config:8-19"},
}

// LWKEventOf splits an lwk attr.config into the event id and the syscall
// number of a per-syscall event.
func LWKEventOf(config uint64) (id int, nr int) {
	return int(config & 0xff), int(config >> 8 & 0xfff)
}

// LWKEvent describes one LWK event.
type LWKEvent struct {
	ID   int
	Name string
	// PerSyscall events count one system call, named by the syscall field.
	PerSyscall bool
	// CPUOnly events belong to an LWK CPU, not to a thread: they count
	// only in a CPU-wide event (pid -1, cpu N).
	CPUOnly bool
	Unit    string // "" for a count, "ns" for a time
	Desc    string
	// Counter is the kernel counter the event reads.
	Counter Counter
}

// LWKEvents are the LWK's events, by id order.
var LWKEvents = []LWKEvent{
	{ID: LWKSyscallsLocal, Name: "syscalls_local", Counter: CountLocalCalls, Desc: "System calls served by the LWK"},
	{ID: LWKSyscallsOffloaded, Name: "syscalls_offloaded", Counter: CountOffloadCalls, Desc: "System calls offloaded to mcexec on Linux"},
	{ID: LWKLocalNs, Name: "local_ns", Counter: CountLocalNs, Unit: "ns", Desc: "Time in system calls served by the LWK"},
	{ID: LWKOffloadWaitNs, Name: "offload_wait_ns", Counter: CountOffloadNs, Unit: "ns", Desc: "Time waiting for mcexec's answers to offloaded calls"},
	{ID: LWKPageFaults, Name: "page_faults", Counter: CountPageFaults, Desc: "Demand page faults the LWK served"},
	{ID: LWKContextSwitches, Name: "context_switches", Counter: CountSwitches, Desc: "Times an LWK CPU picked the thread to run"},
	{ID: LWKMigrations, Name: "migrations", Counter: CountMigrations, Desc: "Moves of the thread to another LWK CPU"},
	{ID: LWKFutexWaits, Name: "futex_waits", Counter: CountFutexWaits, Desc: "Futex waits that blocked"},
	{ID: LWKSignalsDelivered, Name: "signals_delivered", Counter: CountSignals, Desc: "Signals delivered to a handler"},
	{ID: LWKIdleNs, Name: "idle_ns", Counter: CountIdleNs, CPUOnly: true, Unit: "ns", Desc: "Time an LWK CPU slept with nothing to run"},
	{ID: LWKSyscallLocalCalls, Name: "syscall_local_calls", Counter: CountSyscallLocalCalls, PerSyscall: true, Desc: "Calls of system call nr served by the LWK"},
	{ID: LWKSyscallLocalNs, Name: "syscall_local_ns", Counter: CountSyscallLocalNs, PerSyscall: true, Unit: "ns", Desc: "Time in system call nr served by the LWK"},
	{ID: LWKSyscallOffloadedCalls, Name: "syscall_offloaded_calls", Counter: CountSyscallOffloadCalls, PerSyscall: true, Desc: "Calls of system call nr offloaded to mcexec"},
	{ID: LWKSyscallOffloadedNs, Name: "syscall_offloaded_ns", Counter: CountSyscallOffloadNs, PerSyscall: true, Unit: "ns", Desc: "Time waiting for mcexec's answers to system call nr"},
}

// LookupLWK returns the LWK event named name.
func LookupLWK(name string) (LWKEvent, bool) {
	for _, e := range LWKEvents {
		if e.Name == name {
			return e, true
		}
	}
	return LWKEvent{}, false
}

// LWKEventByID returns the LWK event of id.
func LWKEventByID(id int) (LWKEvent, bool) {
	for _, e := range LWKEvents {
		if e.ID == id {
			return e, true
		}
	}
	return LWKEvent{}, false
}
