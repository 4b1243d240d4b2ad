package inspect

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Memory reads the daemon's memory. The signature is Delve's
// proc.MemoryReader, so the expression evaluator reads through it too.
type Memory interface {
	ReadMemory(buf []byte, addr uint64) (n int, err error)
}

// Live reads a running process's memory with process_vm_readv: the
// process is neither attached nor stopped. It needs the rights ptrace
// would (root, or the daemon's owner where Yama allows).
type Live struct {
	PID int
}

// ErrGone is returned once the daemon has exited.
var ErrGone = errors.New("daemon is gone")

// OpenLive checks that pid exists and can be read.
func OpenLive(pid int) (*Live, error) {
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	return &Live{PID: pid}, nil
}

// ReadMemory reads len(buf) bytes at addr; n < len(buf) comes with an error.
func (l *Live) ReadMemory(buf []byte, addr uint64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(l.PID, local, remote, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return 0, fmt.Errorf("pid %d: %w", l.PID, ErrGone)
	case errors.Is(err, unix.EPERM):
		return 0, fmt.Errorf("read memory of pid %d: %w (needs root or the daemon's owner)", l.PID, err)
	case err != nil:
		return max(n, 0), fmt.Errorf("read %d bytes at %#x of pid %d: %w", len(buf), addr, l.PID, err)
	case n < len(buf):
		return n, fmt.Errorf("read %d bytes at %#x of pid %d: only %d mapped", len(buf), addr, l.PID, n)
	}
	return n, nil
}

// Alive reports whether the process still exists (it may be a zombie).
func (l *Live) Alive() bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", l.PID))
	return err == nil
}
