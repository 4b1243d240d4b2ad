package lwk

import (
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/stats"
)

// Snapshot is what was read of one instance.
type Snapshot struct {
	Source    string `json:"source"`
	DaemonPID int    `json:"daemon_pid"`
	Live      bool   `json:"live"`
	Index     int    `json:"instance"`
	State     string `json:"state"`
	BootTime  int64  `json:"boot_time_ns"` // unix ns
	MemTotal  uint64 `json:"mem_total"`
	// Direct is where the daemon maps the partition (its direct map,
	// kernel.Instance.Mem.Direct): app memory is read there. 0 once the
	// partition is released.
	Direct uint64    `json:"direct_map,omitempty"`
	CPUs   []CPU     `json:"cpus"`
	Procs  []Process `json:"processes"`
	Alloc  Alloc     `json:"memory"`
	Kmsg   string    `json:"kmsg,omitempty"`
	// KmsgHead is how many bytes the ring took since boot or its last
	// clear: Kmsg ends there (a cursor for reading only what is new).
	KmsgHead uint64 `json:"kmsg_head,omitempty"`
	Stats    Stats  `json:"stats"`
	// Errors are records that could not be read at all, left out of
	// the snapshot: the first 32, then how many more.
	Errors []string `json:"errors,omitempty"`
}

// CPU is one LWK CPU.
type CPU struct {
	Index    int    `json:"cpu"`
	Host     int    `json:"host_cpu"`
	State    string `json:"state"`             // idle, running
	Current  int    `json:"current,omitempty"` // TID, 0 when idle
	Switches uint64 `json:"switches"`
	IdleNs   uint64 `json:"idle_ns"`
	// LocalCalls and OffloadCalls count the system calls made on the CPU.
	LocalCalls   uint64 `json:"syscalls_local"`
	OffloadCalls uint64 `json:"syscalls_offloaded"`
	PageFaults   uint64 `json:"page_faults"`
	Since        int64  `json:"since_ns,omitempty"` // CLOCK_MONOTONIC when Current was picked
	// IdleSince is CLOCK_MONOTONIC when the CPU went to sleep idle, 0
	// while awake: that sleep is not yet in IdleNs.
	IdleSince int64 `json:"idle_since_ns,omitempty"`
	Runnable  []int `json:"runnable"`           // run queue, TIDs in order
	Sleepers  []int `json:"sleepers,omitempty"` // sleeping with a deadline
	Blocked   int   `json:"blocked"`            // sleeping without one
	Changing  bool  `json:"changing,omitempty"`
}

// Process is one LWK process.
type Process struct {
	// Addr is the process record's address in the daemon, MMAddr its
	// address space's (crash's task and mm_struct pointers).
	Addr     uint64   `json:"addr,omitempty"`
	MMAddr   uint64   `json:"mm_addr,omitempty"`
	PID      int      `json:"pid"`
	PPID     int      `json:"ppid"`
	PGID     int      `json:"pgid"`
	SID      int      `json:"sid"`
	ProxyPID int      `json:"proxy_pid"` // mcexec
	StubPID  int      `json:"stub_pid"`
	Home     int      `json:"home_cpu"`
	Exe      string   `json:"exe"`
	Args     []string `json:"args"`
	Start    int64    `json:"start_ns"` // unix ns
	Stopped  bool     `json:"stopped"`
	Exited   bool     `json:"exited"`
	RSS      uint64   `json:"rss"`
	VSZ      uint64   `json:"vsz"`
	Brk      uint64   `json:"brk"`
	Faults   uint64   `json:"faults"`
	Threads  []Thread `json:"threads"`
	VMAs     []VMA    `json:"vmas,omitempty"`
	IKC      *IKC     `json:"ikc,omitempty"`
	Auxv     []uint64 `json:"auxv,omitempty"` // pairs of AT_ type and value (What.Auxv)
	Changing bool     `json:"changing,omitempty"`
	// MMChanging says the address space kept changing: RSS, VSZ and
	// VMAs are missing.
	MMChanging bool `json:"mm_changing,omitempty"`
}

// Thread is one app thread.
type Thread struct {
	Addr         uint64 `json:"addr,omitempty"` // the thread record's address in the daemon
	TID          int    `json:"tid"`
	PID          int    `json:"pid"`
	CPU          int    `json:"cpu"`
	State        string `json:"state"` // R S T Z
	Why          string `json:"why"`   // running, runnable, offload, sleeping, stopped, zombie
	Current      bool   `json:"current"`
	Syscall      int64  `json:"syscall"` // -1 when none
	SyscallName  string `json:"syscall_name,omitempty"`
	LocalCalls   uint64 `json:"syscalls_local"`
	LocalNs      uint64 `json:"syscalls_local_ns"`
	OffloadCalls uint64 `json:"syscalls_offloaded"`
	OffloadNs    uint64 `json:"syscalls_offloaded_ns"`
	RunNs        uint64 `json:"run_ns"`
	Switches     uint64 `json:"context_switches"`
	Migrations   uint64 `json:"migrations"`
	PageFaults   uint64 `json:"page_faults"`
	FutexWaits   uint64 `json:"futex_waits"`
	Signals      uint64 `json:"signals_delivered"`
	// Syscalls are the thread's counts per system call number, of the
	// numbers it made (What.Syscalls).
	Syscalls []stats.SyscallCount `json:"syscalls,omitempty"`
	Regs     map[string]uint64    `json:"regs,omitempty"`
	// FPState is the XSAVE area as the kernel last saved it (What.FP):
	// that of a thread whose registers are still in its stub is older.
	FPState []byte `json:"fpstate,omitempty"`
	// Pending are the signals sent to the thread and not yet delivered
	// (bit sig-1; What.Pending).
	Pending  uint64 `json:"pending,omitempty"`
	Changing bool   `json:"changing,omitempty"`
}

// Stats are the instance's own counters (kernel/stats.Instance).
type Stats struct {
	Processes uint64 `json:"processes_created"`
	Threads   uint64 `json:"threads_created"`
	Forks     uint64 `json:"forks"`
	Execs     uint64 `json:"execs"`
	// EndedLocalCalls and EndedOffloadCalls are the system calls of the
	// threads that have ended: with the live threads', totals that only
	// grow.
	EndedLocalCalls   uint64 `json:"ended_syscalls_local"`
	EndedOffloadCalls uint64 `json:"ended_syscalls_offloaded"`
	// The ended threads' other counters, for instance-wide counting
	// (mcperf stat -a).
	EndedLocalNs    uint64 `json:"ended_syscalls_local_ns"`
	EndedOffloadNs  uint64 `json:"ended_syscalls_offloaded_ns"`
	EndedRunNs      uint64 `json:"ended_run_ns"`
	EndedSwitches   uint64 `json:"ended_context_switches"`
	EndedMigrations uint64 `json:"ended_migrations"`
	EndedPageFaults uint64 `json:"ended_page_faults"`
	EndedFutexWaits uint64 `json:"ended_futex_waits"`
	EndedSignals    uint64 `json:"ended_signals_delivered"`
	// EndedSyscalls are the ended threads' per-syscall counts
	// (What.Syscalls).
	EndedSyscalls []stats.SyscallCount `json:"ended_syscalls,omitempty"`
	Changing      bool                 `json:"changing,omitempty"`
}

// VMA is one virtual memory area and the partition pages backing it.
type VMA struct {
	Addr    uint64    `json:"addr,omitempty"` // the VMA record's address in the daemon
	Start   uint64    `json:"start"`
	End     uint64    `json:"end"`
	Prot    int       `json:"prot"`
	Flags   int       `json:"flags"`
	Kind    string    `json:"kind"` // anon, [heap], [stack], file, elf
	Name    string    `json:"name,omitempty"`
	FileOff uint64    `json:"file_offset"`
	Shared  bool      `json:"shared"`
	Segs    []Segment `json:"segments"`
}

// Segment is a populated linear piece of a VMA: its segments are the
// page table (the kernel's type, kernel/lwkabi).
type Segment = lwkabi.Segment

// Populated is the VMA's populated bytes.
func (v VMA) Populated() uint64 { return lwkabi.Populated(v.Segs) }

// Alloc is the page allocator.
type Alloc struct {
	Pages    uint64 `json:"pages"`
	Free     uint64 `json:"free_pages"`
	Largest  uint64 `json:"largest_free_run_pages"`
	Runs     int    `json:"free_runs"`
	Allocs   uint64 `json:"allocs"`
	Fails    uint64 `json:"fails"`
	Nodes    []Node `json:"nodes"`
	Changing bool   `json:"changing,omitempty"`
}

// Node is the partition memory of one NUMA node.
type Node struct {
	Node  int    `json:"node"`
	Start uint64 `json:"start_page"`
	Pages uint64 `json:"pages"`
	Free  uint64 `json:"free_pages"`
}

// IKC is a process's offload channel.
type IKC struct {
	Requests   uint64    `json:"requests"`        // posted since the process started
	Sleeping   uint32    `json:"workers_waiting"` // mcexec workers asleep on the doorbell
	Aborted    bool      `json:"aborted"`
	LogHead    uint64    `json:"log_head"`
	LogApplied uint64    `json:"log_applied"`
	Queued     []Request `json:"queued"` // slots not free
}

// Request is one occupied IKC slot.
type Request struct {
	Slot   int      `json:"slot"`
	State  string   `json:"state"` // posted, taken, done, aborted
	Nr     uint64   `json:"nr"`
	Name   string   `json:"name,omitempty"`
	TID    int      `json:"tid"`
	Worker int      `json:"worker,omitempty"` // mcexec's Linux tid executing it
	Seq    uint64   `json:"seq"`
	Args   []uint64 `json:"args"`
	// Changing: the slot was rewritten each time it was read.
	Changing bool `json:"changing,omitempty"`
}
