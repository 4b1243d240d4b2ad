package elfinfo

import (
	"bytes"
	"encoding/binary"
)

// NTPrstatus is a thread's status and registers (owner "CORE").
const NTPrstatus = 1

// Prstatus is what an x86-64 NT_PRSTATUS payload (struct elf_prstatus)
// says of its thread, besides its registers.
type Prstatus struct {
	TID     int
	Cursig  int    // the signal that stopped it, 0 none
	Pending uint64 // pr_sigpend, bit sig-1
}

// ParsePrstatus decodes an x86-64 NT_PRSTATUS payload.
func ParsePrstatus(b []byte, order binary.ByteOrder) (Prstatus, bool) {
	const cursigOff, sigpendOff, pidOff = 12, 16, 32
	if len(b) < pidOff+4 {
		return Prstatus{}, false
	}
	return Prstatus{TID: int(int32(order.Uint32(b[pidOff:]))), Cursig: int(order.Uint16(b[cursigOff:])),
		Pending: order.Uint64(b[sigpendOff:])}, true
}

// Prpsinfo is what an x86-64 NT_PRPSINFO payload (struct elf_prpsinfo)
// says of the process.
type Prpsinfo struct {
	State     byte // pr_sname: R, S, T, Z...
	PID, PPID int
	Name      string // pr_fname, the executable's base name (15 bytes at most)
	Args      string // pr_psargs, the command line (80 bytes at most)
}

// ParsePrpsinfo decodes an x86-64 NT_PRPSINFO payload.
func ParsePrpsinfo(b []byte, order binary.ByteOrder) (Prpsinfo, bool) {
	const snameOff, pidOff, fnameOff, psargsOff, size = 1, prpsinfoPIDOff, 40, 56, 136
	if len(b) < size {
		return Prpsinfo{}, false
	}
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	return Prpsinfo{State: b[snameOff], PID: int(int32(order.Uint32(b[pidOff:]))), PPID: int(int32(order.Uint32(b[pidOff+4:]))),
		Name: cstr(b[fnameOff:psargsOff]), Args: cstr(b[psargsOff:size])}, true
}
