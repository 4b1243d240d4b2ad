package kernel

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/syscalls"
	"github.com/gomck/gomck/kernel/task"
)

// CPU is one LWK CPU: a kernel thread pinned to its host CPU, running the
// threads of its run queue one at a time until each blocks, yields or exits.
type CPU struct {
	Seq     uint64
	Index   int // LWK CPU number
	Host    int // host CPU
	State   string
	Current *task.Thread
	Load    int32 // processes placed here
	Queue   *sched.Queue
	Slices  uint64 // thread slices run; the time-sharing ticker watches it
	// Since is when Current was picked (sched.Now), to charge its RunNs.
	Since int64
	// IdleSince is when the CPU went to sleep with nothing to run
	// (sched.Now), 0 while it is awake: the sleep not yet in
	// Stats.IdleNs, which a reader from outside (mcperf stat -a) adds.
	IdleSince int64

	// Spare is a stub started while the CPU was idle, or the stub of an
	// ended process, so that exec and fork do not wait for a fork and
	// exec of their own (nor the old stub for its exit).
	Spare platform.Context
	// spareUsed says Spare served a process: it is wiped before the next.
	spareUsed bool

	// Threads counts the app threads placed here, for placement.
	Threads atomic.Int32

	work    chan func()
	stub    atomic.Pointer[task.Context] // the context running now, for preemption
	preempt atomic.Bool                  // the running thread's time slice is over
	tid     int                          // the OS thread that traces this CPU's stubs

	// Stats sit on cache lines of their own: the CPU bumps them at every
	// call, while other CPUs read the fields above (Queue, Threads) to
	// wake and place threads.
	_     [64]byte
	Stats stats.CPU
	// Watch is odd while the CPU waits outside the kernel (the
	// watchdog's; waiting, working).
	Watch uint64
}

// addrNoRandomize is personality(2)'s ADDR_NO_RANDOMIZE.
const addrNoRandomize = 0x0040000

// Slice is the time slice of mcreboot -T 1 (time_sharing).
const Slice = 10 * time.Millisecond

// timeShare preempts a thread that has held the CPU for a whole slice while
// others wait: cooperative scheduling alone would let a thread spinning in
// user space on a lock held by another thread of its CPU starve it forever.
func (c *CPU) timeShare() {
	var last uint64
	for range time.Tick(Slice) {
		now := atomic.LoadUint64(&c.Slices)
		// One load: a second one could see none once the slice ended.
		// Work queued for the CPU's thread (a process's set-up) waits too.
		if stub := c.stub.Load(); now == last && stub != nil && (c.Queue.Waiting(sched.Now()) || len(c.work) > 0) {
			c.preempt.Store(true)
			stub.Interrupt()
		}
		last = now
	}
}

func newCPU(k *OS, index, host int) *CPU {
	c := &CPU{Index: index, Host: host, State: "idle", work: make(chan func(), 64), Queue: sched.NewQueue()}
	ready := make(chan struct{})
	go c.loop(k, ready)
	<-ready
	if k.Config.TimeSharing {
		k.background(fmt.Sprintf("cpu %d time slices", index), c.timeShare)
	}
	return c
}

// loop runs on a locked OS thread pinned to the host CPU: every ptrace
// request for the stubs this CPU traces is issued from here.
func (c *CPU) loop(k *OS, ready chan struct{}) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(c.Host)
	unix.SchedSetaffinity(0, &set)
	// Stubs are executed from this thread and inherit its personality:
	// without address randomization every stub has its vDSO at the same
	// place, so a forked child's stub serves the vDSO pointers the
	// parent's libc already holds.
	unix.Syscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0)
	c.tid = unix.Gettid()
	close(ready)
	defer func() {
		if r := recover(); r != nil {
			k.panicked(fmt.Sprintf("cpu %d", c.Index), r)
		}
	}()
	for {
		// Read before looking for work: a kick after the look ends Idle.
		seen := c.Queue.Kicks()
		select {
		case f := <-c.work:
			f()
			continue
		default:
		}
		c.Queue.Reap()
		if t := c.Queue.Pop(sched.Now()); t != nil {
			k.runThread(c, t)
			continue
		}
		if c.Spare == nil && k.state() == "RUNNING" {
			c.startSpare(k)
			continue
		}
		if c.spareUsed {
			c.wipeSpare(k, true)
			continue
		}
		// Idle: tick-less, until work, a wake-up or the next deadline.
		d, _ := c.Queue.NextDeadline()
		idle := sched.Now()
		c.IdleSince = idle
		c.waiting()
		c.Queue.Idle(seen, d)
		c.working()
		// Awake before the sleep is counted: a reader in between misses
		// it for a moment rather than counting it twice.
		c.IdleSince = 0
		c.Stats.IdleNs += uint64(sched.Now() - idle)
	}
}

func (c *CPU) startSpare(k *OS) {
	s, err := k.Platform.NewContext(c.Host)
	if err != nil {
		k.Kmsg.Printf("cpu %d: spare stub: %v", c.Index, err)
		return
	}
	c.Spare = s
}

// takeStub returns the spare stub, or a new one.
func (c *CPU) takeStub(k *OS) (platform.Context, error) {
	c.wipeSpare(k, false)
	if s := c.Spare; s != nil {
		c.Spare = nil
		return s, nil
	}
	return k.Platform.NewContext(c.Host)
}

// retireStub keeps the stub of an ended process as the spare, wiped once
// the CPU is idle: a new stub costs a fork and an exec, and the old one's
// exit about as much (some 2 ms together here). It is killed if the CPU
// has a spare already or it is gone.
func (c *CPU) retireStub(s platform.Context) {
	if c.Spare == nil && s.Alive() {
		c.Spare, c.spareUsed = s, true
		return
	}
	s.Kill()
	s.Release()
}

// wipeSpare wipes a spare that served a process; one that cannot be is
// killed. Unless now (the CPU is idle), its unmap waits for the stub's
// next injection (platform.Context.Wipe).
func (c *CPU) wipeSpare(k *OS, now bool) {
	if !c.spareUsed {
		return
	}
	c.spareUsed = false
	err := c.Spare.Wipe()
	if err == nil && now {
		err = c.Spare.FinishWipe()
	}
	if err != nil {
		k.Kmsg.Printf("cpu %d: spare stub %d: %v", c.Index, c.Spare.HostTID(), err)
		c.dropSpare()
	}
}

// dropSpare kills the spare stub (shutdown).
func (c *CPU) dropSpare() {
	if s := c.Spare; s != nil {
		c.Spare, c.spareUsed = nil, false
		s.Kill()
		s.Release()
	}
}

// Do runs f on the CPU's thread and waits for it.
func (c *CPU) Do(f func()) {
	done := make(chan struct{})
	c.Go(func() { f(); close(done) })
	<-done
}

// Go queues f on the CPU's thread.
func (c *CPU) Go(f func()) {
	c.work <- f
	c.Queue.Kick()
}

func (c *CPU) setCurrent(k *OS, t *task.Thread) {
	k.Hooks.switched(c.Index, c.Current, t)
	atomic.AddUint64(&c.Seq, 1)
	now := sched.Now()
	if old := c.Current; old != nil {
		atomic.AddUint64(&old.Stats.RunNs, uint64(now-c.Since))
		if old.Proc.Perf.Hosts.Load() != 0 {
			k.perfErr(syscalls.PerfUnload(old))
		}
	}
	c.Since = now
	c.Current = t
	if t != nil {
		c.State = "running"
		c.Stats.Switches++
		t.Stats.Switches++
		atomic.AddUint64(&c.Slices, 1)
		c.preempt.Store(false)
		stub := t.Proc.StubOn(c.Index)
		c.stub.Store(stub)
		if t.Proc.Perf.Hosts.Load() != 0 && stub != nil {
			k.perfErr(syscalls.PerfLoad(t, stub.PID))
		}
	} else {
		c.State = "idle"
		c.stub.Store(nil)
	}
	atomic.AddUint64(&c.Seq, 1)
}

// preempted reports (and clears) an expired time slice.
func (c *CPU) preempted() bool {
	return c.preempt.Load() && c.preempt.CompareAndSwap(true, false)
}

// here returns the CPU whose OS thread calls it, or nil: mappings are
// injected through the stub thread that CPU traces.
func (k *OS) here() *CPU {
	tid := unix.Gettid()
	for _, c := range k.CPUs {
		if c.tid == tid {
			return c
		}
	}
	return nil
}

// leastLoadedOf picks the CPU with the fewest threads among the set (LWK
// CPU indexes, 0 for all), prefer on a tie.
func (k *OS) leastLoadedOf(set uint64, prefer *CPU) *CPU {
	var best *CPU
	for _, c := range k.CPUs {
		if set != 0 && set&(1<<c.Index) == 0 {
			continue
		}
		if best == nil || c.Threads.Load() < best.Threads.Load() || c == prefer && c.Threads.Load() == best.Threads.Load() {
			best = c
		}
	}
	return best
}
