package lwktest

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/crash/dumpfile"
	"github.com/gomck/gomck/internal/testprog"
)

// debuggee is one run of testdata/c/debuggee.c on the LWK.
type debuggee struct {
	name, exe string
	pid       int
	dynamic   bool
}

// debuggeeFuncs are the functions debuggee's threads block or spin in,
// by the thread's place in the process (main first, then in the order
// they were created).
var debuggeeFuncs = []string{"main", "waiter", "reader", "sleeper", "spinner"}

// gdbThreadRE is a line of info threads: gdb's number, the LWK tid, its
// process.
var gdbThreadRE = regexp.MustCompile(`(?m)^\*?\s+([0-9]+)\s+Thread ([0-9]+) "[^"]*" \(pid ([0-9]+), `)

// TestEclair debugs an instance running the debuggee twice, static and
// dynamic, with real gdb on eclair: over dumps at both levels, live, and
// over TCP. gdb must show every LWK thread of both processes, each
// thread's backtrace down to the function it blocks in, the string the
// program wrote (level 0 and live; at level 24 a refusal, with eclair's
// reason), the registers the dump recorded, libc for the dynamic
// program, and monitor ps; and writes and resuming are refused with
// eclair still serving.
func TestEclair(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb not installed: scripts/deps.sh installs it")
	}
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	progs := []*debuggee{{name: "static", exe: testprog.MustC(t, "debuggee")},
		{name: "dynamic", exe: testprog.MustCDynamic(t, "debuggee"), dynamic: true}}
	for _, p := range progs {
		said := startReady(t, launch(t, in, p.exe))
		p.pid, _ = strconv.Atoi(said[0])
	}
	tids := 0 // the LWK threads, as mcps lists them
	for _, r := range mcps(t, in) {
		if r.TID != 0 {
			tids++
		}
	}
	if tids != len(progs)*len(debuggeeFuncs) {
		t.Fatalf("mcps lists %d threads, want the debuggees' %d", tids, len(progs)*len(debuggeeFuncs))
	}
	dir := t.TempDir()
	dumps := map[string]string{}
	for _, level := range []string{"0", "24"} {
		dumps[level] = filepath.Join(dir, "level"+level)
		if out, err := in.Cmd("ihkosctl", "0", "dump", "-d", level, dumps[level]).CombinedOutput(); err != nil {
			t.Fatalf("ihkosctl 0 dump -d %s: %v\n%s", level, err, out)
		}
	}
	eclair := filepath.Join(in.Bin, "eclair")
	for _, level := range []string{"0", "24"} {
		d, err := dumpfile.Open(dumps[level])
		if err != nil {
			t.Fatal(err)
		}
		rips := map[int]uint64{}
		for _, th := range d.Threads {
			rips[th.TID] = th.Regs.Rip
		}
		d.Close()
		for _, p := range progs {
			t.Run("level"+level+"/"+p.name, func(t *testing.T) {
				target := fmt.Sprintf("target remote | %s --stdio -p %d %s", eclair, p.pid, dumps[level])
				checkDumpSession(t, p, target, level == "0", tids, rips)
			})
		}
	}
	t.Run("live", func(t *testing.T) {
		checkLive(t, progs[1], fmt.Sprintf("target remote | %s --stdio -p %d --live", eclair, progs[1].pid), tids)
	})
	t.Run("tcp", func(t *testing.T) { checkTCP(t, in, progs[1], dumps["0"], tids) })
	t.Run("after mcstop", func(t *testing.T) {
		in.Stop() // the dump outlives the instance
		target := fmt.Sprintf("target remote | %s --stdio -p %d %s", eclair, progs[0].pid, dumps["0"])
		if nums, n := gdbThreads(t, progs[0].exe, target, progs[0].pid); n != tids || len(nums) != len(debuggeeFuncs) {
			t.Errorf("after mcstop: info threads lists %d threads, %d of pid %d; want %d, %d", n, len(nums), progs[0].pid, tids, len(debuggeeFuncs))
		}
	})
	t.Run("bad input", func(t *testing.T) {
		whole, err := os.ReadFile(dumps["0"])
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(dir, "cut")
		os.WriteFile(cut, whole[:len(whole)/3], 0o600)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--stdio", cut}, "offset"},
			{[]string{"--stdio", "-p", "999999", dumps["0"]}, "no LWK process 999999"},
			{[]string{dumps["0"]}, "--stdio or -l"},
		} {
			out, err := in.Cmd("eclair", tc.args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("eclair %q: %v, %q; want refused, saying %q", tc.args, err, out, tc.want)
			}
		}
	})
}

// gdbThreads runs gdb's info threads on target and returns gdb's
// thread number of each LWK tid of process pid, and how many threads
// it listed.
func gdbThreads(t *testing.T, exe, target string, pid int) (map[int]string, int) {
	t.Helper()
	out := gdbSections(t, exe, "", target, "info threads")["info threads"]
	nums := map[int]string{}
	for _, m := range gdbThreadRE.FindAllStringSubmatch(out, -1) {
		if m[3] == strconv.Itoa(pid) {
			tid, _ := strconv.Atoi(m[2])
			nums[tid] = m[1]
		}
	}
	return nums, len(threadRE.FindAllString(out, -1))
}

// checkDumpSession is gdb's session on a dump for program p: full is
// level 0 (app pages present), rips the registers recorded in the dump.
func checkDumpSession(t *testing.T, p *debuggee, target string, full bool, tids int, rips map[int]uint64) {
	nums, n := gdbThreads(t, p.exe, target, p.pid)
	if n != tids || len(nums) != len(debuggeeFuncs) {
		t.Fatalf("info threads lists %d threads, %d of pid %d; the LWK has %d, %d", n, len(nums), p.pid, tids, len(debuggeeFuncs))
	}
	main := nums[p.pid]
	// The LWK gives threads rising tids, above the main thread's (its
	// pid): their order is that of debuggeeFuncs.
	order := slices.Sorted(maps.Keys(nums))
	sleeper := nums[order[slices.Index(debuggeeFuncs, "sleeper")]]
	cmds := []string{target, "info program", "thread", "thread " + main, "thread apply all bt", "x/s &debuggee_buf",
		"info registers", "info registers orig_rax fs_base gs_base", "thread apply all info registers rip", "p $xmm0", "p $ymm0", "info sharedlibrary", "monitor ps",
		"thread " + sleeper, "p $xmm8.v2_double", "p $ymm8.v4_double", "p $zmm8.v8_double"}
	out := gdbSections(t, p.exe, "", cmds...)
	all := strings.Join(mapValues(out, cmds), "\n")

	// gdb starts in the thread that got a signal: the sleeper.
	if !strings.Contains(out["info program"], "SIGUSR1") || !strings.Contains(out["thread"], "Current thread is "+sleeper+" ") {
		t.Errorf("gdb started in %q, stopped %q; want thread %s, the sleeper, by its pending SIGUSR1", out["thread"], out["info program"], sleeper)
	}
	// Every thread of p: its backtrace reaches its function at level 0;
	// at level 24, without the stacks, frame #0 is all there is.
	// (A dynamic program's frame #0 is then in libc, whose load address
	// is in the link_map list, in app pages.)
	bts := threadBlocks(out["thread apply all bt"])
	for tid, num := range nums {
		bt := bts[tid]
		fns := strings.Fields(frames(bt))
		switch want := debuggeeFuncs[slices.Index(order, tid)]; {
		case full && !slices.Contains(fns, want):
			t.Errorf("thread %s (tid %d): backtrace without %s:\n%s", num, tid, want, bt)
		case !full && !p.dynamic && (len(fns) == 0 || fns[0] == "??"):
			t.Errorf("thread %s (tid %d): frame #0 not symbolised:\n%s", num, tid, bt)
		}
	}
	x := out["x/s &debuggee_buf"]
	if full && !strings.Contains(x, `"eclair reads this string"`) {
		t.Errorf("x/s &debuggee_buf: %s", x)
	}
	if !full && (!strings.Contains(x, "Cannot access memory") || !strings.Contains(all, "not in the dump")) {
		t.Errorf("level 24: x/s &debuggee_buf says %q; want gdb's refusal and eclair's reason (not in the dump) in:\n%s", x, all)
	}
	// The registers are the dump's: the rip of each thread.
	for tid, block := range threadBlocks(out["thread apply all info registers rip"]) {
		m := regexp.MustCompile(`(?m)^rip\s+(0x[0-9a-f]+)`).FindStringSubmatch(block)
		if m == nil {
			t.Errorf("tid %d: no rip in %q", tid, block)
			continue
		}
		if rip, _ := strconv.ParseUint(m[1], 0, 64); rip != rips[tid] {
			t.Errorf("tid %d: rip %#x, the dump recorded %#x", tid, rip, rips[tid])
		}
	}
	regs := out["info registers"] + "\n" + out["info registers orig_rax fs_base gs_base"]
	for _, want := range []string{"rax ", "rip ", "eflags ", "fs_base ", "gs_base ", "orig_rax "} {
		if !strings.Contains(regs, want) {
			t.Errorf("info registers lacks %s:\n%s", want, regs)
		}
	}
	if !strings.Contains(out["p $xmm0"], "v4_float") || !strings.Contains(out["p $ymm0"], "v8_float") {
		t.Errorf("p $xmm0: %s\np $ymm0: %s", out["p $xmm0"], out["p $ymm0"])
	}
	// The sleeper's XSAVE area, as the kernel saved it when other threads
	// took its CPU: the ymm8 it left.
	if x := out["p $xmm8.v2_double"]; !strings.Contains(x, "{42, 43}") {
		t.Errorf("the sleeper's xmm8: %s, want {42, 43}", x)
	}
	if y := out["p $ymm8.v4_double"]; cpuHas("avx") && !strings.Contains(y, "{42, 43, 44, 45}") {
		t.Errorf("the sleeper's ymm8: %s, want {42, 43, 44, 45}", y)
	}
	if z := out["p $zmm8.v8_double"]; cpuHas("avx512f") && !strings.Contains(z, "{42, 43, 44, 45, 0, 0, 0, 0}") {
		t.Errorf("the sleeper's zmm8: %s, want {42, 43, 44, 45, 0, 0, 0, 0} (vmovupd of ymm8 clears the rest)", z)
	}
	libs := out["info sharedlibrary"]
	if p.dynamic && full && !strings.Contains(libs, "libc.so.6") {
		t.Errorf("info sharedlibrary of the dynamic program lacks libc:\n%s", libs)
	}
	if !p.dynamic && !strings.Contains(libs, "No shared libraries") {
		t.Errorf("info sharedlibrary of the static program:\n%s", libs)
	}
	ps := out["monitor ps"]
	for tid := range nums {
		if !regexp.MustCompile(`\s` + strconv.Itoa(tid) + `\s`).MatchString(ps) {
			t.Errorf("monitor ps lacks tid %d:\n%s", tid, ps)
		}
	}
}

// cpuHas says whether the CPU has feature flag (of /proc/cpuinfo).
func cpuHas(flag string) bool {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return regexp.MustCompile(`(?m)^flags\s*:.* ` + flag + `( |$)`).Match(b)
}

// applyRE heads a thread's part of thread apply all's output.
var applyRE = regexp.MustCompile(`(?m)^Thread [0-9]+ \(Thread ([0-9]+) `)

// threadBlocks splits thread apply all's output by LWK tid.
func threadBlocks(out string) map[int]string {
	blocks := map[int]string{}
	heads := applyRE.FindAllStringSubmatchIndex(out, -1)
	for i, h := range heads {
		end := len(out)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		tid, _ := strconv.Atoi(out[h[2]:h[3]])
		blocks[tid] = out[h[0]:end]
	}
	return blocks
}

func mapValues(m map[string]string, keys []string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

// checkLive is gdb on the live instance: the string, and writes and
// resuming refused, with eclair serving on.
func checkLive(t *testing.T, p *debuggee, target string, tids int) {
	nums, n := gdbThreads(t, p.exe, target, p.pid)
	if n != tids || len(nums) != len(debuggeeFuncs) {
		t.Fatalf("live: info threads lists %d threads, %d of pid %d; the LWK has %d, %d", n, len(nums), p.pid, tids, len(debuggeeFuncs))
	}
	cmds := []string{target, "thread " + nums[p.pid], "x/s &debuggee_buf", "set var debuggee_spins = 1",
		"break main", "continue", "monitor kmem"}
	out := gdbSections(t, p.exe, "", cmds...)
	all := strings.Join(mapValues(out, cmds), "\n")
	if !strings.Contains(out["x/s &debuggee_buf"], `"eclair reads this string"`) {
		t.Errorf("live x/s &debuggee_buf: %s", out["x/s &debuggee_buf"])
	}
	if s := out["set var debuggee_spins = 1"]; !strings.Contains(s, "Cannot access memory") || !strings.Contains(all, "writing memory refused") {
		t.Errorf("set var: %q; want refused, and eclair saying why in:\n%s", s, all)
	}
	if c := out["continue"]; !strings.Contains(c, "Cannot insert breakpoint") {
		t.Errorf("break main, continue: %q, want the breakpoint refused", c)
	}
	if !strings.Contains(out["monitor kmem"], "partition") {
		t.Errorf("monitor kmem after the refusals (eclair must serve on): %q", out["monitor kmem"])
	}
}

// checkTCP is eclair -d -l (without -p: gdb starts in whichever process has
// a thread current) with gdb's target remote HOST:PORT: it serves one
// gdb and exits when it detaches.
func checkTCP(t *testing.T, in *Instance, p *debuggee, dump string, tids int) {
	srv := in.Cmd("eclair", "-d", "-l", "127.0.0.1:0", dump)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := bufio.NewScanner(stderr)
	var addr string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "eclair: listening on "); ok {
			addr = a
			break
		}
	}
	packets := 0 // -d logs them, one a line
	go func() {
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "<- ") {
				packets++
			}
		}
		exited <- srv.Wait()
	}()
	if addr == "" {
		srv.Process.Kill()
		t.Fatalf("eclair -l did not say where it listens: %v", <-exited)
	}
	out := gdbSections(t, p.exe, "", "target remote "+addr, "info threads")
	if n := len(threadRE.FindAllString(out["info threads"], -1)); n != tids {
		t.Errorf("over TCP: info threads lists %d threads, want %d:\n%s", n, tids, out["info threads"])
	}
	select {
	case err := <-exited:
		if err != nil || packets == 0 {
			t.Errorf("eclair -d -l after gdb detached: %v, %d packets logged", err, packets)
		}
	case <-time.After(10 * time.Second):
		srv.Process.Kill()
		t.Error("eclair -l still runs 10 s after gdb detached")
	}
}

// TestEclairGo debugs a Go program (testdata/go/corego, goroutines
// blocked in a channel, a select, a sleep and a mutex) in a level 0
// dump: gdb shows each of the runtime's LWK threads, symbolised, and the
// program's globals.
func TestEclairGo(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb not installed: scripts/deps.sh installs it")
	}
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	exe := testprog.MustGo(t, "corego")
	pid, _ := strconv.Atoi(startReady(t, launch(t, in, exe, "wait"))[0])
	tids := 0
	for _, r := range mcps(t, in, "-p", strconv.Itoa(pid)) {
		if r.TID != 0 {
			tids++
		}
	}
	dump := filepath.Join(t.TempDir(), "level0")
	if out, err := in.Cmd("ihkosctl", "0", "dump", "-d", "0", dump).CombinedOutput(); err != nil {
		t.Fatalf("ihkosctl 0 dump -d 0: %v\n%s", err, out)
	}
	target := fmt.Sprintf("target remote | %s --stdio %s", filepath.Join(in.Bin, "eclair"), dump)
	cmds := []string{target, "info threads", "thread apply all bt", "p 'main.greeting'", "p 'main.counter'"}
	out := gdbSections(t, exe, "", cmds...)
	if n := len(threadRE.FindAllString(out["info threads"], -1)); n != tids || n < 2 {
		t.Errorf("info threads lists %d threads, mcps %d:\n%s", n, tids, out["info threads"])
	}
	for tid, bt := range threadBlocks(out["thread apply all bt"]) {
		if fns := strings.Fields(frames(bt)); len(fns) == 0 || fns[0] == "??" {
			t.Errorf("tid %d: frame #0 not symbolised:\n%s", tid, bt)
		}
	}
	if g := out["p 'main.greeting'"]; !strings.Contains(g, `"gomck go core"`) {
		t.Errorf("p 'main.greeting': %s", g)
	}
	if c := out["p 'main.counter'"]; !regexp.MustCompile(`(?m)^\$[0-9]+ = 4242$`).MatchString(c) {
		t.Errorf("p 'main.counter': %s", c)
	}
}
