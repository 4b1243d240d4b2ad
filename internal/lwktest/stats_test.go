package lwktest

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

// TestCounters runs a program that makes known numbers of local and
// offloaded calls and checks the kernel's counters (kernel/stats) as mcps
// shows them per thread, and the instance's totals once it has ended.
func TestCounters(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	const local, offloaded = 5000, 300
	// Start-up (the loader, libc) makes some calls of both kinds too.
	const slack = 200
	cmd := launch(t, in, testprog.MustC(t, "counters"), fmt.Sprint(local), fmt.Sprint(offloaded))
	startReady(t, cmd)
	var rows []struct {
		TID        int    `json:"tid"`
		Local      uint64 `json:"syscalls_local"`
		Offload    uint64 `json:"syscalls_offloaded"`
		Faults     uint64 `json:"page_faults"`
		Switches   uint64 `json:"context_switches"`
		Migrations uint64 `json:"migrations"`
	}
	pid := fmt.Sprint(cmd.Process.Pid)
	runJSON(t, in, &rows, "mcps", "-p", pid, "-o", "tid,local,offload,minfl,csw,migr")
	if len(rows) != 1 {
		t.Fatalf("mcps -p %s: %d rows, want the one thread: %+v", pid, len(rows), rows)
	}
	r := rows[0]
	if r.Local < local || r.Local > local+slack || r.Offload < offloaded || r.Offload > offloaded+slack {
		t.Errorf("mcps counts %d local and %d offloaded calls, the program made %d and %d (+ up to %d at start-up)",
			r.Local, r.Offload, local, offloaded, slack)
	}
	if r.Switches == 0 || r.Migrations != 0 {
		t.Errorf("thread picked %d times and migrated %d times on a one-CPU instance", r.Switches, r.Migrations)
	}
	number := func(expr string) uint64 {
		t.Helper()
		n, err := strconv.ParseUint(printed(t, in, expr), 10, 64)
		if err != nil {
			t.Fatalf("--print %s: %v", expr, err)
		}
		return n
	}
	if n := number("kernel.Instance.Stats.Processes"); n != 1 {
		t.Errorf("instance counts %d processes created, want 1", n)
	}
	if n := number("kernel.Instance.CPUs[0].Stats.LocalCalls"); n < r.Local {
		t.Errorf("cpu 0 counts %d local calls, its one thread %d", n, r.Local)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	// The ended thread's counts stay in the instance's totals.
	deadline := time.Now().Add(10 * time.Second)
	for number("len(kernel.Instance.Procs.Procs)") != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := number("kernel.Instance.Stats.Ended.LocalCalls"); n < r.Local {
		t.Errorf("after the end, the instance's totals hold %d local calls, the thread had %d", n, r.Local)
	}
	if n := number("kernel.Instance.Stats.Ended.Offloaded[1].Calls"); n < offloaded {
		t.Errorf("after the end, the instance's totals hold %d writes, the program made %d", n, offloaded)
	}

	// ihkosctl N counting off stops the syscall counters, on restarts them.
	idx := fmt.Sprint(in.Index)
	ended := func() uint64 { return number("kernel.Instance.Stats.Ended.Local[39].Calls") }
	for _, tc := range []struct {
		counting string
		status   bool // "counting: off" in ihkosctl N status
		counted  uint64
	}{{"off", true, 0}, {"on", false, local}} {
		if res := Run(in.Cmd("ihkosctl", idx, "counting", tc.counting), ""); res.Code != 0 {
			t.Fatalf("ihkosctl %s counting %s: %v", idx, tc.counting, res)
		}
		res := Run(in.Cmd("ihkosctl", idx, "status"), "")
		if strings.Contains(res.Stdout, "counting: off") != tc.status {
			t.Errorf("counting %s, ihkosctl status:\n%s", tc.counting, res.Stdout)
		}
		before := ended()
		if res := Run(in.Mcexec(testprog.MustC(t, "profile"), fmt.Sprint(local), "0", "0", "0"), ""); res.Code != 3 {
			t.Fatalf("profile: %v", res)
		}
		if n := ended() - before; n != tc.counted {
			t.Errorf("counting %s: %d getpid calls counted, want %d", tc.counting, n, tc.counted)
		}
	}
}
