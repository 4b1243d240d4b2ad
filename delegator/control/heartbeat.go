package control

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// HeartbeatInterval is how often a daemon writes its Heartbeat.
const HeartbeatInterval = 250 * time.Millisecond

// Heartbeat is what an instance's daemon says of itself every
// HeartbeatInterval, in a file of RunDir that its monitor (ihkmond) reads:
// a file, not a socket, so that the monitor learns of a stopped or wedged
// daemon by the beats stopping, without asking it anything (IHK's monitor
// page, shared between the LWK and Linux).
type Heartbeat struct {
	PID   int    `json:"pid"`
	Beats uint64 `json:"beats"`
	State string `json:"state"` // BOOTING, RUNNING, PANIC, SHUTDOWN
	// Stalled are the LWK CPUs that have been inside the kernel, neither
	// running app code nor idle nor waiting for Linux, without progress
	// for at least a beat: a kernel stuck in a loop or a deadlock, which
	// the beats alone would not show.
	Stalled []Stall `json:"stalled,omitempty"`
	// A PANIC's reason, and the dump the daemon took of itself.
	Reason string `json:"reason,omitempty"`
	Dump   string `json:"dump,omitempty"`
}

// Stall is an LWK CPU stuck in the kernel for Ns.
type Stall struct {
	CPU int   `json:"cpu"`
	Ns  int64 `json:"ns"`
}

// HeartbeatPath is instance n's heartbeat file.
func HeartbeatPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("mcos%d.beat", n)) }

// WriteHeartbeat replaces instance n's heartbeat file at once (a rename),
// so that a reader never sees half of one.
func WriteHeartbeat(n int, hb Heartbeat) error {
	return writeJSON(HeartbeatPath(n), hb)
}

// ReadHeartbeat reads instance n's heartbeat file.
func ReadHeartbeat(n int) (Heartbeat, error) {
	var hb Heartbeat
	return hb, readJSON(HeartbeatPath(n), &hb)
}

// Monitor is what instance n's monitor concluded, in a file of RunDir that
// ihkosctl status reads before it asks the daemon: a hung daemon would not
// answer, a panicked one is gone.
type Monitor struct {
	PID   int    `json:"monitor_pid"`
	State string `json:"state"` // RUNNING, HUNGUP, PANIC
	// Since is when State began (unix ns); Reason says why.
	Since  int64  `json:"since_ns"`
	Reason string `json:"reason,omitempty"`
	// Dump and Kmsg are the files written for a HUNGUP or PANIC.
	Dump string `json:"dump,omitempty"`
	Kmsg string `json:"kmsg,omitempty"`
}

// MonitorPath is instance n's monitor verdict file.
func MonitorPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("mcos%d.monitor", n)) }

// WriteMonitor replaces instance n's monitor verdict at once.
func WriteMonitor(n int, m Monitor) error { return writeJSON(MonitorPath(n), m) }

// ReadMonitor reads instance n's monitor verdict.
func ReadMonitor(n int) (Monitor, error) {
	var m Monitor
	return m, readJSON(MonitorPath(n), &m)
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// A file of its own per write: two writers (a beat, a panic) must
	// not write into one another's.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
