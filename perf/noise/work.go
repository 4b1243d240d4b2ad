package noise

import (
	"fmt"
	"time"
)

// sink keeps the work's result alive so the compiler cannot drop the loop.
var sink uint64

// Work does n steps of a xorshift generator: a dependent chain of ALU
// operations that touches no memory, so its time depends on the CPU alone
// and not on caches shared with other CPUs.
func Work(n int) {
	x := sink | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	sink = x
}

// Calibrate returns the steps of Work that take quantum on the calling
// thread's CPU: it doubles a trial count until a run lasts at least an
// eighth of the quantum, scales it, and scales again by a run of the
// whole quantum (a short trial on a VM can be off by half). Each run is
// the fastest of a few, the least disturbed.
func Calibrate(quantum time.Duration) (int, error) {
	if quantum <= 0 {
		return 0, fmt.Errorf("calibrate: quantum %v is not positive", quantum)
	}
	for n := 1 << 10; n < 1<<40; n *= 2 {
		if t := fastest(n); t >= quantum/8 && t > 0 {
			n = scale(n, quantum, t)
			return scale(n, quantum, fastest(n)), nil
		}
	}
	return 0, fmt.Errorf("calibrate: the work never took %v", quantum)
}

// fastest is the shortest of a few runs of Work(n).
func fastest(n int) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		Work(n)
		best = min(best, time.Since(start))
	}
	return best
}

// scale is the steps that take quantum if n take t.
func scale(n int, quantum, t time.Duration) int {
	return max(1, int(float64(n)*float64(quantum)/float64(max(t, 1))))
}
