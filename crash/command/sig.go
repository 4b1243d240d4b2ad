package command

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/inspect/lwk"
)

// sig prints a process's signal state as crash's sig: the dispositions,
// the process's pending signals with the queued ones, then each thread's
// blocked and pending sets.
func (s *Session) sig(args []string) error {
	if err := operands("sig", args, 0, 1); err != nil {
		return err
	}
	snap, p, t, err := s.target(args)
	if err != nil {
		return err
	}
	d, err := lwk.ReadDetails(s.tg, s.layout, p.PID)
	if err != nil {
		return err
	}
	a, _, _ := s.appMemory(snap, p) // handlers are named when the executable is at hand
	var b strings.Builder
	b.WriteString(header(p, t))
	fmt.Fprintf(&b, "NR_THREADS: %d\n", len(p.Threads))
	fmt.Fprintf(&b, " %-16s %-16s %-16s %s\n", "SIG", "HANDLER", "MASK", "FLAGS")
	for _, act := range d.Actions {
		handler := fmt.Sprintf("%x", act.Handler)
		switch act.Handler {
		case 0:
			handler = "SIG_DFL"
		case 1:
			handler = "SIG_IGN"
		default:
			if a != nil {
				if w := a.where(act.Handler); w != "" {
					handler += " <" + w + ">"
				}
			}
		}
		fmt.Fprintf(&b, " %-16s %-16s %016x %x%s\n", fmt.Sprintf("[%d] %s", act.Sig, sigName(act.Sig)), handler, act.Mask, act.Flags, saFlags(act.Flags))
	}
	b.WriteString("SHARED_PENDING\n")
	fmt.Fprintf(&b, "    SIGNAL: %016x%s\n", d.Pending, sigSet(d.Pending))
	queued := "(empty)"
	var qs []string
	for _, q := range d.Queued {
		if q.TID == 0 {
			qs = append(qs, sigName(q.Sig))
		}
	}
	if len(qs) > 0 {
		queued = strings.Join(qs, " ")
	}
	fmt.Fprintf(&b, "  SIGQUEUE: %s\n", queued)
	for _, td := range d.Threads {
		if td.Changing {
			b.WriteString("\n  THREAD: (changing)\n")
			continue
		}
		fmt.Fprintf(&b, "\n  THREAD: %d\n   BLOCKED: %016x%s\n  PRIVATE_PENDING\n    SIGNAL: %016x%s\n", td.TID, td.Blocked, sigSet(td.Blocked), td.Pending, sigSet(td.Pending))
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}

// sigName names a signal as crash and glibc do: SIGHUP..., then the
// real-time ones from SIGRTMIN (34: glibc keeps 32 and 33).
func sigName(sig int) string {
	switch {
	case sig < 32:
		if n := unix.SignalName(unix.Signal(sig)); n != "" {
			return n
		}
	case sig == 34:
		return "SIGRTMIN"
	case sig == 64:
		return "SIGRTMAX"
	case sig > 34 && sig < 64:
		return fmt.Sprintf("SIGRTMIN+%d", sig-34)
	}
	return fmt.Sprintf("SIG%d", sig)
}

// sigSet lists the signals of a set, bit sig-1.
func sigSet(set uint64) string {
	var names []string
	for sig := 1; sig <= 64; sig++ {
		if set&(1<<(sig-1)) != 0 {
			names = append(names, sigName(sig))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, " ") + ")"
}

// saFlagNames are Linux's x86-64 sigaction flags (x/sys/unix has none).
var saFlagNames = []struct {
	bit  uint64
	name string
}{
	{0x1, "SA_NOCLDSTOP"}, {0x2, "SA_NOCLDWAIT"}, {0x4, "SA_SIGINFO"}, {0x04000000, "SA_RESTORER"},
	{0x08000000, "SA_ONSTACK"}, {0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"},
}

// saFlags names sigaction flags: " (SA_RESTART|SA_SIGINFO)".
func saFlags(f uint64) string {
	var names []string
	for _, n := range saFlagNames {
		if f&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " (" + strings.Join(names, "|") + ")"
}
