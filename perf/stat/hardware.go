package stat

import (
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomck/gomck/perf"
)

// Hardware is one of Linux's generic hardware events (PERF_TYPE_HARDWARE).
type Hardware struct {
	Config uint64
	Names  []string // perf's name, then its aliases
	Desc   string
}

// HardwareEvents are Linux's generic hardware events, by config. The LWK
// counts them, where the host has a PMU, by opening them on Linux for the
// app's stub; mcperf stat has no such count and shows <not supported>.
var HardwareEvents = []Hardware{
	{0, []string{"cpu-cycles", "cycles"}, "CPU cycles"},
	{1, []string{"instructions"}, "Instructions retired"},
	{2, []string{"cache-references"}, "Last-level cache accesses"},
	{3, []string{"cache-misses"}, "Last-level cache misses"},
	{4, []string{"branch-instructions", "branches"}, "Branch instructions retired"},
	{5, []string{"branch-misses"}, "Mispredicted branches"},
	{6, []string{"bus-cycles"}, "Bus cycles"},
	{7, []string{"stalled-cycles-frontend", "idle-cycles-frontend"}, "Cycles stalled in the front end"},
	{8, []string{"stalled-cycles-backend", "idle-cycles-backend"}, "Cycles stalled in the back end"},
	{9, []string{"ref-cycles"}, "Reference cycles, unscaled by frequency"},
}

// HardwareAvailable says whether Linux counts hardware event config for
// this process, as papi_avail probes: by opening it.
func HardwareAvailable(config uint64) bool {
	attr := unix.PerfEventAttr{Type: perf.TypeHardware, Config: config, Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Bits: unix.PerfBitDisabled | unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

func hardwareName(name string) bool {
	for _, h := range HardwareEvents {
		if slices.Contains(h.Names, name) {
			return true
		}
	}
	return false
}
