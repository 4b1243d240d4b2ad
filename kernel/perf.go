package kernel

import (
	"github.com/gomck/gomck/kernel/sched"
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
