package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// bufArg names a pointer argument and where its length comes from.
type bufArg struct {
	ptr    int // argument index of the pointer
	lenArg int // argument index of the length, or -1
	size   uint64
	iov    bool // the pointer is an iovec array of lenArg entries
	out    bool // Linux writes the buffer
}

// bufArgs lists the common calls whose buffers may be long, so that every
// page of them is populated before Linux sees them; other pointer arguments
// get their first two pages populated.
var bufArgs = map[uint64][]bufArg{
	unix.SYS_READ:       {{ptr: 1, lenArg: 2, out: true}},
	unix.SYS_WRITE:      {{ptr: 1, lenArg: 2}},
	unix.SYS_PREAD64:    {{ptr: 1, lenArg: 2, out: true}},
	unix.SYS_PWRITE64:   {{ptr: 1, lenArg: 2}},
	unix.SYS_GETDENTS64: {{ptr: 1, lenArg: 2, out: true}},
	unix.SYS_READV:      {{ptr: 1, lenArg: 2, iov: true, out: true}},
	unix.SYS_WRITEV:     {{ptr: 1, lenArg: 2, iov: true}},
	unix.SYS_PREADV:     {{ptr: 1, lenArg: 2, iov: true, out: true}},
	unix.SYS_PWRITEV:    {{ptr: 1, lenArg: 2, iov: true}},
	unix.SYS_RECVFROM:   {{ptr: 1, lenArg: 2, out: true}},
	unix.SYS_SENDTO:     {{ptr: 1, lenArg: 2}},
	unix.SYS_GETCWD:     {{ptr: 0, lenArg: 1, out: true}},
	unix.SYS_READLINK:   {{ptr: 1, lenArg: 2, out: true}},
	unix.SYS_READLINKAT: {{ptr: 2, lenArg: 3, out: true}},
}

// populateArgs backs the pages of pointer arguments: Linux returns EFAULT
// instead of faulting on pages the LWK has not populated yet. A known
// buffer outside the app window is refused: in mcexec that address may be
// the proxy's own memory; so is a known output buffer that starts in
// read-only memory, which mcexec's mirror, writable throughout, would not
// refuse (and whose pages a fork may share with other processes). Only its
// start: Linux faults only where the data reaches, which a short read may
// not, so a buffer that runs on into read-only memory is let through.
func populateArgs(c *Call, nr uint64, args [6]uint64) bool {
	as := c.T.Proc.MM
	done := [6]bool{}
	for _, b := range bufArgs[nr] {
		p, n := args[b.ptr], b.size
		if b.lenArg >= 0 {
			n = args[b.lenArg]
		}
		done[b.ptr] = true
		if n != 0 && !ikc.InWindow(p, min(n, 1)) {
			return false
		}
		if !ikc.InWindow(p, 1) {
			continue
		}
		if !b.iov {
			if b.out && n != 0 && as.ReadOnly(p, p+1) {
				return false
			}
			as.Populate(p, p+min(n, ikc.WindowEnd-p))
			continue
		}
		n = min(n, 1024)
		iov := make([]byte, n*16)
		if as.CopyIn(p, iov) != nil {
			continue
		}
		for i := uint64(0); i < n; i++ {
			base, l := binary.LittleEndian.Uint64(iov[i*16:]), binary.LittleEndian.Uint64(iov[i*16+8:])
			if l != 0 && !ikc.InWindow(base, 1) {
				return false
			}
			if b.out && l != 0 && as.ReadOnly(base, base+1) {
				return false
			}
			as.Populate(base, base+min(l, ikc.WindowEnd-base))
		}
	}
	for i, a := range args {
		if !done[i] && ikc.InWindow(a, 1) {
			as.Populate(a, min(a+2*4096, ikc.WindowEnd))
		}
	}
	return true
}

// raisesSIGPIPE are the calls after which Linux sends SIGPIPE on EPIPE;
// mcexec ignores SIGPIPE, so the LWK raises it in the app.
var raisesSIGPIPE = map[uint64]bool{unix.SYS_WRITE: true, unix.SYS_WRITEV: true, unix.SYS_PWRITE64: true,
	unix.SYS_PWRITEV: true, unix.SYS_SENDTO: true, unix.SYS_SENDMSG: true, unix.SYS_SPLICE: true}

// post backs the pointer arguments and posts the request in the thread's
// slot, with a path argument rewritten when view is set; false means a
// known buffer lies outside the app window or the path does not fit
// (EFAULT).
func post(c *Call, nr uint64, args [6]uint64, view *pathView) (int, bool) {
	t, p := c.T, c.T.Proc
	if !populateArgs(c, nr, args) {
		return 0, false
	}
	slot := t.Slot
	if view != nil {
		return slot, p.Chan.PostPath(slot, nr, args, uint64(p.PID), uint64(t.TID), view.arg, view.path) == nil
	}
	p.Chan.Post(slot, nr, args, uint64(p.PID), uint64(t.TID))
	return slot, true
}

// offload is the path of calls that only Linux can do: post the request,
// spin briefly for the answer (mcexec usually answers within the spin),
// else park the thread so its CPU runs others until mcexec answers.
func offload(c *Call) int64 {
	slot, ok := post(c, c.Nr, c.Args, c.view)
	if !ok {
		return -int64(unix.EFAULT)
	}
	ch := c.T.Proc.Chan
	// The spin stops as soon as another thread of the CPU can run: a call
	// that blocks in Linux (a pipe's read) must not keep the thread that
	// would answer it (its writer) from the CPU.
	ret, done, err := ch.Poll(slot, c.Env.OffloadSpin, c.Env.Kernel.CPUQueue(c.T).SpinStop())
	if done {
		return finish(c, c.Nr, ret, err)
	}
	// From here on a signal may interrupt the call in mcexec.
	t := c.T
	t.OffloadSeq.Store(ch.Seq(slot))
	t.Proc.Offloads.Add(1)
	if c.Env.Kernel.ParkOffload(t, &parkedOffload{c: c, ch: ch, slot: slot}) {
		c.Action = Block
		return 0
	}
	t.Proc.Offloads.Done()
	ret, err = wait(c, slot, 0)
	t.OffloadSeq.Store(0)
	return finish(c, c.Nr, ret, err)
}

// parkedOffload is an offloaded call whose thread the CPU parked: the CPU
// watches the slot (sched.Answer) and takes the answer. The process's
// Offloads count it until then, since its channel must outlive the watch.
type parkedOffload struct {
	c    *Call
	ch   *ikc.Channel // the process's, where the call was posted
	slot int
}

func (o *parkedOffload) Word() (*uint32, uint32, bool) { return o.ch.State(o.slot) }

func (o *parkedOffload) Take() int64 {
	c, t := o.c, o.c.T
	defer t.Proc.Offloads.Done()
	ret, err := o.ch.Wait(o.slot, 0)
	t.OffloadSeq.Store(0)
	if err != nil {
		return -int64(unix.EINTR) // the process is being torn down
	}
	sigpipe(c, c.Nr, ret)
	return ret
}

// offloadCall has mcexec execute nr with args and waits for the result,
// holding the CPU: it serves LWK handlers that need Linux's help midway
// (the read that fills a private file mapping).
func offloadCall(c *Call, nr uint64, args [6]uint64) int64 {
	return offloadCallWhile(c, nr, args, nil, nil)
}

// offloadCallViewed is offloadCall with a path argument rewritten.
func offloadCallViewed(c *Call, nr uint64, args [6]uint64, view *pathView) int64 {
	return offloadCallWhile(c, nr, args, view, nil)
}

// offloadCallWhile is offloadCall, with a path argument rewritten when
// view is set, that runs meanwhile (unless nil) while mcexec works on the
// call.
func offloadCallWhile(c *Call, nr uint64, args [6]uint64, view *pathView, meanwhile func()) int64 {
	slot, ok := post(c, nr, args, view)
	if !ok {
		return -int64(unix.EFAULT)
	}
	if meanwhile != nil {
		meanwhile()
	}
	ret, err := wait(c, slot, c.Env.OffloadSpin)
	return finish(c, nr, ret, err)
}

// wait waits on the CPU for mcexec's answer in slot.
func wait(c *Call, slot int, spin int) (int64, error) {
	c.Env.Kernel.Waiting(c.T, true)
	defer c.Env.Kernel.Waiting(c.T, false)
	return c.T.Proc.Chan.Wait(slot, spin)
}

// finish turns an offload's outcome into the syscall's result.
func finish(c *Call, nr uint64, ret int64, err error) int64 {
	if err != nil {
		// Torn down: by a signal that kills the process, or by mcexec's death.
		c.Action, c.ExitSignal = ExitProcess, int(c.T.Proc.Kill.Load())
		if c.ExitSignal == 0 {
			c.ExitSignal = int(unix.SIGKILL)
		}
		return -int64(unix.EINTR)
	}
	sigpipe(c, nr, ret)
	return ret
}

// sigpipe raises SIGPIPE after an EPIPE from a write-like call, as Linux
// does; mcexec itself ignores SIGPIPE.
func sigpipe(c *Call, nr uint64, ret int64) {
	if ret == -int64(unix.EPIPE) && raisesSIGPIPE[nr] {
		signalSelf(c, int(unix.SIGPIPE))
	}
}
