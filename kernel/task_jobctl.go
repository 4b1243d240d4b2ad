package kernel

import (
	"math/bits"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// Job control stops and continues whole processes, as Linux does:
//
//   - A stop signal (SIGSTOP; SIGTSTP, SIGTTIN and SIGTTOU unless caught
//     or ignored) stops the process. Its threads finish what they are
//     doing in the LWK (a sleep, an offloaded call), but none resumes app
//     code: each waits in state Stopped, on no run queue, until SIGCONT.
//     Threads that sleep are not woken: the stop is carried out by a
//     running thread of the process, or else by its CPU.
//   - SIGCONT continues it, even when blocked, ignored or caught (a
//     handler then runs after the continue), and drops pending stop
//     signals; a stop signal drops a pending SIGCONT. SIGKILL and other
//     fatal signals end a stopped process at once.
//   - The parent's wait4 and waitid (WUNTRACED, WCONTINUED) report each
//     change once; SIGCHLD (CLD_STOPPED, CLD_CONTINUED) tells it unless
//     it set SA_NOCLDSTOP.
//   - mcexec stops with its process (the LWK sends it SIGSTOP), so that
//     the shell that started it sees the job stopped. mcexec forwards
//     SIGTSTP, SIGTTIN, SIGTTOU and SIGCONT like other signals, so Ctrl-Z,
//     fg and kill -CONT of mcexec act on the app. The LWK continues a
//     proxy it stopped whenever the process continues.

const (
	stopSignals = uint64(1)<<(unix.SIGSTOP-1) | 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)
	contSignal  = uint64(1) << (unix.SIGCONT - 1)
)

// jobSignal reports the stop signals and SIGCONT.
func jobSignal(sig int) bool { return (stopSignals|contSignal)&(1<<(sig-1)) != 0 }

// defaultStops are the stop signals whose action in p is to stop it.
func defaultStops(p *task.Process) uint64 {
	var set uint64
	for s := stopSignals; s != 0; s &= s - 1 {
		if p.SigActs[bits.TrailingZeros64(s)+1].Handler == task.SigDefault {
			set |= s & -s
		}
	}
	return set
}

// jobControl does at once what sending sig to p does before the signal
// is queued (or found ignored): SIGCONT continues p, a stop signal drops
// a pending SIGCONT.
func (k *OS) jobControl(p *task.Process, sig int) {
	switch bit := uint64(1) << (sig - 1); {
	case bit == contSignal:
		k.continueProcess(p)
	case bit&stopSignals != 0:
		dropPending(p, contSignal)
	}
}

// dropPending drops the signals in set pending for p and for its threads.
func dropPending(p *task.Process, set uint64) {
	p.Pending.And(^set)
	for _, t := range p.Threads {
		t.Pending.And(^set)
	}
}

// queueStop has p's CPU carry out a stop signal sent to p, in case none
// of its threads runs to take it: sleepers are left asleep. One request
// serves any number of signals, so that a kill loop cannot fill the CPU's
// work queue.
func (k *OS) queueStop(p *task.Process) {
	if len(p.Threads) == 0 || !p.StopQueued.CompareAndSwap(false, true) {
		return
	}
	k.CPUs[p.Threads[0].CPU].Go(func() {
		p.StopQueued.Store(false)
		if p.Exited {
			return
		}
		for _, t := range p.Threads {
			if k.jobStop(t) {
				return
			}
		}
	})
}

// jobStop carries out the lowest stop signal pending for t whose action
// is to stop, and reports whether t's process is stopped. It runs on t's
// CPU, before t resumes.
func (k *OS) jobStop(t *task.Thread) bool {
	p := t.Proc
	for !p.Stopped.Load() {
		sig := pendingStop(t)
		switch {
		case sig == 0:
			return false
		case sig != int(unix.SIGSTOP) && orphanedGroup(k.pgid(p), p.ProxyPID):
			// Linux discards it: nobody would continue the group.
			TakeSignal(t, 1<<(sig-1))
		default:
			k.stop(t, sig)
		}
	}
	return true
}

// pendingStop returns the lowest stop signal t can take that stops its
// process, or 0.
func pendingStop(t *task.Thread) int {
	ready := (t.Pending.Load() | t.Proc.Pending.Load()) & stopSignals &^ t.SigMask
	if ready != 0 {
		ready &= defaultStops(t.Proc)
	}
	if ready == 0 {
		return 0
	}
	return bits.TrailingZeros64(ready) + 1
}

// stop takes sig from t's pending signals and stops t's process with it,
// unless SIGCONT dropped it meanwhile: the take and the stop happen under
// TreeMu, as SIGCONT's continue does.
func (k *OS) stop(t *task.Thread, sig int) {
	p := t.Proc
	serving := p.Token == 0 || k.attached(p)
	k.Procs.TreeMu.Lock()
	_, _, took := TakeSignal(t, 1<<(sig-1))
	if took {
		p.Stopped.Store(true)
		p.StopReport, p.ContReport = sig, false
		// A forked child's proxy that has not attached yet is left
		// running: it must attach in time.
		if serving && unix.Kill(p.ProxyPID, unix.SIGSTOP) == nil {
			p.ProxyStopped = true
		}
	}
	parent := p.Parent
	k.Procs.TreeMu.Unlock()
	if took {
		k.Kmsg.Printf("pid %d: stopped by signal %d", p.PID, sig)
		k.tellParent(parent, task.WaitStatus{PID: p.PID, UID: p.Cred.UID, Stopped: sig})
	}
}

// parkStopped takes t off its CPU while its process is stopped or frozen;
// continueProcess or thaw puts it back on its run queue.
func (k *OS) parkStopped(t *task.Thread) bool {
	p := t.Proc
	if !p.Stopped.Load() && !p.Frozen.Load() {
		return false
	}
	k.Procs.TreeMu.Lock()
	defer k.Procs.TreeMu.Unlock()
	if !p.Stopped.Load() && !p.Frozen.Load() {
		return false
	}
	t.Begin()
	t.State = task.Stopped
	t.End()
	return true
}

// continueProcess is SIGCONT's effect on p: pending stop signals are
// dropped and, if p is stopped, its threads run again, its parent learns
// it, and its mcexec continues too.
func (k *OS) continueProcess(p *task.Process) {
	dropPending(p, stopSignals)
	var parked []*task.Thread
	k.Procs.TreeMu.Lock()
	stopped := p.Stopped.Load() && !p.Exited
	if stopped {
		p.Stopped.Store(false)
		p.StopReport, p.ContReport = 0, true
		for _, t := range p.Threads {
			if t.State == task.Stopped {
				parked = append(parked, t)
			}
		}
		resumeProxy(p)
	}
	parent := p.Parent
	k.Procs.TreeMu.Unlock()
	if !stopped {
		return
	}
	for _, t := range parked {
		k.CPUs[t.CPU].Queue.Push(t)
	}
	k.Kmsg.Printf("pid %d: continued", p.PID)
	k.tellParent(parent, task.WaitStatus{PID: p.PID, UID: p.Cred.UID, Continued: true})
}

// resumeProxy continues p's mcexec if the LWK stopped it. The SIGCONT
// goes to a thread that blocks it (a worker): mcexec continues as a whole,
// but runs no handler, so it does not forward the SIGCONT back to p as it
// does one a user sends. TreeMu is held.
func resumeProxy(p *task.Process) {
	if p.ProxyStopped {
		p.ProxyStopped = false
		unix.Tgkill(p.ProxyPID, contBlocker(p.ProxyPID), unix.SIGCONT)
	}
}

// contBlocker returns a thread of process pid that blocks SIGCONT, or pid
// if none does.
func contBlocker(pid int) int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	tasks, _ := os.ReadDir(dir)
	for _, d := range tasks {
		b, _ := os.ReadFile(dir + d.Name() + "/status")
		_, rest, _ := strings.Cut(string(b), "SigBlk:")
		mask, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
		if blocked, err := strconv.ParseUint(mask, 16, 64); err == nil && blocked&contSignal != 0 {
			if tid, err := strconv.Atoi(d.Name()); err == nil {
				return tid
			}
		}
	}
	return pid
}

// releaseProxy lets the mcexec of the ended process p run, if the LWK had
// stopped it, so that it receives the exit status.
func (k *OS) releaseProxy(p *task.Process) {
	k.Procs.TreeMu.Lock()
	resumeProxy(p)
	k.Procs.TreeMu.Unlock()
}

// saNoCldStop is SA_NOCLDSTOP: no SIGCHLD for a child's stop or continue.
const saNoCldStop = 1

// tellParent reports a child's stop or continue st to parent: SIGCHLD
// unless it set SA_NOCLDSTOP, and its waiting threads look again.
func (k *OS) tellParent(parent *task.Process, st task.WaitStatus) {
	if parent == nil || parent.Exited {
		return
	}
	if parent.SigActs[unix.SIGCHLD].Flags&saNoCldStop == 0 {
		k.Signal(parent, nil, int(unix.SIGCHLD), st.SigInfo())
	}
	k.restartWaits(parent)
}

// orphanedGroup reports whether the Linux process group pgid is orphaned:
// none of its members has a parent in another group of the same session
// (init aside). It looks at member and at the group's leader first, which
// settles the usual case (a shell's job) in a few reads; else at every
// process, which costs milliseconds.
func orphanedGroup(pgid, member int) bool {
	for _, pid := range []int{member, pgid} {
		if q, ok := readProcess(pid); ok && keepsGroup(q, pgid, readProcess) {
			return false
		}
	}
	procs := linuxProcesses()
	lookup := func(pid int) (linuxProcess, bool) {
		q, ok := procs[pid]
		return q, ok
	}
	for _, q := range procs {
		if keepsGroup(q, pgid, lookup) {
			return false
		}
	}
	return true
}

// keepsGroup reports whether q keeps group pgid from being orphaned: it
// is a live member whose parent (found by lookup) is in another group of
// the same session.
func keepsGroup(q linuxProcess, pgid int, lookup func(pid int) (linuxProcess, bool)) bool {
	if q.pgid != pgid || q.state == 'Z' || q.ppid <= 1 {
		return false
	}
	parent, ok := lookup(q.ppid)
	return ok && parent.pgid != pgid && parent.sid == q.sid
}

// linuxProcess is what orphanedGroup needs of a Linux process.
type linuxProcess struct {
	state           byte
	ppid, pgid, sid int
}

// linuxProcesses reads the state and ids of every Linux process.
func linuxProcesses() map[int]linuxProcess {
	out := map[int]linuxProcess{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if pid, err := strconv.Atoi(d.Name()); err == nil {
			if q, ok := readProcess(pid); ok {
				out[pid] = q
			}
		}
	}
	return out
}

// readProcess reads the state and ids of Linux process pid.
func readProcess(pid int) (linuxProcess, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return linuxProcess{}, false // gone
	}
	// The command name may contain spaces and parentheses: the fields
	// after it start after the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 4 {
		return linuxProcess{}, false
	}
	q := linuxProcess{state: f[0][0]}
	q.ppid, _ = strconv.Atoi(f[1])
	q.pgid, _ = strconv.Atoi(f[2])
	q.sid, _ = strconv.Atoi(f[3])
	return q, true
}
