package main

// The cost of counting (issue 17), in the last round's main instance
// before the mcps figures: bench/c/syscall_windows counts its calls per
// 100 ms window on the LWK while the bench turns the LWK's syscall
// counting on and off every second (ihkosctl 0 counting on|off: the
// per-call timing and counters, the CPUs' call counts and the PAPI page),
// judged as figure 11 is: each second counted against the seconds
// uncounted before and after it.
//
//  20. The getpid loop (local calls), counted vs not. Target: <= 1.01x.
//  21. The 1-byte /dev/null write loop (offloaded calls), the same.

import (
	"context"
	"flag"
	"fmt"

	"github.com/gomck/gomck/delegator/control"
)

var countingDur = flag.Duration("counting", 40e9, "length of each of figures counting_cost_*'s LWK runs, counting switched on and off every second (at least 5s)")

// countingSeries are the samples of figures 20 and 21: ns/op per block
// counted and not, and the paired ratios, for each loop.
type countingSeries struct{ toggledLoops }

// toggledLoops are the getpid and offload loops' series of a figure pair
// that turns something on and off every second (counting, mcdash).
type toggledLoops struct {
	getpidOn, getpidOff, getpidRatios    series
	offloadOn, offloadOff, offloadRatios series
}

// toggledLoop is one loop of toggledLoops: its call and its series.
type toggledLoop struct {
	call            string
	on, off, ratios *series
}

func (s *toggledLoops) loops() []toggledLoop {
	return []toggledLoop{{"getpid", &s.getpidOn, &s.getpidOff, &s.getpidRatios},
		{"write", &s.offloadOn, &s.offloadOff, &s.offloadRatios}}
}

// countingNeeds is choose's table for figures 20 and 21.
func (b *bench) countingNeeds() map[string][]*series {
	s := &b.counting
	return map[string][]*series{
		"counting_cost_getpid":  {&s.getpidOn, &s.getpidOff, &s.getpidRatios},
		"counting_cost_offload": {&s.offloadOn, &s.offloadOff, &s.offloadRatios},
	}
}

// countingSwitch turns the instance's counting on and off.
type countingSwitch struct{}

func (countingSwitch) toggle(on bool) (toggle, error) {
	op := control.OpCountingOff
	if on {
		op = control.OpCountingOn
	}
	t := toggle{at: monotonic(), on: on}
	if _, err := control.Query(index, op); err != nil {
		return t, fmt.Errorf("ihkosctl %d %s: %w", index, op, err)
	}
	return t, nil
}

func (countingSwitch) gone() <-chan struct{} { return nil }
func (countingSwitch) failure() error        { return nil }

// measureCounting takes figures 20 and 21 in the booted instance, and
// leaves counting on.
func (b *bench) measureCounting() {
	s := &b.counting
	for _, m := range s.loops() {
		if m.on.skip {
			continue
		}
		progressf("counting: the LWK %s loop, counting on and off every second", m.call)
		ctx, cancel := context.WithTimeout(b.ctx, *countingDur+runTimeout)
		ws, ts, err := b.toggledRun(ctx, countingSwitch{}, *countingDur, m.call)
		cancel()
		if _, onErr := (countingSwitch{}).toggle(true); err == nil {
			err = onErr
		}
		recordToggled(m.call, "counting", "counted/uncounted", ws, ts, err, m.on, m.off, m.ratios)
	}
}

// countingFigures are figures 20 and 21.
func (b *bench) countingFigures(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	s := &b.counting
	return []Figure{
		paired(ratioFig("counting_cost_getpid", "LWK getpid loop, syscall counting on and off every 1 s", "ns/op",
			&s.getpidOn, 1.01, false, "<= 1.01x", namedSeries{"uncounted", &s.getpidOff}), &s.getpidRatios),
		paired(ratioFig("counting_cost_offload", "LWK /dev/null write loop (offloaded), syscall counting on and off every 1 s", "ns/op",
			&s.offloadOn, 1.01, false, "<= 1.01x", namedSeries{"uncounted", &s.offloadOff}), &s.offloadRatios),
	}
}
