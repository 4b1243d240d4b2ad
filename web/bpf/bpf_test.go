package bpf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/web/source"
)

// open loads the collectors for a test, which needs root.
func open(t *testing.T) *Collectors {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads eBPF programs")
	}
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// startWorker starts bpfworker n and waits for its "ready".
func startWorker(t testing.TB, n int) (*exec.Cmd, io.Writer, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(testprog.MustGo(t, "bpfworker"), fmt.Sprint(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	out := bufio.NewReader(stdout)
	expectLine(t, out, "ready")
	return cmd, stdin, out
}

func expectLine(t testing.TB, r *bufio.Reader, want string) {
	t.Helper()
	line, err := r.ReadString('\n')
	if strings.TrimSpace(line) != want {
		t.Fatalf("worker said %q (%v), want %q", line, err, want)
	}
}

// TestOffloadHistogram runs a worker serving N writes with the calls a
// worker makes for itself around them (and requests it serves without a
// call or with several of its own), and checks that exactly the N are
// timed, in the map and in the Prometheus histogram; and that a worker
// outside the filter is not timed at all.
func TestOffloadHistogram(t *testing.T) {
	c := open(t)
	const n, os0 = 500, 3
	for _, tc := range []struct {
		name     string
		filtered bool
		want     uint64
	}{{"filtered", true, n}, {"not filtered", false, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			before, beforeAll := offloaded(c.Offload(os0), "write"), callsByName(c.Offload(os0))
			cmd, stdin, out := startWorker(t, n)
			watched := cmd.Process.Pid
			if !tc.filtered { // another worker is: all is attached
				other, _, _ := startWorker(t, 0)
				watched = other.Process.Pid
			}
			if err := c.SetProxies(os0, []int{watched}); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(stdin)
			expectLine(t, out, "done")
			got := offloaded(c.Offload(os0), "write")
			if got.Calls-before.Calls != tc.want {
				t.Errorf("%d writes timed, want %d", got.Calls-before.Calls, tc.want)
			}
			if tc.want > 0 && got.Seconds <= before.Seconds {
				t.Errorf("the writes took %gs in all", got.Seconds-before.Seconds)
			}
			for name, n := range callsByName(c.Offload(os0)) {
				if name != "write" && n != beforeAll[name] {
					t.Errorf("%d %s timed: the worker's own calls are not the app's", n-beforeAll[name], name)
				}
			}
		})
	}
	checkHistogram(t, c, os0, n)
	if err := c.SetProxies(os0, nil); err != nil || c.syscalls != nil {
		t.Errorf("no proxies left (%v): the raw_syscalls tracepoints are still attached", err)
	}
	if err := c.SetLWK(os0, []int{0}, nil); err != nil {
		t.Fatal(err)
	}
	promtoolCheck(t, c)
}

// promtoolCheck runs Prometheus's own linter on what c exposes.
func promtoolCheck(t *testing.T, c *Collectors) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool (Debian's prometheus) not installed: the exposition is not linted")
		return
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&text, f); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("promtool check metrics: %v\n%s\non:\n%s", err, out, text.Bytes())
	}
	if !strings.Contains(text.String(), `mck_lwk_cpu_interference_seconds_total{cpu="0",os="3",source="task"}`) {
		t.Errorf("no interference counter for the instance's CPU 0 in:\n%s", text.Bytes())
	}
}

func offloaded(times []source.OffloadTime, name string) source.OffloadTime {
	for _, o := range times {
		if o.Name == name {
			return o
		}
	}
	return source.OffloadTime{}
}

// checkHistogram gathers mck_offload_exec_seconds through a registry and
// checks instance os's write histogram: n calls, cumulative buckets.
func checkHistogram(t *testing.T, c *Collectors, os, n int) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h *dto.Histogram
	for _, f := range families {
		if f.GetName() != "mck_offload_exec_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labels(m) == fmt.Sprintf("os=%d,syscall=write", os) {
				h = m.GetHistogram()
			}
		}
	}
	if h == nil {
		t.Fatalf("no mck_offload_exec_seconds{os=%d,syscall=write} in %v", os, families)
	}
	if h.GetSampleCount() != uint64(n) || h.GetSampleSum() <= 0 {
		t.Errorf("histogram count %d sum %g, want %d calls", h.GetSampleCount(), h.GetSampleSum(), n)
	}
	prev, bound := uint64(0), 0.0
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < prev || b.GetUpperBound() <= bound {
			t.Errorf("bucket le=%g count %d after le=%g count %d: not cumulative", b.GetUpperBound(), b.GetCumulativeCount(), bound, prev)
		}
		prev, bound = b.GetCumulativeCount(), b.GetUpperBound()
	}
	if bound < 10 {
		t.Errorf("the last finite bound is %gs: a blocking call of seconds has no bucket", bound)
	}
}

func labels(m *dto.Metric) string {
	var s []string
	for _, l := range m.GetLabel() {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(s, ",")
}

// TestInterference runs a busy Linux process pinned on a CPU marked as an
// LWK CPU: its time there is interference ("task") unless it is one of the
// LWK's own tasks or a child of one (the daemon starts the stubs). Other tasks share the CPU (this machine builds in
// parallel), so the check is that the busy process's CPU time is counted,
// or is not: task interference against the busy time and the wall time.
func TestInterference(t *testing.T) {
	c := open(t)
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		t.Fatal(err)
	}
	host := -1
	for h := range 1024 {
		if cpus.IsSet(h) {
			host = h
		}
	}
	const os0, busyFor = 5, time.Second
	for _, tc := range []struct {
		name string
		lwk  bool // the busy process is the LWK's own
		own  func(busy int) []int
	}{
		{"linux task", false, func(int) []int { return nil }},
		{"lwk task", true, func(busy int) []int { return []int{busy} }},
		{"child of an lwk task", true, func(int) []int { return []int{os.Getpid()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			busy := exec.Command("/bin/sh", "-c", "while :; do :; done")
			if err := busy.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				busy.Process.Kill()
				busy.Wait()
			}()
			var set unix.CPUSet
			set.Set(host)
			if err := unix.SchedSetaffinity(busy.Process.Pid, &set); err != nil {
				t.Fatal(err)
			}
			if err := c.SetLWK(os0, []int{host}, tc.own(busy.Process.Pid)); err != nil {
				t.Fatal(err)
			}
			defer c.SetLWK(os0, nil, nil)
			// A task already running when its CPU is marked counts from
			// its next switch in; alone on the CPU that may be seconds
			// away. Stop and continue it to switch it in now.
			switchIn(t, busy.Process)
			start, cpu0 := time.Now(), cpuTime(t, busy.Process.Pid)
			task0 := taskSeconds(t, c, os0)
			time.Sleep(busyFor)
			task, busyCPU, wall := taskSeconds(t, c, os0)-task0, cpuTime(t, busy.Process.Pid)-cpu0, time.Since(start).Seconds()
			t.Logf("host CPU %d: task interference %.3fs, the busy process ran %.3fs, in %.3fs", host, task, busyCPU, wall)
			if busyCPU < 0.2 {
				t.Skipf("the busy process ran only %.3fs of %.3fs: the machine is too loaded to tell", busyCPU, wall)
			}
			// /proc's CPU time is in ticks: 10 ms each.
			if !tc.lwk && task < 0.95*busyCPU-0.02 {
				t.Errorf("task interference %.3fs, less than the %.3fs the busy Linux process ran there", task, busyCPU)
			}
			if tc.lwk && task > wall-0.95*busyCPU+0.02 {
				t.Errorf("task interference %.3fs: more than the %.3fs of %.3fs the LWK's own process left to others", task, wall-busyCPU, wall)
			}
			for _, in := range c.Interference(os0) {
				if in.CPU != 0 || in.HostCPU != host {
					t.Errorf("interference %+v: want LWK CPU 0 on host CPU %d", in, host)
				}
			}
		})
	}
}

// switchIn stops p and continues it once it is stopped: it is switched
// out and in again.
func switchIn(t *testing.T, p *os.Process) {
	t.Helper()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); procState(t, p.Pid) != "T"; {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not stop within 5s", p.Pid)
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

// taskSeconds is os's task interference on its LWK CPU 0.
func taskSeconds(t *testing.T, c *Collectors, os int) float64 {
	t.Helper()
	for _, in := range c.Interference(os) {
		if in.CPU == 0 && in.Source == "task" {
			return in.Seconds
		}
	}
	t.Fatalf("no task interference for instance %d: %+v", os, c.Interference(os))
	return 0
}

// statFields are pid's /proc stat fields after the comm's closing
// parenthesis: state (field 3) first.
func statFields(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
}

// procState is pid's state letter.
func procState(t *testing.T, pid int) string {
	t.Helper()
	return statFields(t, pid)[0]
}

// cpuTime is pid's user and system time (fields 14 and 15), in seconds.
func cpuTime(t *testing.T, pid int) float64 {
	t.Helper()
	fields := statFields(t, pid)
	var utime, stime float64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return (utime + stime) / 100
}

// unprivilegedEnv makes the test binary, run again, try Open as nobody.
const unprivilegedEnv = "GOMCK_BPF_TEST_UNPRIVILEGED"

// TestUnprivileged runs Open in a copy of this test binary as nobody (no
// capabilities): the error must wrap ErrUnavailable and say why.
func TestUnprivileged(t *testing.T) {
	if os.Getenv(unprivilegedEnv) != "" {
		_, err := Open()
		fmt.Printf("is-unavailable=%v\n%v\n", errors.Is(err, ErrUnavailable), err)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to become nobody")
	}
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's are root's only
	}
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bpf.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^TestUnprivileged$")
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	said := string(out)
	if !strings.Contains(said, "is-unavailable=true") {
		t.Errorf("as nobody, Open's error does not wrap ErrUnavailable:\n%s", said)
	}
	if !strings.Contains(said, "eBPF collectors unavailable: ") || !strings.Contains(said, "needs root") {
		t.Errorf("as nobody, Open's error does not say that it needs root:\n%s", said)
	}
	t.Logf("as nobody: %s", said)
}

// TestBadInput checks that what the collectors are told is checked.
func TestBadInput(t *testing.T) {
	c := open(t)
	for _, tc := range []struct {
		name string
		set  func() error
		want string // in the error; "" for none
	}{
		{"negative host CPU", func() error { return c.SetLWK(1, []int{-1}, nil) }, "host CPU -1 out of range"},
		{"host CPU past the map", func() error { return c.SetLWK(1, []int{maxHostCPU}, nil) }, "out of range"},
		{"instance down", func() error { return c.Watch(1, nil, true) }, ""},
		{"no proxies", func() error { return c.SetProxies(1, nil) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.set()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if in := c.Interference(1); len(in) != 0 {
		t.Errorf("interference of an instance with no CPUs: %+v", in)
	}
}

// callsByName are the timed calls' counts by syscall name.
func callsByName(times []source.OffloadTime) map[string]uint64 {
	m := map[string]uint64{}
	for _, o := range times {
		m[o.Name] += o.Calls
	}
	return m
}
