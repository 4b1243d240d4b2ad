package partition

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// coredumpFilter says which mappings a core dump of this process holds
// (core(5)); gdb's gcore honours it too.
const coredumpFilter = "/proc/self/coredump_filter"

// dumpAnonShared is the filter's bit for shared anonymous memory, which
// a memfd's mappings count as: their file has no name on disk.
const dumpAnonShared = 1 << 1

// KeepInCoreDumps makes core dumps of the calling process hold the memory
// of the partitions it maps (their direct maps), which the filter it
// inherited may leave out: a dump of the daemon is then a dump of its
// LWK, app memory included, which inspect/ reads through the page table.
func KeepInCoreDumps() error {
	b, err := os.ReadFile(coredumpFilter)
	if err != nil {
		return fmt.Errorf("keep partition memory in core dumps: %w", err)
	}
	f, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 32)
	if err != nil {
		return fmt.Errorf("keep partition memory in core dumps: %s: %q: %w", coredumpFilter, b, err)
	}
	if f&dumpAnonShared != 0 {
		return nil
	}
	if err := os.WriteFile(coredumpFilter, fmt.Appendf(nil, "%#x", f|dumpAnonShared), 0); err != nil {
		return fmt.Errorf("keep partition memory in core dumps: %w", err)
	}
	return nil
}
