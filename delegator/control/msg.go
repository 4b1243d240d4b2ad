package control

import (
	"encoding/json"

	"github.com/gomck/gomck/kernel/stats"
)

// Ops of Request.
const (
	OpStatus       = "status"
	OpKmsg         = "kmsg"
	OpClearKmsg    = "clear_kmsg"
	OpQueryCPU     = "query_cpu"
	OpQueryMem     = "query_mem"
	OpQueryFreeMem = "query_free_mem"
	OpShutdown     = "shutdown"
	OpPanic        = "panic"  // the LWK's sysrq-c: an LWK CPU panics, for tests of dumps on panic
	OpExec         = "exec"   // + fd of the executable; reply carries partition and channel fds
	OpSignal       = "signal" // on an exec connection: forward a signal to the app
	OpExit         = "exit"   // daemon -> mcexec: the app ended
	// OpAttach: a child proxy, started by its parent's mcexec for a forked
	// process, takes that process over; the reply is as OpExec's, with the
	// populated segments to mirror in Segments.
	OpAttach = "attach"
	// OpDetach: a child proxy, told of its process's end, is done with it
	// and keeps the connection for its next attach; its workers are idle,
	// so the daemon may hand its IKC channel to that next process.
	OpDetach = "detach"
	// OpGcore: a core of the live process PID (mcgcore), written into the
	// file whose descriptor comes with the request; Data is a GcoreResult.
	OpGcore = "gcore"
	// OpCountingOn and OpCountingOff turn the LWK's syscall counting on
	// and off (ihkosctl N counting on|off), to measure what it costs.
	OpCountingOn  = "counting_on"
	OpCountingOff = "counting_off"
)

// GcoreResult is the answer to OpGcore.
type GcoreResult struct {
	Size    int64 `json:"size"`
	Threads int   `json:"threads"`
	// PausedNs is how long the process was kept from running.
	PausedNs int64 `json:"paused_ns"`
}

// Request is a tool's message to the daemon.
type Request struct {
	Op string `json:"op"`

	// OpExec.
	Argv       []string    `json:"argv,omitempty"`
	Env        []string    `json:"env,omitempty"`
	Exe        string      `json:"exe,omitempty"` // path as mcexec resolved it (AT_EXECFN, /proc views)
	Cred       [4]int      `json:"cred,omitempty"`
	HeapExtend uint64      `json:"heap_extend,omitempty"`
	ProxyPID   int         `json:"proxy_pid,omitempty"`  // the LWK pid: mcexec's own
	ParentPID  int         `json:"parent_pid,omitempty"` // mcexec's parent: the app's
	Rlimits    [][2]uint64 `json:"rlimits,omitempty"`
	Profile    bool        `json:"profile,omitempty"` // mcexec --profile: report the calls at exit
	// PPN is mcexec -n: the process is one of PPN that its parent starts
	// on this node, which share the instance's CPUs. LocalRank is its
	// rank among them as the MPI launcher numbered it, -1 if unknown (the
	// kernel then ranks by arrival).
	PPN       int `json:"ppn,omitempty"`
	LocalRank int `json:"local_rank,omitempty"`

	// OpSignal.
	Signal int `json:"signal,omitempty"`

	// OpAttach: the forked process and the secret its fork handed out;
	// OpGcore: the process.
	PID   int    `json:"pid,omitempty"`
	Token uint64 `json:"token,omitempty"`
}

// Segment is one populated piece of an app address space, as a child
// proxy maps it from the partition at attach.
type Segment struct {
	VA, Len, Off uint64
	// File, when not 0, says the segment maps a file shared, not the
	// partition: the File-th descriptor after the partition's and the
	// channel's in the message, at file offset Off.
	File int `json:",omitempty"`
	// SysV says it attaches System V segment ShmID (shmat at VA), with
	// ShmFlags (SHM_RDONLY, SHM_EXEC).
	SysV     bool `json:",omitempty"`
	ShmID    int  `json:",omitempty"`
	ShmFlags int  `json:",omitempty"`
}

// Response is the daemon's answer.
type Response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Text  string `json:"text,omitempty"`

	// OpExec.
	PID int `json:"pid,omitempty"`

	// OpExit; and OpAttach when the forked process has ended before its
	// proxy came (Ended).
	ExitCode   int  `json:"exit_code,omitempty"`
	ExitSignal int  `json:"exit_signal,omitempty"`
	Ended      bool `json:"ended,omitempty"`
	// Profile is the process's system calls, when it was profiled.
	Profile *stats.ProfileReport `json:"profile,omitempty"`

	// OpAttach.
	Segments []Segment `json:"segments,omitempty"`

	// The queries' answers, as JSON.
	Data json.RawMessage `json:"data,omitempty"`
}

// Status is the answer to OpStatus.
type Status struct {
	State      string      `json:"state"` // RUNNING
	Instance   int         `json:"instance"`
	DaemonPID  int         `json:"daemon_pid"`
	CPUs       []int       `json:"cpus"` // host CPUs
	MemTotal   uint64      `json:"mem_total"`
	MemFree    uint64      `json:"mem_free"`
	MemLargest uint64      `json:"mem_largest_free_run"`
	Nodes      []NodeUsage `json:"nodes"`
	Processes  []ProcInfo  `json:"processes"`
	SpareStubs []int       `json:"spare_stubs,omitempty"` // stubs started ahead for the next exec
	Uptime     float64     `json:"uptime_s"`
	Uncounted  bool        `json:"uncounted,omitempty"` // ihkosctl N counting off
}

// NodeUsage is memory per NUMA node.
type NodeUsage struct {
	Node  int    `json:"node"`
	Total uint64 `json:"total"`
	Free  uint64 `json:"free"`
}

// ProcInfo summarises one LWK process.
type ProcInfo struct {
	PID     int    `json:"pid"`
	PPID    int    `json:"ppid"`
	Exe     string `json:"exe"`
	Threads int    `json:"threads"`
	RSS     uint64 `json:"rss"`
	VSZ     uint64 `json:"vsz"`
	StubPID int    `json:"stub_pid"`
	Local   uint64 `json:"syscalls_local"`
	Offload uint64 `json:"syscalls_offloaded"`
}
