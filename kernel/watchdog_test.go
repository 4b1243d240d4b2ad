package kernel

import (
	"reflect"
	"testing"
	"time"

	"github.com/gomck/gomck/delegator/control"
)

// TestStallWatch: a CPU is stalled when its word stays even (in the
// kernel) and unmoved, with no progress reported, for a beat or more.
func TestStallWatch(t *testing.T) {
	beat := int64(control.HeartbeatInterval)
	type sample struct {
		progress uint64
		words    []uint64
		want     []control.Stall
	}
	tests := []struct {
		name    string
		samples []sample
	}{
		{"running app code", []sample{{0, []uint64{1}, nil}, {0, []uint64{1}, nil}, {0, []uint64{1}, nil}}},
		{"busy in the kernel", []sample{{0, []uint64{2}, nil}, {0, []uint64{4}, nil}, {0, []uint64{6}, nil}}},
		{"stuck", []sample{{0, []uint64{2}, nil}, {0, []uint64{2}, []control.Stall{{CPU: 0, Ns: beat}}},
			{0, []uint64{2}, []control.Stall{{CPU: 0, Ns: 2 * beat}}}}},
		{"long work that reports progress", []sample{{0, []uint64{2}, nil}, {1, []uint64{2}, nil}, {2, []uint64{2}, nil}}},
		{"one CPU of two stuck", []sample{{0, []uint64{2, 8}, nil}, {0, []uint64{3, 8}, []control.Stall{{CPU: 1, Ns: beat}}}}},
		{"unstuck", []sample{{0, []uint64{2}, nil}, {0, []uint64{2}, []control.Stall{{CPU: 0, Ns: beat}}}, {0, []uint64{3}, nil}, {0, []uint64{4}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newStallWatch(len(tt.samples[0].words))
			now := int64(time.Hour)
			for i, s := range tt.samples {
				if got := w.check(now, s.progress, s.words); !reflect.DeepEqual(got, s.want) {
					t.Errorf("beat %d: stalled %v, want %v", i, got, s.want)
				}
				now += beat
			}
		})
	}
}
