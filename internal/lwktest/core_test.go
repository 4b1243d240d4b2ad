package lwktest

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/partition"
	"github.com/gomck/gomck/internal/testprog"
)

// The ELF core files of LWK processes (issue 15): written when a process
// dies of a core-dumping signal, and by mcgcore of a running one. Every
// core is read with gdb, readelf, eu-readelf or dlv beside one Linux wrote
// (or gdb's gcore took) of the same program, and must show the same
// threads, stacks, values and notes.

// bootCores boots the instance the core tests share: -O, for coreme's
// three threads and the Go runtime's on one CPU.
func bootCores(t *testing.T) (*Instance, uint64) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "1G", "-O")
	return in, in.Status().MemFree
}

// coreRun is one death, and what it left.
type coreRun struct {
	death
	in    *Instance
	cores []string // the files matching the core pattern
	kmsg  string   // the kernel log's lines of the death (LWK)
}

// core returns the run's single core file or fails saying what is missing.
func (r coreRun) core(t *testing.T) string {
	t.Helper()
	if len(r.cores) != 1 {
		t.Fatalf("want one core file in %s after the death %s (%v), found %q; dir holds %q; kmsg: %s",
			r.dir, where(r.in), r.res, r.cores, dirNames(r.dir), r.kmsg)
	}
	return r.cores[0]
}

// noCore fails unless the run left no core file.
func (r coreRun) noCore(t *testing.T) {
	t.Helper()
	if len(r.cores) != 0 {
		t.Errorf("the death %s left %q in %s, want no core; kmsg: %s", where(r.in), r.cores, r.dir, r.kmsg)
	}
}

// ulimitBlock is the unit of the shell's ulimit -c (dash counts 512-byte
// blocks, bash 1024-byte ones), found by asking the shell.
var ulimitBlock = sync.OnceValue(func() int {
	out, _ := exec.Command("sh", "-c", "ulimit -c 1; grep 'core file' /proc/self/limits").Output()
	if f := strings.Fields(string(out)); len(f) > 4 {
		if n, err := strconv.Atoi(f[4]); err == nil && n > 0 {
			return n
		}
	}
	return 1024
})

// ulimitBytes is the ulimit -c argument for a limit of n bytes.
func ulimitBytes(n int) string { return strconv.Itoa(n / ulimitBlock()) }

// dump runs argv (an absolute program path first) until it dies of sig,
// natively when in is nil and under mcexec otherwise, in a new directory
// (or dir), and collects the core files that Linux's current core_pattern
// and core_uses_pid name for it there.
func dump(t *testing.T, in *Instance, dir string, o coreOpts, sig syscall.Signal, argv ...string) coreRun {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	var before string
	if in != nil {
		before = kmsg(t, in)
	}
	r := coreRun{death: dieIn(t, in, dir, o, argv...), in: in}
	if in != nil {
		r.kmsg = kmsgSince(t, in, before)
	}
	if want := sig.String(); r.res.Signal != want {
		t.Errorf("%s: %v; want death by %q (shell status %d): mcexec must die of the app's signal", where(in), r.res, want, 128+int(sig))
	}
	pattern, usesPID := currentCorePattern(t)
	if strings.HasPrefix(pattern, "|") {
		return r
	}
	limit := "18446744073709551615"
	if o.limit != "" && o.limit != "unlimited" {
		n, _ := strconv.Atoi(o.limit)
		limit = strconv.Itoa(n * ulimitBlock())
	}
	comm := filepath.Base(argv[0])
	re := coreName(pattern, usesPID, dumpee{pid: r.pid, tid: r.pid, sig: sig, comm: comm[:min(len(comm), 15)], exe: argv[0], limit: limit})
	find := func() {
		r.cores = nil
		for _, name := range dirNames(dir) {
			if ok, _ := regexp.MatchString(re, name); ok {
				r.cores = append(r.cores, filepath.Join(dir, name))
			}
		}
	}
	if find(); len(r.cores) == 0 && o.limit != "0" {
		// A core that shows up only after its dumper's death is
		// late: Linux's is complete when the parent sees the death.
		time.Sleep(time.Second)
		if find(); len(r.cores) > 0 {
			t.Errorf("%s: core %q appeared only after the death was reported", where(in), r.cores)
		}
	}
	if len(r.cores) == 0 {
		r.cores = nil
	}
	return r
}

func currentCorePattern(t *testing.T) (string, bool) {
	t.Helper()
	p, err := os.ReadFile(corePatternFile)
	if err != nil {
		t.Fatal(err)
	}
	u, err := os.ReadFile(coreUsesPIDFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(p), "\n"), strings.TrimSpace(string(u)) != "0"
}

// checkCoreLine checks the kernel log's line on the LWK core: dumped to
// the file the test found, of its size.
func checkCoreLine(t *testing.T, r coreRun, core string) {
	t.Helper()
	m := coreLineRE.FindStringSubmatch(r.kmsg)
	st, err := os.Stat(core)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || m[1] == "" || filepath.Base(m[1]) != filepath.Base(core) || m[2] != strconv.FormatInt(st.Size(), 10) {
		t.Errorf("kmsg should say \"core dumped to %s (%d bytes)\", said: %s", core, st.Size(), r.kmsg)
	}
}

// gdbCheck is one gdb command whose output, reduced, must be the same for
// an LWK core as for a native one; want are patterns the native output
// must match, so that a test that reads nothing cannot pass.
type gdbCheck struct {
	cmd    string
	reduce func(string) string
	want   []string
}

// crashChecks are what gdb shows of coreme crash.
var crashChecks = []gdbCheck{
	{"info threads", threadCount, []string{`^3 threads$`}},
	{"bt", frames, []string{`^c b a main$`}},
	{"thread apply all bt", stacks, []string{`\[c b a main\]`, `pthread_cond_wait waiter start_thread`, `read reader start_thread`}},
	{"p coreme_int", value, []string{`^4242$`}},
	{"p coreme_str", value, []string{`^"gomck core string"`}},
	{"p *coreme_rec", value, []string{`^\{id = 7, ratio = 2\.5, name = "heap record`}},
	{"p $_siginfo.si_signo", exact, []string{`^11$`}},
	{"p $_siginfo._sifields._sigfault.si_addr", exact, []string{`^\(void \*\) 0x0$`}},
	{"info registers rip", symbol, []string{`^<c\+[0-9]+>$`}},
	{"x/s coreme_map", examined, []string{`^"gomck mapped file\\n"$`}},
}

// compareGDB runs checks on both cores and reports every difference, side
// by side.
func compareGDB(t *testing.T, exe, native, lwk string, checks []gdbCheck) {
	t.Helper()
	var cmds []string
	for _, c := range checks {
		cmds = append(cmds, c.cmd)
	}
	want, got := gdbSections(t, exe, native, cmds...), gdbSections(t, exe, lwk, cmds...)
	for _, c := range checks {
		w, g := c.reduce(want[c.cmd]), c.reduce(got[c.cmd])
		for _, re := range c.want {
			if !regexp.MustCompile(re).MatchString(w) {
				t.Errorf("gdb %q on the native core: %q does not match %s (test broken?)\n%s", c.cmd, w, re, want[c.cmd])
			}
		}
		if w != g {
			t.Errorf("gdb %q differs:\nnative core: %s\nLWK core:    %s\n--- native output:\n%s\n--- LWK output:\n%s", c.cmd, w, g, want[c.cmd], got[c.cmd])
		}
	}
}

// compareNotes compares the notes of the two cores as readelf and
// eu-readelf list them, and the fields that name the process and its
// death, where the pids are each process's own.
func compareNotes(t *testing.T, native, lwk coreRun, nativeCore, lwkCore string) {
	t.Helper()
	if w, g := noteTypes(t, nativeCore), noteTypes(t, lwkCore); !slices.Equal(w, g) {
		t.Errorf("readelf -n note sequence differs:\nnative: %q\nLWK:    %q", w, g)
	}
	wt, wf := euNotes(t, nativeCore)
	gt, gf := euNotes(t, lwkCore)
	if !slices.Equal(wt, gt) {
		t.Errorf("eu-readelf -n note sequence differs:\nnative: %q\nLWK:    %q", wt, gt)
	}
	pids := func(fields []string, pid int) []string {
		var out []string
		for _, f := range fields {
			out = append(out, regexp.MustCompile(`\bpid: `+strconv.Itoa(pid)+`\b`).ReplaceAllString(f, "pid: PID"))
		}
		return out
	}
	// A thread's PRSTATUS pid is its tid: only the first (the dumping
	// main thread) is the pid; the others' differ anyway.
	if w, g := pids(wf, native.pid), pids(gf, lwk.pid); len(w) == 0 || !slices.Equal(firstPid(w), firstPid(g)) {
		t.Errorf("eu-readelf -n fields differ:\nnative: %q\nLWK:    %q", w, g)
	}
}

// firstPid keeps the fields without the pids of other threads than the
// first: the rest of PRSTATUS's "pid:" lines hold tids and parents.
func firstPid(fields []string) []string {
	var out []string
	seen := false
	for _, f := range fields {
		if strings.HasPrefix(f, "pid:") {
			if seen {
				continue
			}
			seen = true
			f, _, _ = strings.Cut(f, ",")
		}
		out = append(out, f)
	}
	return out
}

// TestCoreOnDeath: coreme dies of SIGSEGV, natively and on the LWK, in
// its static and dynamic builds; the two cores must read alike in gdb
// (threads, stacks, globals, the heap, siginfo, registers, a mapped
// file), in readelf and eu-readelf, and be laid out as Linux lays cores
// out. mcexec dies of the signal and the kernel log says where the core
// went.
func TestCoreOnDeath(t *testing.T) {
	needTools(t, "gdb", "readelf", "eu-readelf")
	in, base := bootCores(t)
	setCorePattern(t, "core", false)
	for _, b := range coremeBuilds {
		t.Run(b.name, func(t *testing.T) {
			exe := progCopy(t, b.build(t, "coreme"), "coreme")
			mapped := writeFile(t, t.TempDir(), "mapped.txt", mappedText, 0o644)
			native := dump(t, nil, "", coreOpts{}, syscall.SIGSEGV, exe, "crash", mapped)
			lwk := dump(t, in, "", coreOpts{}, syscall.SIGSEGV, exe, "crash", mapped)
			nativeCore, lwkCore := native.core(t), lwk.core(t)
			checkCoreLine(t, lwk, lwkCore)
			if names := dirNames(lwk.dir); len(names) != 1 {
				t.Errorf("the LWK death left %q, want only its core: did Linux dump mcexec too?", names)
			}
			compareGDB(t, exe, nativeCore, lwkCore, crashChecks)
			compareNotes(t, native, lwk, nativeCore, lwkCore)
			loadsOK(t, nativeCore, false)
			loadsOK(t, lwkCore, false)
			// The threads' stacks are mostly never touched: holes, as
			// in Linux's file, not zeros written out.
			for _, c := range []string{nativeCore, lwkCore} {
				if st, err := os.Stat(c); err != nil || st.Sys().(*syscall.Stat_t).Blocks*512 >= st.Size() {
					t.Errorf("%s is not sparse: %d bytes, %d allocated", c, st.Size(), st.Sys().(*syscall.Stat_t).Blocks*512)
				}
			}
			in.WaitIdle(base)
		})
	}
}

// TestCoreSentSignal: a core-dumping signal sent to mcexec (kill -SEGV,
// Ctrl-\'s SIGQUIT) goes on to the app, which dies of it with a core, as
// it would natively, and mcexec dies of the same signal.
func TestCoreSentSignal(t *testing.T) {
	needTools(t, "gdb")
	in, base := bootCores(t)
	setCorePattern(t, "core", false)
	exe := progCopy(t, testprog.MustC(t, "coreme"), "coreme")
	for _, sig := range []syscall.Signal{syscall.SIGSEGV, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			lwk := in.Mcexec(exe, "wait")
			cmd := exec.Command("sh", append([]string{"-c", `ulimit -c unlimited && exec "$0" "$@"`}, lwk.Args...)...)
			cmd.Dir, cmd.Env = dir, lwk.Env
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := testprog.WaitReadySaying(out, 60*time.Second); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal(err)
			}
			syscall.Kill(cmd.Process.Pid, sig) // the shell is mcexec by now
			cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("mcexec ended with %v, want death by %v", cmd.ProcessState, sig)
			}
			got := gdbSections(t, exe, filepath.Join(dir, "core"), "info threads", "p $_siginfo.si_signo")
			if n := threadCount(got["info threads"]); n != "3 threads" {
				t.Errorf("gdb on the core: %q, want 3 threads:\n%s", n, got["info threads"])
			}
			if s := exact(got["p $_siginfo.si_signo"]); s != strconv.Itoa(int(sig)) {
				t.Errorf("gdb $_siginfo.si_signo %q, want %d", s, sig)
			}
			in.WaitIdle(base)
		})
	}
}

// TestCoreMultiCPU: a thread running app code on another LWK CPU when
// its process faults is stopped at its exact user state for the core, as
// Linux stops every thread before it dumps: gdb finds it in spinner() on
// both cores. The instance shares CPUs 0 and 1 with Linux, as in
// TestMultiCPU.
func TestCoreMultiCPU(t *testing.T) {
	needTools(t, "gdb")
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	t.Setenv(partition.SharedCPUsEnv, "1")
	in := Boot(t, "-c", "0-1", "-m", "1G", "-O")
	base := in.Status().MemFree
	setCorePattern(t, "core", false)
	exe := progCopy(t, testprog.MustC(t, "coreme"), "coreme")
	mapped := writeFile(t, t.TempDir(), "mapped.txt", mappedText, 0o644)
	native := dump(t, nil, "", coreOpts{}, syscall.SIGSEGV, exe, "spin", mapped)
	lwk := dump(t, in, "", coreOpts{}, syscall.SIGSEGV, exe, "spin", mapped)
	compareGDB(t, exe, native.core(t), lwk.core(t), []gdbCheck{
		{"info threads", threadCount, []string{`^4 threads$`}},
		{"bt", frames, []string{`^c b a main$`}},
		{"thread apply all bt", stacks, []string{`\[c b a main\]`, `spinner start_thread`, `read reader start_thread`}},
	})
	if strings.Contains(lwk.kmsg, "did not stop") {
		t.Errorf("the spinner's CPU did not stop it for the core:\n%s", lwk.kmsg)
	}
	in.WaitIdle(base)
}

// TestCoreSettings: what decides whether and where a core is written,
// each compared with Linux's handling of the same program: RLIMIT_CORE 0
// and a small limit, coredump_filter 0, core_pattern with specifiers,
// core_uses_pid, and pipe patterns (which ignore the limit).
func TestCoreSettings(t *testing.T) {
	needTools(t, "gdb", "readelf", "eu-readelf")
	in, base := bootCores(t)
	exe := progCopy(t, testprog.MustC(t, "coreme"), "coreme")
	mapped := writeFile(t, t.TempDir(), "mapped.txt", mappedText, 0o644)
	const small = 64 << 10
	handlerDir := t.TempDir()
	handler := writeFile(t, handlerDir, "handler.sh", []byte(`#!/bin/sh
# A core_pattern pipe handler: saves the core and its arguments, keyed
# by the pid it is given; the args file comes last, so it says done. Every
# call is logged, so that a second dump of the same pid shows.
dir=$(dirname "$0")
echo "$@" >> "$dir/calls-$1"
cat > "$dir/core-$1"
echo "$@" > "$dir/args-$1.tmp" && mv "$dir/args-$1.tmp" "$dir/args-$1"
`), 0o755)
	for _, tc := range []struct {
		name    string
		pattern string
		usesPID bool
		opts    coreOpts
		check   func(t *testing.T, native, lwk coreRun)
	}{
		{name: "limit0", pattern: "core", opts: coreOpts{limit: "0"}, check: func(t *testing.T, native, lwk coreRun) {
			native.noCore(t)
			lwk.noCore(t)
			if !strings.Contains(lwk.kmsg, "no core:") {
				t.Errorf("kmsg should say \"no core:\" and why, said: %s", lwk.kmsg)
			}
		}},
		{name: "limit64k", pattern: "core", opts: coreOpts{limit: ulimitBytes(small)}, check: func(t *testing.T, native, lwk coreRun) {
			for _, r := range []coreRun{native, lwk} {
				c := r.core(t)
				// The limit is on what is written: Linux skips over the
				// holes it leaves without counting them, so the file may
				// look longer than the limit but holds no more. Its
				// blocks may (ext4 gives a file of many extents a block
				// of them), so the data is what SEEK_DATA finds. Linux
				// may write one page more (6.18.44 on an AMD EPYC VM wrote
				// 68 KiB of data under this 64 KiB limit).
				data, size, err := dataBytes(c)
				if err != nil || data > small+int64(os.Getpagesize()) {
					t.Errorf("%s: the core %s holds %d bytes (of %d), over the limit of %d (%v)", where(r.in), c, data, size, small, err)
				}
				if out, err := exec.Command("readelf", "-h", c).CombinedOutput(); err != nil || !strings.Contains(string(out), "CORE (Core file)") {
					t.Errorf("%s: readelf -h %s: %v\n%s", where(r.in), c, err, out)
				}
				loadsOK(t, c, true)
			}
			if w, g := noteTypes(t, native.core(t)), noteTypes(t, lwk.core(t)); !slices.Equal(w, g) {
				t.Errorf("readelf -n of the cut cores differs:\nnative: %q\nLWK:    %q", w, g)
			}
			checkCoreLine(t, lwk, lwk.core(t))
		}},
		{name: "filter0", pattern: "core", opts: coreOpts{filter: "0x0"}, check: func(t *testing.T, native, lwk coreRun) {
			// No memory is dumped: gdb reads what it can of the
			// globals from the executable's file, and the heap not at
			// all.
			compareGDB(t, exe, native.core(t), lwk.core(t), []gdbCheck{
				{"p *coreme_rec", value, []string{`^Cannot access memory`}},
				{"p $_siginfo.si_signo", exact, []string{`^11$`}},
			})
			checkCoreLine(t, lwk, lwk.core(t))
		}},
		{name: "specifiers", pattern: "core.%e.%p.%P.%i.%I.%s.%u.%g.%c.%h.%t.%%.E=%E", check: func(t *testing.T, native, lwk coreRun) {
			native.core(t)
			checkCoreLine(t, lwk, lwk.core(t))
		}},
		{name: "uses_pid", pattern: "core", usesPID: true, check: func(t *testing.T, native, lwk coreRun) {
			if c := lwk.core(t); filepath.Base(c) != fmt.Sprintf("core.%d", lwk.pid) {
				t.Errorf("LWK core %s, want core.%d (the LWK pid)", c, lwk.pid)
			}
			native.core(t)
		}},
		{name: "pipe", pattern: "|" + handler + " %p %s %e", check: func(t *testing.T, native, lwk coreRun) {
			checkPiped(t, exe, handlerDir, native, lwk)
		}},
		{name: "pipe_limit0", pattern: "|" + handler + " %p %s %e", opts: coreOpts{limit: "0"}, check: func(t *testing.T, native, lwk coreRun) {
			checkPiped(t, exe, handlerDir, native, lwk)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setCorePattern(t, tc.pattern, tc.usesPID)
			native := dump(t, nil, "", tc.opts, syscall.SIGSEGV, exe, "crash", mapped)
			lwk := dump(t, in, "", tc.opts, syscall.SIGSEGV, exe, "crash", mapped)
			tc.check(t, native, lwk)
			in.WaitIdle(base)
		})
	}
}

// checkPiped checks what the pipe handler saved of each death: the args
// it got (pid, signal, name) and a core gdb reads.
func checkPiped(t *testing.T, exe, dir string, native, lwk coreRun) {
	t.Helper()
	saved := map[*Instance]string{}
	for _, r := range []coreRun{native, lwk} {
		args := filepath.Join(dir, fmt.Sprintf("args-%d", r.pid))
		var b []byte
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if b, _ = os.ReadFile(args); b != nil {
				break
			}
		}
		if want := fmt.Sprintf("%d 11 coreme\n", r.pid); string(b) != want {
			t.Errorf("%s: the pipe handler got args %q, want %q; %s holds %q; kmsg: %s", where(r.in), b, want, dir, dirNames(dir), r.kmsg)
			continue
		}
		saved[r.in] = filepath.Join(dir, fmt.Sprintf("core-%d", r.pid))
	}
	// A late second call (Linux piping mcexec's own core, whose pid is
	// the LWK pid) would replace the saved core.
	time.Sleep(time.Second)
	for _, r := range []coreRun{native, lwk} {
		if b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("calls-%d", r.pid))); strings.Count(string(b), "\n") != 1 {
			t.Errorf("%s: the pipe handler ran %d times for pid %d, want once: %q", where(r.in), strings.Count(string(b), "\n"), r.pid, b)
		}
	}
	if len(saved) != 2 {
		return
	}
	if m := coreLineRE.FindStringSubmatch(lwk.kmsg); m == nil || m[3] == "" {
		t.Errorf("kmsg should say \"core piped to ...\", said: %s", lwk.kmsg)
	}
	compareGDB(t, exe, saved[nil], saved[lwk.in], crashChecks[:4])
}

// mountTmpfs mounts a tmpfs of size with opts (as mount -o) on a new
// directory until the test ends.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs -o %s on %s: %v\n%s", opts, dir, err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestCoreBadPlaces: a core that cannot be written (a read-only cwd, a
// full filesystem) costs the app nothing more than Linux's would: it
// still dies of its signal, the kernel log says what went wrong, and the
// LWK goes on with its memory back.
func TestCoreBadPlaces(t *testing.T) {
	in, base := bootCores(t)
	setCorePattern(t, "core", false)
	exe := progCopy(t, testprog.MustC(t, "coreme"), "coreme")
	hello := testprog.MustC(t, "hello")
	for _, tc := range []struct {
		name, mount string
		argv        []string
		reason      string // what kmsg must mention
	}{
		{"read-only", "ro,size=1m", []string{exe, "crash"}, `(?i)read-only|EROFS`},
		{"full", "size=1m", []string{exe, "-b", "16", "crash"}, `(?i)no space|ENOSPC`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Linux cannot write its core there either: what the LWK is
			// held to.
			native := dump(t, nil, mountTmpfs(t, tc.mount), coreOpts{}, syscall.SIGSEGV, tc.argv...)
			lwk := dump(t, in, mountTmpfs(t, tc.mount), coreOpts{}, syscall.SIGSEGV, tc.argv...)
			if tc.name == "read-only" {
				native.noCore(t)
				lwk.noCore(t)
			}
			if !regexp.MustCompile(tc.reason).MatchString(lwk.kmsg) {
				t.Errorf("kmsg should report %s, said: %s", tc.reason, lwk.kmsg)
			}
			if res := Run(in.Mcexec(hello), ""); res.Code != 0 || res.Stdout != "hello, world\n" {
				t.Errorf("hello after the failed core: %v", res)
			}
			in.WaitIdle(base)
		})
	}
}

// live is a program that runs until its stdin closes.
type live struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int // from its ready line
}

// startLive starts argv (natively when in is nil) and waits for its
// "ready PID" line; the cleanup closes its stdin and kills it if it has
// not ended 10 s later.
func startLive(t *testing.T, in *Instance, dir string, argv ...string) *live {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if in != nil {
		cmd = in.Mcexec(argv...)
	}
	cmd.Dir = dir
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
	l := &live{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	said, err := testprog.WaitReadySaying(out, 60*time.Second)
	if err == nil && len(said) == 1 {
		l.pid, err = strconv.Atoi(said[0])
	}
	if err != nil || l.pid == 0 {
		t.Fatalf("%v %s: said %q: %v", argv, where(in), said, err)
	}
	return l
}

// finish closes the program's stdin and requires a clean exit: a process
// a core was taken of goes on as if nothing happened.
func (l *live) finish(t *testing.T) {
	t.Helper()
	l.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- l.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%v after its core: %v, want exit 0", l.cmd.Args, err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%v did not end within 30 s of its stdin closing, after its core", l.cmd.Args)
	}
}

// gcoreNative takes gdb's gcore of a native process: what mcgcore's
// cores are held to.
func gcoreNative(t *testing.T, pid int) string {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "core")
	if out, err := exec.Command("gcore", "-o", prefix, strconv.Itoa(pid)).CombinedOutput(); err != nil {
		t.Fatalf("gcore %d: %v\n%s", pid, err, out)
	}
	return fmt.Sprintf("%s.%d", prefix, pid)
}

// mcgcore runs mcgcore with args in dir, as root unless cred says who.
func mcgcore(in *Instance, dir string, cred *syscall.Credential, args ...string) Result {
	cmd := in.Cmd("mcgcore", args...)
	cmd.Dir = dir
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return Run(cmd, "")
}

// waitChecks are what gdb shows of coreme wait: main in its read of
// stdin, beside the same two threads as crash.
var waitChecks = []gdbCheck{
	{"info threads", threadCount, []string{`^3 threads$`}},
	{"thread apply all bt", stacks, []string{`read main\]`, `pthread_cond_wait waiter start_thread`, `read reader start_thread`}},
	{"p coreme_int", value, []string{`^4242$`}},
	{"p coreme_str", value, []string{`^"gomck core string"`}},
	{"p *coreme_rec", value, []string{`^\{id = 7, ratio = 2\.5, name = "heap record`}},
	{"x/s coreme_map", examined, []string{`^"gomck mapped file\\n"$`}},
}

// TestGcore: mcgcore of a running coreme (static and dynamic) saves a
// core named FILE.PID, says so as gcore does, and leaves the process
// running; gdb reads it as it reads gcore's of the native process, and
// its PT_LOADs are the process's VMAs.
func TestGcore(t *testing.T) {
	needTools(t, "gdb", "gcore", "readelf")
	in, base := bootCores(t)
	for _, b := range coremeBuilds {
		t.Run(b.name, func(t *testing.T) {
			exe := progCopy(t, b.build(t, "coreme"), "coreme")
			mapped := writeFile(t, t.TempDir(), "mapped.txt", mappedText, 0o644)
			native := startLive(t, nil, t.TempDir(), exe, "wait", mapped)
			nativeCore := gcoreNative(t, native.pid)
			lwk := startLive(t, in, t.TempDir(), exe, "wait", mapped)
			out := t.TempDir()
			var vmas []vmaJSON
			runJSON(t, in, &vmas, "mcinspect", "--maps", "-p", strconv.Itoa(lwk.pid))
			res := mcgcore(in, out, nil, "-o", filepath.Join(out, "snap"), strconv.Itoa(lwk.pid))
			lwkCore := filepath.Join(out, fmt.Sprintf("snap.%d", lwk.pid))
			if want := "Saved corefile " + lwkCore + "\n"; res.Code != 0 || res.Stdout != want {
				t.Fatalf("mcgcore -o %s/snap %d: %v; want exit 0 and %q; dir holds %q", out, lwk.pid, res, want, dirNames(out))
			}
			compareGDB(t, exe, nativeCore, lwkCore, waitChecks)
			checkVMAs(t, in, lwk.pid, lwkCore, vmas)
			// Without -o: core.PID in the cwd, as gcore.
			res = mcgcore(in, out, nil, strconv.Itoa(lwk.pid))
			if want := fmt.Sprintf("Saved corefile core.%d\n", lwk.pid); res.Code != 0 || res.Stdout != want {
				t.Errorf("mcgcore %d in %s: %v; want %q", lwk.pid, out, res, want)
			} else if _, err := os.Stat(filepath.Join(out, fmt.Sprintf("core.%d", lwk.pid))); err != nil {
				t.Errorf("mcgcore said it saved core.%d but: %v", lwk.pid, err)
			}
			native.finish(t)
			lwk.finish(t)
			in.WaitIdle(base)
		})
	}
}

// checkVMAs requires one PT_LOAD per VMA of the process as it sees its
// maps (the LWK's /proc view): its LWK VMAs (mcinspect's), at their
// addresses and of their sizes, and the kernel's pages it uses from its
// stub ([vvar], [vdso], [vsyscall]), which Linux dumps too; and no other.
func checkVMAs(t *testing.T, in *Instance, pid int, core string, vmas []vmaJSON) {
	t.Helper()
	var want []string
	for _, v := range vmas {
		want = append(want, fmt.Sprintf("%#x-%#x", v.Start, v.End))
	}
	for _, p := range in.Status().Processes {
		if p.PID != pid {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p.StubPID))
		if err != nil {
			t.Fatalf("the stub of %d: %v", pid, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 6 && strings.HasPrefix(f[5], "[v") {
				lo, hi, _ := strings.Cut(f[0], "-")
				want = append(want, "0x"+strings.TrimLeft(lo, "0")+"-0x"+strings.TrimLeft(hi, "0")+" "+f[5])
			}
		}
	}
	var loads []string
	for _, h := range loadsOK(t, core, false) {
		loads = append(loads, fmt.Sprintf("%#x-%#x", h.Vaddr, h.Vaddr+h.Memsz))
	}
	for _, w := range want {
		if r, _, _ := strings.Cut(w, " "); !slices.Contains(loads, r) {
			t.Errorf("%s: no PT_LOAD for the VMA %s", core, w)
		}
	}
	if len(loads) != len(want) {
		t.Errorf("%s: %d PT_LOADs for %d VMAs; VMAs %q, PT_LOADs %q", core, len(loads), len(want), want, loads)
	}
}

// TestGcoreErrors: mcgcore fails, with a message that names the problem
// and no file left behind, when it cannot take a core; a process that
// ends while mcgcore copies it gives a core or a clean failure, and the
// LWK is unharmed.
func TestGcoreErrors(t *testing.T) {
	in, base := bootCores(t)
	exe := progCopy(t, testprog.MustC(t, "coreme"), "coreme")
	victim := startLive(t, in, t.TempDir(), exe, "-b", "8", "wait")
	full := mountTmpfs(t, "size=1m")
	// The unprivileged user needs a mcgcore it may run, and a directory
	// it may write in: only the permission to the process may fail it.
	shared, err := os.MkdirTemp("", "gomck-mcgcore-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	os.Chmod(shared, 0o1777)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	for _, tc := range []struct {
		name string
		dir  string
		cred *syscall.Credential
		args []string
		msg  string // what stderr must match
	}{
		{"no such process", t.TempDir(), nil, []string{"999999"}, `999999`},
		{"instance not running", t.TempDir(), nil, []string{"-i", "7", strconv.Itoa(victim.pid)}, `(?i)instance|not running|7`},
		{"full disk", full, nil, []string{strconv.Itoa(victim.pid)}, `(?i)no space|ENOSPC`},
		{"not root", shared, nobody, []string{strconv.Itoa(victim.pid)}, `(?i)permi|denied|root|privilege`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mcgcore(in, tc.dir, tc.cred, tc.args...)
			if res.Code == 0 || !regexp.MustCompile(tc.msg).MatchString(res.Stderr) {
				t.Errorf("mcgcore %v: %v; want a failure whose message matches %s", tc.args, res, tc.msg)
			}
			if names := dirNames(tc.dir); len(names) != 0 {
				t.Errorf("mcgcore %v failed but left %q in %s", tc.args, names, tc.dir)
			}
		})
	}
	victim.finish(t)
	t.Run("exiting", func(t *testing.T) { gcoreExiting(t, in) })
	if res := Run(in.Mcexec(testprog.MustC(t, "hello")), ""); res.Code != 0 {
		t.Errorf("hello after mcgcore's failures: %v", res)
	}
	in.WaitIdle(base)
}

// gcoreExiting takes cores of processes that are ending: hello, caught
// after its output; each mcgcore gives a core readelf reads or fails
// with a message and no file.
func gcoreExiting(t *testing.T, in *Instance) {
	hello := testprog.MustC(t, "hello")
	saved := 0
	for i := range 20 {
		dir := t.TempDir()
		cmd := in.Mcexec(hello)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		bufio.NewReader(out).ReadString('\n')
		res := mcgcore(in, dir, nil, strconv.Itoa(cmd.Process.Pid))
		io.Copy(io.Discard, out)
		cmd.Wait()
		names := dirNames(dir)
		switch {
		case res.Code == 0 && len(names) == 1:
			saved++
			if f, err := elf.Open(filepath.Join(dir, names[0])); err != nil {
				t.Errorf("try %d: mcgcore saved %s, which is no ELF file: %v", i, names[0], err)
			} else {
				f.Close()
			}
		case res.Code != 0 && strings.TrimSpace(res.Stderr) != "" && len(names) == 0:
		default:
			t.Errorf("try %d: mcgcore of an ending process: %v; left %q", i, res, names)
		}
	}
	t.Logf("%d of 20 cores of an ending process saved", saved)
}

// goChecks are what dlv prints of corego's globals.
var goChecks = []struct{ expr, want string }{
	{"main.counter", "4242"},
	{"main.greeting", `"gomck go core"`},
	{"main.settings", `map[string]int [ "alpha": 1, "beta": 2, ]`},
	{"*main.conf", `main.config {Name: "corego", Limit: 9}`},
}

// dlvView is what dlv makes of a Go core: its goroutines (count and the
// program's own) and the values of goChecks, in order.
type dlvView struct {
	n      int
	mine   []string
	values []string
	raw    string
}

func dlvRead(t *testing.T, exe, core string) dlvView {
	t.Helper()
	cmds := []string{"goroutines"}
	for _, c := range goChecks {
		cmds = append(cmds, "print "+c.expr)
	}
	cmds = append(cmds, "goroutines -t 20")
	out := dlvCore(t, exe, core, cmds...)
	v := dlvView{raw: out}
	// dlv prompts "(dlv) " before each command's output.
	parts := strings.Split(out, "(dlv) ")
	if len(parts) < len(cmds)+1 {
		t.Fatalf("dlv core %s: %d outputs for %d commands:\n%s", core, len(parts)-1, len(cmds), out)
	}
	v.n, v.mine = goroutines(parts[1])
	for i := range goChecks {
		v.values = append(v.values, strings.Join(strings.Fields(parts[2+i]), " "))
	}
	return v
}

// compareDlv requires the same goroutines and values in both cores, and
// the native one to show what corego holds.
func compareDlv(t *testing.T, native, lwk dlvView, wantMine []string) {
	t.Helper()
	for i, c := range goChecks {
		if native.values[i] != c.want {
			t.Errorf("dlv print %s on the native core: %q, want %q (test broken?)", c.expr, native.values[i], c.want)
		}
		if lwk.values[i] != native.values[i] {
			t.Errorf("dlv print %s differs:\nnative core: %s\nLWK core:    %s", c.expr, native.values[i], lwk.values[i])
		}
	}
	for _, w := range wantMine {
		if !slices.Contains(native.mine, w) {
			t.Errorf("the native core lacks the goroutine %q (test broken?): %q", w, native.mine)
		}
	}
	if native.n != lwk.n || !slices.Equal(native.mine, lwk.mine) {
		t.Errorf("dlv goroutines differ:\nnative core: %d %q\nLWK core:    %d %q\n--- LWK output:\n%s", native.n, native.mine, lwk.n, lwk.mine, lwk.raw)
	}
	// Every goroutine's stack unwinds to its start (goexit), as in the
	// native core; the crashing one ends in the runtime's abort instead.
	if w, g := strings.Count(native.raw, "runtime.goexit"), strings.Count(lwk.raw, "runtime.goexit"); w != g {
		t.Errorf("stacks ending in runtime.goexit: native %d, LWK %d\n--- LWK output:\n%s", w, g, lwk.raw)
	}
}

// corego's goroutines blocked where it put them.
var goBlocked = []string{"main.receiver [chan receive]", "main.selecter [select]", "main.locker [sync.Mutex.Lock]"}

// TestGoCore: dlv reads an LWK core of a Go program as it reads Linux's:
// corego crashing with GOTRACEBACK=crash (the runtime aborts), and
// mcgcore's of corego waiting beside gdb's gcore of the native one.
func TestGoCore(t *testing.T) {
	needTools(t, "gdb", "gcore")
	dlvPath(t)
	in, base := bootCores(t)
	setCorePattern(t, "core", false)
	exe := progCopy(t, testprog.MustGo(t, "corego"), "corego")
	t.Run("crash", func(t *testing.T) {
		o := coreOpts{env: []string{"GOTRACEBACK=crash"}}
		native := dump(t, nil, "", o, syscall.SIGABRT, exe, "crash")
		lwk := dump(t, in, "", o, syscall.SIGABRT, exe, "crash")
		nativeCore, lwkCore := native.core(t), lwk.core(t)
		checkCoreLine(t, lwk, lwkCore)
		compareDlv(t, dlvRead(t, exe, nativeCore), dlvRead(t, exe, lwkCore), append([]string{"main.crash []"}, goBlocked...))
		in.WaitIdle(base)
	})
	t.Run("mcgcore", func(t *testing.T) {
		native := startLive(t, nil, t.TempDir(), exe, "wait")
		nativeCore := gcoreNative(t, native.pid)
		lwk := startLive(t, in, t.TempDir(), exe, "wait")
		out := t.TempDir()
		if res := mcgcore(in, out, nil, strconv.Itoa(lwk.pid)); res.Code != 0 {
			t.Fatalf("mcgcore %d: %v", lwk.pid, res)
		}
		lwkCore := filepath.Join(out, fmt.Sprintf("core.%d", lwk.pid))
		compareDlv(t, dlvRead(t, exe, nativeCore), dlvRead(t, exe, lwkCore), goBlocked)
		native.finish(t)
		lwk.finish(t)
		in.WaitIdle(base)
	})
}

// dataBytes is how many bytes of the file at path are data, not holes
// (SEEK_DATA and SEEK_HOLE), and its size.
func dataBytes(path string) (data, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size = st.Size()
	for off := int64(0); off < size; {
		start, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return 0, size, err
		}
		end, err := unix.Seek(int(f.Fd()), start, unix.SEEK_HOLE)
		if err != nil {
			return 0, size, err
		}
		data, off = data+end-start, end
	}
	return data, size, nil
}
