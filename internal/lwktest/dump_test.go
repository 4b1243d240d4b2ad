package lwktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

// TestDump takes kernel dumps (ihkosctl N dump) of an instance running a
// program with threads blocked in a local futex and in offloaded reads,
// at both levels, of the daemon running and SIGSTOPped, and reads them
// with mcps and mcinspect, as the live daemon: the same threads and
// states, the same kmsg; the app's bytes at level 0 only. The dumps are
// read again once the instance is gone.
func TestDump(t *testing.T) {
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	app := launch(t, in, testprog.MustC(t, "coreme"), "wait")
	said := startReady(t, app)
	pid := said[0]
	live := mcps(t, in, "-p", pid)
	dir := t.TempDir()
	dump := func(args ...string) string {
		t.Helper()
		cmd := in.Cmd("ihkosctl", append([]string{"0", "dump"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ihkosctl 0 dump %v: %v\n%s", args, err, out)
		}
		if !strings.Contains(string(out), "3 threads") {
			t.Errorf("ihkosctl 0 dump %v said %q, want the app's 3 threads counted", args, out)
		}
		return string(out)
	}
	dump()
	d24, _ := filepath.Glob(filepath.Join(dir, "mcdump_0_*"))
	if len(d24) != 1 {
		t.Fatalf("ihkosctl 0 dump left %q in its cwd, want one mcdump_0_TIMESTAMP", dirNames(dir))
	}
	d0 := filepath.Join(dir, "level0")
	dump("-d", "0", d0)
	stopped := filepath.Join(dir, "stopped")
	in.Hangs = true
	syscall.Kill(in.PID, syscall.SIGSTOP)
	dump(stopped)
	syscall.Kill(in.PID, syscall.SIGCONT)

	threads := func(rows []psRow) []string {
		var out []string
		for _, r := range rows {
			if r.TID != 0 {
				out = append(out, strconv.Itoa(r.TID)+" "+r.State+" "+r.Syscall)
			}
		}
		slices.Sort(out)
		return out
	}
	want := threads(live)
	check := func(name string) {
		t.Helper()
		for _, d := range []string{d24[0], d0, stopped} {
			if got := threads(mcps(t, in, "--dump", d, "-p", pid)); !slices.Equal(got, want) {
				t.Errorf("%s: mcps --dump %s: threads %q, live %q", name, filepath.Base(d), got, want)
			}
			out, err := in.Cmd("mcinspect", "--dump", d, "--kmsg").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "booted") {
				t.Errorf("%s: mcinspect --dump %s --kmsg: %v\n%s", name, filepath.Base(d), err, out)
			}
		}
		read := func(d string) (string, error) {
			out, err := in.Cmd("mcinspect", "--dump", d, "--read", "-p", pid, "-v", "400000", "-n", "16").CombinedOutput()
			return string(out), err
		}
		if out, err := read(d0); err != nil || !strings.Contains(out, ".ELF") {
			t.Errorf("%s: the app's ELF header from the level 0 dump: %v\n%s", name, err, out)
		}
		if out, err := read(d24[0]); err == nil || !strings.Contains(out, "not in the dump") {
			t.Errorf("%s: the app's memory from a level 24 dump: %v\n%s, want refused", name, err, out)
		}
	}
	check("with the instance")
	out, err := exec.Command("readelf", "-h", d0).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CORE (Core file)") {
		t.Errorf("readelf -h of a dump: %v\n%s", err, out)
	}
	// A dump cut short is refused, naming where.
	whole, _ := os.ReadFile(d0)
	cut := filepath.Join(dir, "cut")
	os.WriteFile(cut, whole[:len(whole)/2], 0o600)
	if out, err := in.Cmd("mcps", "--dump", cut).CombinedOutput(); err == nil || !strings.Contains(string(out), "offset") {
		t.Errorf("mcps on a truncated dump: %v\n%s, want refused with the offset", err, out)
	}
	app.Process.Kill()
	app.Wait()
	in.Stop()
	check("after mcstop")
	otherMachine(t, in, d24[0])
}

// otherMachine opens dump as on a machine where the daemon's binary is
// not where it ran: mcps finds the mckernel of the dump's build beside
// itself, and refuses, naming the build, one of another build there.
func otherMachine(t *testing.T, in *Instance, dump string) {
	ran := filepath.Join(in.Bin, "mckernel")
	if err := os.Rename(ran, ran+".away"); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(ran+".away", ran)
	there := t.TempDir()
	for name, from := range map[string]string{"mcps": "mcps", "mckernel": "mckernel.away"} {
		b, err := os.ReadFile(filepath.Join(in.Bin, from))
		if err != nil || os.WriteFile(filepath.Join(there, name), b, 0o755) != nil {
			t.Fatalf("copy %s: %v", from, err)
		}
	}
	mcps := func() (string, error) {
		out, err := exec.Command(filepath.Join(there, "mcps"), "--dump", dump).CombinedOutput()
		return string(out), err
	}
	if out, err := mcps(); err != nil || !strings.Contains(out, "coreme") {
		t.Errorf("mcps --dump with the dump's mckernel beside it, not where it ran: %v\n%s", err, out)
	}
	other, _ := os.ReadFile(filepath.Join(in.Bin, "mcstop"))
	os.WriteFile(filepath.Join(there, "mckernel"), other, 0o755)
	if out, err := mcps(); err == nil || !strings.Contains(out, "no binary of that build") {
		t.Errorf("mcps --dump with an mckernel of another build beside it: %v\n%s, want refused by build", err, out)
	}
}

// TestDumpOnPanic: an LWK that panics (ihkosctl N panic, its sysrq-c)
// dumps itself into $GOMCK_DUMPDIR before it ends, with the app's threads
// and the panic in its kmsg; the app's mcexec ends with an error, it does
// not hang. The monitor marks the instance PANIC, names the dump in
// ihkosctl status and writes its kmsg beside it; mcstop clears it.
func TestDumpOnPanic(t *testing.T) {
	dumps := t.TempDir()
	t.Setenv("GOMCK_DUMPDIR", dumps)
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	app := in.Mcexec(testprog.MustC(t, "coreme"), "wait")
	stdin, err := app.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr strings.Builder
	app.Stderr = &stderr
	pid := startReady(t, app)[0]
	if out, err := in.Cmd("ihkosctl", "0", "panic").CombinedOutput(); err != nil {
		t.Fatalf("ihkosctl 0 panic: %v\n%s", err, out)
	}
	ended := make(chan error, 1)
	go func() { ended <- app.Wait() }()
	select {
	case err := <-ended:
		if err == nil || !strings.Contains(stderr.String(), "went away") {
			t.Errorf("mcexec of the panicked LWK: %v, stderr %q; want a failure that says so", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		app.Process.Kill()
		t.Fatal("mcexec of the panicked LWK did not end within 30 s")
	}
	waitFor(t, func() bool { return syscall.Kill(in.PID, 0) != nil })
	in.PID = 0 // gone: the cleanup only releases what it left
	st := waitStatus(t, in, "PANIC", true)
	if field(st, "reason") != "cpu 0: ihkosctl panic" {
		t.Errorf("status of the panicked instance:\n%s", st)
	}
	found, _ := filepath.Glob(filepath.Join(dumps, "mcdump_0_*"))
	if len(found) != 2 || found[0] != field(st, "dump") || found[1] != found[0]+".kmsg" {
		t.Fatalf("the panic left %q in GOMCK_DUMPDIR, want the mcdump_0_TIMESTAMP and .kmsg that status names:\n%s", dirNames(dumps), st)
	}
	if b, err := os.ReadFile(found[1]); err != nil || !strings.Contains(string(b), "panic: cpu 0: ihkosctl panic") {
		t.Errorf("the panic's kmsg file: %v\n%s", err, b)
	}
	n := 0
	for _, r := range mcps(t, in, "--dump", found[0], "-p", pid) {
		if r.TID != 0 {
			n++
		}
	}
	if n != 3 {
		t.Errorf("mcps --dump of the panic dump: %d threads of pid %s, want 3", n, pid)
	}
	out, err := in.Cmd("mcinspect", "--dump", found[0], "--kmsg").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "panic: cpu 0: ihkosctl panic") {
		t.Errorf("mcinspect --kmsg of the panic dump: %v\n%s", err, out)
	}
	if out, err := in.Cmd("mcstop").CombinedOutput(); err != nil {
		t.Errorf("mcstop of the panicked instance: %v\n%s", err, out)
	}
	if out, err := in.Cmd("ihkosctl", "0", "status").CombinedOutput(); err == nil {
		t.Errorf("status after mcstop of the panicked instance succeeded:\n%s", out)
	}
	// The dump outlives a reboot of the instance, and mccrash reads it.
	in.reboot("-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	if out, stderr, err := mccrash(t, in, []string{found[0]}, "ps", "log"); err != nil ||
		strings.Count(out, " coreme-") != 3 || !strings.Contains(out, "panic: cpu 0: ihkosctl panic") {
		t.Errorf("mccrash -c ps -c log on the panic's dump after a reboot: %v\n%s%s", err, out, stderr)
	}
}
