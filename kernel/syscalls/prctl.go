package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// prctl's options on the process's credentials (keep-capabilities, the
// bounding and ambient sets, no-new-privs), its dumpability, its
// parent-death signal and its threads' names are the LWK's: offloaded,
// they would set mcexec's worker thread's. The other options are
// offloaded.
func init() {
	register(sysPrctl, unix.SYS_PRCTL)
}

// Linux's default for PR_GET_DUMPABLE, and its range.
const (
	dumpable    = 1
	maxDumpable = 1 // 2 (suid_dumpable's) is refused from prctl
)

func sysPrctl(c *Call) int64 {
	a := c.Args
	rest := func(from int) bool { // the unused arguments must be 0
		for _, v := range a[from:5] {
			if v != 0 {
				return false
			}
		}
		return true
	}
	einval := -int64(unix.EINVAL)
	p := c.T.Proc
	c.servedLocally = true
	switch a[0] {
	case unix.PR_GET_KEEPCAPS:
		return boolRet(cred(c).KeepCaps)
	case unix.PR_SET_KEEPCAPS:
		if a[1] > 1 {
			return einval
		}
		return changeCred(c, func(cr *task.Cred) unix.Errno { cr.KeepCaps = a[1] == 1; return 0 })
	case unix.PR_CAPBSET_READ:
		if a[1] > task.CapLast {
			return einval
		}
		return boolRet(cred(c).Caps.Bounding&(1<<a[1]) != 0)
	case unix.PR_CAPBSET_DROP:
		return changeCred(c, func(cr *task.Cred) unix.Errno { return cr.DropBound(int(a[1])) })
	case unix.PR_CAP_AMBIENT:
		return prctlAmbient(c)
	case unix.PR_SET_NO_NEW_PRIVS:
		if a[1] != 1 || !rest(2) {
			return einval
		}
		return changeCred(c, func(cr *task.Cred) unix.Errno { cr.NoNewPrivs = true; return 0 })
	case unix.PR_GET_NO_NEW_PRIVS:
		if !rest(1) {
			return einval
		}
		return boolRet(cred(c).NoNewPrivs)
	case unix.PR_GET_DUMPABLE:
		return int64(dumpable - p.Undumpable.Load())
	case unix.PR_SET_DUMPABLE:
		if a[1] > maxDumpable {
			return einval
		}
		p.Undumpable.Store(int32(dumpable - a[1]))
		return 0
	case unix.PR_SET_PDEATHSIG:
		if a[1] > 64 {
			return einval
		}
		p.PDeathSig.Store(int32(a[1]))
		return 0
	case unix.PR_GET_PDEATHSIG:
		return putUint32(c, a[1], uint32(p.PDeathSig.Load()))
	case unix.PR_SET_NAME:
		var name [task.NameLen]byte
		for i := range len(name) - 1 { // a longer name is cut, as Linux's
			if r := copyIn(c, a[1]+uint64(i), name[i:i+1]); r < 0 {
				return r
			}
			if name[i] == 0 {
				break
			}
		}
		c.T.SetName(name)
		return 0
	case unix.PR_GET_NAME:
		name := c.T.Name()
		return copyOut(c, a[1], name[:])
	}
	c.servedLocally = false
	return offload(c)
}

// prctlAmbient is PR_CAP_AMBIENT's operations.
func prctlAmbient(c *Call) int64 {
	op, capNr, a := c.Args[1], c.Args[2], c.Args
	einval := -int64(unix.EINVAL)
	if op == unix.PR_CAP_AMBIENT_CLEAR_ALL {
		if capNr != 0 || a[3] != 0 || a[4] != 0 {
			return einval
		}
		return changeCred(c, func(cr *task.Cred) unix.Errno { cr.Caps.Ambient = 0; return 0 })
	}
	if a[3] != 0 || a[4] != 0 || capNr > task.CapLast {
		return einval
	}
	switch op {
	case unix.PR_CAP_AMBIENT_IS_SET:
		return boolRet(cred(c).Caps.Ambient&(1<<capNr) != 0)
	case unix.PR_CAP_AMBIENT_RAISE:
		return changeCred(c, func(cr *task.Cred) unix.Errno { return cr.RaiseAmbient(int(capNr)) })
	case unix.PR_CAP_AMBIENT_LOWER:
		return changeCred(c, func(cr *task.Cred) unix.Errno { cr.Caps.Ambient &^= 1 << capNr; return 0 })
	}
	return einval
}

func boolRet(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
