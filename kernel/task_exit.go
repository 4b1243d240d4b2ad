package kernel

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/syscalls"
	"github.com/gomck/gomck/kernel/task"
)

// threadEnded tells the ThreadExit hook, the instance's totals and the
// perf events counting t that t ends.
func (k *OS) threadEnded(t *task.Thread) {
	k.Hooks.threadExited(t)
	k.Stats.ThreadEnded(&t.Stats)
	// A thread ended from another CPU (its process killed) loses its
	// last slice rather than read a torn one.
	slice := k.ownSlice(t)
	syscalls.PerfThreadEnded(t, slice)
	usageEnded(t, slice)
	if prof := t.Proc.Profile; prof != nil {
		prof.ThreadEnded(t.TID, &t.Stats, slice)
	}
}

// usageEnded folds t's counters, sliceNs the run time not yet in them,
// into its process's usage (getrusage).
func usageEnded(t *task.Thread, sliceNs uint64) {
	totals := t.Stats.Totals()
	totals.RunNs += sliceNs
	rss, _ := t.Proc.MM.Usage()
	u := &t.Proc.Usage
	t.Proc.UsageMu.Lock()
	u.Ended = u.Ended.Zip(totals, stats.Sum)
	u.MaxRSS = max(u.MaxRSS, rss)
	t.Proc.UsageMu.Unlock()
}

// dropThread takes t off its CPU and out of the futex table, for good: its
// process ends or execs. t may be in a system call on another CPU right
// now; Gone, set first, keeps that call from queueing t again.
func (k *OS) dropThread(t *task.Thread) {
	t.Gone.Store(true)
	k.Futexes.Drop(t)
	k.CPUs[t.CPU].Queue.Remove(t)
	k.CPUs[t.CPU].Threads.Add(-1)
}

// exitThread ends t; the process ends with its last thread. As Linux does,
// the clear-child-tid word is zeroed and one waiter woken (pthread_join).
func (k *OS) exitThread(c *CPU, t *task.Thread, code int) {
	p := t.Proc
	if len(p.Threads) == 1 {
		k.endProcess(c, p, nil, code, 0)
		return
	}
	k.threadEnded(t)
	if a := t.ClearChildTID; a != 0 {
		if p.MM.CopyOut(a, []byte{0, 0, 0, 0}) == nil {
			if off, _, ok := p.MM.Translate(a); ok {
				k.FutexWake(off, 1, ^uint32(0))
			}
		}
	}
	p.RemoveThread(t)
	c.Queue.Remove(t)
	c.Threads.Add(-1)
	if s := p.StubOn(c.Index); s != nil && s.FPOwner == t.TID {
		s.FPOwner = 0
	}
}

// endProcess ends p with its exit status and frees everything it had; its
// stub becomes the CPU's spare if it can. The status is reported before
// the memory is released, so mcexec (and a shell waiting on it) need not
// wait for that; a core it dumps is written first, off the CPU, and the
// rest of its end comes after it (teardown).
// It runs on p's CPU.
func (k *OS) endProcess(c *CPU, p *task.Process, taker *task.Thread, code, sig int) {
	if p.Exited || !p.BeginEnd() {
		return // ended already, or another CPU running its threads ends it
	}
	p.AwaitCore()
	if sig != 0 {
		k.Hooks.fatal(p, taker, sig)
		if job := k.coreJob(c, p, taker, sig); job != nil {
			k.background(fmt.Sprintf("core of pid %d", p.PID), func() {
				job()
				c.Go(func() { k.teardown(c, p, code, sig) })
			})
			return
		}
	}
	k.teardown(c, p, code, sig)
}

// teardown is the end of p once its fate is sealed. It runs on c.
func (k *OS) teardown(c *CPU, p *task.Process, code, sig int) {
	stopTimers(p)
	for _, t := range p.Threads {
		k.threadEnded(t)
		k.dropThread(t)
	}
	syscalls.PerfProcessEnded(p)
	if p.Profile != nil { // before mcexec hears of the end and reports it
		k.Kmsg.Printf("pid %d: profile: %s", p.PID, p.Profile.Summary())
	}
	ran := time.Since(time.Unix(0, p.Start)).Round(time.Microsecond)
	if p.Chan != nil {
		p.Chan.Abort()
	}
	p.PGID = k.pgid(p) // wait(0) and wait(-pgid) need it once the proxy is gone
	k.releaseVfork(p)
	// Out of the table before the proxy hears of the end: it may serve a
	// new process with the same pid (a reused child proxy) at once.
	k.Procs.Remove(p)
	k.leavePartExec(p)
	// A stub process with threads on several CPUs is killed whole (its
	// threads on other CPUs stop at once); a single stub may be reused.
	stubs := p.Stubs()
	if len(stubs) > 1 {
		p.Stub.Kill()
	}
	p.Finish(code, sig)
	k.releaseProxy(p)
	k.exitTree(p)
	k.retireStubs(c, p, stubs)
	p.MM.Release()
	k.views.Forget(p)
	atomic.AddInt32(&k.CPUs[p.Home].Load, -1)
	if p.Token != 0 && !k.attached(p) && p.Chan != nil {
		// A forked process whose proxy never came: nothing is left for
		// the proxy (its attach hears of the end as for a given-up
		// fork), which may serve the next one with this channel; that
		// must be in its session by the time the proxy is idle again.
		// Calls it posted may be parked still.
		k.keepProfile(p) // before the embryo goes: its attach looks here then
		k.takeEmbryo(p.Token)
		if p.Chan.Requests() == 0 {
			k.recycle(p)
		} else {
			k.background(fmt.Sprintf("recycle of pid %d", p.PID), func() {
				p.Offloads.Wait()
				k.recycle(p)
			})
		}
	}
	if sig != 0 {
		k.Kmsg.Printf("pid %d: %s killed by signal %d after %v", p.PID, p.Exe, sig, ran)
	} else {
		k.Kmsg.Printf("pid %d: %s exited with %d after %v", p.PID, p.Exe, code, ran)
	}
}

// retireStubs disposes of p's stubs once it ended on c. A lone stub that
// c traces becomes c's spare; otherwise each is reaped, the stub threads
// of other CPUs first: Linux reports the stub process's own exit once its
// other threads are reaped.
func (k *OS) retireStubs(c *CPU, p *task.Process, stubs []*task.Context) {
	if p.Stub == nil {
		return
	}
	if len(stubs) <= 1 && c.Index == p.Home {
		c.retireStub(p.Stub.Context)
		return
	}
	p.Stub.Kill()
	for _, s := range stubs {
		if s != p.Stub {
			s.Release()
		}
	}
	p.Stub.Release()
}
