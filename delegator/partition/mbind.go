package partition

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mbind binds the pages of b (page aligned) to NUMA node node with
// MPOL_BIND. x/sys has no wrapper, so this is the raw system call.
func mbind(b []byte, node int) error {
	if len(b) == 0 {
		return nil
	}
	if node < 0 || node >= maxCPU {
		return fmt.Errorf("bad NUMA node %d", node)
	}
	mask := make([]uint64, node/64+1)
	mask[node/64] = 1 << (uint(node) % 64)
	// The kernel reads maxnode-1 bits (a historical off-by-one that libnuma
	// also compensates for), so pass one more than the mask holds.
	maxnode := uintptr(len(mask)*64 + 1)
	_, _, errno := unix.Syscall6(unix.SYS_MBIND,
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		uintptr(unix.MPOL_BIND), uintptr(unsafe.Pointer(&mask[0])), maxnode, 0)
	runtime.KeepAlive(mask)
	if errno != 0 {
		return fmt.Errorf("mbind: %w", errno)
	}
	return nil
}
