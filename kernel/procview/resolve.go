package procview

import (
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomck/gomck/kernel/task"
	"github.com/gomck/gomck/perf"
)

// Resolve returns the view file standing for the absolute path name as
// thread t sees it, rendering it first; false leaves the path Linux's.
// Entries the LWK has nothing to say about (fd, cwd, mounts, ...) stay
// Linux's: a process's pid is its mcexec's, and mcexec holds its
// descriptors, cwd and namespaces.
func (v *Views) Resolve(t *task.Thread, name string) (string, bool) {
	if v == nil {
		return "", false
	}
	name = path.Clean(name)
	switch {
	case under(name, sysCPU), under(name, perf.HostPMUs):
		return filepath.Join(v.root, name), true
	case under(name, sysNode):
		v.renderNodeMeminfo()
		return filepath.Join(v.root, name), true
	case strings.HasPrefix(name, "/proc/"):
		return v.resolveProc(t, strings.Split(name[len("/proc/"):], "/"))
	}
	return "", false
}

// under reports whether name is dir or lies below it.
func under(name, dir string) bool {
	return name == dir || strings.HasPrefix(name, dir+"/")
}

// resolveProc resolves /proc/<parts...>: self, thread-self, an LWK pid or
// an LWK tid (Linux, too, answers /proc/<tid> for threads it does not list).
func (v *Views) resolveProc(t *task.Thread, parts []string) (string, bool) {
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
		if p, tid = v.findID(id); p == nil {
			return "", false
		}
	}
	p.Viewed.Store(true)
	rest := parts[1:]
	if tid == 0 && len(rest) >= 2 && rest[0] == "task" {
		id, err := strconv.Atoi(rest[1])
		if err != nil || !hasThread(p, id) {
			return v.procDir(p.PID, "task", rest[1]), true // ENOENT, as Linux
		}
		tid, rest = id, rest[2:]
		if len(rest) == 0 {
			return v.renderTask(p, v.snapshot(p), tid), true
		}
	}
	if len(rest) == 0 {
		return "", false // the directory itself: Linux's entries, mcexec's pid
	}
	if tid == 0 && rest[0] == "task" {
		return v.renderTasks(p), true
	}
	if tid != 0 && isTaskEntry(rest[0]) {
		return v.renderEntry(p, tid, rest[0], v.procDir(p.PID, "task", strconv.Itoa(tid))), true
	}
	if rest[0] == "exe" {
		return v.renderExe(p), true
	}
	if _, ok := procEntries[rest[0]]; ok {
		return v.renderEntry(p, 0, rest[0], v.procDir(p.PID)), true
	}
	if tid != 0 {
		// A thread's fd, cwd and the like are its process's.
		return "/proc/" + strconv.Itoa(p.PID) + "/" + strings.Join(rest, "/"), true
	}
	return "", false
}

// findID finds the LWK process with pid id, or the one with a thread id;
// tid is 0 for a pid.
func (v *Views) findID(id int) (p *task.Process, tid int) {
	if p := v.in.Procs.Find(id); p != nil {
		return p, 0
	}
	if id < task.FirstTID {
		return nil, 0
	}
	for _, p := range v.in.Procs.List() {
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

func (v *Views) procDir(pid int, sub ...string) string {
	return filepath.Join(append([]string{v.root, "proc", strconv.Itoa(pid)}, sub...)...)
}
