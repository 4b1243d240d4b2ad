package lwktest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/internal/testprog"
)

// psRow is one row of mcps --json.
type psRow struct {
	CPU      int    `json:"cpu"`
	Current  bool   `json:"current"`
	Idle     bool   `json:"idle"`
	Changing bool   `json:"changing"`
	TID      int    `json:"tid"`
	PID      int    `json:"pid"`
	PPID     int    `json:"ppid"`
	State    string `json:"state"`
	RSS      uint64 `json:"rss_kib"`
	VSZ      uint64 `json:"vsz_kib"`
	Local    uint64 `json:"syscalls_local"`
	Offload  uint64 `json:"syscalls_offloaded"`
	Syscall  string `json:"syscall"`
	Exe      string `json:"exe"`
}

// inspectee starts testdata/c/inspectee with n blocked readers and waits
// for it to be ready; closing its stdin ends it, which the cleanup does.
func inspectee(t *testing.T, in *Instance, n int) *exec.Cmd {
	t.Helper()
	cmd := in.Mcexec(testprog.MustC(t, "inspectee"), fmt.Sprint(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-ready:
		if line != "ready\n" {
			t.Fatalf("inspectee said %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("inspectee not ready within 30s")
	}
	return cmd
}

// mcps runs mcps --json with args and decodes its rows.
func mcps(t *testing.T, in *Instance, args ...string) []psRow {
	t.Helper()
	var rows []psRow
	runJSON(t, in, &rows, "mcps", args...)
	return rows
}

// checkRows compares mcps's rows of the inspectee with what the daemon
// says of it and with what the program is doing.
func checkRows(t *testing.T, rows []psRow, want control.ProcInfo, readers int) {
	t.Helper()
	var threads []psRow
	for _, r := range rows {
		if r.Changing {
			t.Errorf("row %+v changing: nothing runs, nothing should change", r)
		}
		if r.PID == want.PID {
			threads = append(threads, r)
		}
	}
	if len(threads) != want.Threads || len(threads) != readers+2 {
		t.Fatalf("mcps shows %d threads of pid %d, the daemon %d, the program has %d:\n%+v", len(threads), want.PID, want.Threads, readers+2, rows)
	}
	calls := map[string]int{}
	var local, offload uint64
	for _, r := range threads {
		calls[r.Syscall]++
		local += r.Local
		offload += r.Offload
		if r.State != "S" || r.PPID != want.PPID || r.Exe != want.Exe || r.RSS*1024 != want.RSS || r.VSZ*1024 != want.VSZ {
			t.Errorf("row %+v, daemon says %+v", r, want)
		}
	}
	// Main and the readers wait in read (offloaded), the sleeper in
	// clock_nanosleep (local).
	if calls["read"] != readers+1 || calls["clock_nanosleep"] != 1 {
		t.Errorf("syscalls in progress %v, want %d read and 1 clock_nanosleep", calls, readers+1)
	}
	// The daemon's counters may have moved on since its status answer.
	if local < want.Local || offload < want.Offload || offload == 0 {
		t.Errorf("mcps counts %d local %d offloaded calls, the daemon %d and %d", local, offload, want.Local, want.Offload)
	}
}

// TestInspect runs mcps and mcinspect against a live instance running a
// multi-threaded program, the same instance SIGSTOPped, and a gcore of
// its daemon; and checks that a kernel binary of another build is refused.
func TestInspect(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "128M", "-O")
	const readers = 3
	app := inspectee(t, in, readers)
	st := in.Status()
	if len(st.Processes) != 1 || st.Processes[0].PID != app.Process.Pid {
		t.Fatalf("daemon status lists %+v, want pid %d (mcexec's)", st.Processes, app.Process.Pid)
	}
	want := st.Processes[0]
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", want.StubPID)); err != nil {
		t.Fatalf("stub %d of the app: %v", want.StubPID, err)
	}

	t.Run("live", func(t *testing.T) {
		rows := mcps(t, in)
		checkRows(t, rows, want, readers)
		if len(rows) == 0 || !rows[0].Idle || !rows[0].Current {
			t.Errorf("first row %+v: the CPU runs nothing, want it current as (idle)", rows[0])
		}
		if only := mcps(t, in, "-p", fmt.Sprint(want.PID)); len(only) != readers+2 {
			t.Errorf("mcps -p: %d rows, want %d", len(only), readers+2)
		}
		out, err := in.Cmd("mcps", "-o", "tid,st,exe").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "    TID  ST  EXE\n") && !strings.Contains(string(out), "TID  ST  EXE") {
			t.Errorf("mcps -o tid,st,exe: %v\n%s", err, out)
		}
	})

	t.Run("mcinspect", func(t *testing.T) {
		pid := fmt.Sprint(want.PID)
		var mem struct {
			Free  uint64 `json:"free_pages"`
			Nodes []struct {
				Free uint64 `json:"free_pages"`
			}
		}
		runJSON(t, in, &mem, "mcinspect", "--mem")
		if mem.Free*4096 != st.MemFree || len(mem.Nodes) != len(st.Nodes) {
			t.Errorf("--mem: %+v, daemon: free %d nodes %+v", mem, st.MemFree, st.Nodes)
		}
		var vmas []struct {
			Start, End uint64
			Kind       string
			Segments   []struct{ Len uint64 } `json:"segments"`
		}
		runJSON(t, in, &vmas, "mcinspect", "--maps", "-p", pid)
		var rss uint64
		for _, v := range vmas {
			for _, s := range v.Segments {
				rss += s.Len
			}
		}
		if len(vmas) == 0 || rss != want.RSS {
			t.Fatalf("--maps: %d VMAs, RSS %d, daemon says %d", len(vmas), rss, want.RSS)
		}
		heap := vmas[0]
		for _, v := range vmas {
			if v.Kind == "[heap]" {
				heap = v
			}
		}
		var tr struct {
			Populated bool
			Node      int
			Offset    uint64 `json:"partition_offset"`
		}
		runJSON(t, in, &tr, "mcinspect", "--vtop", "-p", pid, "-v", fmt.Sprintf("%x", heap.Start))
		if !tr.Populated || tr.Node < 0 || tr.Offset%4096 != 0 {
			t.Errorf("--vtop of the heap %#x: %+v", heap.Start, tr)
		}
		if out, err := in.Cmd("mcinspect", "--kmsg").CombinedOutput(); err != nil || !strings.Contains(string(out), "booted") {
			t.Errorf("--kmsg: %v\n%s", err, out)
		}
	})

	t.Run("stopped", func(t *testing.T) {
		if err := syscall.Kill(in.PID, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(in.PID, syscall.SIGCONT) })
		start := time.Now()
		checkRows(t, mcps(t, in), want, readers)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("mcps took %v on a stopped daemon", d)
		}
	})

	t.Run("gcore", func(t *testing.T) {
		if _, err := exec.LookPath("gcore"); err != nil {
			t.Skip("gcore (gdb) not installed: scripts/deps.sh installs it")
		}
		core := filepath.Join(t.TempDir(), "core")
		if out, err := exec.Command("gcore", "-o", core, fmt.Sprint(in.PID)).CombinedOutput(); err != nil {
			t.Fatalf("gcore: %v\n%s", err, out)
		}
		dump := fmt.Sprintf("%s.%d", core, in.PID)
		defer os.Remove(dump)
		checkRows(t, mcps(t, in, "--dump", dump), want, readers)
		// The dump outlives the daemon's files: GOMCK_RUNDIR is not read.
		cmd := in.Cmd("mcinspect", "--dump", dump, "--mem")
		cmd.Env = append(cmd.Env, "GOMCK_RUNDIR=/nonexistent")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "partition") {
			t.Errorf("mcinspect --dump --mem: %v\n%s", err, out)
		}
	})

	t.Run("mismatch", func(t *testing.T) {
		out, err := in.Cmd("mcps", "--kernel", filepath.Join(in.Bin, "mcstop")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "build id mismatch") {
			t.Errorf("mcps with another binary: %v\n%s", err, out)
		}
	})
}

// runJSON runs command --json args and decodes its output into v.
func runJSON(t *testing.T, in *Instance, v any, command string, args ...string) {
	t.Helper()
	cmd := in.Cmd(command, append([]string{"--json"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", command, args, err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%s %v: %v\n%s", command, args, err, out)
	}
}

// TestInspectGone checks that a daemon that died is reported as gone.
func TestInspectGone(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "64M")
	pid := in.PID
	stubs := in.Stubs()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, s := range stubs {
		syscall.Kill(s, syscall.SIGKILL)
	}
	out, err := in.Cmd("mcps").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "daemon is gone") {
		t.Errorf("mcps on a dead daemon: %v\n%s", err, out)
	}
	in.PID = 0 // nothing left to stop: the cleanup only releases the partition
}
