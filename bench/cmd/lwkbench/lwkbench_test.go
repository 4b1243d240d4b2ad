package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/internal/testprog"
)

// None of these tests boots an instance.

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		s := series{samples: tc.in}
		if got := s.median(); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNsRE(t *testing.T) {
	for out, want := range map[string]string{"ns/op 31234.5\n": "31234.5", "ns/page 812.0\n": "812.0", "ns/op x\n": ""} {
		m := nsRE.FindStringSubmatch(out)
		if got := ""; m != nil {
			got = m[1]
			if got != want {
				t.Errorf("%q: got %q, want %q", out, got, want)
			}
		} else if want != "" {
			t.Errorf("%q: no match, want %q", out, want)
		}
	}
}

// TestOnCPU checks that a child started under onCPU inherits the binding,
// which the native measurements rely on.
func TestOnCPU(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := -1
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			cpu = c
		}
	}
	cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
	var out []byte
	err := onCPU(cpu, func() error {
		var err error
		out, err = cmd.Output()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Cpus_allowed_list:\s+` + strconv.Itoa(cpu) + `\n`).Match(out) {
		t.Errorf("child on CPU %d reports %q", cpu, out)
	}
}

// allowedCPUs lists the CPUs this process may run on.
func allowedCPUs(t *testing.T) []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// TestProcessModelPrograms runs the process-model loop programs natively,
// briefly, as the bench does before the boot.
func TestProcessModelPrograms(t *testing.T) {
	cpus := allowedCPUs(t)
	c := strconv.Itoa(cpus[0])
	tests := []struct {
		prog string
		args []string
	}{
		{"futex_pingpong", []string{c, c, "2000"}},
		{"yield_pingpong", []string{c, "2000"}},
		{"futex_pingpong", []string{c, c, "2000", "procs"}},
		{"pipe_pingpong", []string{"2000"}},
		{"thread_join", []string{"200"}},
		{"fork_wait", []string{"20"}},
	}
	if len(cpus) >= 2 {
		tests = append(tests, struct {
			prog string
			args []string
		}{"futex_pingpong", []string{c, strconv.Itoa(cpus[1]), "2000"}})
	}
	for _, tc := range tests {
		p, err := testprog.C(tc.prog)
		if err != nil {
			t.Fatal(err)
		}
		cpu := -1
		if tc.prog == "thread_join" || tc.prog == "fork_wait" {
			cpu = cpus[0] // as the bench pins them
		}
		v, err := nsPer("native "+tc.prog, cpu, exec.Command(p, tc.args...))
		if err != nil || v <= 0 {
			t.Errorf("%s %v: %v, %v", tc.prog, tc.args, v, err)
			continue
		}
		t.Logf("%s %s: ns/op %.1f", tc.prog, strings.Join(tc.args, " "), v)
	}
	// A CPU the program cannot have is an error, not a figure.
	p, err := testprog.C("futex_pingpong")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nsPer("native futex_pingpong", -1, exec.Command(p, c, "1023", "10")); err == nil ||
		!strings.Contains(err.Error(), "failed: futex_pingpong: sched_setaffinity: Invalid argument (exit status 1)") {
		t.Errorf("futex_pingpong on CPU 1023: %v", err)
	}
}

// TestNsPerFailure checks the message of a program that fails: its
// stderr, which says why, comes first.
func TestNsPerFailure(t *testing.T) {
	cmd := exec.Command("sh", "-c", "echo 'fork_wait: fork: Function not implemented' >&2; exit 1")
	_, err := nsPer("LWK fork_wait", -1, cmd)
	want := "LWK fork_wait failed: fork_wait: fork: Function not implemented (exit status 1)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestReport renders the process-model figures: a pass, a failure under
// mcexec that spoils only its own figure, the two-CPU one on shared CPUs
// against its own instance's round trip, and one without target.
func TestReport(t *testing.T) {
	ok := func(v ...float64) series { return series{samples: v} }
	failed := errors.New("LWK fork_wait failed: fork_wait: fork: Function not implemented (exit status 1)")
	b := &bench{
		cpu:               1,
		pair:              []int{0, 1},
		shared:            true,
		lwkGetpid2:        ok(18000),
		lwkFutex2:         ok(42000),
		nativeFutex2:      ok(18000),
		floor:             ok(17000),
		nativeGetpid:      ok(900),
		lwkGetpid:         ok(19000, 18000, 20000),
		lwkDevnull:        ok(23000),
		lwkFutex1:         ok(50000, 60000, 55000),
		nativeFutex1:      ok(6400),
		lwkFutexAlways:    ok(62000),
		nativeFutexAlways: ok(6900),
		lwkFork:           series{err: failed},
		nativeFork:        ok(1.4e6),
		lwkThread:         ok(300000),
		nativeThread:      ok(30000),
		lwkYield:          ok(70000),
		nativeYield:       ok(2000),
		lwkHello:          ok(19e6),
		nativeHello:       ok(2e6),
		insp: inspectSeries{warm10: ok(20e6), cold10: ok(46e6), warm1000: ok(60e6), cold1000: ok(70e6),
			getpidOn: ok(23500, 23700), getpidOff: ok(19700, 19900), pairRatios: ok(1.19, 1.2, 1.18)},
		core: coreSeries{dd: ok(1.7e9, 1.8e9, 1.9e9), linux: ok(3.1e9), gdb: ok(3.6e9), gdbGap: ok(3.5e9),
			lwk:     series{err: errors.New("LWK core_write failed: no core after exit status 1")},
			mcgcore: ok(2.0e9), mcgcoreGap: ok(0.35e9)},
		dump: dumpSeries{
			level24: dumpLevel{wall: ok(0.33e9, 0.35e9, 0.4e9), size: ok(4 << 20), share: ok(0.4), rate: ok(0.5),
				memory: ok(158.5 * (1 << 20)), stored: ok(29.9 * (1 << 20)), zero: ok(128.6 * (1 << 20)), crash: ok(0.2e9)},
			level0: dumpLevel{wall: ok(5.8e9), size: ok(229.2 * (1 << 20)), share: ok(22.4, 22.3), rate: ok(0.37, 0.4, 1.2),
				memory: ok(2206.5 * (1 << 20)), stored: ok(863.9 * (1 << 20)), zero: ok(1342.6 * (1 << 20)), crash: ok(1.3e9)},
		},
		noise: noiseSeries{lwk: ok(0.04, 0.05, 0.06), linux: ok(18.3, 12.1), lwkP999: ok(1536e3), linuxP999: ok(11641e3),
			lwkMax: ok(1554e3), linuxMax: ok(11783e3)},
		mcperf:   mcperfSeries{stat: ok(760e6, 770e6), plain: ok(750e6, 752e6)},
		papiRead: ok(12.5),
		counting: countingSeries{toggledLoops{getpidOn: ok(19100), getpidOff: ok(19000), getpidRatios: ok(1.004, 1.006, 1.002),
			offloadOn: ok(52000), offloadOff: ok(50000), offloadRatios: ok(1.03, 1.05)}},
		metricsScrape: ok(8e6, 9e6),
		lwkFutexProcs: ok(40000), nativeFutexProcs: ok(7000), lwkPipe: ok(700e3), nativePipe: ok(3000),
		dash: dashSeries{firstRender: ok(400e6, 450e6, 1.2e9), toggledLoops: toggledLoops{getpidOn: ok(19000), getpidOff: ok(19000), getpidRatios: ok(0.999, 1.003),
			offloadOn: ok(50000), offloadOff: ok(50000), offloadRatios: series{err: errors.New("LWK syscall_windows write: 1 pairs of blocks, too few to judge")}}},
	}
	for i := range benchStressors {
		b.stress.lwk[i], b.stress.native[i] = ok(2000), ok(100)
	}
	b.stress.lwk[indexOf("fork")] = ok(400)
	noShm := errors.New("LWK mpi shm 8 B failed: exit status 139")
	b.mpi.lwk = [2][2]series{{ok(30000), ok(160000)}, {{err: noShm}, {err: noShm}}}
	b.mpi.native = [2][2]series{{ok(28000), ok(150000)}, {ok(400), ok(110000)}}
	r := b.report(Machine{})
	want := map[string]string{
		"local_syscall":              resultPass,
		"offloaded_syscall":          resultPass,
		"first_touch":                resultError,
		"hello_wall":                 resultMiss,
		"futex_pingpong_1cpu":        resultPass,
		"futex_pingpong_1cpu_always": resultNone,
		"futex_pingpong_2cpu":        resultPass,
		"fork_wait":                  resultError,
		"thread_create_join":         resultNone,
		"yield_switch":               resultMiss,
		"mcps_warm_10":               resultPass,
		"mcps_cold_10":               resultPass,
		"mcps_warm_1000":             resultMiss,
		"mcps_cold_1000":             resultPass,
		"mcps_disturbance":           resultMiss,
		"core_write":                 resultError,
		"mcgcore_wall":               resultNone,
		"mcgcore_pause":              resultPass,
		"dump_24_time":               resultPass,
		"dump_24_size":               resultNone,
		"dump_0_time":                resultMiss,
		"dump_0_size":                resultPass,
		"mccrash_ps_24":              resultPass,
		"mccrash_ps_0":               resultMiss,
		"fwq_noise":                  resultPass,
		"mcperf_stat_overhead":       resultPass,
		"papi_read_ns":               resultPass,
		"counting_cost_getpid":       resultPass,
		"counting_cost_offload":      resultMiss,
		"metrics_scrape_ms":          resultPass,
		"futex_pingpong_procs":       resultPass,
		"pipe_pingpong_1cpu":         resultMiss,
		"stressng_worst":             resultPass,
		"stressng_fork":              resultPass,
		"mpi_latency_tcp":            resultPass,
		"mpi_bandwidth_tcp":          resultPass,
		"mpi_latency_shm":            resultError,
		"mpi_bandwidth_shm":          resultError,
		"dash_first_render_ms":       resultPass,
		"dash_disturbance_getpid":    resultPass,
		"dash_disturbance_offload":   resultError,
		"dash_disturbance_stream":    resultError,
	}
	for _, st := range benchStressors {
		want["stressng_ops_"+st] = resultNone
	}
	for _, f := range r.Figures {
		if f.Result != want[f.ID] {
			t.Errorf("%s: result %s, want %s", f.ID, f.Result, want[f.ID])
		}
		delete(want, f.ID)
	}
	if len(want) != 0 {
		t.Errorf("figures missing: %v", want)
	}
	var out bytes.Buffer
	printTable(&out, r)
	for _, re := range []string{
		`(?m)^futex ping-pong round trip, one CPU +55\.0 µs +LWK local 19\.0 µs +2\.89x +<= 3x +PASS$`,
		`(?m)^ +native 6\.40 µs`,
		`(?m)^futex ping-pong round trip, two CPUs \(shared CPUs\) +42\.0 µs +LWK local, same instance 18\.0 µs +2\.33x +<= 3x +PASS$`,
		`(?m)^fork \+ _exit \+ waitpid round trip +- +native 1400\.0 µs +- +<= 5x +ERROR$`,
		`(?m)^thread create \+ join round trip +300\.0 µs +native 30\.0 µs +10\.00x +no target +-$`,
		`(?m)^context switch \(sched_yield ping-pong\), per switch +70\.0 µs +LWK local 19\.0 µs +3\.68x +<= 3x +MISS$`,
		`(?m)^mcps wall time, 1,004 LWK threads, layout cached +60\.00 ms +- +- +< 50 ms +MISS$`,
		`(?m)^LWK getpid loop beside mcps -d 0\.1, on and off every 1 s \(3 pairs: geometric mean 1\.1900, SE 0\.49%, 95% 1\.179-1\.201, median 1\.1900\) +23\.6 µs +mcps stopped 19\.8 µs +1\.19x +<= 1\.01x +MISS$`,
		`(?m)^mcdash instance page, first render in headless Chromium \(navigation to the first chart drawn\) +450\.00 ms +- +- +< 1 s +PASS$`,
		`(?m)^error: LWK fork_wait failed: fork_wait: fork: Function not implemented \(exit status 1\)$`,
		`(?m)^Open MPI ping-pong over tcp, 8 B one-way latency, one rank per LWK CPU \(shared CPUs\) +30\.0 µs +native 28\.0 µs +1\.07x +<= 1\.2x +PASS$`,
		`(?m)^Open MPI ping-pong over shm, 1 MiB messages, .* +- +native 110\.0 µs +- +bandwidth >= 0\.9x +ERROR$`,
		`two-CPU futex ping-pong in a second instance on CPUs 0-1 shared with Linux`,
		`(?m)^core dump at death \(SIGSEGV\), 1 GiB populated, per GiB +- +dd 1\.800 s +- +<= 1\.2x dd +ERROR$`,
		`(?m)^ +Linux's dumper 3\.100 s \(1\.72x\) *$`,
		`(?m)^mcgcore of a running process, 1 GiB populated, per GiB +2\.000 s +dd 1\.800 s +1\.11x +no target +-$`,
		`(?m)^ +gdb gcore 3\.600 s \(2\.00x\) *$`,
		`(?m)^pause mcgcore imposes \(longest gap of a spinning thread\), per GiB +0\.350 s +gdb gcore's 3\.500 s +0\.10x +< 0\.5 s per GiB +PASS$`,
		`(?m)^error: LWK core_write failed: no core after exit status 1$`,
		`(?m)^kernel dump at level 24 \(ihkosctl dump\), 2G instance, 1 GiB of app memory \(medians: 158\.5 MiB of memory in 0\.35 s\) +350\.00 ms +- +- +< 1 s +PASS$`,
		`(?m)^kernel dump at level 24, size on disk \(medians: 4\.0 MiB on disk; of 158\.5 MiB of memory, 29\.9 MiB stored, 128\.6 MiB zero\) +4\.0 MiB +- +- +no target +-$`,
		`(?m)^kernel dump at level 0 \(ihkosctl dump -d 0\), 2G instance, 1 GiB of app memory, memory read per second before compression \(medians: 2206\.5 MiB of memory in 5\.80 s\) +0\.40 GiB/s +- +- +>= 1 GiB/s +MISS$`,
		`(?m)^FWQ noise \(mcperf noise, 1 ms quanta, 10s\), LWK CPU against a Linux CPU side by side \(medians: p99\.9 1536 us LWK, 11641 us Linux; max 1554 us LWK, 11783 us Linux\) +0\.0500% +Linux CPU 15\.2% +0\.00x +< 1x +PASS$`,
		`(?m)^kernel dump at level 0, size on disk, % of the populated 1 GiB \(medians: 229\.2 MiB on disk; of 2206\.5 MiB of memory, 863\.9 MiB stored, 1342\.6 MiB zero\) +22\.4% +- +- +< 25% +PASS$`,
	} {
		if !regexp.MustCompile(re).Match(out.Bytes()) {
			t.Errorf("table does not match %s:\n%s", re, out.String())
		}
	}
	out.Reset()
	printMarkdown(&out, r)
	if !strings.Contains(out.String(), "| futex ping-pong round trip, two CPUs (shared CPUs) | 42.0 µs | LWK local, same instance 18.0 µs<br>native 18.0 µs | 2.33x | <= 3x | **PASS** |") {
		t.Errorf("markdown:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

// -only measures the chosen figures and what they are compared with; the
// others are reported as skipped.
func TestOnly(t *testing.T) {
	b := &bench{}
	if err := b.choose("fork_wait,yield_switch"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    *series
		skip bool
	}{
		{"lwk fork", &b.lwkFork, false}, {"native fork", &b.nativeFork, false},
		{"lwk yield", &b.lwkYield, false}, {"lwk getpid (yield's reference)", &b.lwkGetpid, false},
		{"floor", &b.floor, true}, {"lwk hello", &b.lwkHello, true}, {"lwk futex", &b.lwkFutex1, true},
	} {
		if tc.s.skip != tc.skip {
			t.Errorf("%s: skip %v, want %v", tc.name, tc.s.skip, tc.skip)
		}
	}
	b.lwkFork, b.nativeFork = series{samples: []float64{2e6}}, series{samples: []float64{4e5}}
	for _, f := range b.report(Machine{}).Figures {
		if want := f.ID == "fork_wait" || f.ID == "yield_switch"; (f.Result != resultSkipped) != want {
			t.Errorf("%s: %s (%s)", f.ID, f.Result, f.Skip)
		}
	}
	// The pause needs mcgcore's and gdb's runs, not dd's or the death cores.
	c := &bench{}
	if err := c.choose("mcgcore_pause"); err != nil {
		t.Fatal(err)
	}
	if s := &c.core; s.mcgcoreGap.skip || s.gdbGap.skip || !s.dd.skip || !s.lwk.skip || !s.linux.skip || !s.mcgcore.skip {
		t.Errorf("-only mcgcore_pause: %+v", s)
	}
	// A level's dump gives its time and its size.
	d := &bench{}
	if err := d.choose("dump_0_size"); err != nil {
		t.Fatal(err)
	}
	if s := &d.dump; !s.chosen() || s.level0.share.skip || s.level0.size.skip || !s.level0.rate.skip || !s.level0.wall.skip ||
		!allSkipped(s.level24.figureSeries()) {
		t.Errorf("-only dump_0_size: %+v", s)
	}
	if b.dump.chosen() {
		t.Error("-only fork_wait,yield_switch chose the dump figures")
	}
	if err := b.choose("forks"); err == nil {
		t.Error("an unknown figure was accepted")
	}
}

// synthetic makes the windows of a run of secs seconds, 100 ms each, and
// switches every second, starting stopped, 30 ms into each second so that
// windows straddle them. A window's calls take perCall ns each, at its
// start and in the state then.
func synthetic(secs int64, perCall func(t int64, on bool) float64) ([]window, []toggle) {
	var ts []toggle
	for k := range secs {
		ts = append(ts, toggle{at: k*1e9 + 30e6, on: k%2 == 1})
	}
	var ws []window
	for t := int64(0); t < secs*1e9; t += 100e6 {
		on := false
		for _, s := range ts {
			if s.at <= t {
				on = s.on
			}
		}
		ws = append(ws, window{start: t, end: t + 100e6, calls: int64(math.Round(100e6 / perCall(t, on)))})
	}
	return ws, ts
}

func TestToggled(t *testing.T) {
	// onePercent is a machine on which mcps costs 1%, slowing down by a
	// factor 1+drift a second.
	onePercent := func(drift float64) func(int64, bool) float64 {
		return func(t int64, on bool) float64 {
			v := 10e3 * math.Pow(1+drift, float64(t)/1e9)
			if on {
				v *= 1.01
			}
			return v
		}
	}
	steadyW, steadyT := synthetic(9, onePercent(0))
	driftW, driftT := synthetic(9, onePercent(0.1))
	endW, endT := synthetic(4, onePercent(0))
	// Every window that must be dropped makes a block 100x slower if kept.
	dropW := []window{
		{900, 1000, 1},    // before the first switch
		{1000, 1100, 1},   // the first after it
		{1100, 1200, 100}, // stopped: 1 ns a call
		{1200, 1300, 100},
		{1950, 2050, 1},  // straddles the switch at 2000
		{2050, 2150, 1},  // the first after it
		{2150, 2250, 50}, // running: 2 ns a call
		{2250, 2350, 50},
		{2350, 3000, 325},
		{3000, 3100, 1}, // the first after the switch at 3000, which it starts at
		{3100, 3200, 100},
	}
	dropT := []toggle{{1000, false}, {2000, true}, {3000, false}}
	// A stopped block left without windows: the running one has only
	// the other neighbour.
	emptyW := []window{{100, 200, 1}, {200, 300, 100}, {1100, 1200, 1}, {1200, 1300, 30}, {2100, 2200, 1}}
	emptyT := []toggle{{0, false}, {1000, true}, {2000, false}}
	for _, tc := range []struct {
		name            string
		ws              []window
		ts              []toggle
		on, off, ratios int
		want            float64 // every ratio
		tol             float64
	}{
		// Calls are whole: 100 ms at 10.1 µs a call makes 9901, not 9900.99.
		{"steady", steadyW, steadyT, 4, 5, 4, 1.01, 1e-5},
		// Each block is 10% slower than the one before: the neighbours
		// either side cancel that.
		{"drift 10% a second", driftW, driftT, 4, 5, 4, 1.01, 1e-4},
		{"running block at the end has one neighbour", endW, endT, 2, 2, 2, 1.01, 1e-5},
		{"windows straddling and after switches dropped", dropW, dropT, 1, 2, 1, 2, 1e-9},
		{"empty block left out", emptyW, emptyT, 1, 1, 1, 10.0 / 3, 1e-9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on, off, ratios := toggled(tc.ws, tc.ts)
			if len(on) != tc.on || len(off) != tc.off || len(ratios) != tc.ratios {
				t.Fatalf("%d blocks on, %d off, %d ratios %v; want %d, %d, %d", len(on), len(off), len(ratios), ratios, tc.on, tc.off, tc.ratios)
			}
			for _, r := range ratios {
				if math.Abs(r-tc.want) > tc.tol {
					t.Errorf("ratios %v, want %v each", ratios, tc.want)
					break
				}
			}
		})
	}
}

func TestMeanSE(t *testing.T) {
	for _, tc := range []struct {
		r        []float64
		mean, se float64
	}{
		{[]float64{1.02}, 1.02, 0},
		{[]float64{1, 1, 1}, 1, 0},
		// Alternating: the negative covariance is not counted.
		{[]float64{1, 1.02, 1, 1.02}, 1.01, 0.02 / math.Sqrt(3) / 2},
		// Neighbours alike: their covariance widens the error.
		{[]float64{1, 1, 1.02, 1.02}, 1.01, math.Sqrt(0.00005)},
	} {
		mean, se := meanSE(tc.r)
		if math.Abs(mean-tc.mean) > 1e-12 || math.Abs(se-tc.se) > 1e-12 {
			t.Errorf("meanSE(%v) = %v, %v; want %v, %v", tc.r, mean, se, tc.mean, tc.se)
		}
	}
	// A block twice as slow and one twice as fast average out.
	if mean, se, lo, hi := ratioMean([]float64{2, 0.5}); math.Abs(mean-1) > 1e-12 || lo >= 1 || hi <= 1 || se <= 0 {
		t.Errorf("ratioMean(2, 0.5) = %v, SE %v, 95%% %v-%v; want 1 inside the interval", mean, se, lo, hi)
	}
}

func TestParseWindows(t *testing.T) {
	ws, err := parseWindows("t0 1000\nwindow 1100 7\nwindow 1250 9\nns/op 15.8\n")
	if want := []window{{1000, 1100, 7}, {1100, 1250, 9}}; err != nil || !slices.Equal(ws, want) {
		t.Errorf("got %v, %v; want %v", ws, err, want)
	}
	for _, out := range []string{"ns/op 15.8\n", "t0 1000\nwindow 1100 x\n"} {
		if _, err := parseWindows(out); err == nil {
			t.Errorf("%q accepted", out)
		}
	}
}

func TestParseBigcore(t *testing.T) {
	if pid, at, err := parseReady("ready 4711 123456789"); err != nil || pid != 4711 || at != 123456789 {
		t.Errorf("parseReady: %v, %v, %v", pid, at, err)
	}
	for _, line := range []string{"ready 4711", "ready x 1", "ready 0 1", "readyish 1 2", "ready 1 2 3"} {
		if _, _, err := parseReady(line); err == nil {
			t.Errorf("parseReady(%q) accepted", line)
		}
	}
	if v, err := parseGap("gap 1751218"); err != nil || v != 1751218 {
		t.Errorf("parseGap: %v, %v", v, err)
	}
	for _, line := range []string{"gap", "gap -1", "gap x", "ready 1 2"} {
		if _, err := parseGap(line); err == nil {
			t.Errorf("parseGap(%q) accepted", line)
		}
	}
}

// TestCoresNative takes the native core samples of a small bigcore as the
// bench does (Linux's dumper and, with gdb installed, gdb gcore), and
// checks what checkCore refuses.
func TestCoresNative(t *testing.T) {
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil || strings.HasPrefix(string(pattern), "|") || strings.Contains(string(pattern), "/") {
		t.Skipf("core_pattern %q does not name a file in the working directory", pattern)
	}
	p, err := testprog.C("bigcore")
	if err != nil {
		t.Fatal(err)
	}
	defer flag.Set("core-mib", strconv.Itoa(*coreMiB))
	flag.Set("core-mib", "16")
	b := &bench{ctx: context.Background(), progs: map[string]string{"bigcore": p}, cores: t.TempDir(), cpu: allowedCPUs(t)[0]}

	// The death core, kept for checkCore's refusals.
	cmd := withCoreLimit(b.native("bigcore", "16", "crash"))
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err == nil || !strings.Contains(err.Error(), "segmentation fault (core dumped)") {
		t.Fatalf("bigcore crash: %v", err)
	}
	core, err := onlyFile(cmd.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCore(core, p, 16<<20); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		path, comm string
		min        int64
		want       string
	}{
		{core, "/bin/mcexec", 16 << 20, `(NT_PRPSINFO), not "mcexec"`},
		{core, p, 17 << 20, "fewer than the 17825792 populated"},
		{p, p, 0, "not ET_CORE"},
	} {
		if err := checkCore(tc.path, tc.comm, tc.min); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkCore(%s, %s, %d) = %v, want %q", filepath.Base(tc.path), filepath.Base(tc.comm), tc.min, err, tc.want)
		}
	}

	v, err := b.deathCore("native core_write", b.cpu, withCoreLimit(b.native("bigcore", "16", "crash")))
	if err != nil || v <= 0 {
		t.Errorf("deathCore: %v, %v", v, err)
	}
	// Without a core limit there is no core.
	if _, err := b.deathCore("native core_write", b.cpu, b.native("bigcore", "16", "crash")); err == nil ||
		err.Error() != `native core_write failed: no core after bigcore died of SIGSEGV: no file in the working directory (core_pattern "core")` {
		t.Errorf("deathCore without a core limit: %v", err)
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Log("no gdb: gdb gcore not tried")
		return
	}
	vs, err := b.liveCore("native gdb gcore", b.cpu, b.native("bigcore", "16", "wait"), b.gdbGcore)
	if err != nil || len(vs) != 2 || vs[0] <= 0 || vs[1] <= 0 {
		t.Errorf("liveCore with gdb gcore: %v, %v", vs, err)
	}
	t.Logf("16 MiB: death core %.1f ms, gdb gcore %.1f ms, pause %.1f ms (per GiB: %v, %v)", v/64/1e6, at(vs, 0)/64/1e6, at(vs, 1)/64/1e6, v, vs)
}

// writeDump writes a dump of instance 0 at level with dumpfile's writer,
// as ihkosctl does: 1 MiB of the daemon's memory and, at level 0, the
// -dump-mem partition, all zero but one block of each.
func writeDump(t *testing.T, path string, level int) (memory uint64) {
	t.Helper()
	ranges := []dumpfile.Range{{VA: 0xc000000000, Size: 1 << 20, PA: dumpfile.NoPA, Prot: 3}}
	if level == dumpfile.Level0 {
		ranges = append(ranges, dumpfile.Range{VA: 0x7f0000000000, Size: partitionBytes(level), PA: 0, Prot: 3})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := dumpfile.NewWriter(f, ranges, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range ranges {
		for off := uint64(0); off < r.Size; off += dumpfile.BlockSize {
			b := make([]byte, dumpfile.BlockSize)
			if off == 0 {
				for j := range b {
					b[j] = byte(j / 4096)
				}
			}
			if err := w.Block(i, b); err != nil {
				t.Fatal(err)
			}
		}
		memory += r.Size
	}
	if err := w.Finish(&dumpfile.Contents{Header: dumpfile.Header{Instance: index, Level: level}}); err != nil {
		t.Fatal(err)
	}
	return memory
}

// TestDumpSample reads ihkosctl dump's report and checks it against the
// file, as dumpRun does, and refuses what does not match.
func TestDumpSample(t *testing.T) {
	defer flag.Set("dump-mem", *dumpMem)
	flag.Set("dump-mem", "4M")
	dir := t.TempDir()
	files := map[int]string{}
	memory := map[int]uint64{}
	for _, level := range []int{dumpfile.Level0, dumpfile.Level24} {
		files[level] = filepath.Join(dir, "level"+strconv.Itoa(level))
		memory[level] = writeDump(t, files[level], level)
	}
	said := func(level int, file string, memory uint64, threads, onDisk string) string {
		return fmt.Sprintf("dumped instance 0 (level %d) to %s: %s of memory, 1.0 MiB stored, 0.0 MiB zero, %s threads, %s on disk, in 12ms\n",
			level, file, mib(float64(memory)), threads, onDisk)
	}
	size := func(path string) string {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return mib(float64(st.Size()))
	}
	d0, d24 := files[dumpfile.Level0], files[dumpfile.Level24]
	for _, tc := range []struct {
		name      string
		out, file string
		level     int
		want      string // in the error; "" for none
	}{
		{"level 0", said(0, d0, memory[0], "1", size(d0)), d0, dumpfile.Level0, ""},
		{"level 24", said(24, d24, memory[24], "1", size(d24)), d24, dumpfile.Level24, ""},
		{"no report", "ihkosctl: warning: ...\n", d0, dumpfile.Level0, `not "dumped instance ..."`},
		{"other level", said(24, d24, memory[24], "1", size(d24)), d24, dumpfile.Level0, "at level 24 to"},
		{"no threads", said(0, d0, memory[0], "0", size(d0)), d0, dumpfile.Level0, "no LWK threads"},
		{"file's level", said(0, d24, memory[24], "1", size(d24)), d24, dumpfile.Level0, "the dump says instance 0, level 24"},
		{"memory", said(0, d0, memory[0]+1<<20, "1", size(d0)), d0, dumpfile.Level0, "of memory, the file holds"},
		{"size", said(24, d24, memory[24], "1", "99.0 MiB"), d24, dumpfile.Level24, "ihkosctl said 99.0 MiB of size on disk"},
		{"not a dump", said(0, testprogPath(t), memory[0], "1", "1.0 MiB"), testprogPath(t), dumpfile.Level0, "not an LWK dump"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d dumpSample
			err := d.parse(tc.out, tc.level, tc.file)
			if err == nil {
				err = d.check(tc.file, tc.level)
			}
			if tc.want == "" {
				st, _ := os.Stat(tc.file)
				if err != nil || d.memory != memory[tc.level] || d.size != st.Size() || d.stored != 1<<20 {
					t.Errorf("got %+v, %v; want %d bytes of memory, %d on disk", d, err, memory[tc.level], st.Size())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	// The partition must be all of -dump-mem.
	var d dumpSample
	if err := d.parse(said(0, d0, memory[0], "1", size(d0)), dumpfile.Level0, d0); err != nil {
		t.Fatal(err)
	}
	flag.Set("dump-mem", "8M")
	if err := d.check(d0, dumpfile.Level0); err == nil || !strings.Contains(err.Error(), "4.0 MiB of the partition in the dump, want 8.0 MiB") {
		t.Errorf("a partition of another size: %v", err)
	}
	// One sample's figures, of -dump-mib's default 1 GiB.
	v := dumpSample{wall: 2e9, memory: 3 << 30, stored: 1 << 30, zero: 2 << 30, size: 256 << 20}.values()
	if want := []float64{2e9, 1.5, 256 << 20, 25, 3 << 30, 1 << 30, 2 << 30}; !slices.Equal(v, want) {
		t.Errorf("values %v, want %v", v, want)
	}
}

// testprogPath is a file that is not a dump: an ELF executable.
func testprogPath(t *testing.T) string {
	p, err := testprog.C("appmem")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDumpDirInMemory: the dumps share the cores' directory, so a -core-dir
// in memory fails the dump figures too, and only those chosen.
func TestDumpDirInMemory(t *testing.T) {
	if !inMemory("/dev/shm") {
		t.Skip("/dev/shm is not a tmpfs here")
	}
	b := &bench{}
	if err := b.choose("dump_24_time"); err != nil {
		t.Fatal(err)
	}
	b.prepareCores("/dev/shm", t.TempDir())
	if b.cores != "" {
		t.Errorf("cores' directory %s made in memory", b.cores)
	}
	want := "dump figures: -core-dir /dev/shm is in memory (tmpfs)"
	if err := b.dump.level24.wall.err; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("level 24's time: %v, want %q", err, want)
	}
	if b.core.lwk.err != nil || b.dump.level0.rate.err != nil {
		t.Errorf("figures not chosen failed too: core %v, level 0 %v", b.core.lwk.err, b.dump.level0.rate.err)
	}
	for _, f := range b.report(Machine{}).Figures {
		if f.ID == "dump_24_time" && (f.Result != resultError || !strings.Contains(f.Error, want)) {
			t.Errorf("dump_24_time: %s %q", f.Result, f.Error)
		}
	}
}
