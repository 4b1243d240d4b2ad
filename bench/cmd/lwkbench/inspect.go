package main

// The mcps figures (issue 5), measured in the first instance after the
// process-model figures:
//
//  10. mcps wall time, from fork to exit, with 10 and with over 1,000 LWK
//     threads (4 processes of testdata/c/inspectee with 251 threads
//     each), warm (the DWARF
//     layout cached) and cold (the cache directory, $XDG_CACHE_HOME,
//     empty). Targets: warm < 50 ms, cold < 500 ms.
//  11. Disturbance: the LWK getpid loop while one mcps -d 0.1 (a new
//     table every 100 ms, a faster refresh than top's or watch's) watches
//     the instance from the Linux CPU, against the same loop while that
//     mcps is stopped. mcps reads the daemon with process_vm_readv and
//     stops nothing. Target: <= 1.01x. One LWK run of
//     bench/c/syscall_windows (-disturbance, 90 s) counts its calls per
//     100 ms window while the bench stops and continues one mcps
//     (SIGSTOP, SIGCONT) every second, noting when on the program's
//     clock, CLOCK_MONOTONIC. Windows that straddle a switch, and the
//     first after each, are dropped: a continued mcps first makes up the
//     table it missed. Each second with mcps running is set against the
//     seconds without just before and after it, and the figure is the
//     geometric mean of those ratios, its standard error and 95% interval
//     in the figure's name. This VM's speed drifts by tens of percent
//     over minutes, which whole runs alone and beside mcps, paired with
//     their neighbours, could not cancel (they resolved ~1.4%); switching
//     every second does, and one instance boot measures both states.
//     It does not cancel the speed's changes from one second to the
//     next, ~5-10% here (native runs vary as much), which leave a
//     standard error of 1.2-1.5% on this VM. Shorter blocks would be a
//     little less noisy but cover too few of mcps's 100 ms cycles. The
//     costs shown for scale before (mcps -d 0, mcps or /bin/true started
//     back to back) are gone: each needed whole runs of its own.

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/testprog"
)

// inspectSeries are the samples of figures 10 and 11.
type inspectSeries struct {
	warm10, cold10, warm1000, cold1000 series
	// Figure 11: the getpid loop's ns/op per block with mcps running and
	// stopped, and each block running against its neighbours stopped.
	getpidOn, getpidOff, pairRatios series
}

// all lists the series, for the instance's boot to fail them all.
func (s *inspectSeries) all() []*series {
	return []*series{&s.warm10, &s.cold10, &s.warm1000, &s.cold1000,
		&s.getpidOn, &s.getpidOff, &s.pairRatios}
}

// Runs of mcps per latency figure.
const mcpsRuns = 10

// Figure 11 switches mcps on or off every disturbBlock and counts getpid
// calls per disturbWindow.
const (
	disturbBlock  = time.Second
	disturbWindow = 100 * time.Millisecond
)

// inspectNeeds is choose's table for figures 10 and 11.
func (b *bench) inspectNeeds() map[string][]*series {
	s := &b.insp
	return map[string][]*series{
		"mcps_warm_10":     {&s.warm10},
		"mcps_cold_10":     {&s.cold10},
		"mcps_warm_1000":   {&s.warm1000},
		"mcps_cold_1000":   {&s.cold1000},
		"mcps_disturbance": {&s.getpidOn, &s.getpidOff, &s.pairRatios},
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
	if !s.warm10.skip || !s.cold10.skip || !s.getpidOn.skip {
		progressf("mcps: 10 LWK threads; the getpid loop with mcps beside it, stopped and continued")
		stop, err := b.inspectees(1, 8, 0)
		if err != nil {
			fail(err, &s.warm10, &s.cold10, &s.getpidOn, &s.getpidOff, &s.pairRatios)
		} else {
			b.mcpsLatency(&s.warm10, &s.cold10)
			if !s.getpidOn.skip {
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
		if _, err := wall("mcps", -1, b.mcps(b.ctx, dir)); err != nil {
			warm.add(0, err)
		}
		for i := 0; i < mcpsRuns && warm.err == nil; i++ {
			warm.add(wall("mcps warm", -1, b.mcps(b.ctx, dir)))
		}
		progressf("  %-24s %10.2f ms", "mcps warm", warm.median()/1e6)
	}
	for i := 0; i < mcpsRuns && !cold.skip && cold.err == nil; i++ {
		empty := filepath.Join(dir, fmt.Sprint("cold", i))
		cold.add(wall("mcps cold", -1, b.mcps(b.ctx, empty)))
	}
	if !cold.skip {
		progressf("  %-24s %10.2f ms", "mcps cold", cold.median()/1e6)
	}
}

// disturbance runs syscall_windows on the LWK for -disturbance with one
// mcps -d 0.1 beside it, stopped and continued every disturbBlock, and
// sets the blocks with mcps running against their neighbours without.
func (b *bench) disturbance() {
	s := &b.insp
	ws, ts, err := b.watchedRun()
	if err != nil {
		err = fmt.Errorf("LWK syscall_windows beside mcps -d 0.1: %w", err)
		for _, x := range []*series{&s.getpidOn, &s.getpidOff, &s.pairRatios} {
			x.add(0, err)
		}
		return
	}
	s.getpidOn.samples, s.getpidOff.samples, s.pairRatios.samples = toggled(ws, ts)
	if n := len(s.pairRatios.samples); n < 2 {
		s.pairRatios.add(0, fmt.Errorf("LWK syscall_windows beside mcps -d 0.1: %d pairs of blocks from %d windows and %d switches, too few to judge", n, len(ws), len(ts)))
		return
	}
	mean, se, _, _ := ratioMean(s.pairRatios.samples)
	progressf("  %-24s %10.4f, SE %.2f%% (%d pairs of blocks)", "mcps -d 0.1 on/off", mean, 100*se, len(s.pairRatios.samples))
}

// watchedRun runs syscall_windows on the LWK for -disturbance while the
// bench stops and continues one mcps -d 0.1 every disturbBlock, starting
// stopped, and returns the program's windows and the switches.
func (b *bench) watchedRun() ([]window, []toggle, error) {
	cache, err := os.MkdirTemp("", "lwkbench-cache-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(cache)
	ctx, cancel := context.WithTimeout(b.ctx, *disturb+runTimeout)
	defer cancel()
	w, err := b.startWatcher(ctx, cache)
	if err != nil {
		return nil, nil, err
	}
	defer w.stop()
	return b.toggledRun(ctx, w, *disturb, "getpid")
}

// switcher turns on and off what a toggled run measures: mcps beside
// the loop (figure 11), the LWK's counting (counting.go).
type switcher interface {
	// toggle switches and says when, on the program's clock.
	toggle(on bool) (toggle, error)
	// gone is closed when the switcher can switch no more, for failure
	// to say why; nil if it cannot end.
	gone() <-chan struct{}
	failure() error
}

// toggledRun runs syscall_windows CALL on the LWK for d while sw
// switches every disturbBlock, starting off, and returns the program's
// windows and the switches.
func (b *bench) toggledRun(ctx context.Context, sw switcher, d time.Duration, call string) ([]window, []toggle, error) {
	first, err := sw.toggle(false)
	if err != nil {
		return nil, nil, err
	}
	var stdout, stderr strings.Builder
	prog := b.inst.mcexec(ctx, b.progs["syscall_windows"], strconv.FormatFloat(d.Seconds(), 'f', -1, 64),
		strconv.FormatInt(disturbWindow.Milliseconds(), 10), call)
	prog.Stdout, prog.Stderr = &stdout, &stderr
	if err := prog.Start(); err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() {
		err := prog.Wait()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
		}
		done <- err
	}()
	ts, err := toggleUntil(sw, done, first)
	if err != nil {
		prog.Process.Kill()
		<-done
		return nil, nil, err
	}
	ws, err := parseWindows(stdout.String())
	return ws, ts, err
}

// watcher is a program beside the loop that the bench stops and
// continues: the mcps -d 0.1 of figure 11, mcdash (dash.go).
type watcher struct {
	name   string // what the errors call it
	cmd    *exec.Cmd
	stderr strings.Builder
	exited chan struct{} // closed once it has exited, with err set
	err    error
}

func (w *watcher) gone() <-chan struct{} { return w.exited }

// startWatcher starts mcps -d 0.1 and waits for its first table, so that
// its start-up (reading the DWARF layout into an empty cache) is over
// before the measurement begins.
func (b *bench) startWatcher(ctx context.Context, cache string) (*watcher, error) {
	cmd := b.mcps(ctx, cache, "-d", "0.1")
	out := &firstWrite{started: make(chan struct{})}
	cmd.Stdout = out
	return watch("mcps -d 0.1", cmd, out.started)
}

// watch starts cmd as the watcher name and waits until started is
// closed (cmd's stdout, set by the caller, saw it ready).
func watch(name string, cmd *exec.Cmd, started <-chan struct{}) (*watcher, error) {
	w := &watcher{name: name, cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		w.err = cmd.Wait()
		close(w.exited)
	}()
	select {
	case <-started:
		return w, nil
	case <-w.exited:
		return nil, w.failure()
	case <-time.After(runTimeout):
		w.stop()
		return nil, fmt.Errorf("%s printed nothing in %v", name, runTimeout)
	}
}

// failure says why the watcher exited.
func (w *watcher) failure() error {
	return fmt.Errorf("%s exited: %v: %s", w.name, w.err, strings.TrimSpace(w.stderr.String()))
}

// stop kills the watcher, stopped or not, and waits for its end.
func (w *watcher) stop() {
	w.cmd.Process.Kill()
	<-w.exited
}

// toggle continues (on) or stops the watcher and says when, on the
// program's clock. The time is taken before the signal: the switch takes
// effect a little later, in the window it falls in or the next, both
// dropped.
func (w *watcher) toggle(on bool) (toggle, error) {
	sig := syscall.SIGSTOP
	if on {
		sig = syscall.SIGCONT
	}
	t := toggle{at: monotonic(), on: on}
	if err := w.cmd.Process.Signal(sig); err != nil {
		return t, fmt.Errorf("%s: %v: %w", w.name, sig, err)
	}
	return t, nil
}

// toggleUntil switches sw every disturbBlock, from first on, until the
// program ends (done), and returns the switches; an error of the
// program, or the switcher's end, fails the run.
func toggleUntil(sw switcher, done <-chan error, first toggle) ([]toggle, error) {
	ts := []toggle{first}
	tick := time.NewTicker(disturbBlock)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return ts, err
		case <-sw.gone():
			return nil, sw.failure()
		case <-tick.C:
			t, err := sw.toggle(!ts[len(ts)-1].on)
			if err != nil {
				return nil, err
			}
			ts = append(ts, t)
		}
	}
}

// firstWrite discards what it is given and closes started at the first
// write.
type firstWrite struct {
	once    sync.Once
	started chan struct{}
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.once.Do(func() { close(f.started) })
	return len(p), nil
}

// monotonic reads CLOCK_MONOTONIC in ns, the clock of syscall_windows:
// time.Now's monotonic reading has another origin.
func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) // cannot fail for this clock
	return ts.Nano()
}

// window is one of syscall_windows's records: calls getpid calls from
// start to end, in CLOCK_MONOTONIC ns.
type window struct {
	start, end, calls int64
}

// toggle is a switch of mcps: from at (CLOCK_MONOTONIC ns) on, it runs
// (on) or is stopped.
type toggle struct {
	at int64
	on bool
}

// parseWindows reads syscall_windows's output: "t0 NS", then a line
// "window END_NS CALLS" per window, each starting where the one before
// ended, then its ns/op line.
func parseWindows(out string) ([]window, error) {
	var ws []window
	start := int64(-1)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) == 2 && f[0] == "t0":
			start, err = strconv.ParseInt(f[1], 10, 64)
		case len(f) == 3 && f[0] == "window" && start >= 0:
			w := window{start: start}
			if w.end, err = strconv.ParseInt(f[1], 10, 64); err == nil {
				w.calls, err = strconv.ParseInt(f[2], 10, 64)
			}
			ws, start = append(ws, w), w.end
		}
		if err != nil {
			return nil, fmt.Errorf("syscall_windows output %q: %w", line, err)
		}
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("no windows in syscall_windows's output %q", out)
	}
	return ws, nil
}

// block is the windows kept between one switch and the next.
type block struct {
	on        bool
	ns, calls int64
}

func (b block) nsPerCall() float64 { return float64(b.ns) / float64(b.calls) }

// toggled is figure 11's analysis of the windows ws under the switches ts
// (both in time order): the ns/op of each block with mcps running (on)
// and stopped (off), and the ratio of each running block to the
// geometric mean of the stopped blocks just before and after it (or to
// the one there is), which cancels a drift that is steady over the
// three. Blocks left without windows are left out.
func toggled(ws []window, ts []toggle) (on, off, ratios []float64) {
	bs := blocks(ws, ts)
	for i, b := range bs {
		switch {
		case b.calls == 0:
		case !b.on:
			off = append(off, b.nsPerCall())
		default:
			on = append(on, b.nsPerCall())
			var logs []float64
			for _, j := range []int{i - 1, i + 1} {
				if j >= 0 && j < len(bs) && !bs[j].on && bs[j].calls > 0 {
					logs = append(logs, math.Log(bs[j].nsPerCall()))
				}
			}
			if len(logs) > 0 {
				ref, _ := meanSE(logs)
				ratios = append(ratios, b.nsPerCall()/math.Exp(ref))
			}
		}
	}
	return on, off, ratios
}

// recordToggled files a toggled run of syscall_windows call, what
// switched on and off (err, or the ns/op of its blocks on and off and
// their paired ratios), and prints the ratios' mean as label.
func recordToggled(call, what, label string, ws []window, ts []toggle, err error, on, off, ratios *series) {
	if err != nil {
		for _, x := range []*series{on, off, ratios} {
			x.add(0, fmt.Errorf("LWK syscall_windows %s, %s switched: %w", call, what, err))
		}
		return
	}
	on.samples, off.samples, ratios.samples = toggled(ws, ts)
	if n := len(ratios.samples); n < 2 {
		ratios.add(0, fmt.Errorf("LWK syscall_windows %s: %d pairs of blocks, too few to judge", call, n))
		return
	}
	mean, se, _, _ := ratioMean(ratios.samples)
	progressf("  %-24s %10.4f, SE %.2f%% (%d pairs of blocks)", label, mean, 100*se, len(ratios.samples))
}

// blocks sums the windows into one block per switch. It drops the windows
// before the first switch, those that straddle one, and the first after
// each: a signalled mcps stops or resumes a little after the switch's
// time, a continued one first makes up the table it missed, and the LWK
// CPU's caches may still feel the state before.
func blocks(ws []window, ts []toggle) []block {
	bs := make([]block, len(ts))
	for i, t := range ts {
		bs[i].on = t.on
	}
	last := -1 // the block of the window before
	for _, w := range ws {
		// ts[i-1] is the last switch at or before the window's start.
		i := sort.Search(len(ts), func(i int) bool { return ts[i].at > w.start })
		if i == 0 || i < len(ts) && ts[i].at < w.end {
			continue
		}
		if i-1 != last {
			last = i - 1
			continue
		}
		bs[i-1].ns += w.end - w.start
		bs[i-1].calls += w.calls
	}
	return bs
}

// ratioMean is the geometric mean of the ratios r, its standard error
// (relative) and its 95% interval. The logarithms' mean is unbiased where
// the plain mean of ratios of noisy blocks leans upwards, by about half
// their relative variance: ~0.5% for the ~10% by which this VM's speed
// differs from one second to the next.
func ratioMean(r []float64) (mean, se, lo, hi float64) {
	logs := make([]float64, len(r))
	for i, v := range r {
		logs[i] = math.Log(v)
	}
	m, se := meanSE(logs)
	return math.Exp(m), se, math.Exp(m - 1.96*se), math.Exp(m + 1.96*se)
}

// meanSE is the mean of x, a series of paired ratios or their logarithms,
// and its standard error. Neighbouring pairs share a stopped block, and so
// its noise: the error counts their covariance, when positive, beside the
// variance.
func meanSE(x []float64) (mean, se float64) {
	for _, v := range x {
		mean += v
	}
	n := float64(len(x))
	mean /= n
	if len(x) < 2 {
		return mean, 0
	}
	var v0, v1 float64
	for i, v := range x {
		v0 += (v - mean) * (v - mean)
		if i > 0 {
			v1 += (v - mean) * (x[i-1] - mean)
		}
	}
	v0, v1 = v0/(n-1), v1/(n-1)
	return mean, math.Sqrt((v0 + 2*max(v1, 0)) / n)
}

// inspectFigures are figures 10 and 11; ratioFig is report's.
func (b *bench) inspectFigures(ratioFig func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure) []Figure {
	s := &b.insp
	return []Figure{
		limitFig("mcps_warm_10", "mcps wall time, 10 LWK threads, layout cached", "ns", &s.warm10, 50e6, "< 50 ms"),
		limitFig("mcps_cold_10", "mcps wall time, 10 LWK threads, cold cache", "ns", &s.cold10, 500e6, "< 500 ms"),
		limitFig("mcps_warm_1000", "mcps wall time, 1,004 LWK threads, layout cached", "ns", &s.warm1000, 50e6, "< 50 ms"),
		limitFig("mcps_cold_1000", "mcps wall time, 1,004 LWK threads, cold cache", "ns", &s.cold1000, 500e6, "< 500 ms"),
		paired(ratioFig("mcps_disturbance", "LWK getpid loop beside mcps -d 0.1, on and off every 1 s", "ns/op",
			&s.getpidOn, 1.01, false, "<= 1.01x", namedSeries{"mcps stopped", &s.getpidOff}), &s.pairRatios),
	}
}

// paired judges f, a ratio figure, on the geometric mean of the paired
// ratios instead of the ratio of medians, and names its precision.
func paired(f Figure, ratios *series) Figure {
	if f.Result != resultPass && f.Result != resultMiss {
		return f
	}
	if err := ratios.failure(); err != nil {
		f.Result, f.Error = resultError, err.Error()
		return f
	}
	mean, se, lo, hi := ratioMean(ratios.samples)
	f.Name += fmt.Sprintf(" (%d pairs: geometric mean %.4f, SE %.2f%%, 95%% %.3f-%.3f, median %.4f)",
		len(ratios.samples), mean, 100*se, lo, hi, ratios.median())
	f.Ratio = mean
	f.Result = resultMiss
	if f.Ratio <= f.limit {
		f.Result = resultPass
	}
	return f
}
