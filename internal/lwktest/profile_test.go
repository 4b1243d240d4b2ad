package lwktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/kernel/stats"
)

// The calls profile.c makes: getpid (local) and writes to /dev/null
// (offloaded) in main and in a second thread; main writes to stdout and
// stderr once each too.
const (
	profMainLocal, profMainWrites     = 1000, 50
	profSecondLocal, profSecondWrites = 700, 30
)

// profileCounts are a profile's calls by section ("thread main", "thread
// second", "process") and by "NAME WHERE" (WHERE local or offloaded).
type profileCounts map[string]map[string]uint64

// TestProfile runs a program that makes known numbers of local and
// offloaded calls in two threads under mcexec --profile, and under
// --profile=json:FILE with a forked child, and checks the counts per
// thread and per process, the kmsg line, and that the program's own
// output and exit code are untouched.
func TestProfile(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	prog := testprog.MustC(t, "profile")
	args := []string{prog, fmt.Sprint(profMainLocal), fmt.Sprint(profMainWrites),
		fmt.Sprint(profSecondLocal), fmt.Sprint(profSecondWrites)}

	t.Run("table", func(t *testing.T) {
		res := Run(in.Mcexec(append([]string{"--profile"}, args...)...), "")
		if res.Code != 3 || res.Stdout != "out\n" {
			t.Fatalf("under --profile: %v; want code 3 and stdout \"out\\n\"", res)
		}
		table, ok := strings.CutPrefix(res.Stderr, "err\n")
		if !ok {
			t.Fatalf("stderr does not start with the program's own \"err\\n\": %q", res.Stderr)
		}
		pid, counts := parseProfileTable(t, table)
		checkProfile(t, counts)
		// The kmsg line sums the process's rows.
		m := regexp.MustCompile(fmt.Sprintf(`pid %d: profile: (\d+) threads, (\d+) local calls in \S+, (\d+) offloaded calls in \S+`, pid)).
			FindStringSubmatch(kmsg(t, in))
		if m == nil {
			t.Fatalf("kmsg has no profile line for pid %d", pid)
		}
		want := []string{"2", fmt.Sprint(counts["process"]["total local"]), fmt.Sprint(counts["process"]["total offloaded"])}
		if got := m[1:]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("kmsg: %q; want threads, local and offloaded calls %v as the table's totals", m[0], want)
		}
	})

	// A forked child that makes an offloaded call waits for its proxy; one
	// that makes none mostly ends before the proxy comes, which then gets
	// the profile with the news of the end.
	// The second of two children one after the other may get the first
	// one's proxy again (mcexec/pool.go).
	for _, c := range []struct {
		name        string
		childArgs   []string
		childWrites uint64
	}{
		{"json", []string{"1", "write"}, 1},
		{"json child gone before its proxy", []string{"1"}, 0},
		{"json children with a reused proxy", []string{"2"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "profile.json")
			os.WriteFile(file, []byte("an earlier run's\n"), 0o644)
			cmd := in.Mcexec(append([]string{"--profile=json:" + file}, append(args, c.childArgs...)...)...)
			res := Run(cmd, "")
			if res.Code != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" {
				t.Fatalf("under --profile=json: %v; want code 3, stdout \"out\\n\", stderr \"err\\n\"", res)
			}
			children, _ := strconv.Atoi(c.childArgs[0])
			parent, forked := readProfiles(t, file, cmd.Process.Pid, children)
			checkProfile(t, reportCounts(parent))
			for _, child := range forked {
				if len(child.Threads) != 1 || child.Threads[0].TID != child.PID {
					t.Fatalf("the child's profile has threads %+v, want its one", child.Threads)
				}
				if got := reportCounts(&child)["process"]; got["getpid local"] != 7 || got["write offloaded"] != c.childWrites {
					t.Errorf("forked child %d made %d local getpid calls and %d writes, want 7 and %d",
						child.PID, got["getpid local"], got["write offloaded"], c.childWrites)
				}
			}
		})
	}
}

// TestProfileBadFlag: a bad --profile value, or a JSON file that cannot be
// written, stops mcexec with a clear error before the program runs.
func TestProfileBadFlag(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M")
	for _, c := range []struct{ flag, want string }{
		{"--profile=csv:x", "mcexec: --profile=csv:x: want --profile or --profile=json:FILE\n"},
		{"--profile=json:", "mcexec: --profile=json:: want --profile or --profile=json:FILE\n"},
		{"--profile=json:/nonexistent/p.json", "mcexec: --profile: no such file or directory\n"},
	} {
		res := Run(in.Mcexec(c.flag, testprog.MustC(t, "hello")), "")
		if res.Code != 1 || res.Stdout != "" || res.Stderr != c.want {
			t.Errorf("mcexec %s: %v; want code 1 and stderr %q", c.flag, res, c.want)
		}
	}
}

// checkProfile compares the counts with those the program makes.
func checkProfile(t *testing.T, counts profileCounts) {
	t.Helper()
	for _, c := range []struct {
		section, call string
		want          uint64
	}{
		{"thread main", "getpid local", profMainLocal},
		{"thread main", "write offloaded", profMainWrites + 2},
		{"thread second", "getpid local", profSecondLocal},
		{"thread second", "write offloaded", profSecondWrites},
		{"process", "getpid local", profMainLocal + profSecondLocal},
		{"process", "write offloaded", profMainWrites + profSecondWrites + 2},
	} {
		if got := counts[c.section][c.call]; got != c.want {
			t.Errorf("%s: %d calls of %s, want %d", c.section, got, c.call, c.want)
		}
	}
	if n := len(counts); n != 3 {
		t.Errorf("profile has sections %v, want the two threads and the process", slices.Sorted(maps.Keys(counts)))
	}
}

// parseProfileTable reads mcexec's table: a header naming the pid, then
// per section a title line, a column header and rows NAME WHERE CALLS
// TOTAL MEAN.
func parseProfileTable(t *testing.T, table string) (pid int, counts profileCounts) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if _, err := fmt.Sscanf(lines[0], "mcexec: profile of pid %d", &pid); err != nil {
		t.Fatalf("profile table header %q: %v\n%s", lines[0], err, table)
	}
	counts = profileCounts{}
	var section map[string]uint64
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && (f[0] == "thread" || f[0] == "process"):
			name := "process"
			if f[0] == "thread" {
				name = sectionOf(f[1] == strconv.Itoa(pid))
			}
			section = map[string]uint64{}
			counts[name] = section
		case len(f) == 5 && f[0] == "SYSCALL" && section != nil:
		case len(f) == 5 && section != nil:
			n, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil || (f[1] != "local" && f[1] != "offloaded") {
				t.Fatalf("bad profile row %q\n%s", line, table)
			}
			section[f[0]+" "+f[1]] = n
		default:
			t.Fatalf("bad profile line %q\n%s", line, table)
		}
	}
	return pid, counts
}

func sectionOf(mainThread bool) string {
	if mainThread {
		return "thread main"
	}
	return "thread second"
}

// reportCounts puts a JSON profile in the table's terms.
func reportCounts(r *stats.ProfileReport) profileCounts {
	counts := profileCounts{}
	add := func(section string, tp stats.ThreadProfile) {
		m := map[string]uint64{}
		for _, c := range tp.Syscalls {
			m[c.Name+" local"] += c.Local.Calls
			m[c.Name+" offloaded"] += c.Offloaded.Calls
			m["total local"] += c.Local.Calls
			m["total offloaded"] += c.Offloaded.Calls
		}
		counts[section] = m
	}
	for _, tp := range r.Threads {
		add(sectionOf(tp.TID == r.PID), tp)
	}
	add("process", r.Process)
	return counts
}

// readProfiles decodes the JSON lines of --profile=json:FILE: the
// profile of process pid and those of its forked children. A
// child's mcexec writes its line as the child ends, which may be just
// after the parent's mcexec has.
func readProfiles(t *testing.T, file string, pid, children int) (parent *stats.ProfileReport, forked []stats.ProfileReport) {
	t.Helper()
	var reports []stats.ProfileReport
	for deadline := time.Now().Add(5 * time.Second); len(reports) < 1+children && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		reports = nil
		for line := range strings.Lines(string(data)) {
			var r stats.ProfileReport
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s: %v: %q", file, err, line)
			}
			reports = append(reports, r)
		}
	}
	if len(reports) != 1+children {
		t.Fatalf("%s holds %d profiles, want the process's and its %d forked children's", file, len(reports), children)
	}
	for i, r := range reports {
		if r.PID == pid {
			parent = &reports[i]
		} else {
			forked = append(forked, r)
		}
	}
	if parent == nil {
		t.Fatalf("%s: no profile of mcexec's pid %d: %+v", file, pid, reports)
	}
	return parent, forked
}
