package lwktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/internal/testprog"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// Bin builds the gomck commands (once per test binary) and returns their
// directory.
func Bin(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "gomck-bin-")
		if binErr != nil {
			return
		}
		root := testprog.Root()
		for _, c := range []string{"mckernel", "mcreboot", "mcstop", "ihkosctl", "ihkconfig", "mcps", "mcinspect", "mcgcore", "ihkmond", "eclair", "mccrash"} {
			if binErr = gobuild(root, filepath.Join(binDir, c), nil, "./cmd/"+c); binErr != nil {
				return
			}
		}
		if binErr = gobuild(root, filepath.Join(binDir, "mcexec"), nil, "-buildmode=pie", "./cmd/mcexec"); binErr != nil {
			return
		}
		// mcperf runs itself under mcexec, and mcdash is one binary to
		// copy: static, as make builds them.
		for _, c := range []string{"mcperf", "mcdash"} {
			if binErr = gobuild(root, filepath.Join(binDir, c), []string{"CGO_ENABLED=0"}, "./cmd/"+c); binErr != nil {
				return
			}
		}
		binErr = buildSDE(root, binDir)
	})
	if binErr != nil {
		tb.Fatalf("build gomck commands: %v", binErr)
	}
	return binDir
}

func gobuild(root, out string, env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %v\n%s", args, err, b)
	}
	return nil
}

// Instance is a booted LWK for one test.
type Instance struct {
	tb     testing.TB
	Bin    string
	RunDir string
	Index  int
	PID    int // daemon
	// Monitor is the instance's ihkmond, which puts the dumps of a hang
	// or a panic in DumpDir ($GOMCK_DUMPDIR; the test's own unless set).
	Monitor int
	DumpDir string
	// Hangs says the test stops the daemon: the monitor may find it
	// HUNGUP. Otherwise a HUNGUP verdict fails the test (a false alarm).
	Hangs bool
}

// NeedRoot skips tb unless it runs as root.
func NeedRoot(tb testing.TB) {
	if os.Geteuid() != 0 {
		tb.Skip("needs root: boots an LWK instance (ptrace, mlock, cpuset)")
	}
}

// LWKCPU picks the host CPU for a one-CPU instance: the last online one.
func LWKCPU(tb testing.TB) int {
	cpus, err := partition.OnlineCPUs()
	if err != nil || len(cpus) < 2 {
		tb.Skip("needs at least two online CPUs (one stays with Linux)")
	}
	return cpus[len(cpus)-1]
}

// Boot runs mcreboot with args in a private run directory and registers
// the cleanup.
func Boot(tb testing.TB, args ...string) *Instance {
	tb.Helper()
	NeedRoot(tb)
	in := &Instance{tb: tb, Bin: Bin(tb), RunDir: tb.TempDir()}
	os.Chmod(in.RunDir, 0o755)
	tb.Setenv("GOMCK_RUNDIR", in.RunDir)
	if in.DumpDir = os.Getenv("GOMCK_DUMPDIR"); in.DumpDir == "" {
		in.DumpDir = tb.TempDir()
		tb.Setenv("GOMCK_DUMPDIR", in.DumpDir)
	}
	tb.Cleanup(in.Stop)
	in.reboot(args...)
	return in
}

// reboot runs mcreboot with args for the instance, and takes over the
// daemon and monitor it starts.
func (in *Instance) reboot(args ...string) {
	tb := in.tb
	tb.Helper()
	out, err := in.Cmd("mcreboot", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("mcreboot %v: %v\n%s", args, err, out)
	}
	if len(out) != 0 {
		tb.Errorf("mcreboot should be silent on success, said %q", out)
	}
	in.PID = control.DaemonPID(in.Index)
	if in.PID == 0 {
		tb.Fatal("mcreboot succeeded but no daemon pid file")
	}
	if m, err := control.ReadMonitor(in.Index); err != nil {
		tb.Errorf("mcreboot started no monitor: %v", err)
	} else {
		in.Monitor = m.PID
	}
}

// Cmd prepares one of the gomck commands with the instance's environment.
func (in *Instance) Cmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(in.Bin, name), args...)
	cmd.Env = append(os.Environ(), "GOMCK_RUNDIR="+in.RunDir)
	return cmd
}

// Mcexec prepares `mcexec args...`.
func (in *Instance) Mcexec(args ...string) *exec.Cmd { return in.Cmd("mcexec", args...) }

// Stop shuts the instance down and makes sure the daemon, its stubs and
// its cpuset are gone.
func (in *Instance) Stop() {
	defer in.stopMonitor()
	if in.PID == 0 {
		partition.ReleaseStale(fmt.Sprintf("mcos%d", in.Index))
		return
	}
	stubs := in.Stubs()
	if err := control.Stop(in.Index, 20*time.Second); err != nil {
		in.tb.Errorf("stop instance: %v", err)
	}
	syscall.Kill(in.PID, syscall.SIGKILL)
	for _, s := range stubs {
		syscall.Kill(s, syscall.SIGKILL)
	}
	partition.ReleaseStale(fmt.Sprintf("mcos%d", in.Index))
	in.PID = 0
	if in.tb.Failed() {
		in.logTail()
	}
}

// stopMonitor makes sure the monitor is gone (it ends with its instance)
// and that it raised no false alarm.
func (in *Instance) stopMonitor() {
	if in.Monitor == 0 {
		return
	}
	if b, _ := os.ReadFile(control.MonitorLogPath(in.Index)); !in.Hangs && bytes.Contains(b, []byte(" HUNGUP")) {
		in.tb.Errorf("the monitor found a running instance hung:\n%s", b)
	}
	for i := 0; i < 100 && syscall.Kill(in.Monitor, 0) == nil; i++ {
		if i == 50 {
			syscall.Kill(in.Monitor, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.Monitor = 0
}

// logTail logs the end of the daemon's own log (its stderr: a panic, a
// fatal runtime error), which goes with the test's run directory.
func (in *Instance) logTail() {
	b, err := os.ReadFile(control.LogPath(in.Index))
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	// A crash's cause heads its goroutine dump.
	from := max(0, len(lines)-60)
	for i, l := range lines {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			from = i
			break
		}
	}
	in.tb.Logf("daemon log:\n%s", strings.Join(lines[from:min(len(lines), from+60)], "\n"))
}

// Stubs lists the daemon's child processes (stubs).
func (in *Instance) Stubs() []int { return control.DaemonChildren(in.PID) }

// Status queries the daemon.
func (in *Instance) Status() control.Status {
	in.tb.Helper()
	var st control.Status
	resp, err := control.Query(in.Index, control.OpStatus)
	if err != nil {
		in.tb.Fatalf("status: %v", err)
	}
	if err := json.Unmarshal(resp.Data, &st); err != nil {
		in.tb.Fatalf("status: %v", err)
	}
	return st
}

// WaitIdle waits until no LWK process remains and the free memory is back
// to want, failing the test otherwise: the allocator must return to its
// baseline however a process ends.
func (in *Instance) WaitIdle(want uint64) {
	in.tb.Helper()
	var st control.Status
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st = in.Status()
		if len(st.Processes) == 0 && st.MemFree == want && len(in.strayStubs(st)) == 0 {
			return
		}
	}
	stray := in.strayStubs(st)
	in.tb.Fatalf("LWK not back to baseline: %d processes, free %d want %d, stray stubs %v%s", len(st.Processes), st.MemFree, want, stray, in.diagnose(stray))
}

// diagnose describes stray stubs (state and parent, from /proc) and gives
// the kernel log's tail, for a failure that does not reproduce at will.
func (in *Instance) diagnose(stray []int) string {
	var b strings.Builder
	for _, pid := range stray {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		fmt.Fprintf(&b, "\nstub %d: %s", pid, bytes.TrimSpace(stat))
	}
	out, err := in.Cmd("ihkosctl", fmt.Sprint(in.Index), "kmsg").CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fmt.Fprintf(&b, "\nkmsg (%v), last lines:\n%s", err, strings.Join(lines[max(0, len(lines)-30):], "\n"))
	return b.String()
}

// strayStubs lists the daemon's children other than its spare stubs.
func (in *Instance) strayStubs(st control.Status) []int {
	var out []int
	for _, pid := range in.Stubs() {
		if !slices.Contains(st.SpareStubs, pid) {
			out = append(out, pid)
		}
	}
	return out
}

// lwkState describes the instance that cmd, an mcexec, runs in: every
// LWK thread (mcps), the kernel log's tail and the thread records with
// their registers (mcinspect --threads), for a program that hangs there.
// Empty for a native run.
func lwkState(cmd *exec.Cmd) string {
	dir := filepath.Dir(cmd.Path)
	if filepath.Base(cmd.Path) != "mcexec" {
		return ""
	}
	var b strings.Builder
	// The thread records carry the registers of each thread's call in
	// progress (its arguments): what a hang waits for.
	for _, q := range []struct {
		args []string
		tail int // lines kept, 0: all
	}{{[]string{"mcps"}, 0}, {[]string{"ihkosctl", "0", "kmsg"}, 40}, {[]string{"mcinspect", "--threads"}, 0}} {
		c := exec.Command(filepath.Join(dir, q.args[0]), q.args[1:]...)
		c.Env = cmd.Env
		out, err := c.CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if q.tail > 0 {
			lines = lines[max(0, len(lines)-q.tail):]
		}
		fmt.Fprintf(&b, "$ %s (%v)\n%s\n", strings.Join(q.args, " "), err, strings.Join(lines, "\n"))
	}
	return b.String()
}

// Result is what a program did.
type Result struct {
	Stdout, Stderr string
	Code           int    // exit code, or -1
	Signal         string // signal name if killed
}

func (r Result) String() string {
	return fmt.Sprintf("code=%d signal=%q stdout=%q stderr=%q", r.Code, r.Signal, r.Stdout, r.Stderr)
}

// Run runs cmd with stdin and collects its result.
func Run(cmd *exec.Cmd, stdin string) Result { return RunFor(cmd, stdin, 3*time.Minute) }

// RunFor is Run for a program that may take up to limit.
func RunFor(cmd *exec.Cmd, stdin string, limit time.Duration) Result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	// A hung program must fail its test, not the whole binary's timeout,
	// so that cleanups still stop the instance.
	if err := cmd.Start(); err != nil {
		return Result{Stderr: err.Error(), Code: -1}
	}
	hung := make(chan string, 1)
	timer := time.AfterFunc(limit, func() {
		hung <- lwkState(cmd)
		cmd.Process.Kill()
	})
	cmd.Wait() // the exit status is in ProcessState
	timer.Stop()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Code: cmd.ProcessState.ExitCode()}
	select {
	case state := <-hung:
		r.Stderr += fmt.Sprintf("\n[killed after %v; the LWK then:]\n", limit) + state
	default:
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.Signal = ws.Signal().String()
	}
	return r
}
