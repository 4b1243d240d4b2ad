package kernel

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/gencore"
	"github.com/gomck/gomck/kernel/lwkabi"
	"github.com/gomck/gomck/kernel/mm"
	"github.com/gomck/gomck/kernel/procview"
	"github.com/gomck/gomck/kernel/task"
)

// Cores on death, as Linux's do_coredump writes them: the process's
// RLIMIT_CORE and Linux's core_pattern and core_uses_pid decide whether
// and where; the file is created with the app's credentials in the app's
// cwd (mcexec's), a pipe pattern's program runs as root with the core on
// its stdin. The process's other threads are stopped first, so that every
// register in the core is the thread's user state at the signal. The
// core is written off the LWK CPU, which serves its other processes
// meanwhile, and before the process's end is reported, so that a shell
// (and gdb after it) finds it complete.

// halt stops every thread of p that runs on another CPU than c before p,
// dying of sig, is written out: a thread stops at its next trap (the kick
// forces one) and runs no more (runThread checks Kill).
func (k *OS) halt(c *CPU, p *task.Process, sig int) {
	p.Kill.CompareAndSwap(0, int32(sig))
	kick(p)
	if !k.saveFPs(p, c) {
		k.Kmsg.Printf("pid %d: a CPU did not stop the process's threads for its core", p.PID)
	}
	for _, t := range p.Threads {
		if t.CPU == c.Index {
			k.currentFP(t)
		}
	}
}

// saveFPs waits until each CPU other than skip that has threads of p is
// between threads, where none of p's runs, and has it save their FPU
// state (currentFP: ptrace requests come from the CPU's own thread). A
// CPU that does not answer within haltWait leaves its threads' state as
// last saved; saveFPs then reports false.
func (k *OS) saveFPs(p *task.Process, skip *CPU) bool {
	var others []*CPU
	for _, t := range p.Threads {
		if o := k.CPUs[t.CPU]; o != skip && !slices.Contains(others, o) {
			others = append(others, o)
		}
	}
	done := make(chan struct{}, len(others))
	for _, o := range others {
		o.Go(func() {
			for _, t := range p.Threads {
				if t.CPU == o.Index {
					k.currentFP(t)
				}
			}
			done <- struct{}{}
		})
	}
	timeout := time.After(haltWait)
	for range others {
		select {
		case <-done:
		case <-timeout:
			return false
		}
	}
	return true
}

// haltWait bounds the wait for CPUs to stop a process's threads.
const haltWait = 2 * time.Second

// coreJob decides whether p, dying of sig taken by taker (nil: the main
// thread stands for it), dumps core, as sig, its limit and core_pattern
// say.
// If so, it stops p's threads, describes p and returns the job that
// writes the core, which runs off the CPU: the CPU serves its other
// threads meanwhile, and p's end waits for the job. It runs on c, p's
// CPU, before p is torn down.
func (k *OS) coreJob(c *CPU, p *task.Process, taker *task.Thread, sig int) func() {
	if !dumpsCore(sig) {
		return nil
	}
	noCore := func(why string, args ...any) func() {
		k.Kmsg.Printf("pid %d: no core: %s", p.PID, fmt.Sprintf(why, args...))
		return nil
	}
	limit := p.Rlimits[unix.RLIMIT_CORE].Cur
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		return noCore("%v", err)
	}
	usesPID, _ := os.ReadFile("/proc/sys/kernel/core_uses_pid")
	pipe := strings.HasPrefix(string(pattern), "|")
	switch {
	case len(p.Threads) == 0:
		return nil
	case p.Undumpable.Load() != 0:
		return noCore("not dumpable (prctl PR_SET_DUMPABLE)")
	case pipe && limit == 1:
		return noCore("RLIMIT_CORE is 1 with a pipe core_pattern") // Linux's guard against a handler that dumps core itself
	case !pipe && limit < gencore.PageSize:
		return noCore("RLIMIT_CORE is %d", limit)
	}
	k.halt(c, p, sig)
	core := k.coreOf(p, taker, sig)
	// A shutdown gives the core up: the partition goes away after it.
	core.Abort = func() bool { return k.state() != "RUNNING" }
	info := gencore.PatternInfo{PID: p.PID, TID: core.Threads[0].TID, UID: p.Cred.UID, GID: p.Cred.GID, Signal: sig,
		Time: time.Now(), Comm: core.Process.Name, Exe: p.Exe, Limit: limit, Dumpable: 1}
	info.Hostname, _ = os.Hostname()
	path, argv := gencore.Expand(string(pattern), strings.TrimSpace(string(usesPID)) == "1", info)
	return func() {
		start := time.Now()
		var res gencore.Result
		var err error
		verb := "dumped to"
		if pipe {
			verb, path = "piped to", argv[0]
			res, err = pipeCore(argv, core)
		} else {
			path, res, err = k.fileCore(p, path, core, limit)
		}
		if err != nil {
			noCore("%v", err)
			return
		}
		p.CoreDumped = true
		cut := ""
		if res.Truncated {
			cut = ", cut at RLIMIT_CORE"
		}
		k.Kmsg.Printf("pid %d: core %s %s (%d bytes%s, in %v)", p.PID, verb, path, res.Size, cut, time.Since(start).Round(time.Millisecond))
	}
}

// coreOf describes p, whose threads are stopped and their FPU state
// saved, for its core: taker's thread first.
func (k *OS) coreOf(p *task.Process, taker *task.Thread, sig int) *gencore.Core {
	threads := slices.Clone(p.Threads)
	if i := slices.Index(threads, taker); i > 0 {
		threads[0], threads[i] = threads[i], threads[0]
	}
	sid, _ := unix.Getsid(p.ProxyPID)
	core := &gencore.Core{
		Process: gencore.Process{PID: p.PID, PPID: p.PPID, PGID: k.pgid(p), SID: sid, UID: p.Cred.UID, GID: p.Cred.GID,
			Name: comm(p.Exe), Args: strings.Join(p.Args, " "), State: 'R'},
		Signal:  sig,
		SigInfo: p.DeathInfo.Bytes(sig),
		Auxv:    p.Auxv,
		Areas:   k.areasOf(p),
	}
	for _, t := range threads {
		user, sys := t.Stats.Totals().CPUTimes()
		core.Threads = append(core.Threads, gencore.Thread{TID: t.TID, Regs: t.Regs, XState: t.FPState,
			SigPending: t.Pending.Load(), SigHold: t.SigMask,
			UTime: time.Duration(user), STime: time.Duration(sys)})
	}
	return core
}

// comm is the kernel's name of a program: its file name, 15 bytes at most.
func comm(exe string) string {
	name := filepath.Base(exe)
	return name[:min(len(name), 15)]
}

// areasOf lists p's memory for its core under its coredump_filter: each
// VMA with the populated pages the filter keeps, as slices of the direct
// map, and the kernel's pages in the stub (specialAreas).
func (k *OS) areasOf(p *task.Process) []gencore.Area {
	filter := coreFilter(p)
	vmas, direct := p.MM.Image()
	var areas []gencore.Area
	for _, v := range vmas {
		a := gencore.Area{Start: v.Start, End: v.End, Prot: v.Prot}
		file := v.Kind == mm.KindFile || v.Kind == mm.KindELF
		if file {
			a.File, a.Offset = v.Name, v.FileOff
		}
		for _, s := range v.Segs {
			a.Pages = append(a.Pages, gencore.Pages{Addr: s.VA, Bytes: direct[s.Off : s.Off+s.Len]})
		}
		m := gencore.Mapping{Size: v.End - v.Start, Anonymous: !file, Shared: v.Flags&unix.MAP_SHARED != 0,
			Written: v.Wrote && (file || len(v.Segs) > 0)}
		if file && v.FileOff == 0 && v.Prot&unix.PROT_READ != 0 && len(a.Pages) > 0 && a.Pages[0].Addr == v.Start {
			m.ELFHeader = bytes.HasPrefix(a.Pages[0].Bytes, []byte("\x7fELF"))
		}
		a.Dump = gencore.Filter(m, filter)
		areas = append(areas, a)
	}
	for _, s := range specialAreas(p) {
		i, _ := slices.BinarySearchFunc(areas, s.Start, func(a gencore.Area, at uint64) int { return cmp.Compare(a.Start, at) })
		areas = slices.Insert(areas, i, s)
	}
	return areas
}

// coreFilter is p's coredump_filter: its mcexec's, which it inherits.
func coreFilter(p *task.Process) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/coredump_filter", p.ProxyPID))
	if err != nil {
		return gencore.DefaultFilter
	}
	f, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 64)
	if err != nil {
		return gencore.DefaultFilter
	}
	return f
}

// specialAreas are the kernel's pages that Linux maps into the stub and
// the app uses: [vdso], always in a core (a debugger unwinds through it),
// [vsyscall], always in it too (a hole when it cannot be read, as
// execute-only), and [vvar], never (device memory to Linux's dumper).
func specialAreas(p *task.Process) []gencore.Area {
	if p.Stub == nil {
		return nil
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", p.Stub.PID))
	if err != nil {
		return nil
	}
	defer mem.Close()
	var areas []gencore.Area
	for _, m := range procview.StubSpecial(p.Stub.PID) {
		a := gencore.Area{Start: m.Start, End: m.End, Prot: lwkabi.ProtOf(m.Perms)}
		if m.Name == "[vdso]" || m.Name == "[vsyscall]" {
			a.Dump = m.End - m.Start
			b := make([]byte, a.Dump)
			if _, err := mem.ReadAt(b, int64(m.Start)); err == nil {
				a.Pages = []gencore.Pages{{Addr: m.Start, Bytes: b}}
			}
		}
		areas = append(areas, a)
	}
	return areas
}

// fileCore writes core to path, relative to p's cwd, as Linux creates a
// core file: as the app's user (fsuid and fsgid, on the caller's thread,
// which it locks and which must end with the caller's goroutine), after
// unlinking what was there, O_EXCL and O_NOFOLLOW with mode 0600, and only
// into a regular file of the user's. It returns the path as an absolute
// one.
func (k *OS) fileCore(p *task.Process, path string, core *gencore.Core, limit uint64) (string, gencore.Result, error) {
	cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.ProxyPID))
	shown := path
	if !filepath.IsAbs(path) {
		shown = filepath.Join(cwd, path)
	}
	runtime.LockOSThread() // never unlocked: the thread ends with its credentials
	res, err := writeAs(p, path, core, limit)
	return shown, res, err
}

// writeAs creates and writes the core file; it runs on a locked thread
// whose file credentials it changes.
func writeAs(p *task.Process, path string, core *gencore.Core, limit uint64) (gencore.Result, error) {
	unix.Setfsgid(p.Cred.EGID)
	unix.Setfsuid(p.Cred.EUID)
	dir, err := unix.Open(fmt.Sprintf("/proc/%d/cwd", p.ProxyPID), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return gencore.Result{}, fmt.Errorf("the app's cwd: %w", err)
	}
	defer unix.Close(dir)
	unix.Unlinkat(dir, path, 0)
	fd, err := unix.Openat(dir, path, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return gencore.Result{}, fmt.Errorf("create %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || int(st.Uid) != p.Cred.EUID {
		return gencore.Result{}, fmt.Errorf("%s is not a new file of uid %d", path, p.Cred.EUID)
	}
	lim := int64(gencore.NoLimit)
	if limit != unix.RLIM_INFINITY && limit < 1<<63 {
		lim = int64(limit)
	}
	return gencore.Write(f, core, lim)
}

// pipeCore runs a pipe core_pattern's program as Linux runs it (root, cwd
// /, a minimal environment) with the core on its stdin; it is not waited
// for (core_pipe_limit 0), only reaped. It must not run on an LWK CPU's
// thread, whose affinity and personality the program would inherit.
func pipeCore(argv []string, core *gencore.Core) (gencore.Result, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if !filepath.IsAbs(argv[0]) {
		cmd.Path = filepath.Join("/", argv[0])
	}
	cmd.Dir, cmd.Env = "/", []string{"HOME=/", "TERM=linux", "PATH=/sbin:/bin:/usr/sbin:/usr/bin"}
	r, w, err := os.Pipe()
	if err != nil {
		return gencore.Result{}, err
	}
	cmd.Stdin = r
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return gencore.Result{}, fmt.Errorf("core_pattern program: %w", err)
	}
	go cmd.Wait()
	res, err := gencore.Write(w, core, gencore.NoLimit)
	w.Close()
	return res, err
}
