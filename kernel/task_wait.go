package kernel

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// exitTree runs when p has ended: its children are orphaned, and its
// parent is told (SIGCHLD, a waiting thread restarts its wait) or, if the
// parent ignores SIGCHLD, p is reaped at once as Linux does; a waiting
// thread restarts then too, to find no child left (ECHILD) or another.
func (k *OS) exitTree(p *task.Process) {
	k.Procs.TreeMu.Lock()
	orphans := p.Children
	for _, c := range orphans {
		c.Parent, c.PPID = nil, 1 // Linux gives the orphan's proxy to init
	}
	p.Children = nil
	// As Linux's do_notify_parent: SIGCHLD ignored or SA_NOCLDWAIT reaps
	// a child whose exit signal is SIGCHLD at once; only SIG_IGN keeps the
	// signal from a handler. Linux signals nobody for one past the last.
	parent, sig := p.Parent, p.ChildSignal
	if parent != nil {
		act := parent.SigActs[unix.SIGCHLD]
		autoReap := sig == int(unix.SIGCHLD) && (act.Handler == task.SigIgnore || act.Flags&saNoCldWait != 0)
		if parent.Exited || autoReap {
			removeChild(parent, p)
		}
		if parent.Exited || sig > task.NSig || autoReap && act.Handler == task.SigIgnore {
			sig = 0
		}
	}
	k.Procs.TreeMu.Unlock()
	for _, c := range orphans {
		if ds := c.PDeathSig.Load(); ds != 0 && !c.Exited {
			k.Signal(c, nil, int(ds), task.SigInfo{}) // SI_USER from pid 0, as Linux sends it
		}
	}
	if parent == nil || parent.Exited {
		return
	}
	if sig != 0 {
		k.Signal(parent, nil, sig, waitStatus(p).SigInfo())
	}
	k.restartWaits(parent)
}

const saNoCldWait = 2

func removeChild(parent, c *task.Process) {
	for i, o := range parent.Children {
		if o == c {
			parent.Children = append(parent.Children[:i:i], parent.Children[i+1:]...)
			c.Parent = nil
			return
		}
	}
}

// restartWaits makes p's threads sleeping in wait4/waitid run their call
// again, each on its own CPU, where its state is not changing meanwhile
// (and into whose run queue it must go).
func (k *OS) restartWaits(p *task.Process) {
	var cpus uint64
	for _, t := range p.Threads {
		cpus |= 1 << t.CPU
	}
	for _, c := range k.CPUs {
		if cpus&(1<<c.Index) != 0 {
			k.restartWaitsOn(c, p)
		}
	}
}

func (k *OS) restartWaitsOn(c *CPU, p *task.Process) {
	c.Go(func() {
		for _, t := range p.Threads {
			if t.CPU == c.Index && t.WaitChild && t.State == task.Sleeping {
				t.WaitChild = false
				t.Regs.Rip -= 2 // back to the syscall instruction
				c.Queue.Wake(t, int64(t.Regs.Orig_rax))
			}
		}
	})
}

// waitStatus describes the ended process p.
func waitStatus(p *task.Process) task.WaitStatus {
	p.UsageMu.Lock()
	u := p.Usage
	p.UsageMu.Unlock()
	return task.WaitStatus{PID: p.PID, UID: p.Cred.UID, Code: p.ExitCode, Signal: p.ExitSignal, Core: p.CoreDumped,
		Usage: u.Ended.Zip(u.Reaped, stats.Sum), MaxRSS: max(u.MaxRSS, u.ReapedMaxRSS)}
}

// reaped adds the usage of p's child that wait reaped, st, to p's
// children's (RUSAGE_CHILDREN).
func reaped(p *task.Process, st task.WaitStatus) {
	p.UsageMu.Lock()
	p.Usage.Reaped = p.Usage.Reaped.Zip(st.Usage, stats.Sum)
	p.Usage.ReapedMaxRSS = max(p.Usage.ReapedMaxRSS, st.MaxRSS)
	p.UsageMu.Unlock()
}

// dumpsCore reports signals whose default action dumps core.
func dumpsCore(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS, unix.SIGFPE,
		unix.SIGSEGV, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGSYS:
		return true
	}
	return false
}

// WaitChild looks for a child of t's process matching pid (as wait4:
// > 0 that pid, -1 any, 0 the caller's group, < -1 group -pid) with a
// change that options (waitid's WEXITED, WSTOPPED, WCONTINUED) ask for,
// and takes it: an ended child is reaped, a stop or continue is reported
// once, unless options has WNOWAIT. found is false when no child matches
// at all (ECHILD); ok is false while none of them has such a change.
func (k *OS) WaitChild(t *task.Thread, pid, options int) (st task.WaitStatus, found, ok bool) {
	p := t.Proc
	var group int
	switch {
	case pid == 0:
		group, _ = unix.Getpgid(p.ProxyPID)
	case pid < -1:
		group = -pid
	}
	k.Procs.TreeMu.Lock()
	defer k.Procs.TreeMu.Unlock()
	for _, c := range p.Children {
		switch {
		case pid > 0 && c.PID != pid:
			continue
		case group != 0 && k.pgid(c) != group:
			continue
		}
		found = true
		if st, ok := takeChange(p, c, options); ok {
			return st, true, true
		}
	}
	return task.WaitStatus{}, found, false
}

// takeChange takes the change of child c that options ask for, if any.
// TreeMu is held.
func takeChange(p, c *task.Process, options int) (task.WaitStatus, bool) {
	keep := options&unix.WNOWAIT != 0
	switch {
	case c.Exited:
		if options&unix.WEXITED == 0 {
			return task.WaitStatus{}, false
		}
		st := waitStatus(c)
		if !keep {
			removeChild(p, c)
			reaped(p, st)
		}
		return st, true
	case c.StopReport != 0 && options&unix.WSTOPPED != 0:
		st := task.WaitStatus{PID: c.PID, UID: c.Cred.UID, Stopped: c.StopReport}
		if !keep {
			c.StopReport = 0
		}
		return st, true
	case c.ContReport && options&unix.WCONTINUED != 0:
		if !keep {
			c.ContReport = false
		}
		return task.WaitStatus{PID: c.PID, UID: c.Cred.UID, Continued: true}, true
	}
	return task.WaitStatus{}, false
}

// pgid is c's process group: its proxy's on Linux, where setpgid and
// setsid are carried out; what it was at exit once the proxy is gone.
func (k *OS) pgid(c *task.Process) int {
	if c.Exited {
		return c.PGID
	}
	if g, err := unix.Getpgid(c.ProxyPID); err == nil {
		return g
	}
	return c.PGID
}
