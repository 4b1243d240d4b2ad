package kernel

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/kernel/kmsg"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/procview"
	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/syscalls"
	"github.com/gomck/gomck/kernel/task"
	"github.com/gomck/gomck/perf"
)

// Instance is the running OS instance; nil until Boot.
var Instance *OS

// zeroPiece is how much the allocator clears between watchdog touches.
const zeroPiece = 64 << 20

// Config is how an instance was booted (mcreboot's arguments).
type Config struct {
	Index         int                  `json:"index"`
	CPUs          []int                `json:"cpus"` // host CPUs
	Mem           []partition.MemChunk `json:"mem"`
	Oversubscribe bool                 `json:"oversubscribe"`
	TimeSharing   bool                 `json:"time_sharing"`
	DumpLevel     int                  `json:"dump_level"`
	Kmsg          bool                 `json:"kmsg"`
	OwnerUID      int                  `json:"owner_uid"`
	OwnerGID      int                  `json:"owner_gid"`
}

// OS is one LWK instance.
type OS struct {
	Seq       uint64
	Index     int
	State     string // BOOTING, RUNNING, SHUTDOWN
	BootTime  int64
	Config    Config
	CPUs      []*CPU
	Mem       *partition.Memory
	Alloc     *mm.Allocator
	Procs     *task.Table
	Futexes   *sched.Futexes
	Kmsg      *kmsg.Ring
	Isolation *partition.Isolation
	Env       syscalls.Env
	Platform  platform.Platform
	Hooks     Hooks
	Stats     stats.Instance
	Watchdog  Watchdog

	// views are the rendered /proc and /sys views, nil if they could not
	// be made (the app then sees Linux's).
	views  *procview.Views
	mu     sync.Mutex
	stubMu sync.Mutex // serializes making stub threads
	// panicking is set by the first panic.
	panicking atomic.Bool
	// unwatch ends the watchdog at shutdown, which closes the channel
	// it is given once the last beat is written.
	unwatch chan chan struct{}
	// embryos are forked processes waiting for their proxy, by token.
	embryos map[uint64]*embryo
	// unattachedProfiles are the profiles of forked processes that ended
	// before their proxy came, by token, for the proxy's attach.
	unattachedProfiles map[uint64]*stats.ProfileReport
	// sessions are the connections of child proxies, by proxy pid.
	sessions map[int]*session
	// PartExecs are the partitioned executions running (mcexec -n),
	// guarded by partMu.
	PartExecs []*PartExec
	partMu    sync.Mutex
}

// Backend makes the execution platform over the partition memfd; messages
// about what it could not set up but can run without go to logf
// (ptrace.New).
type Backend func(partitionFD int, logf func(format string, args ...any)) (platform.Platform, error)

// Boot reserves the partition and starts the LWK CPUs, whose app threads
// run on the platform that backend makes.
func Boot(cfg Config, backend Backend, hooks Hooks) (*OS, error) {
	k := &OS{Index: cfg.Index, State: "BOOTING", BootTime: time.Now().UnixNano(), Config: cfg,
		Procs: task.NewTable(), Kmsg: kmsg.New(), Futexes: sched.NewFutexes(), Hooks: hooks}
	k.Kmsg.Printf("gomck LWK mcos%d booting (daemon pid %d)", cfg.Index, os.Getpid())
	if err := partition.ValidateCPUs(cfg.CPUs); err != nil {
		return nil, err
	}
	sched.Calibrate(10 * time.Millisecond) // the clock of syscall times
	mem, err := partition.NewMemory(fmt.Sprintf("mcos%d", cfg.Index), cfg.Mem)
	if err != nil {
		return nil, err
	}
	k.Mem = mem
	if err := partition.KeepInCoreDumps(); err != nil {
		k.Kmsg.Printf("warning: cores of the daemon may leave out the partition: %v", err)
	}
	var nodes []mm.NodeRange
	for i, ch := range mem.Chunks {
		nodes = append(nodes, mm.NodeRange{Node: ch.Node, Start: uint64(mem.Offsets[i]) / mm.PageSize, Pages: uint64(ch.Size) / mm.PageSize})
		k.Kmsg.Printf("memory: %s at partition offset %#x on NUMA node %d", partition.FormatSize(ch.Size), mem.Offsets[i], ch.Node)
	}
	if !mem.Locked {
		k.Kmsg.Printf("memory: mlock not permitted; partition pages are pre-faulted but not locked")
	}
	direct := mem.Direct
	k.Alloc = mm.NewAllocator(uint64(mem.Size), nodes, func(off, n uint64) {
		// In pieces: pages untouched for long cost seconds per GiB here,
		// and the watchdog must see the kernel moving on.
		for n > 0 {
			m := min(n, zeroPiece)
			clear(direct[off : off+m])
			k.progressed()
			off, n = off+m, n-m
		}
	})
	if k.Platform, err = backend(mem.FD, k.Kmsg.Printf); err != nil {
		mem.Close()
		return nil, err
	}
	if partition.SharedCPUs() {
		k.Kmsg.Printf("cpuset: CPUs %s shared with Linux (%s)", partition.FormatCPUList(cfg.CPUs), partition.SharedCPUsEnv)
	}
	if iso, err := partition.Isolate(fmt.Sprintf("mcos%d", cfg.Index), cfg.CPUs); err != nil {
		k.Kmsg.Printf("warning: could not move Linux tasks off LWK CPUs: %v", err)
	} else if iso != nil {
		k.Isolation = iso
		k.Kmsg.Printf("cpuset: Linux tasks moved off CPUs %s", partition.FormatCPUList(cfg.CPUs))
		if err := iso.ShareCPUs(); err != nil {
			k.Kmsg.Printf("warning: daemon housekeeping stays on LWK CPUs: %v", err)
		}
	}
	// With shared CPUs no CPU is Linux's alone: housekeeping stays put.
	if err := keepOffCPUs(cfg.CPUs); err != nil && !partition.SharedCPUs() {
		k.Kmsg.Printf("warning: daemon housekeeping threads may run on LWK CPUs: %v", err)
	}
	k.Kmsg.Printf("daemon: GOMAXPROCS %d", setProcs(len(cfg.CPUs)))
	k.Env = syscalls.Env{HostCPUs: cfg.CPUs, OffloadSpin: 20000, Oversubscribe: cfg.Oversubscribe, Kernel: k}
	lwkType, err := perf.LWKType(perf.HostPMUs)
	if err != nil {
		return nil, fmt.Errorf("the lwk PMU: %w", err)
	}
	k.Env.LWKType = lwkType
	for i, host := range cfg.CPUs {
		c := newCPU(k, i, host)
		k.CPUs = append(k.CPUs, c)
		node, _ := partition.NodeOfCPU(host)
		k.Env.CPUNodes = append(k.Env.CPUNodes, node)
		k.Kmsg.Printf("cpu %d: host CPU %d, NUMA node %d", i, host, node)
	}
	if k.views, err = k.makeViews(); err != nil {
		k.Kmsg.Printf("warning: no LWK views of /proc and /sys: %v", err)
	}
	k.setState("RUNNING")
	k.unwatch = make(chan chan struct{})
	k.background("watchdog", func() { k.watch(k.unwatch) })
	k.Kmsg.Printf("booted: %d CPUs, %s memory", len(k.CPUs), partition.FormatSize(mem.Size))
	Instance = k
	return k, nil
}

// keepOffCPUs keeps the daemon's housekeeping threads (sysmon, GC, the
// control socket) off the LWK CPUs, so that an LWK CPU runs only its tracer
// and the app. Threads made later inherit this affinity: Go creates them
// from the template thread, which is started before the per-CPU threads pin
// themselves.
func keepOffCPUs(lwk []int) error {
	online, err := partition.OnlineCPUs()
	if err != nil {
		return err
	}
	var set unix.CPUSet
	for _, c := range online {
		set.Set(c)
	}
	for _, c := range lwk {
		set.Clear(c)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		var tid int
		fmt.Sscan(t.Name(), &tid)
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	return nil
}

// setProcs gives the Go runtime one P per LWK CPU plus the Linux CPUs
// (at least one) and returns the count. Left to itself the runtime sizes
// GOMAXPROCS from the daemon's affinity, which keepOffCPUs narrows to the
// Linux CPUs: on a 2-CPU machine that is 1, and the one P went to the CPU
// goroutine whenever it ran Go code (dispatch, a fork's copy, an idle
// poll), so the control server, attaches and parked offloads waited for
// sysmon to take it back from a tracer blocked in wait4 (up to 10 ms;
// a forked child's proxy took 3.8 ms to learn of its end). Setting it
// also stops the runtime from adjusting it later.
func setProcs(lwkCPUs int) int {
	linux := 1
	if online, err := partition.OnlineCPUs(); err == nil {
		linux = max(1, len(online)-lwkCPUs)
	}
	n := lwkCPUs + linux
	runtime.GOMAXPROCS(n)
	return n
}

// setState and state guard State, which the CPUs and the control server
// read while boot and shutdown change it.
func (k *OS) setState(s string) {
	k.mu.Lock()
	k.State = s
	k.mu.Unlock()
}

func (k *OS) state() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.State
}

// Shutdown kills every process, waits for their memory to return and
// releases the partition.
func (k *OS) Shutdown() {
	k.mu.Lock()
	if k.State == "SHUTDOWN" {
		k.mu.Unlock()
		return
	}
	k.State = "SHUTDOWN"
	k.mu.Unlock()
	k.Kmsg.Printf("shutdown requested")
	for _, p := range k.Procs.List() {
		k.kill(p, int(unix.SIGKILL))
	}
	for _, p := range k.Procs.List() {
		select {
		case <-p.Done():
		case <-time.After(5 * time.Second):
		}
	}
	for _, c := range k.CPUs {
		c.Do(c.dropSpare)
	}
	if k.Isolation != nil {
		k.Isolation.Release()
	}
	k.views.Remove()
	k.Platform.Close()
	k.Mem.Close()
	if k.unwatch != nil {
		done := make(chan struct{})
		k.unwatch <- done
		<-done
	}
}
