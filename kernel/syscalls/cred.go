package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/task"
)

// Credentials are the LWK's (task.Cred, with Linux's rules): the setuid
// family, setgroups and capset change the process's record and publish it
// in its channel, whose workers take it on before their next call; the
// getters read the record. capget and capset name LWK threads.
func init() {
	register(credSetter(func(cr *task.Cred, a [6]uint64) unix.Errno { return setID(cr.SetUID, a[0]) }), unix.SYS_SETUID)
	register(credSetter(func(cr *task.Cred, a [6]uint64) unix.Errno { return setID(cr.SetGID, a[0]) }), unix.SYS_SETGID)
	register(credSetter(func(cr *task.Cred, a [6]uint64) unix.Errno { return cr.SetREUID(id(a[0]), id(a[1])) }), unix.SYS_SETREUID)
	register(credSetter(func(cr *task.Cred, a [6]uint64) unix.Errno { return cr.SetREGID(id(a[0]), id(a[1])) }), unix.SYS_SETREGID)
	register(credSetter(func(cr *task.Cred, a [6]uint64) unix.Errno {
		return cr.SetRESUID(id(a[0]), id(a[1]), id(a[2]))
	}), unix.SYS_SETRESUID)
	register(credSetter(func(cr *task.Cred, a [6]uint64) unix.Errno {
		return cr.SetRESGID(id(a[0]), id(a[1]), id(a[2]))
	}), unix.SYS_SETRESGID)
	register(sysSetFSID, unix.SYS_SETFSUID, unix.SYS_SETFSGID)
	register(sysGetRESID, unix.SYS_GETRESUID, unix.SYS_GETRESGID)
	register(sysGetGroups, unix.SYS_GETGROUPS)
	register(sysSetGroups, unix.SYS_SETGROUPS)
	register(sysCapget, unix.SYS_CAPGET)
	register(sysCapset, unix.SYS_CAPSET)
}

// id is an id argument: (uid_t)-1 is -1, "unchanged".
func id(a uint64) int { return int(int32(a)) }

// setID is setuid or setgid, which refuse (uid_t)-1.
func setID(set func(int) unix.Errno, a uint64) unix.Errno {
	if id(a) == -1 {
		return unix.EINVAL
	}
	return set(id(a))
}

// changeCred changes the calling process's credentials with f.
func changeCred(c *Call, f func(*task.Cred) unix.Errno) int64 {
	return -int64(c.T.Proc.ChangeCred(f))
}

func credSetter(f func(*task.Cred, [6]uint64) unix.Errno) handler {
	return func(c *Call) int64 {
		return changeCred(c, func(cr *task.Cred) unix.Errno { return f(cr, c.Args) })
	}
}

// cred is a copy of the calling process's credentials.
func cred(c *Call) task.Cred {
	p := c.T.Proc
	p.CredMu.Lock()
	defer p.CredMu.Unlock()
	return p.Cred
}

// sysSetFSID is setfsuid and setfsgid: they return the old id, and fail
// only silently.
func sysSetFSID(c *Call) int64 {
	var old int
	changeCred(c, func(cr *task.Cred) unix.Errno {
		if c.Nr == unix.SYS_SETFSUID {
			old = cr.SetFSUID(id(c.Args[0]))
		} else {
			old = cr.SetFSGID(id(c.Args[0]))
		}
		return 0
	})
	return int64(old)
}

func sysGetRESID(c *Call) int64 {
	cr := cred(c)
	ids := []int{cr.UID, cr.EUID, cr.SUID}
	if c.Nr == unix.SYS_GETRESGID {
		ids = []int{cr.GID, cr.EGID, cr.SGID}
	}
	for i, v := range ids {
		if r := putUint32(c, c.Args[i], uint32(v)); r < 0 {
			return r
		}
	}
	return 0
}

func sysGetGroups(c *Call) int64 {
	groups := cred(c).Groups
	size := int(int32(c.Args[0]))
	switch {
	case size < 0:
		return -int64(unix.EINVAL)
	case size == 0:
		return int64(len(groups))
	case size < len(groups):
		return -int64(unix.EINVAL)
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(g))
	}
	if len(b) > 0 {
		if r := copyOut(c, c.Args[1], b); r < 0 {
			return r
		}
	}
	return int64(len(groups))
}

func sysSetGroups(c *Call) int64 {
	size := int(int32(c.Args[0]))
	if cr := cred(c); !cr.Capable(task.CapSetGID) {
		return -int64(unix.EPERM)
	}
	if size < 0 || size > task.MaxGroups {
		return -int64(unix.EINVAL)
	}
	b := make([]byte, 4*size)
	if size > 0 {
		if r := copyIn(c, c.Args[1], b); r < 0 {
			return r
		}
	}
	groups := make([]int, size)
	for i := range groups {
		groups[i] = int(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return changeCred(c, func(cr *task.Cred) unix.Errno { return cr.SetGroups(groups) })
}

// The capability ABI's versions: 1 has one 32-bit word per set, 2 and 3
// two.
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capHeader reads capget's and capset's header: the number of data words
// its version has, and its pid; on a version Linux does not know, it
// writes the preferred one back and the call fails with EINVAL.
func capHeader(c *Call) (words int, pid int, ret int64) {
	var h [8]byte
	if r := copyIn(c, c.Args[0], h[:]); r < 0 {
		return 0, 0, r
	}
	pid = int(int32(binary.LittleEndian.Uint32(h[4:])))
	switch binary.LittleEndian.Uint32(h[:4]) {
	case capVersion1:
		return 1, pid, 0
	case capVersion2, capVersion3:
		return 2, pid, 0
	}
	if r := putUint32(c, c.Args[0], capVersion3); r < 0 {
		return 0, 0, r
	}
	return 0, 0, -int64(unix.EINVAL)
}

func sysCapget(c *Call) int64 {
	words, pid, r := capHeader(c)
	if c.Args[1] == 0 && (r == 0 || r == -int64(unix.EINVAL)) {
		return 0 // a probe of the version: Linux wrote its own back
	}
	if r < 0 {
		return r
	}
	var caps task.Caps
	switch {
	case pid < 0:
		return -int64(unix.EINVAL)
	case pid == 0 || pid == c.T.TID:
		caps = cred(c).Caps
	default:
		t := c.Env.Kernel.FindThread(pid)
		if t == nil {
			return -int64(unix.ESRCH)
		}
		t.Proc.CredMu.Lock()
		caps = t.Proc.Cred.Caps
		t.Proc.CredMu.Unlock()
	}
	b := make([]byte, 12*words)
	for w := range words {
		for i, set := range []uint64{caps.Effective, caps.Permitted, caps.Inheritable} {
			binary.LittleEndian.PutUint32(b[12*w+4*i:], uint32(set>>(32*w)))
		}
	}
	return copyOut(c, c.Args[1], b)
}

func sysCapset(c *Call) int64 {
	words, pid, r := capHeader(c)
	if r < 0 {
		return r
	}
	if pid != 0 && pid != c.T.TID {
		return -int64(unix.EPERM) // only one's own, as Linux
	}
	b := make([]byte, 12*words)
	if r := copyIn(c, c.Args[1], b); r < 0 {
		return r
	}
	var sets [3]uint64 // effective, permitted, inheritable
	for w := range words {
		for i := range sets {
			sets[i] |= uint64(binary.LittleEndian.Uint32(b[12*w+4*i:])) << (32 * w)
		}
	}
	return changeCred(c, func(cr *task.Cred) unix.Errno { return cr.SetCaps(sets[0], sets[1], sets[2]) })
}
