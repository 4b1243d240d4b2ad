package partition

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cpusAllowed returns Cpus_allowed_list of a process (its main thread).
func cpusAllowed(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list for %d", pid)
	return ""
}

// TestIsolateHost isolates the last online CPU on the real machine and
// checks that a Linux task started before is kept off it and gets it back.
func TestIsolateHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	online, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(online) < 2 {
		t.Skip("needs two online CPUs")
	}
	if _, ok, err := findCpuset(); err != nil || !ok {
		t.Skipf("no cpuset hierarchy (%v)", err)
	}
	const name = "gomck-test"
	if err := ReleaseStale(name); err != nil { // a previous run that crashed
		t.Fatal(err)
	}
	lwk := online[len(online)-1]
	linuxCPUs := FormatCPUList(online[:len(online)-1])

	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		child.Process.Kill()
		child.Wait()
	})
	childBefore := cpusAllowed(t, child.Process.Pid)
	selfBefore := cpusAllowed(t, os.Getpid())

	iso, err := Isolate(name, []int{lwk})
	if err != nil {
		t.Fatal(err)
	}
	if iso == nil {
		t.Fatal("Isolate returned nil as root with a cpuset hierarchy")
	}
	t.Cleanup(func() {
		if err := iso.Release(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("%s (v%d, %s)", iso.Note, iso.Version, iso.Dir)

	if got := cpusAllowed(t, child.Process.Pid); got != linuxCPUs {
		t.Errorf("isolated: child may run on CPUs %s; want %s", got, linuxCPUs)
	}
	if got := cpusAllowed(t, os.Getpid()); got != itoa(lwk) {
		t.Errorf("isolated: own process may run on CPUs %s; want %d", got, lwk)
	}
	if !iso.Partition && iso.Moved == 0 {
		t.Errorf("Moved = 0; the sleep child at least should have moved")
	}

	if err := iso.Release(); err != nil {
		t.Fatal(err)
	}
	if got := cpusAllowed(t, child.Process.Pid); got != childBefore {
		t.Errorf("released: child may run on CPUs %s; want %s again", got, childBefore)
	}
	if got := cpusAllowed(t, os.Getpid()); got != selfBefore {
		t.Errorf("released: own process may run on CPUs %s; want %s again", got, selfBefore)
	}
	if exists(iso.Dir) || exists(filepath.Join(iso.Root, baseGroup)) {
		t.Errorf("cpuset groups survive Release")
	}
	if err := iso.Release(); err != nil {
		t.Errorf("second Release = %v", err)
	}
}
