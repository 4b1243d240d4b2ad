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

// ValidateCPUs checks a CPU request for an LWK instance: it must not be
// empty, every CPU must be online (an offline or non-existent CPU cannot
// run the LWK's per-CPU thread), and at least one online CPU must remain
// for Linux, which serves every offloaded system call.
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
	if len(req) >= len(online) {
		return fmt.Errorf("CPUs %s leave no CPU for Linux (online: %s): keep at least one",
			FormatCPUList(cpus), FormatCPUList(online))
	}
	return nil
}
