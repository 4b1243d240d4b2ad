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
	f, exe, argv, release, err := interpret(f, exe, argv)
	defer release()
	if err != nil {
		return false, err
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
	p.ThreadsMu.Lock()
	p.Begin()
	p.Threads = []*task.Thread{t}
	p.ThreadsMu.Unlock()
	for i := range p.SigActs {
		if p.SigActs[i].Handler != task.SigIgnore {
			p.SigActs[i] = task.SigAction{}
		}
	}
	p.Exe, p.Args = exe, argv
	p.End()
	p.ChangeCred(func(c *task.Cred) unix.Errno { c.Exec(); return 0 })
	t.AltStack, t.ClearChildTID, t.HasSuspendMask = task.AltStack{}, 0, false
	t.SetName([task.NameLen]byte{})
	p.DeletePosixTimers() // as Linux's exec; ITIMER_REAL stays
	p.Undumpable.Store(0)
	t.FPState, p.StubOn(t.CPU).FPOwner = bytes.Clone(p.Stub.InitialFP()), 0
	p.Counters = nil // its page goes with the old image; loadImage maps a new one
	p.CountersRead.Store(false)
	t.Publishing = false
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

// maxInterpreters is how many scripts Linux follows, each the interpreter
// of the one before, before execve fails with ELOOP: the first and
// BINPRM_MAX_RECURSION (4) more, as TestScripts checks natively.
const maxInterpreters = 5

// interpret follows the "#!" lines of f (the file at path, run with argv)
// to the ELF that runs it, as Linux's binfmt_script does: the interpreter
// runs with its one optional argument, the script's path and argv[1:],
// and may be a script itself, up to maxInterpreters deep. It returns the
// file to load (an ELF, unless the loader says otherwise), its path and
// the arguments it runs with; release closes the files it opened. The
// errors are execve's: ENOENT for a missing interpreter, ELOOP too deep.
func interpret(f *os.File, path string, argv []string) (image *os.File, exe string, args []string, release func(), err error) {
	var opened []*os.File
	release = func() {
		for _, o := range opened {
			o.Close()
		}
	}
	for depth := 0; ; depth++ {
		interp, iargs, ok := shebang(f)
		if !ok {
			break
		}
		if depth == maxInterpreters {
			return nil, "", nil, release, unix.ELOOP
		}
		fi, err := os.Open(interp)
		if err != nil {
			return nil, "", nil, release, unix.ENOENT
		}
		opened = append(opened, fi)
		if len(argv) > 0 {
			argv = argv[1:]
		}
		argv = append(append(append([]string{interp}, iargs...), path), argv...)
		f, path = fi, interp
	}
	return f, path, argv, release, nil
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
