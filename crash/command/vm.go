package command

import (
	"fmt"
	"strings"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/inspect/report"
)

// vm prints a process's address space as crash's vm: the task, the mm
// line, then one line per VMA. FLAGS are the VMA's permissions as
// /proc/PID/maps shows them (the LWK keeps prot and MAP_* flags, not
// Linux's vm_flags).
func (s *Session) vm(args []string) error {
	if err := operands("vm", args, 0, 1); err != nil {
		return err
	}
	_, p, t, err := s.target(args)
	if err != nil {
		return err
	}
	if p.MMChanging {
		return fmt.Errorf("pid %d: address space (changing)", p.PID)
	}
	var b strings.Builder
	b.WriteString(header(p, t))
	fmt.Fprintf(&b, "%16s  %16s  %10s  %10s\n", "MM", "PGD", "RSS", "TOTAL_VM")
	fmt.Fprintf(&b, "%16x  %16s  %9dk  %9dk\n", p.MMAddr, "-", kib(p.RSS), kib(p.VSZ))
	fmt.Fprintf(&b, "%16s  %16s  %16s  %-5s %s\n", "VMA", "START", "END", "FLAGS", "FILE")
	for _, v := range p.VMAs {
		fmt.Fprintf(&b, "%16x  %16x  %16x  %-5s %s\n", v.Addr, v.Start, v.End, report.Perms(v), vmaFile(v))
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}

// vmaFile is what crash's FILE column shows: the mapped file, or the
// heap's and stack's names; nothing for anonymous memory.
func vmaFile(v lwk.VMA) string {
	switch {
	case v.Name != "":
		return v.Name
	case v.Kind == "anon":
		return ""
	}
	return v.Kind
}
