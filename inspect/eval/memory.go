package eval

import (
	"debug/elf"
	"fmt"
)

// Memory is where every byte of the target comes from: a live process read
// with process_vm_readv, or a dump. It has the shape of inspect.Memory and
// of Delve's proc.MemoryReader, so either satisfies it.
type Memory interface {
	ReadMemory(buf []byte, addr uint64) (n int, err error)
}

// withExecutable serves the executable's read-only segments (code,
// rodata: string literals, type data, function tables) from the file and
// everything else from the target. Dumps leave these segments out, as gcore
// does, because they equal the file; and they never change, so reading the
// file is right for a live target too, and spares it a system call.
type withExecutable struct {
	target   Memory
	readOnly []*elf.Prog
}

func newWithExecutable(target Memory, exe *elf.File) *withExecutable {
	m := &withExecutable{target: target}
	for _, seg := range exe.Progs {
		if seg.Type == elf.PT_LOAD && seg.Flags&elf.PF_W == 0 && seg.Filesz > 0 {
			m.readOnly = append(m.readOnly, seg)
		}
	}
	return m
}

func (m *withExecutable) ReadMemory(buf []byte, addr uint64) (int, error) {
	for _, seg := range m.readOnly {
		off := addr - seg.Vaddr
		if addr >= seg.Vaddr && off < seg.Filesz && uint64(len(buf)) <= seg.Filesz-off {
			n, err := seg.ReadAt(buf, int64(off))
			if err != nil {
				return n, fmt.Errorf("read %#x from the executable: %w", addr, err)
			}
			return n, nil
		}
	}
	return m.target.ReadMemory(buf, addr)
}
