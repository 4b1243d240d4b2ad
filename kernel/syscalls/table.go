package syscalls

import (
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/syscalls/sysno"
	"github.com/gomck/gomck/kernel/task"
)

// Action tells the CPU loop what to do after a call.
type Action int

const (
	Continue    Action = iota
	Block              // the thread sleeps; its result is set when it wakes
	Yield              // the thread goes to the back of its run queue
	ExitThread         // the thread ends with Call.ExitCode
	ExitProcess        // the process ends: Call.ExitCode / Call.ExitSignal
)

// Env is what handlers need to know of the instance.
type Env struct {
	// HostCPUs names the LWK CPUs as the app sees them. The vDSO's getcpu
	// reports host CPU numbers and cannot be intercepted, so affinity masks
	// use them too (McKernel numbers its CPUs from 0).
	HostCPUs      []int
	CPUNodes      []int // NUMA node of each LWK CPU
	OffloadSpin   int
	Oversubscribe bool // mcreboot -O: more threads than CPUs allowed
	Kernel        Kernel
	// LWKType is the lwk PMU's perf_event_attr.type (perf.LWKType).
	LWKType uint32
	// Uncounted turns the syscall counters off (ihkosctl N counting
	// off): no per-call time or counts, so the LWK events, profiles and
	// PAPI's page stand still. It is there to measure what counting costs.
	Uncounted atomic.Bool
}

// Kernel is the scheduler and thread services the handlers call.
type Kernel interface {
	// Clone creates a thread in parent's process starting with regs;
	// prepare runs before it can run, on another CPU perhaps.
	Clone(parent *task.Thread, regs unix.PtraceRegs, prepare func(*task.Thread)) (*task.Thread, error)
	// Sleep blocks t until woken or, if deadline > 0, until then
	// (returning timeoutRet). Cancel undoes it when t did not block.
	Sleep(t *task.Thread, deadline, timeoutRet int64)
	Cancel(t *task.Thread)
	// FutexWait queues t on w's key if the word still holds val under
	// the table lock.
	FutexWait(t *task.Thread, w mm.FutexWord, bits, val uint32) bool
	FutexWake(key uint64, n int, bits uint32) int
	FutexRequeue(key, key2 uint64, n, m int) int
	// Signal queues sig for thread t, or for the process when t is nil,
	// waking a thread that can take it.
	Signal(p *task.Process, t *task.Thread, sig int, info task.SigInfo)
	// ParkOffload gives t's CPU to other threads while its offloaded call
	// is in flight, if any could use it; the CPU wakes t with a's answer.
	ParkOffload(t *task.Thread, a sched.Answer) bool
	// Waiting marks t's CPU as waiting for Linux (on) or working again:
	// the watchdog takes a CPU that stays in the kernel for a hung one.
	Waiting(t *task.Thread, on bool)
	// TakeSignal removes a pending signal of t within set.
	TakeSignal(t *task.Thread, set uint64) (int, task.SigInfo, bool)
	// SetRealTimer arms ITIMER_REAL (0 disarms) and returns what it was
	// (time left, interval), in ns.
	SetRealTimer(p *task.Process, value, interval int64) (int64, int64)
	// Exec replaces t's process image with the executable mcexec opened
	// as descriptor fd. Once past the point of no return (committed), an
	// error means the process cannot go on.
	Exec(t *task.Thread, fd int, argv, envp []string) (committed bool, err error)
	// Fork makes a child process of t's that starts with regs; Forked
	// completes it with its proxy's pid, or discards it when err is set.
	Fork(t *task.Thread, regs unix.PtraceRegs, childSignal int) (*task.Process, error)
	Forked(parent, child *task.Process, pid int, err error, prepare func()) error
	// Stage copies the parent's memory for the child and readies what it
	// can of the child on t's CPU meanwhile.
	Stage(t *task.Thread, child *task.Process)
	// ChildPIDs lists the pids p's unreaped children hold.
	ChildPIDs(p *task.Process) []int
	// WaitChild finds a child matching pid (wait4's argument) with a
	// change options ask for (waitid's WEXITED, WSTOPPED, WCONTINUED) and
	// takes it unless WNOWAIT; found is false when no child matches.
	WaitChild(t *task.Thread, pid, options int) (st task.WaitStatus, found, ok bool)
	// KillPID signals the LWK process pid; false if pid is not the LWK's.
	KillPID(t *task.Thread, pid, sig int, info task.SigInfo) bool
	// View renders the LWK's view of an absolute /proc or /sys path for t
	// and returns the file standing for it; false leaves the path Linux's.
	View(t *task.Thread, path string) (string, bool)
	// SliceNs is how long t, the thread of the calling CPU, has held it
	// since it was last picked: its run time not yet in Stats.RunNs.
	SliceNs(t *task.Thread) uint64
	// CPUQueue is the run queue of t's CPU: its kicks say another thread
	// became runnable there (or the CPU got other work).
	CPUQueue(t *task.Thread) *sched.Queue
	// FindThread finds the live LWK thread tid (a pid names its
	// process's first thread), nil if there is none.
	FindThread(tid int) *task.Thread
	// CPUStats are LWK CPU cpu's counters.
	CPUStats(cpu int) *stats.CPU
}

// Call is one system call in progress.
type Call struct {
	T          *task.Thread
	Nr         uint64
	Args       [6]uint64
	Env        *Env
	Action     Action
	ExitCode   int
	ExitSignal int
	// Offloaded says mcexec served the call.
	Offloaded bool
	// Counted says the call was counted (Env.Uncounted was off).
	Counted bool
	// servedLocally says a prepared call's handler served it without
	// mcexec (read on a perf event's descriptor).
	servedLocally bool
	// view rewrites the call's path argument when it names an LWK view.
	view *pathView
}

type handler func(c *Call) int64

// route is how Dispatch serves one call number.
type route struct {
	serve handler
	kind  sysno.Kind
}

// routes follows sysno's table: offloaded calls take offload, refused
// ones return their errno, and local and prepared ones take the handler
// their family file registers. An array, not a map: it is read at every
// syscall stop.
var routes = tableRoutes()

func tableRoutes() (rs [sysno.Limit]route) {
	for nr := range rs {
		e, _ := sysno.Lookup(uint64(nr))
		rs[nr].kind = e.Kind
		switch e.Kind {
		case sysno.Offloaded:
			rs[nr].serve = offload
		case sysno.Refused:
			ret := -int64(e.Errno)
			rs[nr].serve = func(*Call) int64 { return ret }
		}
	}
	return rs
}

// register makes h the handler of calls nrs, which sysno's table must
// list as local or prepared, each with the family of h's file (a test
// checks that, and that no call of the table lacks its handler).
func register(h handler, nrs ...uint64) {
	for _, nr := range nrs {
		if k := sysno.KindOf(nr); k != sysno.Local && k != sysno.Prepared {
			panic(fmt.Sprintf("syscalls: a handler for %s (%d), which sysno's table lists as %v", sysno.Name(nr), nr, k))
		}
		if routes[nr].serve != nil {
			panic(fmt.Sprintf("syscalls: a second handler for %s (%d)", sysno.Name(nr), nr))
		}
		routes[nr].serve = h
	}
}

// unlisted serves numbers past sysno's table: offloaded, Linux answers.
var unlisted = route{serve: offload, kind: sysno.Offloaded}

// Dispatch executes the syscall the thread stopped in, writes its result
// into the thread's rax and accounts for it: prepared calls count as
// offloaded, since mcexec executes them.
func Dispatch(t *task.Thread, env *Env) *Call {
	r := &t.Regs
	c := &Call{T: t, Nr: r.Orig_rax, Args: [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9}, Env: env}
	counted := !env.Uncounted.Load()
	var start uint64
	if counted {
		start = sched.Ticks()
	}
	t.Begin()
	t.Syscall = int64(c.Nr)
	t.End()
	rt := unlisted
	if c.Nr < uint64(len(routes)) {
		rt = routes[c.Nr]
	}
	ret := rt.serve(c)
	if t.Proc.CPUTimersArmed.Load() {
		cpuTimersDue(c) // ITIMER_VIRTUAL and ITIMER_PROF: no tick looks at them
	}
	t.Begin()
	if c.Action != Block {
		// A blocked call's result is set when the thread wakes; until then
		// mcps shows the syscall it sleeps in.
		r.Rax = uint64(ret)
		t.Syscall = task.NoSyscall
	}
	ofl := rt.kind.RunsOnLinux() && !c.servedLocally
	if counted {
		t.Stats.Syscall(c.Nr, sched.TicksNs(sched.Ticks()-start), ofl)
	}
	c.Offloaded, c.Counted = ofl, counted
	t.End()
	return c
}

func errno(e error) int64 {
	if en, ok := e.(unix.Errno); ok {
		return -int64(en)
	}
	return -int64(unix.EFAULT)
}
