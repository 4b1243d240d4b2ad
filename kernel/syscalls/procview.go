package syscalls

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/proc"
)

// The LWK's view of /proc for the app (McKernel's mcoverlayfs), as far as
// it goes: the links that name the running program. Other /proc and /sys
// paths are still Linux's, seen through mcexec.
func init() {
	register(sysReadlink, unix.SYS_READLINK)
	register(sysReadlinkat, unix.SYS_READLINKAT)
}

func sysReadlink(c *Call) int64 {
	return readlink(c, unix.AT_FDCWD, c.Args[0], c.Args[1], c.Args[2])
}

func sysReadlinkat(c *Call) int64 {
	return readlink(c, int(int32(c.Args[0])), c.Args[1], c.Args[2], c.Args[3])
}

// readlink answers /proc/self/exe (and /proc/<pid>/exe, /proc/thread-self/exe)
// with the app's own executable; everything else is offloaded.
func readlink(c *Call, dirfd int, path, buf, size uint64) int64 {
	name, ok := readString(c, path, 64)
	p := c.T.Proc
	if ok && isSelfExe(p, name) {
		if int64(size) <= 0 {
			return -int64(unix.EINVAL)
		}
		target := []byte(p.Exe)
		n := min(uint64(len(target)), size)
		if r := copyOut(c, buf, target[:n]); r < 0 {
			return r
		}
		return int64(n)
	}
	return offload(c)
}

// isSelfExe reports a path naming the app's own executable through /proc:
// mcexec would resolve it to itself.
func isSelfExe(p *proc.Process, name string) bool {
	return name == "/proc/self/exe" || name == "/proc/thread-self/exe" || name == fmt.Sprintf("/proc/%d/exe", p.PID)
}

// readString reads a NUL-terminated string of at most max bytes, a page
// at a time so that a string ending before an unmapped page reads fine; ok
// is false when it is longer or unreadable.
func readString(c *Call, addr uint64, max int) (string, bool) {
	var out []byte
	for len(out) <= max {
		n := min(uint64(max+1-len(out)), 4096-addr%4096)
		b := make([]byte, n)
		if copyIn(c, addr, b) < 0 {
			return "", false
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return string(append(out, b[:i]...)), true
		}
		out, addr = append(out, b...), addr+n
	}
	return "", false
}
