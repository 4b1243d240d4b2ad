package gdbserver

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gomck/gomck/inspect/report"
)

// monitorHelp lists the monitor commands.
const monitorHelp = `monitor ps [PID]   the LWK's threads, as mcps prints them
monitor log        the kernel message ring, as ihkosctl kmsg and mcinspect --kmsg
monitor kmem       the page allocator per NUMA node, as mcinspect --mem
`

// monitor runs a monitor command on the snapshot, printing as mcps and
// mcinspect do (inspect/report).
func (s *Server) monitor(w io.Writer, cmd string) error {
	args := strings.Fields(cmd)
	if len(args) == 0 {
		args = []string{"help"}
	}
	switch args[0] {
	case "ps":
		pid := 0
		if len(args) > 1 {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("ps %s: want a PID", args[1])
			}
			if _, err := s.snap.Process(n); err != nil {
				return err
			}
			pid = n
		}
		cols, err := report.ParseColumns(report.Default)
		if err != nil {
			return err
		}
		return report.Write(w, report.Rows(s.snap, pid), cols)
	case "log":
		if s.snap.Kmsg == "" {
			return fmt.Errorf("%s: the kernel message ring was not read", s.snap.Source)
		}
		_, err := io.WriteString(w, s.snap.Kmsg)
		return err
	case "kmem":
		return report.WriteMem(w, s.snap)
	case "help":
		_, err := io.WriteString(w, monitorHelp)
		return err
	}
	return fmt.Errorf("no monitor command %q; monitor help lists them", args[0])
}
