package procview

import (
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/task"
)

// snapshot gathers what the /proc files of p show.
func (v *Views) snapshot(p *task.Process) *Process {
	s := &Process{PID: p.PID, PPID: p.PPID, PGID: v.in.PGID(p), SID: p.PID,
		Exe: p.Exe, Args: p.Args, Env: p.Env, Auxv: p.Auxv,
		UID: p.Cred.UID, EUID: p.Cred.EUID, GID: p.Cred.GID, EGID: p.Cred.EGID,
		StartStack: p.StackStart, StartBrk: p.MM.BrkStart, Brk: p.MM.Brk,
		SharedPending: p.Pending.Load(), ExitSignal: p.ChildSignal,
		RSSLimit: p.Rlimits[unix.RLIMIT_RSS].Cur, CPUs: v.in.CPUs, Nodes: v.nodes(),
		MinFaults: p.MM.Faults, StartTicks: ticksSinceBoot(p.Start)}
	if sid, err := unix.Getsid(p.ProxyPID); err == nil {
		s.SID = sid
	}
	s.RSS, s.VSZ = p.MM.Usage()
	for i := 1; i < len(p.SigActs); i++ {
		switch h := p.SigActs[i].Handler; {
		case h == task.SigIgnore:
			s.Ignored |= 1 << (i - 1)
		case h != task.SigDefault:
			s.Caught |= 1 << (i - 1)
		}
	}
	p.UsageMu.Lock()
	s.Ended[0], s.Ended[1] = p.Usage.Ended.CPUTimes()
	s.Children[0], s.Children[1] = p.Usage.Reaped.CPUTimes()
	p.UsageMu.Unlock()
	for _, t := range p.Threads {
		n := t.Stats.Totals()
		if v.in.Slice != nil {
			n.RunNs += v.in.Slice(t)
		}
		user, sys := n.CPUTimes()
		s.Tasks = append(s.Tasks, Task{TID: t.TID, State: stateLetter(t),
			CPU: v.in.CPUs[t.CPU], Pending: t.Pending.Load(), Blocked: t.SigMask,
			UserNs: user, SysNs: sys})
	}
	s.Maps, s.StartCode, s.EndCode = maps(p)
	return s
}

// stateLetter is ps's letter for t's state (lwkabi.ThreadState.Shown).
func stateLetter(t *task.Thread) byte {
	return t.State.Shown(t.Proc.Stopped.Load()).Letter()
}

// maps lists p's VMAs as maps lines, with the vDSO pages of its stub
// (Linux's, at the address the app uses), and the main image's text.
func maps(p *task.Process) (lines []Mapping, startCode, endCode uint64) {
	files := map[string]*syscall.Stat_t{}
	for _, v := range p.MM.Areas() {
		m := Mapping{Start: v.Start, End: v.End, Perms: perms(v.Prot, v.Flags)}
		switch v.Kind {
		case mm.KindHeap, mm.KindStack:
			m.Name = v.Kind.String()
		case mm.KindAnon:
			if v.Pinned {
				m.Name = v.Name // the kernel's own pages: [lwk_counters]
			} else if v.Shared != nil {
				m.Name = "/dev/zero (deleted)" // as Linux names shared anonymous memory
			}
		case mm.KindFile, mm.KindELF:
			// The offset of the VMA's first page: an ELF segment's may
			// start inside it.
			m.Name, m.Offset = v.Name, v.FileOff&^(mm.PageSize-1)
			if v.File != nil { // shared: the open file, which may be unlinked since
				m.Name, m.Major, m.Minor, m.Inode = v.File.Path(), unix.Major(v.File.Dev), unix.Minor(v.File.Dev), v.File.Ino
				break
			}
			st, seen := files[v.Name]
			if !seen {
				if fi, err := os.Stat(v.Name); err == nil {
					st, _ = fi.Sys().(*syscall.Stat_t)
				}
				files[v.Name] = st
			}
			if st != nil {
				m.Major, m.Minor, m.Inode = unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino
			}
			if v.Kind == mm.KindELF && v.Name == p.Exe && v.Prot&unix.PROT_EXEC != 0 && startCode == 0 {
				startCode, endCode = v.Start, v.End
			}
		}
		lines = append(lines, m)
	}
	if p.Stub != nil {
		lines = insertSorted(lines, StubSpecial(p.Stub.PID))
	}
	return lines, startCode, endCode
}

// perms spells prot and the sharing as maps does ("r-xp").
func perms(prot, flags int) string {
	b := []byte("---p")
	if prot&unix.PROT_READ != 0 {
		b[0] = 'r'
	}
	if prot&unix.PROT_WRITE != 0 {
		b[1] = 'w'
	}
	if prot&unix.PROT_EXEC != 0 {
		b[2] = 'x'
	}
	if flags&unix.MAP_SHARED != 0 {
		b[3] = 's'
	}
	return string(b)
}

// StubSpecial reads the [vvar], [vdso] and [vsyscall] lines of stub pid:
// the kernel's pages the app really uses.
func StubSpecial(pid int) []Mapping {
	lines, _ := lwkabi.ReadMaps(pid)
	var out []Mapping
	for _, l := range lines {
		if strings.HasPrefix(l.Name, "[v") {
			out = append(out, Mapping{Start: l.Start, End: l.End, Perms: l.Perms, Name: l.Name})
		}
	}
	return out
}

// insertSorted merges extra into lines, keeping address order.
func insertSorted(lines, extra []Mapping) []Mapping {
	for _, e := range extra {
		i := 0
		for i < len(lines) && lines[i].Start < e.Start {
			i++
		}
		lines = append(lines[:i], append([]Mapping{e}, lines[i:]...)...)
	}
	return lines
}

// ticksSinceBoot converts a unix-ns time to clock ticks since host boot,
// as stat's starttime.
func ticksSinceBoot(unixNs int64) uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	boot := time.Now().UnixNano() - ts.Nano()
	return uint64(max(unixNs-boot, 0)) * ClockTicks / uint64(time.Second)
}
