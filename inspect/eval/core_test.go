package eval

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gomck/gomck/inspect"
)

// TestEvalCore evaluates on a gcore dump of the target, after the target
// is gone: the same values come from the dump as from the live process.
func TestEvalCore(t *testing.T) {
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		t.Skip("gcore (gdb) not installed")
	}
	tg := startTarget(t)
	prefix := filepath.Join(t.TempDir(), "core")
	pid := tg.cmd.Process.Pid
	if out, err := exec.Command(gcore, "-o", prefix, strconv.Itoa(pid)).CombinedOutput(); err != nil {
		t.Fatalf("gcore: %v\n%s", err, out)
	}
	tg.cmd.Process.Kill()
	tg.cmd.Wait()

	core, err := inspect.OpenCore(prefix + "." + strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ev, err := New(tg.exe, core)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	expectValues(t, ev, evalCases)
}
