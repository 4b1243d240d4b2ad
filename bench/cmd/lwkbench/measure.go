package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
)

// runTimeout bounds one program run, so a hung LWK cannot hang the bench.
const runTimeout = 2 * time.Minute

// series is the samples of one measured quantity, in ns, and the first
// error met while taking them.
type series struct {
	samples []float64
	err     error
	skip    bool // no figure chosen with -only needs it: not measured
}

func (s *series) add(v float64, err error) {
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		progressf("  error: %v", err)
		return
	}
	s.samples = append(s.samples, v)
}

// median is NaN-free: a series without samples has median 0 and, if
// nothing else, an error saying so.
func (s *series) median() float64 {
	if len(s.samples) == 0 {
		return 0
	}
	v := slices.Clone(s.samples)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (s *series) failure() error {
	if s.err != nil {
		return s.err
	}
	if len(s.samples) == 0 {
		return errors.New("no samples")
	}
	return nil
}

type bench struct {
	ctx   context.Context
	bin   string
	progs map[string]string
	cpu   int
	// pair is the two CPUs of the two-CPU futex ping-pong's instance, nil
	// when that figure is skipped; pairSkip then says why. With shared,
	// the instance shares them with Linux (a 2-CPU machine).
	pair     []int
	pairSkip string
	shared   bool
	inst     *instance

	// Native and floor runs pinned to the LWK CPU while no instance runs.
	nativeGetpid, nativeDevnull, floor, nativeTouch series
	// The same for the process-model programs; nativeFutex2 runs on pair.
	nativeFutex1, nativeFutex2, nativeFork, nativeThread, nativeYield series
	// futex_pingpong's "always" form, which wakes at every pass.
	nativeFutexAlways, lwkFutexAlways series
	// The stress-ng figures (stressng.go).
	stress stressSeries
	// The MPI ping-pong figures (mpi.go), in the instance on pair.
	mpi mpiSeries
	// The process pairs (procs.go).
	nativeFutexProcs, lwkFutexProcs, nativePipe, lwkPipe series
	// Runs under mcexec; lwkGetpid2 and lwkFutex2 in the instance on pair.
	lwkGetpid, lwkDevnull, lwkTouch                    series
	lwkFutex1, lwkFutex2, lwkFork, lwkThread, lwkYield series
	lwkGetpid2                                         series
	// Wall times of hello, interleaved while the instance runs.
	lwkHello, nativeHello series
	// Complete rounds of native and floor runs.
	hostRounds int
	// An instance would not boot: no more boots for those series.
	lwkFailed, pairFailed bool
	// The mcps figures (inspect.go).
	insp inspectSeries
	// The core dump figures (core.go), their instance's boot failure, the
	// directory of the cores and dd's source file in it.
	core         coreSeries
	coreFailed   bool
	cores, ddSrc string
	// The kernel dump figures (dump.go) and their instance's boot failure.
	dump       dumpSeries
	dumpFailed bool
	// The OS noise figure (noise.go).
	noise noiseSeries
	// The cost of mcperf stat (mcperf.go).
	mcperf mcperfSeries
	// The PAPI figure (papi.go).
	papiRead series
	// The cost of counting (counting.go).
	counting countingSeries
	// The /metrics scrape and the instance's read in it (metrics.go).
	metricsScrape, metricsRead series
	// The dashboard figures (dash.go).
	dash dashSeries
}

// hostCPUs are the CPUs that the instances take from Linux, and so the
// native runs that share them.
func (b *bench) hostCPUs() []int {
	if b.pair != nil {
		return b.pair
	}
	return []int{b.cpu}
}

// mayRunOnAll reports whether this process may be scheduled on every one
// of the hostCPUs.
func (b *bench) mayRunOnAll() bool {
	for _, c := range b.hostCPUs() {
		if !mayRunOn(c) {
			return false
		}
	}
	return true
}

// measure takes the samples in rounds. Each round runs the native and
// floor programs on the LWK's CPUs, then boots the instance on them for
// the LWK runs and shuts it down, then does the same for the two-CPU
// instance: a native reference and its LWK figure are taken minutes apart
// at most, under the same conditions of a shared machine, and on the same
// CPUs (an instance takes its CPUs from Linux while it runs).
func (b *bench) measure(base *bench) {
	n, nn := strconv.Itoa(*loopN), strconv.Itoa(*nativeN)
	touch := strconv.Itoa(*touchMiB)
	cpu := strconv.Itoa(b.cpu)
	ping, forks, threads := strconv.Itoa(*pingN), strconv.Itoa(*forkN), strconv.Itoa(*threadN)
	var p0, p1 string
	if b.pair != nil {
		p0, p1 = strconv.Itoa(b.pair[0]), strconv.Itoa(b.pair[1])
	}
	hostCPUs := cpuNames(b.hostCPUs())
	b.writeDDSource()
	// Another instance booting meanwhile would load the memory and then
	// take the CPU from Linux and so from the native runs, which would
	// measure something else: a sample counts only if no daemon ran and the
	// CPUs were ours before and after it.
	var lost error
	free := func() bool { return b.mayRunOnAll() && len(otherDaemons(0)) == 0 }
	// take adds measure's values to ss, one each (or its error to all).
	take := func(measure func() ([]float64, error), ss ...*series) bool {
		if allSkipped(ss) {
			return true
		}
		if !free() {
			return false
		}
		v, err := measure()
		if !free() {
			return false
		}
		for i, s := range ss {
			if !s.skip {
				s.add(at(v, i), err)
			}
		}
		return true
	}
	sample := func(s *series, label string, cpu int, cmd *exec.Cmd) bool {
		return take(func() ([]float64, error) { return one(nsPer(label, cpu, cmd)) }, s)
	}
	hostRound := func(r int) {
		progressf("round %d/%d: native and ptrace floor on %s", r, *reps, hostCPUs)
		ok := sample(&b.nativeGetpid, "native getpid_loop", b.cpu, b.native("getpid_loop", nn)) &&
			sample(&b.nativeDevnull, "native devnull_loop", b.cpu, b.native("devnull_loop", nn)) &&
			// ptrace_floor binds itself (and its tracee) to the CPU.
			sample(&b.floor, "ptrace_floor", -1, b.native("ptrace_floor", cpu, n)) &&
			sample(&b.nativeTouch, "native touch", b.cpu, b.native("touch", touch)) &&
			// futex_pingpong and yield_pingpong bind each thread themselves.
			sample(&b.nativeFutex1, "native futex_pingpong", b.cpu, b.native("futex_pingpong", cpu, cpu, ping)) &&
			sample(&b.nativeFutexAlways, "native futex_pingpong always", b.cpu, b.native("futex_pingpong", cpu, cpu, ping, "always")) &&
			(b.pair == nil || sample(&b.nativeFutex2, "native futex_pingpong 2 CPUs", -1, b.native("futex_pingpong", p0, p1, ping))) &&
			sample(&b.nativeYield, "native yield_pingpong", b.cpu, b.native("yield_pingpong", cpu, ping)) &&
			sample(&b.nativeFutexProcs, "native futex_pingpong procs", b.cpu, b.native("futex_pingpong", cpu, cpu, ping, "procs")) &&
			sample(&b.nativePipe, "native pipe_pingpong", b.cpu, b.native("pipe_pingpong", ping)) &&
			sample(&b.nativeThread, "native thread_join", b.cpu, b.native("thread_join", threads)) &&
			sample(&b.nativeFork, "native fork_wait", b.cpu, b.native("fork_wait", forks)) &&
			(!coreRound(r) || b.coreHost(take)) &&
			(r != *reps || b.stressHost(take)) &&
			b.mpiHost(take)
		if !ok {
			lost = fmt.Errorf("another LWK instance took %s in round %d", hostCPUs, r)
			progressf("  %v: no more native runs", lost)
			return
		}
		b.hostRounds++
	}
	defer func() {
		for _, s := range b.hostSeries() {
			if len(s.samples) == 0 && s.err == nil {
				s.err = lost
			}
		}
	}()
	// boot boots an instance for the series in ss, or gives them the
	// error and sets *failed: the next boot would fail the same way.
	boot := func(b *bench, cpus []int, mem string, shared bool, failed *bool, ss ...*series) bool {
		err := lost
		if err == nil {
			if others := otherDaemons(0); len(others) > 0 {
				err = fmt.Errorf("not booting: another LWK daemon (pid %v) started meanwhile", others)
			} else {
				err = b.inst.boot(b.ctx, cpus, mem, shared)
			}
		}
		if err != nil {
			progressf("  error: %v", err)
			for _, s := range ss {
				if s.err == nil {
					s.err = err
				}
			}
			*failed = true
			return false
		}
		return true
	}
	shutdown := func(b *bench) {
		progressf("shutting the LWK down")
		for _, err := range b.inst.stop() {
			progressf("  warning: %v", err)
		}
		// The shutdown hands the CPUs back to Linux; give the cpuset a moment.
		for deadline := time.Now().Add(5 * time.Second); !b.mayRunOnAll() && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	// hello's runs are spread over the rounds.
	helloPerRound := (*helloRuns + *reps - 1) / *reps
	// lwkRound takes round r's LWK samples of b (this build or the base).
	lwkRound := func(b *bench, r int) {
		lwkSeries := []*series{&b.lwkGetpid, &b.lwkDevnull, &b.lwkTouch, &b.lwkHello, &b.nativeHello,
			&b.lwkFutex1, &b.lwkFutexAlways, &b.lwkFork, &b.lwkThread, &b.lwkYield, &b.lwkFutexProcs, &b.lwkPipe}
		lwkSeries = append(append(lwkSeries, b.insp.all()...), b.noise.all()...)
		lwkSeries = append(lwkSeries, &b.mcperf.stat, &b.mcperf.plain)
		lwkSeries = append(lwkSeries, &b.papiRead, &b.counting.getpidOn, &b.counting.getpidOff, &b.counting.getpidRatios,
			&b.counting.offloadOn, &b.counting.offloadOff, &b.counting.offloadRatios, &b.metricsScrape)
		lwkSeries = append(lwkSeries, b.stress.all(false)...)
		lwkSeries = append(lwkSeries, b.dash.all()...)
		pairSeries := append([]*series{&b.lwkGetpid2, &b.lwkFutex2}, b.mpi.all(false)...)
		if !allSkipped(lwkSeries) && !b.lwkFailed {
			progressf("round %d/%d: booting the LWK of %s on CPU %d with %s", r, *reps, b.bin, b.cpu, *memSize)
			if boot(b, []int{b.cpu}, *memSize, false, &b.lwkFailed, lwkSeries...) {
				progressf("round %d/%d, LWK: getpid, /dev/null writes, touch %s MiB", r, *reps, touch)
				b.lwkAdd(&b.lwkGetpid, "LWK getpid_loop", "getpid_loop", n)
				b.lwkAdd(&b.lwkDevnull, "LWK devnull_loop", "devnull_loop", n)
				b.lwkAdd(&b.lwkTouch, "LWK touch", "touch", touch)
				if !b.lwkHello.skip {
					b.hello(min(helloPerRound, *helloRuns-(r-1)*helloPerRound))
				}
				// After the headline figures: what the LWK cannot run yet spoils
				// only its own figure.
				progressf("round %d/%d, LWK: futex and yield ping-pong, thread create + join, fork + wait", r, *reps)
				b.lwkRun(&b.lwkFutex1, "LWK futex_pingpong", "futex_pingpong", cpu, cpu, ping)
				b.lwkRun(&b.lwkFutexAlways, "LWK futex_pingpong always", "futex_pingpong", cpu, cpu, ping, "always")
				b.lwkRun(&b.lwkYield, "LWK yield_pingpong", "yield_pingpong", cpu, ping)
				b.lwkRun(&b.lwkFutexProcs, "LWK futex_pingpong procs", "futex_pingpong", cpu, cpu, ping, "procs")
				b.lwkRun(&b.lwkPipe, "LWK pipe_pingpong", "pipe_pingpong", ping)
				b.lwkRun(&b.lwkThread, "LWK thread_join", "thread_join", threads)
				b.lwkRun(&b.lwkFork, "LWK fork_wait", "fork_wait", forks)
				b.measureNoise()
				b.measureMcperf()
				b.measurePAPI()
				if r == *reps {
					b.measureCounting()
					b.measureDash()
					b.measureInspect()
					b.measureMetrics()
					b.measureStressNG()
				}
			}
			shutdown(b)
		}

		if b.pair != nil && !allSkipped(pairSeries) && !b.pairFailed {
			progressf("round %d/%d: booting the LWK of %s on %s%s with %s for the two-CPU futex and MPI ping-pongs", r, *reps, b.bin, hostCPUs, b.sharedNote(), *memSize)
			if boot(b, b.pair, *memSize, b.shared, &b.pairFailed, pairSeries...) {
				b.lwkRun(&b.lwkGetpid2, "LWK getpid_loop 2 CPUs", "getpid_loop", n)
				b.lwkRun(&b.lwkFutex2, "LWK futex_pingpong 2 CPUs", "futex_pingpong", p0, p1, ping)
				b.measureMPI()
			}
			shutdown(b)
		}

		// Last: its memory is the others' twice, and its runs are long.
		if coreSeries := b.core.lwkSeries(); coreRound(r) && !allSkipped(coreSeries) && !b.coreFailed {
			progressf("round %d/%d: booting the LWK of %s on CPU %d with %s for the core dumps", r, *reps, b.bin, b.cpu, *coreMem)
			if boot(b, []int{b.cpu}, *coreMem, false, &b.coreFailed, coreSeries...) {
				b.coreLWK()
			}
			shutdown(b)
		}

		if dumpRound(r) && b.dump.chosen() && !b.dumpFailed {
			progressf("round %d/%d: booting the LWK of %s on CPU %d with %s for the kernel dumps", r, *reps, b.bin, b.cpu, *dumpMem)
			if boot(b, []int{b.cpu}, *dumpMem, false, &b.dumpFailed, b.dump.all()...) {
				b.dumpLWK()
			}
			shutdown(b)
		}
	}

	for r := 1; r <= *reps; r++ {
		hostRound(r)
		// With a base build, the two take turns going first: a drift
		// within a round (the host's other guests) favours neither.
		first, second := b, base
		if base != nil && r%2 == 0 {
			first, second = base, b
		}
		lwkRound(first, r)
		if second != nil {
			lwkRound(second, r)
		}
	}
}

// withBin returns a bench of the build in dir that measures the same LWK
// figures as b (-base).
func (b *bench) withBin(dir string) *bench {
	o := &bench{bin: dir, progs: b.progs, cpu: b.cpu, pair: b.pair, pairSkip: b.pairSkip, shared: b.shared,
		inst: &instance{bin: dir}, cores: b.cores, ddSrc: b.ddSrc}
	o.choose(*only) // b.choose accepted the list
	return o
}

// shareHostSeries gives the base build b the native and floor samples of
// this build's bench, which both builds' figures are judged against.
func (b *bench) shareHostSeries(from *bench) {
	theirs := from.hostSeries()
	for i, s := range b.hostSeries() {
		*s = *theirs[i]
	}
	b.hostRounds = from.hostRounds
}

// hostSeries are the native and floor series, taken in the host rounds
// while no instance runs.
func (b *bench) hostSeries() []*series {
	return append([]*series{&b.nativeGetpid, &b.nativeDevnull, &b.floor, &b.nativeTouch,
		&b.nativeFutex1, &b.nativeFutexAlways, &b.nativeFutex2, &b.nativeFork, &b.nativeThread, &b.nativeYield,
		&b.nativeFutexProcs, &b.nativePipe},
		append(append(b.core.hostSeries(), b.stress.all(true)...), b.mpi.all(true)...)...)
}

// sharedNote marks the two-CPU instance's CPUs as shared with Linux.
func (b *bench) sharedNote() string {
	if b.shared {
		return ", shared with Linux"
	}
	return ""
}

// allSkipped reports whether -only leaves out every series of ss.
func allSkipped(ss []*series) bool {
	for _, s := range ss {
		if !s.skip {
			return false
		}
	}
	return true
}

// cpuNames renders a CPU list for people: "CPU 1", "CPUs 2-3".
func cpuNames(cpus []int) string {
	if len(cpus) == 1 {
		return fmt.Sprintf("CPU %d", cpus[0])
	}
	return "CPUs " + partition.FormatCPUList(cpus)
}

// lwkRun adds a run of prog under mcexec to s unless an earlier run
// failed: a program the LWK cannot run yet would only fail again, perhaps
// each time after runTimeout.
func (b *bench) lwkRun(s *series, label, prog string, args ...string) {
	if s.err == nil {
		b.lwkAdd(s, label, prog, args...)
	}
}

// lwkAdd adds a run of prog under mcexec to s, unless -only skips it.
func (b *bench) lwkAdd(s *series, label, prog string, args ...string) {
	if !s.skip {
		s.add(nsPer(label, -1, b.lwk(prog, args...)))
	}
}

// choose marks the series that none of the figures named in only (IDs,
// comma-separated; empty: all) needs as skipped.
func (b *bench) choose(only string) error {
	if only == "" {
		return nil
	}
	needs := map[string][]*series{
		"local_syscall":              {&b.lwkGetpid, &b.floor, &b.nativeGetpid},
		"offloaded_syscall":          {&b.lwkDevnull, &b.lwkGetpid, &b.nativeDevnull},
		"first_touch":                {&b.lwkTouch, &b.nativeTouch},
		"hello_wall":                 {&b.lwkHello, &b.nativeHello},
		"futex_pingpong_1cpu":        {&b.lwkFutex1, &b.lwkGetpid, &b.nativeFutex1},
		"futex_pingpong_1cpu_always": {&b.lwkFutexAlways, &b.lwkGetpid, &b.nativeFutexAlways},
		"futex_pingpong_2cpu":        {&b.lwkFutex2, &b.lwkGetpid2, &b.nativeFutex2},
		"fork_wait":                  {&b.lwkFork, &b.nativeFork},
		"thread_create_join":         {&b.lwkThread, &b.nativeThread},
		"yield_switch":               {&b.lwkYield, &b.lwkGetpid, &b.nativeYield},
	}
	maps.Copy(needs, b.procsNeeds())
	maps.Copy(needs, b.stressNeeds())
	maps.Copy(needs, b.mpiNeeds())
	maps.Copy(needs, b.inspectNeeds())
	maps.Copy(needs, b.coreNeeds())
	maps.Copy(needs, b.dumpNeeds())
	maps.Copy(needs, b.noiseNeeds())
	maps.Copy(needs, b.mcperfNeeds())
	maps.Copy(needs, b.papiNeeds())
	maps.Copy(needs, b.countingNeeds())
	maps.Copy(needs, b.metricsNeeds())
	maps.Copy(needs, b.dashNeeds())
	keep := map[*series]bool{}
	for _, id := range strings.Split(only, ",") {
		ss, ok := needs[id]
		if !ok {
			return fmt.Errorf("-only: no figure %q", id)
		}
		for _, s := range ss {
			keep[s] = true
		}
	}
	for _, ss := range needs {
		for _, s := range ss {
			s.skip = !keep[s]
		}
	}
	return nil
}

// native prepares the named test program to run on Linux.
func (b *bench) native(prog string, args ...string) *exec.Cmd {
	return exec.CommandContext(b.ctx, b.progs[prog], args...)
}

// lwk prepares the named test program to run on the LWK.
func (b *bench) lwk(prog string, args ...string) *exec.Cmd {
	return b.inst.mcexec(b.ctx, append([]string{b.progs[prog]}, args...)...)
}

// hello times runs of hello under mcexec and natively, alternating, after
// one checked warm-up run of each so that neither pays for a cold page
// cache or a fresh instance. After a failure it is not run again.
func (b *bench) hello(runs int) {
	if runs <= 0 || b.lwkHello.err != nil {
		return
	}
	progressf("hello: %d runs each, LWK and native interleaved", runs)
	for _, c := range []*exec.Cmd{b.lwk("hello"), b.native("hello")} {
		var out, errOut bytes.Buffer
		c.Stdout, c.Stderr = &out, &errOut
		if err := runCmd(-1, c); err != nil || out.String() != "hello, world\n" {
			err = fmt.Errorf("warm-up %v: %v, stdout %q, stderr %q", c.Args, err, out.String(), errOut.String())
			b.lwkHello.add(0, err)
			b.nativeHello.add(0, err)
			return
		}
	}
	for i := 0; i < runs; i++ {
		b.lwkHello.add(wall("LWK hello", -1, b.lwk("hello")))
		b.nativeHello.add(wall("native hello", -1, b.native("hello")))
	}
}

// wall runs cmd, bound to cpu unless cpu is -1, with its stdout
// discarded unless the caller set it, and returns its wall time in ns,
// from the fork to the reaping of the process. Stderr is kept for the
// error message; both sides pay the same for it.
func wall(label string, cpu int, cmd *exec.Cmd) (float64, error) {
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	t0 := time.Now()
	err := runCmd(cpu, cmd)
	d := time.Since(t0)
	if err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			err = fmt.Errorf("%v: %s", err, msg)
		}
		return 0, fmt.Errorf("%s: %v", label, err)
	}
	return float64(d.Nanoseconds()), nil
}

var nsRE = regexp.MustCompile(`(?m)^ns/(?:op|page) ([0-9]+(?:\.[0-9]+)?)$`)

// nsPer runs one of the bench/c loop programs, bound to cpu unless cpu is
// -1, and returns the figure it prints.
func nsPer(label string, cpu int, cmd *exec.Cmd) (float64, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runCmd(cpu, cmd); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%s (%v)", msg, err)
		}
		return 0, fmt.Errorf("%s failed: %v", label, err)
	}
	m := nsRE.FindSubmatch(stdout.Bytes())
	if m == nil {
		return 0, fmt.Errorf("%s: no ns/op or ns/page in output %q", label, stdout.String())
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", label, err)
	}
	progressf("  %-24s %10.1f ns", label, v)
	return v, nil
}

// runCmd runs cmd, started on cpu unless cpu is -1, and kills it after
// runTimeout.
func runCmd(cpu int, cmd *exec.Cmd) error {
	if err := start(cpu, cmd); err != nil {
		return err
	}
	return waitTimeout(cmd)
}

// onCPU calls fn on an OS thread bound to cpu; processes that fn starts
// inherit the binding. The thread is never unlocked, so it exits with the
// goroutine and its narrowed affinity never serves other goroutines.
func onCPU(cpu int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- fmt.Errorf("bind to CPU %d: %w", cpu, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// mayRunOn reports whether this process may be scheduled on cpu.
func mayRunOn(cpu int) bool {
	var set unix.CPUSet
	return unix.SchedGetaffinity(0, &set) == nil && set.IsSet(cpu)
}
