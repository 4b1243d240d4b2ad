package syscalls

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

func init() {
	register(sysUname, unix.SYS_UNAME)
	register(sysGetrlimit, unix.SYS_GETRLIMIT)
	register(sysSetrlimit, unix.SYS_SETRLIMIT)
	register(sysPrlimit, unix.SYS_PRLIMIT64)
	register(sysGetrandom, unix.SYS_GETRANDOM)
}

func sysUname(c *Call) int64 {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return errno(err)
	}
	return copyOut(c, c.Args[0], bytesOf(&u))
}

func sysGetrlimit(c *Call) int64 {
	return prlimit(c, int(c.Args[0]), 0, c.Args[1])
}

func sysSetrlimit(c *Call) int64 {
	return prlimit(c, int(c.Args[0]), c.Args[1], 0)
}

func sysPrlimit(c *Call) int64 {
	if pid := int(c.Args[0]); pid != 0 && pid != c.T.Proc.PID {
		return -int64(unix.ESRCH)
	}
	return prlimit(c, int(c.Args[1]), c.Args[2], c.Args[3])
}

func prlimit(c *Call, res int, newp, oldp uint64) int64 {
	p := c.T.Proc
	if res < 0 || res >= len(p.Rlimits) {
		return -int64(unix.EINVAL)
	}
	old := p.Rlimits[res]
	if oldp != 0 {
		if r := copyOut(c, oldp, bytesOf(&old)); r < 0 {
			return r
		}
	}
	if newp != 0 {
		var nl unix.Rlimit
		if r := copyIn(c, newp, bytesOf(&nl)); r < 0 {
			return r
		}
		if nl.Cur > nl.Max || nl.Max > old.Max && p.Cred.EUID != 0 {
			return -int64(unix.EPERM)
		}
		if res == unix.RLIMIT_NOFILE && nl.Max > ikc.ReservedFD {
			return -int64(unix.EPERM) // beyond nr_open, as Linux says
		}
		p.Rlimits[res] = nl
	}
	return 0
}

func sysGetrandom(c *Call) int64 {
	n := min(c.Args[1], 1<<25)
	b := make([]byte, n)
	got, err := unix.Getrandom(b, int(c.Args[2]&^unix.GRND_NONBLOCK)|unix.GRND_NONBLOCK)
	if err != nil {
		return errno(err)
	}
	if r := copyOut(c, c.Args[0], b[:got]); r < 0 {
		return r
	}
	return int64(got)
}
