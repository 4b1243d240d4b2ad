package testprog

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// cPrograms lists the C programs in dir (relative to the root) by name.
func cPrograms(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Root(), dir, "*.c"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no C programs in %s: %v", dir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".c"))
	}
	return names
}

func TestRoot(t *testing.T) {
	if _, err := os.Stat(filepath.Join(Root(), "go.mod")); err != nil {
		t.Fatalf("Root() = %q: %v", Root(), err)
	}
}

func TestBuildAll(t *testing.T) {
	var names []string
	names = append(names, cPrograms(t, "testdata/c")...)
	names = append(names, cPrograms(t, "bench/c")...)
	for _, name := range names {
		if MPIOnly(name) {
			for _, impl := range MPIs {
				t.Run(name+"-"+impl, func(t *testing.T) {
					t.Parallel()
					if p, again := MustMPI(t, impl, name), MustMPI(t, impl, name); p != again {
						t.Errorf("second build of %s gave %s, want cached %s", name, again, p)
					}
				})
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			build := MustC
			if DynamicOnly(name) {
				build = MustCDynamic
			}
			p := build(t, name)
			again := build(t, name)
			if p != again {
				t.Errorf("second build of %s gave %s, want cached %s", name, again, p)
			}
		})
	}
	t.Run("gohello", func(t *testing.T) {
		t.Parallel()
		MustGo(t, "gohello")
	})
}

// TestNoWarnings holds the C programs to the project rule of compiling
// without warnings; the cached builds do not fail on warnings, so a newer
// gcc cannot break every test that needs a program.
func TestNoWarnings(t *testing.T) {
	if _, err := gccInfo(); err != nil {
		t.Skip(err)
	}
	for _, dir := range []string{"testdata/c", "bench/c"} {
		for _, name := range cPrograms(t, dir) {
			src := filepath.Join(Root(), dir, name+".c")
			text, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{}, cFlags...), "-Werror", "-c", "-o", os.DevNull, src)
			args = append(args, extraCFlags(text)...)
			compilers := []string{"gcc"}
			if mpiOnly(text) {
				compilers = nil
				for _, impl := range MPIs {
					if cc, err := exec.LookPath("mpicc." + impl); err == nil {
						compilers = append(compilers, cc)
					}
				}
			}
			for _, cc := range compilers {
				if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
					t.Errorf("%s (%s): %v\n%s", src, cc, err, out)
				}
			}
		}
	}
}

func TestExtraCFlags(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"int main(void) { return 0; }\n", nil},
		{"// cflags: -fopenmp\nint x;\n", []string{"-fopenmp"}},
		{"/* About. */\n\n//cflags:  -fopenmp   -pthread \n// cflags: -lm\n", []string{"-fopenmp", "-pthread", "-lm"}},
		{"// A comment.\n  // cflags: -lm\n#include <math.h>\n", []string{"-lm"}},
		{"#include <stdio.h>\n// cflags: -lm\n", nil}, // only leading comments count
		{"/* cflags: -lm */\n", nil},
		{"// cflags:\n", nil},
	}
	for _, tc := range tests {
		if got := extraCFlags([]byte(tc.src)); !slices.Equal(got, tc.want) {
			t.Errorf("extraCFlags(%q) = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestBadNames(t *testing.T) {
	for _, name := range []string{"", "..", "../c/hello", "nosuchprogram"} {
		if _, err := C(name); err == nil {
			t.Errorf("C(%q) succeeded", name)
		}
		if _, err := Go(name); err == nil {
			t.Errorf("Go(%q) succeeded", name)
		}
	}
}

type result struct {
	stdout, stderr string
	exit           int            // -1 when killed by a signal
	signal         syscall.Signal // 0 unless killed by a signal
}

func run(t *testing.T, dir, path, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(path, args...)
	// A private directory also catches core files from the signal cases.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s: %v", path, err)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), exit: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.signal = ws.Signal()
	}
	return r
}

// stdinData is deterministic input for the stdin program.
func stdinData() string {
	b := make([]byte, 1<<20+17)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return string(b)
}

// TestNative runs the comparison programs natively: they must succeed (or
// fail as asked) and print the same thing twice, which is what the LWK tests
// rely on when they compare a native run with one under the LWK.
func TestNative(t *testing.T) {
	files := t.TempDir()
	input := stdinData()
	tests := []struct {
		name, prog, stdin string
		args, env         []string
		exit              int
		signal            syscall.Signal
		want              []string // substrings of stdout
	}{
		{name: "hello", prog: "hello", want: []string{"hello, world\n"}},
		{name: "args", prog: "args", args: []string{"one", "two words", ""},
			env:  []string{"GOMCK_TEST_A=1", "GOMCK_TEST_B=x y", "OTHER_GOMCK_T=no"},
			want: []string{"argc 4\n", "argv[2] two words\n", "env GOMCK_TEST_A=1\n", "execfn ok\n", "auxv ok\n"}},
		{name: "files", prog: "files", args: []string{files}, want: []string{"first fd 3\n", "files ok\n"}},
		{name: "pipes", prog: "pipes", want: []string{"pipes ok\n"}},
		{name: "malloc", prog: "malloc", want: []string{"malloc ok\n"}},
		{name: "mmap", prog: "mmap", want: []string{"mmap ok: private file mapping\n"}},
		{name: "brk", prog: "brk", want: []string{"brk ok\n"}},
		{name: "stdin", prog: "stdin", stdin: input, want: []string{"bytes 1048593 "}},
		{name: "stdin-empty", prog: "stdin", want: []string{"bytes 0 adler32 00000001\n"}},
		{name: "exit0", prog: "exitcode"},
		{name: "exit3", prog: "exitcode", args: []string{"3"}, exit: 3},
		{name: "abort", prog: "exitcode", args: []string{"abort"}, exit: -1, signal: syscall.SIGABRT},
		{name: "segv", prog: "exitcode", args: []string{"segv"}, exit: -1, signal: syscall.SIGSEGV},
		{name: "pthreads", prog: "pthreads", want: []string{"mutex counter ok\n", "condvar sum 50005000\n",
			"barrier rounds 100 serial 100 bad 0\n", "tls ok, main keeps 7 m\n", "short threads 200 sum 39800\n"}},
		{name: "pthreads4", prog: "pthreads", args: []string{"4"}, want: []string{"bad 0\n", "tls ok"}},
		{name: "openmp", prog: "openmp", want: []string{"team size as expected, thread numbers ok\n",
			"reduction sum 500000500000 dsum 499500000\n", "tasks fib(25) 75025\n", "ordered 1000 wrong 0\n"}},
		{name: "openmp3", prog: "openmp", env: []string{"OMP_NUM_THREADS=3"}, want: []string{"team size as expected"}},
		{name: "forkwait", prog: "forkwait", want: []string{"child abort(): signal 6\n", "no children: -1 No child processes\n",
			"child-mode 11\nfork+execv self: exit 11\n", "posix_spawn self: Success, exit 12\n", "failures 0\n"}},
		{name: "sigextra", prog: "sigextra", want: []string{"stack overflow: sig 11 on altstack 1\n",
			"read -1 (Interrupted system call)", "read 1 (ok), byte 'r'", "value 1234 from self 1\n",
			"queued SIGRTMIN values: 1 2 3; SIGUSR1 value 11\n", "status 4 pid ok"}},
		{name: "jobctl", prog: "jobctl", want: []string{"signal 20: stopped by 20, quiet yes, again: nothing; SIGCONT: continued",
			"first output 'C'", "pending SIGTSTP: unblocked, stopped by 20\n", "pending SIGTSTP then SIGCONT: unblocked yes, nothing\n",
			"SIGCHLD CLD_CONTINUED status 18 pid ok\n", "SA_NOCLDSTOP: stop stopped by 19, no SIGCHLD\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := MustC(t, tc.prog)
			first := run(t, t.TempDir(), path, tc.stdin, tc.env, tc.args...)
			if first.exit != tc.exit || first.signal != tc.signal {
				t.Fatalf("exit %d signal %v, want exit %d signal %v\nstdout:\n%s\nstderr:\n%s",
					first.exit, first.signal, tc.exit, tc.signal, first.stdout, first.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(first.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, first.stdout)
				}
			}
			if tc.signal == 0 && first.stderr != "" {
				t.Errorf("unexpected stderr:\n%s", first.stderr)
			}
			second := run(t, t.TempDir(), path, tc.stdin, tc.env, tc.args...)
			if second != first {
				t.Errorf("second run differs:\nfirst %+v\nsecond %+v", first, second)
			}
		})
	}
}

func TestGoHello(t *testing.T) {
	path := MustGo(t, "gohello")
	dir := t.TempDir()
	def := run(t, dir, path, "", nil)
	one := run(t, dir, path, "", []string{"GOMAXPROCS=1"})
	if def.exit != 0 || !strings.HasSuffix(def.stdout, "gohello ok\n") || def.stderr != "" {
		t.Fatalf("gohello: %+v", def)
	}
	if one != def {
		t.Errorf("GOMAXPROCS=1 output differs:\n%+v\n%+v", def, one)
	}
}

func TestSysinfo(t *testing.T) {
	r := run(t, t.TempDir(), MustC(t, "sysinfo"), "", nil)
	if r.exit != 0 || !strings.Contains(r.stdout, "pagesize 4096\n") {
		t.Fatalf("sysinfo: %+v", r)
	}
}

// allowedCPUs returns the CPUs this process may run on.
func allowedCPUs(t *testing.T) []int {
	var mask [16]uint64
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	if errno != 0 {
		t.Fatalf("sched_getaffinity: %v", errno)
	}
	var cpus []int
	for i, w := range mask {
		for b := range 64 {
			if w&(1<<b) != 0 {
				cpus = append(cpus, i*64+b)
			}
		}
	}
	return cpus
}

var nsRE = regexp.MustCompile(`^ns/(op|page) ([0-9]+\.[0-9])\n$`)

func TestBench(t *testing.T) {
	cpus := allowedCPUs(t)
	if len(cpus) == 0 {
		t.Fatal("no allowed CPUs")
	}
	// CPU 1 keeps clear of CPU 0, which usually takes more interrupts.
	cpu := cpus[0]
	for _, c := range cpus {
		if c == 1 {
			cpu = 1
		}
	}
	n := "100000"
	if testing.Short() {
		n = "10000"
	}
	tests := []struct {
		prog string
		args []string
	}{
		{"ptrace_floor", []string{strconv.Itoa(cpu), n}},
		{"getpid_loop", []string{"100000"}},
		{"devnull_loop", []string{"100000"}},
		{"touch", []string{"64"}},
	}
	for _, tc := range tests {
		r := run(t, t.TempDir(), MustC(t, tc.prog), "", nil, tc.args...)
		m := nsRE.FindStringSubmatch(r.stdout)
		if r.exit != 0 || m == nil {
			t.Errorf("%s %v: %+v", tc.prog, tc.args, r)
			continue
		}
		t.Logf("%s %s: ns/%s %s", tc.prog, strings.Join(tc.args, " "), m[1], m[2])
	}
}

func TestBusybox(t *testing.T) {
	bb, err := Busybox()
	if err != nil {
		t.Skip(err)
	}
	r := run(t, t.TempDir(), bb, "", nil, "echo", "hi")
	if r.exit != 0 || r.stdout != "hi\n" {
		t.Fatalf("%s echo hi: %+v", bb, r)
	}
}
