package perf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TypeMax is PERF_TYPE_MAX: Linux numbers its dynamic PMUs from it.
const TypeMax = 6

// HostPMUs is where Linux lists its PMUs.
const HostPMUs = "/sys/bus/event_source/devices"

// LWKType picks the lwk PMU's type: past every PMU the host lists in dir
// (Linux's own dynamic ones included), so that no event of the LWK's
// can be taken for one of Linux's, and never below TypeMax. A host
// without the directory has no dynamic PMU: TypeMax.
func LWKType(dir string) (uint32, error) {
	types, err := filepath.Glob(filepath.Join(dir, "*", "type"))
	if err != nil {
		return 0, err
	}
	var used []uint32
	for _, f := range types {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, fmt.Errorf("pmu type: %w", err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("pmu type %s: %w", f, err)
		}
		used = append(used, uint32(n))
	}
	return nextType(used), nil
}

// nextType is the type after the largest of used, TypeMax at least.
func nextType(used []uint32) uint32 {
	next := uint32(TypeMax)
	for _, t := range used {
		next = max(next, t+1)
	}
	return next
}

// LWKSysfs are the files of the lwk PMU's directory in
// /sys/bus/event_source/devices, by path relative to it, as Linux writes
// a dynamic PMU's: type, events/NAME ("event=0x3", a per-syscall event
// "event=0xb,syscall=?" for perf to ask the term of:
// lwk/syscall_local_calls,syscall=39/), events/NAME.unit for times, and
// format/FIELD.
func LWKSysfs(typ uint32) map[string]string {
	files := map[string]string{"type": fmt.Sprintf("%d\n", typ)}
	for _, e := range LWKEvents {
		terms := fmt.Sprintf("event=%#x", e.ID)
		if e.PerSyscall {
			terms += ",syscall=?"
		}
		files["events/"+e.Name] = terms + "\n"
		if e.Unit != "" {
			files["events/"+e.Name+".unit"] = e.Unit + "\n"
		}
	}
	for _, f := range LWKFormat {
		files["format/"+f.Name] = f.Bits + "\n"
	}
	return files
}
