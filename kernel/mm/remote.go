package mm

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// RemoteCopy moves n bytes between [va, va+n) of this address space, the
// caller's, and [rva, rva+n) of remote's, another process's: into remote
// if write (process_vm_writev), out of it otherwise (process_vm_readv,
// Open MPI's single-copy path). The bytes go straight from one process's
// pages to the other's, one copy as on Linux, with both address spaces
// locked. The local side is populated, and owned if it is written, as
// CopyIn and CopyOut do; the remote side is reached as far as the first
// page that is unmapped, lacks the protection the access needs, or, for a
// write, is not populated yet or shared by a fork (its stub is another
// CPU's tracer's, so this caller can neither populate nor unshare it). A
// remote page not populated yet reads as the zeros it would be faulted in
// as. It returns the bytes moved, with the local side's error if that
// side stopped them.
func (as *AddressSpace) RemoteCopy(va uint64, remote *AddressSpace, rva, n uint64, write bool) (int, error) {
	if n == 0 {
		return 0, nil
	}
	if va+n < va {
		return 0, unix.EFAULT
	}
	if err := as.back(va, va+n, !write); err != nil {
		return 0, err
	}
	lockPair(as, remote)
	defer unlockPair(as, remote)
	done := uint64(0)
	err := as.walk(va, n, func(part []byte, at uint64) bool {
		m := remote.reach(rva+at, part, write)
		done = at + uint64(m)
		return m == len(part)
	})
	return int(done), err
}

// lockPair locks a and b, a single lock if they are one, in address order
// otherwise: two processes copying from each other at once take them in
// the same order. No closure: RemoteCopy runs once per iovec pair.
func lockPair(a, b *AddressSpace) {
	if a == b {
		a.mu.Lock()
		return
	}
	if uintptr(unsafe.Pointer(b)) < uintptr(unsafe.Pointer(a)) {
		a, b = b, a
	}
	a.mu.Lock()
	b.mu.Lock()
}

// unlockPair undoes lockPair(a, b).
func unlockPair(a, b *AddressSpace) {
	a.mu.Unlock()
	if a != b {
		b.mu.Unlock()
	}
}

// reach copies between b and [va, va+len(b)) of this address space, locked,
// into it if write, as far as RemoteCopy says the remote side is reached.
// It returns the bytes copied.
func (as *AddressSpace) reach(va uint64, b []byte, write bool) int {
	need := unix.PROT_READ
	if write {
		need = unix.PROT_WRITE
	}
	n := uint64(len(b))
	at := uint64(0)
	for at < n {
		i := as.find(va + at)
		if i < 0 {
			break
		}
		v := as.VMAs[i]
		if v.Prot&need == 0 || write && forkShared(v) {
			break
		}
		if v.File != nil {
			hi := min(va+n, v.End)
			if guarded(func() { copyDir(v.File.bytes(v, va+at, hi), b[at:hi-va], write) }) != nil {
				break
			}
			at = hi - va
			continue
		}
		// As far as the segment holding va+at goes, or a page if none does.
		hi := min(va+n, v.End, pageUp(va+at+1))
		if s, ok := lwkabi.Lookup(v.Segs, va+at); ok {
			hi = min(va+n, s.VA+s.Len)
			off := s.Off + va + at - s.VA
			copyDir(as.direct[off:off+hi-va-at], b[at:hi-va], write)
		} else if write {
			break
		} else {
			clear(b[at : hi-va])
		}
		at = hi - va
	}
	return int(at)
}

// copyDir copies between memory and b: into memory if write.
func copyDir(memory, b []byte, write bool) {
	if write {
		copy(memory, b)
	} else {
		copy(b, memory)
	}
}
