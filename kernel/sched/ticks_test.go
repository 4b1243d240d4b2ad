package sched

import (
	"testing"
	"time"
)

// TestTicks times a sleep with the call clock, calibrated or not.
func TestTicks(t *testing.T) {
	for _, calibrate := range []bool{false, true} {
		if calibrate {
			Calibrate(10 * time.Millisecond)
			if tscMult == 0 {
				t.Log("no invariant TSC: ticks stay nanoseconds")
			}
		}
		const d = 50 * time.Millisecond
		t0, n0 := Ticks(), Now()
		time.Sleep(d)
		ns, wall := TicksNs(Ticks()-t0), Now()-n0
		if diff := float64(ns) - float64(wall); diff < -0.01*float64(wall) || diff > 0.01*float64(wall) {
			t.Errorf("calibrated %v: a sleep of %v takes %d ns by the ticks, %d by the clock", calibrate, d, ns, wall)
		}
	}
}

func BenchmarkTicks(b *testing.B) {
	Calibrate(10 * time.Millisecond)
	var sum uint64
	for b.Loop() {
		sum += Ticks()
	}
	_ = sum
}
