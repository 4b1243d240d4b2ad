package ptrace

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
	stubParkOff   = 0x94 // pause() in a loop: a stub thread between tracers
	// The FPU switch trampoline (fpu.go): entered at stubSaveOff it saves
	// the stub's state and loads the next thread's, at stubLoadOff it only
	// loads. A stop can fall between its instructions: past stubXsaveOff
	// the state is saved, past stubXrstorOff loaded.
	stubSaveOff   = 0xa0
	stubXsaveOff  = stubSaveOff + 12
	stubLoadOff   = stubSaveOff + 20
	stubXrstorOff = stubLoadOff + 12
	stubSwitchEnd = stubLoadOff + 40
	stubBatchOff  = stubSwitchEnd // injectAll's loop, batchCode
	stubImageSize = stubBatchOff + 43
)

// batchCode executes r12 system calls described at rbx, 64 bytes each:
// number and six arguments, then the result, which it stores. rbx and r12
// survive syscall, which clobbers only rax, rcx and r11.
var batchCode = []byte{
	0x48, 0x8b, 0x03, // mov rax, [rbx]
	0x48, 0x8b, 0x7b, 0x08, // mov rdi, [rbx+8]
	0x48, 0x8b, 0x73, 0x10, // mov rsi, [rbx+16]
	0x48, 0x8b, 0x53, 0x18, // mov rdx, [rbx+24]
	0x4c, 0x8b, 0x53, 0x20, // mov r10, [rbx+32]
	0x4c, 0x8b, 0x43, 0x28, // mov r8, [rbx+40]
	0x4c, 0x8b, 0x4b, 0x30, // mov r9, [rbx+48]
	0x0f, 0x05, // syscall
	0x48, 0x89, 0x43, 0x38, // mov [rbx+56], rax
	0x48, 0x83, 0xc3, 0x40, // add rbx, 64
	0x49, 0xff, 0xcc, // dec r12
	0x75, 0xd6, // jnz back to the first mov (-42)
	0xcc, // int3
}

// stubImage builds the stub executable: one read+execute PT_LOAD page at
// ikc.StubBase. Generating it here means the daemon needs no separate
// binary and no C toolchain at run time.
func stubImage() []byte {
	b := make([]byte, stubSaveOff, stubImageSize)
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
	// mov eax, SYS_pause; syscall; jmp back to the mov
	copy(b[stubParkOff:], []byte{0xb8, unix.SYS_PAUSE, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7})
	return append(appendSwitchCode(b), batchCode...)
}

// appendSwitchCode appends the FPU switch trampoline to the image b, which
// ends at stubSaveOff. It uses RIP-relative operands in the switch area:
//
//	save: mov eax, [mask]; mov edx, [mask+4]; xsave64 [out]
//	load: mov eax, [mask]; mov edx, [mask+4]; xrstor64 [in]
//	      mov rax, [rax word]; mov rdx, [rdx word]; jmp [rip word]
//
// XSAVE and XRSTOR take their feature mask in edx:eax, which the last
// instructions give back to the thread; flags and the stack are untouched.
func appendSwitchCode(b []byte) []byte {
	ripRel := func(op []byte, target uint64) {
		end := ikc.StubBase + uint64(len(b)+len(op)+4)
		b = append(b, op...)
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(int64(target-end))))
	}
	mask := uint64(fpuAreaBase + fpuMaskOff)
	for _, step := range []struct {
		op   []byte
		slot uint64
	}{
		{[]byte{0x48, 0x0f, 0xae, 0x25}, fpuAreaBase + fpuOutOff}, // xsave64
		{[]byte{0x48, 0x0f, 0xae, 0x2d}, fpuAreaBase + fpuInOff},  // xrstor64
	} {
		ripRel([]byte{0x8b, 0x05}, mask)   // mov eax, [mask]
		ripRel([]byte{0x8b, 0x15}, mask+4) // mov edx, [mask+4]
		ripRel(step.op, step.slot)
	}
	ripRel([]byte{0x48, 0x8b, 0x05}, fpuAreaBase+fpuRaxOff) // mov rax, [rax word]
	ripRel([]byte{0x48, 0x8b, 0x15}, fpuAreaBase+fpuRdxOff) // mov rdx, [rdx word]
	ripRel([]byte{0xff, 0x25}, fpuAreaBase+fpuRipOff)       // jmp [rip word]
	return b
}

// stubExecutable writes the stub image into a memfd and returns its fd,
// which stays open for the daemon's lifetime; stubs are exec'd from
// /proc/self/fd/N.
func stubExecutable() (int, error) {
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
