package kernel

import (
	"github.com/gomck/gomck/kernel/sched"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// SliceNs implements syscalls.Kernel: perf's task-clock of a thread that
// reads its own clock counts the slice it is in.
func (k *OS) SliceNs(t *task.Thread) uint64 {
	c := k.CPUs[t.CPU]
	if c.Current != t {
		return 0
	}
	return uint64(sched.Now() - c.Since)
}

// ownSlice is SliceNs of t when the calling OS thread is t's CPU's, else
// 0: another CPU's current thread and slice start are that CPU's to read.
func (k *OS) ownSlice(t *task.Thread) uint64 {
	if k.here() != k.CPUs[t.CPU] {
		return 0
	}
	return k.SliceNs(t)
}

// FindThread implements syscalls.Kernel: the live LWK thread tid, a
// process's first thread by its pid, for perf_event_open's pid.
func (k *OS) FindThread(tid int) *task.Thread {
	if p := k.Procs.Find(tid); p != nil {
		if p.Exited || len(p.Threads) == 0 {
			return nil
		}
		for _, t := range p.Threads {
			if t.TID == tid {
				return t
			}
		}
		return nil
	}
	if tid < task.FirstTID {
		return nil
	}
	for _, p := range k.Procs.List() {
		for _, t := range p.Threads {
			if t.TID == tid && !p.Exited {
				return t
			}
		}
	}
	return nil
}

// CPUStats implements syscalls.Kernel: LWK CPU cpu's counters, for
// CPU-wide perf events.
func (k *OS) CPUStats(cpu int) *stats.CPU { return &k.CPUs[cpu].Stats }

// perfErr logs what a switch could not count of a Linux perf event.
func (k *OS) perfErr(err error) {
	if err != nil {
		k.Kmsg.Printf("%v", err)
	}
}
