package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// execve loads a new image in place. The file is opened through mcexec, so
// Linux checks the path, permissions and cwd as it would for the app; the
// LWK then reads it through mcexec's descriptor.
func init() {
	register(sysExecve, unix.SYS_EXECVE)
	register(sysExecveat, unix.SYS_EXECVEAT)
}

func sysExecve(c *Call) int64 {
	return execve(c, atFDCWD, c.Args[0], c.Args[1], c.Args[2])
}

func sysExecveat(c *Call) int64 {
	if c.Args[4]&^uint64(unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return -int64(unix.EINVAL) // AT_EMPTY_PATH (fexecve) is not supported yet
	}
	return execve(c, uint64(int64(int32(c.Args[0]))), c.Args[1], c.Args[2], c.Args[3])
}

// atFDCWD is AT_FDCWD (-100) as a register value.
const atFDCWD = ^uint64(99)

// Limits on what execve copies, as Linux's ARG_MAX-style bounds.
const (
	maxArgs   = 1 << 16
	maxArgLen = 128 << 10
)

func execve(c *Call, dirfd, path, argvp, envp uint64) int64 {
	name, ok := readString(c, path, 4095)
	if !ok {
		return -int64(unix.EFAULT)
	}
	argv, r := readStrings(c, argvp)
	if r < 0 {
		return r
	}
	env, r := readStrings(c, envp)
	if r < 0 {
		return r
	}
	if isSelfExe(c.T.Proc, name) {
		// busybox runs its applets so: mcexec would open itself.
		return execFD(c, -1, argv, env)
	}
	if r := offloadCall(c, unix.SYS_FACCESSAT, [6]uint64{dirfd, path, unix.X_OK}); r < 0 {
		return r
	}
	fd := offloadCall(c, unix.SYS_OPENAT, [6]uint64{dirfd, path, unix.O_RDONLY | unix.O_CLOEXEC})
	if fd < 0 {
		return fd
	}
	r = execFD(c, int(fd), argv, env)
	offloadCall(c, unix.SYS_CLOSE, [6]uint64{uint64(fd)})
	return r
}

// execFD loads the image mcexec opened as fd (-1: the app's own).
func execFD(c *Call, fd int, argv, env []string) int64 {
	committed, err := c.Env.Kernel.Exec(c.T, fd, argv, env)
	if err != nil {
		if committed {
			c.Action, c.ExitSignal = ExitProcess, int(unix.SIGKILL)
		}
		return errno(err)
	}
	offloadCall(c, ikc.NrCloseOnExec, [6]uint64{})
	return 0
}

// readStrings reads a NULL-terminated array of string pointers.
func readStrings(c *Call, addr uint64) ([]string, int64) {
	var out []string
	if addr == 0 {
		return nil, 0
	}
	var b [8]byte
	for i := uint64(0); ; i++ {
		if i == maxArgs {
			return nil, -int64(unix.E2BIG)
		}
		if r := copyIn(c, addr+8*i, b[:]); r < 0 {
			return nil, r
		}
		p := binary.LittleEndian.Uint64(b[:])
		if p == 0 {
			return out, 0
		}
		s, ok := readString(c, p, maxArgLen)
		if !ok {
			return nil, -int64(unix.EFAULT)
		}
		out = append(out, s)
	}
}
