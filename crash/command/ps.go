package command

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gomck/gomck/inspect/lwk"
)

// taskCommLen is Linux's TASK_COMM_LEN less its NUL: crash's COMM width.
const taskCommLen = 15

// comm is a process's command name as the kernel keeps it.
func comm(p *lwk.Process) string {
	c := filepath.Base(p.Exe)
	if len(c) > taskCommLen {
		c = c[:taskCommLen]
	}
	return c
}

// crashState is crash's two-letter state of a thread.
func crashState(t *lwk.Thread) string {
	if t.Changing {
		return "??"
	}
	switch t.State {
	case "R":
		return "RU"
	case "S":
		return "IN"
	case "T":
		return "ST"
	case "Z":
		return "ZO"
	}
	return "??"
}

// taskState is the state as crash's set names it (Linux's TASK_*), with
// the LWK's reason.
func taskState(t *lwk.Thread) string {
	names := map[string]string{"R": "TASK_RUNNING", "S": "TASK_INTERRUPTIBLE", "T": "TASK_STOPPED", "Z": "EXIT_ZOMBIE"}
	n, ok := names[t.State]
	if !ok {
		return "(unknown)"
	}
	return fmt.Sprintf("%s (%s)", n, t.Why)
}

// kib is bytes in KiB, as ps and crash show VSZ and RSS.
func kib(n uint64) uint64 { return n / 1024 }

// ps prints every thread as crash's ps does; given PIDs, TIDs or command
// names, only those.
func (s *Session) ps(args []string) error {
	snap, err := s.snapshot()
	if err != nil {
		return err
	}
	type row struct {
		p *lwk.Process
		t *lwk.Thread
	}
	var rows []row
	for i := range snap.Procs {
		p := &snap.Procs[i]
		for j := range p.Threads {
			if len(args) == 0 || selected(args, p, &p.Threads[j]) {
				rows = append(rows, row{p, &p.Threads[j]})
			}
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(a.p.PID, b.p.PID), cmp.Compare(a.t.TID, b.t.TID)) })
	var b strings.Builder
	// LWK tids start at 4194304: seven digits.
	fmt.Fprintf(&b, " %7s  %7s  %7s  %3s  %16s  %2s  %4s  %8s  %7s  %s\n", "PID", "TID", "PPID", "CPU", "TASK", "ST", "%MEM", "VSZ", "RSS", "COMM")
	for _, r := range rows {
		mark := " "
		if r.t.Current {
			mark = ">"
		}
		pmem := 0.0
		if snap.MemTotal > 0 {
			pmem = 100 * float64(r.p.RSS) / float64(snap.MemTotal)
		}
		fmt.Fprintf(&b, "%s%7d  %7d  %7d  %3d  %16x  %2s  %4.1f  %8d  %7d  %s\n", mark, r.p.PID, r.t.TID, r.p.PPID, r.t.CPU,
			r.t.Addr, crashState(r.t), pmem, kib(r.p.VSZ), kib(r.p.RSS), comm(r.p))
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}

// selected says a thread is named by one of args: its pid, its tid or its
// command.
func selected(args []string, p *lwk.Process, t *lwk.Thread) bool {
	for _, a := range args {
		if a == strconv.Itoa(p.PID) || a == strconv.Itoa(t.TID) || a == comm(p) {
			return true
		}
	}
	return false
}

// find resolves a PID or TID (crash takes either where it takes a pid)
// in snap: a process's pid names its first thread, the one with TID ==
// PID when it lives.
func find(snap *lwk.Snapshot, arg string) (*lwk.Process, *lwk.Thread, error) {
	id, err := strconv.Atoi(arg)
	if err != nil || id <= 0 {
		return nil, nil, fmt.Errorf("invalid task or pid value: %s", arg)
	}
	return findID(snap, id)
}

func findID(snap *lwk.Snapshot, id int) (*lwk.Process, *lwk.Thread, error) {
	for i := range snap.Procs {
		p := &snap.Procs[i]
		if p.PID != id {
			continue
		}
		if len(p.Threads) == 0 {
			return p, nil, nil
		}
		for j := range p.Threads {
			if p.Threads[j].TID == id {
				return p, &p.Threads[j], nil
			}
		}
		return p, &p.Threads[0], nil
	}
	for i := range snap.Procs {
		p := &snap.Procs[i]
		for j := range p.Threads {
			if p.Threads[j].TID == id {
				return p, &p.Threads[j], nil
			}
		}
	}
	return nil, nil, fmt.Errorf("invalid task or pid value: %d (no such LWK process or thread in %s)", id, snap.Source)
}

// target is the process and thread an optional PID|TID operand names, or
// the context's.
func (s *Session) target(args []string) (*lwk.Snapshot, *lwk.Process, *lwk.Thread, error) {
	snap, err := s.snapshot()
	if err != nil {
		return nil, nil, nil, err
	}
	if len(args) > 0 {
		p, t, err := find(snap, args[0])
		return snap, p, t, err
	}
	if s.pid == 0 {
		return nil, nil, nil, fmt.Errorf("no context: %s runs no LWK process (give a PID)", snap.Source)
	}
	p, t, err := findID(snap, s.tid)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the context thread %d has gone: %w", s.tid, err)
	}
	return snap, p, t, nil
}

// header is crash's line naming a task, above bt, vm, files and sig.
func header(p *lwk.Process, t *lwk.Thread) string {
	if t == nil {
		return fmt.Sprintf("PID: %-7d TASK: %-16s CPU: %-3s COMMAND: %q\n", p.PID, "-", "-", comm(p))
	}
	return fmt.Sprintf("PID: %-7d TID: %-7d TASK: %-16x CPU: %-3d COMMAND: %q\n", p.PID, t.TID, t.Addr, t.CPU, comm(p))
}

// set sets or shows the context; -c CPU sets it to the thread current
// on LWK CPU CPU, as crash's set -c.
func (s *Session) set(args []string) error {
	cpu := -1
	args, err := flags("set", args, func(fs *pflag.FlagSet) { fs.IntVarP(&cpu, "cpu", "c", -1, "") })
	if err != nil {
		return err
	}
	if err := operands("set", args, 0, 1); err != nil {
		return err
	}
	if cpu >= 0 {
		if len(args) > 0 {
			return fmt.Errorf("-c takes no PID")
		}
		if args, err = s.currentOn(cpu); err != nil {
			return err
		}
	}
	_, p, t, err := s.target(args)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("pid %d has no threads", p.PID)
	}
	s.pid, s.tid = p.PID, t.TID
	_, err = fmt.Fprintf(s.Out, "    PID: %d\n    TID: %d\nCOMMAND: %q\n   TASK: %x\n    CPU: %d\n  STATE: %s\n",
		p.PID, t.TID, comm(p), t.Addr, t.CPU, taskState(t))
	return err
}

// currentOn is the TID current on LWK CPU cpu, as an operand.
func (s *Session) currentOn(cpu int) ([]string, error) {
	snap, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	for _, c := range snap.CPUs {
		if c.Index != cpu {
			continue
		}
		if c.Current == 0 {
			return nil, fmt.Errorf("LWK CPU %d is idle", cpu)
		}
		return []string{strconv.Itoa(c.Current)}, nil
	}
	return nil, fmt.Errorf("invalid cpu number: %d (the instance has %d LWK CPUs)", cpu, len(snap.CPUs))
}
