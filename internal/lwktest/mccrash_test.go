package lwktest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

// crashSource is what mccrash reads: a dump or the live instance.
type crashSource struct {
	name  string
	args  []string // mccrash's, before -c
	dump  []string // mcps's and mcinspect's for the same thing
	level int      // -1 live
}

// crashPrograms is what TestMccrash runs: a C program with threads in
// an offloaded read (main, on stdin), a futex wait and a read on a pipe;
// the same linked against glibc's shared objects; a Go program with
// goroutines parked in futexes and an offloaded read; and a C busy loop.
type crashPrograms struct {
	cPID, dynPID, goPID, spinPID int
	cExe, goExe                  string
}

// TestMccrash runs every mccrash command on the live instance and on
// dumps of it at both levels, comparing with what mcps and mcinspect
// say of the same; then feeds it bad input.
func TestMccrash(t *testing.T) {
	needTools(t, "objdump")
	in := Boot(t, "-c", strconv.Itoa(LWKCPU(t)), "-m", "512M", "-O")
	var progs crashPrograms
	progs.cExe = testprog.MustC(t, "coreme")
	progs.goExe = testprog.MustGo(t, "corego")
	progs.cPID, _ = strconv.Atoi(startReady(t, launch(t, in, progs.cExe, "wait"))[0])
	progs.dynPID, _ = strconv.Atoi(startReady(t, launch(t, in, testprog.MustCDynamic(t, "coreme"), "wait"))[0])
	// Registered before launch's cleanup, this runs after it has waited
	// for the program: its stderr is complete then.
	var goErr strings.Builder
	t.Cleanup(func() {
		if t.Failed() && goErr.Len() > 0 {
			t.Logf("corego's stderr:\n%s", goErr.String())
		}
	})
	goApp := launch(t, in, progs.goExe, "wait")
	goApp.Stderr = &goErr
	progs.goPID, _ = strconv.Atoi(startReady(t, goApp)[0])
	spin := launch(t, in, testprog.MustC(t, "spin"))
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	progs.spinPID = spin.Process.Pid // mcexec's pid is the LWK pid
	// mcps -p fails until the LWK has made the process: the whole table
	// does not.
	waitFor(t, func() bool {
		for _, r := range mcps(t, in) {
			if r.PID == progs.spinPID && r.State == "R" {
				return true
			}
		}
		return false
	})

	dir := t.TempDir()
	d0, d24 := filepath.Join(dir, "level0"), filepath.Join(dir, "level24")
	for _, d := range []struct {
		path  string
		level string
	}{{d0, "0"}, {d24, "24"}} {
		if out, err := in.Cmd("ihkosctl", "0", "dump", "-d", d.level, d.path).CombinedOutput(); err != nil {
			t.Fatalf("ihkosctl 0 dump -d %s: %v\n%s", d.level, err, out)
		}
	}
	sources := []crashSource{
		{"live", []string{"--live"}, nil, -1},
		{"level 0", []string{d0}, []string{"--dump", d0}, 0},
		{"level 24", []string{d24}, []string{"--dump", d24}, 24},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) { checkCrash(t, in, src, progs) })
	}
	t.Run("bad input", func(t *testing.T) { checkCrashBadInput(t, in, d0) })
	t.Run("sessions", func(t *testing.T) { checkCrashSessions(t, in, d0, progs) })
	t.Run("elsewhere", func(t *testing.T) { checkCrashElsewhere(t, in, d24) })
}

// checkCrashTerminal runs a session on a terminal (script(1) gives it a
// pty): the crash> prompt, then the commands, kept in the history file.
func checkCrashTerminal(t *testing.T, in *Instance, dump string) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Log("no script(1) to give mccrash a terminal: the prompt is not checked")
		return
	}
	home := t.TempDir()
	cmd := exec.Command("script", "-qfec", filepath.Join(in.Bin, "mccrash")+" "+dump, "/dev/null")
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Stdin = strings.NewReader("ps\nq\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "crash> ") || !strings.Contains(string(out), "COMM") {
		t.Errorf("mccrash on a terminal: %v\n%q", err, out)
	}
	if h, err := os.ReadFile(filepath.Join(home, ".mccrash_history")); err != nil || string(h) != "ps\nq\n" {
		t.Errorf("history file: %q, %v; want the two commands", h, err)
	}
}

// checkCrashElsewhere opens a dump on "another machine": the kernel
// binary it names is gone, the mckernel beside mccrash (the same build)
// is used; without one the missing binary is named.
func checkCrashElsewhere(t *testing.T, in *Instance, dump string) {
	dir := t.TempDir()
	kernel := filepath.Join(in.Bin, "mckernel")
	moved := filepath.Join(dir, "mckernel")
	if err := os.Rename(kernel, moved); err != nil {
		t.Skipf("move the kernel binary away: %v", err)
	}
	defer os.Rename(moved, kernel)
	if _, stderr, err := mccrash(t, in, []string{dump}, "ps"); err == nil || !strings.Contains(stderr, kernel) {
		t.Errorf("mccrash without the dump's kernel binary: %v\n%s, want it named", err, stderr)
	}
	self, err := os.ReadFile(filepath.Join(in.Bin, "mccrash"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "mccrash"), self, 0o755)
	cmd := exec.Command(filepath.Join(dir, "mccrash"), dump, "-c", "ps")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "COMM") {
		t.Errorf("mccrash beside the dump's mckernel build: %v\n%s", err, out)
	}
}

// mccrash runs mccrash with args and one -c per command, and returns its
// stdout and stderr.
func mccrash(t *testing.T, in *Instance, args []string, cmds ...string) (stdout, stderr string, err error) {
	t.Helper()
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	cmd := in.Cmd("mccrash", args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	// A panic a command recovered from says "internal error".
	if strings.Contains(e.String(), "panic:") || strings.Contains(e.String(), "goroutine ") || strings.Contains(e.String(), "internal error") {
		t.Errorf("mccrash %v panicked:\n%s", args, e.String())
	}
	return o.String(), e.String(), err
}

// crashOK runs one command that must succeed.
func crashOK(t *testing.T, in *Instance, src crashSource, cmd string) string {
	t.Helper()
	out, stderr, err := mccrash(t, in, src.args, cmd)
	if err != nil {
		t.Errorf("%s: mccrash -c %q: %v\n%s%s", src.name, cmd, err, out, stderr)
	}
	return out
}

// crashPS parses mccrash ps: "pid tid ST" per thread, and the threads
// marked current.
func crashPS(t *testing.T, out string) (rows, current []string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Scan() // the header
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(strings.TrimPrefix(line, ">"))
		if len(f) < 10 {
			t.Errorf("ps row %q: want PID TID PPID CPU TASK ST %%MEM VSZ RSS COMM", line)
			continue
		}
		row := f[0] + " " + f[1] + " " + f[5]
		rows = append(rows, row)
		if strings.HasPrefix(line, ">") {
			current = append(current, row)
		}
	}
	slices.Sort(rows)
	return rows, current
}

// crashST is crash's state for mcps's letter.
var crashST = map[string]string{"R": "RU", "S": "IN", "T": "ST", "Z": "ZO"}

func checkCrash(t *testing.T, in *Instance, src crashSource, progs crashPrograms) {
	cpid, gpid := strconv.Itoa(progs.cPID), strconv.Itoa(progs.goPID)
	appPages := src.level != 24

	// ps: the threads mcps shows of the same source, in crash's states;
	// the spinner current on its CPU.
	rows, current := crashPS(t, crashOK(t, in, src, "ps"))
	var want []string
	for _, r := range mcps(t, in, src.dump...) {
		if r.TID != 0 {
			want = append(want, fmt.Sprintf("%d %d %s", r.PID, r.TID, crashST[r.State]))
		}
	}
	slices.Sort(want)
	if !slices.Equal(rows, want) {
		t.Errorf("%s: mccrash ps threads\n%q\nmcps says\n%q", src.name, rows, want)
	}
	if spinner := fmt.Sprintf("%d %d RU", progs.spinPID, progs.spinPID); !slices.Contains(current, spinner) {
		t.Errorf("%s: ps marks %q current, want the spinner %q", src.name, current, spinner)
	}

	if one, _ := crashPS(t, crashOK(t, in, src, "ps "+cpid)); len(one) != 3 || !strings.HasPrefix(one[0], cpid+" ") || !strings.HasPrefix(one[2], cpid+" ") {
		t.Errorf("%s: ps %s lists %q, want the C program's 3 threads", src.name, cpid, one)
	}

	if cur := crashOK(t, in, src, "set -c 0"); !strings.Contains(cur, fmt.Sprintf("TID: %d\n", progs.spinPID)) {
		t.Errorf("%s: set -c 0 does not pick the spinner %d:\n%s", src.name, progs.spinPID, cur)
	}

	// log: the kmsg mcinspect shows.
	kmsg, err := in.Cmd("mcinspect", append(src.dump, "--kmsg")...).Output()
	if err != nil {
		t.Fatalf("mcinspect --kmsg: %v", err)
	}
	if got := crashOK(t, in, src, "log"); !strings.Contains(got, "booted") ||
		src.level >= 0 && got != string(kmsg) || src.level < 0 && !strings.HasPrefix(got, strings.TrimSpace(string(kmsg))[:100]) {
		t.Errorf("%s: log\n%s\nmcinspect --kmsg\n%s", src.name, got, kmsg)
	}

	// kmem -i: the allocator's pages as mcinspect --mem; kmem -s: every
	// thread counted.
	var mem struct {
		Pages uint64 `json:"pages"`
		Free  uint64 `json:"free_pages"`
	}
	runJSON(t, in, &mem, "mcinspect", append(src.dump, "--mem")...)
	info := crashOK(t, in, src, "kmem -i")
	for _, w := range []string{fmt.Sprintf("TOTAL MEM %13d", mem.Pages), "NODE 0:", "% of TOTAL MEM"} {
		if !strings.Contains(info, w) {
			t.Errorf("%s: kmem -i lacks %q:\n%s", src.name, w, info)
		}
	}
	if src.level >= 0 && !strings.Contains(info, fmt.Sprintf("FREE %13d", mem.Free)) {
		t.Errorf("%s: kmem -i lacks the %d free pages mcinspect --mem says:\n%s", src.name, mem.Free, info)
	}
	if slabs := crashOK(t, in, src, "kmem -s"); !regexp.MustCompile(fmt.Sprintf(`kernel/task.Thread +\d+ +%d `, len(want))).MatchString(slabs) {
		t.Errorf("%s: kmem -s does not count the %d threads:\n%s", src.name, len(want), slabs)
	}

	// vm: the VMAs mcinspect --maps lists.
	var vmas []vmaJSON
	runJSON(t, in, &vmas, "mcinspect", append(src.dump, "--maps", "-p", cpid)...)
	vm := crashOK(t, in, src, "vm "+cpid)
	if !strings.Contains(vm, "MM") || !strings.Contains(vm, "TOTAL_VM") || !strings.Contains(vm, "[heap]") {
		t.Errorf("%s: vm %s lacks the MM line or the heap:\n%s", src.name, cpid, vm)
	}
	for _, v := range vmas {
		if !regexp.MustCompile(fmt.Sprintf(`\s%x\s+%x\s`, v.Start, v.End)).MatchString(vm) {
			t.Errorf("%s: vm %s lacks the VMA %x-%x:\n%s", src.name, cpid, v.Start, v.End, vm)
		}
	}

	// p: mcinspect --print's output.
	for _, expr := range []string{"kernel.Instance.State", "len(kernel.Instance.CPUs)"} {
		want, err := in.Cmd("mcinspect", append(src.dump, "--print", expr)...).Output()
		if got := crashOK(t, in, src, "p "+expr); err != nil || got != string(want) {
			t.Errorf("%s: p %s = %q, mcinspect --print %q (%v)", src.name, expr, got, want, err)
		}
	}

	// set, struct: a thread's record by its TASK address.
	set := crashOK(t, in, src, "set "+cpid)
	task := regexp.MustCompile(`TASK: ([0-9a-f]+)`).FindStringSubmatch(set)
	if task == nil || !strings.Contains(set, "PID: "+cpid) || !strings.Contains(set, "TASK_INTERRUPTIBLE (offload)") {
		t.Fatalf("%s: set %s:\n%s", src.name, cpid, set)
	}
	if layout := crashOK(t, in, src, "struct -o task.Thread"); !strings.Contains(layout, "[0] Seq uint64") || !strings.Contains(layout, "SIZE: ") {
		t.Errorf("%s: struct task.Thread:\n%s", src.name, layout)
	}
	if v := crashOK(t, in, src, "struct task.Thread "+task[1]); !strings.Contains(v, "TID: "+cpid) {
		t.Errorf("%s: struct task.Thread %s does not show TID %s:\n%s", src.name, task[1], cpid, v)
	}

	// bt: the C program's threads in their calls, symbolised; at level
	// 24 only the frame the registers give, and why no more.
	bt := crashOK(t, in, src, "bt -a")
	for _, w := range []string{"SYSCALL: read (0)", "offload wait", "executed by mcexec thread", "SYSCALL: futex (202)", "futex wait", "#0 [", "] read at ", "runtime"} {
		if !strings.Contains(bt, w) {
			t.Errorf("%s: bt -a lacks %q:\n%s", src.name, w, bt)
		}
	}
	for _, w := range []string{"] main at ", "] waiter at ", "] reader at ", "coreme.c: ", "] __libc_start_main at "} {
		if strings.Contains(bt, w) != appPages {
			t.Errorf("%s: bt -a has %q: %v, want %v:\n%s", src.name, w, !appPages, appPages, bt)
		}
	}
	if !appPages && !strings.Contains(bt, "level 24") {
		t.Errorf("%s: bt -a does not say why it stopped:\n%s", src.name, bt)
	}
	if one := crashOK(t, in, src, "bt "+gpid); !strings.Contains(one, "PID: "+gpid) || !strings.Contains(one, "runtime") ||
		appPages && (!strings.Contains(one, "] main.main at ") || !strings.Contains(one, "] runtime.main at ")) {
		t.Errorf("%s: bt of the Go program:\n%s", src.name, one)
	}

	// The dynamic program's frames in libc, found by the dynamic linker's
	// link map, are named from its dynamic symbols and unwound by its
	// .eh_frame, up to main. At level 24 the link map is not in the dump:
	// frame #0 is unnamed, and the unwind says why it stops.
	dyn := crashOK(t, in, src, "bt "+strconv.Itoa(progs.dynPID))
	libcFrame := regexp.MustCompile(`(?m)^ #0 \[[0-9a-f]+\] \w*read at [0-9a-f]+ \[libc.so.6\]$`)
	if appPages && (!libcFrame.MatchString(dyn) || !strings.Contains(dyn, "] main at ")) ||
		!appPages && (!strings.Contains(dyn, " #0 [") || !strings.Contains(dyn, "unwind stopped")) {
		t.Errorf("%s: bt of the dynamic program:\n%s", src.name, dyn)
	}

	// sym and dis: main of the context app, both ways, and as objdump
	// disassembles it.
	// The context is the spinner, current on its CPU: set it to the C
	// program's main thread first.
	ctx := "set " + cpid + "; "
	sym := crashOK(t, in, src, ctx+"sym main")
	addr := regexp.MustCompile(`(?m)^([0-9a-f]+) \(T\) main \[coreme`).FindStringSubmatch(sym)
	if addr == nil {
		t.Fatalf("%s: sym main:\n%s", src.name, sym)
	}
	if back := crashOK(t, in, src, ctx+"sym 0x"+addr[1]); !strings.Contains(back, " main [") {
		t.Errorf("%s: sym 0x%s:\n%s", src.name, addr[1], back)
	}
	if k := crashOK(t, in, src, "sym main.main"); !strings.Contains(k, "(T) main.main") || strings.Contains(k, "[") {
		t.Errorf("%s: sym main.main (the daemon's):\n%s", src.name, k)
	}
	checkDis(t, in, src, ctx, progs.cExe, addr[1])
	if k := crashOK(t, in, src, "dis main.main 3"); len(regexp.MustCompile(`(?m)^0x[0-9a-f]+ <main.main(\+\d+)?>:\t`).FindAllString(k, -1)) != 3 {
		t.Errorf("%s: dis main.main 3 (the daemon's, the C spinner being the context):\n%s", src.name, k)
	}

	// rd -u: the string the program wrote, at level 0 and live only.
	strAddr := regexp.MustCompile(`(?m)^([0-9a-f]+) \(B\) coreme_str`).FindStringSubmatch(crashOK(t, in, src, ctx+"sym coreme_str"))
	if strAddr == nil {
		t.Fatalf("%s: sym coreme_str found no bss symbol", src.name)
	}
	out, stderr, err := mccrash(t, in, src.args, ctx+"rd -u "+strAddr[1]+" 4")
	if appPages && (err != nil || !strings.Contains(out, "gomck core strin")) {
		t.Errorf("%s: rd -u coreme_str: %v\n%s%s", src.name, err, out, stderr)
	}
	if !appPages && (err == nil || !strings.Contains(stderr, "level 24 holds no partition pages")) {
		t.Errorf("%s: rd -u of an app page from a level 24 dump: %v\n%s%s, want refused, saying so", src.name, err, out, stderr)
	}
	// rd -p: the partition, at level 0 and live only.
	out, stderr, err = mccrash(t, in, src.args, "rd -p 0 2")
	if appPages && (err != nil || !regexp.MustCompile(`^0:  [0-9a-f]{16} [0-9a-f]{16}   `).MatchString(out)) {
		t.Errorf("%s: rd -p 0 2: %v\n%s%s", src.name, err, out, stderr)
	}
	if !appPages && (err == nil || !strings.Contains(stderr, "level 24")) {
		t.Errorf("%s: rd -p of a level 24 dump: %v\n%s%s, want refused, saying so", src.name, err, out, stderr)
	}
	// rd: the daemon's own memory, its ELF header.
	if hdr := crashOK(t, in, src, "rd 400000 2"); !strings.Contains(hdr, "400000:  ") || !strings.Contains(hdr, ".ELF") {
		t.Errorf("%s: rd 400000 (the daemon's ELF header):\n%s", src.name, hdr)
	}

	// files: mcexec's descriptors, the pipe among them.
	files := crashOK(t, in, src, "files "+cpid)
	for _, w := range []string{"FD  TYPE", "  3  FIFO", "pipe:["} {
		if !strings.Contains(files, w) {
			t.Errorf("%s: files %s lacks %q:\n%s", src.name, cpid, w, files)
		}
	}

	// sig: dispositions, and each thread's masks.
	sig := crashOK(t, in, src, "sig "+cpid)
	for _, w := range []string{"[9] SIGKILL", "SIG_DFL", "SHARED_PENDING", "BLOCKED:", "THREAD: " + cpid} {
		if !strings.Contains(sig, w) {
			t.Errorf("%s: sig %s lacks %q:\n%s", src.name, cpid, w, sig)
		}
	}
}

// checkDis compares dis of main with objdump's mnemonics of it.
func checkDis(t *testing.T, in *Instance, src crashSource, ctx, exe, addr string) {
	t.Helper()
	const n = 8
	dis := crashOK(t, in, src, ctx+"dis -l main "+strconv.Itoa(n))
	insn := regexp.MustCompile(`(?m)^0x([0-9a-f]+) <main(\+\d+)?>:\t(\S+)`)
	got := insn.FindAllStringSubmatch(dis, -1)
	if len(got) != n || got[0][1] != addr || !strings.Contains(dis, "coreme.c: ") {
		t.Fatalf("%s: dis -l main %d:\n%s", src.name, n, dis)
	}
	start, _ := strconv.ParseUint(addr, 16, 64)
	out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", fmt.Sprintf("--start-address=%#x", start),
		fmt.Sprintf("--stop-address=%#x", start+64), exe).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	line := regexp.MustCompile(`(?m)^\s+([0-9a-f]+):\s+(\S+)`)
	want := line.FindAllStringSubmatch(string(out), n)
	for i := range min(len(want), len(got)) {
		// Capstone's AT&T mnemonics carry the operand size that
		// objdump leaves out where the operands say it (pushq, push).
		g, w := got[i][3], want[i][2]
		if got[i][1] != want[i][1] || g != w && !(g[:len(g)-1] == w && strings.ContainsRune("qlwb", rune(g[len(g)-1]))) {
			t.Errorf("%s: dis main: instruction %d is %s %s, objdump says %s %s", src.name, i, got[i][1], g, want[i][1], w)
		}
	}
}

// checkCrashBadInput: truncated, foreign and missing dumps, another
// kernel build, and garbage arguments are refused with a clear message.
func checkCrashBadInput(t *testing.T, in *Instance, d0 string) {
	dir := t.TempDir()
	whole, err := os.ReadFile(d0)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut")
	os.WriteFile(cut, whole[:len(whole)/2], 0o600)
	// Bytes flipped all through the memory blocks: the commands that can
	// still read something do, the others say why; none panics
	// (mccrash checks).
	flipped := filepath.Join(dir, "flipped")
	bad := slices.Clone(whole)
	for at := 4096; at < len(bad); at += len(bad) / 97 {
		bad[at] ^= 0x5a
	}
	os.WriteFile(flipped, bad, 0o600)
	mccrash(t, in, []string{flipped}, "ps", "bt -a", "log", "kmem -i", "kmem -s", "vm", "files", "sig", "sym main", "dis main", "rd -u 400000 4")
	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte("not a dump at all\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"truncated", []string{cut}, "offset"},
		{"foreign ELF", []string{filepath.Join(in.Bin, "mcstop")}, "core"},
		{"text", []string{text}, "bad magic number"},
		{"missing", []string{filepath.Join(dir, "none")}, "no such file"},
		{"other build", []string{"-k", filepath.Join(in.Bin, "mcstop"), d0}, "build id mismatch"},
		{"other build live", []string{"--live", "-k", filepath.Join(in.Bin, "mcstop")}, "build id mismatch"},
		{"no instance", []string{"--live", "-i", "7"}, "instance 7 is not booted"},
	} {
		_, stderr, err := mccrash(t, in, tc.args, "ps")
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: mccrash %v: %v\n%s, want refused saying %q", tc.name, tc.args, err, stderr, tc.want)
		}
	}
	for _, cmd := range []string{"rd zzz", "rd 0 1", "rd -u 0 1", "rd -p ffffffffffff", "dis nosuchsymbol", "sym 1", "bt 999999",
		"set 0", "set -c 5", "set -c 0 1", "vm -1", "struct nosuchtype", "struct task.Thread 10", "p kernel.Nothing", "p (", "kmem", "kmem -x",
		"sig 999999", "files abc"} {
		out, stderr, err := mccrash(t, in, []string{d0}, cmd)
		if err == nil || !strings.HasPrefix(stderr, "mccrash: ") {
			t.Errorf("mccrash -c %q: %v\n%s%s, want an error message", cmd, err, out, stderr)
		}
	}
}

// checkCrashSessions: commands from stdin without a terminal (no prompt),
// ';' between commands, an unknown one in the middle, and quit.
func checkCrashSessions(t *testing.T, in *Instance, d0 string, progs crashPrograms) {
	cmd := in.Cmd("mccrash", d0)
	cmd.Stdin = strings.NewReader("ps\nfoo\nset " + strconv.Itoa(progs.goPID) + "; vm\nq\nlog\n")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("a session with an unknown command exited 0")
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("mccrash reading stdin did not end")
	}
	out := o.String()
	switch {
	case strings.Contains(out, "crash>"):
		t.Errorf("a session on a pipe prompts:\n%s", out)
	case !strings.Contains(e.String(), "mccrash: command not found: foo"):
		t.Errorf("unknown command: stderr %q", e.String())
	case !strings.Contains(out, "COMM") || !strings.Contains(out, "COMMAND: \"corego") || !strings.Contains(out, "TOTAL_VM"):
		t.Errorf("ps; set; vm after an unknown command:\n%s", out)
	case strings.Contains(out, "booted"):
		t.Errorf("log ran after q:\n%s", out)
	}
	checkCrashTerminal(t, in, d0)
	if out, _, err := mccrash(t, in, []string{d0}, "ps; log"); err != nil || !strings.Contains(out, "COMM") || !strings.Contains(out, "booted") {
		t.Errorf("-c 'ps; log': %v\n%s", err, out)
	}
	if out, _, err := mccrash(t, in, []string{d0}, "help", "help bt"); err != nil || !strings.Contains(out, "kmem") || !strings.Contains(out, "bt [-a] [PID|TID]") {
		t.Errorf("help; help bt: %v\n%s", err, out)
	}
}
