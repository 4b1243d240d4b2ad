package mcexec

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomck/gomck/kernel/stats"
)

func TestParseProfile(t *testing.T) {
	abs, _ := filepath.Abs("p.json")
	for _, c := range []struct {
		value string
		want  Profile
		err   bool
	}{
		{"", Profile{Enabled: true}, false},
		{"json:/tmp/p.json", Profile{Enabled: true, JSONFile: "/tmp/p.json"}, false},
		{"json:p.json", Profile{Enabled: true, JSONFile: abs}, false},
		{"json:", Profile{}, true},
		{"csv:/tmp/p", Profile{}, true},
	} {
		got, err := ParseProfile(c.value)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseProfile(%q) = %+v, %v; want %+v, error %v", c.value, got, err, c.want, c.err)
		}
	}
}

func TestProfileTable(t *testing.T) {
	calls := []stats.SyscallCount{
		{Nr: 1, Name: "write", Offloaded: stats.Syscall{Calls: 4, Ns: 4000}},
		{Nr: 39, Name: "getpid", Local: stats.Syscall{Calls: 10, Ns: 1000}},
		{Nr: 999, Local: stats.Syscall{Calls: 1, Ns: 5}},
	}
	r := &stats.ProfileReport{PID: 7, Exe: "/bin/x", Threads: []stats.ThreadProfile{{TID: 7, Syscalls: calls}},
		Process: stats.ThreadProfile{TID: 7, Syscalls: calls}}
	table := profileTable(r)
	// Compared with single spaces: the columns' widths are tabwriter's.
	rows := map[string]bool{}
	for line := range strings.Lines(table) {
		rows[strings.Join(strings.Fields(line), " ")] = true
	}
	for _, want := range []string{
		"mcexec: profile of pid 7 (/bin/x)",
		"thread 7",
		"process 7",
		"SYSCALL WHERE CALLS TOTAL MEAN",
		"write offloaded 4 4µs 1µs",
		"getpid local 10 1µs 100ns",
		"syscall_999 local 1 5ns 5ns",
		"total local 11 1.005µs 91ns",
		"total offloaded 4 4µs 1µs",
	} {
		if !rows[want] {
			t.Errorf("table lacks the row %q:\n%s", want, table)
		}
	}
}
