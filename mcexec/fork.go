package mcexec

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/delegator/ikc"
)

// AttachEnv marks an mcexec started as a child proxy: "instance:fd", fd
// being its end of the link to the mcexec that started it (pool.go), and
// spareSuffix after it for a spare, which says Idle once set up.
const (
	AttachEnv   = "GOMCK_ATTACH"
	spareSuffix = ":spare"
)

// forkJob is what a child proxy needs to serve a forked process: its attach
// token, process group and the forking mcexec's descriptors. These come by
// SCM_RIGHTS, control.MaxFDs at most a message: each message of a job
// names its own, and More says another follows.
type forkJob struct {
	Token   uint64
	PGID    int    // the forking mcexec's process group,
	Cwd     string // working directory
	Umask   int    // and umask
	FDs     []int  // the numbers of the descriptors in this message
	CloExec []int  // those of them marked close-on-exec
	More    bool
	Profile Profile // the forking mcexec's: the child is profiled too
}

// startChild gives a forked process a proxy that holds a copy of the app's
// descriptors: an idle child proxy of this mcexec's if one may take the
// pid, else a new one. args are NrFork's (ikc.ForkArgs). It returns the
// proxy's pid, which becomes the LWK process's pid.
func (p *Proxy) startChild(args [6]uint64) int64 {
	// Threads of the app on several LWK CPUs fork at once; the descriptor
	// listing shares one /proc/self/fd descriptor.
	forkMu.Lock()
	defer forkMu.Unlock()
	token, avoid, reuse := ikc.ParseForkArgs(args)
	fds, cloexec, err := appFDCache.list()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return -int64(unix.EAGAIN)
	}
	job := forkJob{Token: token, Profile: p.opts.Profile}
	job.PGID, _ = unix.Getpgid(0)
	job.Cwd, _ = unix.Getwd()
	if job.Umask, err = umask.get(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return -int64(unix.EAGAIN)
	}
	if c := children.take(p, avoid, reuse); c != nil {
		if c.send(job, fds, cloexec) == nil {
			return int64(c.pid)
		}
		children.drop(c)
	}
	c, err := children.start(p, false)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return -int64(errno)
		}
		return -int64(unix.EAGAIN)
	}
	if err := c.send(job, fds, cloexec); err != nil {
		children.drop(c)
		return -int64(unix.EAGAIN)
	}
	return int64(c.pid)
}

// forkMu serializes startChild.
var forkMu sync.Mutex

// selfFile returns the opener of a /proc/self file that is read again at
// every fork. It is kept open above ReservedFD; newProxy opens it before
// the app runs, so that its passing through a low number shifts none of
// the app's descriptors.
func selfFile(name string) func() (int, error) {
	return sync.OnceValues(func() (int, error) {
		fd, err := unix.Open("/proc/self/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("mcexec: %w", err)
		}
		return moveFD(fd)
	})
}

// fdDir lists the app's descriptors in a few calls, where probing every
// number below ReservedFD took about 2 ms; statusFile has the umask, which
// no call reads without changing it.
var fdDir, statusFile = selfFile("fd"), selfFile("status")

// appFDs lists the app's open descriptors (those below ReservedFD).
func appFDs() ([]int, error) {
	dir, err := fdDir()
	if err != nil {
		return nil, err
	}
	if _, err := unix.Seek(dir, 0, 0); err != nil {
		return nil, fmt.Errorf("mcexec: rewind /proc/self/fd: %w", err)
	}
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(dir, buf)
		if err != nil {
			return nil, fmt.Errorf("mcexec: list /proc/self/fd: %w", err)
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	var fds []int
	for _, name := range names {
		if fd, err := strconv.Atoi(name); err == nil && fd < ReservedFD {
			fds = append(fds, fd)
		}
	}
	return fds, nil
}

// send hands c job with the descriptors fds, those in cloexec marked
// close-on-exec. One that another app thread closes meanwhile is left
// out, as if closed before the fork.
func (c *childProxy) send(job forkJob, fds, cloexec []int) error {
	for first := true; first || len(fds) > 0; first = false {
		n := min(len(fds), control.MaxFDs)
		msg := job
		msg.FDs, msg.More = fds[:n], n < len(fds)
		for _, fd := range cloexec {
			if slices.Contains(msg.FDs, fd) {
				msg.CloExec = append(msg.CloExec, fd)
			}
		}
		err := c.link.Send(msg, msg.FDs...)
		for try := 0; try < 3 && errors.Is(err, unix.EBADF); try++ {
			appFDCache.forget()
			msg.FDs, msg.CloExec = stillOpen(fds[:n])
			err = c.link.Send(msg, msg.FDs...)
		}
		if err != nil {
			return err
		}
		fds = fds[n:]
	}
	return nil
}

// fdCache remembers the app's descriptors and their close-on-exec flags
// from one fork to the next: only the app's offloaded calls change them,
// and listing /proc/self/fd and asking each descriptor's flags took ~25
// µs of a fork, on the Linux CPU and on the forking thread's way. Any
// call not known to leave the descriptor table alone forgets it.
type fdCache struct {
	valid        atomic.Bool
	fds, cloexec []int // under forkMu
}

var appFDCache fdCache

// list returns the app's descriptors and those marked close-on-exec
// (forkMu held).
func (f *fdCache) list() (fds, cloexec []int, err error) {
	if f.valid.Load() {
		return f.fds, f.cloexec, nil
	}
	// Valid before the listing: a call that forgets it meanwhile wins.
	f.valid.Store(true)
	if fds, err = appFDs(); err != nil {
		f.valid.Store(false)
		return nil, nil, err
	}
	f.fds, f.cloexec = stillOpen(fds)
	return f.fds, f.cloexec, nil
}

func (f *fdCache) forget() { f.valid.Store(false) }

// keepsFDs reports whether system call nr leaves the descriptor table and
// its flags alone, whatever its arguments.
func keepsFDs(nr uint64) bool {
	switch nr {
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_PREAD64, unix.SYS_PWRITE64, unix.SYS_READV,
		unix.SYS_WRITEV, unix.SYS_PREADV, unix.SYS_PWRITEV, unix.SYS_PREADV2, unix.SYS_PWRITEV2,
		unix.SYS_LSEEK, unix.SYS_FSTAT, unix.SYS_STAT, unix.SYS_LSTAT, unix.SYS_NEWFSTATAT,
		unix.SYS_STATX, unix.SYS_ACCESS, unix.SYS_FACCESSAT, unix.SYS_FACCESSAT2,
		unix.SYS_GETDENTS64, unix.SYS_POLL, unix.SYS_PPOLL, unix.SYS_SELECT, unix.SYS_PSELECT6,
		unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_PWAIT, unix.SYS_GETCWD, unix.SYS_READLINK,
		unix.SYS_READLINKAT, unix.SYS_SENDTO, unix.SYS_RECVFROM, unix.SYS_FSYNC,
		unix.SYS_FDATASYNC, unix.SYS_FTRUNCATE, unix.SYS_TRUNCATE, unix.SYS_UNAME:
		return true
	}
	return false
}

// stillOpen returns those of fds that are open, and those of them marked
// close-on-exec.
func stillOpen(fds []int) (open, cloexec []int) {
	for _, fd := range fds {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			continue
		}
		open = append(open, fd)
		if fl&unix.FD_CLOEXEC != 0 {
			cloexec = append(cloexec, fd)
		}
	}
	return open, cloexec
}

// Attach is the child-proxy mode: it serves the forked processes the
// mcexec that started it hands it (spec is AttachEnv's value), one after
// the other, until that mcexec goes away or it cannot serve another. It
// returns the last process's exit, or nothing when none ran.
func Attach(spec string, o Options) (code int, sig syscall.Signal, err error) {
	inst, linkFD, spare, err := parseAttachSpec(spec)
	if err != nil {
		return 0, 0, err
	}
	fd, err := moveFD(linkFD)
	if err != nil {
		return 0, 0, err
	}
	// Descriptors of the app that the forking mcexec holds without
	// close-on-exec came along: a spare would keep a pipe's reader from
	// seeing its end until its first job.
	unix.CloseRange(0, ReservedFD-1, 0)
	link := control.FromFD(fd)
	o.Instance = inst
	if err := windowReserved(); err != nil {
		return 0, 0, err
	}
	// Set up while idle: the connection and the workers' threads are
	// there when the job comes, and stay for the jobs after it.
	p, err := newProxy(o)
	if err != nil {
		return 0, 0, err
	}
	if spare {
		link.Send(proxyState{Idle: true})
	}
	for {
		job, fds, err := receiveJob(link)
		if errors.Is(err, os.ErrClosed) {
			return 0, 0, nil // the forking mcexec is gone
		}
		if err != nil {
			return 0, 0, err
		}
		if p.ch != nil && p.ch.Ended() == job.Token && !job.Profile.Enabled {
			// Ended already, on the channel this proxy has mapped (the
			// daemon recycles a proxy's channel for its next process):
			// nothing to attach to, nor to set up. A profiled one's
			// attach still gets its profile.
			unix.CloseRange(0, ReservedFD-1, 0)
			link.Send(proxyState{Idle: true})
			continue
		}
		if err := adopt(job, fds); err != nil {
			return 0, 0, err
		}
		var served bool
		if code, sig, served, err = p.serveJob(job); err != nil {
			return 0, 0, err
		}
		if !served { // ended before its proxy came: all is kept for the next
			link.Send(proxyState{Idle: true})
			continue
		}
		if !p.reset() {
			return code, sig, nil
		}
		link.Send(proxyState{Idle: true})
	}
}

func parseAttachSpec(spec string) (inst, fd int, spare bool, err error) {
	spec, spare = strings.CutSuffix(spec, spareSuffix)
	a, b, ok := strings.Cut(spec, ":")
	inst, err1 := strconv.Atoi(a)
	fd, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, false, fmt.Errorf("mcexec: bad %s %q", AttachEnv, spec)
	}
	return inst, fd, spare, nil
}

// receiveJob waits for a job and gathers its messages; the job returned
// names all its descriptors, and fds are they.
func receiveJob(link *control.Conn) (job forkJob, fds []int, err error) {
	for more := true; more; {
		var msg forkJob
		got, err := link.Recv(&msg)
		fds = append(fds, got...)
		if err == nil && len(got) != len(msg.FDs) {
			err = fmt.Errorf("mcexec: fork job message with %d descriptors, %d named", len(got), len(msg.FDs))
		}
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return job, nil, err
		}
		// Every message repeats the rest of the job.
		msg.FDs = append(job.FDs, msg.FDs...)
		msg.CloExec = append(job.CloExec, msg.CloExec...)
		job, more = msg, msg.More
	}
	return job, fds, nil
}

// adopt installs the job's descriptors at their numbers, replacing all
// others below ReservedFD, and takes the forking mcexec's working
// directory, umask and process group, as a fork would have given them.
func adopt(job forkJob, fds []int) error {
	appFDCache.forget()
	cloexec := map[int]bool{}
	for _, fd := range job.CloExec {
		cloexec[fd] = true
	}
	if err := placeFDs(job.FDs, fds, cloexec); err != nil {
		return err
	}
	if u, err := umask.get(); err != nil || u != job.Umask {
		unix.Umask(job.Umask)
		umask.set(job.Umask)
	}
	// By path: a descriptor of the directory would pass through a low
	// number in the forking mcexec, among the app's. The forking mcexec
	// may be gone already (its process did not wait), so its
	// /proc/<pid>/cwd only serves when the path does not.
	if job.Cwd == "" || unix.Chdir(job.Cwd) != nil {
		unix.Chdir(fmt.Sprintf("/proc/%d/cwd", os.Getppid()))
	}
	if g, _ := unix.Getpgid(0); g != job.PGID {
		if err := unix.Setpgid(0, job.PGID); err != nil {
			return fmt.Errorf("mcexec: join process group %d: %w", job.PGID, err)
		}
	}
	return nil
}

// umaskTracker knows mcexec's umask, which only adopt and the app's
// offloaded umask calls change: reading /proc/self/status at every fork
// took about 45 µs of the Linux CPU, and no call reads the umask without
// changing it.
type umaskTracker struct {
	known atomic.Bool
	mask  atomic.Int32
}

var umask umaskTracker

// get returns the umask, reading it once from /proc/self/status.
func (u *umaskTracker) get() (int, error) {
	if u.known.Load() {
		return int(u.mask.Load()), nil
	}
	m, err := ownUmask()
	if err == nil {
		u.set(m)
	}
	return m, err
}

func (u *umaskTracker) set(m int) {
	u.mask.Store(int32(m & 0o777))
	u.known.Store(true)
}

// placeFDs installs received descriptors fds at the numbers want, marking
// those in cloexec close-on-exec. Nothing else is open below ReservedFD:
// a proxy closes that range when it starts and after each process.
func placeFDs(want, fds []int, cloexec map[int]bool) error {
	if !inOrder(want, fds) {
		return placeAnyFDs(want, fds, cloexec)
	}
	// Received at 0, 1, ..., and wanted in increasing order: from the
	// last down, each goes to its number, which is its own or one that no
	// descriptor still to move holds. Most apps have 0, 1 and 2 only: a
	// call each to clear close-on-exec (set on receipt), where moving each
	// out of the way and back took four.
	for i := len(fds) - 1; i >= 0; i-- {
		fd, to := fds[i], want[i]
		var err error
		switch {
		case fd != to:
			flags := 0
			if cloexec[to] {
				flags = unix.O_CLOEXEC
			}
			err = unix.Dup3(fd, to, flags)
			unix.Close(fd)
		case !cloexec[to]:
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
		}
		if err != nil {
			return fmt.Errorf("mcexec: install descriptor %d: %w", to, err)
		}
	}
	return nil
}

// inOrder reports whether fds are 0, 1, ... and want increases.
func inOrder(want, fds []int) bool {
	for i, fd := range fds {
		if fd != i || i > 0 && want[i] <= want[i-1] {
			return false
		}
	}
	return true
}

// placeAnyFDs is placeFDs for descriptors in any order.
func placeAnyFDs(want, fds []int, cloexec map[int]bool) error {
	// Out of the way first: a received descriptor may sit on a number
	// another one must take.
	for i, fd := range fds {
		high, err := moveFD(fd)
		if err != nil {
			return err
		}
		fds[i] = high
	}
	unix.CloseRange(0, ReservedFD-1, 0)
	for i, fd := range fds {
		flags := 0
		if cloexec[want[i]] {
			flags = unix.O_CLOEXEC
		}
		err := unix.Dup3(fd, want[i], flags)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("mcexec: install descriptor %d: %w", want[i], err)
		}
	}
	return nil
}

// ownUmask reads the umask from statusFile.
func ownUmask() (int, error) {
	fd, err := statusFile()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("mcexec: read /proc/self/status: %w", err)
	}
	for line := range strings.Lines(string(buf[:n])) {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return int(m), err
		}
	}
	return 0, errors.New("mcexec: no Umask in /proc/self/status")
}

// serveJob attaches to the job's process and serves it until it ends. If
// the process ended before the proxy came, served is false: only the
// app's descriptors are closed.
func (p *Proxy) serveJob(job forkJob) (code int, sig syscall.Signal, served bool, err error) {
	dropSignals(p.sigs) // sent while idle: to no process
	p.opts.Profile = job.Profile
	resp, fds, err := p.conn.Call(control.Request{Op: control.OpAttach, Token: job.Token})
	if err == nil && resp.Ended {
		if err := p.opts.Profile.report(resp.Profile); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		unix.CloseRange(0, ReservedFD-1, 0)
		return resp.ExitCode, syscall.Signal(resp.ExitSignal), false, nil
	}
	if err == nil {
		err = p.connect(resp, fds)
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("mcexec: serve the forked process: %w", err)
	}
	code, sig, err = p.serve()
	return code, sig, err == nil, err
}

func dropSignals(c chan os.Signal) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// workerDrain bounds the wait for the workers once the process ended: one
// still in a Linux call that blocks keeps the proxy from being reused.
// (A futex wait: a Go timer would start the runtime poller, whose
// descriptors would land among the app's.)
const workerDrain = 100 * time.Millisecond

// reset makes a proxy whose process ended ready for another: the workers
// finish with the process (its channel was aborted), the daemon hears that
// the proxy detached, on the connection the next attach takes, and then
// the app's descriptors are closed (a pipe's reader sees its end) and the
// mirror and partition go. The channel stays mapped: the daemon resets it
// and gives it to the proxy's next process, and hearing of the detach
// first, it mostly has by the time the parent hears the proxy is idle. It
// reports false when a worker did not finish (the proxy cannot be reused).
func (p *Proxy) reset() bool {
	if !p.endService() || p.conn.Send(control.Request{Op: control.OpDetach}) != nil {
		unix.CloseRange(0, ReservedFD-1, 0)
		return false
	}
	unix.CloseRange(0, ReservedFD-1, 0)
	unix.Close(p.partFD)
	p.replay.Lock()
	defer p.replay.Unlock()
	p.pending = nil
	if !p.mirrored {
		return true
	}
	p.mirrored = false
	return p.applyLog(ikc.LogEntry{VA: ikc.WindowStart, Len: ikc.WindowEnd - ikc.WindowStart, Off: ikc.Unmapped}) == nil
}
