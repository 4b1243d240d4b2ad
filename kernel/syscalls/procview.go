package syscalls

import (
	"bytes"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// The LWK's views of /proc and /sys (McKernel's mcoverlayfs): a call that
// names a file under /proc/<LWK pid or tid>, /proc/self, /proc/thread-self,
// /sys/devices/system/cpu, /sys/devices/system/node or
// /sys/bus/event_source/devices is offloaded with the
// path rewritten to a file the LWK rendered from its own state. The app's
// string is left alone: mcexec reads the new path from the IKC slot.
func init() {
	for nr := range pathArgs {
		register(sysViewed, nr)
	}
}

// pathArgs are the calls that name a file, by the index of the path
// argument. The *at forms take the directory descriptor just before it.
var pathArgs = map[uint64]int{
	unix.SYS_OPEN: 0, unix.SYS_STAT: 0, unix.SYS_LSTAT: 0, unix.SYS_ACCESS: 0, unix.SYS_READLINK: 0,
	unix.SYS_CHDIR: 0, unix.SYS_OPENAT: 1, unix.SYS_OPENAT2: 1, unix.SYS_NEWFSTATAT: 1,
	unix.SYS_STATX: 1, unix.SYS_FACCESSAT: 1, unix.SYS_FACCESSAT2: 1, unix.SYS_READLINKAT: 1,
}

func sysViewed(c *Call) int64 {
	i := pathArgs[c.Nr]
	if host, ok := viewOf(c, c.Args[i]); ok {
		c.view = &pathView{arg: i, path: host}
	}
	return offload(c)
}

// pathView is an offloaded call's path argument rewritten to a view.
type pathView struct {
	arg  int
	path string
}

// viewOf returns the view file standing for the absolute path at addr.
// Relative paths are Linux's: the LWK does not track the cwd.
func viewOf(c *Call, addr uint64) (string, bool) {
	// Most paths are not views: a short read decides before the string is.
	var head [6]byte
	if copyIn(c, addr, head[:]) < 0 || !(bytes.HasPrefix(head[:], []byte("/proc/")) || bytes.HasPrefix(head[:], []byte("/sys/"))) {
		return "", false
	}
	name, ok := readString(c, addr, ikc.PathMax-1)
	if !ok || !strings.HasPrefix(name, "/") {
		return "", false
	}
	return c.Env.Kernel.View(c.T, name)
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
