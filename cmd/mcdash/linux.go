package main

import (
	"context"
	"log"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomck/gomck/web/bpf"
	"github.com/gomck/gomck/web/source"
)

// linuxSide loads the eBPF collectors of the Linux side (web/bpf) for a
// live source and points them at each poll's instances until ctx ends; it
// returns nil, having said why once, where BPF is unavailable (not root,
// no BTF, locked down). The proxies' calls are timed only with offloads:
// the syscall tracepoints slow every proxy call (1.14x on the LWK's getpid
// loop, bench/RESULTS.md), more than a dashboard may cost by default.
func linuxSide(ctx context.Context, src source.Source, reg *prometheus.Registry, offloads bool, logger *log.Logger) source.Linux {
	if src.ReadOnly() {
		return nil
	}
	c, err := bpf.Open()
	if err != nil {
		logger.Printf("mcdash: running without the Linux side's figures: %v", err)
		return nil
	}
	reg.MustRegister(c)
	go func() {
		defer c.Close()
		for {
			up := src.Updates(ctx)
			for _, in := range src.Instances() {
				if err := c.Watch(in.Index, in.Snap, offloads); err != nil {
					logger.Printf("mcdash: instance %d: eBPF: %v", in.Index, err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-up:
			}
		}
	}()
	return c
}
