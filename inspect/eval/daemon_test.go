package eval

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/inspect"
	"github.com/gomck/gomck/internal/lwktest"
)

// TestEvalDaemon evaluates on a booted gomck daemon, read live while its
// CPU runs: the state kernel.Instance holds matches how it was booted.
func TestEvalDaemon(t *testing.T) {
	cpu := lwktest.LWKCPU(t)
	in := lwktest.Boot(t, "-c", strconv.Itoa(cpu), "-m", "256M", "-O")
	start := time.Now()
	ev, err := New(filepath.Join(in.Bin, "mckernel"), &inspect.Live{PID: in.PID})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	t.Logf("loaded the daemon's debug info in %v", time.Since(start))
	expectValues(t, ev, []evalCase{
		{"kernel.Instance.State", `"RUNNING"`},
		{"kernel.Instance.Index", "0"},
		{"len(kernel.Instance.CPUs)", "1"},
		{"kernel.Instance.Config.CPUs[0]", strconv.Itoa(cpu)},
		{"kernel.Instance.Alloc.Pages * 4096", strconv.Itoa(256 << 20)},
		{"kernel.Instance.Alloc.Free <= kernel.Instance.Alloc.Pages", "true"},
		{"len(kernel.Instance.Procs.Procs)", "0"},
		{"string(kernel.Instance.Kmsg.Buf[:5])", `"[    "`},
	})
	start = time.Now()
	s := mustEval(t, ev, "*kernel.Instance", true)
	t.Logf("*kernel.Instance in %v:\n%s", time.Since(start), s)
	if strings.Contains(s, "unreadable") {
		t.Errorf("*kernel.Instance has unreadable parts:\n%s", s)
	}
}
