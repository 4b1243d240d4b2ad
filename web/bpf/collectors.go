package bpf

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/web/source"
)

// ErrUnavailable is wrapped by Open's error when this host cannot run the
// collectors; the rest of the message says why, in one line.
var ErrUnavailable = errors.New("eBPF collectors unavailable")

// Collectors are the loaded and attached programs and what the Go side
// knows of the instances they watch. Its methods are safe for concurrent
// use.
type Collectors struct {
	objs  collectObjects
	links []link.Link // the interference tracepoints, for as long as the Collectors live

	mu sync.Mutex
	// syscalls are the raw_syscalls tracepoints, attached only while
	// there are proxies to watch: they cost every task each call.
	syscalls []link.Link
	// proxies and lwkTasks are the filters' contents as last set, by
	// instance: the BPF maps hold their union.
	proxies  map[int]map[uint32]bool
	lwkTasks map[int]map[uint32]bool
	// lwkCPUs are each instance's host CPUs, by LWK CPU number.
	lwkCPUs map[int][]int
	// since is each watched host CPU's counts when it became its
	// instance's: its counters start from zero there.
	since map[int]cpuTimes
	// reported keeps the interference counters monotonic (see
	// Interference).
	reported map[interferenceKey]float64
}

// Open loads the programs and attaches the interference ones; the
// offload ones wait for SetProxies.
func Open() (*Collectors, error) {
	if _, err := btf.LoadKernelSpec(); err != nil {
		return nil, fmt.Errorf("%w: no kernel BTF (/sys/kernel/btf/vmlinux): %v", ErrUnavailable, err)
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. (It
	// probes with a map, so it is where an unprivileged caller fails.)
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, reason(err))
	}
	c := &Collectors{
		proxies:  map[int]map[uint32]bool{},
		lwkTasks: map[int]map[uint32]bool{},
		lwkCPUs:  map[int][]int{},
		since:    map[int]cpuTimes{},
		reported: map[interferenceKey]float64{},
	}
	if err := loadCollectObjects(&c.objs, nil); err != nil {
		return nil, fmt.Errorf("%w: load: %s", ErrUnavailable, reason(err))
	}
	p := &c.objs.collectPrograms
	links, err := attach(p.InterferenceSwitch, p.InterferenceIrqEntry, p.InterferenceIrqExit,
		p.InterferenceTimerEntry, p.InterferenceTimerExit, p.InterferenceSoftirqEntry, p.InterferenceSoftirqExit)
	if err == nil {
		// Once, to know now that they can be: SetProxies attaches them
		// again when it has proxies.
		var syscalls []link.Link
		syscalls, err = attach(p.OffloadEnter, p.OffloadExit)
		closeAll(syscalls)
	}
	if err != nil {
		closeAll(links)
		c.objs.Close()
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, err)
	}
	c.links = links
	return c, nil
}

// attach attaches BTF tracepoint programs; on error, none.
func attach(progs ...*ebpf.Program) ([]link.Link, error) {
	var links []link.Link
	for _, prog := range progs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			closeAll(links)
			return nil, fmt.Errorf("attach %s: %s", prog, reason(err))
		}
		links = append(links, l)
	}
	return links, nil
}

func closeAll(links []link.Link) error {
	var errs []error
	for _, l := range links {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// reason says in one line why loading or attaching failed, naming the
// usual causes where the kernel's errno alone would not.
func reason(err error) string {
	switch {
	case errors.Is(err, os.ErrPermission):
		why := "needs root (CAP_BPF and CAP_PERFMON)"
		if os.Geteuid() == 0 {
			why = "refused to root: kernel lockdown or a security module"
		}
		return fmt.Sprintf("%s: %v", why, oneLine(err))
	case errors.Is(err, ebpf.ErrNotSupported):
		return fmt.Sprintf("this kernel lacks a feature the programs use: %v", oneLine(err))
	}
	return oneLine(err)
}

// oneLine keeps the first line of err: a verifier log runs to hundreds.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// Close detaches and unloads everything.
func (c *Collectors) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := errors.Join(closeAll(c.links), closeAll(c.syscalls), c.objs.Close())
	c.links, c.syscalls = nil, nil
	return err
}

// Watch points the collectors at what snap says of instance os: its
// processes' mcexec proxies (when offloads, the syscall tracepoints
// costing every proxy call about 70 ns), its CPUs and its own tasks (the
// daemon and the stubs). A nil snap (the instance is down) stops watching
// it.
func (c *Collectors) Watch(os int, snap *lwk.Snapshot, offloads bool) error {
	var proxies, tasks, cpus []int
	if snap != nil {
		tasks = append(tasks, snap.DaemonPID)
		for _, p := range snap.Procs {
			if p.ProxyPID > 0 && offloads {
				proxies = append(proxies, p.ProxyPID)
			}
			if p.StubPID > 0 {
				tasks = append(tasks, p.StubPID)
			}
		}
		cpus = make([]int, len(snap.CPUs))
		for _, cpu := range snap.CPUs {
			if cpu.Index < 0 || cpu.Index >= len(cpus) {
				return fmt.Errorf("instance %d: LWK CPU %d of %d: the snapshot is inconsistent", os, cpu.Index, len(cpus))
			}
			cpus[cpu.Index] = cpu.Host
		}
	}
	return errors.Join(c.SetProxies(os, proxies), c.SetLWK(os, cpus, tasks))
}

// syncSet makes the BPF hash m hold, for instance os, the tgids in want
// (with value val) and no others that were os's in had.
func syncSet(m *ebpf.Map, had map[uint32]bool, want []int, val uint32) (map[uint32]bool, error) {
	now := make(map[uint32]bool, len(want))
	var errs []error
	for _, pid := range want {
		tgid := uint32(pid)
		now[tgid] = true
		if !had[tgid] {
			if err := m.Put(tgid, val); err != nil {
				errs = append(errs, fmt.Errorf("%s: add %d: %w", m, tgid, err))
			}
		}
	}
	for tgid := range had {
		if !now[tgid] {
			if err := m.Delete(tgid); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("%s: remove %d: %w", m, tgid, err))
			}
		}
	}
	return now, errors.Join(errs...)
}

// Collectors is what the pages read of the Linux side.
var _ source.Linux = (*Collectors)(nil)
