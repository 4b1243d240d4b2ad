package ikc

// The app window. Go 1.26 randomises its heap below 2^46 and a PIE mcexec
// has its text near 0x55.. and its libraries and stacks near 0x7f..; mcexec
// reserves [WindowStart, WindowEnd) in a C constructor, before the Go runtime
// maps anything, so the runtime settles elsewhere. Static non-PIE binaries
// link at 0x400000, hence the low start. The window ends where Go's
// unrandomised heap hints begin (0xc000000000), and is small enough (768
// GiB) that a randomised hint rarely falls in it: each one that does costs
// mcexec a failed mmap at start.
const (
	WindowStart = 0x10000
	WindowEnd   = 0xc0_0000_0000

	// StubBase is where the daemon loads its stub executable, outside the
	// window (the stub's kernel-chosen stack and vDSO sit near 0x7ff..).
	StubBase = 0x6000_0000_0000
)

// InWindow reports whether [addr, addr+length) lies inside the app window.
func InWindow(addr, length uint64) bool {
	return addr >= WindowStart && addr < WindowEnd && length <= WindowEnd-addr
}
