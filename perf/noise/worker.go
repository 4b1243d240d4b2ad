package noise

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"
)

// readyLine is what a worker says once it is pinned and waits for the go.
const readyLine = "ready\n"

// WorkerSpec is what one worker does: Iterations steps of Work a quantum
// (Quantum on the Linux CPU), for Duration, on host CPU CPU.
type WorkerSpec struct {
	CPU        int
	Iterations int
	Quantum    time.Duration
	Duration   time.Duration
}

// Worker pins the calling thread to spec.CPU, says readyLine on out,
// waits for a byte on in (so all workers start together), runs the FWQ
// loop and then writes each quantum's nanoseconds to out as a
// little-endian uint64.
func Worker(spec WorkerSpec, in io.Reader, out io.Writer) error {
	if spec.Iterations <= 0 || spec.Quantum <= 0 || spec.Duration <= 0 {
		return fmt.Errorf("worker: %d iterations, quantum %v, for %v: all must be positive", spec.Iterations, spec.Quantum, spec.Duration)
	}
	runtime.LockOSThread()
	if err := pin(spec.CPU); err != nil {
		return err
	}
	// A collection during the loop would be the tool's own noise; the
	// loop allocates nothing once its buffer is made.
	debug.SetGCPercent(-1)
	// Room for quanta up to twice as fast as on the Linux CPU, touched
	// now so that no page fault of the buffer lands in a quantum.
	quanta := make([]time.Duration, 1024+2*spec.Duration/spec.Quantum)
	for i := range quanta {
		quanta[i] = 1
	}
	quanta = quanta[:0]
	if _, err := io.WriteString(out, readyLine); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if _, err := io.ReadFull(in, make([]byte, 1)); err != nil {
		return fmt.Errorf("worker: waiting for the start: %w", err)
	}
	start := time.Now()
	prev := start
	for prev.Sub(start) < spec.Duration {
		Work(spec.Iterations)
		now := time.Now()
		quanta = append(quanta, now.Sub(prev))
		prev = now
	}
	w := bufio.NewWriter(out)
	var b [8]byte
	for _, q := range quanta {
		binary.LittleEndian.PutUint64(b[:], uint64(q))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("worker: writing the samples: %w", err)
	}
	return nil
}

// pin restricts the calling thread to host CPU cpu (on the LWK too: its
// sched_setaffinity takes host CPU numbers, as McKernel's).
func pin(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	return nil
}

// readQuanta decodes a worker's samples.
func readQuanta(r io.Reader) ([]time.Duration, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%d bytes of samples: not a whole number of 8-byte quanta", len(b))
	}
	q := make([]time.Duration, len(b)/8)
	for i := range q {
		q[i] = time.Duration(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return q, nil
}
