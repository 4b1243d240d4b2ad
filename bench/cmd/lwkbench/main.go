// Command lwkbench measures gomck's headline figures in one run and
// compares each with its target (`make bench`; needs root).
//
//  1. Local syscall round trip: a getpid loop under mcexec, handled by the
//     LWK itself, against the ptrace tracer floor (bench/c/ptrace_floor: a C
//     tracer emulating getpid for a PTRACE_SYSEMU tracee on the same host
//     CPU as the LWK), which is the best any ptrace backend can do. Native
//     getpid is shown for scale. Target: LWK/floor <= 1.15.
//  2. Offloaded syscall round trip: a loop of 1-byte writes to /dev/null
//     under mcexec, which the LWK hands to the mcexec proxy, against the
//     LWK's own local round trip from (1). Target: offloaded/local <= 2.
//  3. First touch of 1 GiB of anonymous memory, per 4 KiB page, under
//     mcexec against native Linux. Target: the LWK is faster (ratio < 1).
//  4. Wall time of `mcexec hello` against native hello, medians of
//     interleaved runs. Target: LWK <= native + 10 ms.
//
// The process-model figures follow:
//
//  5. Futex ping-pong, one CPU: two threads of bench/c/futex_pingpong on
//     the LWK's CPU pass a turn with FUTEX_WAKE and FUTEX_WAIT, per round
//     trip, against the LWK's local round trip from (1); native (both
//     threads on the same host CPU) is shown for scale. Target: <= 3x.
//     A pass wakes the other thread only when it said it waits, as
//     glibc's locks do. The "always" form, which wakes at every pass, is
//     reported beside it without a target: its round trip is three LWK
//     system calls (wake, wake of nobody, wait), 3x by construction.
//  6. Futex ping-pong, two CPUs: the same with one thread on each of two
//     LWK CPUs, in a second instance on the last two CPUs, against that
//     instance's own local round trip (a getpid loop, run alternately
//     with the ping-pong); native runs use the same two CPUs. With three
//     or more online CPUs the instance's CPUs are isolated as usual; with
//     two it shares both with Linux (GOMCK_SHARED_CPUS=1), which keeps one
//     for itself otherwise, and the figure is labelled "shared CPUs".
//     Target: <= 3x.
//  7. fork + _exit + waitpid round trip (bench/c/fork_wait) against native.
//     Target: LWK/native <= 5.
//  8. pthread_create + pthread_join round trip (bench/c/thread_join)
//     against native, reported without a target.
//  9. Context switch: two threads on one CPU take turns through
//     sched_yield alone (bench/c/yield_pingpong), per switch, against the
//     local round trip from (1); native is shown for scale. Target: <= 3x.
//
// Figures 10 and 11, mcps's latency and the disturbance it causes, are
// described in inspect.go. Figures 12 and 13, in core.go, are core dumps
// of a process with 1 GiB populated, in their own instance and fewer
// rounds (-core-reps):
//
//  12. The LWK's core at death (SIGSEGV), from the program's timestamp
//     before the fault to mcexec's end, against dd of as many bytes, Linux's
//     dumper and gdb gcore of the program run natively. Target: <= 1.2x dd.
//  13. mcgcore of the running program: its wall time against dd and gdb
//     gcore, and the pause it imposes on a thread spinning on the clock.
//     Target: pause < 0.5 s per GiB.
//
// Figures 14 and 15, in dump.go, are kernel dumps (ihkosctl 0 dump) of an
// instance of its own with 2G and 1 GiB of app memory populated, at
// levels 24 and 0 (-dump-mib, -dump-mem, -dump-reps): their wall time
// (level 24, target < 1 s) or the memory read per second (level 0, target
// >= 1 GiB/s), and their size (level 0, target < 25% of the populated
// bytes). Figure 16 is mccrash's time from its start to the ps table on
// each of those dumps (target < 1 s).
//
// Figure 17, in noise.go, is the OS noise of the LWK's CPU against a
// Linux CPU's, measured side by side by mcperf noise (-noise-dur) in the
// main instance of each round (target: the LWK's is lower). Figure 18,
// in mcperf.go, is the cost of mcperf stat to a run of the getpid loop,
// in the same instance (target: under 3%). Figure 19, in papi.go, is
// the time of a PAPI_read of an sde:::lwk event under mcexec (target
// under 100 ns). Figures 20 and 21, in counting.go, are what the LWK's
// counting costs the getpid and offload loops (target: 1% at most).
// Figure 22, in metrics.go, is a /metrics scrape with 1,000 LWK threads
// (target: under 50 ms).
// Figures 23 to 26, in dash.go, are mcdash's: its instance page's first
// render in headless Chromium (target < 1 s), what the page open at
// 10 Hz costs the getpid and offload loops, and what its stream read by
// a plain HTTP client costs the getpid loop (targets: 1% at most).
//
// The loop programs time themselves, so the loop figures exclude process
// start-up. While an instance runs, mcreboot confines Linux (this process
// included) to the other CPUs, so the native and floor runs that must
// share the LWK's host CPUs are made while no instance runs, pinned to
// those CPUs. The bench goes in rounds (-reps): native and floor runs,
// then a boot, the LWK runs and a shutdown, then the same for the two-CPU
// instance; medians over the rounds are reported. So a reference is taken
// next to its figure, not before or after all of them on a machine whose
// load drifts. Hello runs natively on the Linux CPUs, interleaved with
// the LWK's, as a user's program would beside a booted LWK.
//
// Instances are booted with -O (oversubscription), which figures 5 and 7-9
// need for a second thread (or process) on one LWK CPU; today only thread
// creation looks at it. The process-model figures run after figures 1-4, so that a program
// the LWK cannot run yet spoils only its own figure: a program that fails
// under mcexec makes its figure an ERROR ("LWK fork_wait failed: <its
// stderr>") and is not run again, and the other figures are still made.
//
// Usage:
//
//	lwkbench [-json FILE] [-markdown] [-n N] [-native-n N] [-reps R] [-hello RUNS] [-touch MiB] [-mem SIZE]
//	         [-ping-n N] [-fork-n N] [-thread-n N] [-disturbance DURATION] [-core-mib MiB] [-core-mem SIZE]
//	         [-core-reps R] [-core-dir DIR] [-dump-mib MiB] [-dump-mem SIZE] [-dump-reps R] [-noise-dur DURATION]
//	         [-dash-disturbance DURATION]
//	         [-bin DIR] [-only ID,...] [-base DIR]
//
// With -base DIR (make bench-ab BASE=REV builds one), every LWK series is
// measured a second time in each round with the commands of another
// build, the two taking turns going first, and a table of this/base per figure
// follows: an A/B of two builds side by side, under the same conditions.
//
// Each instance is booted in a private GOMCK_RUNDIR and always shut down,
// also on SIGINT, SIGTERM and SIGHUP. A MISS is a result, not a failure:
// the exit status is non-zero only when a measurement could not be made.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/internal/testprog"
)

var (
	jsonOut   = flag.String("json", "", "also write the figures as JSON to `FILE`")
	markdown  = flag.Bool("markdown", false, "print a markdown table (for bench/RESULTS.md) instead of the plain one")
	loopN     = flag.Int("n", 100000, "iterations of the LWK and floor syscall loops")
	nativeN   = flag.Int("native-n", 1000000, "iterations of the native syscall loops (they are ~30x faster)")
	reps      = flag.Int("reps", 3, "rounds: native runs, then LWK runs in a fresh instance")
	helloRuns = flag.Int("hello", 30, "runs of hello each, LWK and native, interleaved")
	touchMiB  = flag.Int("touch", 1024, "MiB of anonymous memory to first-touch")
	pingN     = flag.Int("ping-n", 20000, "round trips of the futex ping-pong and switches of the yield ping-pong")
	forkN     = flag.Int("fork-n", 500, "iterations of the fork + waitpid loop")
	threadN   = flag.Int("thread-n", 5000, "iterations of the thread create + join loop")
	memSize   = flag.String("mem", "1536M", "memory for the LWK instance (must hold -touch plus the program)")
	binDir    = flag.String("bin", "", "directory of the gomck commands (default: bin/ in the repository)")
	disturb   = flag.Duration("disturbance", 90*time.Second, "length of figure mcps_disturbance's LWK run, with mcps beside it stopped and continued every second (at least 5s)")
	only      = flag.String("only", "", "measure only the figures with these `IDs` (comma-separated, as in the JSON) and what they are compared with")
	coreMiB   = flag.Int("core-mib", 1024, "MiB populated in the program whose cores figures core_write and mcgcore_* write")
	coreMem   = flag.String("core-mem", "4G", "memory for the core figures' LWK instance (must hold -core-mib plus the program; with 3x, mcgcore copies into the partition)")
	coreReps  = flag.Int("core-reps", 3, "rounds, of the first -reps, that take the core figures (each writes ~6 cores' worth)")
	coreDir   = flag.String("core-dir", "", "directory on the disk for the cores, dd's output and the kernel dumps (default: the temporary directory, or the repository's if that is a tmpfs)")
	dumpMiB   = flag.Int("dump-mib", 1024, "MiB of app memory populated (bench/c/appmem, a multiple of 16) while figures dump_* dump the instance")
	dumpMem   = flag.String("dump-mem", "2G", "memory for the kernel dump figures' LWK instance (must hold -dump-mib plus the program)")
	dumpReps  = flag.Int("dump-reps", 3, "rounds, of the first -reps, that take the kernel dump figures (one dump of each level)")
	baseDir   = flag.String("base", "", "A/B: also measure the LWK figures with the commands in `DIR` (another build), in the same rounds (the two builds take turns going first), and print this/base per figure")
)

// progs are the static test programs, by name.
var progNames = []string{"getpid_loop", "devnull_loop", "touch", "ptrace_floor", "hello",
	"futex_pingpong", "fork_wait", "thread_join", "yield_pingpong", "pipe_pingpong", "inspectee", "syscall_windows", "bigcore", "appmem"}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: lwkbench [flags]\nMeasures gomck against its performance targets; needs root.\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || *loopN <= 0 || *nativeN <= 0 || *reps <= 0 || *helloRuns <= 0 || *touchMiB <= 0 ||
		*pingN <= 0 || *forkN <= 0 || *threadN <= 0 || *disturb < 5*disturbBlock || *countingDur < 5*disturbBlock || *dashDur < 5*disturbBlock || *coreMiB <= 0 || *coreReps <= 0 ||
		*dumpMiB <= 0 || *dumpMiB%16 != 0 || *dumpReps <= 0 || *noiseDur < time.Millisecond {
		flag.Usage()
		os.Exit(2)
	}
	if _, err := partition.ParseMemSpec(*dumpMem); err != nil {
		fatalf("-dump-mem: %v", err)
	}
	if os.Geteuid() != 0 {
		fatalf("needs root: it boots an LWK instance (ptrace, locked memory, cpusets); run `make bench` as root")
	}
	os.Exit(run())
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "lwkbench: "+format+"\n", args...)
	os.Exit(1)
}

// interrupted silences the progress of the measurements that a signal
// cut short, which would only report their own cancellation.
var interrupted atomic.Bool

func progressf(format string, args ...any) {
	if interrupted.Load() {
		return
	}
	fmt.Fprintf(os.Stderr, "lwkbench: "+format+"\n", args...)
}

func run() int {
	root := testprog.Root()
	if root == "" {
		fatalf("repository root not found; run from the gomck checkout")
	}
	bin := *binDir
	if bin == "" {
		bin = filepath.Join(root, "bin")
	}
	for _, c := range []string{"mcreboot", "mckernel", "mcexec"} {
		if _, err := os.Stat(filepath.Join(bin, c)); err != nil {
			fatalf("%v (run `make` first, or use `make bench`)", err)
		}
	}
	progs := map[string]string{}
	for _, name := range progNames {
		p, err := testprog.C(name)
		if err != nil {
			fatalf("%v", err)
		}
		progs[name] = p
	}

	cpus, err := partition.OnlineCPUs()
	if err != nil || len(cpus) < 2 {
		fatalf("needs at least two online CPUs, one of them for Linux (online: %v, %v)", cpus, err)
	}
	// The LWK takes the last CPU, as the tests and the demo do.
	cpu := cpus[len(cpus)-1]
	if others := otherDaemons(0); len(others) > 0 {
		fatalf("another LWK daemon is running (pid %v); it would share CPU %d and the mcos0 cpuset with this bench: stop it first (GOMCK_RUNDIR=<its dir> bin/mcstop)", others, cpu)
	}
	if !mayRunOn(cpu) {
		fatalf("CPU %d is not available to this process (another instance, or a cpuset/taskset restriction)", cpu)
	}

	// The two-CPU futex ping-pong needs an instance of two CPUs, the last
	// two, and a third CPU for Linux; on a 2-CPU machine the instance
	// shares both with Linux. Its threads stay on one CPU if the LWK cannot
	// spread them; futex_pingpong then fails rather than measure that.
	var pair []int
	pairSkip := ""
	shared := len(cpus) < 3
	if p := cpus[len(cpus)-2:]; !mayRunOn(p[0]) {
		pairSkip = fmt.Sprintf("CPU %d is not available to this process", p[0])
	} else {
		pair = p
	}
	m := describeMachine(root, cpus)
	b := &bench{
		bin:      bin,
		progs:    progs,
		cpu:      cpu,
		pair:     pair,
		pairSkip: pairSkip,
		shared:   shared,
		inst:     &instance{bin: bin},
	}
	if err := b.choose(*only); err != nil {
		fatalf("%v", err)
	}
	b.prepareCores(*coreDir, root)
	defer b.removeCores()
	var base *bench
	if *baseDir != "" {
		base = b.withBin(*baseDir)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.ctx = ctx
	defer b.inst.close()
	if base != nil {
		base.ctx = ctx
		defer base.inst.close()
	}

	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigc
		interrupted.Store(true)
		// Kill the running child first so that the shutdown is not held up.
		cancel()
		b.inst.close()
		if base != nil {
			base.inst.close()
		}
		b.removeCores()
		fmt.Fprintf(os.Stderr, "lwkbench: %v: instance shut down\n", s)
		os.Exit(1)
	}()

	start := time.Now()
	b.measure(base)
	b.inst.close()
	signal.Stop(sigc)
	progressf("done in %.0f s", time.Since(start).Seconds())

	rep := b.report(m)
	if *markdown {
		printMarkdown(os.Stdout, rep)
	} else {
		printTable(os.Stdout, rep)
	}
	if base != nil {
		base.shareHostSeries(b)
		printComparison(os.Stdout, rep, base.report(m), *baseDir)
	}
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, rep); err != nil {
			fmt.Fprintln(os.Stderr, "lwkbench:", err)
			return 1
		}
	}
	for _, f := range rep.Figures {
		if f.Result == resultError {
			return 1
		}
	}
	return 0
}

// otherDaemons lists running LWK daemons other than pid except: two
// instances would fight over the same CPU and cpuset group, and tearing
// ours down releases the group by name. Zombies no longer hold anything.
func otherDaemons(except int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == except {
			continue
		}
		if comm, state, ok := procStat(pid); ok && comm == "mckernel" && state != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// procStat returns the command name and state letter of process pid.
func procStat(pid int) (comm string, state byte, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i || len(s) < j+3 {
		return "", 0, false
	}
	return s[i+1 : j], s[j+2], true
}
