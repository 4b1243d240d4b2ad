package lwktest

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
)

// TestProcessModel runs the process-model programs natively and on the
// LWK: fork/exec/wait, signals, pthreads, OpenMP, a shell pipeline and
// python3's subprocess.
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
