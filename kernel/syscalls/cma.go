package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// process_vm_readv and process_vm_writev (cross-memory attach: Open MPI's
// and MPICH's single-copy path between processes of a node). Between LWK
// processes the LWK copies itself, from one address space to the other
// through the direct map: mcexec's mirror of another process may lag
// behind its mapping log. A pid that is no LWK process's is a Linux
// process's: the call is offloaded, and Linux copies between it and
// mcexec's mirror of the caller.
func init() {
	register(sysProcessVM, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV)
}

// iovMax is Linux's UIO_MAXIOV.
const iovMax = 1024

func sysProcessVM(c *Call) int64 {
	pid, liov, lcnt, riov, rcnt, flags := int(int32(c.Args[0])), c.Args[1], c.Args[2], c.Args[3], c.Args[4], c.Args[5]
	c.servedLocally = true
	if flags != 0 || lcnt > iovMax || rcnt > iovMax {
		return -int64(unix.EINVAL)
	}
	t := c.Env.Kernel.FindThread(pid)
	if t == nil || t.Proc.PID != pid {
		if pid <= 0 {
			return -int64(unix.ESRCH)
		}
		c.servedLocally = false
		return offload(c)
	}
	target := t.Proc
	if !mayPtrace(c.T.Proc, target) {
		return -int64(unix.EPERM)
	}
	local, r := readIovecs(c, liov, lcnt)
	if r < 0 {
		return r
	}
	remote, r := readIovecs(c, riov, rcnt)
	if r < 0 {
		return r
	}
	write := c.Nr == unix.SYS_PROCESS_VM_WRITEV
	var done int64
	li, loff := 0, uint64(0) // the local iovec and the offset in it
	for _, rv := range remote {
		for roff := uint64(0); roff < rv.len; {
			for li < len(local) && loff == local[li].len {
				li, loff = li+1, 0
			}
			if li == len(local) {
				return done
			}
			lv := local[li]
			n := min(rv.len-roff, lv.len-loff)
			moved, err := c.T.Proc.MM.RemoteCopy(lv.base+loff, target.MM, rv.base+roff, n, write)
			done += int64(moved)
			if uint64(moved) < n {
				if err == nil {
					err = unix.EFAULT
				}
				return doneOr(done, errno(err))
			}
			roff, loff = roff+n, loff+n
		}
	}
	return done
}

// iovec is one entry of an iovec array.
type iovec struct{ base, len uint64 }

// readIovecs copies in n iovecs at addr; their sum must fit in ssize_t.
func readIovecs(c *Call, addr, n uint64) ([]iovec, int64) {
	raw := make([]byte, 16*n)
	if r := copyIn(c, addr, raw); n > 0 && r < 0 {
		return nil, r
	}
	out := make([]iovec, n)
	var sum uint64
	for i := range out {
		out[i] = iovec{binary.LittleEndian.Uint64(raw[16*i:]), binary.LittleEndian.Uint64(raw[16*i+8:])}
		if sum += out[i].len; out[i].len > 1<<63-1 || sum > 1<<63-1 {
			return nil, -int64(unix.EINVAL)
		}
	}
	return out, 0
}

// doneOr is a partial transfer's result: the bytes moved, or r if none.
func doneOr(done, r int64) int64 {
	if done > 0 {
		return done
	}
	return r
}

// mayPtrace is ptrace_may_access in PTRACE_MODE_ATTACH_REALCREDS: the
// caller's real ids are all of the target's, and the target is dumpable;
// or the caller has CAP_SYS_PTRACE.
func mayPtrace(caller, target *task.Process) bool {
	if caller == target || caller.Cred.Capable(capSysPtrace) {
		return true
	}
	me, it := &caller.Cred, &target.Cred
	return me.UID == it.UID && me.UID == it.EUID && me.UID == it.SUID &&
		me.GID == it.GID && me.GID == it.EGID && me.GID == it.SGID && target.Undumpable.Load() == 0
}

// capSysPtrace is CAP_SYS_PTRACE.
const capSysPtrace = 19
