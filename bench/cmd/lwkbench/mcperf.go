package main

// The cost of mcperf stat (issue 17), in the main instance after the
// noise figure of each round:
//
//  18. The wall time of `mcperf stat -x , -- getpid_loop N` (mcexec with
//     a JSON profile, read and printed by mcperf) against that of
//     `mcexec getpid_loop N`, -mcperf-runs pairs a round, interleaved
//     (every other pair in the other order).
//     Target: mcperf stat adds under 3% (ratio < 1.03).

import (
	"bytes"
	"flag"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

var mcperfRuns = flag.Int("mcperf-runs", 6, "pairs of runs (under mcperf stat and not) a round for figure mcperf_stat_overhead")

// mcperfSeries are the samples of figure 18: wall times in ns.
type mcperfSeries struct{ stat, plain series }

// mcperfNeeds is choose's table for figure 18.
func (b *bench) mcperfNeeds() map[string][]*series {
	return map[string][]*series{"mcperf_stat_overhead": {&b.mcperf.stat, &b.mcperf.plain}}
}

// measureMcperf times getpid_loop under mcexec alone and under mcperf
// stat, alternately, after one checked warm-up of mcperf stat; after a
// failure it is not run again.
func (b *bench) measureMcperf() {
	s := &b.mcperf
	if s.stat.skip || s.stat.err != nil {
		return
	}
	n := strconv.Itoa(*loopN)
	if err := b.checkMcperfStat(n); err != nil {
		s.stat.add(0, err)
		return
	}
	plain := func() { s.plain.add(wall("LWK getpid_loop", -1, b.lwk("getpid_loop", n))) }
	stat := func() { s.stat.add(wall("mcperf stat getpid_loop", -1, b.mcperfStat(n))) }
	// Every other pair in the other order (ABBA): a run that pays for
	// its predecessor's end, or a load that drifts, weighs on both.
	for i := range *mcperfRuns {
		if i%2 == 0 {
			plain()
			stat()
		} else {
			stat()
			plain()
		}
	}
	progressf("  %-24s %.1f ms under mcperf stat, %.1f ms without (medians so far)", "mcperf stat",
		s.stat.median()/1e6, s.plain.median()/1e6)
}

// mcperfStat prepares mcperf stat of getpid_loop n, as CSV.
func (b *bench) mcperfStat(n string) *exec.Cmd {
	return exec.CommandContext(b.ctx, filepath.Join(b.bin, "mcperf"), "stat", "-i", strconv.Itoa(index), "-x", ",",
		"-e", "lwk/syscalls_local/", "--", b.progs["getpid_loop"], n)
}

// checkMcperfStat runs mcperf stat once and checks that it counted the
// loop's calls.
func (b *bench) checkMcperfStat(n string) error {
	cmd := b.mcperfStat(n)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mcperf stat: %v%s", err, said(&stderr))
	}
	count, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), ",")
	if c, err := strconv.Atoi(count); err != nil || c < *loopN {
		return fmt.Errorf("mcperf stat counted %q local calls, want at least the loop's %s", stderr.String(), n)
	}
	return nil
}

// mcperfFigure is figure 18.
func (b *bench) mcperfFigure(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) Figure {
	return ratioFig("mcperf_stat_overhead", fmt.Sprintf("run of getpid_loop %d under mcperf stat, wall time", *loopN),
		"ns/run", &b.mcperf.stat, 1.03, true, "< 1.03x", namedSeries{"mcexec alone", &b.mcperf.plain})
}
