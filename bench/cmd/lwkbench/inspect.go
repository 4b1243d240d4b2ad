package main

// The mcps figures (issue 5), measured in the first instance after the
// process-model figures:
//
//  10. mcps wall time, from fork to exit, with 10 and with over 1,000 LWK
//     threads (4 processes of testdata/c/inspectee with 251 threads
//     each), warm (the DWARF
//     layout cached) and cold (the cache directory, $XDG_CACHE_HOME,
//     empty). Targets: warm < 50 ms, cold < 500 ms.
//  11. Disturbance: the LWK getpid loop of (1) while mcps watches the
//     instance beside it (one mcps -d 0.1: a new table every 100 ms, a
//     faster refresh than top's or watch's), against the same loop
//     without, interleaved runs. mcps reads the daemon with
//     process_vm_readv from a Linux CPU and stops nothing. Target:
//     <= 1.01x. The ratio is paired: the median, over the runs beside
//     mcps, of each run against the mean of the runs without just before
//     and just after it, since the speed of this VM drifts by tens of
//     percent over the bench, far more than the effect measured. Shown for scale: the loop beside one mcps reading back to
//     back (-d 0), beside mcps started back to back, and beside /bin/true
//     started back to back: on this VM starting processes on the Linux
//     CPU is what costs most, then the reads themselves when they never
//     pause (the LWK's records are written at every system call, so a
//     reader that never stops keeps pulling their cache lines away).

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

// inspectSeries are the samples of figures 10 and 11.
type inspectSeries struct {
	warm10, cold10, warm1000, cold1000                            series
	getpidQuiet, getpidWatch, getpidTight, getpidBusy, getpidTrue series
}

// all lists the series, for the instance's boot to fail them all.
func (s *inspectSeries) all() []*series {
	return []*series{&s.warm10, &s.cold10, &s.warm1000, &s.cold1000,
		&s.getpidQuiet, &s.getpidWatch, &s.getpidTight, &s.getpidBusy, &s.getpidTrue}
}

// Runs of mcps per latency figure, and of the getpid loop each, with and
// without mcps beside it.
const (
	mcpsRuns       = 10
	disturbanceRun = 8
)

// inspectNeeds is choose's table for figures 10 and 11.
func (b *bench) inspectNeeds() map[string][]*series {
	s := &b.insp
	return map[string][]*series{
		"mcps_warm_10":     {&s.warm10},
		"mcps_cold_10":     {&s.cold10},
		"mcps_warm_1000":   {&s.warm1000},
		"mcps_cold_1000":   {&s.cold1000},
		"mcps_disturbance": {&s.getpidQuiet, &s.getpidWatch, &s.getpidTight, &s.getpidBusy, &s.getpidTrue},
	}
}

// measureInspect takes figures 10 and 11 in the booted instance.
func (b *bench) measureInspect() {
	s := &b.insp
	fail := func(err error, ss ...*series) {
		for _, x := range ss {
			if !x.skip {
				x.add(0, err)
			}
		}
	}
	if !s.warm10.skip || !s.cold10.skip || !s.getpidQuiet.skip {
		progressf("mcps: 10 LWK threads; the getpid loop with and without mcps beside it")
		stop, err := b.inspectees(1, 8, 0)
		if err != nil {
			fail(err, &s.warm10, &s.cold10, &s.getpidQuiet, &s.getpidWatch, &s.getpidTight, &s.getpidBusy, &s.getpidTrue)
		} else {
			b.mcpsLatency(&s.warm10, &s.cold10)
			if !s.getpidQuiet.skip {
				b.disturbance()
			}
			stop()
		}
	}
	if !s.warm1000.skip || !s.cold1000.skip {
		progressf("mcps: 4 processes of 251 LWK threads")
		stop, err := b.inspectees(4, 1, 248)
		if err != nil {
			fail(err, &s.warm1000, &s.cold1000)
			return
		}
		b.mcpsLatency(&s.warm1000, &s.cold1000)
		stop()
	}
}

// inspectees starts procs inspectee processes of readers+2+waiters
// threads each and waits until all are ready; stop ends them.
func (b *bench) inspectees(procs, readers, waiters int) (stop func(), err error) {
	var stdins []io.Closer
	var cmds []*exec.Cmd
	stop = func() {
		for _, in := range stdins {
			in.Close()
		}
		for _, c := range cmds {
			timer := time.AfterFunc(10*time.Second, func() { c.Process.Kill() })
			c.Wait()
			timer.Stop()
		}
	}
	for range procs {
		c := b.lwk("inspectee", strconv.Itoa(readers), "1", strconv.Itoa(waiters))
		in, err := c.StdinPipe()
		if err != nil {
			stop()
			return nil, err
		}
		out, err := c.StdoutPipe()
		if err != nil {
			stop()
			return nil, err
		}
		if err := c.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("LWK inspectee: %v", err)
		}
		stdins, cmds = append(stdins, in), append(cmds, c)
		if err := testprog.WaitReady(out, runTimeout); err != nil {
			stop()
			return nil, fmt.Errorf("LWK inspectee: %v", err)
		}
	}
	return stop, nil
}

// mcps prepares mcps with its layout cache in cache.
func (b *bench) mcps(ctx context.Context, cache string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, filepath.Join(b.bin, "mcps"), args...)
	c.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	return c
}

// mcpsLatency times mcps warm (after one run that fills the cache) and
// cold (an empty cache each run).
func (b *bench) mcpsLatency(warm, cold *series) {
	dir, err := os.MkdirTemp("", "lwkbench-cache-")
	if err != nil {
		warm.add(0, err)
		cold.add(0, err)
		return
	}
	defer os.RemoveAll(dir)
	if !warm.skip {
		if _, err := wall("mcps", b.mcps(b.ctx, dir)); err != nil {
			warm.add(0, err)
		}
		for i := 0; i < mcpsRuns && warm.err == nil; i++ {
			warm.add(wall("mcps warm", b.mcps(b.ctx, dir)))
		}
		progressf("  %-24s %10.2f ms", "mcps warm", warm.median()/1e6)
	}
	for i := 0; i < mcpsRuns && !cold.skip && cold.err == nil; i++ {
		empty := filepath.Join(dir, fmt.Sprint("cold", i))
		cold.add(wall("mcps cold", b.mcps(b.ctx, empty)))
	}
	if !cold.skip {
		progressf("  %-24s %10.2f ms", "mcps cold", cold.median()/1e6)
	}
}

// disturbance runs the getpid loop alternately alone, with mcps running
// back to back beside it, and, for scale, with /bin/true doing the same:
// what any program started over and over on the Linux CPU costs.
func (b *bench) disturbance() {
	s := &b.insp
	n := strconv.Itoa(*loopN)
	cache, err := os.MkdirTemp("", "lwkbench-cache-")
	if err != nil {
		s.getpidBusy.add(0, err)
		return
	}
	defer os.RemoveAll(cache)
	mcps := func(args ...string) func(ctx context.Context) *exec.Cmd {
		return func(ctx context.Context) *exec.Cmd { return b.mcps(ctx, cache, args...) }
	}
	trueCmd := func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, "/bin/true") }
	for i := 0; i < disturbanceRun*(*reps); i++ {
		b.lwkRun(&s.getpidQuiet, "LWK getpid_loop", "getpid_loop", n)
		if !b.beside(&s.getpidWatch, "mcps -d 0.1", mcps("-d", "0.1")) ||
			!b.beside(&s.getpidTight, "mcps -d 0", mcps("-d", "0")) ||
			!b.beside(&s.getpidBusy, "mcps", mcps()) ||
			!b.beside(&s.getpidTrue, "/bin/true", trueCmd) {
			return
		}
	}
}

// beside runs the getpid loop into s while cmd runs back to back (or,
// for one that runs until killed, once), and reports whether all went
// well.
func (b *bench) beside(s *series, name string, cmd func(context.Context) *exec.Cmd) bool {
	ctx, cancel := context.WithCancel(b.ctx)
	var runs atomic.Int64
	var wg sync.WaitGroup
	var loopErr error
	wg.Go(func() {
		for ctx.Err() == nil {
			var stderr strings.Builder
			c := cmd(ctx)
			c.Stderr = &stderr
			if err := c.Run(); err != nil && ctx.Err() == nil {
				loopErr = fmt.Errorf("%s beside the getpid loop: %v: %s", name, err, strings.TrimSpace(stderr.String()))
				return
			}
			runs.Add(1)
		}
	})
	b.lwkRun(s, "LWK getpid_loop + "+name, "getpid_loop", strconv.Itoa(*loopN))
	cancel()
	wg.Wait()
	if loopErr != nil {
		s.add(0, loopErr)
		return false
	}
	progressf("  (%d runs of %s beside it)", runs.Load(), name)
	return true
}

// inspectFigures are figures 10 and 11; ratioFig is report's.
func (b *bench) inspectFigures(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	s := &b.insp
	limitFig := func(id, name string, v *series, limit float64, target string) Figure {
		f := Figure{ID: id, Name: name, Unit: "ns", LWK: value(v), Target: target}
		switch err := v.failure(); {
		case v.skip:
			f.Result, f.Skip = resultSkipped, notChosen
		case err != nil:
			f.Result, f.Error = resultError, err.Error()
		case f.LWK.Median < limit:
			f.Result = resultPass
		default:
			f.Result = resultMiss
		}
		return f
	}
	return []Figure{
		limitFig("mcps_warm_10", "mcps wall time, 10 LWK threads, layout cached", &s.warm10, 50e6, "< 50 ms"),
		limitFig("mcps_cold_10", "mcps wall time, 10 LWK threads, cold cache", &s.cold10, 500e6, "< 500 ms"),
		limitFig("mcps_warm_1000", "mcps wall time, 1,004 LWK threads, layout cached", &s.warm1000, 50e6, "< 50 ms"),
		limitFig("mcps_cold_1000", "mcps wall time, 1,004 LWK threads, cold cache", &s.cold1000, 500e6, "< 500 ms"),
		paired(ratioFig("mcps_disturbance", "LWK getpid loop with mcps watching beside it (-d 0.1), paired", "ns/op", &s.getpidWatch, 1.01, false, "<= 1.01x",
			namedSeries{"without mcps", &s.getpidQuiet}, namedSeries{"mcps -d 0 (never pausing)", &s.getpidTight},
			namedSeries{"mcps started back to back", &s.getpidBusy}, namedSeries{"/bin/true started back to back", &s.getpidTrue}),
			&s.getpidWatch, &s.getpidQuiet),
	}
}

// paired judges f, a ratio figure, on pairedRatio instead of the ratio of
// medians.
func paired(f Figure, s, quiet *series) Figure {
	if f.Result != resultPass && f.Result != resultMiss {
		return f
	}
	f.Ratio = pairedRatio(s.samples, quiet.samples)
	f.Result = resultMiss
	if f.Ratio <= f.limit {
		f.Result = resultPass
	}
	return f
}

// pairedRatio is the median of each of samples against the mean of the
// quiet samples taken just before and just after it: the runs alternate,
// quiet[i] before samples[i] and quiet[i+1] after it.
func pairedRatio(samples, quiet []float64) float64 {
	var r series
	for i, v := range samples {
		if i >= len(quiet) {
			break
		}
		ref := quiet[i]
		if i+1 < len(quiet) {
			ref = (ref + quiet[i+1]) / 2
		}
		r.samples = append(r.samples, v/ref)
	}
	return r.median()
}
