package procview

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomck/gomck/kernel/task"
)

// procEntries are the files of /proc/<pid> the LWK renders.
var procEntries = map[string]func(p *Process, t Task) []byte{
	"stat":    Stat,
	"status":  Status,
	"statm":   func(p *Process, _ Task) []byte { return Statm(p) },
	"maps":    func(p *Process, _ Task) []byte { return Maps(p) },
	"cmdline": func(p *Process, _ Task) []byte { return Strings(p.Args) },
	"environ": func(p *Process, _ Task) []byte { return Strings(p.Env) },
	"auxv":    func(p *Process, _ Task) []byte { return Auxv(p.Auxv) },
	"comm":    func(p *Process, _ Task) []byte { return []byte(p.Comm() + "\n") },
}

// taskEntries are those a task/<tid> directory holds of its own.
var taskEntries = []string{"stat", "status", "comm"}

// private entries are readable by the process's owner only, as on Linux.
var private = map[string]bool{"environ": true, "auxv": true}

// renderEntry writes entry of p (of its thread tid, or the main thread)
// into dir and returns the file.
func (v *Views) renderEntry(p *task.Process, tid int, entry, dir string) string {
	return v.writeEntry(p, v.snapshot(p), tid, entry, dir)
}

// writeEntry writes entry of snap's thread tid into dir; a snapshot
// serves every file of a task/ listing.
func (v *Views) writeEntry(p *task.Process, snap *Process, tid int, entry, dir string) string {
	file := filepath.Join(dir, entry)
	tk, ok := snap.Task(tid)
	if !ok {
		return file
	}
	if err := writeView(file, procEntries[entry](snap, tk), private[entry], p.Cred.UID); err != nil {
		v.in.Log("pid %d: view %s: %v", p.PID, entry, err)
	}
	return file
}

// renderExe makes exe a link to the app's executable, so that opening,
// stat-ing or executing /proc/self/exe reaches the app, not mcexec.
func (v *Views) renderExe(p *task.Process) string {
	file := filepath.Join(v.procDir(p.PID), "exe")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		v.in.Log("pid %d: view exe: %v", p.PID, err)
		return file
	}
	tmp := fmt.Sprintf("%s.%d", file, time.Now().UnixNano())
	if err := os.Symlink(p.Exe, tmp); err == nil {
		err = os.Rename(tmp, file)
		if err != nil {
			v.in.Log("pid %d: view exe: %v", p.PID, err)
		}
	}
	return file
}

// renderTask writes task/<tid>'s files and returns the directory.
func (v *Views) renderTask(p *task.Process, snap *Process, tid int) string {
	dir := v.procDir(p.PID, "task", strconv.Itoa(tid))
	for _, e := range taskEntries {
		v.writeEntry(p, snap, tid, e, dir)
	}
	return dir
}

// renderTasks writes a task directory per live thread, removes those of
// ended threads, and returns the task directory.
func (v *Views) renderTasks(p *task.Process) string {
	dir := v.procDir(p.PID, "task")
	live := map[string]bool{}
	snap := v.snapshot(p)
	for _, t := range snap.Tasks {
		live[strconv.Itoa(t.TID)] = true
		v.renderTask(p, snap, t.TID)
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
