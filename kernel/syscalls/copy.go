package syscalls

import (
	"encoding/binary"
	"unsafe"
)

func putUint64(c *Call, addr, v uint64) int64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return copyOut(c, addr, b[:])
}

func putUint32(c *Call, addr uint64, v uint32) int64 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return copyOut(c, addr, b[:])
}

// copyOut writes b at app address addr; 0 or -EFAULT.
func copyOut(c *Call, addr uint64, b []byte) int64 {
	if addr == 0 {
		return errno(nil)
	}
	if err := c.T.Proc.MM.CopyOut(addr, b); err != nil {
		return errno(err)
	}
	return 0
}

func copyIn(c *Call, addr uint64, b []byte) int64 {
	if addr == 0 {
		return errno(nil)
	}
	if err := c.T.Proc.MM.CopyIn(addr, b); err != nil {
		return errno(err)
	}
	return 0
}

// bytesOf views a plain struct as bytes (little-endian host = app ABI).
func bytesOf[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}
