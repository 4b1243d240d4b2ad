package lwk

import "github.com/gomck/gomck/kernel/syscalls/sysno"

// SyscallName names an x86-64 system call number from the LWK's own
// table; "" if unknown. A negative nr (task.NoSyscall) wraps past it.
func SyscallName(nr int64) string {
	return sysno.Name(uint64(nr))
}
