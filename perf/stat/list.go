package stat

import (
	"fmt"
	"io"
	"strings"

	"github.com/gomck/gomck/perf"
)

// ListEntry is one event of mcperf list.
type ListEntry struct {
	Name  string // perf's, with its aliases ("a OR b")
	Kind  string // perf list's bracketed kind
	Avail bool
	Desc  string
}

// softwareDesc describes the software events, by config.
var softwareDesc = [perf.SWMax]string{
	perf.SWCPUClock:        "Time the thread ran on its LWK CPU",
	perf.SWTaskClock:       "Time the thread ran on its LWK CPU",
	perf.SWPageFaults:      "Page faults",
	perf.SWContextSwitches: "Times the thread was picked to run",
	perf.SWCPUMigrations:   "Moves to another LWK CPU",
	perf.SWPageFaultsMin:   "Page faults served without I/O",
	perf.SWPageFaultsMaj:   "Page faults that waited for I/O (none on the LWK)",
	perf.SWAlignmentFaults: "Alignment fixups (none on the LWK)",
	perf.SWEmulationFaults: "Emulated instructions (none on the LWK)",
	perf.SWDummy:           "Counts nothing",
	perf.SWBPFOutput:       "BPF output (none on the LWK)",
	perf.SWCgroupSwitches:  "Switches between cgroups (the LWK's switches)",
}

// List is every event mcperf knows: the hardware ones available where
// available(config) says, the software and LWK ones always (the LWK
// counts them).
func List(available func(config uint64) bool) []ListEntry {
	var out []ListEntry
	for _, h := range HardwareEvents {
		out = append(out, ListEntry{Name: strings.Join(h.Names, " OR "), Kind: "Hardware event",
			Avail: available(h.Config), Desc: h.Desc})
	}
	for cfg, sw := range perf.SoftwareEvents {
		out = append(out, ListEntry{Name: sw.Name, Kind: "Software event", Avail: true, Desc: softwareDesc[cfg]})
	}
	for _, e := range perf.LWKEvents {
		name := fmt.Sprintf("%s/%s/ OR sde:::%s::%s", perf.LWKPMU, e.Name, perf.LWKPMU, e.Name)
		desc := e.Desc
		switch {
		case e.PerSyscall:
			name = fmt.Sprintf("%s/%s,%s=N/", perf.LWKPMU, e.Name, perf.LWKSyscallField)
		case e.CPUOnly:
			desc += " (per CPU: mcperf stat -a)"
		}
		if e.Unit != "" {
			desc += ", " + e.Unit
		}
		out = append(out, ListEntry{Name: name, Kind: "Kernel PMU event", Avail: true, Desc: desc})
	}
	return out
}

// PrintList prints the events as perf list does, with papi_avail's
// availability column.
func PrintList(w io.Writer, events []ListEntry) error {
	var b strings.Builder
	b.WriteString("\nList of pre-defined events (to be used in -e):\n\n")
	fmt.Fprintf(&b, "  %-58s %-18s %-5s %s\n", "Name", "Kind", "Avail", "Description")
	for _, e := range events {
		avail := "No"
		if e.Avail {
			avail = "Yes"
		}
		fmt.Fprintf(&b, "  %-58s %-18s %-5s %s\n", e.Name, "["+e.Kind+"]", avail, e.Desc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
