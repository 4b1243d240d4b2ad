package partition

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fakeCgroup emulates a cpuset hierarchy on a plain directory: version 1,
// version 2 with partitions, or version 2 without (partitions false). It
// checks the package's bookkeeping (which groups, which CPUs), not the
// kernel's semantics, which only the root test on a real host exercises.
func fakeCgroup(t *testing.T, version int, partitions bool) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "cpuset")
	fakeCPUs(t, "0-3")
	setVar(t, &isRoot, func() bool { return true })

	// pid 1 is a user task that gets moved, pid 2 (kthreadd) is skipped.
	var files map[string]string
	var mounts string
	if version == 1 {
		mounts = "cgroup " + root + " cgroup rw,nosuid,cpuset 0 0\n"
		files = map[string]string{"cpuset.cpus": "0-3\n", "cpuset.mems": "0\n", "tasks": "1\n2\n", "cgroup.procs": "1\n2\n"}
	} else {
		mounts = "cgroup2 " + root + " cgroup2 rw 0 0\n"
		files = map[string]string{"cgroup.controllers": "cpuset cpu memory\n", "cgroup.subtree_control": "\n",
			"cpuset.cpus.effective": "0-3\n", "cgroup.procs": "1\n2\n"}
	}
	writeFiles(t, root, files)
	writeFiles(t, dir, map[string]string{"mounts": mounts, "cgroup": "3:cpuset:/\n0::/\n"})
	setVar(t, &procSelfMounts, filepath.Join(dir, "mounts"))
	setVar(t, &procSelfCgroup, filepath.Join(dir, "cgroup"))

	setVar(t, &mkdirGroup, func(d string) error {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		names := []string{"cgroup.procs", "cpuset.cpus", "cpuset.mems", "tasks"}
		if version == 2 {
			names = []string{"cgroup.procs", "cpuset.cpus", "cgroup.subtree_control"}
			if partitions {
				writeFiles(t, d, map[string]string{"cpuset.cpus.partition": "member\n"})
			}
		}
		for _, n := range names {
			writeFiles(t, d, map[string]string{n: ""})
		}
		return nil
	})
	// Like cgroupfs: a group with child groups cannot be removed.
	setVar(t, &rmdirGroup, func(d string) error {
		if subs, err := subdirs(d); err != nil {
			return err
		} else if len(subs) > 0 {
			return &os.PathError{Op: "rmdir", Path: d, Err: syscall.EBUSY}
		}
		return os.RemoveAll(d)
	})
	return root
}

func readFake(t *testing.T, path string) string {
	t.Helper()
	s, err := readCgroupFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustIsolate(t *testing.T, name string, cpus ...int) *Isolation {
	t.Helper()
	iso, err := Isolate(name, cpus)
	if err != nil || iso == nil {
		t.Fatalf("Isolate(%s, %v) = %v, %v", name, cpus, iso, err)
	}
	return iso
}

// Two instances on a 4-CPU machine with cgroup v1 or v2 without partitions:
// the Linux group always gets the CPUs no instance owns.
func TestIsolateFakeLinuxGroup(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run("v"+itoa(version), func(t *testing.T) {
			root := fakeCgroup(t, version, false)
			linux := filepath.Join(root, "gomck", "linux")

			a := mustIsolate(t, "a", 2)
			if a.Version != version || a.Partition || a.LinuxDir != linux || a.Moved != 1 {
				t.Errorf("a = %+v; want v%d, Linux group, 1 task moved", a, version)
			}
			if got := readFake(t, filepath.Join(linux, "cpuset.cpus")); got != "0-1,3" {
				t.Errorf("linux CPUs = %q; want 0-1,3", got)
			}
			if got := readFake(t, filepath.Join(a.Dir, "cpuset.cpus")); got != "2" {
				t.Errorf("a CPUs = %q; want 2", got)
			}
			if got := readFake(t, filepath.Join(a.Dir, "cgroup.procs")); got != itoa(os.Getpid()) {
				t.Errorf("a procs = %q; want own pid", got)
			}
			b := mustIsolate(t, "b", 3)
			if got := readFake(t, filepath.Join(linux, "cpuset.cpus")); got != "0-1" {
				t.Errorf("linux CPUs with a and b = %q; want 0-1", got)
			}

			errTests := []struct {
				name string
				cpus []int
				want string
			}{
				{"c", []int{1, 3}, "CPUs 3 already belong to instance b"},
				{"d", []int{0, 1}, "no CPU left for Linux"},
				{"a", []int{1}, "already exists"},
				{"linux", []int{1}, "bad instance name"},
				{"x/y", []int{1}, "bad instance name"},
				{"e", []int{9}, "CPU 9 is not online"},
			}
			for _, tt := range errTests {
				if iso, err := Isolate(tt.name, tt.cpus); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Isolate(%s, %v) = %v, %v; want error %q", tt.name, tt.cpus, iso, err, tt.want)
				}
			}
			// Failed attempts leave the tree as it was.
			if !exists(a.Dir) || !exists(b.Dir) || exists(filepath.Join(root, "gomck", "d")) {
				t.Errorf("a failed Isolate changed the instance groups")
			}
			if got := readFake(t, filepath.Join(linux, "cpuset.cpus")); got != "0-1" {
				t.Errorf("linux CPUs after failures = %q; want 0-1", got)
			}

			if err := a.Release(); err != nil {
				t.Fatal(err)
			}
			if exists(a.Dir) {
				t.Errorf("a's group survives Release")
			}
			if got := readFake(t, filepath.Join(linux, "cpuset.cpus")); got != "0-2" {
				t.Errorf("linux CPUs with b only = %q; want 0-2", got)
			}
			if err := a.Release(); err != nil {
				t.Errorf("second Release = %v", err)
			}
			// b's daemon "died": ReleaseStale cleans up everything.
			if err := ReleaseStale("b"); err != nil {
				t.Fatal(err)
			}
			if exists(filepath.Join(root, "gomck")) {
				t.Errorf("gomck/ survives the last release")
			}
			if err := ReleaseStale("b"); err != nil {
				t.Errorf("ReleaseStale of nothing = %v", err)
			}
		})
	}
}

func TestIsolateFakePartition(t *testing.T) {
	root := fakeCgroup(t, 2, true)
	base := filepath.Join(root, "gomck")

	a := mustIsolate(t, "a", 2)
	if !a.Partition || a.LinuxDir != "" || exists(filepath.Join(base, "linux")) {
		t.Errorf("a = %+v; want partition mode without a Linux group", a)
	}
	checks := func(step string, want map[string]string) {
		t.Helper()
		for f, w := range want {
			if got := readFake(t, filepath.Join(root, f)); got != w {
				t.Errorf("%s: %s = %q; want %q", step, f, got, w)
			}
		}
	}
	checks("a", map[string]string{
		"cgroup.subtree_control":        "+cpuset",
		"gomck/cpuset.cpus":             "2",
		"gomck/cpuset.cpus.partition":   "root",
		"gomck/cgroup.subtree_control":  "+cpuset",
		"gomck/a/cpuset.cpus":           "2",
		"gomck/a/cpuset.cpus.partition": "isolated",
		"gomck/a/cgroup.procs":          itoa(os.Getpid()),
	})
	b := mustIsolate(t, "b", 0, 3)
	checks("a+b", map[string]string{"gomck/cpuset.cpus": "0,2-3", "gomck/b/cpuset.cpus": "0,3"})
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	checks("b", map[string]string{"gomck/cpuset.cpus": "0,3"})
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if exists(base) {
		t.Errorf("gomck/ survives the last release")
	}
}

// Without partition support a fresh v2 tree falls back to a Linux group.
func TestIsolateFakeNoPartition(t *testing.T) {
	root := fakeCgroup(t, 2, false)
	a := mustIsolate(t, "a", 1)
	defer a.Release()
	if a.Partition || a.LinuxDir == "" || !strings.Contains(a.Note, "partitions unavailable") {
		t.Errorf("a = %+v; want the Linux group fallback, explained in Note", a)
	}
	if got := readFake(t, filepath.Join(root, "gomck", "linux", "cpuset.cpus")); got != "0,2-3" {
		t.Errorf("linux CPUs = %q; want 0,2-3", got)
	}
}

func TestIsolateNotRoot(t *testing.T) {
	setVar(t, &isRoot, func() bool { return false })
	iso, err := Isolate("a", []int{1})
	if iso != nil || err != nil {
		t.Errorf("Isolate as non-root = %v, %v; want nil, nil", iso, err)
	}
	if err := iso.Release(); err != nil {
		t.Errorf("nil Release = %v", err)
	}
	if err := ReleaseStale("a"); err != nil {
		t.Errorf("ReleaseStale as non-root = %v", err)
	}
}

func TestIsolateNoCpuset(t *testing.T) {
	dir := t.TempDir()
	setVar(t, &isRoot, func() bool { return true })
	fakeCPUs(t, "0-1")
	writeFiles(t, dir, map[string]string{
		"mounts":                   "cgroup2 " + dir + "/u cgroup2 rw 0 0\n",
		"u/cgroup.controllers":     "cpu memory\n",
		"u/cgroup.subtree_control": "\n",
	})
	setVar(t, &procSelfMounts, filepath.Join(dir, "mounts"))
	iso, err := Isolate("a", []int{1})
	if iso != nil || err != nil {
		t.Errorf("Isolate without cpuset = %v, %v; want nil, nil", iso, err)
	}
}

func TestRmdirRetryReportsTasks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"g/cgroup.procs": "42\n43\n"})
	setVar(t, &rmdirGroup, func(d string) error {
		if !exists(d) {
			return &os.PathError{Op: "rmdir", Path: d, Err: syscall.ENOENT}
		}
		return &os.PathError{Op: "rmdir", Path: d, Err: syscall.ENOTEMPTY}
	})
	err := rmdirRetry(filepath.Join(dir, "g"))
	if err == nil || !errors.Is(err, syscall.ENOTEMPTY) || !strings.Contains(err.Error(), "tasks left: 42,43") {
		t.Errorf("rmdirRetry = %v", err)
	}
	if err := rmdirRetry(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("rmdirRetry of a missing group = %v", err)
	}
}
