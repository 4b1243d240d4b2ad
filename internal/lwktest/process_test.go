package lwktest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
)

// TestProcessModel runs the process-model programs natively and on the
// LWK: fork/exec/wait, signals, pthreads, OpenMP, FPU state per thread, a
// shell pipeline and python3's subprocess.
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
		{"pthreads", []string{prog("pthreads")}},
		{"pthreads-4", []string{prog("pthreads"), "4"}},
		{"openmp", []string{prog("openmp")}},
		{"fpswitch", []string{prog("fpswitch")}},
		{"forkstate", []string{prog("forkstate"), t.TempDir()}},
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
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
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
