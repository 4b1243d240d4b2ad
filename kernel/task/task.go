package task

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/platform"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/perf"
	"github.com/gomck/gomck/perf/sde"
)

// ThreadState is a thread's scheduling state, shown by mcps as ST
// (package lwkabi, shared with inspect/; Letter is ps's letter).
type ThreadState = lwkabi.ThreadState

// The states, by their kernel names.
const (
	Runnable = lwkabi.Runnable
	Running  = lwkabi.Running // current on its CPU
	Offload  = lwkabi.Offload // waiting for mcexec
	Sleeping = lwkabi.Sleeping
	Zombie   = lwkabi.Zombie
	Stopped  = lwkabi.Stopped // its process is stopped (job control); on no run queue
)

// NoSyscall marks a thread that is not in a system call.
const NoSyscall = -1

// Thread is one app thread.
type Thread struct {
	Seq     uint64
	TID     int
	Proc    *Process
	Slot    int // the IKC slot its offloaded calls use, unique in the process
	CPU     int // LWK CPU index
	State   ThreadState
	Syscall int64 // number of the syscall in progress, or NoSyscall
	Regs    unix.PtraceRegs
	// ClearChildTID is set_tid_address's pointer.
	ClearChildTID uint64
	// Comm is the name prctl(PR_SET_NAME) gave the thread; empty, its
	// executable's (Name).
	Comm [NameLen]byte
	// RetriedFault is the address of the last fault on a page found
	// populated, retried once (mm.FaultPopulated).
	RetriedFault uint64
	SigMask      uint64
	// Pending holds signals sent to this thread (bit sig-1), set from any
	// CPU; Info the siginfo of each, for SA_SIGINFO handlers, written
	// before the bit.
	Pending  atomic.Uint64
	Info     [64]SigInfo
	AltStack AltStack
	// SuspendMask is the mask rt_sigsuspend replaced, restored once a
	// handler runs (HasSuspendMask says it is set).
	SuspendMask    uint64
	HasSuspendMask bool
	// WaitSet is the set rt_sigtimedwait waits for: those signals wake the
	// thread even while blocked, and its call is restarted to take them.
	WaitSet uint64
	// Stats are the thread's counters; its CPU adds to Stats.RunNs when
	// the thread leaves it.
	Stats stats.Thread
	// Published is what Stats has added to the process's counters page.
	Published sde.Published
	// Publishing says Published was marked since the process's page got
	// a reader (Process.CountersRead): from then on the thread publishes.
	Publishing bool
	// FPState is the XSAVE area saved when the thread left its stub.
	FPState []byte
	// While blocked: when to give up (monotonic ns, 0 = never), what the
	// syscall returns then, and the futex waited on.
	Deadline   int64
	TimeoutRet int64
	FutexKey   uint64
	FutexBits  uint32
	Waiting    bool // in a futex queue
	// FutexBlocked is set from a futex wait's queueing until the thread
	// runs again, whatever ended the wait (settleFutexWait).
	FutexBlocked bool
	// WaitChild is set while the thread sleeps in wait4/waitid: a child's
	// exit restarts its call. WaitPID is the call's pid (wait4's form).
	WaitChild bool
	WaitPID   int
	// VforkChild is the pid of the vfork child the thread waits for, 0
	// when none: until that child execs or exits, signals stay pending.
	VforkChild int
	// OffloadSeq is the IKC sequence number of the offloaded call the
	// thread waits for, 0 when none: a signal interrupts that call.
	OffloadSeq atomic.Uint64
	// Interrupted says a signal cut the thread's call short (-EINTR):
	// signal delivery decides whether it restarts (SA_RESTART).
	Interrupted atomic.Bool
	// Affinity is the set of LWK CPUs (by index) the thread may run on,
	// 0 for all (sched_setaffinity).
	Affinity uint64
	// Gone is set when the thread was ended from another CPU (exec, the
	// process's end) while it may be running: its CPU drops it.
	Gone atomic.Bool
}

// AllowedOn reports whether the thread may run on LWK CPU cpu.
func (t *Thread) AllowedOn(cpu int) bool {
	return t.Affinity == 0 || t.Affinity&(1<<cpu) != 0
}

// Begin and End bracket a change of the thread record.
func (t *Thread) Begin() { atomic.AddUint64(&t.Seq, 1) }
func (t *Thread) End()   { atomic.AddUint64(&t.Seq, 1) }

// SigAction is an installed signal disposition, in the kernel's layout.
type SigAction struct {
	Handler, Flags, Restorer, Mask uint64
}

// Dispositions and sigaction flags.
const (
	SigDefault = 0
	SigIgnore  = 1

	SaSigInfo   = 0x4
	SaOnStack   = 0x08000000
	SaRestart   = 0x10000000
	SaNoDefer   = 0x40000000
	SaResetHand = 0x80000000
	SaRestorer  = 0x04000000
)

// SigInfo is what a handler learns about a signal.
type SigInfo struct {
	Code int32
	PID  int32
	UID  uint32
	Addr uint64
	// Value is si_status for SIGCHLD, si_value for sigqueue.
	Value uint64
}

// Bytes lays the siginfo out as the kernel does (128 bytes).
func (i SigInfo) Bytes(sig int) [128]byte {
	var b [128]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(sig))
	le.PutUint32(b[8:], uint32(i.Code))
	if i.Addr != 0 {
		le.PutUint64(b[16:], i.Addr)
		return b
	}
	le.PutUint32(b[16:], uint32(i.PID))
	le.PutUint32(b[20:], i.UID)
	le.PutUint64(b[24:], i.Value)
	return b
}

// QueuedSignal is one queued instance of a real-time signal, for a thread
// (TID) or the process (TID 0).
type QueuedSignal struct {
	Sig, TID int
	Info     SigInfo
}

// SigRTMin is the first real-time signal (the kernel's; glibc reserves
// two more).
const SigRTMin = 32

// NSig is the last signal number (Linux's _NSIG).
const NSig = 64

// AltStack is a thread's sigaltstack.
type AltStack struct {
	SP    uint64
	Flags int32
	_     int32
	Size  uint64
}

// Process is one LWK process.
type Process struct {
	Seq uint64
	PID int
	// PPID is the parent's LWK pid; a process mcexec started has mcexec
	// (its proxy) as parent, as on McKernel.
	PPID     int
	PGID     int
	SID      int
	ProxyPID int // the mcexec serving the process, on Linux
	Home     int // the LWK CPU of Stub, where the process was placed
	Exe      string
	Args     []string
	Env      []string // as the image started with them
	// StackStart is where the initial stack's argc lies.
	StackStart uint64
	// Cred changes under CredMu (threads of the process on other CPUs
	// read it).
	Cred   Cred
	CredMu sync.Mutex
	Start  int64 // unix ns
	MM     *mm.AddressSpace
	// Threads changes under ThreadsMu (threads of one process clone and
	// end on several CPUs at once), always into a new array, so that a
	// reader without the lock sees a whole list.
	Threads   []*Thread
	ThreadsMu sync.Mutex
	// reserved marks the IKC slots given to threads being created, not in
	// Threads yet, guarded by ThreadsMu.
	reserved [ikc.SlotCount]bool
	Stub     *Context // the host context on Home
	Chan     *ikc.Channel
	Auxv     []uint64
	// Counters is the process's PAPI counters page (package perf/sde), in
	// the direct map; nil if it has none.
	Counters *sde.Page
	// CountersRead says the image reads its counters page (its library
	// said so, madvise(MADV_WILLNEED) on the page): only then do its
	// threads publish to it, which costs a local call 2% on this VM.
	CountersRead atomic.Bool
	VDSO         uint64 // where the app's vDSO is: every stub of it must have it there
	// CPUShare is the LWK CPUs (by index) of the process's share of a
	// partitioned execution (mcexec -n), 0 outside one; its threads and
	// forked children stay in it. LocalRank is its rank there.
	CPUShare  uint64
	LocalRank int
	Rlimits   [16]unix.Rlimit
	SigActs   [NSig + 1]SigAction
	// Exit status once the process is gone: ExitCode, or ExitSignal > 0
	// when it died of a signal.
	ExitCode   int
	ExitSignal int
	Exited     bool
	// DeathInfo is the siginfo of the signal the process dies of, for its
	// core; CoreDumped says a core was written (WCOREDUMP).
	DeathInfo  SigInfo
	CoreDumped bool
	// Pending holds process-directed signals, set by any goroutine
	// (atomically), taken by the first thread that does not block them.
	Pending     atomic.Uint64
	PendingInfo [64]SigInfo
	// Queued holds further instances of real-time signals already pending
	// (they queue, unlike standard ones), guarded by QueueMu.
	QueueMu sync.Mutex
	Queued  []QueuedSignal
	// Kill is set (to a signal number) by another goroutine to make the
	// process die; its CPU checks it at the next stop.
	Kill atomic.Int32

	// Job control (SIGSTOP, SIGCONT), guarded by Table.TreeMu; Stopped
	// is also read without it before every resume. StopReport is the stop
	// signal wait has yet to report (WUNTRACED), ContReport a continue it
	// has yet to report (WCONTINUED). ProxyStopped says the LWK stopped
	// mcexec along with the process. StopQueued says its CPU has been
	// asked to carry out a stop signal (once, however many come).
	Stopped      atomic.Bool
	StopReport   int
	ContReport   bool
	ProxyStopped bool
	StopQueued   atomic.Bool
	// Frozen holds the threads off their CPUs, unseen by the parent and
	// mcexec, while a core of the live process is taken (mcgcore); CoreMu
	// is held meanwhile, and by the process's end before its memory goes.
	Frozen atomic.Bool
	CoreMu sync.Mutex

	// RealTimer is ITIMER_REAL (alarm, setitimer); guarded by TimerMu.
	TimerMu      sync.Mutex
	RealTimer    *time.Timer
	RealDeadline int64 // unix ns, 0 when disarmed
	RealInterval int64 // ns
	// PosixTimers are timer_create's, by id (TimerMu too).
	PosixTimers map[int]*PosixTimer
	// CPUTimers are ITIMER_VIRTUAL's and ITIMER_PROF's (index 1, 2;
	// TimerMu too); CPUTimersArmed says one is armed.
	CPUTimers      [3]CPUTimer
	CPUTimersArmed atomic.Bool
	// Offloads counts parked offloaded calls whose answers the CPUs have not
	// taken yet: their slots are in Chan.
	Offloads sync.WaitGroup

	// The process tree, guarded by Table.TreeMu. Exited children stay in
	// Children (zombies) until wait reaps them.
	Parent   *Process
	Children []*Process
	// ChildSignal is sent to the parent at exit (clone's low byte, SIGCHLD).
	ChildSignal int
	// Usage is what getrusage reports beside the live threads' counters
	// (UsageMu guards it: threads end on several CPUs).
	UsageMu sync.Mutex
	Usage   stats.Usage
	// Profile collects its threads' system calls as they end, for
	// mcexec --profile; nil when not profiled.
	Profile *stats.Profile
	// Undumpable is 1 - prctl's PR_GET_DUMPABLE; PDeathSig is the signal
	// the process gets when its parent ends (PR_SET_PDEATHSIG), 0 for none.
	Undumpable, PDeathSig atomic.Int32
	// A forked process's proxy attaches with Token; Attached is set then.
	Token    uint64
	Attached bool
	// VforkParent is the thread that vforked the process and sleeps
	// until it execs or exits.
	VforkParent *Thread
	// Viewed is set once a /proc view of the process was asked for: only
	// then is there one to remove at its end.
	Viewed atomic.Bool
	// Perf are the process's open perf events (perf_event_open).
	Perf perf.Table

	// stubs are the stub threads of the process by LWK CPU, Stub's CPU
	// among them; threads on other CPUs run in threads of Stub's process.
	stubsMu sync.Mutex
	stubs   map[int]*Context
	ending  atomic.Bool

	done chan struct{}
	once sync.Once
}

// StubOn returns the process's stub thread on LWK CPU c, or nil.
func (p *Process) StubOn(c int) *Context {
	p.stubsMu.Lock()
	defer p.stubsMu.Unlock()
	return p.stubs[c]
}

// SetStub records the stub thread on LWK CPU c.
func (p *Process) SetStub(c int, s *Context) {
	p.stubsMu.Lock()
	defer p.stubsMu.Unlock()
	if p.stubs == nil {
		p.stubs = map[int]*Context{}
	}
	p.stubs[c] = s
}

// Stubs returns every stub thread of the process.
func (p *Process) Stubs() []*Context {
	p.stubsMu.Lock()
	defer p.stubsMu.Unlock()
	out := make([]*Context, 0, len(p.stubs))
	for _, s := range p.stubs {
		out = append(out, s)
	}
	return out
}

// Context is a process's host context on one LWK CPU (platform.Context)
// with what the kernel keeps of it.
type Context struct {
	platform.Context
	// PID is the host context's tid, as plain data for readers.
	PID int
	// FPOwner is the app thread whose FPU state the context holds, 0 for
	// none: switching threads switches that state only when it changes.
	FPOwner int
}

// NewContext wraps a host context for a process.
func NewContext(c platform.Context) *Context { return &Context{Context: c, PID: c.HostTID()} }

// BeginEnd reports whether the caller is the one to end the process:
// CPUs running its threads may all notice its end at once.
func (p *Process) BeginEnd() bool { return p.ending.CompareAndSwap(false, true) }

// AwaitCore waits until a core of the live process being copied (mcgcore
// holds CoreMu meanwhile) is copied: its memory must stay until then. One
// not begun yet gives up, as it finds Ending set.
func (p *Process) AwaitCore() {
	p.CoreMu.Lock()
	//lint:ignore SA2001 taking the lock is the wait
	p.CoreMu.Unlock()
}

// Ending reports whether the process's end has begun.
func (p *Process) Ending() bool { return p.ending.Load() }

// NewProcess returns a process record; Done is closed when it has exited.
func NewProcess(pid int) *Process {
	return &Process{PID: pid, PGID: pid, Start: time.Now().UnixNano(), done: make(chan struct{})}
}

// Done is closed once the process has exited and released its memory.
func (p *Process) Done() <-chan struct{} { return p.done }

// Finish records the exit status and releases waiters, once.
func (p *Process) Finish(code, sig int) {
	p.once.Do(func() {
		atomic.AddUint64(&p.Seq, 1)
		p.ExitCode, p.ExitSignal, p.Exited = code, sig, true
		atomic.AddUint64(&p.Seq, 1)
		close(p.done)
	})
}

// ReserveSlot returns an IKC slot that no thread of p uses and none being
// created was given, or -1; AddThread or UnreserveSlot ends the
// reservation. Two threads cloning on two CPUs at once must not get the
// same slot: each would then take the other's answers.
func (p *Process) ReserveSlot() int {
	p.ThreadsMu.Lock()
	defer p.ThreadsMu.Unlock()
	used := p.reserved
	for _, t := range p.Threads {
		used[t.Slot] = true
	}
	for i, u := range used {
		if !u {
			p.reserved[i] = true
			return i
		}
	}
	return -1
}

// UnreserveSlot gives back a slot ReserveSlot returned for a thread that
// was not created.
func (p *Process) UnreserveSlot(slot int) {
	p.ThreadsMu.Lock()
	p.reserved[slot] = false
	p.ThreadsMu.Unlock()
}

// AddThread adds t, whose slot ReserveSlot returned, to p's threads.
func (p *Process) AddThread(t *Thread) {
	p.ThreadsMu.Lock()
	defer p.ThreadsMu.Unlock()
	p.Begin()
	p.Threads = append(p.Threads[:len(p.Threads):len(p.Threads)], t)
	p.reserved[t.Slot] = false
	p.End()
}

// RemoveThread removes t from p's threads.
func (p *Process) RemoveThread(t *Thread) {
	p.ThreadsMu.Lock()
	defer p.ThreadsMu.Unlock()
	p.Begin()
	for i, o := range p.Threads {
		if o == t {
			p.Threads = append(p.Threads[:i:i], p.Threads[i+1:]...)
			break
		}
	}
	p.End()
}

// Begin and End bracket a change of the process record.
func (p *Process) Begin() { atomic.AddUint64(&p.Seq, 1) }
func (p *Process) End()   { atomic.AddUint64(&p.Seq, 1) }

// WaitStatus describes what wait4 and waitid report of a child: its end,
// or a stop (by signal Stopped) or a continue.
type WaitStatus struct {
	PID, UID int
	// Usage is an exited child's own counters and its reaped children's
	// (wait4's rusage), MaxRSS its largest resident size.
	Usage        stats.Counters
	MaxRSS       uint64
	Code, Signal int
	Core         bool
	Stopped      int
	Continued    bool
}

// Status is the wait4 status word.
func (w WaitStatus) Status() int {
	switch {
	case w.Stopped != 0:
		return w.Stopped<<8 | 0x7f
	case w.Continued:
		return 0xffff
	case w.Core:
		return w.Signal | 0x80
	case w.Signal != 0:
		return w.Signal
	}
	return (w.Code & 0xff) << 8
}

// SIGCHLD si_code values.
const (
	CldExited    = 1
	CldKilled    = 2
	CldDumped    = 3
	CldStopped   = 5
	CldContinued = 6
)

// SigInfo is the siginfo of SIGCHLD (and waitid) for the child's change.
func (w WaitStatus) SigInfo() SigInfo {
	info := SigInfo{Code: CldExited, PID: int32(w.PID), UID: uint32(w.UID), Value: uint64(w.Code)}
	switch {
	case w.Stopped != 0:
		info.Code, info.Value = CldStopped, uint64(w.Stopped)
	case w.Continued:
		info.Code, info.Value = CldContinued, uint64(unix.SIGCONT)
	case w.Signal != 0:
		info.Code, info.Value = CldKilled, uint64(w.Signal)
		if w.Core {
			info.Code = CldDumped
		}
	}
	return info
}
