package bpf

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/web/source"
)

// brackets are the functions of a proxy that bracket an offloaded call's
// execution in its worker thread: from the entry of execute (whose
// argument in rbx is the call's number) to the entry of complete.
type brackets struct{ execute, complete string }

// mcexecBrackets are mcexec's (mcexec/proxy.go serveCalls): execute
// performs the call, Complete posts the answer. Renaming either breaks
// the offload timing; internal/lwktest's TestBPFOffload says so.
var mcexecBrackets = brackets{
	execute:  "github.com/gomck/gomck/mcexec.(*Proxy).execute",
	complete: "github.com/gomck/gomck/delegator/ikc.(*Channel).Complete",
}

// SetProxies sets the mcexec processes (tgids) of instance os whose
// offloaded calls are timed, replacing the previous set. The first pid of
// an mcexec build not seen before puts the uprobes in its executable.
func (c *Collectors) SetProxies(os int, pids []int) error {
	return c.setProxies(os, pids, mcexecBrackets)
}

func (c *Collectors) setProxies(os int, pids []int, b brackets) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, pid := range pids {
		if err := c.probe(pid, b); err != nil {
			errs = append(errs, err)
		}
	}
	now, err := syncSet(c.objs.Proxies, c.proxies[os], pids, uint32(os))
	c.proxies[os] = now
	return errors.Join(append(errs, err, c.traceSyscalls())...)
}

// traceSyscalls attaches the raw_syscalls tracepoints while any instance
// has proxies and detaches them when none has (c.mu held): they cost
// every system call on the host, about 70 ns (doc.go).
func (c *Collectors) traceSyscalls() error {
	watched := false
	for _, pids := range c.proxies {
		watched = watched || len(pids) > 0
	}
	var err error
	switch {
	case watched && c.syscalls == nil:
		c.syscalls, err = attach(c.objs.OffloadEnter, c.objs.OffloadExit)
	case !watched && c.syscalls != nil:
		err = closeAll(c.syscalls)
		c.syscalls = nil
	}
	return err
}

// probe puts the uprobes at b in pid's executable unless it has them. The path
// is /proc/PID/exe: the kernel resolves it to the file that runs, even if
// its name was since replaced (a rebuilt bin/mcexec).
func (c *Collectors) probe(pid int, b brackets) error {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	id, err := identify(exe)
	if err != nil {
		return fmt.Errorf("mcexec pid %d: %w", pid, err)
	}
	if _, ok := c.probed[id]; ok {
		return nil
	}
	ex, err := link.OpenExecutable(exe)
	if err != nil {
		return fmt.Errorf("mcexec pid %d: %w", pid, err)
	}
	var links []link.Link
	for _, p := range []struct {
		symbol string
		prog   *ebpf.Program
	}{{b.execute, c.objs.McexecExecute}, {b.complete, c.objs.IkcComplete}} {
		l, err := ex.Uprobe(p.symbol, p.prog, nil)
		if err != nil {
			for _, l := range links {
				l.Close()
			}
			return fmt.Errorf("mcexec pid %d: uprobe %s: %w", pid, p.symbol, err)
		}
		links = append(links, l)
	}
	c.probed[id] = links
	return nil
}

// histBuckets is collect.bpf.c's HIST_BUCKETS: bucket i counts the calls
// that took [2^i, 2^(i+1)) ns, the last one also all longer ones.
const histBuckets = len(collectOffloadHist{}.Buckets)

// offloadHist is one syscall's histogram of instance os, summed.
type offloadHist struct {
	os, nr  int
	count   uint64
	sumNs   uint64
	buckets [histBuckets]uint64
}

// histograms reads the offload map: every instance's, by instance then
// number.
func (c *Collectors) histograms() ([]offloadHist, error) {
	var (
		k    collectOffloadKey
		v    collectOffloadHist
		hist []offloadHist
	)
	it := c.objs.Offload.Iterate()
	for it.Next(&k, &v) {
		hist = append(hist, offloadHist{os: int(k.Os), nr: int(k.Nr), count: v.Count, sumNs: v.SumNs, buckets: v.Buckets})
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", c.objs.Offload, err)
	}
	slices.SortFunc(hist, func(a, b offloadHist) int {
		if a.os != b.os {
			return a.os - b.os
		}
		return a.nr - b.nr
	})
	return hist, nil
}

// Offload is instance os's offloaded calls timed so far, by syscall
// number. A read error leaves it empty: the pages show what there is.
func (c *Collectors) Offload(os int) []source.OffloadTime {
	hist, _ := c.histograms()
	var out []source.OffloadTime
	for _, h := range hist {
		if h.os == os {
			out = append(out, source.OffloadTime{Nr: h.nr, Name: lwk.SyscallName(int64(h.nr)),
				Calls: h.count, Seconds: float64(h.sumNs) / 1e9})
		}
	}
	return out
}
