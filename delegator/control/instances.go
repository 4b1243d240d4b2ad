package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Booted lists the indices of instances with a pid file in RunDir.
func Booted() []int {
	var out []int
	m, _ := filepath.Glob(filepath.Join(RunDir(), "mcos*.pid"))
	for _, p := range m {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "mcos"), ".pid"))
		if err == nil {
			out = append(out, n)
		}
	}
	return out
}

// DaemonPID reads instance n's pid file; 0 when absent or stale.
func DaemonPID(n int) int {
	b, err := os.ReadFile(PidPath(n))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || syscall.Kill(pid, 0) != nil && !errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
		return 0
	}
	return pid
}

// ReadConfig decodes instance n's saved boot configuration into v.
func ReadConfig(n int, v any) error {
	b, err := os.ReadFile(ConfigPath(n))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Stop shuts instance n down: politely over the socket, then by signal. It
// waits for the daemon to exit and removes its files.
func Stop(n int, timeout time.Duration) error {
	pid := DaemonPID(n)
	if pid == 0 {
		if _, err := os.Stat(PidPath(n)); err == nil {
			// A daemon that panicked or was killed left its files:
			// stopping it is removing them.
			cleanup(n)
			return nil
		}
	}
	if _, err := Query(n, OpShutdown); err != nil && pid == 0 {
		cleanup(n)
		return err
	}
	deadline := time.Now().Add(timeout)
	for pid != 0 && syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			time.Sleep(100 * time.Millisecond)
			cleanup(n)
			return fmt.Errorf("instance %d did not shut down within %v; killed daemon %d", n, timeout, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cleanup(n)
	return nil
}

// cleanup removes instance n's files once its daemon is gone, and stops
// its monitor if that has not ended by itself.
func cleanup(n int) {
	if m, err := ReadMonitor(n); err == nil && m.PID > 0 {
		for i := 0; i < 50 && syscall.Kill(m.PID, 0) == nil; i++ {
			if i == 40 {
				syscall.Kill(m.PID, syscall.SIGTERM)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, p := range []string{SocketPath(n), PidPath(n), ConfigPath(n), HeartbeatPath(n), MonitorPath(n)} {
		os.Remove(p)
	}
}

// DaemonChildren lists the child processes of a daemon: its stubs.
func DaemonChildren(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}
