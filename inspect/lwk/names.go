package lwk

import (
	"github.com/elastic/go-seccomp-bpf/arch"
)

// SyscallName names an x86-64 system call number; "" if unknown.
// The table is elastic/go-seccomp-bpf's, generated from Linux's.
func SyscallName(nr int64) string {
	return arch.X86_64.SyscallNumbers[int(nr)]
}
