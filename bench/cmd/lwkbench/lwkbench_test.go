package main

import (
	"bytes"
	"errors"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

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
			getpidQuiet: ok(19700), getpidWatch: ok(23500), getpidTight: ok(20700), getpidBusy: ok(23500), getpidTrue: ok(25700)},
	}
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
		`(?m)^LWK getpid loop with mcps watching beside it \(-d 0\.1\), paired +23\.5 µs +without mcps 19\.7 µs +1\.19x +<= 1\.01x +MISS$`,
		`(?m)^ +/bin/true started back to back 25\.7 µs`,
		`(?m)^error: LWK fork_wait failed: fork_wait: fork: Function not implemented \(exit status 1\)$`,
		`two-CPU futex ping-pong in a second instance on CPUs 0-1 shared with Linux`,
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
	if err := b.choose("forks"); err == nil {
		t.Error("an unknown figure was accepted")
	}
}

func TestPairedRatio(t *testing.T) {
	for _, tc := range []struct {
		name           string
		samples, quiet []float64
		want           float64
	}{
		// The machine slows down 10% a run: each run beside is 1% over
		// the mean of its neighbours.
		{"drift", []float64{101 * 1.05, 101 * 1.155, 101 * 1.2705}, []float64{100, 110, 121, 133.1}, 1.01},
		{"last run beside has one neighbour", []float64{20}, []float64{10}, 2},
		{"one pair unlike the others", []float64{11, 11, 30}, []float64{10, 10, 10, 10}, 1.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pairedRatio(tc.samples, tc.quiet); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("pairedRatio = %v, want %v", got, tc.want)
			}
		})
	}
}
