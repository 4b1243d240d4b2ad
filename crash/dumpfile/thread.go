package dumpfile

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thread is an LWK thread's state at the dump, from the kernel's records:
// its saved user registers (those of the last trap, for a thread running
// at the dump).
type Thread struct {
	PID, TID, CPU int
	State         byte // ps's letter
	Regs          unix.PtraceRegs
}

const threadSize = 16 + int(unsafe.Sizeof(unix.PtraceRegs{}))

func (t Thread) encode() []byte {
	b := make([]byte, threadSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(t.PID))
	le.PutUint32(b[4:], uint32(t.TID))
	le.PutUint32(b[8:], uint32(t.CPU))
	b[12] = t.State
	copy(b[16:], unsafe.Slice((*byte)(unsafe.Pointer(&t.Regs)), unsafe.Sizeof(t.Regs)))
	return b
}

func decodeThread(b []byte) (Thread, error) {
	if len(b) != threadSize {
		return Thread{}, fmt.Errorf("thread note of %d bytes, want %d", len(b), threadSize)
	}
	le := binary.LittleEndian
	t := Thread{PID: int(int32(le.Uint32(b[0:]))), TID: int(int32(le.Uint32(b[4:]))), CPU: int(int32(le.Uint32(b[8:]))), State: b[12]}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&t.Regs)), unsafe.Sizeof(t.Regs)), b[16:])
	return t, nil
}
