package kernel

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/elf"
	"github.com/gomck/gomck/kernel/stats"
	"github.com/gomck/gomck/kernel/task"
)

// Exec replaces t's process image (execve): other threads end, handlers
// reset to their defaults (ignored signals stay ignored), the address space
// is emptied, and the new image starts in t with a fresh FPU state. The
// file is the one mcexec opened as fd, reached through /proc.
func (k *OS) Exec(t *task.Thread, fd int, argv, envp []string) (bool, error) {
	p := t.Proc
	link := fmt.Sprintf("/proc/%d/fd/%d", p.ProxyPID, fd)
	f, err := os.Open(link)
	if err != nil {
		return false, unix.EACCES
	}
	defer f.Close()
	exe, err := os.Readlink(link)
	if err != nil {
		exe = link
	}
	if interp, args, ok := shebang(f); ok {
		// A script: run its interpreter with the script's path, as Linux's
		// binfmt_script (one level: the interpreter must be an ELF).
		fi, err := os.Open(interp)
		if err != nil {
			return false, unix.ENOENT
		}
		defer fi.Close()
		script := exe
		if len(argv) > 0 {
			argv = argv[1:]
		}
		argv = append(append(append([]string{interp}, args...), script), argv...)
		f, exe = fi, interp
	}
	if _, err := elf.Check(f); err != nil {
		return false, unix.ENOEXEC
	}
	// The point of no return. Threads running on other CPUs are kicked
	// out of their stubs; their CPUs drop them.
	for _, o := range p.Threads {
		if o != t {
			k.threadEnded(o)
			k.dropThread(o)
			if s := p.StubOn(o.CPU); s != nil && o.CPU != t.CPU {
				s.Interrupt()
			}
		}
	}
	p.Begin()
	p.Threads = []*task.Thread{t}
	for i := range p.SigActs {
		if p.SigActs[i].Handler != task.SigIgnore {
			p.SigActs[i] = task.SigAction{}
		}
	}
	p.Exe, p.Args = exe, argv
	p.End()
	t.AltStack, t.ClearChildTID, t.HasSuspendMask = task.AltStack{}, 0, false
	t.FPState, p.StubOn(t.CPU).FPOwner = bytes.Clone(p.Stub.InitialFP()), 0
	if err := p.MM.Reset(); err != nil {
		return true, err
	}
	if err := k.loadImage(p, t, f, argv, envp); err != nil {
		k.Kmsg.Printf("pid %d: exec %s: %v", p.PID, exe, err)
		return true, unix.ENOEXEC
	}
	stats.Created(&k.Stats.Execs)
	k.Kmsg.Printf("pid %d: exec %s", p.PID, exe)
	k.releaseVfork(p)
	return true, nil
}

// shebang parses a "#!interpreter [arg]" first line.
func shebang(f *os.File) (string, []string, bool) {
	var b [256]byte
	n, _ := f.ReadAt(b[:], 0)
	if n < 2 || b[0] != '#' || b[1] != '!' {
		return "", nil, false
	}
	line, _, _ := bytes.Cut(b[2:n], []byte{'\n'})
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "", nil, false
	}
	if len(fields) > 1 {
		// Linux passes everything after the interpreter as one argument.
		return fields[0], []string{strings.Join(fields[1:], " ")}, true
	}
	return fields[0], nil, true
}
