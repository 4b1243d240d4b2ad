package ikc

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Layout of a channel memfd.
const (
	ChannelSize = 512 << 10
	headerSize  = 4096
	// SlotCount bounds a process's threads: each has its own slot. As
	// many as the cores of a big HPC node (OpenMP runs one thread per
	// CPU), and Go's threads blocked in system calls, with room to spare.
	SlotCount   = 256
	slotSize    = 128
	pathOffset  = headerSize + SlotCount*slotSize
	PathMax     = 512 // bytes of a slot's path buffer, NUL included
	logOffset   = 192 << 10
	logEntrySz  = 32
	LogCapacity = (ChannelSize - logOffset) / logEntrySz

	magic = 0x676f6d636b696b63 // "gomckikc"
)

// Slot states.
const (
	SlotFree    = 0
	SlotPosted  = 1 // request written by the LWK
	SlotTaken   = 2 // a worker executes it
	SlotDone    = 3 // response written
	SlotAborted = 4 // the channel was torn down while the request waited
)

// slotStates name the Slot* states by value.
var slotStates = [...]string{SlotFree: "free", SlotPosted: "posted", SlotTaken: "taken", SlotDone: "done", SlotAborted: "aborted"}

// SlotStateName names a slot state, as mcinspect shows it; "?" for a
// value no side writes (corrupt memory).
func SlotStateName(state uint32) string {
	if int(state) < len(slotStates) {
		return slotStates[state]
	}
	return "?"
}

// ReservedFD is the lowest descriptor mcexec keeps for itself: the app's
// are below it.
const ReservedFD = 900

// NrSync is a request that executes nothing: it makes a worker replay the
// mapping log (used when the log ring is full).
const NrSync = ^uint64(0)

// NrCloseOnExec makes mcexec close the app's close-on-exec descriptors
// (after an execve).
const NrCloseOnExec = ^uint64(0) - 1

// NrFork makes mcexec give a forked LWK process a child proxy: args are
// ForkArgs; the result is the proxy's Linux pid.
const NrFork = ^uint64(0) - 2

// header is the first page of a channel.
type header struct {
	Magic      uint64
	LogHead    uint64 // entries appended (LWK side)
	LogApplied uint64 // entries replayed (mcexec side)
	Doorbell   uint32 // futex: bumped for every posted request
	Aborted    uint32 // 1 once the LWK tore the process down
	Workers    uint32 // workers currently sleeping on Doorbell
	// High is one more than the highest slot ever posted: workers scan
	// the slots below it only.
	High     uint32
	Requests uint64 // offloads posted, for statistics
	// Ended is the attach token of the forked process whose channel this
	// was, once it ended before its proxy attached (SetEnded).
	Ended uint64
	Cred  credHeader // the app's credentials (SetCred)
}

// Slot is one offload request and its response.
type Slot struct {
	State uint32 // futex word, one of the Slot* states
	// Intr is set by the LWK when a signal interrupts the call: a worker
	// that has not started it answers EINTR; one that has is signalled.
	Intr   uint32
	Nr     uint64
	Args   [6]uint64
	PID    uint64
	TID    uint64
	Ret    int64
	Seq    uint64
	Worker uint64 // Linux tid of the worker executing the call
	// PathArg, when not 0, says that argument PathArg-1 is to be replaced
	// by a pointer to the slot's path buffer: the LWK rewrote a path (its
	// /proc and /sys views) and the app's own string stays untouched.
	PathArg uint64
	_       [2]uint64
}

// InterruptSignal is the Linux signal the LWK sends a worker to interrupt
// a call blocked in Linux; mcexec catches it without SA_RESTART.
const InterruptSignal = 62

// LogEntry maps [VA, VA+Len) of the app to partition offset Off, or unmaps
// it when Off is Unmapped.
type LogEntry struct {
	VA   uint64
	Len  uint64
	Off  uint64
	Prot uint64
}

// Unmapped marks a log entry that removes a range.
const Unmapped = ^uint64(0)

// ErrAborted is returned to a waiter whose channel was torn down.
var ErrAborted = errors.New("ikc: channel aborted")

// Channel is one side's view of a mapped channel.
type Channel struct {
	FD  int
	mem []byte
	hdr *header
	// slots is the slot array inside mem, typed so that the daemon's DWARF
	// describes it: mcinspect decodes the queued requests through it.
	slots *[SlotCount]Slot
	// closing guards mem against Interrupt and Abort from other
	// goroutines.
	closing sync.RWMutex
}

func init() {
	if unsafe.Sizeof(Slot{}) != slotSize || pathOffset+SlotCount*PathMax > logOffset || unsafe.Sizeof(header{}) > headerSize || unsafe.Sizeof(LogEntry{}) != logEntrySz {
		panic("ikc: layout sizes changed")
	}
}

// Create makes a new channel memfd and maps it (LWK side).
func Create(name string) (*Channel, error) {
	fd, err := unix.MemfdCreate("gomck-ikc-"+name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("ikc: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, ChannelSize); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ikc: size channel: %w", err)
	}
	c, err := Map(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	c.hdr.Magic = magic
	return c, nil
}

// Map maps an existing channel memfd (mcexec side, after SCM_RIGHTS).
func Map(fd int) (*Channel, error) {
	// Not populated: most of the log ring is never touched by a short run.
	mem, err := unix.Mmap(fd, 0, ChannelSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("ikc: map channel: %w", err)
	}
	c := &Channel{FD: fd, mem: mem, hdr: (*header)(unsafe.Pointer(&mem[0])), slots: (*[SlotCount]Slot)(unsafe.Pointer(&mem[headerSize]))}
	if c.hdr.Magic != 0 && c.hdr.Magic != magic {
		unix.Munmap(mem)
		return nil, fmt.Errorf("ikc: fd %d is not a channel", fd)
	}
	return c, nil
}

// Close unmaps the channel and closes its fd.
func (c *Channel) Close() error {
	c.closing.Lock()
	defer c.closing.Unlock()
	if c.mem == nil {
		return nil
	}
	err := unix.Munmap(c.mem)
	c.mem, c.hdr, c.slots = nil, nil, nil
	if cerr := unix.Close(c.FD); err == nil {
		err = cerr
	}
	return err
}

// Reset makes a channel whose process has ended, and whose proxy and
// LWK side are both done with it, as new for the proxy's next process: a
// reused child proxy keeps its channel mapped (kernel/session.go). Slot
// sequence numbers go on, so that a late Interrupt meant for the old
// process matches no call of the new one.
func (c *Channel) Reset() {
	for i := range atomic.LoadUint32(&c.hdr.High) {
		s := c.Slot(int(i))
		*s = Slot{Seq: s.Seq}
	}
	*c.hdr = header{Magic: magic}
}

// SetEnded records that the forked process with attach token, whose
// channel this was (reset since), ended before its proxy attached: a
// proxy that has the channel mapped from an earlier process learns so
// without asking the daemon (Ended).
func (c *Channel) SetEnded(token uint64) { atomic.StoreUint64(&c.hdr.Ended, token) }

// Ended returns the token SetEnded recorded.
func (c *Channel) Ended() uint64 { return atomic.LoadUint64(&c.hdr.Ended) }

// Slot returns slot i.
func (c *Channel) Slot(i int) *Slot {
	return &c.slots[i]
}

func (c *Channel) logEntry(seq uint64) *LogEntry {
	return (*LogEntry)(unsafe.Pointer(&c.mem[logOffset+int(seq%LogCapacity)*logEntrySz]))
}

// Requests is the number of requests posted so far.
func (c *Channel) Requests() uint64 { return atomic.LoadUint64(&c.hdr.Requests) }

// Aborted reports whether the LWK tore the channel down.
func (c *Channel) Aborted() bool { return atomic.LoadUint32(&c.hdr.Aborted) != 0 }

// Abort marks the channel dead and wakes every sleeper on both sides; on
// a closed channel it does nothing (a kill from another CPU may race with
// the end of the process, whose channel is then unmapped).
func (c *Channel) Abort() {
	c.closing.RLock()
	defer c.closing.RUnlock()
	if c.mem == nil {
		return
	}
	atomic.StoreUint32(&c.hdr.Aborted, 1)
	// Slots at or above High were never posted; one being posted now
	// sees the flag (post).
	for i := range int(atomic.LoadUint32(&c.hdr.High)) {
		s := c.Slot(i)
		if atomic.CompareAndSwapUint32(&s.State, SlotPosted, SlotAborted) ||
			atomic.CompareAndSwapUint32(&s.State, SlotTaken, SlotAborted) {
			futexWake(&s.State, 1)
		}
	}
	atomic.AddUint32(&c.hdr.Doorbell, 1)
	futexWake(&c.hdr.Doorbell, 1<<30)
}

// --- mapping log ---

// LogFull reports whether appending would overwrite entries mcexec has not
// replayed yet.
func (c *Channel) LogFull() bool {
	return atomic.LoadUint64(&c.hdr.LogHead)-atomic.LoadUint64(&c.hdr.LogApplied) >= LogCapacity
}

// AppendLog appends e; the caller checks LogFull first and syncs if needed.
func (c *Channel) AppendLog(e LogEntry) {
	head := atomic.LoadUint64(&c.hdr.LogHead)
	*c.logEntry(head) = e
	atomic.StoreUint64(&c.hdr.LogHead, head+1)
}

// ReplayLog calls apply for every entry not yet replayed, in order, and
// records them as replayed. Only one goroutine may replay at a time.
func (c *Channel) ReplayLog(apply func(LogEntry) error) error {
	head := atomic.LoadUint64(&c.hdr.LogHead)
	for seq := atomic.LoadUint64(&c.hdr.LogApplied); seq < head; seq++ {
		if err := apply(*c.logEntry(seq)); err != nil {
			return fmt.Errorf("ikc: replay mapping log entry %d: %w", seq, err)
		}
		atomic.StoreUint64(&c.hdr.LogApplied, seq+1)
	}
	return nil
}

// --- requests (LWK side) ---

// Post writes a request into slot i and rings the doorbell.
func (c *Channel) Post(i int, nr uint64, args [6]uint64, pid, tid uint64) {
	c.post(i, nr, args, pid, tid, 0)
}

// ErrPathTooLong is returned for a rewritten path that does not fit a
// slot's path buffer.
var ErrPathTooLong = errors.New("ikc: rewritten path too long")

// PostPath is Post with argument arg replaced by path, which mcexec passes
// from the slot's path buffer.
func (c *Channel) PostPath(i int, nr uint64, args [6]uint64, pid, tid uint64, arg int, path string) error {
	if len(path) >= PathMax {
		return ErrPathTooLong
	}
	buf := c.pathBuf(i)
	copy(buf, path)
	buf[len(path)] = 0
	c.post(i, nr, args, pid, tid, uint64(arg)+1)
	return nil
}

func (c *Channel) pathBuf(i int) []byte {
	return c.mem[pathOffset+i*PathMax : pathOffset+(i+1)*PathMax]
}

// PathArgument returns which argument of slot i's request mcexec replaces
// with a pointer to the slot's path buffer, and that pointer.
func (c *Channel) PathArgument(i int) (arg int, ptr uintptr, ok bool) {
	s := c.Slot(i)
	if s.PathArg == 0 || s.PathArg > 6 {
		return 0, 0, false
	}
	return int(s.PathArg - 1), uintptr(unsafe.Pointer(&c.pathBuf(i)[0])), true
}

func (c *Channel) post(i int, nr uint64, args [6]uint64, pid, tid, pathArg uint64) {
	s := c.Slot(i)
	s.Nr, s.Args, s.PID, s.TID, s.Ret, s.PathArg = nr, args, pid, tid, 0, pathArg
	atomic.StoreUint32(&s.Intr, 0)
	atomic.StoreUint64(&s.Worker, 0)
	atomic.AddUint64(&s.Seq, 1)
	for h := atomic.LoadUint32(&c.hdr.High); uint32(i) >= h; h = atomic.LoadUint32(&c.hdr.High) {
		if atomic.CompareAndSwapUint32(&c.hdr.High, h, uint32(i)+1) {
			break
		}
	}
	atomic.StoreUint32(&s.State, SlotPosted)
	// A request posted once the channel is torn down would wait forever:
	// no worker is left to take it. Abort sets the flag before it marks
	// the slots, so either it saw this one posted or this sees the flag.
	if c.Aborted() {
		atomic.CompareAndSwapUint32(&s.State, SlotPosted, SlotAborted)
		return
	}
	atomic.AddUint64(&c.hdr.Requests, 1)
	atomic.AddUint32(&c.hdr.Doorbell, 1)
	if atomic.LoadUint32(&c.hdr.Workers) > 0 {
		futexWake(&c.hdr.Doorbell, 1)
	}
}

// Wait waits for the response in slot i, spinning up to spin iterations
// before sleeping, and frees the slot. It returns ErrAborted if the channel
// is torn down meanwhile.
func (c *Channel) Wait(i int, spin int) (int64, error) {
	s := c.Slot(i)
	for n := 0; ; n++ {
		switch st := atomic.LoadUint32(&s.State); st {
		case SlotDone:
			ret := s.Ret
			atomic.StoreUint32(&s.State, SlotFree)
			return ret, nil
		case SlotAborted:
			atomic.StoreUint32(&s.State, SlotFree)
			return 0, ErrAborted
		default:
			if n < spin {
				spinPause()
				continue
			}
			futexWait(&s.State, st, 100_000_000)
		}
	}
}

// Poll spins up to spin iterations for the response in slot i, or until
// stop (checked every few iterations; nil for never) says the spin no
// longer pays. done is false if the response has not come yet (the slot
// stays posted: Wait later, or watch State).
func (c *Channel) Poll(i int, spin int, stop Stopper) (ret int64, done bool, err error) {
	s := c.Slot(i)
	for n := 0; n < spin; n++ {
		if st := atomic.LoadUint32(&s.State); st == SlotDone || st == SlotAborted {
			ret, err = c.Wait(i, 0)
			return ret, true, err
		}
		if n%stopEvery == 0 && stop != nil && stop.Stop() {
			break
		}
		spinPause()
	}
	return 0, false, nil
}

// Stopper ends Poll's spin: the LWK CPU has another thread to run
// (sched.Queue.SpinStop). An interface of a pointer, not a closure: Poll
// is on every offloaded call's path, which must not allocate for it.
type Stopper interface{ Stop() bool }

// stopEvery is how many spins Poll makes between calls of its stop.
const stopEvery = 16

// State returns slot i's state word, a futex word that Complete wakes,
// and what it holds now; answered once the response is in (or the
// channel is torn down): Wait then returns at once.
func (c *Channel) State(i int) (word *uint32, now uint32, answered bool) {
	s := c.Slot(i)
	st := atomic.LoadUint32(&s.State)
	return &s.State, st, st == SlotDone || st == SlotAborted
}

// Seq returns the sequence number of slot i's current request.
func (c *Channel) Seq(i int) uint64 { return atomic.LoadUint64(&c.Slot(i).Seq) }

// Interrupt marks the call seq in slot i interrupted. It returns the tid
// of the worker executing it, to be signalled, or 0 if none has started it;
// executing is false once the call is over (or the channel closed).
func (c *Channel) Interrupt(i int, seq uint64) (worker int, executing bool) {
	c.closing.RLock()
	defer c.closing.RUnlock()
	if c.mem == nil {
		return 0, false
	}
	s := c.Slot(i)
	if atomic.LoadUint64(&s.Seq) != seq {
		return 0, false
	}
	atomic.StoreUint32(&s.Intr, 1)
	switch atomic.LoadUint32(&s.State) {
	case SlotPosted:
		return 0, true
	case SlotTaken:
		return int(atomic.LoadUint64(&s.Worker)), true
	}
	return 0, false
}

// --- workers (mcexec side) ---

// Claim records the worker executing slot i; false means the call was
// interrupted before it started and must answer EINTR.
func (c *Channel) Claim(i int, tid int) bool {
	s := c.Slot(i)
	atomic.StoreUint64(&s.Worker, uint64(tid))
	return atomic.LoadUint32(&s.Intr) == 0
}

// Take blocks until a posted request is found and claims it, returning its
// slot index; it returns ErrAborted once the channel is torn down.
func (c *Channel) Take(spin int) (int, error) {
	for n := 0; ; n++ {
		bell := atomic.LoadUint32(&c.hdr.Doorbell)
		if c.Aborted() {
			return -1, ErrAborted
		}
		for i, high := 0, int(atomic.LoadUint32(&c.hdr.High)); i < high; i++ {
			s := c.Slot(i)
			if atomic.LoadUint32(&s.State) == SlotPosted && atomic.CompareAndSwapUint32(&s.State, SlotPosted, SlotTaken) {
				return i, nil
			}
		}
		if n < spin {
			spinPause()
			continue
		}
		atomic.AddUint32(&c.hdr.Workers, 1)
		futexWait(&c.hdr.Doorbell, bell, 0)
		atomic.AddUint32(&c.hdr.Workers, ^uint32(0))
	}
}

// Complete writes the response of a taken slot and wakes the LWK side.
func (c *Channel) Complete(i int, ret int64) {
	s := c.Slot(i)
	s.Ret = ret
	if atomic.CompareAndSwapUint32(&s.State, SlotTaken, SlotDone) {
		futexWake(&s.State, 1)
	}
}

// --- futex helpers: shared (not private) futexes, since both processes map the words ---

const (
	futexWaitOp = 0
	futexWakeOp = 1
)

func futexWait(addr *uint32, val uint32, timeoutNs int64) {
	var ts *unix.Timespec
	if timeoutNs > 0 {
		t := unix.NsecToTimespec(timeoutNs)
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
}

func futexWake(addr *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, uintptr(n), 0, 0, 0)
}

func spinPause() {
	// A few empty iterations between loads; runtime.Gosched would yield the
	// locked OS thread's P and cost far more than the wait it saves.
	for i := 0; i < 32; i++ {
		_ = i
	}
}
