package procview

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/task"
)

// makeTest makes views of a one-CPU, 16 MiB instance in a temporary
// directory.
func makeTest(t *testing.T) (*Views, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "view")
	in := Instance{CPUs: []int{0}, CPUNodes: []int{0}, Procs: task.NewTable(),
		Alloc: mm.NewAllocator(16<<20, nil, func(off, n uint64) {}),
		PGID:  func(p *task.Process) int { return p.PID }, Log: t.Logf}
	v, err := Make(root, in)
	if err != nil {
		t.Fatal(err)
	}
	return v, root
}

// TestResolve checks which paths are views, and the files of those that
// need no process snapshot.
func TestResolve(t *testing.T) {
	v, root := makeTest(t)
	app := &task.Process{PID: 42, Exe: "/bin/true"}
	th := &task.Thread{TID: task.FirstTID, Proc: app}
	app.Threads = []*task.Thread{th}
	for _, tc := range []struct {
		path string
		want string // the file, "" for Linux's path
		data string // what the file holds, if it is one
	}{
		{"/sys/devices/system/cpu/online", root + "/sys/devices/system/cpu/online", "0\n"},
		{"/sys/devices/system/cpu/../cpu/offline", root + "/sys/devices/system/cpu/offline", "\n"},
		{"/sys/devices/system/node/node0/meminfo", root + "/sys/devices/system/node/node0/meminfo",
			string(NodeMeminfo(0, 16<<20, 16<<20))},
		{"/sys/devices/system/node/node0/cpulist", root + "/sys/devices/system/node/node0/cpulist", "0\n"},
		{"/sys/devices/system/memory", "", ""},
		{"/proc/cpuinfo", "", ""},
		{"/proc/1", "", ""},         // not an LWK pid
		{"/proc/self", "", ""},      // the directory: mcexec's
		{"/proc/self/fd/1", "", ""}, // mcexec holds the descriptors
		{"/proc/self/exe", root + "/proc/42/exe", ""},
		{"/proc/self/task/7/stat", root + "/proc/42/task/7", ""}, // no such thread: ENOENT
		{"/proc/thread-self/fd/1", "/proc/42/fd/1", ""},
		{"/etc/passwd", "", ""},
	} {
		got, ok := v.Resolve(th, tc.path)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Resolve(%s) = %q, %v; want %q", tc.path, got, ok, tc.want)
			continue
		}
		if tc.data == "" {
			continue
		}
		b, err := os.ReadFile(got)
		if err != nil || string(b) != tc.data {
			t.Errorf("%s holds %q (%v), want %q", tc.path, b, err, tc.data)
		}
		if fi, err := os.Stat(got); err != nil || fi.Mode().Perm() != 0o444 {
			t.Errorf("%s: mode %v (%v), want read-only", tc.path, fi.Mode(), err)
		}
	}
	if dest, err := os.Readlink(root + "/proc/42/exe"); err != nil || dest != "/bin/true" {
		t.Errorf("exe links to %q (%v)", dest, err)
	}
	v.Forget(app)
	if _, err := os.Stat(root + "/proc/42"); !os.IsNotExist(err) {
		t.Errorf("an ended process's view remains: %v", err)
	}
	v.Remove()
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the view directory remains: %v", err)
	}
}

// TestNilViews: without views every path is Linux's.
func TestNilViews(t *testing.T) {
	var v *Views
	th := &task.Thread{Proc: &task.Process{PID: 42}}
	if got, ok := v.Resolve(th, "/proc/self/stat"); ok {
		t.Errorf("nil views resolve to %q", got)
	}
	v.Forget(th.Proc)
	v.Remove()
}
