package stat

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gomck/gomck/kernel/stats"
)

// Sample is what was counted over a run or an interval.
type Sample struct {
	stats.Counters
	// CPUWide says the sample is an instance's (mcperf stat -a): its
	// IdleNs and BusyNs are the LWK CPUs' sleep and the rest of the
	// interval.
	CPUWide        bool
	IdleNs, BusyNs uint64
	// Syscalls are the per-syscall counts, by number; nil when the
	// instance was read without them.
	Syscalls map[int]stats.SyscallCount
	cpus     int // an instance's LWK CPUs (InstanceTotals)
}

// ReadProfiles sums the processes of a mcexec --profile=json file (one
// JSON object a line, a forked child's after its parent's), as perf
// stat's inherit sums a command's children.
func ReadProfiles(r io.Reader) (Sample, error) {
	s := Sample{Syscalls: map[int]stats.SyscallCount{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	n := 0
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var p stats.ProfileReport
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return Sample{}, fmt.Errorf("profile record %d: %w", n+1, err)
		}
		n++
		s.Counters = s.Counters.Zip(p.Process.Counters, stats.Sum)
		s.Syscalls = sumSyscalls(s.Syscalls, p.Process.Syscalls)
	}
	if err := sc.Err(); err != nil {
		return Sample{}, fmt.Errorf("reading profile: %w", err)
	}
	if n == 0 {
		return Sample{}, fmt.Errorf("the profile has no process record")
	}
	return s, nil
}
