package mcexec

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/stats"
)

// Profile is the setting of mcexec --profile: the LWK reports the process's
// system calls with its exit, and mcexec prints them as a table to stderr
// or, with --profile=json:FILE, appends them to FILE as one JSON object a
// line (a forked child's mcexec appends its process's after it).
type Profile struct {
	Enabled  bool
	JSONFile string // absolute; "" for the table
}

// ParseProfile reads the value of --profile (value is "" for the bare flag).
func ParseProfile(value string) (Profile, error) {
	if value == "" {
		return Profile{Enabled: true}, nil
	}
	file, ok := strings.CutPrefix(value, "json:")
	if !ok || file == "" {
		return Profile{}, fmt.Errorf("--profile=%s: want --profile or --profile=json:FILE", value)
	}
	abs, err := filepath.Abs(file) // a child's mcexec may have another cwd
	if err != nil {
		return Profile{}, fmt.Errorf("--profile: %w", err)
	}
	return Profile{Enabled: true, JSONFile: abs}, nil
}

// truncate empties the JSON file before the first process runs, so that it
// holds this run's processes only. Raw calls: the os package would start
// the runtime poller, whose descriptors would shift the app's.
func (pr Profile) truncate() error {
	if pr.JSONFile == "" {
		return nil
	}
	fd, err := unix.Open(pr.JSONFile, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("mcexec: --profile: %w", err)
	}
	return unix.Close(fd)
}

// report writes the profile of a process that ended.
func (pr Profile) report(r *stats.ProfileReport) error {
	if !pr.Enabled || r == nil {
		return nil
	}
	if pr.JSONFile == "" {
		_, err := os.Stderr.WriteString(profileTable(r))
		return err
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	fd, err := unix.Open(pr.JSONFile, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("mcexec: --profile: %w", err)
	}
	defer unix.Close(fd)
	// One write: processes that end together do not interleave.
	if _, err := unix.Write(fd, append(line, '\n')); err != nil {
		return fmt.Errorf("mcexec: --profile: write %s: %w", pr.JSONFile, err)
	}
	return nil
}

// profileTable lays out r: a row per system call and where it ran (local
// on the LWK, offloaded to mcexec), with its calls, total and mean time,
// and a total row per kind; each thread, then the process.
func profileTable(r *stats.ProfileReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mcexec: profile of pid %d (%s)\n", r.PID, r.Exe)
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	section := func(title string, t stats.ThreadProfile) {
		fmt.Fprintf(w, "%s\n", title)
		fmt.Fprintf(w, "  SYSCALL\tWHERE\tCALLS\tTOTAL\tMEAN\n")
		var local, offloaded stats.Syscall
		for _, c := range t.Syscalls {
			name := c.Name
			if name == "" {
				name = fmt.Sprintf("syscall_%d", c.Nr)
			}
			profileRow(w, name, "local", c.Local)
			profileRow(w, name, "offloaded", c.Offloaded)
			local.Calls, local.Ns = local.Calls+c.Local.Calls, local.Ns+c.Local.Ns
			offloaded.Calls, offloaded.Ns = offloaded.Calls+c.Offloaded.Calls, offloaded.Ns+c.Offloaded.Ns
		}
		profileRow(w, "total", "local", local)
		profileRow(w, "total", "offloaded", offloaded)
	}
	for _, t := range r.Threads {
		section(fmt.Sprintf("thread %d", t.TID), t)
	}
	section(fmt.Sprintf("process %d", r.PID), r.Process)
	w.Flush()
	return b.String()
}

// profileRow prints the calls of one kind, if any.
func profileRow(w *tabwriter.Writer, name, where string, s stats.Syscall) {
	if s.Calls == 0 {
		return
	}
	fmt.Fprintf(w, "  %s\t%s\t%d\t%v\t%v\n", name, where, s.Calls, time.Duration(s.Ns), time.Duration(s.Ns/s.Calls))
}
