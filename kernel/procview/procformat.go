package procview

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// PageSize is the unit of statm and the rss field of stat: the LWK's.
const PageSize = lwkabi.PageSize

// ClockTicks is USER_HZ, the unit of stat's times.
const ClockTicks = 100

// Task is one thread.
type Task struct {
	TID   int
	State byte // R, S, T or Z, as in ps
	CPU   int  // host CPU number, as getcpu reports it
	// Pending and Blocked are the thread's signal sets (bit sig-1).
	Pending, Blocked uint64
	// UserNs and SysNs are its CPU times (stats.Counters.CPUTimes).
	UserNs, SysNs uint64
	Switches      uint64 // voluntary context switches (blocking calls)
}

// Mapping is one line of maps.
type Mapping struct {
	Start, End uint64
	Perms      string // "rwxp" form
	Offset     uint64
	Major      uint32
	Minor      uint32
	Inode      uint64
	Name       string
}

// Process is a snapshot of one LWK process.
type Process struct {
	PID, PPID, PGID, SID int
	Exe                  string
	Args, Env            []string
	UID, EUID, GID, EGID int
	Tasks                []Task // the first is the main thread
	Maps                 []Mapping
	Auxv                 []uint64
	RSS, VSZ             uint64 // bytes
	MinFaults            uint64
	// Ended are the CPU times of its threads that have ended, Children
	// those of the children wait reaped (stat's cutime and cstime).
	Ended, Children    [2]uint64 // user, system ns
	StartTicks         uint64    // since host boot, in ClockTicks
	StartCode, EndCode uint64
	StartStack         uint64
	StartBrk, Brk      uint64
	// Process-directed pending signals and the dispositions.
	SharedPending, Ignored, Caught uint64
	ExitSignal                     int
	RSSLimit                       uint64
	CPUs, Nodes                    []int // where the process may run and allocate
}

// Comm is the thread name Linux gives an exec'd program: the file name's
// base, cut to 15 bytes.
func (p *Process) Comm() string {
	c := filepath.Base(p.Exe)
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// Task returns the thread tid; tid 0 stands for the process as a whole,
// which shows its first thread's state under the pid.
func (p *Process) Task(tid int) (Task, bool) {
	for _, t := range p.Tasks {
		if tid == 0 {
			t.TID = p.PID
			return t, true
		}
		if t.TID == tid {
			return t, true
		}
	}
	return Task{}, false
}

// Stat renders /proc/<pid>/stat, or task/<tid>/stat for t's thread.
// Fields the LWK does not keep (tty, nice) are 0 as for a daemon;
// kstkesp and kstkeip are 0 as Linux shows them to non-tracers.
func Stat(p *Process, t Task) []byte {
	user, sys := t.UserNs, t.SysNs
	if t.TID == p.PID { // the process's: all its threads'
		user, sys = p.Ended[0], p.Ended[1]
		for _, o := range p.Tasks {
			user += o.UserNs
			sys += o.SysNs
		}
	}
	ticks := func(ns uint64) uint64 { return ns * ClockTicks / 1e9 }
	f := []any{
		t.TID, "(" + p.Comm() + ")", string(t.State), p.PPID, p.PGID, p.SID,
		0, -1, 0x400040, p.MinFaults, 0, 0, 0, // tty, tpgid, flags, faults
		ticks(user), ticks(sys), ticks(p.Children[0]), ticks(p.Children[1]), // utime stime cutime cstime
		20, 0, len(p.Tasks), 0, p.StartTicks, p.VSZ, p.RSS / PageSize, p.RSSLimit,
		p.StartCode, p.EndCode, p.StartStack, 0, 0, // kstkesp kstkeip
		t.Pending, t.Blocked, p.Ignored, p.Caught, // the thread's own pending set, as Linux
		0, 0, 0, p.ExitSignal, t.CPU, 0, 0, 0, 0, 0, // wchan .. cguest_time
		0, 0, p.StartBrk, 0, 0, 0, 0, 0, // start_data .. exit_code
	}
	var b bytes.Buffer
	for i, v := range f {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, v)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// stateNames spells the state letters as status does.
var stateNames = map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'T': "T (stopped)", 'Z': "Z (zombie)"}

// Status renders /proc/<pid>/status, or task/<tid>/status for t.
func Status(p *Process, t Task) []byte {
	var b bytes.Buffer
	kb := func(n uint64) string { return fmt.Sprintf("%8d kB", n/1024) }
	line := func(k string, v any) { fmt.Fprintf(&b, "%s:\t%v\n", k, v) }
	line("Name", p.Comm())
	line("State", stateNames[t.State])
	line("Tgid", p.PID)
	line("Ngid", 0)
	line("Pid", t.TID)
	line("PPid", p.PPID)
	line("TracerPid", 0)
	line("Uid", fmt.Sprintf("%d\t%d\t%d\t%d", p.UID, p.EUID, p.EUID, p.EUID))
	line("Gid", fmt.Sprintf("%d\t%d\t%d\t%d", p.GID, p.EGID, p.EGID, p.EGID))
	line("VmPeak", kb(p.VSZ))
	line("VmSize", kb(p.VSZ))
	line("VmLck", kb(0))
	line("VmPin", kb(0))
	line("VmHWM", kb(p.RSS))
	line("VmRSS", kb(p.RSS))
	line("VmExe", kb(p.EndCode-p.StartCode))
	line("VmSwap", kb(0))
	line("Threads", len(p.Tasks))
	line("SigPnd", fmt.Sprintf("%016x", t.Pending))
	line("ShdPnd", fmt.Sprintf("%016x", p.SharedPending))
	line("SigBlk", fmt.Sprintf("%016x", t.Blocked))
	line("SigIgn", fmt.Sprintf("%016x", p.Ignored))
	line("SigCgt", fmt.Sprintf("%016x", p.Caught))
	line("NoNewPrivs", 0)
	line("Seccomp", 0)
	line("Cpus_allowed", Mask(p.CPUs))
	line("Cpus_allowed_list", List(p.CPUs))
	line("Mems_allowed", Mask(p.Nodes))
	line("Mems_allowed_list", List(p.Nodes))
	line("voluntary_ctxt_switches", t.Switches)
	line("nonvoluntary_ctxt_switches", 0)
	return b.Bytes()
}

// Statm renders /proc/<pid>/statm: size resident shared text lib data dt,
// in pages.
func Statm(p *Process) []byte {
	text := (p.EndCode - p.StartCode) / PageSize
	return fmt.Appendf(nil, "%d %d 0 %d 0 %d 0\n", p.VSZ/PageSize, p.RSS/PageSize, text, (p.VSZ/PageSize)-min(text, p.VSZ/PageSize))
}

// Maps renders /proc/<pid>/maps.
func Maps(p *Process) []byte {
	var b bytes.Buffer
	for _, m := range p.Maps {
		n, _ := fmt.Fprintf(&b, "%08x-%08x %s %08x %02x:%02x %d ", m.Start, m.End, m.Perms, m.Offset, m.Major, m.Minor, m.Inode)
		if m.Name != "" {
			// Linux pads the name to column 73.
			b.WriteString(strings.Repeat(" ", max(73-n, 1)))
			b.WriteString(m.Name)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Strings renders cmdline and environ: each string NUL-terminated.
func Strings(s []string) []byte {
	var b bytes.Buffer
	for _, v := range s {
		b.WriteString(v)
		b.WriteByte(0)
	}
	return b.Bytes()
}

// Auxv renders /proc/<pid>/auxv: the vector's words, little-endian.
func Auxv(auxv []uint64) []byte {
	b := make([]byte, 0, len(auxv)*8)
	for _, w := range auxv {
		for i := 0; i < 64; i += 8 {
			b = append(b, byte(w>>i))
		}
	}
	return b
}
