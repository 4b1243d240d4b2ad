package command

import (
	"fmt"
	"strings"

	"github.com/gomck/gomck/crash/capture"
	"github.com/gomck/gomck/crash/dumpfile"
)

// files prints a process's open files as crash's files: they are its
// mcexec's descriptors, read from /proc live and from the dump's note of
// them (taken with the dump) otherwise.
func (s *Session) files(args []string) error {
	if err := operands("files", args, 0, 1); err != nil {
		return err
	}
	_, p, t, err := s.target(args)
	if err != nil {
		return err
	}
	var open []dumpfile.OpenFile
	switch {
	case s.tg.Live:
		if open, err = capture.OpenFiles(p.PID, p.ProxyPID); err != nil {
			return err
		}
	case s.dump == nil:
		return fmt.Errorf("%s is no LWK dump (a gcore of the daemon?): it holds no open files", s.tg.Source)
	case !s.dump.HasFiles:
		return fmt.Errorf("%s: the dump did not record open files (taken by an older ihkosctl)", s.tg.Source)
	default:
		for _, f := range s.dump.OpenFiles {
			if f.PID == p.PID {
				open = append(open, f)
			}
		}
	}
	var b strings.Builder
	b.WriteString(header(p, t))
	fmt.Fprintf(&b, "MCEXEC: %d\n", p.ProxyPID)
	fmt.Fprintf(&b, "%3s  %-4s  %10s  %8s  %s\n", "FD", "TYPE", "POS", "FLAGS", "PATH")
	for _, f := range open {
		fmt.Fprintf(&b, "%3d  %-4s  %10d  %08o  %s\n", f.FD, f.Type, f.Pos, f.Flags, f.Path)
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}
