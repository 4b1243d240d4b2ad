package mm

import "golang.org/x/sys/unix"

// CopyOut writes b to app address va through the direct map, populating
// pages as needed. The LWK never pokes app memory through ptrace.
func (as *AddressSpace) CopyOut(va uint64, b []byte) error {
	return as.each(va, uint64(len(b)), func(part []byte, at uint64) { copy(part, b[at:]) })
}

// CopyIn reads len(b) bytes at app address va.
func (as *AddressSpace) CopyIn(va uint64, b []byte) error {
	return as.each(va, uint64(len(b)), func(part []byte, at uint64) { copy(b[at:], part) })
}

// each calls fn with the direct-map slices backing [va, va+n), in order.
func (as *AddressSpace) each(va, n uint64, fn func(part []byte, at uint64)) error {
	if n == 0 {
		return nil
	}
	if va+n < va {
		return unix.EFAULT
	}
	if err := as.Populate(va, va+n); err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	for at := uint64(0); at < n; {
		i := as.find(va + at)
		if i < 0 {
			return unix.EFAULT
		}
		v := as.VMAs[i]
		segs := clip(v.Segs, va+at, min(va+n, v.End))
		if len(segs) == 0 {
			return unix.EFAULT
		}
		for _, s := range segs {
			fn(as.direct[s.Off:s.Off+s.Len], s.VA-va)
			at = s.VA + s.Len - va
		}
	}
	return nil
}
