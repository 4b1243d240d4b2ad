package cli

import (
	"encoding/hex"
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

// errNoPID answers a command about a process given no -p PID.
var errNoPID = errors.New("which process? give -p PID")

// process reads the snapshot with what and finds pid in it.
func (t *Target) process(what lwk.What, pid int) (*lwk.Snapshot, *lwk.Process, error) {
	if pid <= 0 {
		return nil, nil, errNoPID
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

// MaxRead bounds what --read reads at once: it is shown, not saved.
const MaxRead = 16 << 20

// Read prints mcinspect --read -p PID -v VA -n LEN: n bytes of the app's
// memory at va (lwk.AppMemory), as a hex dump or as JSON with the bytes
// in hex.
func Read(t *Target, pid int, va string, n int) error {
	addr, err := ParseAddr(va)
	if err != nil {
		return err
	}
	if n <= 0 || n > MaxRead {
		return fmt.Errorf("bad length %d: want 1 to %d bytes", n, MaxRead)
	}
	if pid <= 0 {
		return errNoPID
	}
	tg, l, err := t.Open()
	if err != nil {
		return err
	}
	defer tg.Close()
	s, err := read(tg, l, lwk.What{VMAs: true})
	if err != nil {
		return err
	}
	app, err := lwk.NewAppMemory(tg.Mem, s, pid)
	if err != nil {
		return err
	}
	b := make([]byte, n)
	if _, err := app.ReadMemory(b, addr); err != nil {
		return err
	}
	if t.JSON {
		return PrintJSON(os.Stdout, struct {
			PID int    `json:"pid"`
			VA  uint64 `json:"va"`
			Hex string `json:"hex"`
		}{pid, addr, hex.EncodeToString(b)})
	}
	return report.WriteHex(os.Stdout, addr, b)
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
