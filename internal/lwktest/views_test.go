package lwktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomck/gomck/internal/testprog"
)

// TestLWKViews: what apps read of /proc and /sys is the LWK's (McKernel's
// mcoverlayfs). procview checks, natively and on the LWK alike, that its
// /proc files agree with its system calls, and stopstate that a stopped
// child's files say so; the rest checks figures only the LWK knows: its
// CPUs and its partition memory.
func TestLWKViews(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	base := in.Status().MemFree
	t.Run("procview", func(t *testing.T) {
		same(t, in, "", testprog.MustC(t, "procview"))
		in.WaitIdle(base)
	})
	// A stopped process's threads are all T, whatever they were doing.
	t.Run("stopped child", func(t *testing.T) {
		prog := testprog.MustC(t, "stopstate")
		want := "pause: stat T, status T (stopped), threads T\n" +
			"pipe read: stat T, status T (stopped), threads T\n" +
			"two threads: stat T, status T (stopped), threads T T\n"
		if res := Run(exec.Command(prog), ""); res.Code != 0 || res.Stdout != want {
			t.Fatalf("natively: %v, want %q", res, want)
		}
		same(t, in, "", prog)
		in.WaitIdle(base)
	})
	cpu := fmt.Sprint(LWKCPU(t))
	checks := []struct {
		name, script, want string
	}{
		{"cpu online", "cat /sys/devices/system/cpu/online", cpu + "\n"},
		{"cpus allowed", "grep Cpus_allowed_list /proc/self/status", "Cpus_allowed_list:\t" + cpu + "\n"},
		{"nproc", "nproc", "1\n"},
		{"node memory", "grep MemTotal /sys/devices/system/node/node0/meminfo", "Node 0 MemTotal:         262144 kB\n"},
		{"exe", "readlink /proc/$$/exe", "/usr/bin/busybox\n"},
	}
	bb, err := testprog.Busybox()
	exe, _ := filepath.EvalSymlinks(bb)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err != nil {
				t.Skip(err)
			}
			res := Run(in.Mcexec(bb, "sh", "-c", c.script), "")
			if res.Code != 0 || res.Stdout != strings.Replace(c.want, "/usr/bin/busybox", exe, 1) {
				t.Errorf("%s: got %v, want %q", c.script, res, c.want)
			}
			in.WaitIdle(base)
		})
	}
	t.Run("python cpu_count", func(t *testing.T) {
		py, err := exec.LookPath("/usr/bin/python3")
		if err != nil {
			t.Skip(err)
		}
		res := Run(in.Mcexec(py, "-c", "import os; print(os.cpu_count(), sorted(os.sched_getaffinity(0)))"), "")
		if want := "1 [" + cpu + "]\n"; res.Stdout != want {
			t.Errorf("python3 on the LWK: %v, want %q", res, want)
		}
		in.WaitIdle(base)
	})
	// An ended process leaves no view behind.
	views, _ := os.ReadDir(filepath.Join(in.RunDir, fmt.Sprintf("mcos%d.view", in.Index), "proc"))
	if len(views) != 0 {
		t.Errorf("views of ended processes remain: %v", views)
	}
}
