package lwktest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/internal/testprog"
)

// TestProcessModel runs the process-model programs natively and on the
// LWK: fork/exec/wait, signals, pthreads, OpenMP, FPU state per thread,
// memory shared across fork (MAP_SHARED, and read-only pages that the LWK
// shares), a shell pipeline and python3's subprocess.
func TestProcessModel(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "1G", "-O")
	base := in.Status().MemFree
	prog := func(name string) string { return testprog.MustC(t, name) }
	cases := []struct {
		name string
		argv []string
	}{
		{"forkwait", []string{prog("forkwait")}},
		{"sigextra", []string{prog("sigextra")}},
		{"jobctl", []string{prog("jobctl")}},
		{"pthreads", []string{prog("pthreads")}},
		{"pthreads-4", []string{prog("pthreads"), "4"}},
		{"openmp", []string{prog("openmp")}},
		{"shmfork", []string{prog("shmfork")}},
		{"fpswitch", []string{prog("fpswitch")}},
		{"forkstate", []string{prog("forkstate"), t.TempDir()}},
		{"rofork", []string{prog("rofork"), t.TempDir()}},
		{"usage", []string{prog("usage")}},
		{"creds", []string{prog("creds"), t.TempDir()}},
		{"ptimers", []string{prog("ptimers")}},
		{"itimers", []string{prog("itimers")}},
		{"cma", []string{prog("cma")}},
	}
	if bb, err := testprog.Busybox(); err == nil {
		cases = append(cases, struct {
			name string
			argv []string
		}{"busybox-pipeline", []string{bb, "sh", "-c", "echo a | tr a b | wc -c; ls / | sort | head -3"}})
	}
	if py, err := exec.LookPath("/usr/bin/python3"); err == nil {
		cases = append(cases, struct {
			name string
			argv []string
		}{"python3-subprocess", []string{py, "-c", "import json, threading, subprocess\n" +
			"r = subprocess.run(['echo', 'x'], capture_output=True, text=True)\n" +
			"t = threading.Thread(target=lambda: print(json.dumps({'out': r.stdout, 'rc': r.returncode})))\n" +
			"t.start(); t.join()"}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			same(t, in, "", tc.argv...)
			in.WaitIdle(base)
		})
	}
	t.Run("OMP_NUM_THREADS=3", func(t *testing.T) {
		t.Setenv("OMP_NUM_THREADS", "3")
		same(t, in, "", prog("openmp"))
		in.WaitIdle(base)
	})
}

// TestOpenMPOneThreadPerCPU: without -O, libgomp sizes its team by the
// affinity mask, which shows the LWK CPUs, so it never asks for more
// threads than the LWK allows.
func TestOpenMPOneThreadPerCPU(t *testing.T) {
	in, base := bootOne(t, "256M")
	same(t, in, "", testprog.MustC(t, "openmp"))
	in.WaitIdle(base)
}

// TestKilledChildProxy: killing a forked child's mcexec from Linux kills
// the LWK child; its parent reaps it as killed by SIGKILL, as natively,
// and every page comes back.
func TestKilledChildProxy(t *testing.T) {
	in, base := bootOne(t, "256M")
	cmd := in.Mcexec(testprog.MustC(t, "killchild"))
	r := bufio.NewReader(startPiped(t, cmd))
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("killchild said %q", line)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill child proxy %d: %v", pid, err)
	}
	rest, _ := io.ReadAll(r)
	cmd.Wait()
	if want := "child killed by signal 9\n"; string(rest) != want || cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("after killing the child's mcexec: %q, %v; want %q and exit 0", rest, cmd.ProcessState, want)
	}
	in.WaitIdle(base)
}

// startPiped starts cmd with its stdout piped to the test; cleanup kills
// it.
func startPiped(t *testing.T, cmd *exec.Cmd) io.Reader {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return out
}

// TestStoppedMcexec: SIGTSTP sent to mcexec from Linux, as a shell's
// Ctrl-Z does, stops the program and mcexec (state T); SIGSTOP stops
// mcexec, and the program at its next write. It writes nothing until
// SIGCONT, then finishes normally. SIGKILL ends a stopped one, and every
// page comes back.
func TestStoppedMcexec(t *testing.T) {
	in, base := bootOne(t, "256M")
	for _, sig := range []syscall.Signal{syscall.SIGTSTP, syscall.SIGSTOP} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			tk := startTicker(t, in)
			tk.next(t)
			tk.stop(t, sig)
			if err := syscall.Kill(tk.pid(), syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			tk.finish(t)
			if err := tk.cmd.Wait(); err != nil {
				t.Errorf("mcexec after SIGCONT: %v", err)
			}
			if want := tickerOutput(); !slices.Equal(tk.all, want) {
				t.Errorf("output %q, want %d ticks and done", tk.all, tickerTicks)
			}
			in.WaitIdle(base)
		})
	}
	t.Run("SIGKILL", func(t *testing.T) {
		tk := startTicker(t, in)
		tk.next(t)
		tk.stop(t, syscall.SIGTSTP)
		if err := syscall.Kill(tk.pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		tk.finish(t)
		tk.cmd.Wait()
		if ws := tk.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("stopped mcexec after SIGKILL: %v", tk.cmd.ProcessState)
		}
		in.WaitIdle(base)
	})
}

// tickerTicks and tickerMs make the ticker run about two seconds.
const tickerTicks, tickerMs = 200, 10

func tickerOutput() []string {
	var out []string
	for i := 1; i <= tickerTicks; i++ {
		out = append(out, fmt.Sprintf("tick %d", i))
	}
	return append(out, "done")
}

// ticker is testdata/c/ticker under mcexec, in a process group of its own
// as a shell runs a job: the group is not orphaned, so SIGTSTP stops it.
type ticker struct {
	cmd   *exec.Cmd
	lines chan string
	all   []string // the lines read so far
}

func startTicker(t *testing.T, in *Instance) *ticker {
	t.Helper()
	cmd := in.Mcexec(testprog.MustC(t, "ticker"), fmt.Sprint(tickerTicks), fmt.Sprint(tickerMs))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := startPiped(t, cmd)
	tk := &ticker{cmd: cmd, lines: make(chan string, 2*tickerTicks)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			tk.lines <- sc.Text()
		}
		close(tk.lines)
	}()
	return tk
}

func (tk *ticker) pid() int { return tk.cmd.Process.Pid }

// next waits for the ticker's next line.
func (tk *ticker) next(t *testing.T) {
	t.Helper()
	select {
	case l, ok := <-tk.lines:
		if !ok {
			t.Fatalf("ticker ended after %q", tk.all)
		}
		tk.all = append(tk.all, l)
	case <-time.After(10 * time.Second):
		t.Fatalf("no output from the ticker after %q", tk.all)
	}
}

// drain takes the lines written so far and returns how many there were.
func (tk *ticker) drain() int {
	for n := 0; ; n++ {
		select {
		case l, ok := <-tk.lines:
			if !ok {
				return n
			}
			tk.all = append(tk.all, l)
		default:
			return n
		}
	}
}

// finish takes the lines until the ticker's output ends.
func (tk *ticker) finish(t *testing.T) {
	t.Helper()
	for {
		select {
		case l, ok := <-tk.lines:
			if !ok {
				return
			}
			tk.all = append(tk.all, l)
		case <-time.After(30 * time.Second):
			t.Fatalf("ticker still running after %q", tk.all)
		}
	}
}

// stop sends sig to mcexec and checks that it stops and that the program
// writes nothing while it is stopped.
func (tk *ticker) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(tk.pid(), sig); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return procState(tk.pid()) == "T" })
	time.Sleep(100 * time.Millisecond)
	tk.drain() // written before the stop
	time.Sleep(500 * time.Millisecond)
	if n := tk.drain(); n != 0 {
		t.Errorf("%d lines written while stopped: %q", n, tk.all[len(tk.all)-n:])
	}
	if st := procState(tk.pid()); st != "T" {
		t.Errorf("mcexec state %q while stopped, want T", st)
	}
}

// procState is the state letter of Linux process pid.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 {
		return f[0]
	}
	return ""
}
