package lwktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
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
	Time     uint64 `json:"time_ns"`
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

// workload is what inspectee is asked to run: readers threads blocked in
// an offloaded read, waiters blocked in a futex (local), heapMiB of heap
// touched by main; besides main and a sleeper in nanosleep.
type workload struct{ readers, heapMiB, waiters int }

func (w workload) threads() int { return w.readers + w.waiters + 2 }

// inspectee starts testdata/c/inspectee running w and waits for it to be
// ready; closing its stdin ends it, which the cleanup does.
func inspectee(t *testing.T, in *Instance, w workload) *exec.Cmd {
	t.Helper()
	cmd := launch(t, in, testprog.MustC(t, "inspectee"), fmt.Sprint(w.readers), fmt.Sprint(w.heapMiB), fmt.Sprint(w.waiters))
	startReady(t, cmd)
	return cmd
}

// startReady starts cmd (from launch) and waits for its "ready" line,
// returning the words that follow it.
func startReady(t *testing.T, cmd *exec.Cmd) []string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	said, err := testprog.WaitReadySaying(out, 60*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(cmd.Args[len(cmd.Args)-1]), err)
	}
	return said
}

// gcoreOf takes a gcore of the instance's daemon and returns its path;
// it skips the test without gdb's gcore.
func gcoreOf(t *testing.T, in *Instance) string {
	t.Helper()
	if _, err := exec.LookPath("gcore"); err != nil {
		t.Skip("gcore (gdb) not installed: scripts/deps.sh installs it")
	}
	// gdb stops the daemon while it writes the core, which can take
	// longer than the monitor's 3 s on a loaded machine.
	in.Hangs = true
	core := filepath.Join(t.TempDir(), "core")
	if out, err := exec.Command("gcore", "-o", core, fmt.Sprint(in.PID)).CombinedOutput(); err != nil {
		t.Fatalf("gcore: %v\n%s", err, out)
	}
	return fmt.Sprintf("%s.%d", core, in.PID)
}

// launch prepares args under mcexec, to be started by the caller; the
// cleanup closes its stdin and kills it if it has not ended 10 s later.
func launch(t *testing.T, in *Instance, args ...string) *exec.Cmd {
	t.Helper()
	cmd := in.Mcexec(args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if cmd.Process == nil {
			return
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
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
func checkRows(t *testing.T, rows []psRow, want control.ProcInfo, w workload) {
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
	if len(threads) != want.Threads || len(threads) != w.threads() {
		t.Fatalf("mcps shows %d threads of pid %d, the daemon %d, the program has %d", len(threads), want.PID, want.Threads, w.threads())
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
	// clock_nanosleep and the waiters in futex (local).
	wantCalls := map[string]int{"read": w.readers + 1, "clock_nanosleep": 1, "futex": w.waiters}
	for call, n := range wantCalls {
		if calls[call] != n {
			t.Errorf("syscalls in progress %v, want %v", calls, wantCalls)
			break
		}
	}
	// The daemon's counters may have moved on since its status answer.
	if local < want.Local || offload < want.Offload || offload == 0 {
		t.Errorf("mcps counts %d local %d offloaded calls, the daemon %d and %d", local, offload, want.Local, want.Offload)
	}
	if want.RSS < uint64(w.heapMiB)<<20 {
		t.Errorf("RSS %d below the %d MiB heap the program touched", want.RSS, w.heapMiB)
	}
}

// checkIKC compares the IKC slots that mcinspect shows of pid with the
// threads that mcps shows in an offloaded read: each has its request in
// the channel, taken by a worker or waiting for one.
func checkIKC(t *testing.T, in *Instance, pid int, rows []psRow) {
	t.Helper()
	var snap struct {
		Processes []struct {
			PID int
			IKC *struct {
				Queued []struct {
					TID         int
					Name, State string
					Changing    bool
				}
			}
		}
	}
	runJSON(t, in, &snap, "mcinspect", "--threads")
	want, got := map[int]bool{}, map[int]bool{}
	for _, r := range rows {
		if r.PID == pid && r.Syscall == "read" {
			want[r.TID] = true
		}
	}
	for _, p := range snap.Processes {
		if p.PID != pid || p.IKC == nil {
			continue
		}
		for _, q := range p.IKC.Queued {
			if q.Name != "read" || q.State != "taken" && q.State != "posted" || q.Changing {
				t.Errorf("IKC slot %+v, want a blocked read", q)
			}
			got[q.TID] = true
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("IKC requests of threads %v, mcps shows threads %v in read", got, want)
	}
}

// vmaJSON is one VMA of mcinspect --maps --json.
type vmaJSON struct {
	Start, End uint64
	Kind       string
	Segments   []struct {
		VA, Len uint64
		Off     uint64 `json:"partition_offset"`
	} `json:"segments"`
}

// checkStub compares what mcinspect says of a process with Linux's /proc
// of its stub and its mcexec: every page-table segment is mapped in the
// stub at its partition offset (the LWK maps populated memory into the
// stub, MAP_SHARED from the partition memfd, ARCHITECTURE.md §2); the
// stub has one thread per LWK CPU the process's threads are on; the
// LWK pid is mcexec's, with mcexec's parent.
func checkStub(t *testing.T, in *Instance, want control.ProcInfo, rows []psRow) {
	t.Helper()
	var vmas []vmaJSON
	runJSON(t, in, &vmas, "mcinspect", "--maps", "-p", fmt.Sprint(want.PID))
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", want.StubPID))
	if err != nil {
		t.Fatalf("stub of pid %d: %v", want.PID, err)
	}
	type mapping struct{ start, end, off uint64 }
	var memfd []mapping
	for line := range strings.Lines(string(maps)) {
		var m mapping
		if _, err := fmt.Sscanf(line, "%x-%x %s %x", &m.start, &m.end, new(string), &m.off); err == nil && strings.Contains(line, "memfd:gomck") {
			memfd = append(memfd, m)
		}
	}
	var rss uint64
	for _, v := range vmas {
		for _, sg := range v.Segments {
			rss += sg.Len
			if !slices.ContainsFunc(memfd, func(m mapping) bool {
				return m.start <= sg.VA && sg.VA+sg.Len <= m.end && m.off+sg.VA-m.start == sg.Off
			}) {
				t.Errorf("segment %#x+%#x at partition offset %#x of %s VMA %#x-%#x not mapped in stub %d:\n%s", sg.VA, sg.Len, sg.Off, v.Kind, v.Start, v.End, want.StubPID, maps)
				return
			}
		}
	}
	if rss != want.RSS {
		t.Errorf("--maps segments add up to %d bytes, the daemon says RSS %d", rss, want.RSS)
	}
	cpus := map[int]bool{}
	for _, r := range rows {
		if r.PID == want.PID {
			cpus[r.CPU] = true
		}
	}
	if n := procField(t, want.StubPID, "Threads"); n != fmt.Sprint(len(cpus)) {
		t.Errorf("stub %d has %s threads, mcps shows the process on %d CPUs", want.StubPID, n, len(cpus))
	}
	if ppid := procField(t, want.PID, "PPid"); ppid != fmt.Sprint(want.PPID) {
		t.Errorf("mcexec %d has parent %s, the LWK process %d", want.PID, ppid, want.PPID)
	}
}

// procField is a field of /proc/pid/status.
func procField(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return ""
}

// onlyProcess returns the daemon's status and its record of the one
// process it runs, which must be app's.
func onlyProcess(t *testing.T, in *Instance, app *exec.Cmd) (control.Status, control.ProcInfo) {
	t.Helper()
	st := in.Status()
	if len(st.Processes) != 1 || st.Processes[0].PID != app.Process.Pid {
		t.Fatalf("daemon status lists %+v, want pid %d (mcexec's)", st.Processes, app.Process.Pid)
	}
	return st, st.Processes[0]
}

// printed runs mcinspect --print expr and returns its output.
func printed(t *testing.T, in *Instance, expr string) string {
	t.Helper()
	out, err := in.Cmd("mcinspect", "--print", expr).CombinedOutput()
	if err != nil {
		t.Fatalf("mcinspect --print %s: %v\n%s", expr, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestInspect runs mcps and mcinspect against a live instance running a
// multi-threaded program with threads blocked in an offloaded read and a
// 256 MiB heap, the same instance SIGSTOPped, and a gcore of its daemon;
// and checks that a kernel binary of another build is refused.
func TestInspect(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "512M", "-O")
	w := workload{readers: 3, heapMiB: 256}
	app := inspectee(t, in, w)
	st, want := onlyProcess(t, in, app)

	t.Run("live", func(t *testing.T) {
		rows := mcps(t, in)
		checkRows(t, rows, want, w)
		checkStub(t, in, want, rows)
		checkIKC(t, in, want.PID, rows)
		if len(rows) == 0 || !rows[0].Idle || !rows[0].Current {
			t.Errorf("first row %+v: the CPU runs nothing, want it current as (idle)", rows[0])
		}
		if only := mcps(t, in, "-p", fmt.Sprint(want.PID)); len(only) != w.threads() {
			t.Errorf("mcps -p: %d rows, want %d", len(only), w.threads())
		}
		out, err := in.Cmd("mcps", "-o", "tid,st,exe").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "TID  ST  EXE") {
			t.Errorf("mcps -o tid,st,exe: %v\n%s", err, out)
		}
		// top -b style: one process, three tables.
		out, err = in.Cmd("mcps", "-d", "0.05", "-n", "3", "-o", "tid,st,exe").CombinedOutput()
		if n := strings.Count(string(out), "TID  ST  EXE"); err != nil || n != 3 {
			t.Errorf("mcps -d 0.05 -n 3: %d tables, %v\n%s", n, err, out)
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
		var vmas []vmaJSON
		runJSON(t, in, &vmas, "mcinspect", "--maps", "-p", pid)
		heap := vmas[0]
		for _, v := range vmas {
			if v.End-v.Start > heap.End-heap.Start {
				heap = v // the 256 MiB one
			}
		}
		var tr struct {
			Populated bool
			Node      int
			Offset    uint64 `json:"partition_offset"`
		}
		runJSON(t, in, &tr, "mcinspect", "--vtop", "-p", pid, "-v", fmt.Sprintf("%x", heap.Start+128<<20))
		if !tr.Populated || tr.Node < 0 || tr.Offset%4096 != 0 {
			t.Errorf("--vtop of the heap %#x: %+v", heap.Start, tr)
		}
		if out, err := in.Cmd("mcinspect", "--kmsg").CombinedOutput(); err != nil || !strings.Contains(string(out), "booted") {
			t.Errorf("--kmsg: %v\n%s", err, out)
		}
	})

	t.Run("print", func(t *testing.T) {
		for _, tc := range []struct{ expr, want string }{
			{"len(kernel.Instance.CPUs)", fmt.Sprint(len(st.CPUs))},
			{"kernel.Instance.State", `"RUNNING"`},
			{"len(kernel.Instance.Procs.Procs)", "1"},
			{"kernel.Instance.Procs.Procs[0].PID", fmt.Sprint(want.PID)},
			{"len(kernel.Instance.Procs.Procs[0].Threads)", fmt.Sprint(want.Threads)},
		} {
			if got := printed(t, in, tc.expr); got != tc.want {
				t.Errorf("--print %s = %s, want %s", tc.expr, got, tc.want)
			}
		}
		var v struct {
			Type     string
			Kind     string
			Children []struct{ Name string }
		}
		runJSON(t, in, &v, "mcinspect", "--print", "*kernel.Instance.CPUs[0]")
		if v.Kind != "struct" || len(v.Children) == 0 {
			t.Errorf("--json --print of a CPU record: %+v", v)
		}
	})

	t.Run("stopped", func(t *testing.T) {
		in.Hangs = true
		if err := syscall.Kill(in.PID, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(in.PID, syscall.SIGCONT) })
		start := time.Now()
		rows := mcps(t, in)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("mcps took %v on a stopped daemon", d)
		}
		checkRows(t, rows, want, w)
		checkStub(t, in, want, rows)
		if got := printed(t, in, "kernel.Instance.Procs.Procs[0].PID"); got != fmt.Sprint(want.PID) {
			t.Errorf("--print of the pid on a stopped daemon: %s", got)
		}
	})

	t.Run("gcore", func(t *testing.T) {
		dump := gcoreOf(t, in)
		defer os.Remove(dump)
		checkRows(t, mcps(t, in, "--dump", dump), want, w)
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

// TestInspectManyThreads runs mcps and mcinspect on an LWK with over a
// thousand threads: 4 processes of 251 (a process may have as many as it
// has IKC slots, ikc.SlotCount), blocked in futex waits, an offloaded
// read and a sleep.
func TestInspectManyThreads(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "512M", "-O")
	w := workload{readers: 1, heapMiB: 1, waiters: 248}
	const procs = 4
	for range procs {
		inspectee(t, in, w)
	}
	st := in.Status()
	if len(st.Processes) != procs {
		t.Fatalf("daemon runs %d processes, want %d", len(st.Processes), procs)
	}
	mcps(t, in) // loads the layout cache
	start := time.Now()
	rows := mcps(t, in)
	d := time.Since(start)
	t.Logf("mcps of %d rows took %v", len(rows), d)
	// The bench holds the target (50 ms); this only catches a collapse.
	if d > 2*time.Second {
		t.Errorf("mcps of %d threads took %v", procs*w.threads(), d)
	}
	if len(rows) < 1000 {
		t.Errorf("mcps listed %d rows, want over 1,000", len(rows))
	}
	for _, want := range st.Processes {
		checkRows(t, rows, want, w)
	}
	var snap struct {
		Processes []struct {
			PID     int
			Threads []struct{ TID int }
		}
	}
	runJSON(t, in, &snap, "mcinspect", "--threads")
	n := 0
	for _, p := range snap.Processes {
		n += len(p.Threads)
	}
	if n != procs*w.threads() {
		t.Errorf("mcinspect --threads: %d threads, want %d", n, procs*w.threads())
	}
}

// TestInspectBusy checks that mcps tells the truth while the LWK is at
// its busiest: a getpid loop changes its thread record (sequence counter,
// syscall, counters) every few microseconds, and a spinning program
// shares the CPU with it by time slices, so the CPU's current thread and
// run queue change too. mcps runs on a Linux CPU, truly in parallel with
// the writer, which is what tears a read. Then the daemon is stopped
// and continued over and over, which sooner or later stops a writer
// inside a record (odd counter): that record must show as changing, not
// half-written. Every row must be consistent or marked changing.
func TestInspectBusy(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	loop := launch(t, in, testprog.MustC(t, "getpid_loop"), "1000000000")
	spin := launch(t, in, testprog.MustC(t, "spin"))
	for _, c := range []*exec.Cmd{loop, spin} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill() })
	}
	// Both programs run, and are past their start-up: their memory stays
	// as it is from then on, so rows must match this one status.
	var st, last control.Status
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		last, st = st, in.Status()
		if len(st.Processes) == 2 && reflect.DeepEqual(memoryOf(st), memoryOf(last)) {
			break
		}
	}
	if len(st.Processes) != 2 || !reflect.DeepEqual(memoryOf(st), memoryOf(last)) {
		t.Fatalf("daemon runs %+v, want getpid_loop and spin, settled", st.Processes)
	}
	procs := map[int]control.ProcInfo{}
	for _, p := range st.Processes {
		procs[p.PID] = p
	}
	// --print reads a value piece by piece through Delve: a thread record
	// that the getpid loop rewrites at every call must be said to change
	// (while the loop has the CPU: the spinner holds it for whole time
	// slices, when the record stays as it is), its tid never.
	t.Run("print", func(t *testing.T) {
		// The process table is sorted by pid: the loop's record is there.
		pids := slices.Sorted(maps.Keys(procs))
		loopAt := slices.Index(pids, loop.Process.Pid)
		moving := false
		for try := 0; try < 40 && !moving; try++ {
			i := loopAt
			if try%4 == 3 { // now and then the spinner's, whose tid must read as well
				i = 1 - loopAt
			}
			out, err := in.Cmd("mcinspect", "--print", fmt.Sprintf("kernel.Instance.Procs.Procs[%d].Threads[0].Seq", i)).CombinedOutput()
			if err != nil {
				t.Fatalf("mcinspect --print: %v\n%s", err, out)
			}
			moving = strings.Contains(string(out), "(changing)")
			tid := printed(t, in, fmt.Sprintf("kernel.Instance.Procs.Procs[%d].Threads[0].TID", i))
			if n, err := strconv.Atoi(tid); err != nil || procs[n].PID != n {
				t.Errorf("--print of process %d's first tid: %q, want one of %v", i, tid, slices.Collect(maps.Keys(procs)))
			}
		}
		if !moving {
			t.Error("--print never showed the getpid loop's thread record as changing")
		}
	})
	local := map[int]uint64{} // the last count seen per thread
	changing, total := 0, 0
	check := func(t *testing.T, rows []psRow) {
		t.Helper()
		current := 0
		for _, r := range rows {
			total++
			if r.Changing {
				changing++
				continue
			}
			if r.Current {
				current++
			}
			if r.Idle {
				continue
			}
			p, ok := procs[r.PID]
			if !ok || r.TID != r.PID || r.State != "R" || r.Exe != p.Exe || r.RSS*1024 != p.RSS || r.VSZ*1024 != p.VSZ ||
				r.Syscall != "-" && r.Syscall != "getpid" || r.Local < local[r.TID] {
				t.Errorf("inconsistent row %+v (process %+v, %d local calls seen before)", r, p, local[r.TID])
			}
			local[r.TID] = r.Local
		}
		if current > 1 {
			t.Errorf("%d rows current on one CPU:\n%+v", current, rows)
		}
	}
	t.Run("live", func(t *testing.T) {
		for range 50 {
			check(t, mcps(t, in))
		}
		if local[loop.Process.Pid] == 0 {
			t.Errorf("the getpid loop never showed a settled row with its calls")
		}
	})
	t.Run("stopped", func(t *testing.T) {
		in.Hangs = true
		for range 30 {
			if err := syscall.Kill(in.PID, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			a, b := mcps(t, in), mcps(t, in)
			syscall.Kill(in.PID, syscall.SIGCONT)
			check(t, a)
			// Nothing changes while the daemon is stopped (TIME does: the
			// app runs on in its stub until its next syscall).
			for i := range a {
				if i < len(b) {
					a[i].Time, b[i].Time = 0, 0
				}
			}
			if !slices.Equal(a, b) {
				t.Errorf("two reads of a stopped daemon differ:\n%+v\n%+v", a, b)
			}
			time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		}
	})
	t.Logf("%d of %d rows changing", changing, total)
}

// memoryOf is each process's RSS and VSZ in st.
func memoryOf(st control.Status) map[int][2]uint64 {
	m := map[int][2]uint64{}
	for _, p := range st.Processes {
		m[p.PID] = [2]uint64{p.RSS, p.VSZ}
	}
	return m
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

// TestInspectUnprivileged: a user who is neither root nor the daemon's
// own gets a clear refusal from mcps and mcinspect, not a partial table.
func TestInspectUnprivileged(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "64M")
	// A run directory others may enter, as /run's: the refusal is then the
	// daemon's /proc entries'.
	os.Chmod(filepath.Dir(in.RunDir), 0o755)
	// The test binaries' directory is private: copy the tools where
	// nobody may run them.
	dir, err := os.MkdirTemp("", "gomck-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, tc := range []struct {
		tool string
		args []string
	}{{"mcps", nil}, {"mcinspect", []string{"--mem"}}} {
		t.Run(tc.tool, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(in.Bin, tc.tool))
			if err != nil {
				t.Fatal(err)
			}
			tool := filepath.Join(dir, tc.tool)
			if err := os.WriteFile(tool, b, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(tool, tc.args...)
			cmd.Env = append(os.Environ(), "GOMCK_RUNDIR="+in.RunDir, "XDG_CACHE_HOME="+dir)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "takes root or the daemon's own user") {
				t.Errorf("%s as nobody: %v\n%s", tc.tool, err, out)
			}
		})
	}
}
