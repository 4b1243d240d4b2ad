package source

import (
	"context"
	"time"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/perf/stat"
)

// Source is where the dashboard's views get their data: the live
// instances (a Poller) or one dump or app core opened read-only. The
// pages, the JSON API and /metrics all read it; none reads kernel state
// itself.
type Source interface {
	// Instances are the latest polls of every instance watched, by
	// index; an instance that is not booted is there with Status
	// StatusDown.
	Instances() []Instance
	// Instance is the latest poll of instance n; false when n is not
	// watched.
	Instance(n int) (Instance, bool)
	// Updates is closed and replaced after each poll: a reader waits
	// on the channel it got, then reads again (ctx ends the wait).
	Updates(ctx context.Context) <-chan struct{}
	// ReadOnly says the source is a file (a dump or an app core): no
	// actions (cores, dumps, noise runs) are offered.
	ReadOnly() bool
}

// Status values, as `ihkosctl N status` prints them (IHK's names), and
// DOWN for an instance that is not booted.
const (
	StatusRunning = "RUNNING"
	StatusHungup  = "HUNGUP"
	StatusPanic   = "PANIC"
	StatusDown    = "DOWN"
	StatusDump    = "DUMP" // read from a file, not live
)

// Instance is one poll of one instance.
type Instance struct {
	Index  int
	Status string
	// Reason says why the status is not RUNNING, or why Snap is nil.
	Reason string
	// Snap is what was read, with lwk.What{Syscalls: true} (plus VMAs
	// for the processes); nil when the instance could not be read.
	Snap *lwk.Snapshot
	// Previous is the poll before's snapshot, Elapsed before Snap (nil
	// on the first poll after a boot): per-CPU and per-thread rates are
	// the differences of the two.
	Previous *lwk.Snapshot
	At       time.Time
	// Totals are stat.InstanceTotals(Snap); Rates are stat.Delta of the
	// previous poll's Totals and these, over Elapsed (zero Elapsed on
	// the first poll after a boot).
	Totals, Rates stat.Sample
	Elapsed       time.Duration
	// Timeline is the last polls' CPU occupancy, oldest first, at most
	// TimelineLen entries; it restarts when the instance reboots.
	Timeline []Tick
}

// TimelineLen is how many polls Instance.Timeline keeps.
const TimelineLen = 600

// Tick is which thread each LWK CPU was running at one poll.
type Tick struct {
	At   time.Time `json:"at"`
	CPUs []CPUTick `json:"cpus"`
}

// CPUTick is one LWK CPU at one poll: TID 0 is idle.
type CPUTick struct {
	CPU  int    `json:"cpu"`
	TID  int    `json:"tid"`
	PID  int    `json:"pid"`
	Comm string `json:"comm"` // the process's executable's base name
}

// Linux is what the eBPF collectors (web/bpf) measure on the Linux side
// of instance os; the pages show it when mcdash could load them.
type Linux interface {
	// Offload is the time the instance's mcexec proxies spent executing
	// offloaded calls in Linux, per syscall, since they were watched.
	Offload(os int) []OffloadTime
	// Interference is the time on each of the instance's LWK CPUs taken
	// by anything but the LWK, per source.
	Interference(os int) []Interference
}

// OffloadTime is one syscall's offloaded executions.
type OffloadTime struct {
	Nr      int
	Name    string
	Calls   uint64
	Seconds float64 // the sum of their times
}

// Interference is time an LWK CPU lost to one source: "task" (another
// Linux task), "irq" or "softirq".
type Interference struct {
	CPU     int // the LWK CPU
	HostCPU int
	Source  string
	Seconds float64
}
