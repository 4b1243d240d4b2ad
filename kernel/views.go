package kernel

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/procview"
	"github.com/gomck/gomck/kernel/task"
)

// The LWK's views of /proc and /sys (McKernel's mcoverlayfs) live as files
// under the instance's view directory, rendered from LWK state when the
// app names them; the syscall layer then hands mcexec the rendered file's
// path instead of the app's. Entries the LWK has nothing to say about
// (fd, cwd, mounts, ...) stay Linux's: a process's pid is its mcexec's, and
// mcexec holds its descriptors, cwd and namespaces.

// procEntries are the files of /proc/<pid> the LWK renders.
var procEntries = map[string]func(p *procview.Process, t procview.Task) []byte{
	"stat":    procview.Stat,
	"status":  procview.Status,
	"statm":   func(p *procview.Process, _ procview.Task) []byte { return procview.Statm(p) },
	"maps":    func(p *procview.Process, _ procview.Task) []byte { return procview.Maps(p) },
	"cmdline": func(p *procview.Process, _ procview.Task) []byte { return procview.Strings(p.Args) },
	"environ": func(p *procview.Process, _ procview.Task) []byte { return procview.Strings(p.Env) },
	"auxv":    func(p *procview.Process, _ procview.Task) []byte { return procview.Auxv(p.Auxv) },
	"comm":    func(p *procview.Process, _ procview.Task) []byte { return []byte(p.Comm() + "\n") },
}

// taskEntries are those a task/<tid> directory holds of its own.
var taskEntries = []string{"stat", "status", "comm"}

// private entries are readable by the process's owner only, as on Linux.
var private = map[string]bool{"environ": true, "auxv": true}

// View implements syscalls.Kernel: name is an absolute path.
func (k *OS) View(t *task.Thread, name string) (string, bool) {
	if k.viewRoot == "" {
		return "", false
	}
	name = path.Clean(name)
	switch {
	case under(name, "/sys/devices/system/cpu"):
		return filepath.Join(k.viewRoot, name), true
	case under(name, "/sys/devices/system/node"):
		k.renderNodeMeminfo()
		return filepath.Join(k.viewRoot, name), true
	case strings.HasPrefix(name, "/proc/"):
		return k.viewProc(t, strings.Split(name[len("/proc/"):], "/"))
	}
	return "", false
}

// under reports whether name is dir or lies below it.
func under(name, dir string) bool {
	return name == dir || strings.HasPrefix(name, dir+"/")
}

// viewProc resolves /proc/<parts...>: self, thread-self, an LWK pid or an
// LWK tid (Linux, too, answers /proc/<tid> for threads it does not list).
func (k *OS) viewProc(t *task.Thread, parts []string) (string, bool) {
	var p *task.Process
	tid := 0
	switch parts[0] {
	case "self":
		p = t.Proc
	case "thread-self":
		p, tid = t.Proc, t.TID
	default:
		id, err := strconv.Atoi(parts[0])
		if err != nil {
			return "", false
		}
		if p, tid = k.findID(id); p == nil {
			return "", false
		}
	}
	p.Viewed.Store(true)
	rest := parts[1:]
	if tid == 0 && len(rest) >= 2 && rest[0] == "task" {
		id, err := strconv.Atoi(rest[1])
		if err != nil || !hasThread(p, id) {
			return k.procDir(p.PID, "task", rest[1]), true // ENOENT, as Linux
		}
		tid, rest = id, rest[2:]
		if len(rest) == 0 {
			return k.renderTask(p, k.snapshot(p), tid), true
		}
	}
	if len(rest) == 0 {
		return "", false // the directory itself: Linux's entries, mcexec's pid
	}
	if tid == 0 && rest[0] == "task" {
		return k.renderTasks(p), true
	}
	if tid != 0 && isTaskEntry(rest[0]) {
		return k.renderEntry(p, tid, rest[0], k.procDir(p.PID, "task", strconv.Itoa(tid))), true
	}
	if rest[0] == "exe" {
		return k.renderExe(p), true
	}
	if _, ok := procEntries[rest[0]]; ok {
		return k.renderEntry(p, 0, rest[0], k.procDir(p.PID)), true
	}
	if tid != 0 {
		// A thread's fd, cwd and the like are its process's.
		return "/proc/" + strconv.Itoa(p.PID) + "/" + strings.Join(rest, "/"), true
	}
	return "", false
}

// findID finds the LWK process with pid id, or the one with a thread id;
// tid is 0 for a pid.
func (k *OS) findID(id int) (p *task.Process, tid int) {
	if p := k.Procs.Find(id); p != nil {
		return p, 0
	}
	if id < task.FirstTID {
		return nil, 0
	}
	for _, p := range k.Procs.List() {
		if hasThread(p, id) {
			return p, id
		}
	}
	return nil, 0
}

func hasThread(p *task.Process, tid int) bool {
	for _, t := range p.Threads {
		if t.TID == tid {
			return true
		}
	}
	return false
}

func isTaskEntry(name string) bool {
	for _, e := range taskEntries {
		if e == name {
			return true
		}
	}
	return false
}

func (k *OS) procDir(pid int, sub ...string) string {
	return filepath.Join(append([]string{k.viewRoot, "proc", strconv.Itoa(pid)}, sub...)...)
}

// renderEntry writes entry of p (of its thread tid, or the main thread)
// into dir and returns the file.
func (k *OS) renderEntry(p *task.Process, tid int, entry, dir string) string {
	return k.writeEntry(p, k.snapshot(p), tid, entry, dir)
}

// writeEntry writes entry of snap's thread tid into dir; a snapshot
// serves every file of a task/ listing.
func (k *OS) writeEntry(p *task.Process, snap *procview.Process, tid int, entry, dir string) string {
	file := filepath.Join(dir, entry)
	tk, ok := snap.Task(tid)
	if !ok {
		return file
	}
	if err := writeView(file, procEntries[entry](snap, tk), private[entry], p.Cred.UID); err != nil {
		k.Kmsg.Printf("pid %d: view %s: %v", p.PID, entry, err)
	}
	return file
}

// renderExe makes exe a link to the app's executable, so that opening,
// stat-ing or executing /proc/self/exe reaches the app, not mcexec.
func (k *OS) renderExe(p *task.Process) string {
	file := filepath.Join(k.procDir(p.PID), "exe")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		k.Kmsg.Printf("pid %d: view exe: %v", p.PID, err)
		return file
	}
	tmp := fmt.Sprintf("%s.%d", file, time.Now().UnixNano())
	if err := os.Symlink(p.Exe, tmp); err == nil {
		err = os.Rename(tmp, file)
		if err != nil {
			k.Kmsg.Printf("pid %d: view exe: %v", p.PID, err)
		}
	}
	return file
}

// renderTask writes task/<tid>'s files and returns the directory.
func (k *OS) renderTask(p *task.Process, snap *procview.Process, tid int) string {
	dir := k.procDir(p.PID, "task", strconv.Itoa(tid))
	for _, e := range taskEntries {
		k.writeEntry(p, snap, tid, e, dir)
	}
	return dir
}

// renderTasks writes a task directory per live thread, removes those of
// ended threads, and returns the task directory.
func (k *OS) renderTasks(p *task.Process) string {
	dir := k.procDir(p.PID, "task")
	live := map[string]bool{}
	snap := k.snapshot(p)
	for _, t := range snap.Tasks {
		live[strconv.Itoa(t.TID)] = true
		k.renderTask(p, snap, t.TID)
	}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if !live[e.Name()] {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	return dir
}

// dropView removes an ended process's view.
func (k *OS) dropView(p *task.Process) {
	if k.viewRoot != "" && p.Viewed.Load() {
		os.RemoveAll(k.procDir(p.PID))
	}
}

// writeView replaces file atomically (a reader never sees half of it),
// making its directories; a private file belongs to uid, mode 0400.
func writeView(file string, data []byte, private bool, uid int) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), ".view-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil && private {
		if err = f.Chmod(0o400); err == nil && os.Geteuid() == 0 {
			err = f.Chown(uid, -1)
		}
	} else if err == nil {
		err = f.Chmod(0o444)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

// snapshot gathers what the /proc files of p show.
func (k *OS) snapshot(p *task.Process) *procview.Process {
	s := &procview.Process{PID: p.PID, PPID: p.PPID, PGID: k.pgid(p), SID: p.PID,
		Exe: p.Exe, Args: p.Args, Env: p.Env, Auxv: p.Auxv,
		UID: p.Cred.UID, EUID: p.Cred.EUID, GID: p.Cred.GID, EGID: p.Cred.EGID,
		StartStack: p.StackStart, StartBrk: p.MM.BrkStart, Brk: p.MM.Brk,
		SharedPending: p.Pending.Load(), ExitSignal: p.ChildSignal,
		RSSLimit: p.Rlimits[unix.RLIMIT_RSS].Cur, CPUs: k.Config.CPUs, Nodes: k.nodes(),
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
	for _, t := range p.Threads {
		s.Tasks = append(s.Tasks, procview.Task{TID: t.TID, State: stateLetter(t.State),
			CPU: k.Config.CPUs[t.CPU], Pending: t.Pending.Load(), Blocked: t.SigMask,
			SysNs: t.Stats.LocalNs + t.Stats.OffloadNs})
	}
	s.Maps, s.StartCode, s.EndCode = k.maps(p)
	return s
}

// stateLetter is ps's letter for a thread state.
func stateLetter(st task.ThreadState) byte {
	switch st {
	case task.Runnable, task.Running:
		return 'R'
	case task.Zombie:
		return 'Z'
	}
	return 'S'
}

// maps lists p's VMAs as maps lines, with the vDSO pages of its stub
// (Linux's, at the address the app uses), and the main image's text.
func (k *OS) maps(p *task.Process) (lines []procview.Mapping, startCode, endCode uint64) {
	files := map[string]*syscall.Stat_t{}
	for _, v := range p.MM.Areas() {
		m := procview.Mapping{Start: v.Start, End: v.End, Perms: perms(v.Prot, v.Flags)}
		switch v.Kind {
		case mm.KindHeap, mm.KindStack:
			m.Name = v.Kind.String()
		case mm.KindAnon:
			if v.Shared != nil {
				m.Name = "/dev/zero (deleted)" // as Linux names shared anonymous memory
			}
		case mm.KindFile, mm.KindELF:
			// The offset of the VMA's first page: an ELF segment's may
			// start inside it.
			m.Name, m.Offset = v.Name, v.FileOff&^(mm.PageSize-1)
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
		lines = insertSorted(lines, stubSpecial(p.Stub.PID))
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

// stubSpecial reads the [vvar], [vdso] and [vsyscall] lines of the stub:
// the kernel's pages the app really uses.
func stubSpecial(pid int) []procview.Mapping {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []procview.Mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 6 || !strings.HasPrefix(fs[5], "[v") {
			continue
		}
		lo, hi, _ := strings.Cut(fs[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil {
			out = append(out, procview.Mapping{Start: start, End: end, Perms: fs[1], Name: fs[5]})
		}
	}
	return out
}

// insertSorted merges extra into lines, keeping address order.
func insertSorted(lines, extra []procview.Mapping) []procview.Mapping {
	for _, e := range extra {
		i := 0
		for i < len(lines) && lines[i].Start < e.Start {
			i++
		}
		lines = append(lines[:i], append([]procview.Mapping{e}, lines[i:]...)...)
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
	return uint64(max(unixNs-boot, 0)) * procview.ClockTicks / uint64(time.Second)
}

// nodes lists the NUMA nodes of the LWK's memory and CPUs.
func (k *OS) nodes() []int {
	seen := map[int]bool{}
	var out []int
	add := func(n int) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range k.Alloc.Nodes {
		add(n.Node)
	}
	for _, n := range k.Env.CPUNodes {
		add(n)
	}
	return out
}
