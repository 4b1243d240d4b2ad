package lwktest

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/perf"
)

// keyValues parses "key value" lines, the value being the last word.
func keyValues(t *testing.T, who string, r Result) map[string]string {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("%s: %v", who, r)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			t.Fatalf("%s: line %q has no value", who, l)
		}
		out[l[:i]] = l[i+1:]
	}
	return out
}

// TestPMUSysfs reads the lwk PMU's directory of the LWK's /sys view from
// an app and checks it against perf.LWKEvents, file for file, and that
// the host's PMUs stay listed beside it.
func TestPMUSysfs(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M")
	got := keyValues(t, "pmuev sysfs", Run(in.Mcexec(testprog.MustC(t, "pmuev"), "sysfs"), ""))
	typ, err := strconv.ParseUint(strings.TrimSuffix(got["file type"], `\n`), 10, 32)
	if err != nil || typ < perf.TypeMax {
		t.Fatalf("lwk type %q: not a dynamic PMU's", got["file type"])
	}
	if host, err := perf.LWKType(perf.HostPMUs); err != nil || uint32(typ) != host {
		t.Errorf("lwk type %d, want %d (%v): past the host's PMUs", typ, host, err)
	}
	want := perf.LWKSysfs(uint32(typ))
	for name, data := range want {
		if g := got["file "+name]; g != strings.ReplaceAll(data, "\n", `\n`) {
			t.Errorf("lwk/%s = %q, want %q", name, g, data)
		}
	}
	files := 0
	for k := range got {
		if strings.HasPrefix(k, "file ") {
			files++
		}
	}
	if files != len(want) {
		t.Errorf("lwk/ holds %d files, want %d: %v", files, len(want), got)
	}
	if got["software type"] != "1" {
		t.Errorf("software PMU's type %q under mcexec, want 1 (the host's)", got["software type"])
	}
}

// TestPMUEvents opens lwk events from a C program: exact counts of its
// local and offloaded calls in a group, inherit across pthread_create and
// fork, a child's events by its pid, CPU-wide ones, and the errnos of bad
// configs (EINVAL, as Linux's dynamic PMUs answer).
func TestPMUEvents(t *testing.T) {
	// -O: pmuev's thread shares the one CPU.
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	const n, m = 1000, 100
	got := keyValues(t, "pmuev count", Run(in.Mcexec(testprog.MustC(t, "pmuev"), "count", fmt.Sprint(n), fmt.Sprint(m)), ""))
	want := map[string]string{
		// The leader's ENABLE is a local call too, counted once enabled.
		"group syscalls_local":     fmt.Sprint(n + 1),
		"group syscalls_offloaded": fmt.Sprint(m),
		"group getpid":             fmt.Sprint(n),
		"group write":              fmt.Sprint(m),
		"group offload_wait_ns>0":  "1",
		"inherit getpid":           fmt.Sprint(n/2 + n/4 + n),
		"no-inherit getpid":        fmt.Sprint(n),
		"child getpid":             fmt.Sprint(n / 2),
		"exited child":             "ESRCH",
		"cpu idle_ns>0":            "1",
		"cpu syscalls_local>=n":    "1",
		"config 0":                 "EINVAL",
		"config unknown id":        "EINVAL",
		"config nr on a total":     "EINVAL",
		"config nr too big":        "EINVAL",
		"config past the format":   "EINVAL",
		"idle_ns per thread":       "EINVAL",
		"migrations cpu-wide":      "EINVAL",
		"pid none":                 "ESRCH",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("pmuev printed %d lines, want %d: %v", len(got), len(want), got)
	}
}

// perfStatCSV parses perf stat -x, output: the value of each event, by
// its name. A line is value, unit, the name (which may hold commas:
// lwk/syscall_local_calls,syscall=39/), run time, percentage running,
// metric and its unit.
func perfStatCSV(t *testing.T, stderr string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, l := range strings.Split(stderr, "\n") {
		f := strings.Split(l, ",")
		if len(f) < 7 || strings.HasPrefix(l, "#") {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("perf stat: %q: %v", l, err)
		}
		out[strings.Join(f[2:len(f)-4], ",")] = v
	}
	return out
}

// TestPMUPerfStat runs Debian's perf stat under mcexec on counters (N
// getpid calls, M writes), with the LWK's events: the per-syscall counts
// are exact, and so are the totals' differences between two runs (the
// rest of a run, its start and exit, is the same for both).
func TestPMUPerfStat(t *testing.T) {
	perfBin, err := exec.LookPath("perf")
	if err != nil {
		t.Skip("no perf: scripts/deps.sh installs linux-perf")
	}
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "512M", "-O")
	prog := testprog.MustC(t, "counters")
	events := []string{"task-clock", "context-switches", "lwk/syscalls_offloaded/", "lwk/syscalls_local/",
		fmt.Sprintf("lwk/syscall_local_calls,syscall=%d/", 39), fmt.Sprintf("lwk/syscall_offloaded_calls,syscall=%d/", 1)}
	stat := func(n, m int) map[string]float64 {
		r := Run(in.Mcexec(perfBin, "stat", "-x,", "-e", strings.Join(events, ","), "--", prog, fmt.Sprint(n), fmt.Sprint(m)), "")
		if r.Code != 0 {
			t.Fatalf("perf stat under mcexec: %v", r)
		}
		t.Logf("perf stat %d %d:\n%s", n, m, r.Stderr)
		return perfStatCSV(t, r.Stderr)
	}
	const n1, m1, n2, m2 = 1000, 100, 3000, 250
	a, b := stat(n1, m1), stat(n2, m2)
	for _, tt := range []struct {
		event      string
		got, want  float64
		difference bool
	}{
		{events[4], a[events[4]], n1, false},
		{events[5], a[events[5]], m1 + 1, false}, // and counters' "ready"
		{events[4], b[events[4]], n2, false},
		{events[3], b[events[3]] - a[events[3]], n2 - n1, true},
		{events[2], b[events[2]] - a[events[2]], m2 - m1, true},
	} {
		if tt.got != tt.want {
			what := "count"
			if tt.difference {
				what = "difference of two runs"
			}
			t.Errorf("%s: %s %v, want %v", tt.event, what, tt.got, tt.want)
		}
	}
	if a["task-clock"] <= 0 || a[events[3]] < n1 || a[events[2]] < m1 {
		t.Errorf("task-clock %v ms, syscalls_local %v, syscalls_offloaded %v: want a run's", a["task-clock"], a[events[3]], a[events[2]])
	}
}
