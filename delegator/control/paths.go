package control

import (
	"fmt"
	"os"
	"path/filepath"
)

// RunDir is where instances keep their sockets, pid files and state:
// $GOMCK_RUNDIR, or /run/gomck.
func RunDir() string {
	if d := os.Getenv(RunDirEnv); d != "" {
		return d
	}
	return "/run/gomck"
}

// SocketPath is instance n's control socket.
func SocketPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("mcos%d.sock", n)) }

// PidPath is instance n's daemon pid file.
func PidPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("mcos%d.pid", n)) }

// ConfigPath is instance n's boot configuration (CPUs, memory, owner).
func ConfigPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("mcos%d.json", n)) }

// RunDirEnv names the environment variable that moves RunDir.
const RunDirEnv = "GOMCK_RUNDIR"

// LogPath is instance n's daemon log (its stdout and stderr).
func LogPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("mcos%d.log", n)) }

// MonitorLogPath is the log of instance n's monitor, ihkmond.
func MonitorLogPath(n int) string { return filepath.Join(RunDir(), fmt.Sprintf("ihkmond%d.log", n)) }
