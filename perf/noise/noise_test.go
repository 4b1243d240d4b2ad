package noise

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		name   string
		quanta []time.Duration
		want   Summary
		err    string
	}{
		{"quiet", []time.Duration{ms, ms, ms}, Summary{Samples: 3, Min: ms, Median: ms, P99: ms, P999: ms, Max: ms}, ""},
		// sum 13 ms, 10 of them at the pace of the fastest: 3/13 noise.
		{"one slow", []time.Duration{ms, 4 * ms, ms, ms, ms, ms, ms, ms, ms, ms}, Summary{Samples: 10, Min: ms, Median: ms, P99: 4 * ms, P999: 4 * ms, Max: 4 * ms, Noise: 3.0 / 13}, ""},
		{"one", []time.Duration{2 * ms}, Summary{Samples: 1, Min: 2 * ms, Median: 2 * ms, P99: 2 * ms, P999: 2 * ms, Max: 2 * ms}, ""},
		{"none", nil, Summary{}, "no quanta"},
		{"backwards", []time.Duration{ms, -1}, Summary{}, "clock went backwards"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Summarize(tt.quanta)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Summarize: %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Summarize = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestReadQuanta(t *testing.T) {
	if _, err := readQuanta(bytes.NewReader(make([]byte, 12))); err == nil || !strings.Contains(err.Error(), "12 bytes") {
		t.Errorf("readQuanta of 12 bytes: %v, want an error", err)
	}
	q, err := readQuanta(bytes.NewReader([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}))
	if err != nil || len(q) != 2 || q[0] != 1 || q[1] != 256 {
		t.Errorf("readQuanta = %v, %v; want [1ns 256ns]", q, err)
	}
}

// TestWorker runs the loop natively on CPU 0 for a calibrated 100 µs
// quantum and reads back what it streams.
func TestWorker(t *testing.T) {
	quantum := 100 * time.Microsecond
	iters, err := calibrateOn(0, quantum)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Worker(WorkerSpec{CPU: 0, Iterations: iters, Quantum: quantum, Duration: 50 * time.Millisecond}, strings.NewReader("g"), &out); err != nil {
		t.Fatal(err)
	}
	said, _ := out.ReadString('\n')
	if said != readyLine {
		t.Fatalf("worker said %q first, want %q", said, readyLine)
	}
	q, err := readQuanta(&out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(q)
	if err != nil {
		t.Fatal(err)
	}
	// A loaded machine stretches quanta, but the fastest is near the
	// calibration.
	if s.Samples < 10 || s.Min < quantum/2 || s.Min > 2*quantum {
		t.Errorf("%+v: want tens of quanta, the fastest near %v", s, quantum)
	}
}

func TestBadInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  func() error
		want string
	}{
		{"calibrate 0", func() error { _, err := Calibrate(0); return err }, "not positive"},
		{"worker 0 steps", func() error {
			return Worker(WorkerSpec{Quantum: time.Millisecond, Duration: time.Second}, strings.NewReader("g"), new(bytes.Buffer))
		}, "must be positive"},
		{"worker no start", func() error {
			return Worker(WorkerSpec{Iterations: 1, Quantum: time.Millisecond, Duration: time.Second}, strings.NewReader(""), new(bytes.Buffer))
		}, "waiting for the start"},
		{"worker bad CPU", func() error {
			return Worker(WorkerSpec{CPU: 1000, Iterations: 1, Quantum: time.Millisecond, Duration: time.Second}, strings.NewReader("g"), new(bytes.Buffer))
		}, "pin to CPU 1000"},
		{"run no duration", func() error { _, err := Run(Options{Quantum: time.Millisecond}); return err }, "duration 0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v, want an error saying %q", err, tt.want)
			}
		})
	}
}
