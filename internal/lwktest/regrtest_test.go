package lwktest

import (
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// regrtestPython is Debian's interpreter, whose test package is
// libpython3.11-testsuite (scripts/deps.sh); a python3 earlier on PATH
// (pyenv) has another suite or none.
const regrtestPython = "/usr/bin/python3.11"

// regrtestModule is one CPython regression test module the conformance
// run compares. CI says the test suite's default run includes it: the
// subset is picked by measured time (README, "Conformance").
type regrtestModule struct {
	Name string
	CI   bool
	// Ignore are regrtest --ignore patterns for cases that cannot run on
	// this machine natively either.
	Ignore []string
}

var regrtestModules = []regrtestModule{
	{Name: "test_os", CI: true},
	{Name: "test_posix", CI: true},
	{Name: "test_signal", CI: true},
	{Name: "test_threading", CI: true},
	{Name: "test_thread", CI: true},
	{Name: "test_time", CI: true},
	{Name: "test_select", CI: true},
	{Name: "test_epoll", CI: true},
	{Name: "test_fcntl", CI: true},
	{Name: "test_resource", CI: true},
	{Name: "test_pwd", CI: true},
	{Name: "test_sched", CI: true},
	{Name: "test_file", CI: true},
	{Name: "test_pty", CI: true},
	{Name: "test_mmap", CI: true},
	{Name: "test_wait4", CI: true},
	{Name: "test_eintr", CI: true},
	{Name: "test_fileio", CI: true},
	{Name: "test_shutil", CI: true},
	{Name: "test_pathlib", CI: true},
	{Name: "test_tempfile", CI: true},
	{Name: "test_json", CI: true},
	{Name: "test_re", CI: true},
	{Name: "test_math", CI: true},
	{Name: "test_struct", CI: true},
	{Name: "test_fork1"},
	{Name: "test_wait3"},
	{Name: "test_selectors"},
	{Name: "test_subprocess"},
	{Name: "test_io"},
	{Name: "test_glob"},
	{Name: "test_zlib"},
	{Name: "test_hashlib"},
	{Name: "test_tarfile"},
	{Name: "test_zipfile"},
	{Name: "test_logging"},
	{Name: "test_poll"},
	{Name: "test_queue"},
	{Name: "test_datetime"},
	{Name: "test_pickle"},
	{Name: "test_multiprocessing_fork"},
	// vsock needs a hypervisor: natively its stream test waits forever.
	{Name: "test_socket", Ignore: []string{"*VSOCK*"}},
}

// regrtestKnown lists the cases (path.Match patterns over regrtest's ids,
// the first match counts) that pass natively and may not on the LWK, with
// the reason. README's Conformance table gives the same reasons
// (TestRegrtestREADME).
var regrtestKnown = []struct{ Pattern, Reason string }{
	{"test.test_multiprocessing_fork.*", "the run stops at the module's end, in the forkserver's waitpid, with about 70 processes left (regrtest's timeout): no report"},
	{"test.test_posix.PosixTester.test_pidfd_open", pidfdsRefused},
	{"test.test_signal.PidfdSignalTest.*", pidfdsRefused},
}

const pidfdsRefused = "pidfds are refused (ENOSYS) so that waiting stays the LWK's wait4: the test skips"

// knownFailure returns the entry of regrtestKnown that lets a case fail
// on the LWK, or -1.
func knownFailure(id string) int {
	for i, k := range regrtestKnown {
		if ok, _ := path.Match(k.Pattern, id); ok {
			return i
		}
	}
	return -1
}

// TestRegrtest runs CPython regression test modules natively and under
// mcexec on one LWK CPU with -O, and compares them case by case: a case
// that passes natively passes on the LWK unless regrtestKnown says why
// not, and a known failure that passes now must leave the table.
// GOMCK_CONFORMANCE=all (make conformance) runs every module, not only
// the CI subset, and GOMCK_CONFORMANCE_TABLE=FILE writes README's table.
func TestRegrtest(t *testing.T) {
	if _, err := os.Stat(filepath.Join(filepath.Dir(regrtestPython), "../lib/python3.11/test/regrtest.py")); err != nil {
		t.Skip("CPython's test suite is not installed (libpython3.11-testsuite, scripts/deps.sh)")
	}
	all := os.Getenv("GOMCK_CONFORMANCE") == "all"
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "2G", "-O")
	base := in.Status().MemFree
	var rows []string
	start := time.Now()
	for _, m := range regrtestModules {
		if !m.CI && !all {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			native, err := runRegrtest(m, exec.Command(regrtestPython))
			if err != nil {
				t.Fatalf("native: %v", err)
			}
			// Without a report, each case counts as not run.
			lwk, err := runRegrtest(m, in.Mcexec(regrtestPython))
			if err != nil {
				t.Logf("LWK: %v", err)
			}
			in.WaitIdle(base)
			rows = append(rows, compareRegrtest(t, m, native, lwk))
		})
	}
	t.Logf("%d modules in %v", len(rows), time.Since(start).Round(time.Second))
	if out := os.Getenv("GOMCK_CONFORMANCE_TABLE"); out != "" {
		table := "| module | CI | cases passed LWK/native | fails on the LWK, and why |\n|---|---|---|---|\n" + strings.Join(rows, "")
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// regrtestRun is one run of a module: each case's outcome by id, and how
// long the run took.
type regrtestRun struct {
	Cases map[string]string // "pass", "skip", or the failure's message
	Took  time.Duration
}

// runRegrtest runs module m with the interpreter cmd prepares, in a
// directory of its own, and reads its JUnit report. A run that ends
// without one (regrtest's --timeout) reports no case, and the error says
// why.
func runRegrtest(m regrtestModule, cmd *exec.Cmd) (regrtestRun, error) {
	dir, err := os.MkdirTemp("", "regrtest-")
	if err != nil {
		return regrtestRun{}, err
	}
	defer os.RemoveAll(dir)
	report := filepath.Join(dir, "junit.xml")
	cmd.Args = append(cmd.Args, "-m", "test", "--junit-xml", report, "--tempdir", filepath.Join(dir, "tmp"), "--timeout", "150")
	for _, p := range m.Ignore {
		cmd.Args = append(cmd.Args, "--ignore", p)
	}
	cmd.Args = append(cmd.Args, m.Name)
	cmd.Dir = dir
	start := time.Now()
	r := RunFor(cmd, "", 10*time.Minute)
	run := regrtestRun{Took: time.Since(start)}
	// A module that skips as a whole (a missing feature) reports no case.
	if run.Cases, err = readJUnit(report); err != nil {
		out := r.Stdout + r.Stderr
		return run, fmt.Errorf("%s: no report (%v), code %d: ...%s", strings.Join(cmd.Args, " "), err, r.Code, out[max(0, len(out)-3000):])
	}
	return run, nil
}

// readJUnit reads the outcome of each case of a regrtest --junit-xml
// report.
func readJUnit(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	type outcome struct {
		Message string `xml:"message,attr"`
	}
	var doc struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure []outcome `xml:"failure"`
			Error   []outcome `xml:"error"`
			Skipped []outcome `xml:"skipped"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	cases := make(map[string]string, len(doc.Cases))
	for _, c := range doc.Cases {
		switch {
		case len(c.Failure)+len(c.Error) > 0:
			cases[c.Name] = exceptionLine(append(c.Failure, c.Error...)[0].Message)
		case len(c.Skipped) > 0:
			cases[c.Name] = "skip"
		default:
			cases[c.Name] = "pass"
		}
	}
	return cases, nil
}

// exceptionLine is a failure message's last non-empty line (the exception).
func exceptionLine(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return "failed"
}

// compareRegrtest fails t for each case that passes natively and not on
// the LWK without a known reason, and for each entry of regrtestKnown
// that matches cases of module m none of which fails any more; it returns
// the module's row of README's table.
func compareRegrtest(t *testing.T, m regrtestModule, native, lwk regrtestRun) string {
	var passed, nativePassed int
	matched, failed := map[int]bool{}, map[int]int{}
	for _, id := range slices.Sorted(maps.Keys(native.Cases)) {
		if native.Cases[id] != "pass" {
			continue
		}
		nativePassed++
		got, known := lwk.Cases[id], knownFailure(id)
		if known >= 0 {
			matched[known] = true
		}
		switch {
		case got == "pass":
			passed++
		case known >= 0:
			failed[known]++
		case got == "":
			t.Errorf("%s: passes natively, did not run on the LWK", id)
		default:
			t.Errorf("%s: passes natively, on the LWK: %s", id, got)
		}
	}
	t.Logf("%s: %d/%d cases pass on the LWK as natively; took %v on the LWK, %v natively",
		m.Name, passed, nativePassed, lwk.Took.Round(100*time.Millisecond), native.Took.Round(100*time.Millisecond))
	reasons := map[string]int{}
	for _, i := range slices.Sorted(maps.Keys(matched)) {
		if failed[i] == 0 {
			t.Errorf("the cases of %s pass on the LWK now: remove it from regrtestKnown (%s)", regrtestKnown[i].Pattern, regrtestKnown[i].Reason)
		}
		reasons[regrtestKnown[i].Reason] += failed[i]
	}
	var why []string
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		if reasons[r] > 0 {
			why = append(why, fmt.Sprintf("%d: %s", reasons[r], r))
		}
	}
	ci := ""
	if m.CI {
		ci = "yes"
	}
	return fmt.Sprintf("| %s | %s | %d/%d | %s |\n", m.Name, ci, passed, nativePassed, strings.Join(why, "; "))
}

// TestRegrtestREADME checks README's Conformance section gives every
// reason of regrtestKnown, so the table users read and the one the test
// applies say the same.
func TestRegrtestREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ")
	for _, k := range regrtestKnown {
		if !strings.Contains(readme, k.Reason) {
			t.Errorf("README.md does not give the reason of %s: %q", k.Pattern, k.Reason)
		}
	}
}

func TestReadJUnit(t *testing.T) {
	report := filepath.Join(t.TempDir(), "junit.xml")
	os.WriteFile(report, []byte(`<testsuites tests="4"><testsuite tests="4">`+
		`<testcase name="test.m.A.ok" status="run" result="completed" />`+
		`<testcase name="test.m.A.skip" status="run"><skipped>no device</skipped></testcase>`+
		`<testcase name="test.m.A.fail" status="run"><failure type="AssertionError" message="Traceback&#10;AssertionError: 1 != 2&#10;">x</failure></testcase>`+
		`<testcase name="test.m.A.err" status="run"><error type="OSError" message="OSError: [Errno 19] No such device&#10;"/></testcase>`+
		`</testsuite></testsuites>`), 0o644)
	got, err := readJUnit(report)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"test.m.A.ok": "pass", "test.m.A.skip": "skip",
		"test.m.A.fail": "AssertionError: 1 != 2", "test.m.A.err": "OSError: [Errno 19] No such device"}
	if !maps.Equal(got, want) {
		t.Errorf("readJUnit = %v, want %v", got, want)
	}
}

func TestKnownFailure(t *testing.T) {
	for _, tt := range []struct {
		id    string
		known bool
	}{
		{"test.test_multiprocessing_fork.WithProcessesTestLock.test_lock", true},
		{"test.test_multiprocessing_fork", false},
		{"test.test_posix.PosixTester.test_pidfd_open", true},
		{"test.test_posix.PosixTester.test_pidfd_open_x", false},
		{"test.test_os.FileTests.test_read", false},
	} {
		if got := knownFailure(tt.id) >= 0; got != tt.known {
			t.Errorf("knownFailure(%q) known = %v, want %v", tt.id, got, tt.known)
		}
	}
}
