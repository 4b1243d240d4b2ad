package mcexec

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/ikc"
	"github.com/gomck/gomck/kernel/lwkabi"
)

// ReservedFD is the lowest descriptor mcexec keeps for itself.
const ReservedFD = ikc.ReservedFD

// maxWorkers bounds the workers started on demand: one per IKC slot.
const maxWorkers = ikc.SlotCount

// A worker spins takeSpin rounds for the next call before it sleeps, while
// calls come within spinPays of each other (a loop of offloaded calls: a
// sleeper's wake-up costs more than the spin). When they come seldom, as a
// forking loop's NrFork, it sleeps at once: the spin would only take the
// Linux CPU from the work the next call waits for.
const (
	takeSpin = 4000
	spinPays = 500 * time.Microsecond
)

// Options are mcexec's command-line settings.
type Options struct {
	Instance   int
	Workers    int    // -t: workers started at once; more are added while all are busy
	HeapExtend uint64 // -h / --extend-heap-by
	Profile    Profile
	PPN        int // -n: one of PPN processes on the node, sharing its CPUs
	Argv       []string
}

// Proxy serves an LWK process; a child proxy serves one after the other,
// with the same connection, workers and (mostly) channel.
type Proxy struct {
	opts   Options
	conn   *control.Conn
	ch     *ikc.Channel
	partFD int
	// replay guards the mirror: pending, the segments of a forked process
	// that no call has needed yet, the log's replay, and mirrored.
	replay   sync.Mutex
	pending  []control.Segment
	mirrored bool // the window has mappings
	sigs     chan os.Signal
	// The process served: serving is its channel while workers may take
	// its calls, nil between processes; gen counts the processes.
	svcMu   sync.Mutex
	svcCond *sync.Cond
	serving *ikc.Channel
	gen     int
	idle    atomic.Int32 // workers waiting for a request
	workers atomic.Int32
	running int32 // workers serving a process (a futex word: reset waits for 0)
	PID     int
}

// Run creates the process and serves it until it ends; it returns the
// exit code, or the signal that killed the app.
func Run(o Options) (code int, sig syscall.Signal, err error) {
	if err := windowReserved(); err != nil {
		return 0, 0, err
	}
	path, err := lookPath(o.Argv[0])
	if err != nil {
		return 0, 0, err
	}
	// A raw open: os.OpenFile would start the runtime's poller, whose
	// descriptors would then shift the app's.
	exe, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", o.Argv[0], err)
	}
	defer func() {
		if exe >= 0 {
			unix.Close(exe)
		}
	}()
	var st unix.Stat_t
	if unix.Fstat(exe, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return 0, 0, fmt.Errorf("%s: is a directory", o.Argv[0])
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return 0, 0, fmt.Errorf("%s: permission denied", o.Argv[0])
	}
	p, err := newProxy(o)
	if err != nil {
		return 0, 0, err
	}
	defer p.conn.Close()

	// The absolute, symlink-free path, as Linux's /proc/self/exe shows it.
	abs, err := filepath.Abs(path)
	if err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
	} else {
		abs = path
	}
	req := control.Request{Op: control.OpExec, Argv: o.Argv, Env: preloadEnv(os.Environ()), Exe: abs,
		Cred:       [4]int{os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid()},
		HeapExtend: o.HeapExtend, ProxyPID: os.Getpid(), ParentPID: os.Getppid(), Profile: o.Profile.Enabled,
		PPN: o.PPN, LocalRank: LocalRank(os.Getenv)}
	if err := o.Profile.truncate(); err != nil {
		return 0, 0, err
	}
	for r := 0; r < 16; r++ {
		var l unix.Rlimit
		unix.Getrlimit(r, &l)
		l = appRlimit(r, l)
		req.Rlimits = append(req.Rlimits, [2]uint64{l.Cur, l.Max})
	}
	resp, fds, err := p.conn.Call(req, exe)
	if err != nil {
		return 0, 0, err
	}
	unix.Close(exe)
	exe = -1
	if err := p.connect(resp, fds); err != nil {
		return 0, 0, err
	}
	return p.serve()
}

// newProxy connects to the instance, starts forwarding the user's signals
// and starts the first workers, which wait until the channel is mapped.
func newProxy(o Options) (*Proxy, error) {
	conn, err := control.Dial(o.Instance)
	if err != nil {
		return nil, err
	}
	p := &Proxy{opts: o, conn: conn, sigs: make(chan os.Signal, 8)}
	p.svcCond = sync.NewCond(&p.svcMu)
	if err := p.hideFD(&p.conn); err != nil {
		conn.Close()
		return nil, err
	}
	signal.Notify(p.sigs, forwarded...)
	catchInterrupts()
	signal.Ignore(unix.SIGPIPE) // offloaded writes get EPIPE; the LWK raises SIGPIPE in the app
	// Before the app has descriptors (selfFile).
	for _, open := range []func() (int, error){fdDir, statusFile} {
		if _, err := open(); err != nil {
			conn.Close()
			return nil, err
		}
	}
	// Workers start their OS threads while the LWK sets the process up.
	for i := 0; i < max(o.Workers, 1); i++ {
		p.workers.Add(1)
		go p.worker(nil, 0)
	}
	return p, nil
}

// startWorker adds a worker that serves the process of channel ch (gen).
func (p *Proxy) startWorker(ch *ikc.Channel, gen int) {
	atomic.AddInt32(&p.running, 1)
	go p.worker(ch, gen)
}

// beginService lets the workers take the calls of the process whose
// channel is mapped now.
func (p *Proxy) beginService() {
	p.svcMu.Lock()
	p.gen++
	p.serving = p.ch
	p.svcCond.Broadcast()
	p.svcMu.Unlock()
}

// endService waits, at most workerDrain, for the workers to be done with
// the process that ended (its channel was aborted); it reports false when
// one was not.
func (p *Proxy) endService() bool {
	// Before the wait: a worker that counts itself in later would find
	// the old channel, which reset may unmap.
	p.svcMu.Lock()
	p.serving = nil
	p.svcMu.Unlock()
	return futexWaitZero(&p.running, workerDrain)
}

// nextProcess waits for a process served after the one of generation
// seen, and counts the calling worker in.
func (p *Proxy) nextProcess(seen int) (*ikc.Channel, int) {
	p.svcMu.Lock()
	defer p.svcMu.Unlock()
	for p.serving == nil || p.gen == seen {
		p.svcCond.Wait()
	}
	atomic.AddInt32(&p.running, 1)
	return p.serving, p.gen
}

// forwarded are the signals mcexec passes on to its LWK process: those a
// user or another process sends. Not SIGCHLD (child proxies end), SIGURG
// (the Go runtime preempts with it) or SIGPIPE. SIGSEGV, SIGBUS, SIGFPE
// and SIGILL are forwarded only when sent (kill -SEGV: the app dies of it,
// with a core): a fault of mcexec's own is still Go's panic.
// The job-control ones go to the app too: when it stops, the LWK stops
// mcexec (SIGSTOP), and the SIGCONT that continues mcexec continues it.
var forwarded = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGVTALRM, unix.SIGPROF, unix.SIGWINCH, unix.SIGIO, unix.SIGPWR, unix.SIGSYS,
	unix.SIGXCPU, unix.SIGXFSZ, unix.SIGABRT, unix.SIGTRAP, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU,
	unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL}

// quietWorker blocks mcexec's own asynchronous signals (those it forwards,
// and SIGCHLD of child proxies that stop, continue or end) in the calling
// worker thread, so that the kernel hands them to another thread: a
// handler run on a worker would end the app's call blocked there (poll,
// select, ...) with EINTR. ikc.InterruptSignal stays open, and so do
// SIGTTIN and SIGTTOU: the terminal sends them for the calling thread's
// own reads and writes unless it blocks them, when it fails or allows
// those instead. The LWK relies on workers blocking SIGCONT to continue
// mcexec without a SIGCONT that comes back forwarded (kernel/jobctl.go).
func quietWorker() error {
	var set unix.Sigset_t
	for _, s := range append(forwarded, unix.SIGCHLD) {
		if s == unix.SIGTTIN || s == unix.SIGTTOU {
			continue
		}
		n := uint(s.(syscall.Signal)) - 1
		set.Val[n/64] |= 1 << (n % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
		return fmt.Errorf("mcexec: worker signal mask: %w", err)
	}
	return nil
}

// connect maps what the daemon's reply carries: the partition, the
// channel and, for a forked process, the segments to mirror; then the
// workers go.
func (p *Proxy) connect(resp control.Response, fds []int) error {
	if len(fds) < 2 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return errors.New("mcexec: LWK reply lacks the partition and channel descriptors")
	}
	p.PID = resp.PID
	var err error
	if p.partFD, err = moveFD(fds[0]); err != nil {
		return err
	}
	if p.ch != nil && sameFile(p.ch.FD, fds[1]) {
		unix.Close(fds[1]) // the last process's, which the daemon reset
	} else if err := p.mapChannel(fds[1]); err != nil {
		return err
	}
	// Mapped by the first call: a child that execs or exits at once
	// makes none, and its proxy maps nothing. Shared file mappings are
	// mapped now, while the descriptors that came with them are open.
	p.pending = nil
	for _, s := range resp.Segments {
		switch {
		case s.File == 0 && !s.SysV:
			p.pending = append(p.pending, s)
		case err == nil:
			err = mapShared(s, fds[2:])
		}
	}
	for _, fd := range fds[2:] {
		unix.Close(fd)
	}
	if err != nil {
		return err
	}
	p.beginService()
	return nil
}

// mapShared mirrors a forked process's shared file mapping s from the
// descriptors files that came with it, writable if the file is open so.
func mapShared(s control.Segment, files []int) error {
	if s.SysV {
		if _, _, e := unix.Syscall(unix.SYS_SHMAT, uintptr(s.ShmID), uintptr(s.VA), uintptr(s.ShmFlags|lwkabi.ShmRemap)); e != 0 {
			return fmt.Errorf("mcexec: mirror the System V segment %d at %#x: %w", s.ShmID, s.VA, e)
		}
		return nil
	}
	if s.File > len(files) {
		return fmt.Errorf("mcexec: shared file mapping at %#x without its descriptor", s.VA)
	}
	fd := files[s.File-1]
	prot := uintptr(unix.PROT_READ)
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil && fl&unix.O_ACCMODE == unix.O_RDWR {
		prot |= unix.PROT_WRITE
	}
	if _, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(s.VA), uintptr(s.Len), prot, unix.MAP_SHARED|unix.MAP_FIXED, uintptr(fd), uintptr(s.Off)); e != 0 {
		return fmt.Errorf("mcexec: mirror the shared file mapping at %#x: %w", s.VA, e)
	}
	return nil
}

// mirror brings the window up to date with the process's mappings before
// a call (p.replay held): the forked process's segments first, then the
// mapping log.
func (p *Proxy) mirror(ch *ikc.Channel) error {
	for len(p.pending) > 0 {
		s := p.pending[0]
		if err := p.applyLog(ikc.LogEntry{VA: s.VA, Len: s.Len, Off: s.Off}); err != nil {
			return err
		}
		p.pending = p.pending[1:]
	}
	return ch.ReplayLog(p.applyLog)
}

// mapChannel maps the channel of descriptor fd in place of the last one.
func (p *Proxy) mapChannel(fd int) error {
	fd, err := moveFD(fd)
	if err != nil {
		return err
	}
	ch, err := ikc.Map(fd)
	if err != nil {
		unix.Close(fd)
		return err
	}
	if p.ch != nil {
		p.ch.Close()
	}
	p.ch = ch
	return nil
}

// sameFile reports whether descriptors a and b refer to the same file.
func sameFile(a, b int) bool {
	var sa, sb unix.Stat_t
	return unix.Fstat(a, &sa) == nil && unix.Fstat(b, &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// serve forwards signals until the daemon reports the process's end.
func (p *Proxy) serve() (code int, sig syscall.Signal, err error) {
	exit := make(chan control.Response, 1)
	go func() {
		var r control.Response
		if _, err := p.conn.Recv(&r); err != nil {
			r = control.Response{Error: "mcexec: the LWK went away (its daemon ended; a panic leaves a dump in $GOMCK_DUMPDIR): " + err.Error(), ExitSignal: int(unix.SIGKILL)}
		}
		exit <- r
	}()
	for {
		select {
		case s := <-p.sigs:
			p.conn.Send(control.Request{Op: control.OpSignal, Signal: int(s.(syscall.Signal))})
		case r := <-exit:
			if r.Error != "" {
				return 0, 0, errors.New(r.Error)
			}
			if err := p.opts.Profile.report(r.Profile); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
			return r.ExitCode, syscall.Signal(r.ExitSignal), nil
		}
	}
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// lookPath resolves the program as execvp would.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("%s: %w", name, unwrapPathErr(err))
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && unix.Access(p, unix.X_OK) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found", name)
}

// moveFD moves a descriptor of mcexec's own above ReservedFD.
func moveFD(fd int) (int, error) {
	if fd >= ReservedFD {
		return fd, nil
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, ReservedFD)
	if err != nil {
		return -1, fmt.Errorf("mcexec: move descriptor: %w", err)
	}
	unix.Close(fd)
	return nfd, nil
}

func (p *Proxy) hideFD(c **control.Conn) error {
	fd, err := moveFD((*c).FD())
	if err != nil {
		return err
	}
	*c = control.FromFD(fd)
	return nil
}

// worker executes offloaded calls on its own OS thread: those of ch
// (process gen) if set, then those of every process the proxy serves next.
func (p *Proxy) worker(ch *ikc.Channel, gen int) {
	runtime.LockOSThread()
	if err := quietWorker(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	tid := unix.Gettid()
	for {
		if ch == nil {
			ch, gen = p.nextProcess(gen)
		}
		applied := p.serveCalls(ch, gen, tid)
		if atomic.AddInt32(&p.running, -1) == 0 {
			futexWakeAll(&p.running)
		}
		ch = nil
		if applied != 0 {
			// The thread has the ended app's credentials: it ends (a
			// locked goroutine's return ends its thread), a fresh worker
			// serves the next process.
			go p.worker(nil, gen)
			return
		}
	}
}

// serveCalls executes the calls posted to ch until it is aborted; it
// returns the change of the app's credentials the worker took on (0 for
// none).
func (p *Proxy) serveCalls(ch *ikc.Channel, gen, tid int) (applied uint64) {
	spin := takeSpin
	for {
		p.idle.Add(1)
		start := time.Now()
		slot, err := ch.Take(spin)
		if err != nil {
			p.idle.Add(-1)
			return applied
		}
		if spin = takeSpin; time.Since(start) > spinPays {
			spin = 0
		}
		// The last idle worker got work: start another, so that a call
		// that blocks in Linux (a read of a pipe, a wait) never holds up
		// the calls of the app's other threads.
		if p.idle.Add(-1) == 0 && p.workers.Add(1) <= maxWorkers {
			p.startWorker(ch, gen)
		}
		s := ch.Slot(slot)
		p.replay.Lock()
		err = p.mirror(ch)
		p.replay.Unlock()
		if err != nil {
			fmt.Fprintln(os.Stderr, "mcexec:", err)
			ch.Complete(slot, -int64(unix.EFAULT))
			continue
		}
		applied = takeCred(ch, applied)
		switch s.Nr {
		case ikc.NrSync:
			ch.Complete(slot, 0)
			continue
		case ikc.NrCloseOnExec:
			closeOnExec()
			appFDCache.forget()
			ch.Complete(slot, 0)
			continue
		case ikc.NrFork:
			ch.Complete(slot, p.startChild(s.Args))
			// The forking thread's next call seldom comes soon (it waits
			// for its child, which runs first): spinning for it would take
			// the Linux CPU from the child's proxy.
			spin = 0
			continue
		}
		if !ch.Claim(slot, tid) {
			ch.Complete(slot, -int64(unix.EINTR))
			continue
		}
		args := s.Args
		if arg, ptr, ok := ch.PathArgument(slot); ok {
			args[arg] = uint64(ptr) // a path the LWK rewrote to its /proc or /sys view
		}
		ch.Complete(slot, p.execute(s.Nr, args))
	}
}

// applyLog mirrors one mapping change.
func (p *Proxy) applyLog(e ikc.LogEntry) error {
	p.mirrored = true
	var err unix.Errno
	if e.Off == ikc.Unmapped {
		_, _, err = unix.Syscall6(unix.SYS_MMAP, uintptr(e.VA), uintptr(e.Len), unix.PROT_NONE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED|unix.MAP_NORESERVE, ^uintptr(0), 0)
	} else {
		_, _, err = unix.Syscall6(unix.SYS_MMAP, uintptr(e.VA), uintptr(e.Len), unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_SHARED|unix.MAP_FIXED, uintptr(p.partFD), uintptr(e.Off))
	}
	if err != 0 {
		return fmt.Errorf("mirror %#x+%#x: %w", e.VA, e.Len, err)
	}
	return nil
}

// execute performs one offloaded system call.
func (p *Proxy) execute(nr uint64, a [6]uint64) int64 {
	if r, guarded := guardFDs(nr, &a); guarded {
		return r
	}
	r, _, e := unix.Syscall6(uintptr(nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
	if !keepsFDs(nr) {
		appFDCache.forget()
	}
	if nr == unix.SYS_UMASK {
		umask.set(int(a[0]))
	}
	if e != 0 {
		return -int64(e)
	}
	return belowReserved(nr, a, int64(r))
}

// guardFDs keeps the app away from mcexec's own descriptors.
func guardFDs(nr uint64, a *[6]uint64) (int64, bool) {
	ebadf := -int64(unix.EBADF)
	switch nr {
	case unix.SYS_CLOSE:
		if int(int32(a[0])) >= ReservedFD {
			return ebadf, true
		}
	case unix.SYS_DUP2, unix.SYS_DUP3:
		if int(int32(a[1])) >= ReservedFD {
			return ebadf, true
		}
	case unix.SYS_FCNTL:
		// Linux's answer to a lowest number beyond RLIMIT_NOFILE.
		if (a[1] == unix.F_DUPFD || a[1] == unix.F_DUPFD_CLOEXEC) && a[2] >= ReservedFD {
			return -int64(unix.EINVAL), true
		}
	case unix.SYS_CLOSE_RANGE:
		if a[0] >= ReservedFD {
			return 0, true
		}
		a[1] = min(a[1], ReservedFD-1)
	}
	return 0, false
}

// closeOnExec closes the app's descriptors marked FD_CLOEXEC, as its execve
// would. Raw fcntl over the app's range: reading /proc/self/fd through the
// os package would start the runtime poller and take descriptors.
func closeOnExec() {
	for fd := 0; fd < ReservedFD; fd++ {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC != 0 {
			unix.Close(fd)
		}
	}
}
