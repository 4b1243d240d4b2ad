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
	return l.readv([]Span{{Addr: addr, Buf: buf}})
}

// Span is one range of a gathered read: Buf is filled from Addr.
type Span struct {
	Addr uint64
	Buf  []byte
}

// Gatherer is a Memory that reads several ranges in one call, as
// process_vm_readv does: a few fields of a big record then cost one
// system call, not one each or a copy of the whole record.
type Gatherer interface {
	ReadSpans(spans []Span) error
}

// maxIov is Linux's IOV_MAX, the most iovecs process_vm_readv takes.
const maxIov = 1024

// ReadSpans reads every span, in one process_vm_readv per 1024 spans.
func (l *Live) ReadSpans(spans []Span) error {
	for len(spans) > 0 {
		n := min(len(spans), maxIov)
		if _, err := l.readv(spans[:n]); err != nil {
			return err
		}
		spans = spans[n:]
	}
	return nil
}

// readv reads at most maxIov spans in one process_vm_readv.
func (l *Live) readv(spans []Span) (int, error) {
	local := make([]unix.Iovec, 0, len(spans))
	remote := make([]unix.RemoteIovec, 0, len(spans))
	want := 0
	for _, s := range spans {
		if len(s.Buf) > 0 { // a zero-sized field
			local = append(local, unix.Iovec{Base: &s.Buf[0], Len: uint64(len(s.Buf))})
			remote = append(remote, unix.RemoteIovec{Base: uintptr(s.Addr), Len: len(s.Buf)})
			want += len(s.Buf)
		}
	}
	if want == 0 {
		return 0, nil
	}
	addr := uint64(remote[0].Base)
	n, err := unix.ProcessVMReadv(l.PID, local, remote, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return 0, fmt.Errorf("pid %d: %w", l.PID, ErrGone)
	case errors.Is(err, unix.EPERM):
		return 0, fmt.Errorf("read memory of pid %d: %w (needs root or the daemon's owner)", l.PID, err)
	case err != nil:
		return max(n, 0), fmt.Errorf("read %d bytes at %#x of pid %d: %w", want, addr, l.PID, err)
	case n < want:
		return n, fmt.Errorf("read %d bytes at %#x of pid %d: only %d mapped", want, addr, l.PID, n)
	}
	return n, nil
}

// Alive reports whether the process still exists (it may be a zombie).
func (l *Live) Alive() bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", l.PID))
	return err == nil
}
