package lwktest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/internal/testprog"
)

// status runs ihkosctl 0 status, which must answer within 2 s whatever
// the daemon's state.
func status(t *testing.T, in *Instance) string {
	t.Helper()
	start := time.Now()
	out, err := in.Cmd("ihkosctl", "0", "status").CombinedOutput()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("ihkosctl 0 status took %v, want under 2 s", took)
	}
	if err != nil {
		t.Fatalf("ihkosctl 0 status: %v\n%s", err, out)
	}
	return string(out)
}

// waitStatus waits up to 20 s for ihkosctl 0 status to say want (and,
// for a verdict, its dump), and returns what it said.
func waitStatus(t *testing.T, in *Instance, want string, dump bool) string {
	t.Helper()
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		last = status(t, in)
		if strings.HasPrefix(last, "status: "+want+"\n") && (!dump || strings.Contains(last, "\nkmsg: ")) {
			return last
		}
	}
	t.Fatalf("ihkosctl 0 status never said %s (with a dump: %v) within 20 s; last:\n%s", want, dump, last)
	return ""
}

// field is the value of "name: value" in a status.
func field(status, name string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	return ""
}

// TestMonitorHang: a daemon that stops beating (SIGSTOP) becomes HUNGUP
// after the timeout, ihkosctl status says so within 2 s all along, the
// monitor dumps it into $GOMCK_DUMPDIR with its kmsg beside the dump and
// nothing running taking part, and the instance is RUNNING again once the
// daemon resumes, its program none the worse.
func TestMonitorHang(t *testing.T) {
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	app := launch(t, in, testprog.MustC(t, "coreme"), "wait")
	pid := startReady(t, app)[0]
	if s := status(t, in); !strings.HasPrefix(s, "status: RUNNING\n") {
		t.Fatalf("status of a booted instance:\n%s", s)
	}
	in.Hangs = true
	if err := syscall.Kill(in.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Cleanup(func() { syscall.Kill(in.PID, syscall.SIGCONT) })
	if s := status(t, in); !strings.HasPrefix(s, "status: HUNGUP\n") {
		t.Errorf("status of a stopped daemon, before the monitor's verdict:\n%s", s)
	}
	s := waitStatus(t, in, "HUNGUP", true)
	if took := time.Since(stopped); took < 3*time.Second {
		t.Errorf("HUNGUP with a dump %v after the stop, before the 3 s timeout", took)
	}
	dump, kmsg := field(s, "dump"), field(s, "kmsg")
	if filepath.Dir(dump) != in.DumpDir || !strings.HasPrefix(filepath.Base(dump), "mcdump_0_") {
		t.Errorf("the hang's dump is %q, want an mcdump_0_TIMESTAMP in %s", dump, in.DumpDir)
	}
	if b, err := os.ReadFile(kmsg); err != nil || !strings.Contains(string(b), "booted") {
		t.Errorf("the hang's kmsg %s: %v\n%s", kmsg, err, b)
	}
	n := 0
	for _, r := range mcps(t, in, "--dump", dump, "-p", pid) {
		if r.TID != 0 {
			n++
		}
	}
	if n != 3 {
		t.Errorf("mcps --dump of the hang's dump: %d threads of pid %s, want 3", n, pid)
	}
	if out, stderr, err := mccrash(t, in, []string{dump}, "ps", "log"); err != nil || strings.Count(out, " coreme-") != 3 || !strings.Contains(out, "booted") {
		t.Errorf("mccrash -c ps -c log on the hang's dump: %v\n%s%s", err, out, stderr)
	}

	syscall.Kill(in.PID, syscall.SIGCONT)
	waitStatus(t, in, "RUNNING", false)
	log, _ := os.ReadFile(control.MonitorLogPath(0))
	for _, want := range []string{"mcos0: HUNGUP: no heartbeat for", "mcos0: RUNNING: resumed"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the monitor's log lacks %q:\n%s", want, log)
		}
	}
	if dumps, _ := filepath.Glob(filepath.Join(in.DumpDir, "mcdump_0_*")); len(dumps) != 2 {
		t.Errorf("one hang left %q in the dump directory, want its dump and kmsg", dirNames(in.DumpDir))
	}
	if r := Run(in.Mcexec("/bin/true"), ""); r.Code != 0 {
		t.Errorf("mcexec /bin/true after the hang: %v", r)
	}
}
