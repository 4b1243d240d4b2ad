package lwktest

import (
	"encoding/csv"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomck/gomck/internal/testprog"
	"github.com/gomck/gomck/perf"
)

// Events of the mcperf stat tests: the calls profile.c makes are exact
// per syscall (getpid 39 local, write 1 offloaded); the totals also hold
// the loader's calls.
const (
	getpidCalls = "lwk/syscall_local_calls,syscall=39/"
	writeCalls  = "lwk/syscall_offloaded_calls,syscall=1/"
)

// TestMcperfStat runs mcperf stat over profile.c (two threads and a
// forked child) and checks that its counts are the calls the program
// made, summed over the child as perf's inherit does, in the table, in
// the CSV of -x, over -r runs; that the program's output and status
// pass through; and that an unknown event fails as in perf.
func TestMcperfStat(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")
	prog := testprog.MustC(t, "profile")
	args := []string{prog, fmt.Sprint(profMainLocal), fmt.Sprint(profMainWrites),
		fmt.Sprint(profSecondLocal), fmt.Sprint(profSecondWrites), "1", "write"}
	// Both threads' calls, the child's 7 getpids and 1 write, main's
	// writes of "out" and "err".
	wantGetpid := profMainLocal + profSecondLocal + 7
	wantWrite := profMainWrites + profSecondWrites + 1 + 2
	events := strings.Join([]string{"task-clock", getpidCalls, writeCalls, "sde:::lwk::syscalls_local", "cycles"}, ",")

	t.Run("table", func(t *testing.T) {
		res := Run(in.Cmd("mcperf", append([]string{"stat", "-e", events, "--"}, args...)...), "")
		t.Logf("mcperf stat:\n%s", res.Stderr)
		table, ok := strings.CutPrefix(res.Stderr, "err\n")
		if res.Code != 3 || res.Stdout != "out\n" || !ok {
			t.Fatalf("mcperf stat: %v; want the program's code 3, \"out\" and \"err\"", res)
		}
		if !strings.Contains(table, fmt.Sprintf(" Performance counter stats for '%s':", strings.Join(args, " "))) ||
			!regexp.MustCompile(`\n +\d+\.\d{9} seconds time elapsed\n`).MatchString(table) {
			t.Errorf("no perf stat heading or elapsed line in\n%s", table)
		}
		counts := statTable(t, table)
		if counts[getpidCalls] != fmt.Sprint(wantGetpid) || counts[writeCalls] != fmt.Sprint(wantWrite) {
			t.Errorf("counted %s getpid and %s write, want %d and %d", counts[getpidCalls], counts[writeCalls], wantGetpid, wantWrite)
		}
		if n, err := strconv.Atoi(counts["sde:::lwk::syscalls_local"]); err != nil || n < wantGetpid {
			t.Errorf("syscalls_local %q, want at least the %d getpids", counts["sde:::lwk::syscalls_local"], wantGetpid)
		}
		if ms, err := strconv.ParseFloat(counts["task-clock"], 64); err != nil || ms <= 0 {
			t.Errorf("task-clock %q msec, want a time", counts["task-clock"])
		}
		if counts["cycles"] != "<not supported>" {
			t.Errorf("cycles %q on a PMU-less machine, want <not supported>", counts["cycles"])
		}
	})

	t.Run("children with a reused proxy", func(t *testing.T) {
		// Two children, one after the other, without offloaded calls:
		// their proxies may report after the first mcexec's end.
		twice := append(args[:len(args)-2:len(args)-2], "2")
		res := Run(in.Cmd("mcperf", append([]string{"stat", "-x", ",", "-e", getpidCalls, "--"}, twice...)...), "")
		want := fmt.Sprintf("%d,,%s,", profMainLocal+profSecondLocal+2*7, getpidCalls)
		if res.Code != 3 || !strings.HasPrefix(res.Stderr, "err\n"+want) {
			t.Errorf("mcperf stat -x, of two children: %v; want %q", res, want)
		}
	})

	t.Run("default events", func(t *testing.T) {
		res := Run(in.Cmd("mcperf", append([]string{"stat", "--"}, args...)...), "")
		counts := statTable(t, strings.TrimPrefix(res.Stderr, "err\n"))
		for _, ev := range []string{"task-clock", "context-switches", "cpu-migrations", "page-faults",
			"lwk/syscalls_local/", "lwk/syscalls_offloaded/", "lwk/offload_wait_ns/"} {
			if _, ok := counts[ev]; !ok {
				t.Errorf("no %s row in\n%s", ev, res.Stderr)
			}
		}
		if n, err := strconv.Atoi(counts["page-faults"]); err != nil || n == 0 {
			t.Errorf("page-faults %q, want some", counts["page-faults"])
		}
	})

	t.Run("csv repeated", func(t *testing.T) {
		out := t.TempDir() + "/stat.csv"
		res := Run(in.Cmd("mcperf", append([]string{"stat", "-x", ";", "-r", "3", "-o", out, "-e", events, "--"}, args...)...), "")
		if res.Code != 3 || res.Stderr != "err\nerr\nerr\n" {
			t.Fatalf("mcperf stat -r 3 -o: %v; want code 3 and the program's stderr only", res)
		}
		text, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(strings.NewReader(string(text)))
		r.Comma = ';'
		recs, err := r.ReadAll()
		if err != nil || len(recs) != 5 {
			t.Fatalf("CSV: %v, %d records, want 5:\n%s", err, len(recs), text)
		}
		byName := map[string][]string{}
		for _, rec := range recs {
			// value, unit, event, variation, run time, percentage, metric, metric unit
			if len(rec) != 8 || !strings.HasSuffix(rec[3], "%") {
				t.Errorf("record %q: want perf's 8 fields with a variation", rec)
				continue
			}
			byName[rec[2]] = rec
		}
		if v := byName[getpidCalls]; v == nil || v[0] != fmt.Sprint(wantGetpid) || v[3] != "0.00%" {
			t.Errorf("getpid record %q, want %d in every run (0.00%%)", v, wantGetpid)
		}
		if v := byName["task-clock"]; v == nil || v[1] != "msec" || v[7] != "CPUs utilized" {
			t.Errorf("task-clock record %q", v)
		}
	})

	t.Run("unknown event", func(t *testing.T) {
		res := Run(in.Cmd("mcperf", "stat", "-e", "task-clock,nosuch", "--", prog), "")
		if res.Code != 129 || !strings.HasPrefix(res.Stderr, "event syntax error: 'nosuch'\n") ||
			!strings.Contains(res.Stderr, "Run 'mcperf list' for a list of valid events") {
			t.Errorf("unknown event: %v; want perf's error and status 129", res)
		}
		for _, ev := range []string{"lwk/syscalls_local,syscall=1/", "lwk/syscall_local_calls/", "lwk/nosuch/", "sde:::lwk::"} {
			if res := Run(in.Cmd("mcperf", "stat", "-e", ev, "--", prog), ""); res.Code != 129 {
				t.Errorf("-e %s: %v; want status 129", ev, res)
			}
		}
	})
}

// statTable reads perf stat's table: count by event.
func statTable(t *testing.T, table string) map[string]string {
	t.Helper()
	counts := map[string]string{}
	row := regexp.MustCompile(`^ +(<not supported>|[\d.]+) +(?:msec +)?(\S+)`)
	for _, line := range strings.Split(table, "\n") {
		if strings.Contains(line, "seconds") {
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil {
			counts[m[2]] = m[1]
		}
	}
	return counts
}

// TestMcperfInstance counts the whole instance with mcperf stat -a -I
// while a program makes known calls, and watches a spinning program with
// mcperf top in batch mode; mcperf list names every LWK event.
func TestMcperfInstance(t *testing.T) {
	in := Boot(t, "-c", fmt.Sprint(LWKCPU(t)), "-m", "256M", "-O")

	t.Run("stat -a -I", func(t *testing.T) {
		const calls = 200000
		res := Run(in.Cmd("mcperf", "stat", "-a", "-I", "100", "-e", "lwk/syscalls_local/,task-clock,lwk/idle_ns/,"+getpidCalls,
			"--", testprog.MustC(t, "profile"), fmt.Sprint(calls), "0", "0", "0"), "")
		t.Logf("mcperf stat -a -I 100:\n%s", res.Stderr)
		// The program's own "err" comes among the rows.
		lines := slices.DeleteFunc(strings.Split(strings.TrimSpace(res.Stderr), "\n"), func(l string) bool { return l == "err" })
		if res.Code != 0 || len(lines) < 4 || lines[0] != "#           time             counts unit events" {
			t.Fatalf("mcperf stat -a -I: %v; want perf's header and rows", res)
		}
		var local, getpids uint64
		row := regexp.MustCompile(`^ +(\d+\.\d{9}) +(\d+(?:\.\d+)?) +(?:msec +)?(\S+)`)
		for _, l := range lines[1:] {
			m := row.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("row %q: want time, count and event", l)
				continue
			}
			n, _ := strconv.ParseUint(m[2], 10, 64)
			switch m[3] {
			case "lwk/syscalls_local/":
				local += n
			case getpidCalls:
				getpids += n
			}
		}
		if local < calls {
			t.Errorf("the intervals count %d local calls, want at least the program's %d", local, calls)
		}
		// Only the program calls getpid, and each of its calls is in one interval.
		if getpids != calls {
			t.Errorf("the intervals count %d getpid calls, want the program's %d", getpids, calls)
		}
	})

	t.Run("stat -a SECS", func(t *testing.T) {
		res := Run(in.Cmd("mcperf", "stat", "-a", "-e", "task-clock,lwk/idle_ns/,lwk/syscall_local_calls,syscall=39/", "0.5"), "")
		counts := statTable(t, res.Stderr)
		idle, err := strconv.ParseFloat(counts["lwk/idle_ns/"], 64)
		if res.Code != 0 || !strings.Contains(res.Stderr, " Performance counter stats for 'system wide':") || err != nil ||
			idle < 0.3e9 || counts["lwk/syscall_local_calls,syscall=39/"] != "0" {
			t.Errorf("mcperf stat -a 0.5 of an idle instance: %v; want most of 0.5 s idle, no getpid", res)
		}
	})

	t.Run("top", func(t *testing.T) {
		spin := launch(t, in, testprog.MustC(t, "spin"))
		if err := spin.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { spin.Process.Kill() })
		time.Sleep(time.Second) // past its start-up
		res := Run(in.Cmd("mcperf", "top", "-n", "2", "-d", "0.5"), "")
		t.Logf("mcperf top:\n%s", res.Stdout)
		frames := strings.Split(res.Stdout, "\n\n")
		if res.Code != 0 || len(frames) != 4 { // a heading and a table each
			t.Fatalf("mcperf top -n 2: %v; want 2 frames", res)
		}
		header := strings.Fields(strings.SplitN(frames[1], "\n", 2)[0])
		if strings.Join(header, " ") != "PID TID CPU %CPU LOCAL/s OFFLOAD/s OFFL% FAULTS/s COMMAND" {
			t.Errorf("header %q", header)
		}
		found := false
		for _, l := range strings.Split(frames[3], "\n")[1:] {
			f := strings.Fields(l)
			if len(f) == 9 && strings.HasPrefix(f[8], "spin") {
				found = true
				if pct, err := strconv.ParseFloat(f[3], 64); err != nil || pct < 50 {
					t.Errorf("spin at %s%% CPU, want most of its CPU", f[3])
				}
			}
		}
		if !found {
			t.Errorf("no spin row in\n%s", frames[3])
		}
	})

	t.Run("list", func(t *testing.T) {
		res := Run(in.Cmd("mcperf", "list"), "")
		if res.Code != 0 {
			t.Fatalf("mcperf list: %v", res)
		}
		for _, e := range perf.LWKEvents {
			name := "lwk/" + e.Name + "/ OR sde:::lwk::" + e.Name
			if e.PerSyscall {
				name = "lwk/" + e.Name + ",syscall=N/"
			}
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` +\[Kernel PMU event\] +Yes +\S`).MatchString(res.Stdout) {
				t.Errorf("mcperf list has no available %s row", name)
			}
		}
		if !regexp.MustCompile(`(?m)^  cpu-cycles OR cycles +\[Hardware event\] +No `).MatchString(res.Stdout) {
			t.Errorf("cycles is not listed unavailable on this PMU-less machine:\n%s", res.Stdout)
		}
	})
}
