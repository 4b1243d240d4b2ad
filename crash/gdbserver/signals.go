package gdbserver

import "math/bits"

// gdbSignal is the remote protocol's number (gdb's own, not Linux's) of
// Linux signal sig, 0 for one it has none for.
func gdbSignal(sig int) int {
	// Linux's numbers 1 to 31, by gdb's (gdb/signals.def).
	linux := [...]int{0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15, 0, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12}
	switch {
	case sig > 0 && sig < len(linux):
		return linux[sig]
	case sig >= 33 && sig <= 63: // real-time: gdb's REALTIME_33 is 45
		return 45 + sig - 33
	}
	return 0
}

// stopSignal is the signal a stop reply gives for a thread with pending
// signals pending (bit sig-1): the lowest, which Linux delivers first;
// SIGTRAP (5) for none, as for a thread gdb attached to.
func stopSignal(pending uint64) int {
	if pending != 0 {
		if sig := gdbSignal(bits.TrailingZeros64(pending) + 1); sig != 0 {
			return sig
		}
	}
	return 5
}
