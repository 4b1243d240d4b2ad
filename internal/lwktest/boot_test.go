package lwktest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/control"
)

// TestBootBadArguments needs root: mcreboot's checks run before anything
// is reserved, and nothing may be left behind.
func TestBootBadArguments(t *testing.T) {
	NeedRoot(t)
	in := &Instance{tb: t, Bin: Bin(t), RunDir: t.TempDir()}
	t.Setenv("GOMCK_RUNDIR", in.RunDir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-m", "512M"}, "usage"},
		{[]string{"-c", "1"}, "usage"},
		{[]string{"-c", "99", "-m", "512M"}, "CPU 99"},
		{[]string{"-c", "x", "-m", "512M"}, "x"},
		{[]string{"-c", "1", "-m", "12X"}, "12X"},
		{[]string{"-c", "1", "-m", "100T"}, "cannot reserve"},
		{[]string{"-c", "0-1", "-m", "512M"}, "Linux"},
	} {
		out, err := in.Cmd("mcreboot", tc.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("mcreboot %v: err=%v, output %q; want failure mentioning %q", tc.args, err, out, tc.want)
		}
		if control.DaemonPID(0) != 0 {
			t.Fatalf("mcreboot %v left a daemon running", tc.args)
		}
	}
}

func TestLifecycle(t *testing.T) {
	cpu := LWKCPU(t)
	in := Boot(t, "-c", fmt.Sprint(cpu), "-m", "256M")
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := in.Cmd(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if s := run("ihkosctl", "0", "status"); !strings.Contains(s, "RUNNING") {
		t.Errorf("status: %q", s)
	}
	if s := run("ihkosctl", "0", "kmsg"); !strings.Contains(s, "booted") || !strings.Contains(s, "NUMA node") {
		t.Errorf("kmsg: %q", s)
	}
	if s := strings.TrimSpace(run("ihkosctl", "0", "query", "cpu")); s != fmt.Sprint(cpu) {
		t.Errorf("query cpu: %q", s)
	}
	if s := strings.TrimSpace(run("ihkconfig", "0", "query", "mem")); !strings.HasPrefix(s, "256M@") {
		t.Errorf("ihkconfig query mem: %q", s)
	}
	if s := strings.TrimSpace(run("ihkosctl", "0", "query_free_mem")); s != fmt.Sprint(256<<20) {
		t.Errorf("query_free_mem: %q", s)
	}
	run("ihkosctl", "0", "clear_kmsg")
	if s := run("ihkosctl", "0", "kmsg"); strings.Contains(s, "booted") {
		t.Errorf("kmsg after clear_kmsg: %q", s)
	}
	// The socket is the owner's only.
	if fi, err := os.Stat(control.SocketPath(0)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode: %v %v", fi.Mode(), err)
	}
	// A second mcreboot reboots.
	old := in.PID
	run("mcreboot", "-c", fmt.Sprint(cpu), "-m", "128M")
	in.PID = control.DaemonPID(0)
	if in.PID == 0 || in.PID == old {
		t.Fatalf("reboot: daemon pid %d (was %d)", in.PID, old)
	}
	if s := strings.TrimSpace(run("ihkosctl", "0", "query", "mem")); !strings.HasPrefix(s, "128M@") {
		t.Errorf("after reboot, query mem: %q", s)
	}
	// mcstop releases everything.
	pid := in.PID
	run("mcstop")
	if _, err := os.Stat(control.SocketPath(0)); err == nil {
		t.Error("control socket still there after mcstop")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon %d still alive after mcstop", pid)
		}
	}
	in.PID = 0
	if out, err := in.Cmd("ihkosctl", "0", "status").CombinedOutput(); err == nil || !strings.Contains(string(out), "no LWK instance") {
		t.Errorf("status without instance: %v %q", err, out)
	}
	if out, err := in.Mcexec("/bin/true").CombinedOutput(); err == nil || !strings.Contains(string(out), "no LWK instance") {
		t.Errorf("mcexec without instance: %v %q", err, out)
	}
}
