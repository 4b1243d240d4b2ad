// Package stubcount counts a Linux perf event for LWK app threads by
// opening it on the stub threads that execute them (hardware, cache, raw
// and the host's dynamic PMUs' events: the app's user-mode execution is
// the stub's). A stub thread runs every thread of its process placed on
// its LWK CPU, so an app thread's count is the sum of the Linux counter's
// deltas over its runs: Begin reads the counter when the thread is loaded
// into the stub, End when it is taken off. The Linux counter of a stub is
// opened the first time a counted thread runs there (a thread that
// migrates meets another stub), and every one is closed by Close.
//
// The Linux counters stay enabled and are read at load and unload: a
// Begin and an End (a read each) cost about 0.8 µs a switch here, an
// ENABLE and a DISABLE ioctl around the run 0.9 to 1.1 µs, and splitting
// a stub's count between its threads would still need the reads
// (BenchmarkSwitchRead, BenchmarkSwitchToggle).
package stubcount

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readFormat is what every Linux counter is read with: its value and the
// times it was enabled and running (less when Linux multiplexed it).
const readFormat = unix.PERF_FORMAT_TOTAL_TIME_ENABLED | unix.PERF_FORMAT_TOTAL_TIME_RUNNING

// Counter is one app event counted on stub threads. Its methods may be
// called from any OS thread.
type Counter struct {
	attr []byte // a perf_event_attr of its own size
	// leader is the counter whose Linux counter on the same stub leads
	// this one's in a Linux group (the app's group leader when that is a
	// Linux event too), so that Linux schedules them together.
	leader *Counter

	mu     sync.Mutex
	closed bool
	fds    map[int]int // Linux counters by stub tid; -1: the open failed
	// threads are the app threads counted, by tid.
	threads map[int]*thread
}

// thread is what one app thread counted: the sums over its ended runs,
// and the run in progress.
type thread struct {
	count, lost uint64
	runFD       int // the Linux counter of the run in progress, or -1
	start       reading
}

// reading is one read of a Linux counter.
type reading struct{ value, enabled, running uint64 }

// New makes a counter of the app's attr (its bytes, as long as its size
// field says, in Linux's layout): Linux does not inherit it (the LWK
// does), and it counts from its open, since the LWK starts and stops the
// app's event itself. leader is the counter its Linux group follows, or
// nil.
func New(attr []byte, leader *Counter) *Counter {
	// At least an x/sys attr, whose fields are written in place.
	buf := make([]byte, max(len(attr), int(unsafe.Sizeof(unix.PerfEventAttr{}))))
	copy(buf, attr)
	a := (*unix.PerfEventAttr)(unsafe.Pointer(&buf[0]))
	a.Bits &^= unix.PerfBitDisabled | unix.PerfBitInherit | unix.PerfBitEnableOnExec
	a.Read_format = readFormat
	a.Size = uint32(len(attr))
	return &Counter{attr: buf, leader: leader, fds: map[int]int{}, threads: map[int]*thread{}}
}

// Open opens the Linux counter on stub thread stubTID now, for Linux's
// verdict on the event: the perf_event_open error it gives.
func (c *Counter) Open(stubTID int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.fdOn(stubTID)
	return err
}

// fdOn returns the Linux counter on stub stubTID, opening it the first
// time, with mu held. A failed open is remembered and not retried: the
// error is returned the first time only.
func (c *Counter) fdOn(stubTID int) (int, error) {
	if fd, ok := c.fds[stubTID]; ok {
		return fd, nil
	}
	group := -1
	if c.leader != nil {
		group = c.leader.linuxFD(stubTID)
	}
	cpu := -1
	r, _, e := unix.Syscall6(unix.SYS_PERF_EVENT_OPEN, uintptr(unsafe.Pointer(&c.attr[0])), uintptr(stubTID),
		uintptr(cpu), uintptr(group), unix.PERF_FLAG_FD_CLOEXEC, 0)
	if e != 0 {
		c.fds[stubTID] = -1
		return -1, e
	}
	c.fds[stubTID] = int(r)
	return int(r), nil
}

// linuxFD is the counter's Linux counter on stubTID for a member to join,
// or -1 (closed, or Linux refused it).
func (c *Counter) linuxFD(stubTID int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return -1
	}
	fd, _ := c.fdOn(stubTID)
	return fd
}

// Watch counts app thread tid from its next Begin.
func (c *Counter) Watch(tid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.threads[tid] == nil {
		c.threads[tid] = &thread{runFD: -1}
	}
}

// Forget stops counting tid (its end), once its counts are read.
func (c *Counter) Forget(tid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.threads, tid)
}

// Begin starts a run of app thread tid on stub thread stubTID, if the
// counter counts tid. An error says Linux refused the counter on that
// stub (once: the thread's runs there count nothing).
func (c *Counter) Begin(tid, stubTID int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	th := c.threads[tid]
	if th == nil || th.runFD >= 0 || c.closed {
		return nil // not counted, or in a run already
	}
	fd, err := c.fdOn(stubTID)
	if fd < 0 {
		return err
	}
	r, err := read(fd)
	if err != nil {
		return err
	}
	th.runFD, th.start = fd, r
	return nil
}

// End ends tid's run in progress, adding what it counted.
func (c *Counter) End(tid int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	th := c.threads[tid]
	if th == nil || th.runFD < 0 {
		return nil
	}
	count, lost, err := th.sinceStart()
	th.count += count
	th.lost += lost
	th.runFD = -1
	return err
}

// sinceStart is what the run in progress counted so far, and the time
// Linux did not count it while it ran (multiplexed with other events).
func (th *thread) sinceStart() (count, lost uint64, err error) {
	r, err := read(th.runFD)
	if err != nil {
		return 0, 0, err
	}
	enabled, running := r.enabled-th.start.enabled, r.running-th.start.running
	return r.value - th.start.value, enabled - min(running, enabled), nil
}

// Read returns what tid counted, its run in progress included, and the
// ns it ran while Linux was not counting it.
func (c *Counter) Read(tid int) (count, lost uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	th := c.threads[tid]
	if th == nil {
		return 0, 0
	}
	count, lost = th.count, th.lost
	if th.runFD >= 0 {
		if n, l, err := th.sinceStart(); err == nil {
			count, lost = count+n, lost+l
		}
	}
	return count, lost
}

// Close closes every Linux counter; the counter counts nothing more.
func (c *Counter) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for th := range c.threads {
		delete(c.threads, th)
	}
	for stub, fd := range c.fds {
		if fd >= 0 {
			unix.Close(fd)
		}
		delete(c.fds, stub)
	}
	c.closed = true
}

// read reads a Linux counter.
func read(fd int) (reading, error) {
	var b [24]byte
	n, err := unix.Read(fd, b[:])
	if err != nil {
		return reading{}, fmt.Errorf("read perf counter: %w", err)
	}
	if n != len(b) {
		return reading{}, fmt.Errorf("read perf counter: %d bytes", n)
	}
	le := binary.LittleEndian
	return reading{le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:])}, nil
}
