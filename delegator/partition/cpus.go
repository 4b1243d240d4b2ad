package partition

import (
	"fmt"
	"os"
	"path/filepath"
)

// OnlineCPUs reads the CPUs Linux currently has online
// (/sys/devices/system/cpu/online).
func OnlineCPUs() ([]int, error) {
	path := filepath.Join(sysCPUDir, "online")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("online CPUs: %w", err)
	}
	cpus, err := ParseCPUList(string(b))
	if err != nil {
		return nil, fmt.Errorf("online CPUs from %s: %w", path, err)
	}
	return cpus, nil
}

// SharedCPUsEnv names the environment variable that, set to 1, lets an
// instance take every CPU and share them with Linux: a knob for machines
// too small to give the LWK more than one CPU of its own (tests of
// multi-CPU processes on a 2-CPU VM). Nothing is isolated then.
const SharedCPUsEnv = "GOMCK_SHARED_CPUS"

// SharedCPUs reports whether SharedCPUsEnv is set.
func SharedCPUs() bool { return os.Getenv(SharedCPUsEnv) == "1" }

// ValidateCPUs checks a CPU request for an LWK instance: it must not be
// empty, every CPU must be online (an offline or non-existent CPU cannot
// run the LWK's per-CPU thread), and at least one online CPU must remain
// for Linux, which serves every offloaded system call (unless SharedCPUs).
func ValidateCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("no CPUs given")
	}
	online, err := OnlineCPUs()
	if err != nil {
		return err
	}
	on := map[int]bool{}
	for _, c := range online {
		on[c] = true
	}
	req := map[int]bool{}
	for _, c := range cpus {
		if !on[c] {
			return fmt.Errorf("CPU %d is not online (online: %s)", c, FormatCPUList(online))
		}
		req[c] = true
	}
	if len(req) >= len(online) && !SharedCPUs() {
		return fmt.Errorf("CPUs %s leave no CPU for Linux (online: %s): keep at least one",
			FormatCPUList(cpus), FormatCPUList(online))
	}
	return nil
}
