package lwk

import "github.com/gomck/gomck/inspect/value"

// maxAuxv bounds the auxiliary vector read: Linux's has some 30 pairs; a
// longer one is corrupt.
const maxAuxv = 2 * 64

// auxv reads a process's auxiliary vector ([]uint64 of type, value pairs).
func auxv(v value.Value) []uint64 {
	if n := v.Len(); n == 0 || n > maxAuxv {
		return nil
	}
	elems := v.Elems()
	out := make([]uint64, len(elems))
	for i, e := range elems {
		out[i] = e.Uint()
	}
	return out
}
