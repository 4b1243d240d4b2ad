package mm

import (
	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// Remote copies between b and [va, va+len(b)) of this address space for
// another process's call (process_vm_readv, process_vm_writev: Open MPI's
// single-copy path), into it if write. It returns the bytes copied before
// the first page it cannot reach: unmapped, without the protection the
// access needs, or, for a write, not populated yet or shared by a fork
// (this process's stub is on another CPU's tracer, so the caller can
// neither populate nor unshare it). A page not populated yet reads as the
// zeros it would be faulted in as.
func (as *AddressSpace) Remote(va uint64, b []byte, write bool) int {
	need := unix.PROT_READ
	if write {
		need = unix.PROT_WRITE
	}
	as.mu.Lock()
	defer as.mu.Unlock()
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
		hi := min(va+n, v.End, pageUp(va+at+1))
		if v.File != nil {
			hi = min(va+n, v.End)
		}
		part := b[at : hi-va]
		if v.File != nil {
			file := v.File.bytes(v, va+at, hi)
			if guarded(func() { copyDir(file, part, write) }) != nil {
				break
			}
		} else if off, ok := lwkabi.Translate(v.Segs, va+at); ok {
			copyDir(as.direct[off:off+hi-va-at], part, write)
		} else if write {
			break
		} else {
			clear(part)
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
