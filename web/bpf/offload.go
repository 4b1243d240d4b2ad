package bpf

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/web/source"
)

// SetProxies sets the mcexec processes (tgids) of instance os whose
// offloaded calls are timed, replacing the previous set.
func (c *Collectors) SetProxies(os int, pids []int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, err := syncSet(c.objs.Proxies, c.proxies[os], pids, uint32(os))
	c.proxies[os] = now
	return errors.Join(err, c.traceSyscalls())
}

// traceSyscalls attaches the raw_syscalls tracepoints while any instance
// has proxies and detaches them when none has (c.mu held): they cost
// every system call on the host, about 80 ns (doc.go).
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
