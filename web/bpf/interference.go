package bpf

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/web/source"
)

// sources name what cpuTimes counts, in its order.
var sources = [...]string{"task", "irq", "softirq"}

// cpuTimes is one host CPU's interference so far, in ns, by source.
type cpuTimes [len(sources)]uint64

// interferenceKey is one reported counter.
type interferenceKey struct{ os, cpu, source int }

// maxHostCPU bounds the host CPU numbers: collect.bpf.c's lwk_cpus size.
const maxHostCPU = 4096

// SetLWK sets instance os's LWK CPUs (cpus[i] is LWK CPU i's host CPU)
// and its own tasks (the tgids of its daemon and of its stubs: their time
// on those CPUs is the LWK's, not interference), replacing the previous
// ones. A host CPU's counters start from zero when it becomes os's.
func (c *Collectors) SetLWK(os int, cpus []int, pids []int) error {
	for _, h := range cpus {
		if h < 0 || h >= maxHostCPU {
			return fmt.Errorf("instance %d: host CPU %d out of range [0,%d)", os, h, maxHostCPU)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now, err := syncSet(c.objs.LwkTasks, c.lwkTasks[os], pids, uint32(os)+1)
	c.lwkTasks[os] = now
	errs := []error{err}

	old := c.lwkCPUs[os]
	if slices.Equal(old, cpus) {
		return errors.Join(errs...)
	}
	times, err := c.cpuTimes()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, h := range old {
		if !slices.Contains(cpus, h) && c.owner(h) == os {
			errs = append(errs, c.objs.LwkCpus.Put(uint32(h), uint32(0)))
		}
	}
	for i, h := range cpus {
		if i < len(old) && old[i] == h {
			continue
		}
		for s := range sources {
			delete(c.reported, interferenceKey{os, i, s})
		}
		if h < len(times) {
			c.since[h] = times[h]
		}
		errs = append(errs, c.objs.LwkCpus.Put(uint32(h), uint32(os)+1))
	}
	c.lwkCPUs[os] = slices.Clone(cpus)
	if len(cpus) == 0 {
		delete(c.lwkCPUs, os)
	}
	return errors.Join(errs...)
}

// owner is the instance host CPU h was last given to, -1 if none.
func (c *Collectors) owner(h int) int {
	owner := -1
	for os, hosts := range c.lwkCPUs {
		if slices.Contains(hosts, h) {
			owner = os
		}
	}
	return owner
}

// cpuTimes reads every host CPU's counts, a foreign task's slice that is
// still running included: a busy task alone on a CPU is never switched
// out.
func (c *Collectors) cpuTimes() ([]cpuTimes, error) {
	var perCPU []collectCpuTime
	if err := c.objs.CpuTimes.Lookup(uint32(0), &perCPU); err != nil {
		return nil, fmt.Errorf("read %s: %w", c.objs.CpuTimes, err)
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return nil, fmt.Errorf("clock: %w", err)
	}
	now := uint64(ts.Nano()) // bpf_ktime_get_ns's clock
	out := make([]cpuTimes, len(perCPU))
	for h, t := range perCPU {
		task := t.TaskNs
		if t.TaskStart != 0 && now > t.TaskStart {
			task += minus(now-t.TaskStart, t.IrqNs+t.SoftirqNs-t.TaskMark)
		}
		out[h] = cpuTimes{task, t.IrqNs, t.SoftirqNs}
	}
	return out, nil
}

// minus is a-b, or 0: the BPF side's records can be read half-updated.
func minus(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// Interference is the time each of instance os's LWK CPUs lost to each
// source since it became the instance's, by CPU then source. The values
// never go down (they feed Prometheus counters): a record read while the
// BPF side updates it can look smaller than the previous read.
func (c *Collectors) Interference(os int) []source.Interference {
	c.mu.Lock()
	defer c.mu.Unlock()
	hosts := c.lwkCPUs[os]
	if len(hosts) == 0 {
		return nil
	}
	times, err := c.cpuTimes()
	if err != nil {
		return nil
	}
	var out []source.Interference
	for cpu, h := range hosts {
		if h >= len(times) {
			continue // not a possible CPU of this host
		}
		for s, name := range sources {
			key := interferenceKey{os, cpu, s}
			v := max(float64(minus(times[h][s], c.since[h][s]))/1e9, c.reported[key])
			c.reported[key] = v
			out = append(out, source.Interference{CPU: cpu, HostCPU: h, Source: name, Seconds: v})
		}
	}
	return out
}
