package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

const (
	resultPass    = "PASS"
	resultMiss    = "MISS"
	resultError   = "ERROR"
	resultSkipped = "SKIPPED" // not measured on this machine or not chosen, see Figure.Skip
	resultNone    = "-"       // measured, without a target
)

// Report is everything lwkbench prints, and the -json document.
type Report struct {
	Date    string   `json:"date"`
	Machine Machine  `json:"machine"`
	LWKCPU  int      `json:"lwk_cpu"`
	Params  Params   `json:"params"`
	Figures []Figure `json:"figures"`
}

// Machine describes the host the figures were taken on.
type Machine struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	Kernel string `json:"kernel"`
	Memory string `json:"memory"`
	THP    string `json:"transparent_hugepages"` // matters for native first touch
	Go     string `json:"go"`
	Commit string `json:"commit,omitempty"`
}

// Params are the bench's settings.
type Params struct {
	LoopN     int    `json:"loop_n"`
	NativeN   int    `json:"native_loop_n"`
	Reps      int    `json:"reps"`
	HelloRuns int    `json:"hello_runs"`
	TouchMiB  int    `json:"touch_mib"`
	Mem       string `json:"lwk_mem"`
	PingN     int    `json:"ping_n"`
	ForkN     int    `json:"fork_n"`
	ThreadN   int    `json:"thread_n"`
	// The CPUs of the second instance, for the two-CPU futex ping-pong,
	// or why there is none; PairShared when they are shared with Linux.
	PairCPUs   []int  `json:"two_cpu_instance,omitempty"`
	PairShared bool   `json:"two_cpu_instance_shared,omitempty"`
	PairSkip   string `json:"two_cpu_skipped,omitempty"`
	// Complete rounds of native and floor runs; fewer than reps if
	// another instance took the CPU.
	HostRounds int `json:"native_rounds"`
	// The core dump figures: populated memory, their instance's memory,
	// the rounds that take them and where the cores went.
	CoreMiB  int    `json:"core_mib"`
	CoreMem  string `json:"core_lwk_mem"`
	CoreReps int    `json:"core_reps"`
	CoreDir  string `json:"core_dir,omitempty"`
	// The kernel dump figures: app memory, their instance's memory and
	// the rounds that take them.
	DumpMiB  int    `json:"dump_mib"`
	DumpMem  string `json:"dump_lwk_mem"`
	DumpReps int    `json:"dump_reps"`
}

// Figure is one headline figure: the LWK's value, the references it is
// compared with (the first one decides), and the verdict.
type Figure struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Unit   string  `json:"unit"` // of the values: ns/op, ns/page, ns, ns/GiB, GiB/s, bytes or %
	LWK    Value   `json:"lwk"`
	Refs   []Ref   `json:"references"`
	Ratio  float64 `json:"ratio"`              // LWK / first reference
	Delta  float64 `json:"delta_ns,omitempty"` // LWK - first reference, for wall times
	Target string  `json:"target"`
	Result string  `json:"result"`          // PASS, MISS, ERROR, SKIPPED, or - without a target
	Error  string  `json:"error,omitempty"` // of the figure, or of a reference shown for scale
	Skip   string  `json:"skip,omitempty"`  // why it was SKIPPED

	limit float64 // the target ratio, to show enough digits near it
}

// Value is a median and the samples it was taken from.
type Value struct {
	Median  float64   `json:"median"`
	Samples []float64 `json:"samples"`
}

// Ref is a reference value with its name, e.g. "floor" or "native", and,
// where the figure compares its references too, its ratio to the first.
type Ref struct {
	Name string `json:"name"`
	Value
	Ratio float64 `json:"ratio_to_first,omitempty"`
}

func value(s *series) Value { return Value{Median: s.median(), Samples: s.samples} }

// report turns the samples into the figures.
func (b *bench) report(m Machine) Report {
	r := Report{
		Date:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Machine: m,
		LWKCPU:  b.cpu,
		Params: Params{LoopN: *loopN, NativeN: *nativeN, Reps: *reps, HelloRuns: *helloRuns, TouchMiB: *touchMiB, Mem: *memSize,
			PingN: *pingN, ForkN: *forkN, ThreadN: *threadN, PairCPUs: b.pair, PairShared: b.pair != nil && b.shared,
			PairSkip: b.pairSkip, HostRounds: b.hostRounds,
			CoreMiB: *coreMiB, CoreMem: *coreMem, CoreReps: min(*coreReps, *reps), CoreDir: filepath.Dir(b.cores),
			DumpMiB: *dumpMiB, DumpMem: *dumpMem, DumpReps: min(*dumpReps, *reps)},
	}
	// ratioFig builds a figure judged on LWK/first reference against max
	// (inclusive unless strict). The other references are for scale: their
	// failure is reported but does not spoil the verdict.
	ratioFig := func(id, name, unit string, lwk *series, max float64, strict bool, target string, refs ...namedSeries) Figure {
		f := Figure{ID: id, Name: name, Unit: unit, LWK: value(lwk), Target: target, limit: max}
		if lwk.skip || refs[0].s.skip {
			f.Result, f.Skip = resultSkipped, notChosen
			return f
		}
		for _, ref := range refs {
			f.Refs = append(f.Refs, Ref{Name: ref.name, Value: value(ref.s)})
		}
		if err := firstFailure(lwk, refs[0].s); err != nil {
			f.Result, f.Error = resultError, err.Error()
			return f
		}
		f.Ratio = f.LWK.Median / f.Refs[0].Median
		f.Result = resultMiss
		if f.Ratio < max || !strict && f.Ratio == max {
			f.Result = resultPass
		}
		for _, ref := range refs[1:] {
			if err := ref.s.failure(); err != nil {
				f.Error = err.Error()
				break
			}
		}
		return f
	}
	r.Figures = append(r.Figures,
		ratioFig("local_syscall", "local syscall round trip (getpid)", "ns/op", &b.lwkGetpid, 1.15, false, "<= 1.15x",
			namedSeries{"floor", &b.floor}, namedSeries{"native", &b.nativeGetpid}),
		ratioFig("offloaded_syscall", "offloaded syscall round trip (write /dev/null)", "ns/op", &b.lwkDevnull, 2, false, "<= 2x",
			namedSeries{"LWK local", &b.lwkGetpid}, namedSeries{"native", &b.nativeDevnull}),
		ratioFig("first_touch", fmt.Sprintf("first touch of %s, per 4 KiB page", sizeName(*touchMiB)), "ns/page", &b.lwkTouch, 1, true, "< 1x",
			namedSeries{"native", &b.nativeTouch}),
	)

	// Hello is judged on the difference: start-up cost is additive.
	const slack = 10e6 // ns
	h := Figure{ID: "hello_wall", Name: "hello wall time", Unit: "ns", LWK: value(&b.lwkHello),
		Refs: []Ref{{Name: "native", Value: value(&b.nativeHello)}}, Target: "<= native + 10 ms"}
	if err := firstFailure(&b.lwkHello, &b.nativeHello); b.lwkHello.skip {
		h.Result, h.Skip = resultSkipped, notChosen
	} else if err != nil {
		h.Result, h.Error = resultError, err.Error()
	} else {
		h.Ratio = h.LWK.Median / h.Refs[0].Median
		h.Delta = h.LWK.Median - h.Refs[0].Median
		h.Result = resultMiss
		if h.Delta <= slack {
			h.Result = resultPass
		}
	}
	r.Figures = append(r.Figures, h)

	// The process model. Ping-pong and switches are judged against the
	// LWK's own local round trip: they are local syscalls plus switches.
	// The two-CPU figure's is its own instance's.
	local := namedSeries{"LWK local", &b.lwkGetpid}
	futex2 := Figure{ID: "futex_pingpong_2cpu", Name: "futex ping-pong round trip, two CPUs", Unit: "ns/op",
		Target: "<= 3x", Result: resultSkipped, Skip: b.pairSkip, limit: 3}
	if b.pair != nil {
		if b.shared {
			futex2.Name += " (shared CPUs)"
		}
		futex2 = ratioFig(futex2.ID, futex2.Name, "ns/op", &b.lwkFutex2, 3, false, "<= 3x",
			namedSeries{"LWK local, same instance", &b.lwkGetpid2}, namedSeries{"native", &b.nativeFutex2})
	}
	// Reported without a target: each pass wakes whether or not the other
	// thread waits, so a round trip is three LWK system calls (a wake, a
	// wake of nobody, a wait) and is 3x the local round trip by itself.
	always := untargeted(ratioFig("futex_pingpong_1cpu_always", "futex ping-pong round trip, one CPU, FUTEX_WAKE at every pass", "ns/op",
		&b.lwkFutexAlways, 0, false, "no target", local, namedSeries{"native", &b.nativeFutexAlways}))
	thread := untargeted(ratioFig("thread_create_join", "thread create + join round trip", "ns/op", &b.lwkThread, 0, false, "no target",
		namedSeries{"native", &b.nativeThread}))
	r.Figures = append(r.Figures,
		ratioFig("futex_pingpong_1cpu", "futex ping-pong round trip, one CPU", "ns/op", &b.lwkFutex1, 3, false, "<= 3x",
			local, namedSeries{"native", &b.nativeFutex1}),
		always,
		futex2,
		ratioFig("fork_wait", "fork + _exit + waitpid round trip", "ns/op", &b.lwkFork, 5, false, "<= 5x",
			namedSeries{"native", &b.nativeFork}),
		thread,
		ratioFig("yield_switch", "context switch (sched_yield ping-pong), per switch", "ns/op", &b.lwkYield, 3, false, "<= 3x",
			local, namedSeries{"native", &b.nativeYield}),
	)
	r.Figures = append(r.Figures, b.procsFigures(ratioFig)...)
	r.Figures = append(r.Figures, b.stressFigures(ratioFig)...)
	r.Figures = append(r.Figures, b.mpiFigures(ratioFig)...)
	r.Figures = append(r.Figures, b.inspectFigures(ratioFig)...)
	r.Figures = append(r.Figures, b.coreFigures(ratioFig)...)
	r.Figures = append(r.Figures, b.dumpFigures()...)
	r.Figures = append(r.Figures, b.noiseFigure(ratioFig), b.mcperfFigure(ratioFig), b.papiFigure())
	r.Figures = append(r.Figures, b.countingFigures(ratioFig)...)
	r.Figures = append(r.Figures, b.metricsFigure())
	r.Figures = append(r.Figures, b.dashFigures(ratioFig)...)
	return r
}

// limitFig builds a figure judged on the LWK's median against limit
// (strictly below). Its references are for scale: the ratio to the first
// is shown, and their failure is reported without spoiling the verdict.
func limitFig(id, name, unit string, v *series, limit float64, target string, refs ...namedSeries) Figure {
	return boundFig(id, name, unit, v, func(m float64) bool { return m < limit }, target, refs...)
}

// floorFig builds a figure that passes when the LWK's median is at least
// floor: a rate.
func floorFig(id, name, unit string, v *series, floor float64, target string, refs ...namedSeries) Figure {
	return boundFig(id, name, unit, v, func(m float64) bool { return m >= floor }, target, refs...)
}

// boundFig builds a figure that passes when ok says so of the LWK's
// median, as limitFig does.
func boundFig(id, name, unit string, v *series, ok func(median float64) bool, target string, refs ...namedSeries) Figure {
	f := Figure{ID: id, Name: name, Unit: unit, LWK: value(v), Target: target}
	if v.skip {
		f.Result, f.Skip = resultSkipped, notChosen
		return f
	}
	for _, ref := range refs {
		f.Refs = append(f.Refs, Ref{Name: ref.name, Value: value(ref.s)})
	}
	if err := v.failure(); err != nil {
		f.Result, f.Error = resultError, err.Error()
		return f
	}
	f.Result = resultMiss
	if ok(f.LWK.Median) {
		f.Result = resultPass
	}
	for _, ref := range refs {
		if err := ref.s.failure(); err != nil {
			f.Error = err.Error()
			break
		}
	}
	if len(refs) > 0 && f.Error == "" {
		f.Ratio = f.LWK.Median / f.Refs[0].Median
	}
	return f
}

// untargeted marks a figure without a target as measured, not judged.
func untargeted(f Figure) Figure {
	if f.Result == resultPass || f.Result == resultMiss {
		f.Result = resultNone
	}
	return f
}

// notChosen is the reason of a figure -only leaves out.
const notChosen = "not chosen (-only)"

type namedSeries struct {
	name string
	s    *series
}

func firstFailure(ss ...*series) error {
	for _, s := range ss {
		if err := s.failure(); err != nil {
			return err
		}
	}
	return nil
}

func sizeName(mib int) string {
	if mib%1024 == 0 {
		return fmt.Sprintf("%d GiB", mib/1024)
	}
	return fmt.Sprintf("%d MiB", mib)
}

// format renders a value of f's unit for people.
func (f Figure) format(v float64) string {
	switch f.Unit {
	case "ns/page":
		return fmt.Sprintf("%.0f ns", v)
	case "ns", "ns/run": // a wall time (its ratio a difference), a run's
		return fmt.Sprintf("%.2f ms", v/1e6)
	case "ns/GiB":
		return fmt.Sprintf("%.3f s", v/1e9)
	case "GiB/s":
		return fmt.Sprintf("%.2f GiB/s", v)
	case "bytes":
		return mib(v)
	case "%":
		if v < 1 { // an OS noise fraction: its digits are in the hundredths
			return fmt.Sprintf("%.4f%%", v)
		}
		return fmt.Sprintf("%.1f%%", v)
	}
	if v < 10e3 {
		return fmt.Sprintf("%.2f µs", v/1e3)
	}
	return fmt.Sprintf("%.1f µs", v/1e3)
}

// compare renders the ratio column: a factor, or a difference for wall
// times.
func (f Figure) compare() string {
	if f.Result == resultError || f.Result == resultSkipped || len(f.Refs) == 0 {
		return "-"
	}
	if f.Unit == "ns" {
		return fmt.Sprintf("%+.2f ms", f.Delta/1e6)
	}
	// A third digit where two would round onto the limit and hide the verdict.
	if r := fmt.Sprintf("%.2fx", f.Ratio); r != fmt.Sprintf("%.2fx", f.limit) {
		return r
	}
	return fmt.Sprintf("%.3fx", f.Ratio)
}

func (f Figure) lwk() string {
	if len(f.LWK.Samples) == 0 || f.Result == resultSkipped {
		return "-"
	}
	return f.format(f.LWK.Median)
}

func (f Figure) ref(i int) string {
	if i >= len(f.Refs) {
		return "-"
	}
	if len(f.Refs[i].Samples) == 0 {
		return f.Refs[i].Name + " -"
	}
	s := f.Refs[i].Name + " " + f.format(f.Refs[i].Median)
	if f.Refs[i].Ratio != 0 {
		s += fmt.Sprintf(" (%.2fx)", f.Refs[i].Ratio)
	}
	return s
}

// result renders the verdict, with the reason of a skip.
func (f Figure) result() string {
	if f.Result == resultSkipped {
		return "skipped: " + f.Skip
	}
	return f.Result
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s, %d CPUs, %s memory, Linux %s, THP %s, %s", m.CPU, m.CPUs, m.Memory, m.Kernel, m.THP, m.Go)
	if m.Commit != "" {
		s += ", gomck " + m.Commit
	}
	return s
}

func (r Report) setup() string {
	p := r.Params
	pair := "two-CPU futex ping-pong skipped (" + p.PairSkip + ")"
	if p.PairCPUs != nil {
		pair = "two-CPU futex ping-pong in a second instance on " + cpuNames(p.PairCPUs)
		if p.PairShared {
			pair += " shared with Linux (GOMCK_SHARED_CPUS=1: a 2-CPU machine cannot isolate two)"
		}
	}
	return fmt.Sprintf("LWK on CPU %d with %s, oversubscribed (-O); medians of %d rounds, each of native/floor runs on the LWK's CPUs and then LWK runs in a fresh instance (%d rounds of native runs complete); loops of %d iterations (native %d); hello %d runs each, interleaved; ping-pong loops of %d round trips or switches, fork loops of %d, thread loops of %d; %s; core dumps of %s populated in the first %d rounds, the LWK's in a third instance with %s; kernel dumps with %s of app memory in the first %d rounds, in a fourth instance with %s",
		r.LWKCPU, p.Mem, p.Reps, p.HostRounds, p.LoopN, p.NativeN, p.HelloRuns,
		p.PingN, p.ForkN, p.ThreadN, pair, sizeName(p.CoreMiB), p.CoreReps, p.CoreMem,
		sizeName(p.DumpMiB), p.DumpReps, p.DumpMem)
}

func printTable(w io.Writer, r Report) {
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "date:    %s\n", r.Date)
	fmt.Fprintf(w, "setup:   %s\n\n", r.setup())
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "figure\tLWK\treference\tratio\ttarget\tresult")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.lwk(), f.ref(0), f.compare(), f.Target, f.result())
		for i := 1; i < len(f.Refs); i++ {
			fmt.Fprintf(tw, "\t\t%s\t\t\t\n", f.ref(i))
		}
	}
	tw.Flush()
	for _, e := range r.errors() {
		fmt.Fprintf(w, "\nerror: %s", e)
	}
	fmt.Fprintln(w)
}

// errors lists the figures' errors once each: one failure, such as a boot
// that failed, usually spoils several figures.
func (r Report) errors() []string {
	var out []string
	for _, f := range r.Figures {
		if f.Error != "" && !slices.Contains(out, f.Error) {
			out = append(out, f.Error)
		}
	}
	return out
}

func printMarkdown(w io.Writer, r Report) {
	fmt.Fprintf(w, "Machine: %s.\n\n", r.Machine)
	fmt.Fprintf(w, "Measured %s: %s.\n\n", r.Date, r.setup())
	fmt.Fprintln(w, "| figure | LWK | reference | ratio | target | result |")
	fmt.Fprintln(w, "|---|---:|---|---:|---|---|")
	for _, f := range r.Figures {
		refs := []string{f.ref(0)}
		for i := 1; i < len(f.Refs); i++ {
			refs = append(refs, f.ref(i))
		}
		res := f.result()
		if f.Result == resultPass || f.Result == resultError {
			res = "**" + res + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", f.Name, f.lwk(), strings.Join(refs, "<br>"), f.compare(), f.Target, res)
	}
	for _, e := range r.errors() {
		fmt.Fprintf(w, "\nError: `%s`\n", e)
	}
}

func writeJSON(path string, r Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// describeMachine gathers what the figures depend on; missing pieces are
// left out rather than failing the bench.
func describeMachine(root string, cpus []int) Machine {
	m := Machine{CPU: "unknown CPU", CPUs: len(cpus), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		m.Memory = fmt.Sprintf("%.0f GiB", float64(si.Totalram)*float64(si.Unit)/(1<<30))
	}
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		// The active mode is the bracketed one.
		s := string(b)
		if i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']'); i >= 0 && j > i {
			m.THP = s[i+1 : j]
		}
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.Commit += "+changes"
		}
	}
	return m
}

// printComparison prints the A/B table of -base: each figure measured in
// both builds, with its median in each, this/base, and each build's ratio
// to the figure's reference (the same native or floor samples).
func printComparison(w io.Writer, this, base Report, baseDir string) {
	fmt.Fprintf(w, "\nA/B against the build in %s (same rounds, the builds taking turns going first):\n", baseDir)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tunit\tthis\tbase\tthis/base\tthis ratio\tbase ratio\t")
	byID := map[string]Figure{}
	for _, f := range base.Figures {
		byID[f.ID] = f
	}
	for _, f := range this.Figures {
		g, ok := byID[f.ID]
		if !ok || f.Result == resultSkipped || g.Result == resultSkipped || f.Error != "" || g.Error != "" || g.LWK.Median == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t\n", f.ID, f.Unit, f.LWK.Median, g.LWK.Median,
			f.LWK.Median/g.LWK.Median, f.Ratio, g.Ratio)
	}
	tw.Flush()
}
