package mcexec

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/control"
	"github.com/gomck/gomck/internal/futex"
)

// Child proxies are kept for reuse. Each is a Go program whose start-up
// takes about 10 ms of CPU here, an order of magnitude more than the rest
// of a fork; so a child proxy whose process ended goes back to the mcexec
// that started it and serves that mcexec's next fork (fork.go). They talk
// over a socketpair, the link: jobs go down, state changes come up.

// proxyState is what a child proxy tells its parent mcexec: that it is
// idle, ready for a job. (A proxy that cannot be reused exits instead.)
type proxyState struct {
	Idle bool
}

// childProxy is a child proxy as its parent mcexec sees it.
type childProxy struct {
	pid  int
	link *control.Conn
	cred creds // of the thread that started it: a reused proxy must match
	// idle, or busy serving a process (or getting ready for the next).
	idle bool
	// forkedBy is the proxy whose process forked the one it serves.
	forkedBy *Proxy
	// spare: started ahead of a fork, it says Idle once it is set up.
	spare bool
}

// creds are a thread's identity, which a child proxy inherits from the
// thread that starts it.
type creds struct {
	uid, euid, suid, gid, egid, sgid int
	groups                           string
}

func threadCreds() creds {
	var c creds
	c.uid, c.euid, c.suid = unix.Getresuid()
	c.gid, c.egid, c.sgid = unix.Getresgid()
	groups, _ := unix.Getgroups()
	c.groups = fmt.Sprint(groups)
	return c
}

// proxyPool is this mcexec's child proxies. It outlives the process the
// mcexec serves when the mcexec is itself a reused child proxy.
type proxyPool struct {
	mu  sync.Mutex
	all map[int]*childProxy
	// changed is bumped when a proxy changes state, a futex word: a Go
	// timer would start the runtime's poller, whose descriptors would land
	// among the app's (the first fork's parent then showed the app an
	// epoll descriptor at 3 and an eventfd at 4, and passed them on).
	changed uint32
	sparing bool // a spare is being started
}

var children = &proxyPool{all: map[int]*childProxy{}}

// maxIdle bounds the idle proxies kept: each holds a Go runtime's memory.
const maxIdle = 4

// reuseWait bounds how long a fork waits for a proxy about to be idle: a
// reaped child's proxy is idle 1-2 ms later, and a new one costs ~10 ms.
const reuseWait = 20 * time.Millisecond

// take returns an idle proxy for a process that by (the forking process's
// proxy) forks: one whose pid is not in avoid (pids the forking process's
// unreaped children still hold) and that the calling thread could have
// started. It waits, up to reuseWait, for one that seems about to be idle
// (it serves a child of by's process that is not in avoid, so reaped
// already, or it is a spare getting ready), since a new one costs far
// more. The wait is
// bounded because the second guess is wrong while threads fork at once: a
// child forked after avoid was made is not in it, yet lives on, and its
// own run may wait for this fork to finish. nil if none.
func (pp *proxyPool) take(by *Proxy, avoid []int, reuse bool) *childProxy {
	if !reuse {
		return nil
	}
	cred, sid := threadCreds(), getsid(0)
	deadline := time.Now().Add(reuseWait)
	for {
		pp.mu.Lock()
		seen, waiting := atomic.LoadUint32(&pp.changed), false
		for _, c := range pp.all {
			if slices.Contains(avoid, c.pid) || c.cred != cred || getsid(c.pid) != sid {
				continue
			}
			if c.idle {
				c.idle, c.forkedBy = false, by
				pp.mu.Unlock()
				return c
			}
			waiting = waiting || c.forkedBy == by || c.spare
		}
		pp.mu.Unlock()
		if !waiting {
			return nil
		}
		pp.startSpare(by, cred)
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		ts := unix.NsecToTimespec(int64(left))
		futex.Wait(&pp.changed, seen, &ts)
	}
}

func getsid(pid int) int {
	sid, err := unix.Getsid(pid)
	if err != nil {
		return -1
	}
	return sid
}

// startSpare starts a spare proxy in the background when a fork has to
// wait for one about to be idle: forks come faster than a proxy gets ready
// for the next (a tight fork loop, a shell script), so two take turns from
// then on, and a fork no longer waits for the previous child's proxy to
// finish with it (about 1 ms of a 2 ms round trip here). A program that
// forks now and then never gets one. cred are the forking thread's: the
// proxy must have them, and creds are per thread in mcexec (an offloaded
// setuid changes only its worker's), so it is started from a thread that
// has them or not at all.
func (pp *proxyPool) startSpare(by *Proxy, cred creds) {
	pp.mu.Lock()
	if pp.sparing || len(pp.all) >= maxIdle {
		pp.mu.Unlock()
		return
	}
	pp.sparing = true
	pp.mu.Unlock()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if threadCreds() == cred {
			if _, err := pp.start(by, true); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
		pp.mu.Lock()
		pp.sparing = false
		pp.mu.Unlock()
	}()
}

// start starts a child proxy for a process that by forks, or a spare, in
// child-proxy mode (AttachEnv) with its end of the link at descriptor 3.
func (pp *proxyPool) start(by *Proxy, spare bool) (*childProxy, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("mcexec: child proxy link: %w", err)
	}
	defer unix.Close(fds[1])
	mine, err := moveFD(fds[0])
	if err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	spec := fmt.Sprintf("%d:3", by.opts.Instance)
	if spare {
		spec += spareSuffix
	}
	env := []string{AttachEnv + "=" + spec}
	if dir := os.Getenv(control.RunDirEnv); dir != "" {
		env = append(env, control.RunDirEnv+"="+dir)
	}
	// Descriptors 0-2 start closed (the runtime puts /dev/null there): the
	// app's come with each job.
	none := ^uintptr(0)
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"mcexec"}, &syscall.ProcAttr{
		Env: env, Files: []uintptr{none, none, none, uintptr(fds[1])}})
	if err != nil {
		unix.Close(mine)
		return nil, err
	}
	c := &childProxy{pid: pid, link: control.FromFD(mine), cred: threadCreds(), forkedBy: by, spare: spare}
	if spare {
		c.forkedBy = nil
	}
	pp.mu.Lock()
	pp.all[pid] = c
	pp.mu.Unlock()
	go pp.follow(c)
	return c, nil
}

// follow tracks c's state until it exits, then reaps it.
func (pp *proxyPool) follow(c *childProxy) {
	for {
		var st proxyState
		if _, err := c.link.Recv(&st); err != nil {
			break
		}
		pp.mu.Lock()
		surplus := st.Idle && pp.idle() >= maxIdle
		c.idle, c.spare = st.Idle && !surplus, false
		pp.notify()
		pp.mu.Unlock()
		if surplus {
			pp.drop(c)
		}
	}
	pp.mu.Lock()
	delete(pp.all, c.pid)
	pp.notify()
	pp.mu.Unlock()
	c.link.Close()
	var ws syscall.WaitStatus
	syscall.Wait4(c.pid, &ws, 0, nil)
}

// idle counts the idle proxies (pp.mu held).
func (pp *proxyPool) idle() int {
	n := 0
	for _, c := range pp.all {
		if c.idle {
			n++
		}
	}
	return n
}

// notify wakes every take waiting for a state change (pp.mu held).
func (pp *proxyPool) notify() {
	atomic.AddUint32(&pp.changed, 1)
	futex.Wake(&pp.changed, 1<<30)
}

// drop ends a proxy that could not take a job.
func (pp *proxyPool) drop(c *childProxy) {
	unix.Kill(c.pid, unix.SIGKILL)
}
