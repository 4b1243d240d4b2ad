package cpu

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/delegator/ikc"
)

// Offsets of code in the stub image.
const (
	stubEntryOff  = 0x80 // int3; jmp back to int3
	stubGadgetOff = 0x90 // syscall; int3
	stubImageSize = 0xa0
)

// stubImage builds the stub executable: one read+execute PT_LOAD page at
// ikc.StubBase. Generating it here means the daemon needs no separate
// binary and no C toolchain at run time.
func stubImage() []byte {
	b := make([]byte, stubImageSize)
	le := binary.LittleEndian
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1}) // ELF64, little endian, version 1
	le.PutUint16(b[16:], 2)                       // ET_EXEC
	le.PutUint16(b[18:], 62)                      // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], ikc.StubBase+stubEntryOff)
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], 1)  // e_phnum
	ph := b[64:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 5) // PF_R|PF_X
	le.PutUint64(ph[8:], 0) // p_offset
	le.PutUint64(ph[16:], ikc.StubBase)
	le.PutUint64(ph[24:], ikc.StubBase)
	le.PutUint64(ph[32:], stubImageSize)
	le.PutUint64(ph[40:], 0x1000)
	le.PutUint64(ph[48:], 0x1000)
	copy(b[stubEntryOff:], []byte{0xcc, 0xeb, 0xfd})  // int3; jmp -3
	copy(b[stubGadgetOff:], []byte{0x0f, 0x05, 0xcc}) // syscall; int3
	return b
}

// StubExecutable writes the stub image into a memfd and returns its fd,
// which stays open for the daemon's lifetime; stubs are exec'd from
// /proc/self/fd/N.
func StubExecutable() (int, error) {
	fd, err := unix.MemfdCreate("gomck-stub", 0)
	if err != nil {
		return -1, fmt.Errorf("cpu: memfd for stub: %w", err)
	}
	img := stubImage()
	if _, err := unix.Write(fd, img); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("cpu: write stub: %w", err)
	}
	return fd, nil
}
