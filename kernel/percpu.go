package kernel

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/proc"
)

// CPU is one LWK CPU: a kernel thread pinned to its host CPU.
type CPU struct {
	Seq      uint64
	Index    int // LWK CPU number
	Host     int // host CPU
	State    string
	Current  *proc.Thread
	Load     int32 // processes placed here
	Switches uint64

	work chan func()
}

func newCPU(k *OS, index, host int) *CPU {
	c := &CPU{Index: index, Host: host, State: "idle", work: make(chan func(), 64)}
	ready := make(chan struct{})
	go c.loop(ready)
	<-ready
	return c
}

// loop runs on a locked OS thread pinned to the host CPU: every ptrace
// request for the stubs this CPU traces is issued from here.
func (c *CPU) loop(ready chan struct{}) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(c.Host)
	unix.SchedSetaffinity(0, &set)
	close(ready)
	for f := range c.work {
		f()
	}
}

// Do runs f on the CPU's thread and waits for it.
func (c *CPU) Do(f func()) {
	done := make(chan struct{})
	c.work <- func() { f(); close(done) }
	<-done
}

// Go queues f on the CPU's thread.
func (c *CPU) Go(f func()) { c.work <- f }

func (c *CPU) setCurrent(t *proc.Thread) {
	atomic.AddUint64(&c.Seq, 1)
	c.Current = t
	if t != nil {
		c.State = "running"
		c.Switches++
	} else {
		c.State = "idle"
	}
	atomic.AddUint64(&c.Seq, 1)
}

// leastLoaded picks the CPU with the fewest processes.
func (k *OS) leastLoaded() *CPU {
	best := k.CPUs[0]
	for _, c := range k.CPUs[1:] {
		if atomic.LoadInt32(&c.Load) < atomic.LoadInt32(&best.Load) {
			best = c
		}
	}
	return best
}
