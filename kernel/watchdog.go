package kernel

import (
	"os"
	"sync/atomic"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/task"
)

// The watchdog writes the instance's heartbeat (control.Heartbeat) for its
// monitor, ihkmond. Beats stop when the whole daemon stops (SIGSTOP, a
// wedged runtime); a CPU wedged inside the kernel while the rest runs is
// found by its Watch word: each CPU bumps it as it leaves the kernel to
// wait (app code, idle, an answer from Linux) and as it comes back, so a
// CPU whose word is even (in the kernel) and has not moved, while nothing
// reported progress either (Progress), is stalled. Long kernel work that
// is not stuck bumps Progress as it goes (zeroing pages), like Linux's
// touch_softlockup_watchdog.

// Watchdog is the watchdog's record: plain data for the readers.
type Watchdog struct {
	Beats uint64
	// Progress is bumped by long kernel work as it goes.
	Progress uint64
	// Stalled is the last beat's stalled CPUs.
	Stalled []control.Stall
	// Reason and Dump are a panic's, under OS.mu.
	Reason, Dump string
}

// waiting marks c as leaving the kernel to wait, working as back in it.
func (c *CPU) waiting() { atomic.AddUint64(&c.Watch, 1) }
func (c *CPU) working() { atomic.AddUint64(&c.Watch, 1) }

// Waiting marks t's CPU, on whose thread it runs, as waiting for Linux
// (on true) or working again (syscalls.Kernel).
func (k *OS) Waiting(t *task.Thread, on bool) {
	if c := k.CPUs[t.CPU]; on {
		c.waiting()
	} else {
		c.working()
	}
}

// progressed tells the watchdog that long kernel work is moving on.
func (k *OS) progressed() { atomic.AddUint64(&k.Watchdog.Progress, 1) }

// watch beats until stopped, then writes the last beat and closes the
// channel it was stopped with.
func (k *OS) watch(stop <-chan chan struct{}) {
	w := newStallWatch(len(k.CPUs))
	words := make([]uint64, len(k.CPUs))
	tick := time.NewTicker(control.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case done := <-stop:
			k.beat(nil)
			close(done)
			return
		case <-tick.C:
		}
		for i, c := range k.CPUs {
			words[i] = atomic.LoadUint64(&c.Watch)
		}
		stalled := w.check(sched.Now(), atomic.LoadUint64(&k.Watchdog.Progress), words)
		k.Watchdog.Stalled = stalled
		k.beat(stalled)
	}
}

// stallWatch finds the CPUs that stay in the kernel without progress,
// from their Watch words sampled at each beat.
type stallWatch struct {
	seen     []uint64
	since    []int64 // when each CPU's word last moved, or it waited
	progress uint64
}

func newStallWatch(cpus int) *stallWatch {
	return &stallWatch{seen: make([]uint64, cpus), since: make([]int64, cpus)}
}

// check takes the words at now, with the kernel's progress count, and
// returns the CPUs stalled for at least a beat.
func (w *stallWatch) check(now int64, progress uint64, words []uint64) []control.Stall {
	var stalled []control.Stall
	for i, word := range words {
		if word%2 == 1 || word != w.seen[i] || progress != w.progress || w.since[i] == 0 {
			w.seen[i], w.since[i] = word, now
			continue
		}
		if d := now - w.since[i]; d >= int64(control.HeartbeatInterval) {
			stalled = append(stalled, control.Stall{CPU: i, Ns: d})
		}
	}
	w.progress = progress
	return stalled
}

// beat writes a heartbeat.
func (k *OS) beat(stalled []control.Stall) {
	beats := atomic.AddUint64(&k.Watchdog.Beats, 1)
	k.mu.Lock()
	hb := control.Heartbeat{PID: os.Getpid(), Beats: beats, State: k.State, Stalled: stalled,
		Reason: k.Watchdog.Reason, Dump: k.Watchdog.Dump}
	k.mu.Unlock()
	control.WriteHeartbeat(k.Index, hb)
}
