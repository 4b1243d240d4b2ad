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
	flags, dirfd := c.Args[4], uint64(int64(int32(c.Args[0])))
	if flags&^uint64(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return -int64(unix.EINVAL)
	}
	if flags&unix.AT_EMPTY_PATH != 0 {
		if name, ok := readString(c, c.Args[1], 4095); ok && name == "" {
			return fexecve(c, dirfd, c.Args[1], c.Args[2], c.Args[3])
		}
	}
	return execve(c, dirfd, c.Args[1], c.Args[2], c.Args[3])
}

// fexecve runs the file the app opened as fd (execveat with AT_EMPTY_PATH
// and an empty path, at which empty points): app and mcexec share the
// descriptor.
func fexecve(c *Call, fd, empty, argvp, envp uint64) int64 {
	argv, env, r := execArgs(c, argvp, envp)
	if r < 0 {
		return r
	}
	if r := offloadCall(c, unix.SYS_FACCESSAT2, [6]uint64{fd, empty, unix.X_OK, unix.AT_EMPTY_PATH}); r < 0 {
		return r
	}
	return execFD(c, int(fd), argv, env)
}

// execArgs reads execve's argument and environment vectors.
func execArgs(c *Call, argvp, envp uint64) (argv, env []string, r int64) {
	if argv, r = readStrings(c, argvp); r < 0 {
		return nil, nil, r
	}
	env, r = readStrings(c, envp)
	return argv, env, r
}

// atFDCWD is AT_FDCWD (-100) as a register value.
const atFDCWD = ^uint64(99)

// Limits on what execve copies, as Linux's ARG_MAX-style bounds.
const (
	maxArgs   = 1 << 16
	maxArgLen = 128 << 10
)

func execve(c *Call, dirfd, path, argvp, envp uint64) int64 {
	if _, ok := readString(c, path, 4095); !ok {
		return -int64(unix.EFAULT)
	}
	argv, env, r := execArgs(c, argvp, envp)
	if r < 0 {
		return r
	}
	// /proc/self/exe names the app's own executable (busybox runs its
	// applets so): through the LWK's view, not mcexec's.
	var view *pathView
	if host, ok := viewOf(c, path); ok {
		view = &pathView{arg: 1, path: host}
	}
	if r := offloadCallViewed(c, unix.SYS_FACCESSAT, [6]uint64{dirfd, path, unix.X_OK}, view); r < 0 {
		return r
	}
	fd := offloadCallViewed(c, unix.SYS_OPENAT, [6]uint64{dirfd, path, unix.O_RDONLY | unix.O_CLOEXEC}, view)
	if fd < 0 {
		return fd
	}
	r = execFD(c, int(fd), argv, env)
	offloadCall(c, unix.SYS_CLOSE, [6]uint64{uint64(fd)})
	return r
}

// execFD loads the image mcexec opened as fd.
func execFD(c *Call, fd int, argv, env []string) int64 {
	committed, err := c.Env.Kernel.Exec(c.T, fd, argv, env)
	if err != nil {
		if committed {
			c.Action, c.ExitSignal = ExitProcess, int(unix.SIGKILL)
		}
		return errno(err)
	}
	offloadCall(c, ikc.NrCloseOnExec, [6]uint64{})
	perfExec(c)
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
