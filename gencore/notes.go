package gencore

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The note types other writers of core-like files (crash/dumpfile) use.
const (
	NTPrpsinfo = ntPrpsinfo
	NTAuxv     = ntAuxv
	NTFile     = ntFile
)

// Note types, as in Linux's uapi/linux/elf.h.
const (
	ntPrstatus  = 1
	ntFPRegset  = 2
	ntPrpsinfo  = 3
	ntAuxv      = 6
	ntX86XState = 0x202
	ntSigInfo   = 0x53494749
	ntFile      = 0x46494c45
)

// Sizes of the x86-64 note bodies.
const (
	prstatusSize = 336
	prpsinfoSize = 136
	fxsaveSize   = 512
	regsOff      = 112 // pr_reg in elf_prstatus
	fnameLen     = 16  // pr_fname
	psargsLen    = 80  // ELF_PRARGSZ
)

var le = binary.LittleEndian

// notes lays out the PT_NOTE segment's notes, in binfmt_elf's order.
func notes(c *Core) [][]byte {
	var b noteList
	for i := range c.Threads {
		t := &c.Threads[i]
		note(&b, "CORE", ntPrstatus, prstatus(c, t))
		if i == 0 {
			note(&b, "CORE", ntPrpsinfo, Prpsinfo(&c.Process))
			note(&b, "CORE", ntSigInfo, c.SigInfo[:])
			note(&b, "CORE", ntAuxv, words(c.Auxv))
			if f := FileNote(c.Areas); f != nil {
				note(&b, "CORE", ntFile, f)
			}
		}
		if len(t.XState) >= fxsaveSize {
			note(&b, "CORE", ntFPRegset, t.XState[:fxsaveSize])
			note(&b, "LINUX", ntX86XState, t.XState)
		}
	}
	if len(c.Threads) > 0 {
		if l := xsaveLayout(c.Threads[0].XState); l != nil {
			note(&b, "LINUX", ntX86XSaveLayout, l)
		}
	}
	return b
}

// noteList holds laid-out notes, each written whole or not at all when a
// size limit falls in it, as Linux writes them.
type noteList [][]byte

// note appends one ELF note to l.
func note(l *noteList, name string, typ uint32, desc []byte) { *l = append(*l, Note(name, typ, desc)) }

// Note lays out one ELF note: its name and body each padded to 4 bytes.
func Note(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	var hdr [12]byte
	le.PutUint32(hdr[0:], uint32(len(name)+1))
	le.PutUint32(hdr[4:], uint32(len(desc)))
	le.PutUint32(hdr[8:], typ)
	b.Write(hdr[:])
	b.WriteString(name)
	b.Write(make([]byte, pad4(len(name)+1)-len(name)))
	b.Write(desc)
	b.Write(make([]byte, pad4(len(desc))-len(desc)))
	return b.Bytes()
}

func pad4(n int) int { return (n + 3) &^ 3 }

// prstatus is struct elf_prstatus for thread t.
func prstatus(c *Core, t *Thread) []byte {
	b := make([]byte, prstatusSize)
	p := &c.Process
	le.PutUint32(b[0:], uint32(c.Signal)) // pr_info.si_signo
	le.PutUint16(b[12:], uint16(c.Signal))
	le.PutUint64(b[16:], t.SigPending)
	le.PutUint64(b[24:], t.SigHold)
	for i, v := range []int{t.TID, p.PPID, p.PGID, p.SID} {
		le.PutUint32(b[32+4*i:], uint32(v))
	}
	timeval(b[48:], t.UTime)
	timeval(b[64:], t.STime)
	copy(b[regsOff:], unsafe.Slice((*byte)(unsafe.Pointer(&t.Regs)), unsafe.Sizeof(t.Regs)))
	if len(t.XState) >= fxsaveSize {
		le.PutUint32(b[regsOff+int(unsafe.Sizeof(unix.PtraceRegs{})):], 1) // pr_fpvalid
	}
	return b
}

func timeval(b []byte, d time.Duration) {
	le.PutUint64(b, uint64(d/time.Second))
	le.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// Prpsinfo is the body of NT_PRPSINFO, struct elf_prpsinfo.
func Prpsinfo(p *Process) []byte {
	b := make([]byte, prpsinfoSize)
	state := strings.IndexByte("RSDTZW", p.State)
	if state < 0 {
		state = 0
	}
	b[0], b[1], b[3] = byte(state), p.State, byte(int8(p.Nice))
	if b[1] == 0 {
		b[1] = 'R'
	}
	if p.State == 'Z' {
		b[2] = 1
	}
	le.PutUint32(b[16:], uint32(p.UID))
	le.PutUint32(b[20:], uint32(p.GID))
	for i, v := range []int{p.PID, p.PPID, p.PGID, p.SID} {
		le.PutUint32(b[24+4*i:], uint32(v))
	}
	copy(b[40:40+fnameLen-1], p.Name)
	copy(b[56:56+psargsLen-1], p.Args)
	return b
}

// words lays out 64-bit words.
func words(ws []uint64) []byte {
	b := make([]byte, 8*len(ws))
	for i, w := range ws {
		le.PutUint64(b[8*i:], w)
	}
	return b
}

// FileNote is the body of the NT_FILE note of the file mappings, nil when
// there is none: their count, the page size, a (start, end, offset in
// pages) triple each, then their names.
func FileNote(areas []Area) []byte {
	var triples []uint64
	var names bytes.Buffer
	for _, a := range areas {
		if a.File == "" {
			continue
		}
		triples = append(triples, a.Start, a.End, a.Offset/PageSize)
		names.WriteString(a.File)
		names.WriteByte(0)
	}
	if triples == nil {
		return nil
	}
	head := words(append([]uint64{uint64(len(triples) / 3), PageSize}, triples...))
	return append(head, names.Bytes()...)
}
