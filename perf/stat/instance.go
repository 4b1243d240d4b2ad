package stat

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/kernel/stats"
)

// InstanceTotals are the counters of an instance since its boot, from one
// read of it: its LWK CPUs' and its threads', live or ended. The difference
// of two (Delta) is what the instance did between the reads.
func InstanceTotals(s *lwk.Snapshot) Sample {
	st := s.Stats
	t := Sample{CPUWide: true, Counters: stats.Counters{
		RunNs: st.EndedRunNs, Migrations: st.EndedMigrations, FutexWaits: st.EndedFutexWaits,
		Signals: st.EndedSignals, LocalNs: st.EndedLocalNs, OffloadNs: st.EndedOffloadNs}}
	// The CPUs count switches, faults and calls of every thread, ended
	// or not, under one sequence counter each.
	for _, c := range s.CPUs {
		t.Switches += c.Switches
		t.PageFaults += c.PageFaults
		t.LocalCalls += c.LocalCalls
		t.OffloadCalls += c.OffloadCalls
	}
	for _, idle := range CPUIdleNs(s) {
		t.IdleNs += idle
	}
	t.Syscalls = sumSyscalls(nil, s.Stats.EndedSyscalls)
	for _, p := range s.Procs {
		for _, th := range p.Threads {
			t.Syscalls = sumSyscalls(t.Syscalls, th.Syscalls)
			t.RunNs += th.RunNs
			t.Migrations += th.Migrations
			t.FutexWaits += th.FutexWaits
			t.Signals += th.Signals
			t.LocalNs += th.LocalNs
			t.OffloadNs += th.OffloadNs
		}
	}
	t.cpus = len(s.CPUs)
	return t
}

// CPUIdleNs is the idle time of each of s's LWK CPUs, in s.CPUs' order:
// what it counted, and in a live read the sleep it is in.
func CPUIdleNs(s *lwk.Snapshot) []uint64 {
	var now unix.Timespec
	live := s.Live && unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) == nil
	idle := make([]uint64, len(s.CPUs))
	for i, c := range s.CPUs {
		idle[i] = c.IdleNs
		if live && c.IdleSince > 0 && now.Nano() > c.IdleSince {
			idle[i] += uint64(now.Nano() - c.IdleSince) // asleep now, since then
		}
	}
	return idle
}

// Delta is what the instance counted from totals a to totals b, elapsed
// apart. A counter that went back (a thread read as changing, its
// counts missing) counts zero rather than wrapping.
func Delta(a, b Sample, elapsed time.Duration) Sample {
	sub := func(x, y uint64) uint64 {
		if y < x {
			return 0
		}
		return y - x
	}
	d := Sample{CPUWide: true, Counters: a.Counters.Zip(b.Counters, sub), IdleNs: sub(a.IdleNs, b.IdleNs)}
	d.BusyNs = sub(d.IdleNs, uint64(b.cpus)*uint64(elapsed))
	if b.Syscalls != nil {
		d.Syscalls = map[int]stats.SyscallCount{}
		for nr, c := range b.Syscalls {
			d.Syscalls[nr] = a.Syscalls[nr].Zip(c, sub)
		}
	}
	return d
}

// sumSyscalls adds counts into m, made when counts are the first: a
// snapshot read without per-syscall counts (lwk.What.Syscalls) leaves a
// sample without them.
func sumSyscalls(m map[int]stats.SyscallCount, counts []stats.SyscallCount) map[int]stats.SyscallCount {
	if m == nil && counts == nil {
		return nil
	}
	if m == nil {
		m = map[int]stats.SyscallCount{}
	}
	for _, c := range counts {
		m[c.Nr] = m[c.Nr].Zip(c, stats.Sum)
	}
	return m
}
