package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gomck/gomck/inspect/lwk"
	"github.com/gomck/gomck/inspect/report"
)

// ParseAddr reads a virtual address as crash does: hex, with or without
// 0x; a decimal address needs 0d... never, so plain digits are hex too.
func ParseAddr(s string) (uint64, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	v, err := strconv.ParseUint(t, 16, 64)
	if err != nil || t == "" {
		return 0, fmt.Errorf("bad address %q: want hex, as 7f0000001000 or 0x7f0000001000", s)
	}
	return v, nil
}

// process reads the snapshot with what and finds pid in it.
func (t *Target) process(what lwk.What, pid int) (*lwk.Snapshot, *lwk.Process, error) {
	if pid <= 0 {
		return nil, nil, errors.New("which process? give -p PID")
	}
	s, err := t.Snapshot(what)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.Process(pid)
	if err != nil {
		return nil, nil, err
	}
	if p.Changing {
		return nil, nil, fmt.Errorf("pid %d: process record %v", pid, "(changing)")
	}
	return s, p, nil
}

// Maps prints mcinspect --maps -p PID.
func Maps(t *Target, pid int) error {
	_, p, err := t.process(lwk.What{VMAs: true}, pid)
	if err != nil {
		return err
	}
	if p.MMChanging {
		return fmt.Errorf("pid %d: address space (changing)", pid)
	}
	if t.JSON {
		return PrintJSON(os.Stdout, p.VMAs)
	}
	return report.WriteMaps(os.Stdout, p)
}

// Vtop prints mcinspect --vtop -p PID -v VA.
func Vtop(t *Target, pid int, va string) error {
	addr, err := ParseAddr(va)
	if err != nil {
		return err
	}
	s, p, err := t.process(lwk.What{VMAs: true}, pid)
	if err != nil {
		return err
	}
	tr, err := s.Translate(p, addr)
	if err != nil {
		return err
	}
	if t.JSON {
		return PrintJSON(os.Stdout, tr)
	}
	return report.WriteVtop(os.Stdout, tr)
}

// Mem prints mcinspect --mem.
func Mem(t *Target) error {
	s, err := t.Snapshot(lwk.What{})
	if err != nil {
		return err
	}
	if t.JSON {
		return PrintJSON(os.Stdout, s.Alloc)
	}
	return report.WriteMem(os.Stdout, s)
}

// Kmsg prints mcinspect --kmsg.
func Kmsg(t *Target) error {
	s, err := t.Snapshot(lwk.What{Kmsg: true})
	if err != nil {
		return err
	}
	if t.JSON {
		return PrintJSON(os.Stdout, map[string]string{"kmsg": s.Kmsg})
	}
	_, err = os.Stdout.WriteString(s.Kmsg)
	return err
}

// Threads prints mcinspect --threads [-p PID]: every thread record in full
// (registers as last saved, counters) with its process's IKC channel; JSON
// only, since a register set per thread is no table.
func Threads(t *Target, pid int) error {
	s, err := t.Snapshot(lwk.What{Regs: true, IKC: true})
	if err != nil {
		return err
	}
	if pid > 0 {
		p, err := s.Process(pid)
		if err != nil {
			return err
		}
		s.Procs = []lwk.Process{*p}
	}
	return PrintJSON(os.Stdout, s)
}
