package sched

import (
	"bytes"
	"math/bits"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Ticks and TicksNs time the system calls, twice per call on the hot
// path: the TSC read with RDTSC costs 10 ns here where the vDSO's clock
// costs 29, a difference of 0.4% of a local call. The TSC counts at a
// constant rate on every CPU only where the CPU says so (constant_tsc and
// nonstop_tsc); elsewhere, or before Calibrate, ticks are Now's
// nanoseconds.

// tscMult converts TSC ticks to ns, as a 32.32 fixed-point factor; 0
// while the ticks are nanoseconds.
var tscMult uint64

func rdtsc() uint64

// Ticks is a reading of the call clock.
func Ticks() uint64 {
	if tscMult == 0 {
		return uint64(Now())
	}
	return rdtsc()
}

// TicksNs converts a difference of two Ticks to nanoseconds.
func TicksNs(d uint64) uint64 {
	if tscMult == 0 {
		return d
	}
	hi, lo := bits.Mul64(d, tscMult)
	return hi<<32 | lo>>32
}

// calibrated makes Calibrate's first call the only one: Ticks taken
// before and after it are not comparable.
var calibrated sync.Once

// Calibrate measures the TSC's rate against Now over d, if the CPU's TSC
// is invariant, so that Ticks read it; later calls do nothing. Call it
// before the LWK CPUs run.
func Calibrate(d time.Duration) { calibrated.Do(func() { calibrate(d) }) }

func calibrate(d time.Duration) {
	if !invariantTSC() {
		return
	}
	t0, n0 := rdtsc(), Now()
	time.Sleep(d)
	t1, n1 := rdtsc(), Now()
	if t1 <= t0 || n1 <= n0 {
		return
	}
	hi, lo := bits.Mul64(uint64(n1-n0), 1<<32)
	if hi >= t1-t0 {
		return // implausible: more than 2^32 ns a tick
	}
	tscMult, _ = bits.Div64(hi, lo, t1-t0)
}

// invariantTSC says the kernel found the TSC constant-rate and running
// in every C-state: /proc/cpuinfo's flags.
func invariantTSC() bool {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for line := range bytes.Lines(info) {
		if name, flags, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.TrimSpace(name)) == "flags" {
			f := strings.Fields(string(flags))
			return slices.Contains(f, "constant_tsc") && slices.Contains(f, "nonstop_tsc")
		}
	}
	return false
}
