package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/internal/testprog"
)

// TestRun: ';' separates commands, an unknown one is reported as crash
// does and the others still run, q ends the line there.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		line      string
		wantOut   []string
		wantErr   string
		wantQuit  bool
		notOutput string
	}{
		{line: "help bt", wantOut: []string{"bt [-a] [PID|TID]"}},
		{line: "help", wantOut: []string{"kmem", "struct", "help <command>"}},
		{line: "foo; help dis", wantOut: []string{"dis [-l] ADDR|SYMBOL [COUNT]"}, wantErr: "mccrash: command not found: foo\n"},
		{line: "help nosuch", wantErr: "help: no such command: nosuch"},
		{line: "help a b", wantErr: "usage: help [COMMAND]"},
		{line: "kmem -x", wantErr: "kmem: unknown shorthand flag: 'x'"},
		{line: "help q; quit; help bt", wantOut: []string{"exit"}, wantQuit: true, notOutput: "bt [-a]"},
		{line: " ;  ; "},
	} {
		var out, errs strings.Builder
		s := &Session{Out: &out, Err: &errs}
		err := s.Run(tc.line)
		if errors.Is(err, ErrQuit) != tc.wantQuit {
			t.Errorf("%q: quit %v, want %v", tc.line, errors.Is(err, ErrQuit), tc.wantQuit)
		}
		if failed := errors.Is(err, ErrFailed); failed != (tc.wantErr != "") || tc.wantErr == "" && errs.Len() > 0 ||
			!strings.Contains(errs.String(), tc.wantErr) {
			t.Errorf("%q: %v, stderr %q; want %q", tc.line, err, errs.String(), tc.wantErr)
		}
		for _, w := range tc.wantOut {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q: output lacks %q:\n%s", tc.line, w, out.String())
			}
		}
		if tc.notOutput != "" && strings.Contains(out.String(), tc.notOutput) {
			t.Errorf("%q: output has %q after quit:\n%s", tc.line, tc.notOutput, out.String())
		}
	}
}

func TestSignalNames(t *testing.T) {
	for _, tc := range []struct {
		sig  int
		want string
	}{{1, "SIGHUP"}, {9, "SIGKILL"}, {31, "SIGSYS"}, {32, "SIG32"}, {33, "SIG33"}, {34, "SIGRTMIN"}, {40, "SIGRTMIN+6"}, {64, "SIGRTMAX"}, {65, "SIG65"}} {
		if got := sigName(tc.sig); got != tc.want {
			t.Errorf("sigName(%d) = %q, want %q", tc.sig, got, tc.want)
		}
	}
	for _, tc := range []struct {
		set  uint64
		want string
	}{{0, ""}, {1 << 8, " (SIGKILL)"}, {1<<1 | 1<<13, " (SIGINT SIGALRM)"}, {1 << 63, " (SIGRTMAX)"}} {
		if got := sigSet(tc.set); got != tc.want {
			t.Errorf("sigSet(%#x) = %q, want %q", tc.set, got, tc.want)
		}
	}
	for _, tc := range []struct {
		flags uint64
		want  string
	}{{0, ""}, {0x14000004, " (SA_SIGINFO|SA_RESTORER|SA_RESTART)"}, {0x80000000, " (SA_RESETHAND)"}} {
		if got := saFlags(tc.flags); got != tc.want {
			t.Errorf("saFlags(%#x) = %q, want %q", tc.flags, got, tc.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{{0, "0 KB"}, {4096, "4 KB"}, {512 << 20, "512 MB"}, {3 << 29, "1.5 GB"}, {2484 << 10, "2.4 MB"}} {
		if got := bytesSize(tc.n); got != tc.want {
			t.Errorf("bytesSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		t    lwk.Thread
		st   string
		task string
	}{
		{lwk.Thread{State: "R", Why: "running"}, "RU", "TASK_RUNNING (running)"},
		{lwk.Thread{State: "S", Why: "offload"}, "IN", "TASK_INTERRUPTIBLE (offload)"},
		{lwk.Thread{State: "T", Why: "stopped"}, "ST", "TASK_STOPPED (stopped)"},
		{lwk.Thread{State: "Z", Why: "zombie"}, "ZO", "EXIT_ZOMBIE (zombie)"},
		{lwk.Thread{Changing: true}, "??", "(unknown)"},
		{lwk.Thread{State: "?"}, "??", "(unknown)"},
	} {
		if st, task := crashState(&tc.t), taskState(&tc.t); st != tc.st || task != tc.task {
			t.Errorf("%+v: ST %q, state %q; want %q, %q", tc.t, st, task, tc.st, tc.task)
		}
	}
	for _, tc := range []struct {
		v    lwk.VMA
		want string
	}{{lwk.VMA{Kind: "anon"}, ""}, {lwk.VMA{Kind: "[heap]"}, "[heap]"}, {lwk.VMA{Kind: "elf", Name: "/bin/x"}, "/bin/x"}} {
		if got := vmaFile(tc.v); got != tc.want {
			t.Errorf("vmaFile(%+v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := comm(&lwk.Process{Exe: "/a/very-long-program-name"}); got != "very-long-progr" {
		t.Errorf("comm = %q, want the first 15 bytes of the base name", got)
	}
}

// TestSymtab looks up a Go program's symbols both ways (a test binary
// that go test runs has none: it is linked with -s).
func TestSymtab(t *testing.T) {
	exe := testprog.MustGo(t, "gohello")
	st, err := openSymtab(exe, "[gohello]", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	const fnName = "main.main"
	fn, ok := st.byName(fnName)
	if !ok || fn.kind != 'T' || fn.size == 0 {
		t.Fatalf("%s: %+v %v, want a text symbol with a size", fnName, fn, ok)
	}
	for _, tc := range []struct {
		addr uint64
		want string
	}{{fn.addr, fnName}, {fn.addr + 3, fnName + "+3"}} {
		if got := st.where(tc.addr); got != tc.want {
			t.Errorf("where(%#x) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if file, line := st.lineOf(fn.addr); !strings.HasSuffix(file, "gohello/main.go") || line == 0 {
		t.Errorf("lineOf(%s) = %s:%d, want gohello/main.go", fnName, file, line)
	}
	if got := st.where(1); got != "" {
		t.Errorf("where(1) = %q, want no symbol", got)
	}
	if _, ok := st.byName("no such symbol"); ok {
		t.Error("found a symbol that is not there")
	}
	if ft := loadFrames(st.f); ft.err != nil || len(ft.fdes) == 0 {
		t.Errorf("frame table of a Go binary: %d FDEs, %v", len(ft.fdes), ft.err)
	}
}
