package lwktest

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
)

// The helpers of the core file tests: where Linux puts a core
// (core_pattern), deaths with a core natively and on the LWK under the
// same shell, and what gdb, readelf, eu-readelf and dlv make of a core.
// Nothing here knows how the LWK writes cores: the tests read them with
// the tools people use, beside a core Linux wrote for the same program.

// needTools skips the test unless every tool is installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/deps.sh installs it)", tool)
		}
	}
}

// dlvPath is delve's dlv, which go install puts in GOPATH/bin.
func dlvPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("dlv"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "dlv")
	if _, serr := os.Stat(p); err != nil || serr != nil {
		t.Skip("dlv not installed: go install github.com/go-delve/delve/cmd/dlv@v1.27.2")
	}
	return p
}

const (
	corePatternFile = "/proc/sys/kernel/core_pattern"
	coreUsesPIDFile = "/proc/sys/kernel/core_uses_pid"
)

// setCorePattern makes Linux's core_pattern and core_uses_pid (which the
// LWK follows too) pattern and usesPID until the test ends. Both are the
// machine's: the cleanup puts back what they were.
func setCorePattern(t *testing.T, pattern string, usesPID bool) {
	t.Helper()
	uses := "0"
	if usesPID {
		uses = "1"
	}
	for _, s := range []struct{ file, value string }{{corePatternFile, pattern}, {coreUsesPIDFile, uses}} {
		old, err := os.ReadFile(s.file)
		if err != nil {
			t.Fatal(err)
		}
		if string(bytes.TrimSuffix(old, []byte("\n"))) == s.value {
			continue
		}
		if err := os.WriteFile(s.file, []byte(s.value+"\n"), 0); err != nil {
			t.Fatalf("set %s to %q: %v", s.file, s.value, err)
		}
		t.Cleanup(func() {
			if err := os.WriteFile(s.file, old, 0); err != nil {
				t.Errorf("restore %s to %q: %v", s.file, old, err)
			}
		})
	}
}

// coreName is where Linux puts the core of proc for pattern (plain, not a
// pipe) and core_uses_pid, as a regular expression of the path relative to
// the dumper's cwd (core(5)): %t, the time of the dump, is any number.
func coreName(pattern string, usesPID bool, p dumpee) string {
	var b strings.Builder
	hasPID := false
	lit := func(s string) { b.WriteString(regexp.QuoteMeta(s)) }
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '%' || i+1 == len(pattern) {
			lit(pattern[i : i+1])
			continue
		}
		i++
		switch pattern[i] {
		case '%':
			lit("%")
		case 'p', 'P':
			hasPID = true
			lit(strconv.Itoa(p.pid))
		case 'i', 'I':
			lit(strconv.Itoa(p.tid))
		case 'u':
			lit(strconv.Itoa(os.Getuid()))
		case 'g':
			lit(strconv.Itoa(os.Getgid()))
		case 's':
			lit(strconv.Itoa(int(p.sig)))
		case 't':
			b.WriteString(`[0-9]+`)
		case 'h':
			host, _ := os.Hostname()
			lit(host)
		case 'e':
			lit(p.comm)
		case 'E':
			lit(strings.ReplaceAll(p.exe, "/", "!"))
		case 'c':
			lit(p.limit)
		}
	}
	if usesPID && !hasPID {
		lit("." + strconv.Itoa(p.pid))
	}
	return "^" + b.String() + "$"
}

// dumpee is what core_pattern's specifiers name about a dying process.
type dumpee struct {
	pid, tid  int
	sig       syscall.Signal
	comm, exe string
	limit     string // RLIMIT_CORE as %c prints it
}

// coreOpts is how a program is set to dump: the shell's ulimit -c (""
// is unlimited) and the core dump filter mcexec inherits ("" as is).
type coreOpts struct {
	limit  string
	filter string
	env    []string
}

// death is how a program run by dieIn ended.
type death struct {
	dir string // its cwd, where a relative pattern puts the core
	res Result
	pid int // its getpid(), from its ready line: the LWK pid under mcexec
}

// dieIn runs argv in dir with the core limit and filter of o, natively
// when in is nil and under in's mcexec otherwise, through the same shell
// line, and waits for its end: the program prints "ready PID" and dies
// (or exits).
func dieIn(t *testing.T, in *Instance, dir string, o coreOpts, argv ...string) death {
	t.Helper()
	limit := o.limit
	if limit == "" {
		limit = "unlimited"
	}
	script := "ulimit -c " + limit + " || exit 100; "
	if o.filter != "" {
		// The filter is the dumper's: mcexec's for the LWK, as Linux
		// passes it on to children.
		script += "echo " + o.filter + " > /proc/self/coredump_filter || exit 101; "
	}
	script += `exec "$@"`
	env := os.Environ()
	if in != nil {
		lwk := in.Mcexec(argv...)
		argv, env = lwk.Args, lwk.Env
		argv[0] = lwk.Path
	}
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, argv...)...)
	cmd.Dir = dir
	cmd.Env = append(env, o.env...)
	d := death{dir: dir, res: Run(cmd, "")}
	if _, err := fmt.Sscanf(d.res.Stdout, "ready %d\n", &d.pid); err != nil {
		t.Fatalf("%s in %s never got ready: %v", where(in), dir, d.res)
	}
	return d
}

// where names the side a run was on in messages.
func where(in *Instance) string {
	if in == nil {
		return "natively"
	}
	return "on the LWK"
}

func dirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// kmsg is the instance's kernel log.
func kmsg(t *testing.T, in *Instance) string {
	t.Helper()
	out, err := in.Cmd("ihkosctl", strconv.Itoa(in.Index), "kmsg").CombinedOutput()
	if err != nil {
		t.Fatalf("ihkosctl kmsg: %v\n%s", err, out)
	}
	return string(out)
}

// kmsgSince waits for the kernel log to say what became of a core, after
// the log was before, and returns the new lines: the core line may come
// a little after the death is reported.
func kmsgSince(t *testing.T, in *Instance, before string) string {
	t.Helper()
	var added string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		now := kmsg(t, in)
		added = strings.TrimPrefix(now, before)
		if coreLineRE.MatchString(added) || time.Now().After(deadline) {
			return added
		}
	}
}

// coreLineRE is the kernel log's word on a core: dumped, piped or not.
// A cut core's size is followed by why ("(65536 bytes, cut by ...)").
var coreLineRE = regexp.MustCompile(`core dumped to (\S+) \(([0-9]+) bytes[^)]*\)|core piped to (\S+) \(([0-9]+) bytes[^)]*\)|no core: .*`)

// gdbSections runs gdb in batch mode on exe and core (none if "": a
// command then says what to debug) with cmds and returns each command's
// output (stdout and stderr, as gdb interleaves them), keyed by the
// command.
func gdbSections(t *testing.T, exe, core string, cmds ...string) map[string]string {
	t.Helper()
	args := []string{"-batch", "-nx", "-ex", "set pagination off", "-ex", "set width 0"}
	for i, c := range cmds {
		args = append(args, "-ex", fmt.Sprintf(`echo \n@@gomck %d@@\n`, i), "-ex", c)
	}
	args = append(args, exe)
	if core != "" {
		args = append(args, core)
	}
	cmd := exec.Command("gdb", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gdb %s %s: %v\n%s", exe, core, err, out)
	}
	sections := map[string]string{}
	parts := regexp.MustCompile(`(?m)^@@gomck ([0-9]+)@@\n`).Split(string(out), -1)
	for i, c := range cmds {
		if i+1 < len(parts) {
			sections[c] = strings.TrimSpace(parts[i+1])
		}
	}
	return sections
}

var (
	frameRE   = regexp.MustCompile(`(?m)^#[0-9]+\s+(?:0x[0-9a-f]+ in )?(\S+) \(`)
	threadRE  = regexp.MustCompile(`(?m)^\*?\s+[0-9]+\s+(?:Thread|LWP|process) `)
	valueRE   = regexp.MustCompile(`^\$[0-9]+ = `)
	addrRE    = regexp.MustCompile(`0x[0-9a-f]+`)
	symbolRE  = regexp.MustCompile(`<[^>]+>`)
	xAddrRE   = regexp.MustCompile(`(?m)^0x[0-9a-f]+(?: <[^>]*>)?:\s*`)
	blockRE   = regexp.MustCompile(`(?m)^Thread [0-9]+ `)
	ansiRE    = regexp.MustCompile("\x1b\\[[0-9;]*m")
	noteRE    = regexp.MustCompile(`(?m)^\s+(\S+)\s+0x[0-9a-f]+\s+(NT_\S+|Unknown note type: \(0x[0-9a-f]+\))`)
	euNoteRE  = regexp.MustCompile(`(?m)^  (\S+)\s+[0-9]+  (\S.*)$`)
	euFieldRE = regexp.MustCompile(`(?m)^    ((?:fname|psargs|info\.si_signo|si_signo|fault address|pid):.*)$`)
)

// The reductions of gdb output to what must agree between an LWK core
// and a native one: not addresses, which differ, but values and symbols.

// frames is a backtrace's function names, innermost first. A thread's
// first frame is clone3 natively and clone on the LWK, which refuses
// clone3 (ENOSYS, as McKernel) so that glibc falls back to clone: the
// same start, by another call.
func frames(out string) string {
	var fns []string
	for _, m := range frameRE.FindAllStringSubmatch(out, -1) {
		if m[1] == "clone3" {
			m[1] = "clone"
		}
		fns = append(fns, m[1])
	}
	return strings.Join(fns, " ")
}

// threadCount is how many threads info threads lists.
func threadCount(out string) string {
	return fmt.Sprintf("%d threads", len(threadRE.FindAllString(out, -1)))
}

// stacks is the backtrace of every thread (thread apply all bt), as a
// sorted list of their function names: the thread numbers are gdb's.
func stacks(out string) string {
	var all []string
	for _, block := range blockRE.Split(out, -1)[1:] {
		all = append(all, "["+frames(block)+"]")
	}
	slices.Sort(all)
	return strings.Join(all, " ")
}

// value is what print printed, without its history number and with any
// address blanked.
func value(out string) string {
	return addrRE.ReplaceAllString(valueRE.ReplaceAllString(out, ""), "0x…")
}

// exact is what print printed, without its history number: for values
// that are addresses known in advance (a fault at 0).
func exact(out string) string { return valueRE.ReplaceAllString(out, "") }

// symbol is the <function+offset> an address is shown as.
func symbol(out string) string { return strings.Join(symbolRE.FindAllString(out, -1), " ") }

// examined is what x/s showed, without the address it was at.
func examined(out string) string { return xAddrRE.ReplaceAllString(out, "") }

// noteTypes is the sequence of notes readelf -n lists, as OWNER/TYPE.
func noteTypes(t *testing.T, core string) []string {
	t.Helper()
	out, err := exec.Command("readelf", "-n", "-W", core).CombinedOutput()
	if err != nil {
		t.Fatalf("readelf -n %s: %v\n%.2000s", core, err, out)
	}
	var types []string
	for _, m := range noteRE.FindAllStringSubmatch(string(out), -1) {
		types = append(types, m[1]+"/"+m[2])
	}
	return types
}

// euNotes is eu-readelf -n's view of a core: the note types in order and
// the fields of them that name the process and its death.
func euNotes(t *testing.T, core string) (types, fields []string) {
	t.Helper()
	out, err := exec.Command("eu-readelf", "-n", core).CombinedOutput()
	if err != nil {
		t.Fatalf("eu-readelf -n %s: %v\n%.2000s", core, err, out)
	}
	for _, m := range euNoteRE.FindAllStringSubmatch(string(out), -1) {
		types = append(types, m[1]+"/"+m[2])
	}
	for _, m := range euFieldRE.FindAllStringSubmatch(string(out), -1) {
		fields = append(fields, m[1])
	}
	return types, fields
}

// loadsOK checks a core's PT_LOAD segments as Linux lays them out: in
// address order, apart, each with all of its bytes in the file, none (a
// VMA the filter leaves out) or its first page (an ELF header), within
// the file unless it is cut short by RLIMIT_CORE (truncated).
func loadsOK(t *testing.T, core string, truncated bool) []elf.ProgHeader {
	t.Helper()
	f, err := elf.Open(core)
	if err != nil {
		t.Fatalf("%s: %v", core, err)
	}
	defer f.Close()
	st, err := os.Stat(core)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_CORE || f.Machine != elf.EM_X86_64 {
		t.Errorf("%s: type %v machine %v, want ET_CORE EM_X86_64", core, f.Type, f.Machine)
	}
	var loads []elf.ProgHeader
	var end uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		h := p.ProgHeader
		if len(loads) > 0 && h.Vaddr < end {
			t.Errorf("%s: PT_LOAD at %#x overlaps or precedes the one ending at %#x", core, h.Vaddr, end)
		}
		end = h.Vaddr + h.Memsz
		if h.Filesz != 0 && h.Filesz != h.Memsz && h.Filesz != 4096 {
			t.Errorf("%s: PT_LOAD at %#x has %#x of its %#x bytes in the file", core, h.Vaddr, h.Filesz, h.Memsz)
		}
		if !truncated && h.Off+h.Filesz > uint64(st.Size()) {
			t.Errorf("%s: PT_LOAD at %#x ends at file offset %#x, past the file's %#x bytes", core, h.Vaddr, h.Off+h.Filesz, st.Size())
		}
		loads = append(loads, h)
	}
	if len(loads) == 0 {
		t.Errorf("%s: no PT_LOAD", core)
	}
	return loads
}

// dlvCore runs dlv core on exe and core with cmds on its stdin and
// returns what it printed, without colours.
func dlvCore(t *testing.T, exe, core string, cmds ...string) string {
	t.Helper()
	cmd := exec.Command(dlvPath(t), "core", "--allow-non-terminal-interactive=true", exe, core)
	cmd.Stdin = strings.NewReader(strings.Join(append(cmds, "exit"), "\n") + "\n")
	cmd.Env = append(os.Environ(), "TERM=dumb")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("dlv core %s %s hung:\n%s", exe, core, out)
	}
	if err != nil {
		t.Fatalf("dlv core %s %s: %v\n%s", exe, core, err, out)
	}
	return ansiRE.ReplaceAllString(string(out), "")
}

// goroutineRE is a goroutine's head line in dlv's goroutines list: its
// id, the user function it is in and, if it waits, why.
var goroutineRE = regexp.MustCompile(`(?m)^\s*\*?\s*Goroutine ([0-9]+) - User: \S+ (\S+) \(0x[0-9a-f]+\)(?: \[([^\]]*)\])?`)

// goroutines is dlv's goroutines list reduced to what must agree between
// cores: how many, and the program's own (main.*) ones by function and
// wait reason, sorted.
func goroutines(out string) (n int, mine []string) {
	for _, m := range goroutineRE.FindAllStringSubmatch(out, -1) {
		n++
		if strings.HasPrefix(m[2], "main.") {
			mine = append(mine, m[2]+" ["+m[3]+"]")
		}
	}
	slices.Sort(mine)
	return n, mine
}

// progCopy copies a test program into a directory of its own as name:
// the name is what %e and the notes show, the same for every build.
func progCopy(t *testing.T, path, name string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), name, b, 0o755)
}

// coremeBuilds are the two ways the C program is linked: the LWK loads
// the static one itself and the dynamic one with ld.so's help, which
// changes the mappings a core holds.
var coremeBuilds = []struct {
	name  string
	build func(testing.TB, string) string
}{
	{"static", testprog.MustC},
	{"dynamic", testprog.MustCDynamic},
}

// mappedText is what coreme's file mapping holds, which x/s shows: a
// string, then zeros to the end of the page, so that gdb, which reads an
// unmodified file mapping from the file (NT_FILE), finds its end there.
var mappedText = append([]byte("gomck mapped file\n"), make([]byte, 4096-18)...)
