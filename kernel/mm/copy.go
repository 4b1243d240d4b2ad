package mm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/kernel/lwkabi"
)

// CopyOut writes b to app address va through the direct map, populating
// pages as needed; pages a fork shares are unshared first, so that the
// other processes do not see the write. The LWK never pokes app memory
// through ptrace.
func (as *AddressSpace) CopyOut(va uint64, b []byte) error {
	return as.each(va, uint64(len(b)), true, func(part []byte, at uint64) { copy(part, b[at:]) })
}

// CopyIn reads len(b) bytes at app address va.
func (as *AddressSpace) CopyIn(va uint64, b []byte) error {
	return as.each(va, uint64(len(b)), false, func(part []byte, at uint64) { copy(b[at:], part) })
}

// each calls fn with the direct-map slices backing [va, va+n), in order,
// owned by this process alone if write.
func (as *AddressSpace) each(va, n uint64, write bool, fn func(part []byte, at uint64)) error {
	if n == 0 {
		return nil
	}
	if va+n < va {
		return unix.EFAULT
	}
	if err := as.back(va, va+n, write); err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.walk(va, n, func(part []byte, at uint64) bool {
		fn(part, at)
		return true
	})
}

// walk calls fn with the direct-map slices backing [va, va+n), populated
// and locked, in order, until fn returns false. A hole is EFAULT, as is a
// fault in a shared file mapping's pages (a truncated file).
func (as *AddressSpace) walk(va, n uint64, fn func(part []byte, at uint64) bool) error {
	for at := uint64(0); at < n; {
		i := as.find(va + at)
		if i < 0 {
			return unix.EFAULT
		}
		v := as.VMAs[i]
		if v.File != nil {
			hi := min(va+n, v.End)
			more := false
			if err := guarded(func() { more = fn(v.File.bytes(v, va+at, hi), at) }); err != nil {
				return err
			}
			if !more {
				return nil
			}
			at = hi - va
			continue
		}
		segs := lwkabi.Clip(v.Segs, va+at, min(va+n, v.End))
		if len(segs) == 0 {
			return unix.EFAULT
		}
		for _, s := range segs {
			if !fn(as.direct[s.Off:s.Off+s.Len], s.VA-va) {
				return nil
			}
			at = s.VA + s.Len - va
		}
	}
	return nil
}

// Word returns the futex word at va (aligned), populating its page first
// if need be, and its value now. A futex call needs both: the key is
// shared by every process mapping the page (its partition offset, or its
// file and offset for a shared file mapping). One lookup under the lock:
// a futex call is on the path of every thread hand-off.
func (as *AddressSpace) Word(va uint64) (w FutexWord, val uint32, err error) {
	if va%4 != 0 {
		return w, 0, unix.EINVAL
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	i := as.find(va)
	if i < 0 {
		return w, 0, unix.EFAULT
	}
	v := as.VMAs[i]
	if v.File != nil {
		w = fileWord(v, va)
		val, ok := w.Load()
		if !ok {
			return w, 0, unix.EFAULT
		}
		return w, val, nil
	}
	off, ok := lwkabi.Translate(v.Segs, va)
	if !ok {
		// A change: inspect readers see Seq odd meanwhile.
		atomic.AddUint64(&as.Seq, 1)
		page := va &^ (PageSize - 1)
		err = as.populate(v, page, page+PageSize)
		atomic.AddUint64(&as.Seq, 1)
		if err != nil {
			return w, 0, err
		}
		if off, ok = lwkabi.Translate(v.Segs, va); !ok {
			return w, 0, unix.EFAULT
		}
	}
	w = FutexWord{Key: off, p: (*uint32)(unsafe.Pointer(&as.direct[off]))}
	val, _ = w.Load()
	return w, val, nil
}
